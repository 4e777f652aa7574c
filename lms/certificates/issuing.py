"""Issuing certificates: on completion, frozen, each with its own code; revoking and reissuing.

A completion of a course or track whose template is active is certified in the completing
transaction when it is one of a few (the learner downloads it at once); a larger batch (a
course recount, a template just activated) is left to the ``certificates.issue`` job, which
finds every completion still uncertified by an indexed query. Either way
``issue_key`` — person, item, completion, issue number — is unique, so a completion is
certified once however the two race.
"""

from __future__ import annotations

import calendar
import io
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from lms import audit
from lms.accounts.models import User
from lms.certificates.access import managed_templates
from lms.certificates.codes import new_code
from lms.certificates.designs import design_of, hours_text, item_hours
from lms.certificates.models import (
    Certificate,
    CertificateStatus,
    CertificateTemplate,
    TemplateStatus,
)
from lms.certificates.rendering import Design, Person, clean, render
from lms.db import utcnow
from lms.errors import Conflict, ValidationError
from lms.extensions import db
from lms.files.records import register_blob
from lms.files.stores import get_storage
from lms.localtime import local_date
from lms.notify import kinds
from lms.notify.services import notify
from lms.permissions import get_permitted, require
from lms.text import escape_like
from lms.training import events
from lms.training.models import Enrolment, EnrolmentStatus
from lms.uow import unit_of_work
from lms.web import absolute_url

STATUS_LABELS = CertificateStatus.labels()


def connect(app: Flask) -> None:
    """Certify completions as they happen (called by the app factory)."""
    events.connect(app, completed=_on_completed)


@dataclass(frozen=True)
class Completion:
    enrolment_id: int | None
    user_id: int
    course_id: int | None
    track_id: int | None
    completed_at: datetime


def uncertified() -> Select:
    """Completions of items with an active template and no certificate for that completion,
    with their template's id (an anti-join on the certificates' index)."""
    return (select(Enrolment.id, Enrolment.user_id, Enrolment.course_id, Enrolment.track_id,
                   Enrolment.completed_at, CertificateTemplate.id.label("template_id"))
            .join(CertificateTemplate, or_(
                and_(CertificateTemplate.course_id.is_not(None),
                     CertificateTemplate.course_id == Enrolment.course_id),
                and_(CertificateTemplate.track_id.is_not(None),
                     CertificateTemplate.track_id == Enrolment.track_id)))
            .where(CertificateTemplate.status == TemplateStatus.ACTIVE,
                   Enrolment.status == EnrolmentStatus.COMPLETED,
                   Enrolment.completed_at.is_not(None),
                   ~exists().where(Certificate.enrolment_id == Enrolment.id,
                                   Certificate.completed_at == Enrolment.completed_at)))


def _completion(row) -> Completion:
    return Completion(row.id, row.user_id, row.course_id, row.track_id, row.completed_at)


def _on_completed(enrolment_ids: Collection[int]) -> None:
    rows = db.session.execute(uncertified().where(
        Enrolment.id.in_(sorted(enrolment_ids)))).all()
    if not rows or len(rows) > current_app.config["CERTIFICATES_INLINE_MAX"]:
        return  # many at once: the job certifies them, a page of them per transaction
    issuer = Issuer()
    for row in rows:
        issuer.issue(_completion(row), db.session.get(CertificateTemplate, row.template_id))


def add_months(moment: datetime, months: int) -> datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    return moment.replace(year=year, month=month,
                          day=min(moment.day, calendar.monthrange(year, month)[1]))


def verify_url(code: str) -> str:
    return absolute_url(f"/verify/{code}")


class Issuer:
    """Issues certificates in the caller's transaction, reading each design once."""

    def __init__(self) -> None:
        self.designs: dict[int, Design] = {}

    def issue(self, completion: Completion, template: CertificateTemplate, *,
              number: int = 0, replaces: Certificate | None = None,
              now: datetime | None = None) -> Certificate | None:
        """Write the PDF, store it, record the certificate and tell its person. Returns None
        if this completion (and number) was certified meanwhile by someone else."""
        now = now or utcnow()
        user = db.session.get(User, completion.user_id)
        item = template.item
        if template.id not in self.designs:
            self.designs[template.id] = design_of(template)
        code = new_code()
        expires_at = (add_months(completion.completed_at, template.valid_months)
                      if template.valid_months else None)
        certificate = Certificate(
            code=code, template_id=template.id, user_id=user.id,
            course_id=completion.course_id, track_id=completion.track_id,
            enrolment_id=completion.enrolment_id, unit_id=user.unit_id,
            completed_at=completion.completed_at, issued_at=now, expires_at=expires_at,
            full_name=clean(user.display_name), rank=user.rank.label("vi") if user.rank else "",
            unit_path=user.unit.path if user.unit else "", item_title=item.title,
            hours=item_hours(item), replaces_id=replaces.id if replaces else None,
            issue_key=(f"{user.id}:{'c' if completion.course_id else 't'}"
                       f"{completion.course_id or completion.track_id}:"
                       f"{completion.completed_at.isoformat()}:{number}"))
        pdf = render(self.designs[template.id], Person(
            name=certificate.full_name, rank=certificate.rank, unit=certificate.unit_path,
            course=item.title, hours=hours_text(certificate.hours),
            day=local_date(completion.completed_at), code=certificate.display_code,
            expires=local_date(expires_at) if expires_at else None,
            verify_url=verify_url(code)))
        blob = get_storage().put(io.BytesIO(pdf))
        certificate.blob_key, certificate.size = blob.key, blob.size
        try:
            with db.session.begin_nested():
                register_blob(blob.key, blob.size)
                db.session.add(certificate)
                db.session.flush()
        except IntegrityError:
            return None  # certified meanwhile; the blob, unreferenced, goes with `files gc`
        notify([user.id], kinds.CERTIFICATE_ISSUED,
               {"title": item.title, "code": certificate.display_code}, "/learn#certificates",
               subject_id=certificate.id, occurrence_at=now)
        return certificate


