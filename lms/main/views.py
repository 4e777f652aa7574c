from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user

from lms.auth.services import set_preferred_locale
from lms.catalog import browse
from lms.catalog.collections import collection_tree, deposit_collections
from lms.catalog.summaries import summarize
from lms.discovery.services import library_overview
from lms.main.health import FAIL, run_checks
from lms.web import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    lang = str(get_locale())
    newest = browse.newest_records(current_user)
    total, counts = library_overview(current_user)
    top = [c for c, depth in collection_tree() if depth == 0]
    return render_template(
        "index.html", newest=newest, summaries=summarize(current_user, newest, lang),
        top_collections=top, counts=counts,
        total=total,
        may_deposit=current_user.is_authenticated
        and bool(deposit_collections(current_user)))


@bp.post("/language")
def set_language():
    """Remember the chosen UI language in the session (and on the account)."""
    language = request.form.get("language", "")
    if language in ("vi", "en"):
        session["locale"] = language
        if current_user.is_authenticated:
            set_preferred_locale(current_user, language)
    return redirect(safe_next(request.form.get("next"), url_for("main.index")))


@bp.get("/health")
def health():
    overall, checks = run_checks()
    return jsonify(status=overall, checks=checks), (503 if overall == FAIL else 200)
