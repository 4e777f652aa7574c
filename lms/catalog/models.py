"""The repository: collections, records (works), their versions, review tasks and history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar, NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from lms.accounts.models import Group, Unit, User
from lms.catalog.sortkeys import version_keys
from lms.db import SortKey, TreeNode, TZDateTime, link_table, utcnow
from lms.extensions import db
from lms.labelled import LabelledEnum
from metadata import Metadata, Statement


class AccessLevel(enum.StrEnum):
    PUBLIC = "public"          # anyone on the network, anonymous included
    INTERNAL = "internal"      # any logged-in user
    UNIT = "unit"              # members of given units, sub-units included
    ROLE = "role"              # holders of given roles
    RESTRICTED = "restricted"  # named users and groups


ACCESS_RANK = {AccessLevel.PUBLIC: 0, AccessLevel.INTERNAL: 1, AccessLevel.UNIT: 2,
               AccessLevel.ROLE: 2, AccessLevel.RESTRICTED: 3}


class RecordStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    SUBMITTED = "submitted", _l("In review")  # in the collection's review workflow
    RETURNED = "returned", _l("Returned")  # sent back to the depositor with a comment
    # the working copy equals the latest published version
    PUBLISHED = "published", _l("Published")
    WITHDRAWN = "withdrawn", _l("Withdrawn")
    PURGED = "purged", _l("Purged")  # legal removal: only the tombstone row is left


class TaskStatus(LabelledEnum):
    POOL = "pool", _l("Waiting")
    CLAIMED = "claimed", _l("Claimed")
    DONE = "done", _l("Decided")


collection_curators = link_table("collection_curators", ("collection_id", "collections.id"),
                                 ("user_id", "users.id"))
record_mappings = link_table("record_mappings", ("record_id", "records.id"),
                             ("collection_id", "collections.id"))


class AccessRoleRow:
    """A role whose holders may read the owning row when its access level is ``role``."""

    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class AccessListSchema(NamedTuple):
    """Where the lists an access level names are kept, for one kind of owner (records, files)."""

    units: Table
    users: Table
    groups: Table
    roles: type[AccessRoleRow]


def access_list_schema(prefix: str, owner: tuple[str, str], roles_model: str
                       ) -> AccessListSchema:
    """The link tables ``<prefix>_units``, ``<prefix>_users`` and ``<prefix>_groups`` and the
    model ``roles_model`` of ``<prefix>_roles``: each row pairs an owner (``owner`` is its
    column and the target of that column) with a unit, user, group or role name."""
    column, target = owner
    roles = type(roles_model, (AccessRoleRow, db.Model), {
        "__module__": __name__,
        "__doc__": AccessRoleRow.__doc__,
        "__tablename__": f"{prefix}_roles",
        column: mapped_column(ForeignKey(target, ondelete="CASCADE"), primary_key=True),
    })
    return AccessListSchema(
        *(link_table(f"{prefix}_{table}", owner, (link, f"{table}.id"))
          for table, link in (("units", "unit_id"), ("users", "user_id"), ("groups", "group_id"))),
        roles,
    )


class HasAccessLists:
    """The lists an access level names, for records and for files with a level of their own:
    units, users and groups (link tables), and roles (rows read and written as the list of
    names ``access_roles``), kept where ``access_schema`` says."""

    access_schema: ClassVar[AccessListSchema]

    @declared_attr
    def access_units(cls) -> Mapped[list[Unit]]:
        return relationship(secondary=cls.access_schema.units)

    @declared_attr
    def access_users(cls) -> Mapped[list[User]]:
        return relationship(secondary=cls.access_schema.users)

    @declared_attr
    def access_groups(cls) -> Mapped[list[Group]]:
        return relationship(secondary=cls.access_schema.groups)

    @declared_attr
    def access_role_rows(cls) -> Mapped[list[AccessRoleRow]]:
        return relationship(cls.access_schema.roles, cascade="all, delete-orphan",
                            passive_deletes=True)

    @declared_attr
    def access_roles(cls) -> AssociationProxy[list[str]]:
        return association_proxy("access_role_rows", "role",
                                 creator=lambda role: cls.access_schema.roles(role=role))


RECORD_ACCESS = access_list_schema("record_access", ("record_id", "records.id"),
                                   "RecordAccessRole")
record_access_units, record_access_users, record_access_groups, RecordAccessRole = RECORD_ACCESS


class Collection(TreeNode, db.Model):
    """A node of the collection tree (per faculty and subject area)."""

    __tablename__ = "collections"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id"), index=True)
    default_access: Mapped[str] = mapped_column(String(16), default=AccessLevel.INTERNAL)
    # 1: a curator accepts and publishes in one step; 2: review, then final edit/publish.
    workflow_steps: Mapped[int] = mapped_column(default=2)
    # Whether one curator may take every step of a deposit; otherwise (the default) each
    # step needs a curator who took none of the earlier ones (four eyes).
    single_reviewer: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    parent: Mapped[Collection | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Collection]] = relationship(
        back_populates="parent", order_by="Collection.title"
    )
    curators: Mapped[list[User]] = relationship(secondary=collection_curators,
                                                order_by=User.username)

    @property
    def path_slugs(self) -> list[str]:
        return [c.slug for c in [*self.ancestors, self]]

    def display_title(self, lang: str) -> str:
        return self.title_en if lang == "en" and self.title_en else self.title


class Record(HasAccessLists, db.Model):
    """A work: its working copy of metadata, its access settings and its published versions."""

    __tablename__ = "records"
    access_schema = RECORD_ACCESS

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=RecordStatus.DRAFT, index=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    metadata_incomplete: Mapped[bool] = mapped_column(default=False)

    access_level: Mapped[str] = mapped_column(String(16), default=AccessLevel.INTERNAL)
    embargo_until: Mapped[date | None] = mapped_column(Date)
    embargo_reason: Mapped[str] = mapped_column(Text, default="")
    discoverable: Mapped[bool] = mapped_column(default=True)

    # The latest published version (0: never published). Bumped only by publishing a change.
    current_version: Mapped[int] = mapped_column(default=0)
    # Optimistic locking: every saved change increments it; a stale form is refused.
    lock_version: Mapped[int] = mapped_column(default=1)
    # Once anonymous readers could see it, OAI-PMH must report its removal as a deletion.
    ever_public: Mapped[bool] = mapped_column(default=False)

    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    published_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="")

    owner: Mapped[User | None] = relationship()
    collection: Mapped[Collection | None] = relationship()
    mapped_collections: Mapped[list[Collection]] = relationship(secondary=record_mappings)
    values: Mapped[list[RecordValue]] = relationship(
        back_populates="record", order_by="RecordValue.position",
        cascade="all, delete-orphan", passive_deletes=True,
    )
    versions: Mapped[list[RecordVersion]] = relationship(
        back_populates="record", order_by="RecordVersion.number",
        cascade="all, delete-orphan", passive_deletes=True,
    )

    @property
    def dc(self) -> Metadata:
        """The working copy's metadata."""
        return Metadata(Statement(v.term, v.value, v.lang, v.scheme) for v in self.values)

    @property
    def all_collections(self) -> list[Collection]:
        owning = [self.collection] if self.collection else []
        return owning + [c for c in self.mapped_collections if c is not self.collection]

    def version(self, number: int) -> RecordVersion | None:
        return next((v for v in self.versions if v.number == number), None)

    @property
    def latest_version(self) -> RecordVersion | None:
        return self.version(self.current_version) if self.current_version else None

    @property
    def published_title(self) -> str:
        """The title readers see: the latest published version's (the working copy may differ)."""
        latest = self.latest_version
        return latest.title if latest is not None else self.title

    @property
    def is_published(self) -> bool:
        return self.current_version > 0 and self.status not in (
            RecordStatus.WITHDRAWN, RecordStatus.PURGED)


