"""Certificates over HTTP: a template designed and previewed by the trainer, a certificate issued
on completion, downloaded by its learner, its QR code read from the PDF's picture, verified
without logging in; revoked, reissued, expired; guessing codes; who sees what."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select, update

from lms.certificates.models import Certificate, CertificateTemplate
from lms.db import utcnow
from lms.extensions import db
from lms.files.stores import get_storage
from lms.models import AuditEvent
from lms.notify.models import Notification
from lms.training.models import Enrolment, LessonProgress
from tests.functional.test_training_learning import class_audience, course_with_lessons, lesson_ids
from tests.training_world import assign, flashes, follow, signed_in, text

pytestmark = pytest.mark.functional


@pytest.fixture(autouse=True)
def _closing_clients(app):
    """Every client reads and closes its responses (certificates are file responses)."""
    from tests.conftest import ClosingClient

    app.test_client_class = ClosingClient

TEMPLATE = {
    "name": "Chứng nhận kỹ năng số", "title": "Giấy chứng nhận",
    "body": "Chứng nhận đồng chí\n{name}\nđã hoàn thành {course} ({hours} giờ)",
    "issuer": "Bộ Quốc phòng\nHọc viện Hậu cần", "place": "Hà Nội",
    "signer_title": "Giám đốc", "signer_name": "Thiếu tướng Nguyễn Văn Bình",
    "valid_months": "", "renew_days_before": "30",
}


def design_template(trainer, course_id: int, *, activate: bool = True, **changes) -> int:
    page = f"/train/certificates/templates/new?item=course:{course_id}"
    response = trainer.post(page, {**TEMPLATE, **changes}, page=page,
                            content_type="multipart/form-data")
    assert response.status_code == 302, text(response)[:3000]
    template_id = int(re.search(r"/templates/(\d+)", response.headers["Location"]).group(1))
    if activate:
        edit = f"/train/certificates/templates/{template_id}"
        lock = re.search(r'name="lock_version" value="(\d+)"',
                         trainer.client.get(edit).get_data(as_text=True)).group(1)
        done = trainer.post(f"{edit}/status", {"status": "active", "lock_version": lock},
                            page=edit)
        assert done.status_code == 302
    return template_id


def complete_course(app, username: str, course_id: int):
    """The learner opens every lesson and marks the page read; returns their browser."""
    learner = signed_in(app, username)
    *materials, page_lesson = lesson_ids(app, course_id)
    for lesson in materials:
        assert learner.client.get(f"/courses/{course_id}/lessons/{lesson}").status_code == 200
    url = f"/courses/{course_id}/lessons/{page_lesson}"
    learner.client.get(url)
    done = learner.post(f"{url}/done", page=url)
    assert done.status_code == 302
    return learner


def certificate_of(app, username: str) -> Certificate:
    from tests.training_world import user_id

    with app.app_context():
        found = db.session.scalar(select(Certificate).where(
            Certificate.user_id == user_id(app, username)).order_by(Certificate.id.desc()))
        db.session.expunge(found)
        return found


def qr_url(pdf: bytes) -> str:
    """The URL the PDF's QR code carries, read from the rendered page (zxing-cpp)."""
    document = pdfium.PdfDocument(pdf)
    image: Image.Image = document[0].render(scale=3).to_pil()
    document.close()
    [found] = zxingcpp.read_barcodes(image)
    return found.text


def assigned_course(app, world, trainer) -> int:
    course_id = course_with_lessons(trainer, world, sequential=False)
    assign(trainer, course_id, [class_audience(trainer, world)])
    return course_id


def test_a_completed_course_gets_a_certificate_whose_qr_code_verifies(app, world, trainer):
    course_id = assigned_course(app, world, trainer)
    design_template(trainer, course_id)
    learner = complete_course(app, "hv1", course_id)

    dashboard = text(learner.client.get("/learn"))
    assert "My certificates" in dashboard
    link = re.search(r'href="(/certificates/\d+\.pdf)"', dashboard).group(1)
    download = learner.client.get(link)
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Cache-Control"] == "private, no-store"
    pdf = download.get_data()
    certificate = certificate_of(app, "hv1")
    # Frozen as a blob named by its SHA-256.
    assert hashlib.sha256(pdf).hexdigest() == certificate.blob_key
    url = qr_url(pdf)
    assert url == f"http://localhost/verify/{certificate.code}"

    anonymous = app.test_client()
    page = anonymous.get(urlsplit(url).path)
    assert page.status_code == 200
    body = text(page)
    assert '<p class="verdict valid">' in body
    assert "Phạm Văn Một" in body
    assert "Kỹ năng số cơ bản" in body
    # Nothing else about the person: no unit, rank or username.
    assert "Lớp 1" not in body
    assert "hv1" not in body
    with app.app_context():
        told = db.session.scalars(select(Notification.kind).where(
            Notification.user_id == certificate.user_id)).all()
    assert "certificate_issued" in told


