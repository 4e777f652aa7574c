"""Jobs, /health, error pages, i18n, security headers and the audit log's guarantees."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lms import audit
from lms.accounts.models import User
from lms.db import utcnow
from lms.extensions import db
from lms.jobs import JobContext, enqueue, job, register
from lms.models import AuditEvent, Job, ThrottleCounter
from tests.factories import PASSWORD

pytestmark = pytest.mark.functional


@job("tests.count_to")
def count_to(ctx: JobContext, n: int) -> dict[str, int]:
    for i in range(1, n + 1):
        ctx.progress(i, n, f"step {i}")
    return {"counted": n}


@job("tests.explode")
def explode(ctx: JobContext) -> None:
    raise RuntimeError("boom")


#: What another connection (the owner's progress page) saw while ``fail_half_way`` ran.
SEEN_MEANWHILE: list[tuple[int, int | None, str]] = []


@job("tests.fail_half_way")
def fail_half_way(ctx: JobContext) -> None:
    db.session.add(ThrottleCounter(key="half-done", window_start=utcnow(), count=1))
    ctx.progress(1, 2, "half way")
    with Session(db.engine) as other:
        row = other.get(Job, ctx.job.id)
        SEEN_MEANWHILE.append((row.progress_done, row.progress_total, row.message))
    raise RuntimeError("second half failed")


@pytest.fixture
def test_jobs(app):
    register(app, [count_to, explode, fail_half_way])
    return app


def test_job_runs_and_records_progress_and_result(app, test_jobs):
    with app.app_context():
        row = enqueue("tests.count_to", n=3)
        assert (row.status, row.progress_done, row.progress_total) == ("done", 3, 3)
        assert row.result == {"counted": 3}
        assert row.started_at <= row.finished_at


def test_failed_job_is_recorded_not_raised(app, test_jobs):
    with app.app_context():
        row = enqueue("tests.explode")
        assert row.status == "failed"
        assert "boom" in row.message


def test_unknown_job_is_refused(app):
    with app.app_context(), pytest.raises(KeyError):
        enqueue("no.such.job")
    with app.app_context():
        assert db.session.scalars(select(Job)).all() == []


def test_scheduled_maintenance_job_expires_old_counters(app):
    from datetime import timedelta

    from lms.db import utcnow

    with app.app_context():
        old = utcnow() - timedelta(days=1)
        db.session.add_all([ThrottleCounter(key="old", window_start=old, count=3),
                            ThrottleCounter(key="new", window_start=utcnow(), count=1)])
        db.session.commit()
        row = enqueue("maintenance.expire_throttle_counters")
        assert row.result == {"deleted": 1}
        assert [c.key for c in db.session.scalars(select(ThrottleCounter))] == ["new"]


def test_scheduled_maintenance_job_deletes_dead_sessions(app, users):
    from datetime import timedelta

    from lms.auth.models import UserSession

    with app.app_context():
        learner = db.session.get(User, users["learner"].id)
        now = utcnow()
        rows = {"live": (now + timedelta(hours=1), learner.session_version),
                "expired": (now - timedelta(seconds=1), learner.session_version),
                "revoked": (now + timedelta(hours=1), learner.session_version - 1)}
        for name, (expires, version) in rows.items():
            db.session.add(UserSession(token_hash=name, user_id=learner.id,
                                       user_version=version, expires_at=expires))
        db.session.commit()
        assert enqueue("maintenance.expire_sessions").result == {"deleted": 2}
        assert db.session.scalars(select(UserSession.token_hash)).all() == ["live"]


def test_progress_is_shown_at_once_but_never_commits_the_jobs_work(app, test_jobs):
    SEEN_MEANWHILE.clear()
    with app.app_context():
        row = enqueue("tests.fail_half_way")
        assert row.status == "failed"
        assert row.message == "RuntimeError: second half failed"
        assert SEEN_MEANWHILE == [(1, 2, "half way")]
        # The progress report committed nothing of the job's own unfinished work.
        assert db.session.scalars(select(ThrottleCounter)).all() == []


def test_job_status_is_visible_to_its_owner_only(app, browser, users, client, test_jobs):
    with app.app_context():
        from lms.accounts.models import User

        owner = db.session.get(User, users["learner"].id)
        job_id = enqueue("tests.count_to", owner=owner, n=2).id
    assert client.get(f"/jobs/{job_id}.json").status_code == 302  # anonymous: log in first
    browser.login("trainer", PASSWORD)
    assert client.get(f"/jobs/{job_id}.json").status_code == 404
    browser.logout()
    browser.login("learner", PASSWORD)
    data = client.get(f"/jobs/{job_id}.json").get_json()
    assert data["status"] == "done" and data["progress"]["percent"] == 100
    assert data["result"] == {"counted": 2}
    assert client.get(f"/jobs/{job_id}").status_code == 200


def test_health_reports_every_check(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "data_dir": "ok", "jobs": "ok", "fixity": "ok",
                   "search": "ok", "mirrors": "ok"}}


def test_health_fails_with_503_when_the_data_dir_is_unusable(app, client, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    app.config["DATA_DIR"] = str(blocker / "data")
    response = client.get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "fail" and body["checks"]["data_dir"] == "fail"
    assert str(tmp_path) not in response.get_data(as_text=True)


@pytest.mark.parametrize("status, url", [(404, "/no/such/page"), (405, "/health")])
def test_error_pages_reveal_nothing_internal(client, status, url):
    response = client.post(url) if status == 405 else client.get(url)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert "Traceback" not in html and "/work/" not in html and "werkzeug" not in html.lower()
    assert response.headers["X-Request-Id"] in html


def test_unexpected_errors_are_a_generic_500_page(app, client):
    @app.get("/_boom")
    def boom():
        raise RuntimeError("secret internal detail")

    response = client.get("/_boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "secret internal detail" not in html and "RuntimeError" not in html


def test_oversized_body_is_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/login", data={"username": "x" * 5000})
    assert response.status_code == 413


@pytest.mark.parametrize("status", [400, 403, 404, 410, 413, 429, 500])
def test_every_error_page_renders_in_both_languages(app, client, status):
    from flask import abort

    app.add_url_rule(f"/_abort{status}", f"abort{status}", lambda: abort(status))
    vi = client.get(f"/_abort{status}")
    vietnamese = '<html lang="vi" class="no-js">'
    assert vi.status_code == status and vietnamese in vi.get_data(as_text=True)
    client.post("/language", data={"language": "en"})  # CSRF: refused, language unchanged
    assert vietnamese in client.get(f"/_abort{status}").get_data(as_text=True)


def test_language_switch_is_remembered(browser, client):
    home = client.get("/").get_data(as_text=True)
    assert '<html lang="vi" class="no-js">' in home and "Đăng nhập" in home
    response = browser.post("/language", {"language": "en", "next": "/login"})
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en" class="no-js">' in page and "Log in" in page
    browser.post("/language", {"language": "vi", "next": "//evil.example"})
    assert "Đăng nhập" in client.get("/").get_data(as_text=True)


def test_language_choice_follows_the_account(app, browser, users):
    from tests.conftest import Browser

    browser.login("learner", PASSWORD)
    browser.post("/language", {"language": "en"})
    other = Browser(app.test_client())
    other.login("learner", PASSWORD)
    assert '<html lang="en" class="no-js">' in other.client.get("/").get_data(as_text=True)


def test_a_forms_own_errors_are_in_the_pages_language(browser, users):
    """WTForms' messages come from our catalogue: the library has no Vietnamese."""
    browser.login("admin", PASSWORD)
    in_vietnamese = browser.post("/admin/units", {"name": "", "parent_id": "0"},
                                 page="/admin/units")
    assert in_vietnamese.status_code == 400
    assert "Trường này là bắt buộc." in in_vietnamese.get_data(as_text=True)
    browser.post("/language", {"language": "en"})
    in_english = browser.post("/admin/units", {"name": "x" * 201, "parent_id": "0"},
                              page="/admin/units")
    assert in_english.status_code == 400
    assert "Field cannot be longer than 200 characters." in in_english.get_data(as_text=True)


