"""Collections: the tree records are filed in, its changes, and which records fall under a
collection (owned by it or a collection below it, or mapped into one of them)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, or_, select

from lms import audit
from lms.accounts.models import User
from lms.catalog import hooks
from lms.catalog.access import Principal, published_clause, visible_records
from lms.catalog.models import AccessLevel, Collection, Record
from lms.db import tree_order
from lms.errors import Conflict, NotFound, ValidationError
from lms.extensions import db
from lms.permissions import can, require
from lms.text import clean_text
from lms.uow import unit_of_work

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def check_slug(slug: str) -> str:
    """:raise ValidationError: ``slug`` is not ASCII ``[a-z0-9-]`` (it becomes an OAI setSpec)."""
    slug = (slug or "").strip()
    if not SLUG.match(slug) or len(slug) > 64:
        raise ValidationError(
            _("A collection slug has 1–64 characters: lower-case letters a–z, digits and single "
              "hyphens (e.g. khoa-tai-chinh).")
        )
    return slug


def find_collection(slug: str) -> Collection | None:
    return db.session.scalar(select(Collection).where(Collection.slug == slug))


def get_collection(slug: str) -> Collection:
    """:raise NotFound: no collection has this slug."""
    collection = find_collection(slug)
    if collection is None:
        raise NotFound(_("No collection %(slug)s.", slug=slug))
    return collection


def create_collection(actor: User | None, slug: str, title: str, *,
                      parent: Collection | None = None, title_en: str = "", description: str = "",
                      default_access: str = AccessLevel.INTERNAL, workflow_steps: int = 2,
                      single_reviewer: bool = False,
                      curators: Iterable[User] = ()) -> Collection:
    """Create a collection. ``actor`` None is the command line.

    :raise ValidationError: bad slug, title, access level or number of steps.
    :raise Conflict: the slug is taken.
    """
    if actor is not None:
        require(actor, "collection.manage")
    slug = check_slug(slug)
    if db.session.scalar(select(Collection.id).where(Collection.slug == slug)) is not None:
        raise Conflict(_("The collection slug %(slug)s is already taken.", slug=slug))
    # Read before the new collection hangs under its parent: loading the parent then would
    # flush the collection before it is added.
    details = {"slug": slug, "parent": parent.slug if parent else None}
    collection = Collection(slug=slug)
    _apply_collection(collection, title=title, title_en=title_en, description=description,
                      parent=parent, default_access=default_access,
                      workflow_steps=workflow_steps, single_reviewer=single_reviewer,
                      curators=curators)
    with unit_of_work():
        audit.record_new("collection_create", actor=actor, obj=collection, details=details)
    return collection


def update_collection(actor: User, collection: Collection, *, title: str, title_en: str,
                      description: str, parent: Collection | None, default_access: str,
                      workflow_steps: int, curators: Iterable[User],
                      single_reviewer: bool = False) -> None:
    """:raise Conflict: ``parent`` is the collection itself or below it."""
    require(actor, "collection.manage")
    if parent is not None and (parent.id == collection.id or parent.is_descendant_of(collection)):
        raise Conflict(_("A collection cannot be moved under itself or its descendants."))
    with unit_of_work():
        _apply_collection(collection, title=title, title_en=title_en, description=description,
                          parent=parent, default_access=default_access,
                          workflow_steps=workflow_steps, single_reviewer=single_reviewer,
                          curators=curators)
        audit.record("collection_update", actor=actor, obj=collection,
                     details={"curators": sorted(u.username for u in collection.curators)})
        # Curators and the collection path are part of every record's search entry.
        hooks.collection_changed(collection.id)


def _apply_collection(collection: Collection, *, title: str, title_en: str, description: str,
                      parent: Collection | None, default_access: str, workflow_steps: int,
                      single_reviewer: bool, curators: Iterable[User]) -> None:
    if default_access not in {str(a) for a in AccessLevel}:
        raise ValidationError(_("Unknown access level."))
    if workflow_steps not in (1, 2):
        raise ValidationError(_("A workflow has one or two steps."))
    collection.title = clean_text(title, max_length=300, what=_("Title"))
    collection.title_en = clean_text(title_en, max_length=300, what=_("Title")) if title_en else ""
    collection.description = (description or "").strip()[:5000]
    collection.parent = parent
    collection.default_access = default_access
    collection.workflow_steps = workflow_steps
    collection.single_reviewer = bool(single_reviewer)
    collection.curators = list(curators)


def collection_tree() -> list[tuple[Collection, int]]:
    """Every collection with its depth, in tree order."""
    return tree_order(db.session.scalars(select(Collection).order_by(Collection.title)))


def deposit_collections(user: User) -> list[Collection]:
    return [c for c, _depth in collection_tree() if can(user, "collection.deposit", c)]


# --- the records under a collection --------------------------------------------------------

def subtree_ids(collection_id: int) -> list[int]:
    """``collection_id`` and the ids of every collection below it."""
    children: dict[int | None, list[int]] = {}
    for child_id, parent_id in db.session.execute(select(Collection.id, Collection.parent_id)):
        children.setdefault(parent_id, []).append(child_id)
    ids, todo = [], [collection_id]
    while todo:
        ids.append(todo.pop())
        todo.extend(children.get(ids[-1], []))
    return ids


def filed_under(collection_id: int) -> ColumnElement[bool]:
    """Records owned by the collection or one below it, or mapped into one of them: those a
    collection page lists, and those a change of the collection (its title, place in the
    tree, curators) changes in every channel."""
    ids = subtree_ids(collection_id)
    return or_(Record.collection_id.in_(ids),
               Record.mapped_collections.any(Collection.id.in_(ids)))


def record_ids_under(collection_id: int, *criteria: ColumnElement[bool]) -> list[int]:
    """Ids of the records :func:`filed_under` the collection that meet ``criteria``."""
    return list(db.session.scalars(
        select(Record.id).where(filed_under(collection_id), *criteria).order_by(Record.id)))


def collection_listing(user: Principal, collection: Collection) -> Select:
    """The published records of a collection page that ``user`` may see, newest first."""
    return (visible_records(user)
            .where(filed_under(collection.id), published_clause())
            .order_by(Record.published_at.desc(), Record.id.desc()))
