"""People and organisation: users, roles, units and groups.

Every function takes the acting user explicitly, checks the policy, changes the database in
one unit of work and writes the audit log in the same transaction.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from lms import audit
from lms.accounts import events
from lms.accounts.access import DEFAULT_ROLES, grants_admin, is_last_active_admin
from lms.accounts.models import (
    Group,
    PersonTerm,
    Role,
    RoleName,
    TermKind,
    Unit,
    User,
    unit_commanders,
)
from lms.auth.services import check_password_rules, find_user
from lms.db import chunked, tree_order
from lms.errors import Conflict, NotFound, ValidationError
from lms.extensions import db
from lms.passwords import hash_generated_password, hash_password
from lms.permissions import require
from lms.text import clean_text, escape_like, slugify
from lms.uow import unit_of_work

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
UNIT_SEPARATOR = "/"


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

PERSON_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$")
MAX_COHORT_YEAR = 10


def _clean_full_name(value: str) -> str:
    return clean_text(value, max_length=200, what=_("Full name")) if value else ""


@dataclass
class Profile:
    """What describes a person besides their account: audiences select on these."""

    full_name: str = ""
    email: str | None = None
    person_code: str | None = None
    rank: PersonTerm | None = None
    position: PersonTerm | None = None
    target_group: PersonTerm | None = None
    cohort: str | None = None
    class_name: str | None = None
    cohort_year: int | None = None


def clean_email(value: str | None) -> str | None:
    """:raise ValidationError: not an e-mail address."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValidationError(_("%(value)s is not a valid e-mail address.", value=value)) \
            from error


def clean_person_code(value: str | None) -> str | None:
    """:raise ValidationError: a code with characters other than letters, digits, . _ / -."""
    value = (value or "").strip()
    if not value:
        return None
    if not PERSON_CODE_PATTERN.match(value):
        raise ValidationError(_("A person code has 1–32 characters: letters, digits, '.', "
                                "'_', '/' or '-'."))
    return value


def clean_cohort_year(value: int | None) -> int | None:
    if value is None:
        return None
    if not 1 <= value <= MAX_COHORT_YEAR:
        raise ValidationError(_("The year of study is a number from 1 to %(n)d.",
                                n=MAX_COHORT_YEAR))
    return value


def _optional_text(value: str | None, what: str) -> str | None:
    return clean_text(value, max_length=64, what=what) if value and value.strip() else None


def _check_term(term: PersonTerm | None, kind: TermKind) -> PersonTerm | None:
    if term is not None and term.kind != kind:
        raise ValidationError(_("Unknown value for %(what)s.", what=TERM_KIND_LABELS[kind]))
    return term


def _apply_profile(user: User, profile: Profile) -> None:
    """Check ``profile`` and write it onto ``user``.

    :raise ValidationError: a bad e-mail, person code, year or list value.
    :raise Conflict: another person has this person code.
    """
    person_code = clean_person_code(profile.person_code)
    if person_code is not None:
        holder = db.session.scalar(select(User).where(
            func.lower(User.person_code) == person_code.lower()))
        if holder is not None and holder is not user:
            raise Conflict(_("The person code %(code)s belongs to %(name)s.",
                             code=person_code, name=holder.username))
    user.full_name = _clean_full_name(profile.full_name)
    user.email = clean_email(profile.email)
    user.person_code = person_code
    user.rank = _check_term(profile.rank, TermKind.RANK)
    user.position = _check_term(profile.position, TermKind.POSITION)
    user.target_group = _check_term(profile.target_group, TermKind.TARGET_GROUP)
    user.cohort = _optional_text(profile.cohort, _("Cohort"))
    user.class_name = _optional_text(profile.class_name, _("Class"))
    user.cohort_year = clean_cohort_year(profile.cohort_year)


def profile_of(user: User) -> Profile:
    return Profile(full_name=user.full_name, email=user.email, person_code=user.person_code,
                   rank=user.rank, position=user.position, target_group=user.target_group,
                   cohort=user.cohort, class_name=user.class_name, cohort_year=user.cohort_year)


@dataclass
class UserInput:
    username: str
    profile: Profile = field(default_factory=Profile)
    password: str | None = None
    roles: tuple[str, ...] = DEFAULT_ROLES
    unit_path: str | None = None
    is_demo: bool = False
    groups: tuple[Group, ...] = ()


