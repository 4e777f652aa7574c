"""Training benchmark: people import, enrolment of a large audience, moving people, /learn and
the trainer's assignment page, on SQLite and PostgreSQL.

    .venv/bin/python bench/training_bench.py                       # SQLite, 10,000 people
    .venv/bin/python bench/training_bench.py \\
        --postgres postgresql://lms@127.0.0.1:55432/lms_t          # and PostgreSQL too
    .venv/bin/python bench/training_bench.py --people 2000         # a quick check

Each database runs in a fresh subprocess with a fresh instance (SQLite in a temporary folder;
on PostgreSQL a scratch database ``<name>_bench`` made next to the one given, and dropped at
the end). Everything goes through the app's own services, as the pages and commands do:

1. *import N people*: a CSV of N people (unit paths over 10 battalions × 10 companies, a rank,
   the target group "cadets") through ``import_people``, the service of ``lms people import``
   and /admin/people/import, then their one-time passwords made and hashed
   (``issue_passwords``), as the command does. (Issue target: 10,000 rows under 60 s.)
2. *rule audience of N*: a rule-based audience "cadets of the academy", applied as the rule
   page does (a change that large runs as the ``training.audience_sync`` job).
3. *enrol N into a 10-lesson course*: ``create_assignment`` of a 10-lesson course to that
   audience, relative due date: the ``training.enrol`` job, chunks with progress. (< 20 s)
4. *enrol again (idempotent)*: the same job run again: nothing changes.
5. *move 1,000 people*: ``move_people`` of 1,000 people of battalion 1 to battalion 2, with
   an audience and an assignment per battalion: every affected membership and enrolment is
   updated in the same transaction. (< 10 s)
6. */learn, 20 assignments*: GET /learn for a learner with 20 assigned courses, p50/p95 of
   200 requests through the WSGI app (Flask test client). (p95 < 50 ms)
7. *assignment page, N learners*: GET /train/assignments/<id> (50 per page), pages 1 and the
   last, p50/p95 of 100 requests. (p95 < 200 ms)

Jobs run inline (``JOBS_IMMEDIATE``), so a job's time is its whole run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import instance  # bench/instance.py: scripts run from bench/

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench password long enough"  # noqa: S105 (a throwaway instance)
ACADEMY = "Học viện Hậu cần"
BATTALIONS, COMPANIES = 10, 10
MOVED = 1000
ASSIGNED_COURSES = 20

TARGETS = {
    "import_people_s": "< 60 s (10,000)",
    "rule_audience_s": "",
    "enrol_s": "< 20 s (10,000)",
    "enrol_again_s": "",
    "move_people_s": "< 10 s",
    "learn_p95_ms": "< 50 ms",
    "assignment_page_p95_ms": "< 200 ms",
}
LABELS = {
    "import_people_s": "import {n} people (CSV)",
    "rule_audience_s": "rule audience of {n} (job)",
    "enrol_s": "enrol {n} into a 10-lesson course (job)",
    "enrol_again_s": "enrol again (idempotent)",
    "move_people_s": f"move {MOVED:,} people to another unit",
    "learn_p50_ms": "/learn p50 (20 assignments)",
    "learn_p95_ms": "/learn p95 (20 assignments)",
    "assignment_page_p50_ms": "assignment page p50 ({n} learners, 50/page)",
    "assignment_page_p95_ms": "assignment page p95 ({n} learners, 50/page)",
}


def _timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def child(database: str, people: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="lms-training-bench-"))
    settings = instance.scratch_settings(work, database)
    url = settings["LMS_DATABASE_URL"]
    os.environ.update({**settings, "LMS_JOBS_IMMEDIATE": "true"})
    sys.path.insert(0, str(ROOT))
    try:
        return _run(work, people)
    finally:
        if database != "sqlite":
            instance.drop_postgres(url)
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, people: int) -> dict:
    from sqlalchemy import func, select

    from lms import create_app
    from lms.accounts.models import Unit, User
    from lms.accounts.people_import import PeopleImportOptions, import_people, issue_passwords
    from lms.accounts.services import (
        Profile,
        UserInput,
        create_unit_path,
        create_user,
        find_unit,
        move_people,
    )
    from lms.extensions import db
    from lms.jobs import enqueue
    from lms.schema import upgrade
    from lms.training import assignments, audiences, courses
    from lms.training.models import AssignmentLearner, DueKind, Enrolment

    app = create_app()
    results: dict[str, float | int] = {"people": people}
    with app.app_context():
        upgrade()
        for b in range(1, BATTALIONS + 1):
            for c in range(1, COMPANIES + 1):
                create_unit_path(None, f"{ACADEMY}/Tiểu đoàn {b}/Đại đội {c}")
        admin, _pw = create_user(None, UserInput(
            username="bench-admin", password=PASSWORD, roles=("admin",), unit_path=ACADEMY,
            profile=Profile(full_name="Quản trị")))
        trainer, _pw = create_user(None, UserInput(
            username="bench-trainer", password=PASSWORD, roles=("trainer",),
            unit_path=ACADEMY, profile=Profile(full_name="Cán bộ huấn luyện")))

        # 1. people import
        source = work / "people.csv"
        with source.open("w", encoding="utf-8") as out:
            out.write("username,full_name,person_code,unit,rank,position,cohort,target_group,"
                      "roles,email\n")
            for n in range(people):
                b, c = n // (people // BATTALIONS) % BATTALIONS + 1, n % COMPANIES + 1
                out.write(f"hv{n:05d},Học viên {n:05d},QN{n:06d},{ACADEMY}/Tiểu đoàn {b}/Đại "
                          f"đội {c},Binh nhì,Học viên,K{45 + n % 4},cadets,learner,\n")
        def import_and_issue():
            # As `lms people import` does: the rows, then the one-time passwords file.
            found = import_people(admin, source, PeopleImportOptions(via="bench"))
            return found, issue_passwords(found.batch_id)

        (report, issued), results["import_people_s"] = _timed(import_and_issue)
        assert report.counts["created"] == len(issued) == people, report.counts

        # 2. a rule-based audience of everyone imported
        audience = audiences.create_audience(trainer, name="Học viên toàn học viện",
                                             description="", kind="rule",
                                             scope_unit=find_unit(ACADEMY))
        target_group = db.session.scalar(select(User.target_group_id).where(
            User.username == "hv00000"))
        _out, results["rule_audience_s"] = _timed(
            audiences.apply_rule, trainer, audience, {"groups": [{"conditions": [
                {"field": "target_group", "values": [target_group]}]}]},
            audience.lock_version)
        db.session.refresh(audience)
        assert audience.member_count == people, audience.member_count

        # 3. enrol everyone into a 10-lesson course
        course = _course(courses, trainer, "Kỹ năng số cơ bản", 10)
        created, results["enrol_s"] = _timed(
            assignments.create_assignment, trainer, course=course, audiences=[audience],
            due=assignments.DueSpec(kind=DueKind.AFTER_JOINING, days=30))
        enrolled = db.session.scalar(select(func.count(Enrolment.id)).where(
            Enrolment.course_id == course.id))
        assert enrolled == people, enrolled

        # 4. the same enrolment again
        _job, results["enrol_again_s"] = _timed(
            enqueue, "training.enrol", owner=trainer, assignment_id=created.assignment.id)
        assert db.session.scalar(select(func.count(AssignmentLearner.id)).where(
            AssignmentLearner.assignment_id == created.assignment.id)) == people

        # 5. move 1,000 people, with an audience and an assignment per battalion
        for b in range(1, BATTALIONS + 1):
            unit = find_unit(f"{ACADEMY}/Tiểu đoàn {b}")
            per = audiences.create_audience(trainer, name=f"Tiểu đoàn {b}", description="",
                                            kind="rule", scope_unit=find_unit(ACADEMY))
            audiences.apply_rule(trainer, per, {"groups": [{"conditions": [
                {"field": "unit", "values": [unit.id], "subunits": True}]}]}, per.lock_version)
            db.session.refresh(per)
            assignments.create_assignment(
                trainer, course=_course(courses, trainer, f"Huấn luyện tiểu đoàn {b}", 3),
                audiences=[per], due=assignments.DueSpec(kind=DueKind.AFTER_JOINING, days=14))
        first = find_unit(f"{ACADEMY}/Tiểu đoàn 1")
        moving = db.session.scalars(select(User.id).join(Unit, Unit.id == User.unit_id).where(
            Unit.parent_id == first.id).order_by(User.id).limit(MOVED)).all()
        target = find_unit(f"{ACADEMY}/Tiểu đoàn 2/Đại đội 1")
        moved, results["move_people_s"] = _timed(move_people, admin, moving, target)
        assert moved == len(moving) == min(MOVED, people // BATTALIONS), moved

        # 6. /learn of a learner with 20 assignments
        learner = db.session.scalar(select(User).where(User.username == "hv00001"))
        for n in range(ASSIGNED_COURSES - 2):  # the academy and battalion courses make two
            assignments.create_assignment(
                trainer, course=_course(courses, trainer, f"Chuyên đề {n + 1}", 5),
                people=[learner], due=assignments.DueSpec(kind=DueKind.AFTER_ASSIGNED,
                                                          days=7 + n))
        from lms.passwords import hash_password

        learner.password_hash, learner.must_change_password = hash_password(PASSWORD), False
        db.session.commit()
        assignment_id = created.assignment.id
    app.config["SERVER_NAME"] = None
    results.update(_page_timings(app, "hv00001", "/learn", 200, "learn"))
    last = -(-people // app.config["TRAINING_PAGE_SIZE"])
    first_page = _page_timings(app, "bench-trainer", f"/train/assignments/{assignment_id}",
                               50, "assignment_page")
    last_page = _page_timings(app, "bench-trainer",
                              f"/train/assignments/{assignment_id}?page={last}", 50,
                              "assignment_page")
    for key in ("assignment_page_p50_ms", "assignment_page_p95_ms"):
        results[key] = max(first_page[key], last_page[key])
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return results


def _course(courses, trainer, title: str, lessons: int):
    from lms.extensions import db

    course = courses.create_course(trainer, courses.CourseInput(title=title, sequential=True))
    for n in range(lessons):
        courses.add_lesson(trainer, course, courses.LessonInput(
            kind="page", title=f"Bài {n + 1}", body=f"Nội dung bài {n + 1}."),
            course.lock_version)
        db.session.refresh(course)
    courses.set_course_status(trainer, course, "published", course.lock_version)
    return course


def _page_timings(app, username: str, path: str, repeat: int, name: str) -> dict[str, float]:
    import re

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": username,
                                           "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    for _ in range(5):
        assert client.get(path).status_code == 200  # warm-up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    p50, p95, _ = instance.percentiles(samples)
    return {f"{name}_p50_ms": p50, f"{name}_p95_ms": p95}


def _format(key: str, value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if key.endswith("_ms") else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    instance.add_database_options(parser)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.people)))
        return 0
    results = instance.run_in_children(
        __file__, ["--people", str(args.people)], sqlite=not args.no_sqlite,
        postgres=args.postgres, what=f"{args.people:,} people", cwd=ROOT)
    print(f"\nTraining benchmark, {args.people:,} people (times in s unless ms)\n")
    rows = {key: label.format(n=f"{args.people:,}") for key, label in LABELS.items()}
    instance.print_table(results, rows, TARGETS, _format, widths=(48, 16))
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
