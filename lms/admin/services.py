"""People and organisation: users, roles, units and groups. Admins only.

Every function takes the acting user explicitly, checks the policy, changes the database in
one unit of work and writes the audit log in the same transaction.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from lms import audit
from lms.auth.services import check_password_rules, find_user
from lms.errors import Conflict, NotFound, ValidationError
from lms.extensions import db
from lms.models import Group, Role, RoleName, Unit, User
from lms.passwords import hash_password
from lms.permissions import DEFAULT_ROLES, grants_admin, is_last_active_admin, require
from lms.uow import unit_of_work

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
UNIT_SEPARATOR = "/"


def clean_text(value: str, *, max_length: int, what: str) -> str:
    """NFC, trimmed, no control characters.

    :raise ValidationError: empty, too long or containing control characters.
    """
    value = unicodedata.normalize("NFC", value or "").strip()
    if not value:
        raise ValidationError(_("%(what)s must not be empty.", what=what))
    if len(value) > max_length:
        raise ValidationError(_("%(what)s is too long (at most %(n)d characters).", what=what,
                                n=max_length))
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise ValidationError(_("%(what)s contains invalid characters.", what=what))
    return value


def escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (with ``escape="\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- roles ---------------------------------------------------------------------------------

def roles_by_name(names: Iterable[str]) -> list[Role]:
    """:raise ValidationError: a name is not a known role."""
    names = set(names)
    if not names:
        raise ValidationError(_("Choose at least one role."))
    valid = {str(r) for r in RoleName}
    unknown = names - valid
    if unknown:
        raise ValidationError(
            _("Unknown role: %(roles)s. Known roles: %(valid)s.",
              roles=", ".join(sorted(unknown)), valid=", ".join(sorted(valid)))
        )
    return list(db.session.scalars(select(Role).where(Role.name.in_(names)).order_by(Role.name)))


def _guard_last_admin(user: User, *, loses_admin: bool) -> None:
    if loses_admin and is_last_active_admin(user):
        raise Conflict(
            _("%(name)s is the last active administrator and cannot be demoted or disabled.",
              name=user.username)
        )


# --- users ---------------------------------------------------------------------------------

def _clean_full_name(value: str) -> str:
    return clean_text(value, max_length=200, what=_("Full name")) if value else ""


@dataclass
class UserInput:
    username: str
    full_name: str = ""
    password: str | None = None
    roles: tuple[str, ...] = DEFAULT_ROLES
    unit_path: str | None = None
    rank: str | None = None
    email: str | None = None
    is_demo: bool = False
    groups: tuple[Group, ...] = ()


def create_user(actor: User | None, data: UserInput) -> tuple[User, str | None]:
    """Create an account. ``actor`` None means the command line (an operator on the server).

    Without a password a random one is generated, returned once, and must be changed at
    first login.

    :raise ValidationError: bad username, password, role or unit.
    :raise Conflict: the username is taken.
    """
    if actor is not None:
        require(actor, "user.manage")
    username = data.username.strip()
    if not USERNAME_PATTERN.match(username):
        raise ValidationError(
            _("A username has 2–64 characters: letters a–z, digits, '.', '_' or '-'.")
        )
    if find_user(username) is not None:
        raise Conflict(_("The username %(name)s is already taken.", name=username))
    roles = roles_by_name(data.roles)
    unit = find_unit(data.unit_path) if data.unit_path else None
    generated = None
    password = data.password
    if password is None:
        password = generated = secrets.token_urlsafe(12)
    else:
        check_password_rules(password, username=username,
                             full_name=_clean_full_name(data.full_name))
    full_name = _clean_full_name(data.full_name)
    with unit_of_work():
        user = User(
            username=username,
            full_name=full_name,
            password_hash=hash_password(password),
            must_change_password=generated is not None,
            rank=data.rank or None,
            email=data.email or None,
            unit=unit,
            roles=roles,
            groups=list({g.id: g for g in data.groups}.values()),
            is_demo=data.is_demo,
        )
        db.session.add(user)
        db.session.flush()
        audit.record("user_create", actor=actor, obj=user,
                     details={"username": username, "roles": sorted(r.name for r in roles),
                              "unit": unit.path if unit else None})
    return user, generated


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


def update_user(
    actor: User,
    user: User,
    *,
    full_name: str,
    rank: str | None,
    email: str | None,
    unit: Unit | None,
    roles: Iterable[str],
    groups: Iterable[Group],
) -> None:
    """Change a user's profile, unit, roles and groups.

    :raise Conflict: the change would remove the last active administrator.
    """
    require(actor, "user.manage")
    require(actor, "role.assign", user)
    new_roles = roles_by_name(roles)
    new_role_names = {r.name for r in new_roles}
    _guard_last_admin(user, loses_admin=not grants_admin(new_role_names))
    before = {"roles": [role.name for role in user.roles],
              "unit": user.unit.path if user.unit else None,
              "groups": sorted(g.name for g in user.groups)}
    with unit_of_work():
        user.full_name = _clean_full_name(full_name)
        user.rank = rank or None
        user.email = email or None
        user.unit = unit
        user.groups = list(groups)
        roles_changed = set(before["roles"]) != new_role_names
        user.roles = new_roles
        if roles_changed:
            # A changed role ends the sessions opened under the old one.
            user.session_version += 1
        after = {"roles": sorted(new_role_names), "unit": unit.path if unit else None,
                 "groups": sorted(g.name for g in user.groups)}
        if before != after:
            audit.record("user_update", actor=actor, obj=user,
                         details={"before": before, "after": after})


def set_active(actor: User, user: User, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions.

    :raise Conflict: ``user`` is the last active administrator.
    """
    require(actor, "user.manage")
    if not active:
        _guard_last_admin(user, loses_admin=True)
    if user.active == active:
        return
    with unit_of_work():
        user.active = active
        user.session_version += 1
        audit.record("user_activate" if active else "user_deactivate", actor=actor, obj=user)