def count_uncertified() -> int:
    return db.session.scalar(select(func.count()).select_from(uncertified().subquery())) or 0


def issue_pending(limit: int | None = None, progress=None) -> int:
    """Certify completions still uncertified, a page per transaction; returns how many."""
    issued = 0
    issuer = Issuer()
    total = count_uncertified()
    if limit is not None:
        total = min(total, limit)
    while issued < total:
        rows = db.session.execute(uncertified().order_by(Enrolment.id)
                                  .limit(min(50, total - issued))).all()
        if not rows:
            break
        with unit_of_work():
            for row in rows:
                issuer.issue(_completion(row), db.session.get(CertificateTemplate,
                                                              row.template_id))
        issued += len(rows)
        if progress is not None:
            progress(issued, total)
    return issued


# --- who sees which ------------------------------------------------------------------------

def certificates_of(user: User) -> list[Certificate]:
    """A person's certificates, newest first."""
    return list(db.session.scalars(select(Certificate).where(Certificate.user_id == user.id)
                                   .order_by(Certificate.issued_at.desc(),
                                             Certificate.id.desc())))


def get_certificate(actor: User, certificate_id: int) -> Certificate:
    """:raise NotFound: no such certificate, or not ``actor``'s to see."""
    return get_permitted(actor, "certificate.view", Certificate, certificate_id)


def issued_by(actor: User, *, status: str = "", query: str = "",
              now: datetime | None = None) -> Select:
    """Certificates issued from the templates ``actor`` manages, newest first."""
    now = now or utcnow()
    stmt = (select(Certificate).join(CertificateTemplate,
                                     CertificateTemplate.id == Certificate.template_id)
            .where(managed_templates(actor))
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc()))
    if status == CertificateStatus.REVOKED:
        stmt = stmt.where(Certificate.revoked_at.is_not(None))
    elif status == CertificateStatus.EXPIRED:
        stmt = stmt.where(Certificate.revoked_at.is_(None), Certificate.expires_at <= now)
    elif status == CertificateStatus.VALID:
        stmt = stmt.where(Certificate.revoked_at.is_(None),
                          or_(Certificate.expires_at.is_(None), Certificate.expires_at > now))
    if query:
        like = f"%{escape_like(query.lower())}%"
        stmt = stmt.where(or_(func.lower(Certificate.full_name).like(like, escape="\\"),
                              func.lower(Certificate.item_title).like(like, escape="\\"),
                              Certificate.code == query.replace("-", "").upper()))
    return stmt


def open_pdf(certificate: Certificate):
    """The frozen PDF, as a binary stream (the caller closes it)."""
    return get_storage().open(certificate.blob_key)


# --- revoking and reissuing ----------------------------------------------------------------

def revoke(actor: User, certificate: Certificate, reason: str) -> None:
    """Revoke with a reason (audited; the verify page shows the date, not the reason).

    :raise ValidationError: no reason given.
    :raise Conflict: revoked already.
    """
    require(actor, "certificate.revoke", certificate)
    reason = clean(reason or "").strip()[:1000]
    if not reason:
        raise ValidationError(_("Give the reason for revoking the certificate."))
    with unit_of_work():
        _revoke(actor, certificate, reason)


def _revoke(actor: User, certificate: Certificate, reason: str) -> None:
    claimed = db.session.execute(
        update(Certificate).where(Certificate.id == certificate.id,
                                  Certificate.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_by_id=actor.id, revoke_reason=reason)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise Conflict(_("This certificate is revoked already."))
    audit.record("certificate_revoke", actor=actor, obj=certificate,
                 details={"code": certificate.code, "person": certificate.user_id,
                          "reason": reason})


def reissue(actor: User, certificate: Certificate) -> Certificate:
    """A new certificate (new code, what the person's record says today) for the same
    completion; the old one is revoked if it was not already."""
    require(actor, "certificate.reissue", certificate)
    with unit_of_work():
        if certificate.revoked_at is None:
            _revoke(actor, certificate, _("Reissued"))
        number = db.session.scalar(select(func.count(Certificate.id)).where(
            Certificate.user_id == certificate.user_id,
            Certificate.course_id.is_(None) if certificate.course_id is None
            else Certificate.course_id == certificate.course_id,
            Certificate.track_id.is_(None) if certificate.track_id is None
            else Certificate.track_id == certificate.track_id,
            Certificate.completed_at == certificate.completed_at)) or 0
        new = Issuer().issue(Completion(certificate.enrolment_id, certificate.user_id,
                                        certificate.course_id, certificate.track_id,
                                        certificate.completed_at),
                             certificate.template, number=number, replaces=certificate)
        if new is None:
            raise Conflict(_("This certificate was reissued meanwhile."))
        audit.record("certificate_reissue", actor=actor, obj=new,
                     details={"code": new.code, "replaces": certificate.code})
    return new
