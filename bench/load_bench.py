"""Load test: 50 simulated users for 2 minutes against the production server (`lms serve`:
gunicorn gthread workers) on PostgreSQL on loopback, driven by locust in headless mode.

    .venv/bin/pip install -e '.[bench]'                      # locust
    .venv/bin/python bench/load_bench.py --database-url postgresql://lms@127.0.0.1:55432/lms_x
    .venv/bin/python bench/load_bench.py --database-url … --users 20 --duration 30 --records 500

The database is emptied (`DROP SCHEMA public CASCADE`): give it a scratch one. A fresh instance
gets `lms db upgrade`, `lms demo` and --records VNTC articles (../shared/corpus) imported with
their `.txt` files through the service behind `lms import` — 80% public, 10% for one unit, 10%
for curators — plus accounts for the simulated learners and depositors and a 30-question quiz
from the demo bank for the learners' class. `lms serve --no-worker` then serves it on a port
of --ports, and locust's users (keep-alive sessions, 1–3 s between actions) run for
--duration seconds, counted after they have all arrived (--spawn-rate users/s) and a
--warmup (logins, every server worker's first search and templates are not counted):

* *readers* (anonymous): searches with and without diacritics, record pages (public ones, and
  restricted ones that must answer 404), a PDF's preview page and its download;
* *harvesters*: OAI-PMH ListRecords, following resumption tokens to the third page;
* *depositors* (instructors, logged in): a new draft through the describe form, then a small
  PDF through the files step;
* *learners* (logged in): /learn, the demo course and its first lesson, and answers to the
  quiz (the JSON save the quiz page sends, with its CSRF header).

Prints requests/s, p50/p95/p99 and errors per endpoint, and the load average of the machine
before and after (it is shared: other work inflates the figures). The targets of issue 21:
0 errors, search p95 < 300 ms, record page p95 < 150 ms.
"""

from __future__ import annotations

# locust patches the standard library for gevent: it must be imported before anything else.
from locust import HttpUser, between, events, task  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import count
from pathlib import Path

import gevent