def reset_password(actor: User, user: User) -> str:
    """Give ``user`` a new random password that must be changed at next login."""
    require(actor, "user.manage")
    password = secrets.token_urlsafe(12)
    with unit_of_work():
        user.password_hash = hash_password(password)
        user.must_change_password = True
        user.session_version += 1
        audit.record("password_reset", actor=actor, obj=user)
    return password


def list_users(*, query: str = "", role: str = "", unit_id: int | None = None,
               active: bool | None = None):
    stmt = select(User).order_by(User.username)
    if query:
        like = f"%{escape_like(query.lower())}%"
        stmt = stmt.where(
            func.lower(User.username).like(like, escape="\\")
            | func.lower(User.full_name).like(like, escape="\\")
        )
    if role:
        stmt = stmt.where(User.roles.any(Role.name == role))
    if unit_id:
        stmt = stmt.where(User.unit_id == unit_id)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    return stmt


# --- units ---------------------------------------------------------------------------------

def split_unit_path(path: str) -> list[str]:
    """The names along ``path``, each checked like a unit name.

    :raise ValidationError: no name, or a name that is too long or has control characters.
    """
    parts = [p.strip() for p in unicodedata.normalize("NFC", path or "").split(UNIT_SEPARATOR)]
    parts = [p for p in parts if p]
    if not parts:
        raise ValidationError(_("A unit path must name at least one unit."))
    return [clean_text(p, max_length=200, what=_("Unit name")) for p in parts]


def find_unit(path: str) -> Unit:
    """:raise NotFound: no unit has this path (names separated by '/')."""
    unit = None
    for name in split_unit_path(path):
        unit = db.session.scalar(select(Unit).where(Unit.name == name, _under(unit)))
        if unit is None:
            raise NotFound(_("No unit at %(path)s.", path=path))
    assert unit is not None
    return unit


def _under(parent: Unit | None):
    return Unit.parent_id == parent.id if parent else Unit.parent_id.is_(None)


def _sibling_exists(parent: Unit | None, name: str, exclude: Unit | None = None) -> bool:
    stmt = select(Unit.id).where(Unit.name == name, _under(parent))
    if exclude is not None:
        stmt = stmt.where(Unit.id != exclude.id)
    return db.session.scalar(stmt) is not None


