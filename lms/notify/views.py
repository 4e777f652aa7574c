"""A person's notifications, and the kinds of message they mute."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.local import LocalProxy

from lms.auth.forms import EmptyForm
from lms.errors import FORM_ERRORS
from lms.notify import services
from lms.notify.kinds import KINDS
from lms.web import no_store

bp = Blueprint("notify", __name__)


@bp.app_context_processor
def _unread() -> dict[str, object]:
    # Counted only if the page shows it, once per rendering.
    return {"unread_notifications": LocalProxy(cache(_unread_notifications))}


def _unread_notifications() -> int:
    return services.unread_count(current_user) if current_user.is_authenticated else 0


@bp.app_template_filter("iso_date")
def iso_date(value: str | None) -> str:
    """An ISO date-time kept in a notification, as a local date (``5 thg 12, 2025``)."""
    if not value:
        return ""
    try:
        return format_date(datetime.fromisoformat(value), "medium")
    except ValueError:
        return ""


@bp.get("/notifications")
@login_required
def index():
    no_store()
    items = services.notifications_for(current_user)
    services.mark_notifications_read(current_user)
    return render_template("notify/notifications.html", items=items)


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def settings():
    no_store()
    form = EmptyForm()
    if request.method == "POST":
        heard = set(request.form.getlist("hear"))
        try:
            services.set_muted(current_user, [k for k in KINDS if k not in heard
                                              and not KINDS[k].mandatory])
        except FORM_ERRORS as error:
            flash(error.message, "error")
        else:
            flash(_("Your choices are saved."), "success")
        return redirect(url_for("notify.settings"))
    return render_template("notify/settings.html", kinds=KINDS,
                           muted=services.muted_kinds(current_user), form=form,
                           mail=services.mail_configured(),
                           has_address=bool(current_user.email))