from serve_bench import (
    SECRET,
    _reset_postgres,
    add_server_arguments,
    free_port,
    serve_command,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load bench password long enough"  # noqa: S105 - a throwaway instance
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
TOKEN = re.compile(r"<resumptionToken[^>]*>([^<]+)</resumptionToken>")
CHOICE = re.compile(r'name="choice" value="([^"]+)"')
SEQ = re.compile(r'name="seq" value="(\d+)"')
ACCENTED = ("xăng dầu", "bóng đá", "chứng khoán", "hậu cần", "sức khỏe", "pháp luật",
            "giáo dục", "an toàn thông tin", "vi tính", "thế giới")
UNACCENTED = ("xang dau", "bong da", "chung khoan", "hau can", "suc khoe", "phap luat",
              "giao duc", "an toan thong tin", "vi tinh", "the gioi")
#: p95 targets (ms) and the endpoints they apply to.
TARGETS = {"search": (300.0, ("search (accented)", "search (unaccented)")),
           "record page": (150.0, ("record page",))}

#: What the setup made: filled in before the users start (one process, one dict).
WORLD: dict = {}


# --- the instance ----------------------------------------------------------------------------

SETUP = """
import io, json, sys
sys.path.insert(0, sys.argv[4])
from pathlib import Path
from sqlalchemy import select, insert
from lms import create_app
from lms.accounts.models import Role, User, user_roles
from lms.accounts.services import find_unit
from lms.catalog.access import published_clause
from lms.catalog.models import AccessLevel, Record
from lms.db import utcnow
from lms.extensions import db
from lms.files.models import RecordFile
from lms.passwords import hash_password
from lms.quizzes import quizzes
from lms.quizzes.demo import BANK_NAME
from lms.quizzes.models import QuestionBank
from lms.auth.services import find_user
from lms.training import sync
from lms.training.demo import COURSE_TITLE, LEARNER_UNIT
from lms.training.models import Course, Lesson
from lms.uow import unit_of_work
import instance

records, people, work = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
app = create_app({"JOBS_IMMEDIATE": True})
instance.prepare(app, reset=False)  # on the demo instance made just before
package = instance.write_package(work / "package", records, mixed_access=True)
report = instance.import_package(app, package, progress=instance.progress_printer(500))
print(json.dumps(report), file=sys.stderr)
with app.app_context():
    unit = find_unit(LEARNER_UNIT)
    password = hash_password(sys.argv[5])
    made = {}
    for role, prefix in (("learner", "taiven"), ("instructor", "soanthao")):
        now = utcnow()
        db.session.execute(insert(User), [
            {"username": f"{prefix}{i}", "full_name": f"Người dùng {prefix}{i}",
             "password_hash": password, "active": True, "unit_id": unit.id,
             "created_at": now, "locale": "vi"} for i in range(people)])
        ids = list(db.session.scalars(select(User.id).where(User.username.like(f"{prefix}%"))))
        role_id = db.session.scalar(select(Role.id).where(Role.name == role))
        db.session.execute(insert(user_roles), [{"user_id": i, "role_id": role_id} for i in ids])
        made[role] = [f"{prefix}{i}" for i in range(people)]
        db.session.commit()
        if role == "learner":
            with unit_of_work():
                sync.people_changed(ids)
    trainer = find_user("huanluyen")
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.name == BANK_NAME))
    quiz = quizzes.create_from_preset(trainer, quizzes.DIGITAL_SKILLS, bank, unit_id=unit.id,
                                      title="Kiểm tra tải")
    course = db.session.scalar(select(Course).where(Course.title == COURSE_TITLE))
    lesson = db.session.scalar(select(Lesson.id).where(Lesson.course_id == course.id)
                               .order_by(Lesson.position))
    public, restricted = [], []
    for record_id, level in db.session.execute(
            select(Record.id, Record.access_level).where(published_clause())):
        (public if level == AccessLevel.PUBLIC else restricted).append(record_id)
    pdfs = [(r, f) for r, f in db.session.execute(
        select(RecordFile.record_id, RecordFile.id)
        .where(RecordFile.media_type == "application/pdf", RecordFile.removed_at.is_(None),
               RecordFile.access_level.is_(None), RecordFile.record_id.in_(public)))]
    db.session.commit()
    print(json.dumps({"public": public, "restricted": restricted, "pdfs": pdfs,
                      "quiz": quiz.id, "course": course.id, "lesson": lesson,
                      "learners": made["learner"], "instructors": made["instructor"],
                      "collection": "khoa-hau-can"}))
"""


def build_instance(work: Path, database_url: str, records: int, people: int,
                   search_backend: str) -> tuple[dict[str, str], dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update({
        "LMS_INSTANCE_PATH": str(work / "instance"), "LMS_DATA_DIR": str(work / "data"),
        "LMS_DATABASE_URL": database_url, "LMS_SECRET_KEY": SECRET,
        "LMS_SEARCH_BACKEND": search_backend, "LMS_ACCESS_LOG": json.dumps(""),
    })
    _reset_postgres(database_url)
    lms = str(ROOT / ".venv" / "bin" / "lms")
    for command in ([lms, "db", "upgrade"], [lms, "demo"]):
        subprocess.run(command, env=env, check=True, capture_output=True)
    began = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", SETUP, str(records), str(people), str(work),
                          str(ROOT / "bench"), PASSWORD],
                         env=env, check=False, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"setting up the instance failed:\n{out.stderr[-4000:]}")
    print(f"instance ready in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return env, json.loads(out.stdout.strip().splitlines()[-1])


# --- the simulated users ---------------------------------------------------------------------

_accounts = count()


def log_in(user: HttpUser, username: str) -> None:
    page = user.client.get("/login", name="login")
    user.client.post("/login", name="login", allow_redirects=False, data={
        "csrf_token": CSRF.search(page.text).group(1), "username": username,
        "password": PASSWORD})


class Reader(HttpUser):
    """An anonymous cadet: searches, opens records, previews and downloads."""

    weight = 30
    wait_time = between(1, 3)

    @task(3)
    def search_accented(self) -> None:
        self.client.get("/search", params={"q": random.choice(ACCENTED)},
                        name="search (accented)")

    @task(3)
    def search_unaccented(self) -> None:
        self.client.get("/search", params={"q": random.choice(UNACCENTED)},
                        name="search (unaccented)")

    @task(4)
    def record_page(self) -> None:
        self.client.get(f"/records/{random.choice(WORLD['public'])}", name="record page")

    @task(1)
    def restricted_record_page(self) -> None:
        """Not visible to anonymous readers: 404 is the right answer, anything else fails."""
        with self.client.get(f"/records/{random.choice(WORLD['restricted'])}",
                             name="record page (restricted: 404)",
                             catch_response=True) as response:
            if response.status_code == 404:
                response.success()
            else:
                response.failure(f"status {response.status_code}, expected 404")

    @task(2)
    def preview(self) -> None:
        record_id, file_id = random.choice(WORLD["pdfs"])
        self.client.get(f"/records/{record_id}/files/{file_id}/preview", name="preview")

    @task(2)
    def download(self) -> None:
        record_id, file_id = random.choice(WORLD["pdfs"])
        self.client.get(f"/records/{record_id}/files/{file_id}", name="download")


class Harvester(HttpUser):
    """Another repository harvesting Dublin Core, three pages at a time."""

    weight = 3
    wait_time = between(1, 3)

    @task
    def list_records(self) -> None:
        response = self.client.get("/oai", params={"verb": "ListRecords",
                                                   "metadataPrefix": "oai_dc"},
                                   name="OAI ListRecords")
        for _page in range(2):
            token = TOKEN.search(response.text)
            if token is None:
                return
            response = self.client.get("/oai", params={"verb": "ListRecords",
                                                       "resumptionToken": token.group(1)},
                                       name="OAI ListRecords (resumption)")


class Depositor(HttpUser):
    """An instructor depositing: a draft, then a PDF on its files step."""

    weight = 5
    wait_time = between(2, 5)

    def on_start(self) -> None:
        log_in(self, WORLD["instructors"][next(_accounts) % len(WORLD["instructors"])])

    @task
    def deposit(self) -> None:
        form = self.client.get("/records/new", name="deposit: describe form")
        created = self.client.post("/records/new", name="deposit: create draft",
                                   allow_redirects=False, data={
                                       "csrf_token": CSRF.search(form.text).group(1),
                                       "collection": WORLD["collection"], "action": "next",
                                       "dc.title.0.value": "Tài liệu thử tải",
                                       "dc.title.0.lang": "vi"})
        if created.status_code != 302:
            return
        files_page = created.headers["Location"]
        page = self.client.get(files_page, name="deposit: files step")
        self.client.post(files_page, name="deposit: upload PDF", data={
            "csrf_token": CSRF.search(page.text).group(1)},
            files={"files": ("bai-giang.pdf", WORLD["pdf_bytes"], "application/pdf")})


class Learner(HttpUser):
    """A cadet of the demo class: the training pages and the quiz."""

    weight = 12
    wait_time = between(1, 3)

    def on_start(self) -> None:
        log_in(self, WORLD["learners"][next(_accounts) % len(WORLD["learners"])])
        quiz = self.client.get(f"/quizzes/{WORLD['quiz']}", name="quiz page")
        started = self.client.post(f"/quizzes/{WORLD['quiz']}/start", name="quiz start",
                                   allow_redirects=False,
                                   data={"csrf_token": CSRF.search(quiz.text).group(1)})
        self.attempt = int(re.search(r"/attempts/(\d+)/", started.headers["Location"]).group(1))
        self.seq = 0
        self.token = ""

    @task(2)
    def learn(self) -> None:
        self.client.get("/learn", name="/learn")

    @task(2)
    def course(self) -> None:
        self.client.get(f"/courses/{WORLD['course']}", name="course page")
        self.client.get(f"/courses/{WORLD['course']}/lessons/{WORLD['lesson']}",
                        name="lesson page")

    @task(5)
    def answer(self) -> None:
        slot = random.randint(1, 30)
        page = self.client.get(f"/quizzes/attempts/{self.attempt}/questions/{slot}",
                               name="quiz question")
        choices = CHOICE.findall(page.text)
        if not choices:  # a question of another kind (matching, short answer): skipped
            return
        self.seq = max(self.seq, int(SEQ.search(page.text).group(1))) + 1
        self.client.post(f"/quizzes/attempts/{self.attempt}/answers", name="quiz answer",
                         json={"slot": slot, "answer": [random.choice(choices)],
                               "seq": self.seq},
                         headers={"X-CSRFToken": CSRF.search(page.text).group(1),
                                  "Accept": "application/json"})


# --- the run ---------------------------------------------------------------------------------

def run_load(host: str, users: int, spawn_rate: float, warmup: float,
             duration: float) -> Environment:
    env = Environment(user_classes=[Reader, Harvester, Depositor, Learner], host=host,
                      events=events)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=spawn_rate)
    # Everyone has arrived and logged in, every server worker has opened its search reader
    # and compiled its templates: only the steady state is counted.
    gevent.sleep(users / spawn_rate + warmup)
    env.stats.reset_all()
    gevent.sleep(duration)
    runner.quit()
    return env


