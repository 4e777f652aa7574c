"""The public verify page, and certificates' PDFs for those who may see them."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from lms.certificates import issuing
from lms.certificates.codes import normalise
from lms.certificates.models import CertificateStatus
from lms.certificates.verification import verify
from lms.web import no_store

bp = Blueprint("certificates", __name__)


@bp.app_context_processor
def _helpers() -> dict[str, object]:
    return {"certificate_status_labels": issuing.STATUS_LABELS,
            "my_certificates": lambda: issuing.certificates_of(current_user)
            if current_user.is_authenticated else []}


@bp.get("/verify")
def verify_form():
    code = request.args.get("code", "")
    if code:
        return redirect(url_for("certificates.verify_page", code=normalise(code) or code[:64]))
    return render_template("certificates/verify_form.html")


@bp.get("/verify/<code>")
def verify_page(code: str):
    no_store()
    found = verify(code, request.remote_addr or "-")
    response = render_template("certificates/verify.html", found=found,
                               statuses=CertificateStatus)
    return response, 200, {"X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}


@bp.get("/certificates/<int:certificate_id>.pdf")
@login_required
def download(certificate_id: int):
    certificate = issuing.get_certificate(current_user, certificate_id)
    response = send_file(issuing.open_pdf(certificate), mimetype="application/pdf",
                         as_attachment=True,
                         download_name=f"chung-nhan-{certificate.display_code}.pdf",
                         etag=certificate.blob_key, last_modified=certificate.issued_at,
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    return response
