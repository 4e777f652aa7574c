from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from lms.auth import services
from lms.auth.forms import ChangePasswordForm, LoginForm
from lms.errors import PermissionDenied, ValidationError
from lms.web import no_store, safe_next

bp = Blueprint("auth", __name__)


@bp.before_request
def _never_cache() -> None:
    no_store()


def _fresh_session() -> None:
    """Drop everything in the session but the chosen UI language."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data, url_for("main.index")))
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.username.data, form.password.data, request.remote_addr
            )
        except PermissionDenied as error:
            flash(error.message, "error")
            return render_template("auth/login.html", form=form), 401
        target = safe_next(form.next.data, url_for("main.index"))
        # A fresh session on login: nothing planted before it (fixation) survives.
        _fresh_session()
        services.start_session(user, request.remote_addr, request.user_agent.string)
        login_user(user)
        if user.must_change_password:
            flash(_("Please choose a new password before you continue."), "info")
            return redirect(url_for("auth.change_password"))
        flash(_("Welcome, %(name)s.", name=user.display_name), "success")
        return redirect(target)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    # Logout is a POST with a CSRF token (checked globally), so no site can log users out.
    if current_user.is_authenticated:
        services.end_session(current_user)
    logout_user()
    _fresh_session()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("main.index"))


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    services.revoke_sessions(current_user)
    logout_user()
    _fresh_session()
    flash(_("You have been logged out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_own_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except (PermissionDenied, ValidationError) as error:
            flash(error.message, "error")
            return render_template("auth/password.html", form=form), error.status
        # Every session ended with the change: log in again on this device only.
        user = current_user._get_current_object()
        _fresh_session()
        services.start_session(user, request.remote_addr, request.user_agent.string)
        login_user(user)
        flash(_("Your password has been changed. Other sessions were logged out."), "success")
        return redirect(url_for("main.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


@bp.before_app_request
def _force_password_change():
    allowed = {"auth.change_password", "auth.logout", "static", "main.set_language", "main.health"}
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in allowed
    ):
        return redirect(url_for("auth.change_password"))
    return None