def test_the_trainer_revokes_and_the_old_link_still_serves_the_pdf(app, world, trainer):
    course_id = assigned_course(app, world, trainer)
    design_template(trainer, course_id)
    learner = complete_course(app, "hv1", course_id)
    certificate = certificate_of(app, "hv1")
    before = learner.client.get(f"/certificates/{certificate.id}.pdf").get_data()

    page = f"/train/certificates/{certificate.id}"
    no_reason = trainer.post(f"{page}/revoke", {"reason": "  "}, page=page)
    assert "Give the reason for revoking the certificate." in flashes(follow(trainer,
                                                                            no_reason))
    revoked = trainer.post(f"{page}/revoke", {"reason": "Sai họ tên"}, page=page)
    assert f"Certificate {certificate.display_code} is revoked." in flashes(
        follow(trainer, revoked))
    again = trainer.post(f"{page}/revoke", {"reason": "lần hai"}, page=page)
    assert "This certificate is revoked already." in flashes(follow(trainer, again))

    verify = text(app.test_client().get(f"/verify/{certificate.code}"))
    # Anonymous visitors read the verify page in Vietnamese, the default language.
    assert '<p class="verdict revoked">Đã thu hồi ngày' in verify
    assert "Sai họ tên" not in verify  # the reason stays in the audit log
    after = learner.client.get(f"/certificates/{certificate.id}.pdf")
    assert (after.status_code, after.get_data()) == (200, before)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "certificate_revoke"))
        assert event.details["reason"] == "Sai họ tên"


def test_reissue_gives_a_new_code_and_revokes_the_old(app, world, trainer):
    course_id = assigned_course(app, world, trainer)
    design_template(trainer, course_id)
    complete_course(app, "hv1", course_id)
    old = certificate_of(app, "hv1")
    page = f"/train/certificates/{old.id}"
    done = follow(trainer, trainer.post(f"{page}/reissue", page=page))
    new = certificate_of(app, "hv1")
    assert f"Reissued as {new.display_code}." in flashes(done)
    assert (new.id != old.id, new.code != old.code, new.completed_at == old.completed_at) == (
        True, True, True)
    assert '<p class="verdict valid">' in text(app.test_client().get(f"/verify/{new.code}"))
    assert '<p class="verdict revoked">' in text(app.test_client().get(f"/verify/{old.code}"))


