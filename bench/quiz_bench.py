"""Quiz benchmark: answer saves of 200 learners at once through the HTTP server, grading,
the automatic close of 1,000 expired attempts and item statistics over 10,000 attempts, on
SQLite and PostgreSQL.

    .venv/bin/python bench/quiz_bench.py                                   # SQLite
    .venv/bin/python bench/quiz_bench.py \\
        --postgres postgresql://lms@127.0.0.1:55432/lms_q                  # and PostgreSQL
    .venv/bin/python bench/quiz_bench.py --learners 50 --history 2000     # a quick check

Each database runs in a fresh subprocess with a fresh instance (SQLite in a temporary folder;
on PostgreSQL a scratch database ``<name>_bench`` beside the one given, dropped at the end):

1. *Setup*: a bank of 120 single-choice questions in 3 categories, a unit's assessment made
   with the preset (30 random questions / 45 minutes / 80%), and **10,000 finished attempts**
   of as many people (rows written in bulk, answers drawn so that able people answer better:
   the item statistics have something to find).
2. *Answer saves*: the HTTP server ``scripts/start`` runs (``lms serve`` when present, else
   gunicorn on ``wsgi:app`` with the same gthread settings: workers = cores + 1, 4 threads)
   on a port of 5900-5999. 200 learners log in, start their attempt and open its page; then
   all of them answer their 30 questions **at the same time**, one save (``POST
   /quizzes/attempts/<id>/answers``, JSON with the CSRF header, as ``static/js/quiz.js``
   sends) every ``--think`` seconds on average (±50%), each with its own session and kept-alive
   connection, all driven by one asyncio loop (a light generator: it shares the cores with
   the server). p50/p95/max of the saves as the client sees them, the errors (anything but
   200), and p50/p95 of the time inside the server (gunicorn's access log, %(D)s). A *burst*
   first: the 200 learners' first saves released together (its p95 is shown, no target).
3. *Grading*: the 200 attempts submitted through the service (``attempts.submit``: claim,
   score 30 questions, grade in the quiz, statement), timed one by one: p50/p95.
4. *Auto-close*: 1,000 open attempts with answers saved and their deadline passed, closed and
   graded by ``attempts.close_expired`` (the worker's ``quizzes.close_expired`` job).
5. *Item statistics*: ``statistics.item_statistics`` over the 10,000 (+1,200) attempts,
   median of 3 runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import instance  # bench/instance.py: scripts run from bench/

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench password long enough"  # noqa: S105 (a throwaway instance)
PORTS = {"sqlite": 5950, "postgres": 5951}
CATEGORIES = ("Kỹ năng số / Máy tính", "An toàn thông tin / Mật khẩu",
              "An toàn thông tin / Lừa đảo")
QUESTIONS_PER_CATEGORY = 40
CLOSED = 1000

TARGETS = {
    "save_p95_ms": "< 50 ms",
    "save_errors": "0",
    "grade_p95_ms": "< 20 ms",
    "auto_close_s": "< 10 s",
    "statistics_s": "< 2 s",
}
LABELS = {
    "history": "finished attempts in the database",
    "save_count": "answer saves ({learners} learners × 30)",
    "save_rate": "saves per second (all learners)",
    "save_p50_ms": "answer save p50",
    "save_p95_ms": "answer save p95",
    "save_max_ms": "answer save max",
    "save_errors": "answer save errors",
    "server_p50_ms": "answer save p50 inside the server (access log)",
    "server_p95_ms": "answer save p95 inside the server (access log)",
    "burst_p95_ms": "burst: {learners} first saves at once, p95",
    "grade_p50_ms": "grading a submitted attempt p50",
    "grade_p95_ms": "grading a submitted attempt p95",
    "auto_close_s": f"auto-close of {CLOSED:,} expired attempts",
    "statistics_s": "item statistics (all attempts)",
}


# --- setup ---------------------------------------------------------------------------------

def _people(prefix: str, count: int, unit_id: int, password_hash: str) -> list[int]:
    from sqlalchemy import insert, select

    from lms.accounts.models import Role, User, user_roles
    from lms.db import chunked, utcnow
    from lms.extensions import db

    learner = db.session.scalar(select(Role.id).where(Role.name == "learner"))
    now = utcnow()
    for chunk in chunked(range(count), 2000):
        db.session.execute(insert(User), [
            {"username": f"{prefix}{i}", "full_name": f"Học viên {prefix}{i}",
             "password_hash": password_hash, "active": True, "unit_id": unit_id,
             "created_at": now, "locale": "vi"} for i in chunk])
    ids = list(db.session.scalars(select(User.id).where(User.username.like(f"{prefix}%"))
                                  .order_by(User.id)))
    for chunk in chunked(ids, 2000):
        db.session.execute(insert(user_roles), [{"user_id": i, "role_id": learner}
                                                for i in chunk])
    db.session.commit()
    return ids


def _bank_csv() -> bytes:
    import csv
    import io

    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["category", "type", "text", "option_a", "option_b", "option_c",
                     "option_d", "correct", "points", "explanation", "record", "difficulty"])
    number = 0
    for category in CATEGORIES:
        for _ in range(QUESTIONS_PER_CATEGORY):
            number += 1
            writer.writerow([category, "single", f"Câu hỏi {number} về {category}?",
                             *(f"Phương án {c} của câu {number}" for c in "ABCD"),
                             "abcd"[number % 4], "1", f"Giải thích câu {number}.", "",
                             ("easy", "medium", "hard")[number % 3]])
    return out.getvalue().encode()


def _bulk_attempts(quiz, user_ids: list[int], *, graded: bool, rng: random.Random) -> list[int]:
    """Attempts of ``quiz`` for ``user_ids`` written in bulk, each with 30 of the bank's
    questions and an answer per question (right with a chance that grows with the person's
    ability); graded ones with their scores, open ones with a passed deadline."""
    from sqlalchemy import insert, select

    from lms.db import chunked, utcnow
    from lms.extensions import db
    from lms.quizzes.attempts import _choices
    from lms.quizzes.models import AttemptQuestion, Question, QuestionVersion, QuizAttempt

    versions = list(db.session.scalars(select(QuestionVersion).join(
        Question, Question.id == QuestionVersion.question_id)))
    key_of = {v.id: next(o["key"] for o in v.options if o["correct"]) for v in versions}
    hardness = {v.id: rng.uniform(-1.0, 1.0) for v in versions}
    now = utcnow()
    ids: list[int] = []
    for chunk in chunked(user_ids, 500):
        rows = [{"quiz_id": quiz.id, "user_id": u, "number": 1,
                 "state": "graded" if graded else "open",
                 "started_at": now - timedelta(minutes=50),
                 "deadline_at": now - timedelta(minutes=5),
                 "submitted_at": now - timedelta(minutes=10) if graded else None,
                 "closed_by": "learner" if graded else None, "max_score": 30.0}
                for u in chunk]
        attempt_ids = db.session.scalars(insert(QuizAttempt).returning(QuizAttempt.id),
                                         rows).all()
        questions, attempt_rows = [], []
        for attempt_id in attempt_ids:
            ability = rng.gauss(0.6, 1.0)
            chosen = rng.sample(versions, 30)
            score = 0
            for slot, version in enumerate(chosen, start=1):
                right = rng.random() < 1 / (1 + 2.718 ** -(2 * (ability - hardness[version.id])))
                key = key_of[version.id] if right else rng.choice(
                    [o["key"] for o in version.options if o["key"] != key_of[version.id]])
                score += right
                questions.append({"attempt_id": attempt_id, "slot": slot,
                                  "question_id": version.question_id, "version_id": version.id,
                                  "points": 1.0, "choices": _choices(version, True),
                                  "answer": [key], "answer_seq": slot,
                                  "score": float(right) if graded else None,
                                  "fraction": float(right) if graded else None})
            attempt_rows.append({"id": attempt_id, "score": float(score),
                                 "percent": round(100 * score / 30, 6),
                                 "passed": score >= 24, "graded_at": now})
        for part in chunked(questions, 5000):
            db.session.execute(insert(AttemptQuestion), list(part))
        if graded:
            from sqlalchemy import update

            db.session.execute(update(QuizAttempt), attempt_rows)
        db.session.commit()
        ids += attempt_ids
    return ids


def setup(learners: int, history: int) -> dict:
    from sqlalchemy import select

    from lms.accounts.models import User
    from lms.accounts.services import create_unit_path
    from lms.db import utcnow
    from lms.extensions import db
    from lms.passwords import hash_password
    from lms.quizzes import banks, grading, quizzes, transfer
    from lms.uow import unit_of_work

    rng = random.Random(17)
    with unit_of_work():
        unit, _created = create_unit_path(None, "Học viện Hậu cần/Tiểu đoàn 1")
    password_hash = hash_password(PASSWORD)
    trainer_id = _people("giangday", 1, unit.id, password_hash)[0]
    with unit_of_work():
        from lms.accounts.models import Role

        trainer = db.session.get(User, trainer_id)
        trainer.roles = list(db.session.scalars(select(Role).where(Role.name == "trainer")))
    trainer = db.session.get(User, trainer_id)
    bank = banks.create_bank(trainer, banks.BankInput(name="Ngân hàng đo"))
    transfer.import_bank(trainer, bank, _bank_csv(), "bank.csv", create_categories=True)
    quiz = quizzes.create_from_preset(trainer, quizzes.DIGITAL_SKILLS, bank, unit_id=unit.id)
    learner_ids = _people("hocvien", learners, unit.id, password_hash)
    pool = _people("lichsu", history + CLOSED, unit.id, password_hash)
    _bulk_attempts(quiz, pool[:history], graded=True, rng=rng)
    with unit_of_work():
        grading.refresh_grades([(quiz.id, u) for u in pool[:history]], utcnow())
    return {"quiz": quiz.id, "learners": learner_ids, "closing": pool[history:],
            "unit": unit.id}


# --- the HTTP server and the simulated learners ---------------------------------------------

def _server(port: int, env: dict) -> subprocess.Popen:
    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"port {port} is taken: stop what listens there first")
    try:
        import lms.serve  # noqa: F401  (`lms serve`: the server scripts/start runs)

        command = [str(ROOT / ".venv/bin/lms"), "serve", "--host", "127.0.0.1", "--port",
                   str(port), "--no-worker"]
    except ImportError:
        cores = max(1, len(os.sched_getaffinity(0)))
        command = [str(ROOT / ".venv/bin/gunicorn"), "--worker-class", "gthread",
                   "--workers", str(cores + 1), "--threads", "4", "--bind",
                   f"127.0.0.1:{port}", "--keep-alive", "5", "--error-logfile", "-",
                   "wsgi:app"]
    Path(env["LMS_INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    log = open(Path(env["LMS_INSTANCE_PATH"]) / "server.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    import requests

    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=10).status_code == 200:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.terminate()
    process.wait(timeout=60)
    raise RuntimeError("the server did not start: see server.log")


CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Learner:
    def __init__(self, base: str, username: str) -> None:
        import requests

        self.base, self.username = base, username
        self.session = requests.Session()
        self.attempt_id = 0
        self.tokens: list[list[str]] = []
        self.headers = b""
        self.connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    def log_in_and_start(self, quiz_id: int) -> None:
        page = self.session.get(f"{self.base}/login").text
        token = CSRF.search(page).group(1)
        response = self.session.post(f"{self.base}/login", data={
            "csrf_token": token, "username": self.username, "password": PASSWORD},
            allow_redirects=False)
        assert response.status_code == 302, response.text[:500]
        quiz_page = self.session.get(f"{self.base}/quizzes/{quiz_id}").text
        token = CSRF.search(quiz_page).group(1)
        started = self.session.post(f"{self.base}/quizzes/{quiz_id}/start",
                                    data={"csrf_token": token}, allow_redirects=False)
        self.attempt_id = int(re.search(r"/attempts/(\d+)/", started.headers["Location"])
                              .group(1))
        first = self.session.get(f"{self.base}{started.headers['Location']}").text
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        host = self.base.removeprefix("http://")
        self.headers = (f"Host: {host}\r\nCookie: {cookies}\r\n"
                        f"X-CSRFToken: {CSRF.search(first).group(1)}\r\n"
                        "Accept: application/json\r\nContent-Type: application/json\r\n"
                        ).encode()

    async def save(self, slot: int, seq: int) -> tuple[float, int]:
        """One save as quiz.js sends it, over this learner's kept-alive connection (the
        time from sending to the last byte of the answer)."""
        body = json.dumps({"slot": slot, "answer": [random.choice(self.tokens[slot - 1])],
                           "seq": seq}).encode()
        request = (f"POST /quizzes/attempts/{self.attempt_id}/answers HTTP/1.1\r\n".encode()
                   + self.headers + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        started = time.perf_counter()
        status = 0
        for _try in range(2):  # a connection the server closed (idle, worker recycled): again
            try:
                if self.connection is None:
                    host, port = self.base.removeprefix("http://").split(":")
                    self.connection = await asyncio.open_connection(host, int(port))
                reader, writer = self.connection
                writer.write(request)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                await reader.readexactly(length)
                status = int(head.split(b" ", 2)[1])
                break
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    TimeoutError):
                await self.close()
        return (time.perf_counter() - started) * 1000, status

    async def close(self) -> None:
        if self.connection is not None:
            self.connection[1].close()
            self.connection = None


def _tokens(attempt_ids: list[int]) -> dict[int, list[list[str]]]:
    from sqlalchemy import select

    from lms.extensions import db
    from lms.quizzes.models import AttemptQuestion

    found: dict[int, list[list[str]]] = {a: [] for a in attempt_ids}
    for attempt_id, choices in db.session.execute(select(
            AttemptQuestion.attempt_id, AttemptQuestion.choices)
            .where(AttemptQuestion.attempt_id.in_(attempt_ids))
            .order_by(AttemptQuestion.attempt_id, AttemptQuestion.slot)):
        found[attempt_id].append([t for t, _k in choices])
    return found


def answer_saves(base: str, quiz_id: int, learners: int, think: float) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    crowd = [Learner(base, f"hocvien{i}") for i in range(learners)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda learner: learner.log_in_and_start(quiz_id), crowd))
    tokens = _tokens([learner.attempt_id for learner in crowd])
    for learner in crowd:
        learner.tokens = tokens[learner.attempt_id]
    burst: list[float] = []
    samples: list[float] = []
    errors: list[int] = []

    # One event loop drives every learner: the load generator shares the cores with the
    # server, and 200 threads handing the GIL to each other (every 5 ms) added their waits
    # to the measured times.
    async def run(learner: Learner, go: asyncio.Event) -> None:
        await go.wait()
        took, status = await learner.save(1, 1)
        burst.append(took)
        if status != 200:
            errors.append(status)
        for slot in range(2, 31):
            await asyncio.sleep(random.uniform(0.5, 1.5) * think)
            took, status = await learner.save(slot, slot)
            samples.append(took)
            if status != 200:
                errors.append(status)
        await learner.close()

    async def everyone() -> float:
        go = asyncio.Event()
        tasks = [asyncio.create_task(run(learner, go)) for learner in crowd]
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        return time.perf_counter() - started

    elapsed = asyncio.run(everyone())
    p50, p95, worst = instance.percentiles(samples + burst)
    return {"save_count": len(samples) + len(burst), "save_p50_ms": p50, "save_p95_ms": p95,
            "save_max_ms": worst, "save_errors": len(errors),
            "save_rate": (len(samples) + len(burst)) / elapsed,
            "burst_p95_ms": instance.percentiles(burst)[1],
            "attempts": [learner.attempt_id for learner in crowd]}


# The access log line of a save ends with gunicorn's %(D)s, the time in the server (µs).
SAVE_LINE = re.compile(r'"POST /quizzes/attempts/\d+/answers HTTP/1\.1" \d+ .* (\d+)$')


def _server_save_times(log: Path) -> list[float]:
    """Milliseconds each save spent in the server, from its access log (``lms serve``)."""
    times = []
    for line in log.read_text(errors="replace").splitlines():
        found = SAVE_LINE.search(line)
        if found:
            times.append(int(found.group(1)) / 1000)
    return times


# --- the measures --------------------------------------------------------------------------

def child(database: str, learners: int, history: int, think: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="lms-quiz-bench-"))
    kind = "sqlite" if database == "sqlite" else "postgres"
    env = {**os.environ, **instance.scratch_settings(work, database)}
    url = env["LMS_DATABASE_URL"]
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from lms import create_app
    from lms.accounts.models import User
    from lms.extensions import db
    from lms.quizzes import attempts
    from lms.quizzes import statistics as item_statistics
    from lms.quizzes.models import Quiz
    from lms.schema import upgrade

    app = create_app({"JOBS_IMMEDIATE": True})
    server = None
    try:
        with app.app_context():
            upgrade()
            made = setup(learners, history)
            db.session.remove()
        results: dict = {"history": history}
        server = _server(PORTS[kind], env)
        with app.app_context():
            saves = answer_saves(f"http://127.0.0.1:{PORTS[kind]}", made["quiz"], learners,
                                 think)
            open_attempts = saves.pop("attempts")
            results.update(saves)
            server_times = _server_save_times(Path(env["LMS_INSTANCE_PATH"]) / "server.log")
            server_p50, server_p95, _ = instance.percentiles(server_times)
            results.update(server_p50_ms=server_p50, server_p95_ms=server_p95)
            timings = []
            for attempt_id in open_attempts:
                from lms.quizzes.models import QuizAttempt

                owner = db.session.get(User, db.session.get(QuizAttempt, attempt_id).user_id)
                started = time.perf_counter()
                attempts.submit(owner, attempt_id)
                timings.append((time.perf_counter() - started) * 1000)
            results["grade_p50_ms"], results["grade_p95_ms"], _ = instance.percentiles(timings)

            quiz = db.session.get(Quiz, made["quiz"])
            _bulk_attempts(quiz, made["closing"], graded=False, rng=random.Random(3))
            started = time.perf_counter()
            closed = attempts.close_expired()
            results["auto_close_s"] = time.perf_counter() - started
            assert closed == CLOSED, closed
            runs = []
            for _ in range(3):
                started = time.perf_counter()
                items = item_statistics.item_statistics(quiz)
                runs.append(time.perf_counter() - started)
            assert len(items) == len(CATEGORIES) * QUESTIONS_PER_CATEGORY
            results["statistics_s"] = statistics.median(runs)
            db.session.remove()
            db.engine.dispose()
        return results
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        if kind == "postgres":
            instance.drop_postgres(url)
        shutil.rmtree(work, ignore_errors=True)


def _format(key: str, value) -> str:
    if value is None:
        return "—"
    if key in ("history", "save_count", "save_errors"):
        return f"{value:,}"
    if key == "save_rate":
        return f"{value:.0f}"
    if key.endswith("_ms"):
        return f"{value:.1f} ms"
    return f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--history", type=int, default=10_000,
                        help="finished attempts in the database")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean seconds between two saves of one learner")
    instance.add_database_options(parser)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.learners, args.history, args.think)))
        return 0
    results = instance.run_in_children(
        __file__, ["--learners", str(args.learners), "--history", str(args.history),
                   "--think", str(args.think)], sqlite=not args.no_sqlite, postgres=args.postgres,
        what=f"{args.learners} learners, {args.history:,} attempts", cwd=ROOT)
    print(f"\nQuiz benchmark: {args.learners} learners answering at once (one save every "
          f"{args.think:g} s each on average), {args.history:,} finished attempts\n")
    rows = {key: label.format(learners=args.learners) for key, label in LABELS.items()}
    instance.print_table(results, rows, TARGETS, _format, widths=(46, 8))
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