def check_username(username: str) -> str:
    """:raise ValidationError: not 2–64 letters a–z, digits, '.', '_' or '-'."""
    username = username.strip()
    if not USERNAME_PATTERN.match(username):
        raise ValidationError(
            _("A username has 2–64 characters: letters a–z, digits, '.', '_' or '-'.")
        )
    return username


def create_user(actor: User | None, data: UserInput) -> tuple[User, str | None]:
    """Create an account. ``actor`` None means the command line (an operator on the server).

    Without a password a random one is generated, returned once, and must be changed at
    first login.

    :raise ValidationError: bad username, password, role, unit or profile.
    :raise Conflict: the username or person code is taken.
    """
    if actor is not None:
        require(actor, "user.manage")
    username = check_username(data.username)
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
                             full_name=_clean_full_name(data.profile.full_name))
    with unit_of_work() as on_commit:
        user = User(
            username=username,
            password_hash=hash_generated_password(password) if generated
            else hash_password(password),
            must_change_password=generated is not None,
            unit=unit,
            roles=roles,
            groups=list({g.id: g for g in data.groups}.values()),
            is_demo=data.is_demo,
        )
        _apply_profile(user, data.profile)
        db.session.add(user)
        db.session.flush()
        audit.record("user_create", actor=actor, obj=user,
                     details={"username": username, "roles": sorted(r.name for r in roles),
                              "unit": unit.path if unit else None})
        events.people_changed([user.id], on_commit)
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
    profile: Profile,
    unit: Unit | None,
    roles: Iterable[str],
    groups: Iterable[Group],
) -> None:
    """Change a user's profile, unit, roles and groups; audiences follow in the same commit.

    :raise Conflict: the change would remove the last active administrator, or the person
        code belongs to someone else.
    """
    require(actor, "user.manage")
    require(actor, "role.assign", user)
    new_roles = roles_by_name(roles)
    new_role_names = {r.name for r in new_roles}
    _guard_last_admin(user, loses_admin=not grants_admin(new_role_names))
    before = {"roles": [role.name for role in user.roles],
              "unit": user.unit.path if user.unit else None,
              "groups": sorted(g.name for g in user.groups)}
    with unit_of_work() as on_commit:
        _apply_profile(user, profile)
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
        db.session.flush()
        events.people_changed([user.id], on_commit)


def move_people(actor: User, user_ids: Collection[int], unit: Unit | None) -> int:
    """Move many people to ``unit`` at once (bulk SQL); audiences and enrolments follow in the
    same commit. Returns how many people changed unit.

    :raise PermissionDenied: ``actor`` may not manage users.
    """
    require(actor, "user.manage")
    ids = sorted(set(user_ids))
    target = unit.id if unit is not None else None
    with unit_of_work() as on_commit:
        moved: list[int] = []
        for chunk in chunked(ids, 500):
            moved += db.session.scalars(select(User.id).where(
                User.id.in_(chunk), User.unit_id.is_distinct_from(target))).all()
        for chunk in chunked(moved, 500):
            db.session.execute(update(User).where(User.id.in_(chunk)).values(unit_id=target))
        if moved:
            audit.record("people_move", actor=actor, object_type="units", object_id=target,
                         details={"unit": unit.path if unit else None, "count": len(moved),
                                  "user_ids": moved[:200]})
            db.session.expire_all()
            events.people_changed(moved, on_commit)
    return len(moved)


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
        user.password_hash = hash_generated_password(password)
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
    moved = parent is not unit.parent
    with unit_of_work() as on_commit:
        unit.name = name
        unit.parent = parent
        db.session.flush()
        audit.record("unit_update", actor=actor, obj=unit,
                     details={"before": before, "after": unit.path})
        if moved:
            # Rules on a unit "with its sub-units" may now select other people.
            events.people_changed(people_in_units(subtree_ids(unit.id)), on_commit)


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
        events.units_deleted([unit.id])
        db.session.delete(unit)


def set_commanders(actor: User, unit: Unit, usernames: Iterable[str]) -> list[User]:
    """Make exactly the people named the commanders (chỉ huy) of ``unit``: they see its
    reports and get the weekly digest of who is overdue in it (audited).

    :raise ValidationError: a name that is no active account.
    """
    require(actor, "unit.manage")
    wanted: dict[int, User] = {}
    unknown = []
    for name in usernames:
        name = name.strip()
        if not name:
            continue
        person = find_user(name)
        if person is None or not person.active:
            unknown.append(name)
        else:
            wanted[person.id] = person
    if unknown:
        raise ValidationError(_("No active account is named %(names)s.",
                                names=", ".join(unknown[:10])))
    before = sorted(u.username for u in unit.commanders)
    with unit_of_work():
        unit.commanders = sorted(wanted.values(), key=lambda u: u.username)
        audit.record("unit_commanders", actor=actor, obj=unit,
                     details={"before": before,
                              "after": sorted(u.username for u in wanted.values())})
    return unit.commanders


