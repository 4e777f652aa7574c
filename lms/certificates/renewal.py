"""Expiry: people are told before a certificate expires, and its course or track is assigned
to them again (recertification) ``renew_days_before`` days before, due on the day it expires.

Both are found by indexed queries and happen once per certificate: the notice has its event
key, the renewal its ``renewal_started_at``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from lms.certificates.models import Certificate, CertificateTemplate
from lms.db import utcnow
from lms.extensions import db
from lms.notify import kinds
from lms.notify.reminders import iso, not_told
from lms.notify.services import Event, notify, record_events
from lms.training.assignments import restart_enrolments
from lms.training.models import Enrolment

PAGE = 500


def tell_expiring(now: datetime | None = None) -> int:
    """Tell the people whose valid certificates expire within
    ``NOTIFY_CERTIFICATE_EXPIRY_DAYS`` (once per certificate and expiry)."""
    now = now or utcnow()
    horizon = now + timedelta(days=int(current_app.config["NOTIFY_CERTIFICATE_EXPIRY_DAYS"]))
    stmt = (select(Certificate.id, Certificate.user_id, Certificate.item_title,
                   Certificate.expires_at)
            .where(Certificate.revoked_at.is_(None), Certificate.expires_at > now,
                   Certificate.expires_at <= horizon,
                   not_told(kinds.CERTIFICATE_EXPIRING, Certificate.user_id, Certificate.id,
                            Certificate.expires_at))
            .order_by(Certificate.id))
    told = 0
    last = 0
    while rows := db.session.execute(stmt.where(Certificate.id > last).limit(PAGE)).all():
        told += record_events([Event(r.user_id, kinds.CERTIFICATE_EXPIRING,
                                     {"title": r.item_title, "date": iso(r.expires_at)},
                                     "/learn#certificates", r.id, r.expires_at)
                               for r in rows], now)
        db.session.commit()
        last = rows[-1].id
    return told


def start_renewals(now: datetime | None = None) -> int:
    """Assign again the courses and tracks of certificates entering their renewal window
    (or expired without one); returns how many were started."""
    now = now or utcnow()
    widest = db.session.scalar(select(func.max(CertificateTemplate.renew_days_before))) or 0
    stmt = (select(Certificate.id, Certificate.user_id, Certificate.enrolment_id,
                   Certificate.expires_at, Certificate.item_title,
                   CertificateTemplate.renew_days_before)
            .join(CertificateTemplate, CertificateTemplate.id == Certificate.template_id)
            .join(Enrolment, Enrolment.id == Certificate.enrolment_id)
            # Only the certificate of the enrolment's latest completion is renewed.
            .where(Certificate.revoked_at.is_(None), Certificate.renewal_started_at.is_(None),
                   Certificate.expires_at.is_not(None),
                   Certificate.expires_at <= now + timedelta(days=widest),
                   Enrolment.completed_at == Certificate.completed_at)
            .order_by(Certificate.id))
    started = 0
    last = 0
    while rows := db.session.execute(stmt.where(Certificate.id > last).limit(PAGE)).all():
        last = rows[-1].id
        due = [r for r in rows if r.expires_at - timedelta(days=r.renew_days_before) <= now]
        for row in due:
            claimed = db.session.execute(
                update(Certificate).where(Certificate.id == row.id,
                                          Certificate.renewal_started_at.is_(None))
                .values(renewal_started_at=now)
                .execution_options(synchronize_session=False)).rowcount
            if claimed != 1:
                continue
            restart_enrolments([row.enrolment_id], row.expires_at, now)
            notify([row.user_id], kinds.RECERTIFICATION,
                   {"title": row.item_title, "date": iso(row.expires_at)},
                   "/learn", subject_id=row.id, occurrence_at=row.expires_at)
            started += 1
        db.session.commit()
    return started
