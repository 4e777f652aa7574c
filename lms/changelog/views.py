"""The administrators' view of the mirrors: the last daily check and what is still pending."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from lms.changelog.check import last_check, oldest_pending_age
from lms.changelog.mirrors import pending_counts
from lms.permissions import require
from lms.web import no_store

bp = Blueprint("mirrors", __name__)

MIRROR_LABELS = {"search": _l("Search"), "oai": _l("OAI-PMH")}
KIND_LABELS = {"missing": _l("missing"), "extra": _l("should not be there"),
               "visibility": _l("wrong visibility"), "content": _l("outdated content")}


@bp.get("/")
@login_required
def status():
    no_store()
    require(current_user, "mirror.check")
    return render_template("admin/mirrors.html", job=last_check(), pending=pending_counts(),
                           oldest=oldest_pending_age(), mirror_labels=MIRROR_LABELS,
                           kind_labels=KIND_LABELS)
