"""Comparing access settings: does a change let anyone new see a record or its files?

Pure Python on ids (no Flask, no database), so that the comparison can be tested against
brute force over every possible reader (``tests/unit/catalog/test_audience.py``).

An :class:`Audience` is what an access level and its lists admit. Public admits everyone,
internal every logged-in user, and unit, role and restricted their lists: a unit covers its
sub-units, a role list admits a holder of any of its roles, a restricted list its users and
the members of its groups. Levels of different kinds are not ordered by rank but by who
they admit: unit → role widens (a holder of the role outside the units is new), whatever
the two lists are, because accounts change units, roles and groups over time.

A record's settings also have an embargo (files hidden from readers until a date) and a
*discoverable* flag (listed, searched, harvested). :func:`widened_parts` names the parts of a
change that admit someone new on some channel:

- ``audience``: a reader the old level and lists did not admit is admitted;
- ``embargo``: an embargo still running ends earlier (or is lifted);
- ``discoverable``: an undiscoverable record becomes listed.

A file's own level is applied on top of its record's (the file is read by those both admit;
``None`` means it follows the record); :func:`file_widens` asks whether a new file level
admits, among the record's readers, someone the old one did not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

PUBLIC, INTERNAL, UNIT, ROLE, RESTRICTED = "public", "internal", "unit", "role", "restricted"

#: ``unit_chain(unit_id)``: the unit and every unit above it (access to a unit covers those
#: below it, so a member of a unit is admitted by an audience naming any unit in its chain).
UnitChain = Callable[[int], Iterable[int]]


@dataclass(frozen=True)
class Audience:
    """Who an access level with its lists admits (lists of other levels are ignored)."""

    level: str
    units: frozenset[int] = frozenset()
    roles: frozenset[str] = frozenset()
    users: frozenset[int] = frozenset()
    groups: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Reader:
    """A possible reader, told apart only by what access rules look at."""

    authenticated: bool = True
    unit_chain: frozenset[int] = frozenset()
    roles: frozenset[str] = frozenset()
    user_id: int | None = None
    groups: frozenset[int] = frozenset()


ANONYMOUS = Reader(authenticated=False)


def admits(audience: Audience, reader: Reader) -> bool:
    """Whether ``audience`` lets ``reader`` in (nothing but the level and lists considered)."""
    if audience.level == PUBLIC:
        return True
    if not reader.authenticated:
        return False
    if audience.level == INTERNAL:
        return True
    if audience.level == UNIT:
        return bool(audience.units & reader.unit_chain)
    if audience.level == ROLE:
        return bool(audience.roles & reader.roles)
    if audience.level == RESTRICTED:
        return reader.user_id in audience.users or bool(audience.groups & reader.groups)
    return False


def _witnesses(audiences: Sequence[Audience], excluded: Audience,
               unit_chain: UnitChain) -> Iterable[Reader]:
    """Readers enough to decide :func:`admits_someone_new`.

    Each audience looks at one attribute of a reader (unit, roles, user or groups), the
    admitted ones positively. So the best candidate holds every role and group named
    anywhere except those of ``excluded`` (which must keep them out), and is tried in each
    named unit (or none) and as each named user (or someone unnamed).
    """
    yield ANONYMOUS
    every = (*audiences, excluded)
    roles = frozenset().union(*(a.roles for a in every))
    groups = frozenset().union(*(a.groups for a in every))
    if excluded.level == ROLE:
        roles -= excluded.roles
    if excluded.level == RESTRICTED:
        groups -= excluded.groups
    units: list[int | None] = [None, *sorted(frozenset().union(*(a.units for a in every)))]
    users: list[int | None] = [None, *sorted(frozenset().union(*(a.users for a in every)))]
    for unit in units:
        chain = frozenset(unit_chain(unit)) if unit is not None else frozenset()
        for user_id in users:
            yield Reader(unit_chain=chain, roles=roles, user_id=user_id, groups=groups)


def admits_someone_new(before: Audience, after: Sequence[Audience],
                       unit_chain: UnitChain) -> bool:
    """Is someone admitted by every audience of ``after`` but not by ``before``?"""
    return any(all(admits(a, reader) for a in after) and not admits(before, reader)
               for reader in _witnesses(after, before, unit_chain))


@dataclass(frozen=True)
class RecordAccess:
    """A record's access settings, as far as who sees what is concerned."""

    audience: Audience
    embargo_until: date | None = None
    discoverable: bool = True


def embargo_running(until: date | None, today: date) -> bool:
    return until is not None and until > today


def widened_parts(before: RecordAccess, after: RecordAccess, *, today: date,
                  unit_chain: UnitChain) -> frozenset[str]:
    """The parts of ``before`` → ``after`` that let someone see more (see the module doc)."""
    parts = set()
    if admits_someone_new(before.audience, [after.audience], unit_chain):
        parts.add("audience")
    if embargo_running(before.embargo_until, today) and (
            after.embargo_until is None or after.embargo_until < before.embargo_until):
        parts.add("embargo")
    if after.discoverable and not before.discoverable:
        parts.add("discoverable")
    return frozenset(parts)


def file_widens(record: Audience, before: Audience | None, after: Audience | None,
                unit_chain: UnitChain) -> bool:
    """Does a file's level going from ``before`` to ``after`` (``None``: the file follows its
    record) admit, among those its record admits, anyone new?"""
    if before is None:
        return False  # the record's readers already read the file: nobody can be added
    return admits_someone_new(before, [record] if after is None else [record, after],
                              unit_chain)
