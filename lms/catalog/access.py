"""Who may see and do what with records, collections and reviews: one rule, used by every
channel, and the named rules (``RULES``) the policy in ``lms.permissions`` is made of.

Three forms of the reading rule, kept side by side so they cannot drift apart:

- :func:`can_view` decides for one record (pages, exports, OAI GetRecord, files);
- :func:`visible_records` is the same rule as a SQL filter (listings, browse, exports,
  OAI List*), so paging and counts are right;
- :func:`record_principals` / :func:`user_principals` express it for the search index:
  a record is found only by users whose principals intersect the record's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_login import AnonymousUserMixin
from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from lms.accounts.models import RoleName, User
from lms.catalog.models import (
    AccessLevel,
    AccessRequest,
    Collection,
    Record,
    RecordAccessRole,
    RecordStatus,
    ReviewTask,
    collection_curators,
    record_access_groups,
    record_access_units,
    record_access_users,
    record_mappings,
)
from lms.db import utcnow
from lms.extensions import db
from lms.permissions import admin_only

Principal = User | AnonymousUserMixin


def _user(user: Principal) -> User | None:
    return user if isinstance(user, User) and user.is_authenticated and user.active else None


def unit_chain_ids(user: User) -> list[int]:
    """The user's unit and every unit above it: access granted to a unit covers its sub-units."""
    if user.unit is None:
        return []
    return [u.id for u in [*user.unit.ancestors, user.unit]]


def curated_collection_ids(user: User) -> set[int]:
    return set(db.session.scalars(
        select(collection_curators.c.collection_id).where(collection_curators.c.user_id == user.id)
    ))


def is_curator_of(user: Principal, record: Record | None) -> bool:
    """Admins, and curators of the record's owning or mapped collections."""
    u = _user(user)
    if u is None or record is None:
        return False
    if u.is_admin:
        return True
    if not u.has_role(RoleName.CURATOR):
        return False
    curated = curated_collection_ids(u)
    return any(c.id in curated for c in record.all_collections)


def _level_allows(user: User | None, record: Record) -> bool:
    level = record.access_level
    if level == AccessLevel.PUBLIC:
        return True
    if user is None:
        return False
    if level == AccessLevel.INTERNAL:
        return True
    if level == AccessLevel.UNIT:
        chain = set(unit_chain_ids(user))
        return any(unit.id in chain for unit in record.access_units)
    if level == AccessLevel.ROLE:
        return bool(user.role_names & set(record.access_roles or ()))
    if level == AccessLevel.RESTRICTED:
        group_ids = {g.id for g in user.groups}
        return any(u.id == user.id for u in record.access_users) or any(
            g.id in group_ids for g in record.access_groups)
    return False


def level_allows(user: Principal, obj: object) -> bool:
    """Whether ``obj``'s access level and lists admit ``user``, nothing else considered.

    ``obj`` is a record, or a file with a level of its own (``lms.files.access``); both carry
    ``access_level``, ``access_units``, ``access_roles``, ``access_users``, ``access_groups``.
    """
    return _level_allows(_user(user), obj)  # type: ignore[arg-type]


def sees_working_copy(user: Principal, record: Record | None) -> bool:
    """The depositor, admins, and curators of its collections once it left the draft stage.

    A never-submitted draft is its depositor's own business, like a DSpace workspace item.
    """
    u = _user(user)
    if u is None or record is None or record.status == RecordStatus.PURGED:
        return False
    if record.owner_id == u.id or u.is_admin:
        return True
    return is_curator_of(u, record) and record.status != RecordStatus.DRAFT


def owner_may_edit(user: User, record: Record) -> bool:
    """The depositor edits a draft, a returned record, or a published one (its next version)."""
    return record.owner_id == user.id and record.status in (
        RecordStatus.DRAFT, RecordStatus.RETURNED, RecordStatus.PUBLISHED)


def can_edit(user: User, record: Record) -> bool:
    """May ``user`` change the working copy (metadata, files) now?"""
    if record.status in (RecordStatus.WITHDRAWN, RecordStatus.PURGED):
        return False
    return owner_may_edit(user, record) or (
        is_curator_of(user, record) and record.status != RecordStatus.DRAFT)


def can_view(user: Principal, record: Record | None) -> bool:
    """May ``user`` read this record's page and metadata (its latest published version)?

    Those who see the working copy always may. Curators see every published record of their
    collections. Others only once it is published and not withdrawn, and only if the access
    level admits them.
    """
    if record is None or record.status == RecordStatus.PURGED:
        return False
    if sees_working_copy(user, record):
        return True
    if not record.is_published:
        return False
    return is_curator_of(user, record) or _level_allows(_user(user), record)


def could_have_seen(user: Principal, record: Record | None) -> bool:
    """For a withdrawn record: would ``user`` have been allowed to read it? (tombstone detail)"""
    if record is None or record.current_version == 0:
        return False
    u = _user(user)
    if u is not None and (record.owner_id == u.id or is_curator_of(u, record)):
        return True
    return _level_allows(u, record)


