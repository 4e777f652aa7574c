"""The pages of personal access tokens: each user's (``/account/tokens``) and the
administrators' list of every token (``/admin/tokens``)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.api import tokens
from lms.api.forms import SCOPE_LABELS, TokenForm
from lms.db import utcnow
from lms.errors import FORM_ERRORS
from lms.web import no_store

bp = Blueprint("tokens", __name__)



@bp.before_request
def _never_cache() -> None:
    no_store()


def _state_label(state: str) -> str:
    return {"active": _("Active"), "expired": _("Expired"), "revoked": _("Revoked")}[state]


def _page(form: TokenForm, new_secret: str | None = None, status: int = 200):
    return render_template(
        "api/tokens.html", form=form, tokens=tokens.tokens_of(current_user), now=utcnow(),
        new_secret=new_secret, scope_labels=SCOPE_LABELS, state_label=_state_label,
        max_days=current_app.config["API_TOKEN_MAX_DAYS"]), status


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def mine():
    form = TokenForm(current_app.config["API_TOKEN_MAX_DAYS"])
    if not form.validate_on_submit():
        return _page(form, status=400 if form.is_submitted() else 200)
    try:
        created = tokens.create_token(current_user, form.name.data, form.scope.data,
                                      form.days.data)
    except FORM_ERRORS as error:
        flash(error.message, "error")
        return _page(form, status=error.status)
    # Shown in this answer only (never stored, flashed or redirected with): copy it now.
    return _page(TokenForm(current_app.config["API_TOKEN_MAX_DAYS"], formdata=None),
                 new_secret=created.secret, status=201)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_mine(token_id: int):
    token = tokens.revoke_token(current_user, token_id)
    flash(_("The token %(name)s was revoked.", name=token.name), "success")
    return redirect(url_for("tokens.mine"))


@bp.get("/admin/tokens")
@login_required
def every():
    return render_template("api/admin_tokens.html", tokens=tokens.all_tokens(current_user),
                           now=utcnow(), scope_labels=SCOPE_LABELS, state_label=_state_label)


@bp.post("/admin/tokens/<int:token_id>/revoke")
@login_required
def revoke_any(token_id: int):
    token = tokens.revoke_token(current_user, token_id)
    flash(_("The token %(name)s of %(user)s was revoked.", name=token.name,
            user=token.user.username), "success")
    return redirect(url_for("tokens.every"))