def test_pages_carry_security_headers(client):
    headers = client.get("/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_audit_log_is_append_only(app):
    with app.app_context():
        audit.record("test_event", details={"note": "line\r\nLOGIN OK user=admin"})
        db.session.commit()
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "test_event"))
        assert event.details["note"] == "line\r\nLOGIN OK user=admin"
        with pytest.raises(DBAPIError):
            db.session.execute(update(AuditEvent).values(action="tampered"))
        db.session.rollback()
        with pytest.raises(DBAPIError):
            db.session.execute(delete(AuditEvent))
        db.session.rollback()
        assert db.session.scalar(select(AuditEvent.action)) == "test_event"


def test_audit_rows_join_the_transaction_they_describe(app):
    with app.app_context():
        audit.record("rolled_back_event")
        db.session.rollback()
        audit.record("standalone_event", standalone=True)
        db.session.rollback()
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert actions == ["standalone_event"]


def test_an_idle_run_of_a_minute_job_leaves_no_record_and_a_busy_one_does(app):
    from datetime import timedelta

    from lms.db import utcnow
    from lms.jobs.queue import _scheduled_runner
    from lms.quizzes.models import QuizAttempt
    from tests.quiz_world import build_quiz_world, start

    run = _scheduled_runner(app, "quizzes.close_expired")
    run()  # nothing to close
    with app.app_context():
        assert db.session.scalars(select(Job.name)).all() == []

    qw = build_quiz_world(app)
    from tests.training_world import signed_in

    start(signed_in(app, "hv1"), qw.quiz)
    with app.app_context():
        db.session.execute(update(QuizAttempt).values(deadline_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    run()
    with app.app_context():
        assert [(j.name, j.result) for j in db.session.scalars(select(Job))] == [
            ("quizzes.close_expired", {"closed": 1})]