def embargo_active(record: Record, today: date | None = None) -> bool:
    return record.embargo_until is not None and record.embargo_until > (
        today or utcnow().date())


def can_read_files(user: Principal, record: Record | None) -> bool:
    """Files also wait for the embargo (metadata does not); owners and curators excepted."""
    if not can_view(user, record):
        return False
    return sees_working_copy(user, record) or is_curator_of(user, record) or \
        not embargo_active(record)


def _level_clause(user: User | None) -> ColumnElement[bool]:
    public = Record.access_level == AccessLevel.PUBLIC
    if user is None:
        return public
    chain = unit_chain_ids(user)
    group_ids = [g.id for g in user.groups]
    role_clause = exists().where(
        RecordAccessRole.record_id == Record.id,
        RecordAccessRole.role.in_(sorted(user.role_names)),
    )
    unit_clause = exists().where(
        record_access_units.c.record_id == Record.id,
        record_access_units.c.unit_id.in_(chain),
    ) if chain else false()
    restricted_clause = or_(
        exists().where(record_access_users.c.record_id == Record.id,
                       record_access_users.c.user_id == user.id),
        exists().where(record_access_groups.c.record_id == Record.id,
                       record_access_groups.c.group_id.in_(group_ids))
        if group_ids else false(),
    )
    return or_(
        public,
        Record.access_level == AccessLevel.INTERNAL,
        and_(Record.access_level == AccessLevel.UNIT, unit_clause),
        and_(Record.access_level == AccessLevel.ROLE, role_clause),
        and_(Record.access_level == AccessLevel.RESTRICTED, restricted_clause),
    )


def _privileged_clause(user: User) -> ColumnElement[bool]:
    """The SQL twin of :func:`sees_working_copy` and of curators' view of their collections."""
    if user.is_admin:
        return true()
    clauses: list[ColumnElement[bool]] = [Record.owner_id == user.id]
    if user.has_role(RoleName.CURATOR):
        curated = curated_collection_ids(user)
        if curated:
            in_curated = or_(
                Record.collection_id.in_(curated),
                exists().where(record_mappings.c.record_id == Record.id,
                               record_mappings.c.collection_id.in_(curated)),
            )
            clauses.append(and_(in_curated, or_(Record.status != RecordStatus.DRAFT,
                                                published_clause())))
    return or_(*clauses)


def published_clause() -> ColumnElement[bool]:
    return and_(Record.current_version > 0,
                Record.status.notin_([RecordStatus.WITHDRAWN, RecordStatus.PURGED]))


def visible_records(user: Principal, *, listing: bool = True):
    """A ``Select`` of the records ``user`` may see; the SQL twin of :func:`can_view`.

    ``listing=True`` (browse pages, feeds, harvesting) also drops undiscoverable records,
    which stay reachable by their address but are never listed.
    """
    u = _user(user)
    readable = and_(published_clause(), _level_clause(u))
    if listing:
        readable = and_(readable, Record.discoverable.is_(True))
    condition = readable
    if u is not None:
        privileged = and_(_privileged_clause(u), Record.status != RecordStatus.PURGED)
        condition = or_(readable, privileged)
    return select(Record).where(condition)


def working_copy_records(user: Principal):
    """A ``Select`` of the records ``user`` deposited or curates, whatever their state (a
    curator's: those of their collections once submitted or published): the privileged part
    of :func:`visible_records` on its own, for "my records in state X" listings."""
    u = _user(user)
    if u is None:
        return select(Record).where(false())
    return select(Record).where(_privileged_clause(u), Record.status != RecordStatus.PURGED)


# --- search principals ---------------------------------------------------------------------

def record_principals(record: Record) -> list[str]:
    """Who may find ``record`` in search: the access rule written as principal strings."""
    principals = {"role:admin"}
    if record.owner_id:
        principals.add(f"user:{record.owner_id}")
    for collection in record.all_collections:
        principals.add(f"curator:{collection.id}")
    level = record.access_level
    if level == AccessLevel.PUBLIC:
        principals.add("public")
    elif level == AccessLevel.INTERNAL:
        principals.add("authenticated")
    elif level == AccessLevel.UNIT:
        principals.update(f"unit:{u.id}" for u in record.access_units)
    elif level == AccessLevel.ROLE:
        principals.update(f"role:{r}" for r in record.access_roles or ())
    elif level == AccessLevel.RESTRICTED:
        principals.update(f"user:{u.id}" for u in record.access_users)
        principals.update(f"group:{g.id}" for g in record.access_groups)
    return sorted(principals)