def create_unit(actor: User | None, name: str, parent: Unit | None) -> Unit:
    """:raise ValidationError: bad name. :raise Conflict: a sibling has the same name."""
    if actor is not None:
        require(actor, "unit.manage")
    name = clean_text(name, max_length=200, what=_("Unit name"))
    if UNIT_SEPARATOR in name:
        raise ValidationError(_("A unit name must not contain '/'."))
    if _sibling_exists(parent, name):
        raise Conflict(_("A unit named %(name)s already exists there.", name=name))
    with unit_of_work():
        unit = Unit(name=name, parent=parent)
        db.session.add(unit)
        db.session.flush()
        audit.record("unit_create", actor=actor, obj=unit, details={"path": unit.path})
    return unit


def create_unit_path(actor: User | None, path: str) -> tuple[Unit, list[Unit]]:
    """Create the unit at ``path``, and any missing units above it; returns (unit, created)."""
    parent: Unit | None = None
    created: list[Unit] = []
    for name in split_unit_path(path):
        existing = db.session.scalar(select(Unit).where(Unit.name == name, _under(parent)))
        if existing is None:
            existing = create_unit(actor, name, parent)
            created.append(existing)
        parent = existing
    assert parent is not None
    return parent, created


def update_unit(actor: User, unit: Unit, *, name: str, parent: Unit | None) -> None:
    """Rename or move a unit.

    :raise Conflict: ``parent`` is the unit itself or one of its descendants, or a sibling
        there has the same name.
    """
    require(actor, "unit.manage")
    name = clean_text(name, max_length=200, what=_("Unit name"))
    if UNIT_SEPARATOR in name:
        raise ValidationError(_("A unit name must not contain '/'."))
    if parent is not None and (parent.id == unit.id or parent.is_descendant_of(unit)):
        raise Conflict(_("A unit cannot be moved under itself or one of its own sub-units."))
    if _sibling_exists(parent, name, exclude=unit):
        raise Conflict(_("A unit named %(name)s already exists there.", name=name))
    before = unit.path
    with unit_of_work():
        unit.name = name
        unit.parent = parent
        db.session.flush()
        audit.record("unit_update", actor=actor, obj=unit,
                     details={"before": before, "after": unit.path})


def delete_unit(actor: User, unit: Unit) -> None:
    """:raise Conflict: the unit still has members or sub-units."""
    require(actor, "unit.manage")
    if unit.members:
        raise Conflict(_("%(name)s still has %(n)d members; move them first.",
                         name=unit.name, n=len(unit.members)))
    if unit.children:
        raise Conflict(_("%(name)s still has sub-units; move or delete them first.",
                         name=unit.name))
    path = unit.path
    with unit_of_work():
        audit.record("unit_delete", actor=actor, obj=unit, details={"path": path})
        db.session.delete(unit)


def unit_tree() -> list[tuple[Unit, int]]:
    """Every unit with its depth, in tree order."""
    units = list(db.session.scalars(select(Unit).order_by(Unit.name)))
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[tuple[Unit, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for unit in children.get(parent_id, []):
            ordered.append((unit, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return ordered


# --- groups --------------------------------------------------------------------------------

def save_group(actor: User, group: Group | None, *, name: str, description: str,
               members: Iterable[User]) -> Group:
    """Create (``group`` None) or update a group.

    :raise Conflict: another group has this name.
    """
    require(actor, "group.manage")
    name = clean_text(name, max_length=120, what=_("Group name"))
    clash = db.session.scalar(select(Group).where(func.lower(Group.name) == name.lower()))
    if clash is not None and clash is not group:
        raise Conflict(_("A group named %(name)s already exists.", name=name))
    members = list({u.id: u for u in members}.values())  # a name listed twice counts once
    with unit_of_work():
        before = sorted(u.username for u in group.members) if group else []
        if group is None:
            group = Group(name=name)
            db.session.add(group)
        group.name = name
        group.description = (description or "").strip()[:2000]
        group.members = members
        db.session.flush()
        audit.record("group_save", actor=actor, obj=group,
                     details={"name": name, "members_before": before,
                              "members_after": sorted(u.username for u in members)})
    return group


def get_group(group_id: int) -> Group:
    group = db.session.get(Group, group_id)
    if group is None:
        raise NotFound()
    return group


def get_unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound()
    return unit
