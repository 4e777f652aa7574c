"""Sending the outgoing mail over SMTP: STARTTLS and login when configured, retries with
growing delays when the server refuses or is down; a message leaves the table only as sent.

Settings: ``SMTP_HOST`` (unset: no e-mail at all), ``SMTP_PORT``, ``SMTP_STARTTLS``,
``SMTP_USERNAME`` and ``SMTP_PASSWORD``, ``SMTP_FROM``, ``SMTP_TIMEOUT_SECONDS``, and
``SMTP_CA_FILE`` (the intranet's own certificate authority, to verify the server by).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app
from sqlalchemy import select, update

from lms.db import utcnow
from lms.extensions import db
from lms.notify.models import MailStatus, OutgoingMail

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = timedelta(hours=6)


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0


def open_connection() -> smtplib.SMTP:
    """A logged-in connection to the configured server.

    :raise OSError: the server cannot be reached.
    :raise smtplib.SMTPException: it refused STARTTLS or the login.
    """
    config = current_app.config
    connection = smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]),
                              timeout=float(config["SMTP_TIMEOUT_SECONDS"]))
    try:
        connection.ehlo()
        if config["SMTP_STARTTLS"]:
            context = ssl.create_default_context(cafile=config.get("SMTP_CA_FILE") or None)
            connection.starttls(context=context)
            connection.ehlo()
        if config.get("SMTP_USERNAME"):
            connection.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
    except BaseException:
        connection.close()
        raise
    return connection


def message_of(mail: OutgoingMail) -> EmailMessage:
    sender = current_app.config["SMTP_FROM"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = make_msgid(idstring=f"lms-{mail.id}",
                                       domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = mail.language
    message.set_content(mail.body)
    return message


def retry_delay(attempts: int) -> timedelta:
    base = timedelta(minutes=float(current_app.config["NOTIFY_MAIL_RETRY_MINUTES"]))
    return min(base * 2 ** max(attempts - 1, 0), MAX_RETRY_DELAY)


def _failed(mail_ids: list[int], error: str, now: datetime) -> None:
    for mail_id in mail_ids:
        mail = db.session.get(OutgoingMail, mail_id)
        mail.attempts += 1
        mail.last_error = error[:1000]
        mail.next_attempt_at = now + retry_delay(mail.attempts)
    db.session.commit()


def deliver_due(now: datetime | None = None, limit: int = 1000) -> Delivery:
    """Send the mail whose time has come, over one connection. Each message is marked sent
    (and committed) as soon as the server accepted it; a refused one waits for its retry; a
    server that is down leaves them all for the next run."""
    now = now or utcnow()
    result = Delivery()
    if not current_app.config.get("SMTP_HOST"):
        return result
    due = list(db.session.scalars(select(OutgoingMail.id).where(
        OutgoingMail.status == MailStatus.PENDING, OutgoingMail.next_attempt_at <= now)
        .order_by(OutgoingMail.id).limit(limit)))
    if not due:
        return result
    try:
        connection = open_connection()
    # UnicodeError: smtplib logs in with ASCII only (a password with Vietnamese letters).
    except (OSError, smtplib.SMTPException, UnicodeError) as error:
        log.warning("mail: cannot reach the SMTP server: %s", error)
        _failed(due, f"{type(error).__name__}: {error}", now)
        result.failed = len(due)
        return result
    try:
        for position, mail_id in enumerate(due):
            mail = db.session.get(OutgoingMail, mail_id)
            try:
                connection.send_message(message_of(mail))
            except smtplib.SMTPServerDisconnected as error:
                rest = due[position:]
                _failed(rest, f"{type(error).__name__}: {error}", now)
                result.failed += len(rest)
                return result
            except (smtplib.SMTPException, OSError) as error:
                _failed([mail_id], f"{type(error).__name__}: {error}", now)
                result.failed += 1
                continue
            db.session.execute(update(OutgoingMail).where(OutgoingMail.id == mail_id)
                               .values(status=MailStatus.SENT, sent_at=utcnow(),
                                       attempts=OutgoingMail.attempts + 1, last_error=""))
            db.session.commit()
            result.sent += 1
    finally:
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()
    return result