def user_principals(user: Principal) -> frozenset[str]:
    u = _user(user)
    if u is None:
        return frozenset({"public"})
    principals = {"public", "authenticated", f"user:{u.id}"}
    principals.update(f"role:{r}" for r in u.role_names)
    principals.update(f"unit:{i}" for i in unit_chain_ids(u))
    principals.update(f"group:{g.id}" for g in u.groups)
    if u.has_role(RoleName.CURATOR):
        principals.update(f"curator:{i}" for i in curated_collection_ids(u))
    return frozenset(principals)


def may_deposit_in(user: Principal, collection: Collection | None) -> bool:
    """Instructors anywhere; curators (and admins) in the collections they curate."""
    u = _user(user)
    if u is None or collection is None:
        return False
    return u.has_role(RoleName.INSTRUCTOR) or curates_collection(u, collection)


def curates_collection(user: Principal, collection: Collection | None) -> bool:
    """Admins, and the curators named on ``collection``."""
    u = _user(user)
    if u is None or collection is None:
        return False
    return u.is_admin or (u.has_role(RoleName.CURATOR)
                          and collection.id in curated_collection_ids(u))


def _record(obj: Any) -> Record | None:
    return obj if isinstance(obj, Record) else None


def _collection(obj: Any) -> Collection | None:
    return obj if isinstance(obj, Collection) else None


def _task_record(obj: Any) -> Record | None:
    return obj.record if isinstance(obj, ReviewTask) else None


def _may_edit(user: Principal, record: Record | None) -> bool:
    u = _user(user)
    return u is not None and record is not None and can_edit(u, record)


def may_widen_access_now(user: Principal, record: Record | None) -> bool:
    """May ``user`` let more people see ``record`` without a curator's review?

    Curators of its collections and admins may (audited). So may the depositor while no
    version is published (the review before publication looks at the access settings too);
    once readers can see it, a depositor's widening waits for a curator
    (``lms.catalog.access_requests``).
    """
    if not _may_edit(user, record):
        return False
    return is_curator_of(user, record) or not record.is_published


def may_submit(user: Principal, record: Record | None) -> bool:
    u = _user(user)
    return u is not None and record is not None and record.owner_id == u.id and \
        record.status in (RecordStatus.DRAFT, RecordStatus.RETURNED)


def sees_full_history(user: Principal, record: Record | None) -> bool:
    """The review conversation is for those who took part; readers see the versions only."""
    return sees_working_copy(user, record) or is_curator_of(user, record)


def reviews_anything(user: Principal) -> bool:
    """Curators and admins have a review queue (possibly empty)."""
    u = _user(user)
    return u is not None and (u.is_admin or u.has_role(RoleName.CURATOR))


#: The named rules of records, collections and reviews. ``obj`` is the record unless named.
RULES = {
    "record.view": lambda user, obj: can_view(user, _record(obj)),
    "record.view_working_copy": lambda user, obj: sees_working_copy(user, _record(obj)),
    "record.view_history": lambda user, obj: sees_full_history(user, _record(obj)),
    "record.view_tombstone": lambda user, obj: could_have_seen(user, _record(obj)),
    "record.read_files": lambda user, obj: can_read_files(user, _record(obj)),
    "record.edit": lambda user, obj: _may_edit(user, _record(obj)),
    "record.submit": lambda user, obj: may_submit(user, _record(obj)),
    # Those who may edit it; whether a change waits for a curator: ``record.widen_access``.
    "record.change_access": lambda user, obj: _may_edit(user, _record(obj)),
    "record.widen_access": lambda user, obj: may_widen_access_now(user, _record(obj)),
    "record.curate": lambda user, obj: is_curator_of(user, _record(obj)),
    "record.withdraw": lambda user, obj: is_curator_of(user, _record(obj)) and obj.is_published,
    "record.restore": lambda user, obj: is_curator_of(user, _record(obj))
    and obj.status == RecordStatus.WITHDRAWN,
    "record.map": lambda user, obj: is_curator_of(user, _record(obj)),
    "record.purge": lambda user, obj: admin_only(user) and _record(obj) is not None,
    # Bulk import publishes directly, in any collection.
    "record.import": admin_only,
    # ``obj``: a collection.
    "collection.deposit": lambda user, obj: may_deposit_in(user, _collection(obj)),
    "collection.curate": lambda user, obj: curates_collection(user, _collection(obj)),
    "collection.manage": admin_only,
    # ``obj``: none (the queue page) or a review task.
    "review.queue": lambda user, obj: reviews_anything(user),
    "review.claim": lambda user, obj: is_curator_of(user, _task_record(obj)),
    "review.release": lambda user, obj: is_curator_of(user, _task_record(obj)),
    "review.accept": lambda user, obj: is_curator_of(user, _task_record(obj)),
    "review.return": lambda user, obj: is_curator_of(user, _task_record(obj)),
    # ``obj``: an access request (a depositor's widening, lms.catalog.access_settings).
    "access_request.decide": lambda user, obj: isinstance(obj, AccessRequest)
    and is_curator_of(user, obj.record) and obj.requested_by_id != user.id,
}
