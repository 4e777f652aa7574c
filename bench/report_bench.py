"""Reports, reminders and certificates benchmark (issue 18): the unit report page, its XLSX
export, the reminder job and issuing 1,000 certificates, over 10,000 learners × 20 courses, on
SQLite and PostgreSQL.

    .venv/bin/python bench/report_bench.py                                 # SQLite
    .venv/bin/python bench/report_bench.py \\
        --postgres postgresql://lms@127.0.0.1:55432/lms_rb                 # and PostgreSQL
    .venv/bin/python bench/report_bench.py --learners 1000 --courses 5     # a quick check

Each database runs in a fresh subprocess with a fresh instance (SQLite in a temporary folder;
on PostgreSQL a scratch database ``<name>_bench`` beside the one given, dropped at the end).

*The data*, written in bulk with the shape the services write (``lms.training``: audiences,
assignments, ``assignment_learners``, enrolments with their unit, status, due date and
counters, the learning statements; ``lms.quizzes``: quiz grades; ``lms.certificates``:
certificates with their frozen PDF): an academy of 4 battalions × 5 companies × 5 platoons
(125 units; a few people sit directly in a company), N learners with a rank, a target group
and an e-mail address, a commander per battalion, C published courses of 4 pages and a quiz,
each assigned to everyone through an audience with its own due date (some past, some in the
next days, some later) and assigned on its own day over the last two months. Per enrolment:
~45% completed, ~25% in progress, ~30% not started; "registered" and "completed" statements;
a quiz grade for the completed (passed) and half the in-progress (failed); a certificate
template on half the courses, with a certificate for every completion of all but the first,
whose completions wait for the measured issue; targets for the academy and a battalion.

*The measures*:

1. *unit report page*: GET /reports/ (the page, its table, chart and filters: one request)
   through the WSGI app (Flask test client, logged in), 15 reports × 2 after a warm-up pass:
   the academy, a battalion, a company, a platoon; every course or one; an audience, a target
   group, a period; as the admin and as a battalion's commander. (p95 < 300 ms)
2. *XLSX export*: GET /reports/export.xlsx of the academy, every course (all N × C lines), in
   a fresh process as the worker would: the request queues the ``reports.export`` job, which
   runs inline (``JOBS_IMMEDIATE``), writes the workbook and stores it. Time from the request
   to the stored file; **peak RSS of that process** (``VmHWM``) and its RSS before the
   request. (< 10 s, < 300 MB)
3. *reminder job*: ``run_reminders`` (the ``notify.reminders`` job), with an SMTP server
   (aiosmtpd on loopback, a sink) configured: first over everything never told (the catch-up
   run: every assigned, due-soon, overdue and completed event within the look-back, the
   commanders' weekly digests, a daily digest per person, the first 1,000 e-mails sent), then
   again (nothing new to tell; the next 1,000 e-mails). (< 30 s)
4. *1,000 certificates*: ``issue_pending(limit=1000)`` (the ``certificates.issue`` job's
   work): 1,000 completions of the course whose template was just activated, each a PDF with
   its QR code rendered, stored by its SHA-256, recorded and notified. (< 60 s)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import instance  # bench/instance.py: scripts run from bench/
from instance import drop_postgres, log_in, percentiles, scratch_postgres

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench password long enough"  # noqa: S105 (a throwaway instance)
ACADEMY = "Học viện Hậu cần"
BATTALIONS, COMPANIES, PLATOONS = 4, 5, 5
LESSON_PAGES = 4
CERTIFIED = 1000
SMTP_PORTS = {"sqlite": 6200, "postgres": 6201}
BATCH = 5000

TARGETS = {
    "page_p95_ms": "< 300 ms",
    "export_s": "< 10 s",
    "export_peak_mb": "< 300 MB",
    "reminders_s": "< 30 s",
    "certificates_s": "< 60 s",
}
LABELS = {
    "enrolments": "enrolments (learners × courses)",
    "setup_s": "building the data (bulk)",
    "page_p50_ms": "unit report page p50 (30 requests, 15 reports)",
    "page_p95_ms": "unit report page p95",
    "page_max_queries": "SQL statements per page (most)",
    "export_s": "XLSX export of the academy (job)",
    "export_cpu_s": "  CPU time of that process",
    "export_rows": "XLSX people lines (one per person)",
    "export_peak_mb": "XLSX export: peak RSS of the process",
    "export_base_mb": "XLSX export: RSS before the request",
    "reminders_s": "reminder job, first run (catch-up)",
    "reminders_cpu_s": "  CPU time (with the SMTP sink's thread)",
    "reminders_told": "  events told",
    "reminders_digests": "  daily digests written",
    "reminders_again_s": "reminder job, second run (nothing new)",
    "certificates_s": f"issue {CERTIFIED:,} certificates (PDF + QR)",
    "certificates_cpu_s": "  CPU time",
    "certificates_per_s": "  certificates per second",
}


def _progress(what: str, done: int, total: int) -> None:
    print(f"  {what}: {done:,}/{total:,}", file=sys.stderr, flush=True)


def _insert(model, rows: list[dict], what: str = "") -> None:
    """Bulk insert, a batch per statement, with progress on stderr."""
    from sqlalchemy import insert

    from lms.db import chunked
    from lms.extensions import db

    for number, chunk in enumerate(chunked(rows, BATCH), start=1):
        db.session.execute(insert(model), list(chunk))
        if what and (number % 10 == 0 or number * BATCH >= len(rows)):
            _progress(what, min(number * BATCH, len(rows)), len(rows))
    db.session.commit()


def _ids(model, column, values) -> dict:
    """value of ``column`` → id, for rows just inserted."""
    from sqlalchemy import select

    from lms.extensions import db

    return dict(db.session.execute(select(column, model.id).where(column.in_(values))).all())


# --- the data ------------------------------------------------------------------------------

def build(learners: int, courses: int, now: datetime) -> dict:
    """Everything the measures read, in bulk; returns the ids the measures need."""
    from sqlalchemy import select

    from lms.accounts.models import PersonTerm, Role, TermKind, User, user_roles
    from lms.accounts.services import (
        UserInput,
        create_unit_path,
        create_user,
        find_unit,
        set_commanders,
    )
    from lms.certificates import designs
    from lms.certificates.rendering import Design, Person, render
    from lms.extensions import db
    from lms.files.records import register_blob
    from lms.files.stores import get_storage
    from lms.passwords import hash_password
    from lms.quizzes.models import Quiz, QuizGrade
    from lms.reports.targets import save_target
    from lms.training.models import (
        Assignment,
        AssignmentLearner,
        Audience,
        AudienceMember,
        Course,
        Enrolment,
        LearningStatement,
        Lesson,
        assignment_audiences,
    )
    from lms.uow import unit_of_work

    rng = random.Random(18)
    # Units: academy / battalion / company / platoon.
    companies, platoons = [], []
    with unit_of_work():
        for b in range(1, BATTALIONS + 1):
            for c in range(1, COMPANIES + 1):
                path = f"{ACADEMY}/Tiểu đoàn {b}/Đại đội {c}"
                company, _new = create_unit_path(None, path)
                companies.append(company.id)
                for p in range(1, PLATOONS + 1):
                    platoon, _new = create_unit_path(None, f"{path}/Trung đội {p}")
                    platoons.append(platoon.id)
    admin, _pw = create_user(None, UserInput(username="bench-admin", password=PASSWORD,
                                             roles=("admin",), unit_path=ACADEMY))
    db.session.commit()
    admin_id = admin.id
    # Ranks and target groups of their own (the migrations seed some lists already).
    terms = [{"kind": TermKind.RANK, "code": f"bench-{n}", "name": name, "sort_order": n}
             for n, name in enumerate(["Binh nhì", "Binh nhất", "Hạ sĩ", "Trung sĩ",
                                       "Thiếu úy"])]
    terms += [{"kind": TermKind.TARGET_GROUP, "code": f"bench-{code}", "name": name}
              for code, name in [("hoc-vien", "Học viên"), ("can-bo", "Cán bộ")]]
    _insert(PersonTerm, terms)
    ranks = list(db.session.scalars(select(PersonTerm.id).where(
        PersonTerm.kind == TermKind.RANK, PersonTerm.code.like("bench-%"))))
    cadets, cadres = (db.session.scalar(select(PersonTerm.id).where(
        PersonTerm.kind == TermKind.TARGET_GROUP, PersonTerm.code == f"bench-{code}"))
        for code in ("hoc-vien", "can-bo"))

    # People: learners over the platoons (every 20th directly in its company).
    password_hash = hash_password(PASSWORD)
    family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
    middle = ["Văn", "Hữu", "Đức", "Minh", "Quang", "Thành", "Công", "Xuân"]
    given = ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phong",
             "Quân", "Sơn", "Thắng", "Tuấn", "Việt"]
    people = []
    for n in range(learners):
        platoon = platoons[n % len(platoons)]
        unit = companies[platoons.index(platoon) // PLATOONS] if n % 20 == 19 else platoon
        people.append({"username": f"hv{n:05d}", "full_name": f"{rng.choice(family)} "
                       f"{rng.choice(middle)} {rng.choice(given)}", "email":
                       f"hv{n:05d}@hvhc.edu.vn", "person_code": f"QN{n:07d}",
                       "rank_id": rng.choice(ranks), "target_group_id": cadres if n % 5 == 0
                       else cadets, "cohort": f"K{45 + n % 4}", "password_hash": password_hash,
                       "active": True, "unit_id": unit, "locale": "vi", "created_at": now})
    commanders = [{"username": f"chihuy-td{b}", "full_name": f"Chỉ huy Tiểu đoàn {b}",
                   "email": f"chihuy-td{b}@hvhc.edu.vn", "password_hash": password_hash,
                   "active": True, "unit_id": None, "locale": "vi", "created_at": now}
                  for b in range(1, BATTALIONS + 1)]
    _insert(User, people + commanders, "people")
    user_ids = [i for _u, i in sorted(db.session.execute(select(User.username, User.id).where(
        User.username.like("hv%"))).all())]
    unit_of = {row["username"]: row["unit_id"] for row in people}
    unit_by_id = {user_ids[n]: unit_of[f"hv{n:05d}"] for n in range(learners)}
    learner_role = db.session.scalar(select(Role.id).where(Role.name == "learner"))
    _insert(user_roles, [{"user_id": i, "role_id": learner_role} for i in user_ids])
    for b in range(1, BATTALIONS + 1):
        set_commanders(db.session.get(User, admin_id), find_unit(f"{ACADEMY}/Tiểu đoàn {b}"),
                       [f"chihuy-td{b}"])

    # The audiences: everyone (each course is assigned to it) and battalion 1 (a filter).
    start = now - timedelta(days=90)
    _insert(Audience, [{"name": "Toàn học viện", "kind": "static", "member_count": learners,
                        "owner_id": admin_id, "created_at": start, "updated_at": start},
                       {"name": "Tiểu đoàn 1", "kind": "static", "owner_id": admin_id,
                        "created_at": start, "updated_at": start}])
    everyone, first_battalion = db.session.scalars(select(Audience.id).order_by(Audience.id))
    battalion_one = set(platoons[:COMPANIES * PLATOONS]) | set(companies[:COMPANIES])
    members = [{"audience_id": everyone, "user_id": i, "started_at": start,
                "source": "manual"} for i in user_ids]
    members += [{"audience_id": first_battalion, "user_id": i, "started_at": start,
                 "source": "manual"} for i in user_ids if unit_by_id[i] in battalion_one]
    _insert(AudienceMember, members, "audience members")

    # Courses, each with 4 pages and a quiz, published.
    _insert(Quiz, [{"title": f"Kiểm tra chuyên đề {c + 1}", "status": "published",
                    "pass_percent": 80.0, "created_by_id": admin_id, "created_at": start,
                    "updated_at": start} for c in range(courses)])
    quiz_ids = list(db.session.scalars(select(Quiz.id).order_by(Quiz.id)))
    _insert(Course, [{"title": f"Chuyên đề {c + 1}: kỹ năng số", "status": "published",
                      "estimated_hours": 4.0 + c % 5, "created_by_id": admin_id,
                      "created_at": start, "updated_at": start, "published_at": start}
                     for c in range(courses)])
    course_ids = list(db.session.scalars(select(Course.id).order_by(Course.id)))
    lessons = []
    for c, course_id in enumerate(course_ids):
        lessons += [{"course_id": course_id, "position": p, "kind": "page",
                     "title": f"Bài {p + 1}", "body_html": f"<p>Nội dung bài {p + 1}.</p>",
                     "created_at": start, "updated_at": start} for p in range(LESSON_PAGES)]
        lessons.append({"course_id": course_id, "position": LESSON_PAGES, "kind": "quiz",
                        "title": "Bài kiểm tra", "quiz_id": quiz_ids[c], "created_at": start,
                        "updated_at": start})
    _insert(Lesson, lessons)
    lesson_ids = {}
    for lesson_id, course_id, position in db.session.execute(
            select(Lesson.id, Lesson.course_id, Lesson.position)):
        lesson_ids[course_id, position] = lesson_id
    total = LESSON_PAGES + 1

    # An assignment per course to everyone, each with its own day and due date.
    due_in = [-20, 3, 30, -60]  # days from now: overdue, due soon, later, long overdue
    assignments = []
    for c, course_id in enumerate(course_ids):
        assigned_at = now - timedelta(days=60 - 3 * c % 60, hours=c)
        assignments.append({"course_id": course_id, "due_kind": "fixed",
                            "due_at": now + timedelta(days=due_in[c % 4]), "active": True,
                            "created_by_id": admin_id, "created_at": assigned_at})
    _insert(Assignment, assignments)
    assignment_ids = list(db.session.scalars(select(Assignment.id).order_by(Assignment.id)))
    _insert(assignment_audiences, [{"assignment_id": a, "audience_id": everyone}
                                   for a in assignment_ids])

    # Enrolments and what follows from them, a course at a time.
    for c, course_id in enumerate(course_ids):
        assigned_at, due_at = assignments[c]["created_at"], assignments[c]["due_at"]
        rows, fates = [], []
        for user_id in user_ids:
            draw = rng.random()
            status = ("completed" if draw < 0.45 else "in_progress" if draw < 0.70
                      else "not_started")
            span = (now - assigned_at).total_seconds()
            started = assigned_at + timedelta(seconds=rng.uniform(0, span * 0.5))
            finished = started + timedelta(seconds=rng.uniform(0, (now - started)
                                                                .total_seconds()))
            done = {"completed": total, "in_progress": rng.randint(0, total - 1),
                    "not_started": 0}[status]
            rows.append({"user_id": user_id, "course_id": course_id,
                         "unit_id": unit_by_id[user_id], "source": "assigned",
                         "status": status, "required": True, "due_at": due_at,
                         "enrolled_at": assigned_at,
                         "started_at": started if status != "not_started" else None,
                         "completed_at": finished if status == "completed" else None,
                         "last_activity_at": finished if status != "not_started" else None,
                         "last_lesson_id": lesson_ids[course_id, max(done - 1, 0)]
                         if done else None, "required_total": total, "required_done": done,
                         "items_done": done, "time_spent_seconds": done * 600})
            fates.append((status, started, finished))
        _insert(Enrolment, rows)
        enrolment_of = dict(db.session.execute(select(Enrolment.user_id, Enrolment.id).where(
            Enrolment.course_id == course_id)).all())
        _insert(AssignmentLearner, [
            {"assignment_id": assignment_ids[c], "user_id": u, "enrolment_id": enrolment_of[u],
             "primary": True, "since": start, "due_at": due_at, "active": True,
             "assigned_at": assigned_at} for u in user_ids])
        statements, grades = [], []
        for user_id, (status, _started, finished) in zip(user_ids, fates, strict=True):
            enrolment_id = enrolment_of[user_id]
            statements.append({"uuid": str(uuid.uuid4()), "timestamp": assigned_at,
                               "actor_id": user_id, "verb": "registered",
                               "object_type": "course", "object_id": course_id,
                               "course_id": course_id, "enrolment_id": enrolment_id,
                               "context": {"source": "assigned"}})
            graded = status == "completed" or (status == "in_progress" and rng.random() < 0.5)
            if graded:
                passed = status == "completed"
                percent = rng.uniform(80, 100) if passed else rng.uniform(30, 79)
                grades.append({"quiz_id": quiz_ids[c], "user_id": user_id, "attempts": 1,
                               "score": round(percent * 0.3, 2), "max_score": 30.0,
                               "percent": round(percent, 2), "passed": passed,
                               "first_passed_at": finished if passed else None,
                               "updated_at": finished})
                statements.append({"uuid": str(uuid.uuid4()), "timestamp": finished,
                                   "actor_id": user_id, "verb": "passed" if passed
                                   else "failed", "object_type": "quiz",
                                   "object_id": quiz_ids[c], "course_id": course_id,
                                   "result_completion": True, "result_success": passed,
                                   "result_score": round(percent / 100, 4),
                                   "context": {"lesson": lesson_ids[course_id,
                                                                    LESSON_PAGES]}})
            if status == "completed":
                statements.append({"uuid": str(uuid.uuid4()), "timestamp": finished,
                                   "actor_id": user_id, "verb": "completed",
                                   "object_type": "course", "object_id": course_id,
                                   "course_id": course_id, "enrolment_id": enrolment_id,
                                   "result_completion": True,
                                   "result_duration_seconds": total * 600, "context": {}})
        _insert(QuizGrade, grades)
        _insert(LearningStatement, statements)
        _progress("courses enrolled", c + 1, courses)
    # The enrolments' quiz figures, as grading keeps them.
    from lms.quizzes.figures import refresh

    refresh()
    db.session.commit()

    # Certificate templates on half the courses (active); certificates for the completions
    # of all but the first, sharing one rendered PDF (each certificate's own is measured).
    admin = db.session.get(User, admin_id)
    template_ids = []
    for course_id in course_ids[:max(1, courses // 2)]:
        course = db.session.get(Course, course_id)
        template = designs.create_template(admin, course, designs.TemplateInput(
            name=f"Mẫu {course.title}", title=designs.DEFAULT_TITLE, body=designs.DEFAULT_BODY,
            issuer=ACADEMY.upper(), place="Hà Nội", signer_name="Nguyễn Văn A",
            signer_title="Giám đốc", valid_months=24))
        designs.set_status(admin, template, "active", template.lock_version)
        template_ids.append(template.id)
    pdf = render(Design(title=designs.DEFAULT_TITLE, body=designs.DEFAULT_BODY,
                        issuer=ACADEMY), Person("Nguyễn Văn A", "Binh nhì", ACADEMY,
                                                "Chuyên đề", "4", now.date(), "0000", None,
                                                "http://localhost/verify/0"))
    import io

    blob = get_storage().put(io.BytesIO(pdf))
    register_blob(blob.key, blob.size)
    db.session.commit()
    from lms.certificates.codes import new_code

    titles = dict(db.session.execute(select(Course.id, Course.title)).all())
    certificates = []
    for template_id, course_id in zip(template_ids[1:], course_ids[1:], strict=False):
        for enrolment_id, user_id, unit_id, completed_at in db.session.execute(
                select(Enrolment.id, Enrolment.user_id, Enrolment.unit_id,
                       Enrolment.completed_at).where(Enrolment.course_id == course_id,
                                                     Enrolment.status == "completed")):
            certificates.append({
                "code": new_code(), "issue_key": f"{user_id}:c{course_id}:"
                f"{completed_at.isoformat()}:0", "template_id": template_id,
                "user_id": user_id, "course_id": course_id, "enrolment_id": enrolment_id,
                "unit_id": unit_id, "completed_at": completed_at, "issued_at": completed_at,
                "full_name": "Học viên", "unit_path": ACADEMY, "item_title": titles[course_id],
                "hours": 4.0, "blob_key": blob.key, "size": blob.size,
                "expires_at": completed_at + timedelta(days=730)})
    from lms.certificates.models import Certificate

    _insert(Certificate, certificates, "certificates")

    # Targets: 100% of the academy and 90% of battalion 1 by a year from now.
    save_target(admin, unit=None, course=None, track=None, percent=100,
                deadline=(now + timedelta(days=365)).date(), starts=start.date())
    save_target(admin, unit=find_unit(f"{ACADEMY}/Tiểu đoàn 1"), course=None, track=None,
                percent=90, deadline=(now + timedelta(days=365)).date(), starts=start.date())
    db.session.commit()
    return {"academy": find_unit(ACADEMY).id, "battalions": [
        find_unit(f"{ACADEMY}/Tiểu đoàn {b}").id for b in range(1, BATTALIONS + 1)],
        "companies": companies, "platoons": platoons, "courses": course_ids,
        "audience": first_battalion, "group": cadres, "enrolments": learners * courses}


# --- the measures --------------------------------------------------------------------------

def report_urls(made: dict, now: datetime) -> list[tuple[str, str]]:
    """(who, URL) of the 15 reports the page is timed on."""
    academy, battalion = made["academy"], made["battalions"][0]
    company, platoon = made["companies"][1], made["platoons"][7]
    course = f"course:{made['courses'][-1]}"
    period = (f"from={(now - timedelta(days=40)).date().isoformat()}"
              f"&to={(now - timedelta(days=10)).date().isoformat()}")
    admin = [f"unit={academy}", f"unit={academy}&item={course}", f"unit={battalion}",
             f"unit={battalion}&item={course}", f"unit={company}", f"unit={platoon}",
             f"unit={made['battalions'][3]}", f"unit={academy}&audience={made['audience']}",
             f"unit={academy}&group={made['group']}", f"unit={academy}&{period}",
             f"unit={battalion}&item={course}&{period}"]
    commander = ["", f"unit={battalion}&item={course}", f"unit={company}",
                 f"unit={made['companies'][0]}&group={made['group']}"]
    return ([("bench-admin", f"/reports/?{q}") for q in admin]
            + [("chihuy-td1", f"/reports/?{q}") for q in commander])


def time_pages(app, urls: list[tuple[str, str]], rounds: int = 2) -> dict:
    from sqlalchemy import event

    from lms.extensions import db

    clients = {}
    for who in sorted({who for who, _url in urls}):
        clients[who] = app.test_client()
        log_in(clients[who], who, PASSWORD)
    statements = [0]

    def count(*_args) -> None:
        statements[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    most = 0
    for who, url in urls:  # warm-up: templates compiled, caches filled
        statements[0] = 0
        response = clients[who].get(url)
        assert response.status_code == 200, (url, response.status_code)
        most = max(most, statements[0])
    event.remove(engine, "before_cursor_execute", count)
    samples, slowest = [], (0.0, "")
    for _round in range(rounds):
        for who, url in urls:
            started = time.perf_counter()
            response = clients[who].get(url)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            samples.append(elapsed)
            slowest = max(slowest, (elapsed, f"{who} {url}"))
    p50, p95, _worst = percentiles(samples)
    return {"page_p50_ms": p50, "page_p95_ms": p95, "page_max_queries": most,
            "page_slowest": slowest[1]}


def _rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (the peak) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(field)


def export_child(academy: int) -> dict:
    """In a fresh process: the admin asks for the academy's workbook (a job, inline)."""
    sys.path.insert(0, str(ROOT))
    from lms import create_app
    from lms.extensions import db
    from lms.models import Job

    app = create_app()
    app.config["SERVER_NAME"] = None
    client = app.test_client()
    log_in(client, "bench-admin", PASSWORD)
    assert client.get(f"/reports/?unit={academy}").status_code == 200  # the page first
    base = _rss_mb("VmRSS")
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(f"/reports/export.xlsx?unit={academy}")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if response.status_code == 200:  # small enough to be made in the request
        return {"export_s": elapsed, "export_cpu_s": cpu, "export_rows": None,
                "export_base_mb": base,
                "export_peak_mb": _rss_mb("VmHWM"), "export_mb": len(response.data) / 1e6}
    assert response.status_code == 302, response.status_code
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "done", (job.status, job.message)
        rows, size = job.result["rows"], job.result["size"]
    return {"export_s": elapsed, "export_cpu_s": cpu, "export_rows": rows, "export_mb": size / 1e6,
            "export_base_mb": base, "export_peak_mb": _rss_mb("VmHWM")}


