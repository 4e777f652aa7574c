"""People and organisation: accounts, roles, units (the unit tree) and groups."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import TreeNode, TZDateTime, link_table, utcnow
from lms.extensions import db
from lms.labelled import LabelledEnum


class RoleName(LabelledEnum):
    ADMIN = "admin", _l("Administrator")
    CURATOR = "curator", _l("Curator (librarian)")
    INSTRUCTOR = "instructor", _l("Instructor")
    TRAINER = "trainer", _l("Training officer")
    LEARNER = "learner", _l("Learner / staff")


ROLE_LABELS = RoleName.labels()


user_roles = link_table(
    "user_roles", ("user_id", "users.id"), ("role_id", "roles.id")
)

group_members = link_table(
    "group_members", ("group_id", "groups.id"), ("user_id", "users.id")
)

# The commanders (chỉ huy) of a unit: a role held for one unit, over its whole subtree. They
# see reports of their units and receive the weekly digest of who is overdue there.
unit_commanders = link_table(
    "unit_commanders", ("unit_id", "units.id"), ("user_id", "users.id")
)


class Role(db.Model):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class Unit(TreeNode, db.Model):
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
    commanders: Mapped[list[User]] = relationship(secondary=unit_commanders,
                                                  order_by="User.username")

    @property
    def path(self) -> str:
        return "/".join(u.name for u in [*self.ancestors, self])


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


class TermKind(enum.StrEnum):
    """The controlled lists people are described with (admin-editable)."""

    RANK = "rank"  # cấp bậc
    POSITION = "position"  # chức vụ
    TARGET_GROUP = "target_group"  # đối tượng


class PersonTerm(db.Model):
    """One entry of a controlled list: a rank, a position or a target group.

    Entries in use are deactivated, never deleted, so that people and audience rules keep
    pointing at them.
    """

    __tablename__ = "person_terms"
    __table_args__ = (UniqueConstraint("kind", "code", name="kind_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    def label(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    # Unique when given: a service number (số hiệu quân nhân) or another code of the person.
    person_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    rank_id: Mapped[int | None] = mapped_column(ForeignKey("person_terms.id"), index=True)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("person_terms.id"), index=True)
    target_group_id: Mapped[int | None] = mapped_column(ForeignKey("person_terms.id"),
                                                        index=True)
    cohort: Mapped[str | None] = mapped_column(String(64), index=True)  # khóa, e.g. "K45"
    class_name: Mapped[str | None] = mapped_column(String(64))  # lớp
    cohort_year: Mapped[int | None] = mapped_column()  # năm học (cadets: year 1-5)
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
    rank: Mapped[PersonTerm | None] = relationship(foreign_keys=[rank_id])
    position: Mapped[PersonTerm | None] = relationship(foreign_keys=[position_id])
    target_group: Mapped[PersonTerm | None] = relationship(foreign_keys=[target_group_id])
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


class PeopleImportBatch(db.Model):
    """The people one import created, until their one-time passwords are handed out (once)."""

    __tablename__ = "people_import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                               index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    user_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    passwords_issued_at: Mapped[datetime | None] = mapped_column(TZDateTime)
