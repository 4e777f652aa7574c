"""The trainers' certificates (/train/certificates): templates with their preview, the
certificates issued from them, revoking and reissuing."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.auth.forms import EmptyForm
from lms.certificates import designs, issuing
from lms.certificates.forms import TemplateForm
from lms.certificates.models import CertificateStatus, CertificateTemplate
from lms.db import utcnow
from lms.errors import FORM_ERRORS, NotFound
from lms.extensions import db
from lms.jobs import enqueue
from lms.permissions import require
from lms.training import courses
from lms.training.train_views import area_blueprint
from lms.web import absolute_url, flash_outcome, page_of, save_edit

bp = area_blueprint("certificates_train", __name__)
PAGE_SIZE = 30


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"template_status_labels": designs.STATUS_LABELS}


def _page(stmt):
    return page_of(stmt, PAGE_SIZE)


@bp.get("/")
def issued():
    require(current_user, "certificate.list_issued")
    status = request.args.get("status", "")
    if status not in set(CertificateStatus):
        status = ""
    query = request.args.get("q", "")[:100].strip()
    return render_template("certificates/train/issued.html", status=status, query=query,
                           page=_page(issuing.issued_by(current_user, status=status,
                                                        query=query)),
                           now=utcnow())


@bp.get("/templates")
def templates():
    return render_template("certificates/train/templates.html",
                           templates=db.session.scalars(
                               designs.visible_templates(current_user)).all(),
                           items=designs.items_without_template(current_user))


def _input(form: TemplateForm) -> designs.TemplateInput:
    background = request.files.get("background")
    logo = request.files.get("logo")
    return designs.TemplateInput(
        name=form.name.data or "", title=form.title.data or "", body=form.body.data or "",
        issuer=form.issuer.data or "", place=form.place.data or "",
        signer_name=form.signer_name.data or "", signer_title=form.signer_title.data or "",
        valid_months=form.valid_months.data,
        renew_days_before=form.renew_days_before.data
        if form.renew_days_before.data is not None else 30,
        background=background.read() if background and background.filename else None,
        logo=logo.read() if logo and logo.filename else None,
        remove_background=form.remove_background.data, remove_logo=form.remove_logo.data)


def _item(value: str):
    """``course:12`` or ``track:3`` → the course or track, as its editor may see it."""
    kind, _sep, number = value.partition(":")
    if not number.isdigit():
        raise NotFound()
    if kind == "course":
        return courses.get_course(current_user, int(number), for_edit=True)
    if kind == "track":
        return courses.get_track(current_user, int(number), for_edit=True)
    raise NotFound()


@bp.route("/templates/new", methods=["GET", "POST"])
def template_new():
    item = _item(request.values.get("item", ""))
    require(current_user, "certificate_template.create", item)
    form = TemplateForm()
    if request.method == "GET":
        form.name.data = item.title
        form.title.data = designs.DEFAULT_TITLE
        form.body.data = designs.DEFAULT_BODY
        form.issuer.data = "Bộ Quốc phòng\nHọc viện Hậu cần"
        form.place.data = "Hà Nội"
        form.signer_title.data = "Giám đốc"
        form.renew_days_before.data = 30
    status = 200
    if form.validate_on_submit():
        try:
            template = designs.create_template(current_user, item, _input(form))
        except FORM_ERRORS as error:
            flash(error.message, "error")
            status = error.status
        else:
            flash(_("Template saved as a draft. Check its preview, then activate it."),
                  "success")
            return redirect(url_for("certificates_train.template_edit",
                                    template_id=template.id))
    elif request.method == "POST":
        status = 400
    return render_template("certificates/train/template_form.html", form=form, item=item,
                           template=None), status


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
def template_edit(template_id: int):
    template = designs.get_template(current_user, template_id)
    form = TemplateForm(obj=template if request.method == "GET" else None)
    status = save_edit(form, template, _("Template saved."), lambda: designs.update_template(
        current_user, template, _input(form), form.lock))
    if status is None:
        return redirect(url_for("certificates_train.template_edit", template_id=template.id))
    return render_template("certificates/train/template_form.html", form=form,
                           item=template.item, template=template,
                           action_form=EmptyForm()), status


@bp.post("/templates/<int:template_id>/status")
def template_status(template_id: int):
    template = designs.get_template(current_user, template_id)
    try:
        lock = int(request.form.get("lock_version", "0"))
    except ValueError:
        lock = 0
    try:
        designs.set_status(current_user, template, request.form.get("status", ""), lock)
    except FORM_ERRORS as error:
        flash(error.message, "error")
    else:
        flash(_("The template is now: %(status)s.",
                status=designs.STATUS_LABELS[template.status]), "success")
        if template.is_active:
            job_id = _certify_past_completions()
            if job_id is not None:
                return redirect(url_for("jobs.show", job_id=job_id))
    return redirect(url_for("certificates_train.template_edit", template_id=template.id))


def _certify_past_completions() -> int | None:
    """Those who completed before the template was active get theirs: at once when they are
    few, else by a job (whose id is returned)."""
    waiting = issuing.count_uncertified()
    if not waiting:
        return None
    if waiting <= current_app.config["CERTIFICATES_INLINE_MAX"]:
        issuing.issue_pending()
        flash(_("%(n)d people who had completed it received their certificate.", n=waiting),
              "success")
        return None
    flash(_("Certificates for the %(n)d people who had completed it are being issued.",
            n=waiting), "info")
    return enqueue("certificates.issue", owner=current_user).id


def _preview(template: CertificateTemplate) -> bytes:
    return designs.preview(template, absolute_url("/verify/MAU0MAU0MAU0MAU0MAU0"))


@bp.get("/templates/<int:template_id>/preview.pdf")
def template_preview_pdf(template_id: int):
    template = designs.get_template(current_user, template_id)
    response = Response(_preview(template), mimetype="application/pdf")
    response.headers["Content-Disposition"] = "inline; filename=mau-chung-nhan.pdf"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/templates/<int:template_id>/preview.png")
def template_preview_png(template_id: int):
    template = designs.get_template(current_user, template_id)
    from lms.certificates.rendering import preview_png

    response = Response(preview_png(_preview(template)), mimetype="image/png")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<int:certificate_id>")
def certificate(certificate_id: int):
    found = issuing.get_certificate(current_user, certificate_id)
    require(current_user, "certificate.revoke", found)
    return render_template("certificates/train/certificate.html", certificate=found,
                           now=utcnow(), action_form=EmptyForm())


@bp.post("/<int:certificate_id>/revoke")
def revoke(certificate_id: int):
    found = issuing.get_certificate(current_user, certificate_id)
    with flash_outcome() as outcome:
        issuing.revoke(current_user, found, request.form.get("reason", ""))
        outcome.success = _("Certificate %(code)s is revoked.", code=found.display_code)
    return redirect(url_for("certificates_train.certificate", certificate_id=found.id))


@bp.post("/<int:certificate_id>/reissue")
def reissue(certificate_id: int):
    found = issuing.get_certificate(current_user, certificate_id)
    with flash_outcome() as outcome:
        new = issuing.reissue(current_user, found)
        outcome.success = _("Reissued as %(code)s.", code=new.display_code)
    if not outcome.failed:
        return redirect(url_for("certificates_train.certificate", certificate_id=new.id))
    return redirect(url_for("certificates_train.certificate", certificate_id=found.id))
