"""Certificates: the templates trainers design, and the certificates issued from them.

A certificate is frozen when it is issued: the PDF is a blob in the files storage named by its
SHA-256 (``blob_key``), and what the verify page shows (name, course, date) is copied into the
row. Revoking or expiry changes its status, never its document; a reissue is a new certificate
with a new code.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.db import TZDateTime, utcnow
from lms.extensions import db
from lms.labelled import LabelledEnum
from lms.training.models import Course, Track


class TemplateStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")  # being designed: previews only
    ACTIVE = "active", _l("Active")  # completions of its course or track are certified
    ARCHIVED = "archived", _l("Archived")  # no new certificates; those issued stay valid


class CertificateTemplate(db.Model):
    """The design of the certificates of one course or one track."""

    __tablename__ = "certificate_templates"
    __table_args__ = (
        CheckConstraint("(course_id IS NULL) <> (track_id IS NULL)", name="one_item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), unique=True)
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=TemplateStatus.DRAFT, index=True)
    title: Mapped[str] = mapped_column(String(200))
    # Text with placeholders ({name}, {course}...: lms.certificates.rendering.PLACEHOLDERS).
    body: Mapped[str] = mapped_column(Text)
    issuer: Mapped[str] = mapped_column(String(300))  # the issuing unit, as printed
    place: Mapped[str] = mapped_column(String(100), default="")  # "Hà Nội, ngày..."
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    signer_title: Mapped[str] = mapped_column(String(200), default="")
    # Images in the files storage (content-addressed keys), checked when uploaded.
    background_key: Mapped[str | None] = mapped_column(String(64))
    logo_key: Mapped[str | None] = mapped_column(String(64))
    # Certificates expire this many months after the completion (None: never).
    valid_months: Mapped[int | None] = mapped_column()
    # The course is assigned again this many days before a certificate expires, due on the
    # day it expires.
    renew_days_before: Mapped[int] = mapped_column(default=30)
    lock_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    course: Mapped[Course | None] = relationship()
    track: Mapped[Track | None] = relationship()

    @property
    def item(self) -> Course | Track:
        return self.course if self.course is not None else self.track  # type: ignore[return-value]

    @property
    def is_active(self) -> bool:
        return self.status == TemplateStatus.ACTIVE


class CertificateStatus(LabelledEnum):
    VALID = "valid", _l("Valid")
    EXPIRED = "expired", _l("Expired")
    REVOKED = "revoked", _l("Revoked")


class Certificate(db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        Index("ix_certificates_enrolment_completed", "enrolment_id", "completed_at"),
        Index("ix_certificates_template_issued", "template_id", "issued_at"),
        Index("ix_certificates_expiry", "revoked_at", "expires_at"),
        # Reports count certificates per unit from this index alone.
        Index("ix_certificates_report", "unit_id", "revoked_at", "course_id", "track_id",
              "issued_at", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The verification code: 100 random bits in Crockford's base32 (20 characters).
    code: Mapped[str] = mapped_column(String(20), unique=True)
    # One certificate per completion and issue: "<enrolment>:<completion>:<reissue number>".
    issue_key: Mapped[str] = mapped_column(String(80), unique=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("certificate_templates.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id"))
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="SET NULL"))
    # The person's unit when it was issued (reports count certificates per unit).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    completed_at: Mapped[datetime] = mapped_column(TZDateTime)
    issued_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    # What the certificate says, as it said it on the day it was issued.
    full_name: Mapped[str] = mapped_column(String(200))
    rank: Mapped[str] = mapped_column(String(120), default="")
    unit_path: Mapped[str] = mapped_column(String(1000), default="")
    item_title: Mapped[str] = mapped_column(String(300))
    hours: Mapped[float | None] = mapped_column()
    # The frozen PDF: its key in the files storage is its SHA-256.
    blob_key: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    # A reissue names the certificate it replaces.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    # When the course was assigned again for recertification (once per certificate).
    renewal_started_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    template: Mapped[CertificateTemplate] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def sha256(self) -> str:
        return self.blob_key

    def status(self, now: datetime) -> CertificateStatus:
        if self.revoked_at is not None:
            return CertificateStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return CertificateStatus.EXPIRED
        return CertificateStatus.VALID

    @property
    def display_code(self) -> str:
        """The code in groups of four, as printed: ``ABCD-EFGH-…``."""
        return "-".join(self.code[i:i + 4] for i in range(0, len(self.code), 4))


# The blobs certificates keep (``lms.files.records`` never collects them).
BLOB_COLUMNS = [Certificate.blob_key, CertificateTemplate.background_key,
                CertificateTemplate.logo_key]
