"""E-mail digests: everything pending for a person in one message a day at most, and the
commanders' weekly list of the overdue people of their units.

A digest is written (rendered in the person's language) into ``outgoing_mail``, whose unique
``(person, kind, period)`` keeps it to one per day or week even if two runs race; the
notifications it carries point at it. ``lms.notify.mail`` sends it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, time
from types import SimpleNamespace

from flask import current_app, get_template_attribute, render_template
from flask_babel import force_locale, get_timezone
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, select, text, update

from lms.accounts.models import User, unit_commanders
from lms.db import chunked, insert_rows_returning
from lms.extensions import db
from lms.localtime import local_now
from lms.notify import kinds
from lms.notify.models import EmailStatus, Notification, OutgoingMail
from lms.notify.services import mail_configured, notify
from lms.web import absolute_url

DAILY = "daily"
COMMANDER_WEEKLY = "commander_weekly"
CHUNK = 500
# The commander's e-mail lists at most this many people; the report has them all.
COMMANDER_LIST_MAX = 300


def link(path: str | None) -> str | None:
    """``path`` as an absolute URL for an e-mail; None when the site's address is unknown
    (``LMS_PUBLIC_BASE_URL`` unset outside a request): the e-mail goes without links."""
    if not path:
        return None
    try:
        return absolute_url(path)
    except RuntimeError:
        return None


def language_of(user: User) -> str:
    return user.locale if user.locale in ("vi", "en") else "vi"


def _insert_mail(rows: list[dict]) -> dict[int, int]:
    """Insert mails, skipping a (person, kind, period) that exists; person → new mail id."""
    return dict(insert_rows_returning(db.session, OutgoingMail, rows, ("user_id", "id"),
                                      ignore_conflicts_on=("user_id", "kind", "period")))


def _queue_for_mail(last_seen: dict[int, int], made: dict[int, int]) -> None:
    """Each person's pending notifications up to the last one their new mail carries now
    point at it (those that came after it wait for the next digest)."""
    people = sorted(made)
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement for the chunk (an executemany would send one per person).
        db.session.execute(text(
            "UPDATE notifications SET email_status = :queued, digest_id = mail.id "
            "FROM unnest(CAST(:people AS INTEGER[]), CAST(:lasts AS INTEGER[]), "
            "CAST(:mails AS INTEGER[])) AS mail(person, last, id) "
            "WHERE notifications.user_id = mail.person AND notifications.id <= mail.last "
            "AND notifications.email_status = :pending"),
            {"queued": EmailStatus.QUEUED, "pending": EmailStatus.PENDING, "people": people,
             "lasts": [last_seen[p] for p in people], "mails": [made[p] for p in people]})
        return
    table = Notification.__table__
    db.session.connection().execute(
        table.update().where(and_(table.c.user_id == bindparam("person"),
                                  table.c.id <= bindparam("last"),
                                  table.c.email_status == EmailStatus.PENDING))
        .values(email_status=EmailStatus.QUEUED, digest_id=bindparam("mail")),
        [{"person": p, "last": last_seen[p], "mail": made[p]} for p in people])


# The parameters the texts print through the ``iso_date`` filter (lms.notify.views).
DAY_PARAMS = ("due", "date")


class LineRenderer:
    """The text of a notification in one language, made once per distinct message: lines
    that print the same words share one rendering (a catch-up run tells thousands of due
    dates and completions that fall on a few days)."""

    def __init__(self) -> None:
        self.macro = get_template_attribute("notify/_text.txt", "notification_text")
        self.zone = get_timezone()
        self.cache: dict[tuple, str] = {}
        self.links: dict[str | None, str | None] = {}

    def _key(self, language: str, kind: str, params: dict) -> tuple:
        """What the text depends on: each date-time it prints as a day (``DAY_PARAMS``)
        counts by its local day only."""
        printed = []
        for name, value in params.items():
            # One that does not parse prints as nothing: it stays as it is, a key of its own.
            if name in DAY_PARAMS and isinstance(value, str) and value:
                with suppress(ValueError):
                    value = datetime.fromisoformat(value).astimezone(self.zone).date()
            printed.append((name, str(value)))
        return (language, kind, *sorted(printed))

    def __call__(self, language: str, kind: str, params: dict) -> str:
        key = self._key(language, kind, params)
        if key not in self.cache:
            with force_locale(language):
                self.cache[key] = str(self.macro(SimpleNamespace(kind=kind, params=params)))
        return self.cache[key]

    def link(self, path: str | None) -> str | None:
        if path not in self.links:
            self.links[path] = link(path)
        return self.links[path]


@dataclass
class Line:
    text: str
    url: str | None


def build_daily_digests(now: datetime) -> int:
    """One digest for each person with pending notifications and none sent today (local
    day); returns how many were written."""
    if not mail_configured():
        return 0
    day = local_now(now).date().isoformat()
    people = sorted(set(db.session.scalars(select(Notification.user_id).where(
        Notification.email_status == EmailStatus.PENDING))) - set(db.session.scalars(
            select(OutgoingMail.user_id).where(OutgoingMail.kind == DAILY,
                                               OutgoingMail.period == day))))
    render = LineRenderer()
    settings_url = link("/notifications/settings")
    written = 0
    for chunk in chunked(people, CHUNK):
        users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(chunk)))}
        pending: dict[int, list[Notification]] = defaultdict(list)
        for row in db.session.execute(
                select(Notification.id, Notification.user_id, Notification.kind,
                       Notification.params, Notification.link)
                .where(Notification.user_id.in_(chunk),
                       Notification.email_status == EmailStatus.PENDING)
                .order_by(Notification.id)):
            pending[row.user_id].append(row)
        mails, last_seen = [], {}
        for user_id, rows in pending.items():
            user = users[user_id]
            if not user.email:
                continue
            language = language_of(user)
            lines = [Line(render(language, r.kind, r.params), render.link(r.link))
                     for r in rows]
            with force_locale(language):
                subject = _("Digital learning: %(n)d new messages", n=len(lines))
                body = render_template("notify/mail/digest.txt", name=user.display_name,
                                       lines=lines, settings_url=settings_url)
            mails.append({"user_id": user_id, "kind": DAILY, "period": day,
                          "to_address": user.email, "subject": subject, "body": body,
                          "language": language, "status": "pending", "attempts": 0,
                          "next_attempt_at": now, "last_error": "", "created_at": now})
            last_seen[user_id] = rows[-1].id
        made = _insert_mail(mails)
        if made:
            _queue_for_mail(last_seen, made)
        db.session.commit()
        written += len(made)
    return written


# --- commanders ----------------------------------------------------------------------------

def week_of(now: datetime) -> tuple[str, datetime]:
    """The local ISO week (``2026-W03``) and the moment its digest is due (Monday, at
    ``NOTIFY_COMMANDER_HOUR`` local time), in UTC."""
    local = local_now(now)
    year, week, _weekday = local.isocalendar()
    monday = date.fromisocalendar(year, week, 1)
    due = datetime.combine(monday, time(int(current_app.config["NOTIFY_COMMANDER_HOUR"])),
                           local.tzinfo)
    return f"{year}-W{week:02d}", due.astimezone(now.tzinfo)


@dataclass
class OverdueLine:
    unit_path: str
    name: str
    title: str
    due_at: datetime


def overdue_in(unit_ids: Sequence[int], now: datetime, limit: int) -> tuple[int, list]:
    """How many required enrolments are overdue in ``unit_ids``, and the first ``limit``
    (unit, person, item, due date), by unit and name."""
    from sqlalchemy import func

    from lms.training.models import Course, Enrolment, EnrolmentStatus, Track

    overdue = and_(Enrolment.unit_id.in_(list(unit_ids)), Enrolment.required.is_(True),
                   Enrolment.due_at < now, Enrolment.status != EnrolmentStatus.COMPLETED)
    total = db.session.scalar(select(func.count(Enrolment.id)).where(overdue)) or 0
    rows = db.session.execute(
        select(Enrolment.unit_id, User.full_name, User.username,
               func.coalesce(Course.title, Track.title), Enrolment.due_at)
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(Course, Course.id == Enrolment.course_id)
        .outerjoin(Track, Track.id == Enrolment.track_id)
        .where(overdue).order_by(Enrolment.unit_id, User.full_name, User.id)
        .limit(limit)).all()
    return total, rows


def build_commander_digests(now: datetime) -> int:
    """Each commander's weekly list of overdue people in their units (with sub-units): one
    in-app message and one e-mail a week, from Monday morning; a week with nobody overdue
    sends nothing. Returns how many commanders were told."""
    from lms.accounts.models import Unit
    from lms.accounts.services import subtree_ids

    period, due = week_of(now)
    if now < due:
        return 0
    commanders: dict[int, list[int]] = defaultdict(list)
    for user_id, unit_id in db.session.execute(select(unit_commanders.c.user_id,
                                                      unit_commanders.c.unit_id)):
        commanders[user_id].append(unit_id)
    paths = {u.id: u.path for u in db.session.scalars(select(Unit))}
    told = 0
    for user_id, unit_ids in sorted(commanders.items()):
        user = db.session.get(User, user_id)
        if user is None or not user.active:
            continue
        units = sorted(subtree_ids(*unit_ids))
        total, rows = overdue_in(units, now, COMMANDER_LIST_MAX)
        if not total:
            continue
        names = ", ".join(sorted(paths[u] for u in unit_ids))
        report = f"/reports/people?unit={min(unit_ids)}&status=overdue"
        new = notify([user_id], kinds.COMMANDER_OVERDUE, {"count": total, "units": names},
                     report, subject_id=user_id, occurrence_at=due)
        if new and mail_configured() and user.email:
            language = language_of(user)
            lines = [OverdueLine(paths.get(r[0], ""), r[1] or r[2], r[3], r[4]) for r in rows]
            with force_locale(language):
                subject = _("Overdue training in %(units)s: %(n)d", units=names, n=total)
                body = render_template("notify/mail/commander.txt", name=user.display_name,
                                       units=names, total=total, lines=lines,
                                       report_url=link(report))
            _insert_mail([{"user_id": user_id, "kind": COMMANDER_WEEKLY, "period": period,
                           "to_address": user.email, "subject": subject, "body": body,
                           "language": language, "status": "pending", "attempts": 0,
                           "next_attempt_at": now, "last_error": "", "created_at": now}])
            # The in-app twin is told by this mail: it needs no daily digest of its own.
            db.session.execute(update(Notification).where(
                Notification.user_id == user_id, Notification.kind == kinds.COMMANDER_OVERDUE,
                Notification.occurrence_at == due).values(email_status=EmailStatus.NONE))
        db.session.commit()
        told += bool(new)
    return told
