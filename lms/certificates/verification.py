"""The public check of a certificate: by its code, without logging in, showing its person's
name, the course or track, the date and the status — nothing else.

Codes carry 100 random bits, and each client address may get only ``VERIFY_MAX_FAILURES``
unknown or malformed codes per ``VERIFY_WINDOW_SECONDS`` (counters shared by every process,
``lms.throttle``) before it is refused with 429, even for a code that exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from lms import audit
from lms.certificates.codes import normalise
from lms.certificates.models import Certificate, CertificateStatus
from lms.db import utcnow
from lms.errors import NotFound, TooManyAttempts
from lms.extensions import db
from lms.localtime import local_date
from lms.throttle import counter_store


@dataclass(frozen=True)
class Verification:
    code: str  # as printed
    name: str
    title: str
    day: date  # of the completion, as printed on the certificate
    status: CertificateStatus
    status_day: date | None  # when it was revoked or expired


def verify(text: str, client: str, now: datetime | None = None) -> Verification:
    """What the certificate with code ``text`` states, and whether it holds.

    :raise TooManyAttempts: this client guessed too many codes lately.
    :raise NotFound: no certificate has this code (or it cannot be a code).
    """
    now = now or utcnow()
    config = current_app.config
    store = counter_store(timedelta(seconds=int(config["VERIFY_WINDOW_SECONDS"])))
    key = f"verify:{client}"
    limit = int(config["VERIFY_MAX_FAILURES"])
    if store.count(key) >= limit:
        raise TooManyAttempts()
    code = normalise(text)
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == code)) \
        if code else None
    if certificate is None:
        if store.hit(key) == limit:
            audit.record("verify_throttled", outcome="denied", details={"client": client},
                         standalone=True)
        raise NotFound(_("No certificate has this code. Check it against the certificate."))
    status = certificate.status(now)
    status_day = (local_date(certificate.revoked_at) if status == CertificateStatus.REVOKED
                  else local_date(certificate.expires_at)
                  if status == CertificateStatus.EXPIRED else None)
    return Verification(certificate.display_code, certificate.full_name,
                        certificate.item_title, local_date(certificate.completed_at), status,
                        status_day)