def test_an_expired_certificate_says_so_and_renewal_reassigns_the_course(app, world, trainer):
    from lms.certificates.renewal import start_renewals, tell_expiring

    course_id = assigned_course(app, world, trainer)
    design_template(trainer, course_id, valid_months="12", renew_days_before="30")
    complete_course(app, "hv1", course_id)
    certificate = certificate_of(app, "hv1")
    assert certificate.expires_at is not None
    with app.app_context():
        # Twenty days before expiry: told once, and the course starts over, due on expiry.
        now = certificate.expires_at - timedelta(days=20)
        assert tell_expiring(now) == 1
        assert tell_expiring(now) == 0
        assert start_renewals(now) == 1
        assert start_renewals(now) == 0
        enrolment = db.session.scalar(select(Enrolment).where(
            Enrolment.id == certificate.enrolment_id))
        assert (enrolment.status, enrolment.required, enrolment.due_at,
                enrolment.required_done) == ("not_started", True, certificate.expires_at, 0)
        assert db.session.scalar(select(LessonProgress.id).where(
            LessonProgress.enrolment_id == enrolment.id)) is None
        kinds = db.session.scalars(select(Notification.kind).where(
            Notification.user_id == certificate.user_id)).all()
        assert (kinds.count("certificate_expiring"), kinds.count("recertification")) == (1, 1)
        # Past its expiry, the verify page says expired.
        db.session.execute(update(Certificate).where(Certificate.id == certificate.id)
                           .values(expires_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    verify = text(app.test_client().get(f"/verify/{certificate.code}"))
    assert '<p class="verdict expired">Đã hết hạn ngày' in verify
    # Completing again certifies the new completion.
    complete_course(app, "hv1", course_id)
    renewed = certificate_of(app, "hv1")
    assert (renewed.id != certificate.id, renewed.completed_at > certificate.completed_at) == (
        True, True)


def test_unknown_and_malformed_codes_are_404_and_guessing_is_stopped(app, world, trainer):
    course_id = assigned_course(app, world, trainer)
    design_template(trainer, course_id)
    complete_course(app, "hv1", course_id)
    real = certificate_of(app, "hv1")
    client = app.test_client()
    assert client.get("/verify/ABCDEFGHJKMNPQRSTVWX").status_code == 404
    assert client.get("/verify/not-a-code!").status_code == 404
    assert client.get("/verify/" + "A" * 300).status_code == 404
    # Dashes, spaces and lower case are forgiven.
    assert client.get(f"/verify/{real.display_code.lower()}").status_code == 200
    limit = app.config["VERIFY_MAX_FAILURES"]
    statuses = [client.get(f"/verify/{'Z' * 19}{i % 10}").status_code for i in range(1000)]
    assert statuses.count(404) == limit - 3
    assert statuses.count(429) == 1000 - (limit - 3)
    # Once refused, a real code is refused too: the answer tells nothing.
    assert client.get(f"/verify/{real.code}").status_code == 429
    # Another address is not affected.
    other = app.test_client()
    assert other.get(f"/verify/{real.code}",
                     environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 200


def test_who_may_see_a_certificate(app, world, trainer):
    course_id = assigned_course(app, world, trainer)
    design_template(trainer, course_id)
    complete_course(app, "hv1", course_id)
    certificate = certificate_of(app, "hv1")
    url = f"/certificates/{certificate.id}.pdf"
    assert signed_in(app, "hv2").client.get(url).status_code == 404
    assert signed_in(app, "trainer2").client.get(url).status_code == 404
    assert trainer.client.get(url).status_code == 200
    assert signed_in(app, "admin").client.get(url).status_code == 200
    assert app.test_client().get(url).status_code == 302  # to the login page
    # Another trainer neither sees it in their list nor may revoke it.
    other = signed_in(app, "trainer2")
    assert certificate.code not in text(other.client.get("/train/certificates/"))
    assert other.post(f"/train/certificates/{certificate.id}/revoke", {"reason": "x"},
                      page="/train/certificates/").status_code == 404
    listed = text(trainer.client.get("/train/certificates/"))
    assert certificate.display_code in listed


def test_a_template_refuses_unknown_placeholders_and_bad_images(app, world, trainer):
    course_id = assigned_course(app, world, trainer)
    page = f"/train/certificates/templates/new?item=course:{course_id}"
    unknown = trainer.post(page, {**TEMPLATE, "body": "Chứng nhận {ten} {name.__class__}"},
                           page=page, content_type="multipart/form-data")
    assert unknown.status_code == 422
    assert "Unknown placeholders: {name.__class__}, {ten}." in text(unknown)
    fake = trainer.post(page, {**TEMPLATE, "logo": (io.BytesIO(b"<svg onload=alert(1)>"),
                                                    "logo.png")},
                        page=page, content_type="multipart/form-data")
    assert fake.status_code == 422
    assert "The file is not a readable PNG or JPEG image." in text(fake)
    with app.app_context():
        assert db.session.scalar(select(CertificateTemplate.id)) is None


def test_the_template_preview_is_a_pdf_and_an_image(app, world, trainer):
    course_id = assigned_course(app, world, trainer)
    logo = io.BytesIO()
    Image.new("RGB", (120, 120), (200, 30, 30)).save(logo, format="PNG")
    template_id = design_template(trainer, course_id, activate=False,
                                  logo=(io.BytesIO(logo.getvalue()), "logo.png"))
    pdf = trainer.client.get(f"/train/certificates/templates/{template_id}/preview.pdf")
    assert (pdf.status_code, pdf.mimetype) == (200, "application/pdf")
    assert qr_url(pdf.get_data()) == "http://localhost/verify/MAU0MAU0MAU0MAU0MAU0"
    png = trainer.client.get(f"/train/certificates/templates/{template_id}/preview.png")
    assert (png.status_code, png.mimetype) == (200, "image/png")
    assert Image.open(io.BytesIO(png.get_data())).size[0] == 900
    # A draft certifies nobody.
    complete_course(app, "hv1", course_id)
    with app.app_context():
        assert db.session.scalar(select(Certificate.id)) is None


def test_activating_a_template_certifies_those_who_completed_before(app, world, trainer):
    course_id = assigned_course(app, world, trainer)
    complete_course(app, "hv1", course_id)
    complete_course(app, "hv2", course_id)
    design_template(trainer, course_id)
    with app.app_context():
        assert len(db.session.scalars(select(Certificate.id)).all()) == 2


def test_certificate_blobs_survive_garbage_collection(app, world, trainer):
    from lms.files.maintenance import collect_unreferenced

    course_id = assigned_course(app, world, trainer)
    design_template(trainer, course_id)
    complete_course(app, "hv1", course_id)
    certificate = certificate_of(app, "hv1")
    app.config["FILES_GC_GRACE_HOURS"] = 0
    with app.app_context():
        collect_unreferenced()
        assert get_storage().exists(certificate.blob_key)