def commanded_unit_ids(user: User) -> set[int]:
    """The units ``user`` commands, with every unit below them."""
    direct = db.session.scalars(select(unit_commanders.c.unit_id).where(
        unit_commanders.c.user_id == user.id)).all()
    return subtree_ids(*direct) if direct else set()


def subtree_ids(*unit_ids: int) -> set[int]:
    """The given units and every unit below them (one query for the whole tree)."""
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in db.session.execute(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent_id, []).append(unit_id)
    found: set[int] = set()
    stack = [u for u in unit_ids if u is not None]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, ()))
    return found


def people_in_units(unit_ids: Collection[int]) -> list[int]:
    ids: list[int] = []
    for chunk in chunked(sorted(unit_ids), 500):
        ids += db.session.scalars(select(User.id).where(User.unit_id.in_(chunk))).all()
    return ids


def unit_tree() -> list[tuple[Unit, int]]:
    """Every unit with its depth, in tree order."""
    return tree_order(db.session.scalars(select(Unit).order_by(Unit.name)))


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


def all_groups() -> list[Group]:
    return list(db.session.scalars(select(Group).order_by(Group.name)))


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


# --- controlled lists: ranks, positions, target groups -------------------------------------


TERM_KIND_LABELS = {
    TermKind.RANK: _l("Rank"),
    TermKind.POSITION: _l("Position"),
    TermKind.TARGET_GROUP: _l("Target group"),
}


def term_kind(value: str) -> TermKind:
    """:raise NotFound: not a list people are described with."""
    try:
        return TermKind(value)
    except ValueError:
        raise NotFound() from None


def list_terms(kind: TermKind, *, active_only: bool = False) -> list[PersonTerm]:
    stmt = select(PersonTerm).where(PersonTerm.kind == kind)
    if active_only:
        stmt = stmt.where(PersonTerm.active.is_(True))
    return list(db.session.scalars(stmt.order_by(PersonTerm.sort_order, PersonTerm.name)))


def get_term(term_id: int | None, kind: TermKind) -> PersonTerm | None:
    """The entry ``term_id`` of list ``kind``; ``None`` or 0 give None.

    :raise ValidationError: no such entry in this list.
    """
    if not term_id:
        return None
    term = db.session.get(PersonTerm, term_id)
    if term is None or term.kind != kind:
        raise ValidationError(_("Unknown value for %(what)s.", what=TERM_KIND_LABELS[kind]))
    return term


def save_term(actor: User, kind: TermKind, term: PersonTerm | None, *, name: str,
              name_en: str = "", sort_order: int | None = None,
              active: bool = True) -> PersonTerm:
    """Add (``term`` None) or change an entry of a controlled list.

    :raise ValidationError: empty or too long name.
    :raise Conflict: another entry of the list has this name.
    """
    require(actor, "user.manage")
    name = clean_text(name, max_length=120, what=_("Name"))
    name_en = clean_text(name_en, max_length=120, what=_("English name")) \
        if name_en and name_en.strip() else ""
    clash = db.session.scalar(select(PersonTerm).where(
        PersonTerm.kind == kind, func.lower(PersonTerm.name) == name.lower()))
    if clash is not None and clash is not term:
        raise Conflict(_("%(name)s is already in the list.", name=name))
    with unit_of_work():
        if term is None:
            code = unique_term_code(kind, slugify(name))
            last = db.session.scalar(select(func.max(PersonTerm.sort_order)).where(
                PersonTerm.kind == kind)) or 0
            term = PersonTerm(kind=kind, code=code, sort_order=last + 10)
            db.session.add(term)
        before = {"name": term.name, "active": term.active}
        term.name, term.name_en, term.active = name, name_en, active
        if sort_order is not None:
            term.sort_order = sort_order
        db.session.flush()
        audit.record("person_term_save", actor=actor, obj=term,
                     details={"kind": str(kind), "before": before,
                              "after": {"name": name, "active": active}})
    return term


def unique_term_code(kind: TermKind, base: str) -> str:
    base = (base or "term")[:56]
    taken = set(db.session.scalars(select(PersonTerm.code).where(
        PersonTerm.kind == kind, PersonTerm.code.like(f"{escape_like(base)}%", escape="\\"))))
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    return code
