"""Certificate templates (designs): made for a course or a track by whoever may edit it,
changed with a lock version, previewed as PDF and PNG with sample values, activated.

Images (a background, a logo) are PNG or JPEG up to ``CERTIFICATE_IMAGE_MAX_BYTES``, checked
by decoding them (Pillow) before they are stored as blobs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy import Select, exists, select

from lms import audit
from lms.accounts.models import User
from lms.certificates.access import managed_templates
from lms.certificates.models import CertificateTemplate, TemplateStatus
from lms.certificates.rendering import Design, Person, check_placeholders, clean, render
from lms.db import utcnow
from lms.errors import Conflict, ValidationError
from lms.extensions import db
from lms.files.records import register_blob
from lms.files.stores import get_storage
from lms.permissions import get_permitted, require
from lms.training.models import Course, Track
from lms.uow import locked_change, unit_of_work

STATUS_LABELS = TemplateStatus.labels()

DEFAULT_TITLE = "Giấy chứng nhận"
DEFAULT_BODY = ("Chứng nhận đồng chí\n{name}\nCấp bậc: {rank} – Đơn vị: {unit}\n"
                "đã hoàn thành {course}\n(thời lượng {hours} giờ)")
MAX_VALID_MONTHS = 120
MAX_RENEW_DAYS = 365
IMAGE_FORMATS = {"PNG", "JPEG"}
MAX_IMAGE_PIXELS = 40_000_000


@dataclass(kw_only=True)
class TemplateInput(Design):
    """What an editor submits: the design (whose ``background`` and ``logo`` are new images,
    if any were uploaded), and the template's name, validity and images to remove."""

    name: str
    valid_months: int | None = None
    renew_days_before: int = 30
    remove_background: bool = False
    remove_logo: bool = False


def _stale() -> str:
    return _("This template was changed since you opened it. Reload it, then make your "
             "change again.")


def _check(data: TemplateInput) -> None:
    if not clean(data.name).strip():
        raise ValidationError(_("Give the template a name."))
    if not clean(data.title).strip():
        raise ValidationError(_("Give the certificate a title."))
    if not clean(data.body).strip():
        raise ValidationError(_("Write the certificate's text."))
    if not clean(data.issuer).strip():
        raise ValidationError(_("Name the issuing unit."))
    check_placeholders(data.body)
    if data.valid_months is not None and not 1 <= data.valid_months <= MAX_VALID_MONTHS:
        raise ValidationError(_("Validity is from 1 to %(n)d months, or empty for no expiry.",
                                n=MAX_VALID_MONTHS))
    if not 0 <= data.renew_days_before <= MAX_RENEW_DAYS:
        raise ValidationError(_("Renewal starts from 0 to %(n)d days before expiry.",
                                n=MAX_RENEW_DAYS))