def report(env: Environment, duration: float) -> list[dict]:
    rows = []
    for entry in sorted(env.stats.entries.values(), key=lambda e: e.name):
        if not entry.num_requests:
            continue
        rows.append({
            "endpoint": entry.name, "method": entry.method, "requests": entry.num_requests,
            "rps": entry.num_requests / duration,
            "p50": entry.get_response_time_percentile(0.50),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
            "errors": entry.num_failures})
    return rows


def print_table(rows: list[dict], env: Environment, duration: float, loads: tuple) -> None:
    total = env.stats.total
    print(f"\n{os.cpu_count()} cores; load average before {loads[0]}, after {loads[1]}; "
          f"{duration:.0f} s steady state\n")
    print("| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['method']} {row['endpoint']} | {row['requests']} | {row['rps']:.1f} | "
              f"{row['p50']:.0f} | {row['p95']:.0f} | {row['p99']:.0f} | {row['errors']} |")
    print(f"| **all** | {total.num_requests} | {total.num_requests / duration:.1f} | "
          f"{total.get_response_time_percentile(0.5):.0f} | "
          f"{total.get_response_time_percentile(0.95):.0f} | "
          f"{total.get_response_time_percentile(0.99):.0f} | {total.num_failures} |")
    for name, (limit, endpoints) in TARGETS.items():
        worst = max((r["p95"] for r in rows if r["endpoint"] in endpoints), default=0)
        print(f"target: {name} p95 < {limit:.0f} ms: {worst:.0f} ms "
              f"({'met' if worst < limit else 'missed'})")
    print(f"target: 0 errors: {total.num_failures} "
          f"({'met' if total.num_failures == 0 else 'missed'})")
    for error in env.stats.errors.values():
        print(f"  {error.occurrences} × {error.method} {error.name}: {error.error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True,
                        help="PostgreSQL (emptied!), e.g. postgresql://lms@127.0.0.1/scratch")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds")
    parser.add_argument("--spawn-rate", type=float, default=10.0, help="users per second")
    parser.add_argument("--warmup", type=float, default=20.0,
                        help="seconds of load, not counted, after every user has arrived")
    parser.add_argument("--records", type=int, default=3000, help="VNTC articles imported")
    parser.add_argument("--people", type=int, default=60,
                        help="learner and instructor accounts made (each)")
    parser.add_argument("--search-backend", default="postgres",
                        choices=("postgres", "whoosh", "tantivy"))
    add_server_arguments(parser)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lms-load-bench-"))
    try:
        env, world = build_instance(work, args.database_url, args.records, args.people,
                                    args.search_backend)
        from lms.extract.samples import FUEL_SUPPLY, write_demo_pdf

        world["pdf_bytes"] = write_demo_pdf(work / "upload.pdf", FUEL_SUPPLY.title,
                                            FUEL_SUPPLY.paragraphs).read_bytes()
        WORLD.update(world)
        port = free_port(args.ports)
        log = (work / "server.log").open("wb")
        with subprocess.Popen(serve_command(port, args), env=env, stdout=log,
                              stderr=log) as server:
            try:
                wait_for(f"http://127.0.0.1:{port}/health", server)
                before = os.getloadavg()[0]
                load = run_load(f"http://127.0.0.1:{port}", args.users, args.spawn_rate,
                                args.warmup, args.duration)
                after = os.getloadavg()[0]
            finally:
                server.terminate()
                server.wait(timeout=60)
                log.close()
        rows = report(load, args.duration)
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            print(f"{len(world['public']) + len(world['restricted'])} published records "
                  f"({len(world['restricted'])} not public), {args.users} users, "
                  f"search on {args.search_backend}")
            print_table(rows, load, args.duration, (f"{before:.1f}", f"{after:.1f}"))
        server_errors = [line for line in (work / "server.log").read_text(
            errors="replace").splitlines() if "Traceback" in line or "ERROR" in line]
        if server_errors:
            print(f"server log: {len(server_errors)} error lines", file=sys.stderr)
            print((work / "server.log").read_text(errors="replace")[-4000:], file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
