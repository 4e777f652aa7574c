"""Core models: people, roles, groups, units, the audit log, jobs and throttle counters.

Feature packages add their own models beside these; every table is created by an Alembic
migration under ``lms/migrations``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import TZDateTime, link_table, utcnow
from lms.extensions import db


class RoleName(enum.StrEnum):
    ADMIN = "admin"
    CURATOR = "curator"
    INSTRUCTOR = "instructor"
    TRAINER = "trainer"
    LEARNER = "learner"


user_roles = link_table(
    "user_roles", ("user_id", "users.id"), ("role_id", "roles.id")
)

group_members = link_table(
    "group_members", ("group_id", "groups.id"), ("user_id", "users.id")
)


class Role(db.Model):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class Unit(db.Model):
    """An organisational unit (đơn vị): academy → faculty/department → class."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="parent_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(
        back_populates="parent", order_by="Unit.name"
    )
    members: Mapped[list[User]] = relationship(back_populates="unit")

    @property
    def ancestors(self) -> list[Unit]:
        """Units above this one, the root first."""
        chain: list[Unit] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]

    @property
    def path(self) -> str:
        return "/".join(u.name for u in [*self.ancestors, self])

    def is_descendant_of(self, other: Unit) -> bool:
        return any(a.id == other.id for a in self.ancestors)


class Group(db.Model):
    """A named set of users, used by access rules."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(
        secondary=group_members, back_populates="groups", order_by="User.username"
    )


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    rank: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Bumped whenever existing sessions must stop working (logout everywhere, password
    # change, deactivation, role change): a login session (lms.auth.models.UserSession)
    # made under an older version is dead.
    session_version: Mapped[int] = mapped_column(default=1)
    is_demo: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(String(8))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    unit: Mapped[Unit | None] = relationship(back_populates="members")
    roles: Mapped[list[Role]] = relationship(secondary=user_roles, order_by=Role.name)
    groups: Mapped[list[Group]] = relationship(
        secondary=group_members, back_populates="members", order_by=Group.name
    )

    # The token of the login session this object was loaded for (lms.auth.services); a plain
    # attribute, not a column (an annotation would make the ORM map it).
    login_token = None

    def get_id(self) -> str:
        """What Flask-Login keeps in the cookie: the server-side session's token (an empty
        string, which loads nobody, if no session was started)."""
        return self.login_token or ""

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    @property
    def role_names(self) -> set[str]:
        return {r.name for r in self.roles}

    def has_role(self, role: RoleName | str) -> bool:
        return str(role) in self.role_names

    @property
    def is_admin(self) -> bool:
        return self.has_role(RoleName.ADMIN)

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class AuditEvent(db.Model):
    """One security-relevant event. The table is append-only: triggers refuse UPDATE/DELETE."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_name: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(32))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(db.Model):
    """What a background job is doing, for its owner to watch."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None] = mapped_column()
    message: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))


class ThrottleCounter(db.Model):
    """A failure counter shared by every worker process (used without Redis)."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(TZDateTime)
    count: Mapped[int] = mapped_column(default=0)