def store_image(data: bytes) -> str:
    """Check that ``data`` is a PNG or JPEG image of sensible size; store it; its key.

    :raise ValidationError: anything else (with what was wrong).
    """
    if len(data) > current_app.config["CERTIFICATE_IMAGE_MAX_BYTES"]:
        raise ValidationError(_("The image is larger than %(n)d MB.",
                                n=current_app.config["CERTIFICATE_IMAGE_MAX_BYTES"] // 2**20))
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in IMAGE_FORMATS:
                raise ValidationError(_("Images must be PNG or JPEG."))
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ValidationError(_("The image has too many pixels."))
            image.verify()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise ValidationError(_("The file is not a readable PNG or JPEG image.")) from None
    blob = get_storage().put(io.BytesIO(data))
    register_blob(blob.key, blob.size)
    return blob.key


def _apply(template: CertificateTemplate, data: TemplateInput) -> None:
    template.name = clean(data.name).strip()[:200]
    template.title = clean(data.title).strip()[:200]
    template.body = clean(data.body).strip()
    template.issuer = clean(data.issuer).strip()[:300]
    template.place = clean(data.place).strip()[:100]
    template.signer_name = clean(data.signer_name).strip()[:200]
    template.signer_title = clean(data.signer_title).strip()[:200]
    template.valid_months = data.valid_months
    template.renew_days_before = data.renew_days_before
    if data.remove_background:
        template.background_key = None
    if data.remove_logo:
        template.logo_key = None
    if data.background:
        template.background_key = store_image(data.background)
    if data.logo:
        template.logo_key = store_image(data.logo)
    template.updated_at = utcnow()


def template_of(item: Course | Track) -> CertificateTemplate | None:
    column = (CertificateTemplate.course_id if isinstance(item, Course)
              else CertificateTemplate.track_id)
    return db.session.scalar(select(CertificateTemplate).where(column == item.id))


def create_template(actor: User, item: Course | Track, data: TemplateInput
                    ) -> CertificateTemplate:
    """A draft template for ``item``.

    :raise PermissionDenied: ``actor`` may not edit the item.
    :raise Conflict: the item has a template already.
    :raise ValidationError: a missing text, an unknown placeholder, a bad image.
    """
    require(actor, "certificate_template.create", item)
    _check(data)
    if template_of(item) is not None:
        raise Conflict(_("%(title)s has a certificate template already.", title=item.title))
    with unit_of_work():
        template = CertificateTemplate(
            course_id=item.id if isinstance(item, Course) else None,
            track_id=item.id if isinstance(item, Track) else None,
            status=TemplateStatus.DRAFT, created_by_id=actor.id, name="", title="", body="",
            issuer="")
        _apply(template, data)
        audit.record_new("certificate_template_create", actor=actor, obj=template,
                         details={"course": template.course_id, "track": template.track_id})
    return template


def update_template(actor: User, template: CertificateTemplate, data: TemplateInput,
                    lock_version: int) -> None:
    """Change the design; certificates issued before keep theirs (they are frozen)."""
    require(actor, "certificate_template.manage", template)
    _check(data)
    with locked_change(template, lock_version, _stale()):
        db.session.refresh(template)
        _apply(template, data)
        audit.record("certificate_template_update", actor=actor, obj=template)


def set_status(actor: User, template: CertificateTemplate, status: str,
               lock_version: int) -> None:
    """Activate (completions from now on, and those not certified yet, get certificates),
    archive or return to draft."""
    require(actor, "certificate_template.manage", template)
    if status not in set(TemplateStatus):
        raise ValidationError(_("Unknown status."))
    with locked_change(template, lock_version, _stale()):
        db.session.refresh(template)
        before = template.status
        template.status = status
        template.updated_at = utcnow()
        audit.record("certificate_template_status", actor=actor, obj=template,
                     details={"from": before, "to": status})


def get_template(actor: User, template_id: int) -> CertificateTemplate:
    return get_permitted(actor, "certificate_template.manage", CertificateTemplate, template_id)


def visible_templates(actor: User) -> Select:
    return select(CertificateTemplate).where(managed_templates(actor)).order_by(
        CertificateTemplate.name, CertificateTemplate.id)


def images_of(template: CertificateTemplate) -> tuple[bytes | None, bytes | None]:
    storage = get_storage()

    def read(key: str | None) -> bytes | None:
        if key is None:
            return None
        with storage.open(key) as stream:
            return stream.read()

    return read(template.background_key), read(template.logo_key)


def design_of(template: CertificateTemplate) -> Design:
    background, logo = images_of(template)
    return Design(title=template.title, body=template.body, issuer=template.issuer,
                  place=template.place, signer_name=template.signer_name,
                  signer_title=template.signer_title, background=background, logo=logo)


def preview(template: CertificateTemplate, verify_url: str) -> bytes:
    """A sample certificate of the template (marked as a sample), as PDF."""
    item = template.item
    today = date.today()
    expires = (date(today.year + (today.month - 1 + template.valid_months) // 12,
                    (today.month - 1 + template.valid_months) % 12 + 1, min(today.day, 28))
               if template.valid_months else None)
    sample = Person(name="Nguyễn Văn An", rank="Thượng úy",
                    unit="Học viện Hậu cần/Tiểu đoàn 1/Đại đội 2", course=item.title,
                    hours=hours_text(item_hours(item)), day=today,
                    code="MAU0-MAU0-MAU0-MAU0-MAU0", expires=expires, verify_url=verify_url)
    return render(design_of(template), sample, sample=True)


def item_hours(item: Course | Track) -> float | None:
    if isinstance(item, Course):
        return item.estimated_hours
    hours = [entry.course.estimated_hours for entry in item.items if entry.required]
    return sum(h for h in hours if h) or None


def hours_text(hours: float | None) -> str:
    if not hours:
        return "—"
    return f"{hours:g}".replace(".", ",")


def items_without_template(actor: User) -> Sequence[tuple[str, Course | Track]]:
    """Courses and tracks ``actor`` edits that have no template yet, as ``("course",
    course)`` or ``("track", track)`` (for the "new" form)."""
    from lms.training.courses import editable_courses, editable_tracks

    courses = db.session.scalars(editable_courses(actor).where(~exists().where(
        CertificateTemplate.course_id == Course.id))).all()
    tracks = db.session.scalars(editable_tracks(actor).where(~exists().where(
        CertificateTemplate.track_id == Track.id))).all()
    return [("course", c) for c in courses] + [("track", t) for t in tracks]
