"""Reminders and e-mail: the job tells each event once, in the app and in one digest a day
through a real SMTP server (aiosmtpd, STARTTLS, login); a server that refuses or is down
loses nothing; commanders get one weekly list; optional messages can be muted."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from lms.accounts.models import User
from lms.db import utcnow
from lms.extensions import db
from lms.notify.jobs import run_reminders
from lms.notify.models import MailStatus, Notification, OutgoingMail
from lms.notify.services import notify
from lms.training.models import Enrolment
from tests.functional.test_training_learning import class_audience, course_with_lessons
from tests.mailserver import smtp_server
from tests.training_world import assign, flashes, follow, signed_in, text, user_id

pytestmark = pytest.mark.functional

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def mail(app, tmp_path):
    with smtp_server(tmp_path) as server:
        app.config.update(server.settings(), PUBLIC_BASE_URL="https://kho.hvhc.test")
        yield server


def with_addresses(app, *usernames: str) -> None:
    with app.app_context():
        for name in usernames:
            db.session.execute(update(User).where(User.username == name)
                               .values(email=f"{name}@hvhc.edu.vn"))
        db.session.commit()


def assigned(app, world, trainer, *, due_days: int | None = None) -> int:
    course_id = course_with_lessons(trainer, world, sequential=False)
    audience = class_audience(trainer, world)
    if due_days is None:
        assign(trainer, course_id, [audience])
    else:
        day = (datetime.now(HANOI) + timedelta(days=due_days)).date().isoformat()
        assign(trainer, course_id, [audience], due_kind="fixed", due_date=day)
    return course_id


def kinds_of(app, username: str) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Notification.kind).where(
            Notification.user_id == user_id(app, username)).order_by(Notification.id)))


def run(app, now: datetime | None = None) -> dict:
    with app.app_context():
        return run_reminders(now)


def test_the_job_tells_once_in_the_app_and_in_one_digest_over_starttls(app, world, trainer,
                                                                       mail):
    with_addresses(app, "hv1", "hv2")
    course_id = assigned(app, world, trainer, due_days=3)
    first = run(app)
    assert first["told"]["assigned"] == 2
    assert first["told"]["due_soon"] == 2
    assert (first["digests"], first["sent"], first["failed"]) == (2, 2, 0)
    assert mail.mailbox.logins == 1
    [message] = mail.mailbox.to("hv1@hvhc.edu.vn")
    assert message["Subject"] == "Học tập số: 2 tin mới"
    body = message.get_content()
    assert "Kỹ năng số cơ bản được giao cho đồng chí, hạn" in body
    assert f"https://kho.hvhc.test/courses/{course_id}" in body
    assert "https://kho.hvhc.test/notifications/settings" in body
    # Never twice: a second run tells nothing and sends nothing.
    second = run(app)
    assert (second["told"], second["digests"], second["sent"]) == (
        {"assigned": 0, "due_soon": 0, "overdue": 0, "completed": 0}, 0, 0)
    assert len(mail.mailbox.messages) == 2
    assert kinds_of(app, "hv1") == ["assigned", "due_soon"]
    learner = signed_in(app, "hv1")
    page = text(learner.client.get("/notifications"))
    assert "Kỹ năng số cơ bản is assigned to you, due on" in page


def test_after_downtime_the_news_of_a_day_comes_in_one_digest(app, world, trainer, mail):
    with_addresses(app, "hv1")
    course_id = assigned(app, world, trainer, due_days=-2)  # overdue at once
    complete = signed_in(app, "hv2")  # hv2 has no address: in-app only
    run(app)
    [message] = mail.mailbox.to("hv1@hvhc.edu.vn")
    assert message["Subject"] == "Học tập số: 2 tin mới"  # assigned and overdue, together
    assert kinds_of(app, "hv2") == ["assigned", "overdue"]
    # Later the same day something new: it waits for tomorrow's digest.
    with app.app_context():
        notify([user_id(app, "hv1")], "completed", {"title": "Khác"}, None,
               subject_id=999, occurrence_at=utcnow())
        db.session.commit()
    assert run(app)["sent"] == 0
    tomorrow = run(app, utcnow() + timedelta(days=1))
    assert tomorrow["sent"] == 1
    assert len(mail.mailbox.to("hv1@hvhc.edu.vn")) == 2
    assert complete.client.get(f"/courses/{course_id}").status_code == 200


def test_a_server_that_is_down_or_refuses_loses_nothing(app, world, trainer, tmp_path):
    from tests.mailserver import free_port

    with_addresses(app, "hv1", "hv2")
    port = free_port()
    with smtp_server(tmp_path) as server:
        settings = server.settings()
    app.config.update({**settings, "SMTP_PORT": port})  # nobody listens there now
    assigned(app, world, trainer)
    down = run(app)
    assert (down["digests"], down["sent"], down["failed"]) == (2, 0, 2)
    with app.app_context():
        waiting = db.session.scalars(select(OutgoingMail)).all()
        assert [(m.status, m.attempts) for m in waiting] == [("pending", 1), ("pending", 1)]
        assert "ConnectionRefusedError" in waiting[0].last_error
    # In the app all the same.
    assert kinds_of(app, "hv1") == ["assigned"]
    # Not retried before its time; then the server is back but refuses the recipients.
    assert run(app)["failed"] == 0
    later = utcnow() + timedelta(minutes=6)
    with smtp_server(tmp_path, port) as server:
        app.config.update(server.settings())
        server.mailbox.refuse = True
        refused = run(app, later)
        assert (refused["sent"], refused["failed"]) == (0, 2)
        server.mailbox.refuse = False
        delivered = run(app, later + timedelta(minutes=11))
        assert (delivered["sent"], delivered["failed"]) == (2, 0)
        assert sorted(m["To"] for m in server.mailbox.messages) == [
            "hv1@hvhc.edu.vn", "hv2@hvhc.edu.vn"]
    with app.app_context():
        assert db.session.scalars(select(OutgoingMail.status)).all() == [
            MailStatus.SENT, MailStatus.SENT]
        assert db.session.scalars(select(OutgoingMail.attempts)).all() == [3, 3]


def test_a_bad_login_is_retried_like_any_failure(app, world, trainer, mail):
    with_addresses(app, "hv1")
    app.config["SMTP_PASSWORD"] = "sai"
    assigned(app, world, trainer)
    result = run(app)
    assert (result["sent"], result["failed"]) == (0, 1)
    with app.app_context():
        assert "SMTPAuthenticationError" in db.session.scalar(select(OutgoingMail.last_error))


def test_the_commander_gets_one_weekly_list_of_the_overdue_people(app, world, trainer, mail):
    admin = signed_in(app, "admin")
    with_addresses(app, "hv1", "hv2", "trainer2")
    page = f"/admin/units/{world.faculty}"
    saved = admin.post(f"{page}/commanders", {"commanders": "trainer2"}, page=page)
    assert "Commanders saved." in flashes(follow(admin, saved))
    unknown = admin.post(f"{page}/commanders", {"commanders": "nobody"}, page=page)
    assert "No active account is named nobody." in flashes(follow(admin, unknown))
    assigned(app, world, trainer, due_days=-3)
    # From Monday 07:00 in Hà Nội the week's digest is due (next week's Monday, when the
    # assignment is overdue whatever today is).
    local = datetime.now(HANOI) + timedelta(days=7)
    monday = (local - timedelta(days=local.weekday())).replace(hour=6, minute=0, second=0)
    assert run(app, monday.astimezone(ZoneInfo("UTC")))["commanders"] == 0
    monday = monday.replace(hour=8)
    result = run(app, monday.astimezone(ZoneInfo("UTC")))
    assert result["commanders"] == 1
    [message] = mail.mailbox.to("trainer2@hvhc.edu.vn")
    body = message.get_content()
    assert "Phạm Văn Một" in body
    assert "Phạm Văn Hai" in body
    assert "Học viện Hậu cần/Khoa Hậu cần/Lớp 1" in body
    again = run(app, monday.astimezone(ZoneInfo("UTC")) + timedelta(hours=5))
    assert again["commanders"] == 0
    assert len(mail.mailbox.to("trainer2@hvhc.edu.vn")) == 1
    assert kinds_of(app, "trainer2") == ["commander_overdue"]


def test_optional_messages_can_be_muted_and_mandatory_ones_cannot(app, world, trainer, mail):
    from lms.errors import ValidationError
    from lms.notify.services import set_muted

    with_addresses(app, "hv1")
    learner = signed_in(app, "hv1")
    settings = text(learner.client.get("/notifications/settings"))
    assert 'value="assigned" checked disabled' in settings
    # Untick "due soon": every other optional kind stays heard.
    optional = ["completed", "certificate_issued", "certificate_expiring", "quiz_regraded",
                "task_waiting", "published", "returned"]
    saved = learner.post("/notifications/settings", {"hear": optional},
                         page="/notifications/settings")
    assert "Your choices are saved." in flashes(follow(learner, saved))
    assigned(app, world, trainer, due_days=3)
    run(app)
    with app.app_context():
        rows = db.session.execute(select(Notification.kind, Notification.muted).where(
            Notification.user_id == user_id(app, "hv1")).order_by(Notification.id)).all()
        assert [tuple(r) for r in rows] == [("assigned", False), ("due_soon", True)]
        with pytest.raises(ValidationError):
            set_muted(db.session.get(User, user_id(app, "hv1")), ["overdue"])
    assert "is due on" not in text(learner.client.get("/notifications"))
    [message] = mail.mailbox.to("hv1@hvhc.edu.vn")
    assert message["Subject"] == "Học tập số: 1 tin mới"


def test_messages_follow_the_person_s_language(app, world, trainer, mail):
    with_addresses(app, "hv1")
    with app.app_context():
        db.session.execute(update(User).where(User.username == "hv1").values(locale="en"))
        db.session.commit()
    assigned(app, world, trainer)
    run(app)
    [message] = mail.mailbox.to("hv1@hvhc.edu.vn")
    assert message["Subject"] == "Digital learning: 1 new messages"
    assert "Kỹ năng số cơ bản is assigned to you." in message.get_content()


def test_completion_is_told_and_the_job_never_doubles_under_a_race(app, world, trainer):
    from tests.functional.test_certificates import complete_course

    course_id = assigned(app, world, trainer)
    complete_course(app, "hv1", course_id)
    run(app)
    assert kinds_of(app, "hv1") == ["completed"]  # assigned is not told once complete
    with app.app_context():
        # Two runs at the same moment: the unique key keeps one.
        enrolment = db.session.scalar(select(Enrolment).where(
            Enrolment.user_id == user_id(app, "hv1"), Enrolment.course_id == course_id))
        made = notify([enrolment.user_id], "completed", {"title": "x"}, None,
                      subject_id=enrolment.id, occurrence_at=enrolment.completed_at)
        db.session.commit()
        assert made == 0
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.kind == "completed")) == 1