class RecordValue(db.Model):
    """One Dublin Core statement of a record's working copy."""

    __tablename__ = "record_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"),
                                           index=True)
    position: Mapped[int] = mapped_column(Integer)
    term: Mapped[str] = mapped_column(String(64), index=True)
    value: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(35))
    scheme: Mapped[str | None] = mapped_column(String(64))

    record: Mapped[Record] = relationship(back_populates="values")


class RecordVersion(db.Model):
    """A published state of a work, frozen: its metadata (and, with the files issue, files)."""

    __tablename__ = "record_versions"
    __table_args__ = (UniqueConstraint("record_id", "number", name="record_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"),
                                           index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    statements: Mapped[list[list[Any]]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Listing sort keys (lms.catalog.sortkeys), set when the version is inserted.
    sort_title: Mapped[str] = mapped_column(SortKey, default="")
    sort_creator: Mapped[str] = mapped_column(SortKey, default="")
    issued: Mapped[str | None] = mapped_column(String(32).with_variant(
        String(32, collation="C"), "postgresql"))
    type: Mapped[str | None] = mapped_column(String(32))

    record: Mapped[Record] = relationship(back_populates="versions")
    published_by: Mapped[User | None] = relationship()

    @property
    def dc(self) -> Metadata:
        return Metadata(Statement(*row) for row in self.statements)


@event.listens_for(RecordVersion, "before_insert")
def _set_sort_keys(mapper, connection, version: RecordVersion) -> None:
    # A published version never changes: its listing keys are computed once, here, whichever
    # path publishes it (review, import, demo). No SQL: only the row's own attributes.
    keys = version_keys(version.title, version.statements or [])
    version.sort_title, version.sort_creator = keys.sort_title, keys.sort_creator
    version.issued, version.type = keys.issued, keys.type


class ReviewTask(db.Model):
    """One step of a record's review, claimed from the collection's pool by one curator."""

    __tablename__ = "review_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"),
                                           index=True)
    step: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.POOL, index=True)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    record: Mapped[Record] = relationship()
    claimed_by: Mapped[User | None] = relationship()


class WorkflowEvent(db.Model):
    """A transition in a record's life, shown as its history."""

    __tablename__ = "workflow_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"),
                                           index=True)
    at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")

    record: Mapped[Record] = relationship()
    actor: Mapped[User | None] = relationship()


class AccessRequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # replaced by a newer request or a curator's own change


class AccessRequest(db.Model):
    """A depositor's change that would let more people see a published record (or one of
    its files), waiting for a curator of the collection to approve or reject it.

    ``requested`` holds only the parts that wait, under the names of
    ``lms.catalog.access_settings.settings_summary`` (ids for units, users and groups): for
    the record, ``level`` with its lists, ``embargo_until`` (with ``embargo_reason``) and/or
    ``discoverable``; for a file, ``level`` (``None``: follow the record) with its lists.
    ``before`` is the summary of the settings when it was asked, for the curator to compare.
    """

    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"),
                                           index=True)
    file_id: Mapped[int | None] = mapped_column(
        ForeignKey("record_files.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=AccessRequestStatus.PENDING,
                                        index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    comment: Mapped[str] = mapped_column(Text, default="")

    record: Mapped[Record] = relationship()
    file: Mapped[Any] = relationship("RecordFile")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
