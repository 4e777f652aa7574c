"""Managing the collection tree: admins only."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.auth.services import find_user
from lms.catalog import collections
from lms.catalog.models import AccessLevel, Collection
from lms.errors import FORM_ERRORS, NotFound, ValidationError
from lms.web import guard_blueprint

bp = Blueprint("collections_admin", __name__)
guard_blueprint(bp, "collection.manage")


def _form_values(form) -> dict[str, object]:
    parent_slug = form.get("parent", "")
    curators = []
    for name in form.get("curators", "").split():
        user = find_user(name)
        if user is None:
            raise ValidationError(_("No user named %(name)s.", name=name[:64]))
        curators.append(user)
    steps = form.get("workflow_steps", "2")
    return {
        "title": form.get("title", ""),
        "title_en": form.get("title_en", ""),
        "description": form.get("description", ""),
        "parent": collections.get_collection(parent_slug) if parent_slug else None,
        "default_access": form.get("default_access", AccessLevel.INTERNAL),
        "workflow_steps": int(steps) if steps.isdigit() else 0,
        "single_reviewer": form.get("single_reviewer") == "1",
        "curators": curators,
    }


@bp.get("/")
def index():
    return render_template("catalog/admin_collections.html", tree=collections.collection_tree())


@bp.route("/new", methods=["GET", "POST"], defaults={"slug": None})
@bp.route("/<slug>", methods=["GET", "POST"])
def edit(slug: str | None):
    collection = collections.get_collection(slug) if slug else None
    if request.method == "POST":
        try:
            values = _form_values(request.form)
            if collection is None:
                collection = collections.create_collection(
                    current_user, request.form.get("slug", ""), **values)
            else:
                collections.update_collection(current_user, collection, **values)
        except (*FORM_ERRORS, NotFound) as error:
            flash(error.message, "error")
            return render_template("catalog/admin_collection_form.html", collection=collection,
                                   form=request.form, levels=list(AccessLevel),
                                   parents=_parents(collection)), 422
        flash(_("Collection saved."), "success")
        return redirect(url_for("collections_admin.index"))
    return render_template("catalog/admin_collection_form.html", collection=collection,
                           form=None, levels=list(AccessLevel), parents=_parents(collection))


def _parents(collection: Collection | None) -> list[tuple[Collection, int]]:
    return [(c, d) for c, d in collections.collection_tree()
            if collection is None or (c.id != collection.id and collection not in c.ancestors)]