def _smtp_sink(port: int):
    """A real SMTP server on loopback that accepts every message (and counts them)."""
    from aiosmtpd.controller import Controller

    class Sink:
        received = 0

        async def handle_DATA(self, server, session, envelope):
            Sink.received += 1
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, Sink


def child(database: str, learners: int, courses: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="lms-report-bench-"))
    kind = "sqlite" if database == "sqlite" else "postgres"
    url = f"sqlite:///{work / 'bench.sqlite'}" if kind == "sqlite" else \
        scratch_postgres(database)
    os.environ.update({"LMS_INSTANCE_PATH": str(work / "instance"),
                       "LMS_DATA_DIR": str(work / "data"), "LMS_DATABASE_URL": url,
                       "LMS_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
                       "LMS_JOBS_IMMEDIATE": "true", "LMS_SMTP_HOST": "127.0.0.1",
                       "LMS_SMTP_PORT": str(SMTP_PORTS[kind]), "LMS_SMTP_STARTTLS": "false",
                       "LMS_PUBLIC_BASE_URL": "https://hoclieu.hvhc.edu.vn"})
    sys.path.insert(0, str(ROOT))
    smtp = None
    try:
        from lms import create_app
        from lms.certificates.issuing import issue_pending
        from lms.db import utcnow
        from lms.extensions import db
        from lms.notify.jobs import run_reminders
        from lms.schema import upgrade

        app = create_app()
        results: dict = {}
        with app.app_context():
            upgrade()
            now = utcnow()
            started = time.perf_counter()
            made = build(learners, courses, now)
            results["setup_s"] = time.perf_counter() - started
            results["enrolments"] = made["enrolments"]
            if kind == "postgres":
                # What autovacuum does soon after a bulk load, done now: the planner's
                # statistics and the visibility map that index-only scans need.
                from sqlalchemy import text

                db.session.commit()
                with db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("VACUUM ANALYZE"))
            db.session.remove()
        app.config["SERVER_NAME"] = None
        print("  report pages…", file=sys.stderr, flush=True)
        results.update(time_pages(app, report_urls(made, now)))

        print("  XLSX export…", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, __file__, "--export-child",
                               str(made["academy"])], check=True, stdout=subprocess.PIPE,
                              text=True, cwd=ROOT)
        results.update(json.loads(done.stdout.strip().splitlines()[-1]))

        print("  reminder job…", file=sys.stderr, flush=True)
        smtp, sink = _smtp_sink(SMTP_PORTS[kind])
        with app.app_context():
            started, cpu = time.perf_counter(), time.process_time()
            first = run_reminders()
            results["reminders_s"] = time.perf_counter() - started
            results["reminders_cpu_s"] = time.process_time() - cpu
            results["reminders_told"] = sum(first["told"].values())
            results["reminders_digests"] = first["digests"]
            results["reminders_first"] = first
            started = time.perf_counter()
            second = run_reminders()
            results["reminders_again_s"] = time.perf_counter() - started
            results["reminders_second"] = second
            results["mail_received"] = sink.received
            db.session.remove()

            print("  certificates…", file=sys.stderr, flush=True)
            started, cpu = time.perf_counter(), time.process_time()
            issued = issue_pending(limit=CERTIFIED)
            results["certificates_s"] = time.perf_counter() - started
            results["certificates_cpu_s"] = time.process_time() - cpu
            results["certificates_issued"] = issued
            results["certificates_per_s"] = issued / results["certificates_s"]
            db.session.remove()
            db.engine.dispose()
        return results
    finally:
        if smtp is not None:
            smtp.stop()
        if kind == "postgres":
            drop_postgres(url)
        shutil.rmtree(work, ignore_errors=True)


def _format(key: str, value) -> str:
    if value is None:
        return "—"
    if key in ("enrolments", "export_rows", "reminders_told", "reminders_digests",
               "page_max_queries"):
        return f"{value:,}"
    if key.endswith("_ms"):
        return f"{value:.1f} ms"
    if key.endswith("_mb"):
        return f"{value:.0f} MB"
    if key.endswith("_per_s"):
        return f"{value:.1f}"
    return f"{value:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--courses", type=int, default=20)
    instance.add_database_options(parser)
    parser.add_argument("--export-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.export_child:
        print(json.dumps(export_child(args.export_child)))
        return 0
    if args.child:
        print(json.dumps(child(args.child, args.learners, args.courses), default=str))
        return 0
    results = instance.run_in_children(
        __file__, ["--learners", str(args.learners), "--courses", str(args.courses)],
        sqlite=not args.no_sqlite, postgres=args.postgres,
        what=f"{args.learners:,} learners × {args.courses} courses", cwd=ROOT)
    print(f"\nReports benchmark: {args.learners:,} learners × {args.courses} courses "
          f"(load average {os.getloadavg()[0]:.1f} at the end)\n")
    instance.print_table(results, LABELS, TARGETS, _format, widths=(48, 8))
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
