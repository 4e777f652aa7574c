"""The "does this change widen access?" comparison, checked against brute force over every
possible reader, channel and day (property tests)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import chain, combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from lms.catalog.audience import (
    ANONYMOUS,
    INTERNAL,
    PUBLIC,
    RESTRICTED,
    ROLE,
    UNIT,
    Audience,
    Reader,
    RecordAccess,
    admits,
    admits_someone_new,
    file_widens,
    widened_parts,
)

# A small world: 1 ⊃ 2 ⊃ 3, 1 ⊃ 4, and 5 on its own; three roles, three users, two groups.
PARENT = {1: None, 2: 1, 3: 2, 4: 1, 5: None}
ROLES = ("curator", "instructor", "learner")
USERS = (1, 2, 3)
GROUPS = (1, 2)
TODAY = date(2026, 1, 10)


def unit_chain(unit: int) -> list[int]:
    found = []
    node: int | None = unit
    while node is not None:
        found.append(node)
        node = PARENT[node]
    return found


def subsets(items):
    return [frozenset(c) for c in chain.from_iterable(
        combinations(items, n) for n in range(len(items) + 1))]


READERS = [ANONYMOUS] + [
    Reader(unit_chain=frozenset(unit_chain(unit)) if unit else frozenset(), roles=roles,
           user_id=user, groups=groups)
    for unit in (None, *PARENT) for roles in subsets(ROLES)
    for user in (None, *USERS) for groups in subsets(GROUPS)]


def nonempty(items):
    return st.frozensets(st.sampled_from(items), min_size=1)


# Valid settings, as AccessSettings.check() allows them: lists where the level needs them.
audiences = st.one_of(
    st.just(Audience(PUBLIC)), st.just(Audience(INTERNAL)),
    nonempty(tuple(PARENT)).map(lambda u: Audience(UNIT, units=u)),
    nonempty(ROLES).map(lambda r: Audience(ROLE, roles=r)),
    st.tuples(st.frozensets(st.sampled_from(USERS)), st.frozensets(st.sampled_from(GROUPS)))
    .filter(lambda ug: ug[0] or ug[1])
    .map(lambda ug: Audience(RESTRICTED, users=ug[0], groups=ug[1])),
)
embargoes = st.sampled_from([None, *(TODAY + timedelta(days=d) for d in (-3, 0, 2, 5))])
accesses = st.builds(RecordAccess, audiences, embargoes, st.booleans())


def someone_new(before: Audience, after: Audience) -> bool:
    return any(admits(after, r) and not admits(before, r) for r in READERS)


@settings(max_examples=400, deadline=None)
@given(audiences, audiences)
def test_an_audience_widens_exactly_when_someone_is_admitted_who_was_not(before, after):
    assert admits_someone_new(before, [after], unit_chain) == someone_new(before, after)


def sees(access: RecordAccess, reader: Reader, channel: str, day: date) -> bool:
    if not admits(access.audience, reader):
        return False
    if channel == "listing":
        return access.discoverable
    if channel == "files":
        return access.embargo_until is None or access.embargo_until <= day
    return True  # the page, by its address


@settings(max_examples=400, deadline=None)
@given(accesses, accesses)
def test_a_change_widens_exactly_when_someone_sees_more_on_some_channel_some_day(before,
                                                                                 after):
    days = [TODAY + timedelta(days=d) for d in range(7)]
    brute = any(sees(after, r, ch, d) and not sees(before, r, ch, d)
                for r in READERS for ch in ("page", "listing", "files") for d in days)
    assert bool(widened_parts(before, after, today=TODAY, unit_chain=unit_chain)) == brute


@settings(max_examples=300, deadline=None)
@given(accesses, accesses)
def test_each_part_is_named_for_its_own_setting(before, after):
    parts = widened_parts(before, after, today=TODAY, unit_chain=unit_chain)
    assert ("audience" in parts) == someone_new(before.audience, after.audience)
    assert ("discoverable" in parts) == (after.discoverable and not before.discoverable)
    newly_readable_files = any(
        sees(RecordAccess(before.audience, after.embargo_until), r, "files", TODAY + timedelta(d))
        and not sees(RecordAccess(before.audience, before.embargo_until), r, "files",
                     TODAY + timedelta(d))
        for r in READERS for d in range(7))
    assert ("embargo" in parts) == newly_readable_files


@settings(max_examples=400, deadline=None)
@given(audiences, st.none() | audiences, st.none() | audiences)
def test_a_file_level_widens_exactly_when_a_reader_of_the_record_gets_the_file(record, before,
                                                                                after):
    def reads(file_level, reader):
        return admits(record, reader) and (file_level is None or admits(file_level, reader))

    brute = any(reads(after, r) and not reads(before, r) for r in READERS)
    assert file_widens(record, before, after, unit_chain) == brute


def test_the_examples_of_the_issue():
    """public > internal > unit/role/restricted; adding to a list widens; inherit widens when
    the record is looser."""
    unit = Audience(UNIT, units=frozenset({2}))
    assert admits_someone_new(Audience(RESTRICTED, users=frozenset({1})), [Audience(PUBLIC)],
                              unit_chain)
    assert admits_someone_new(Audience(INTERNAL), [Audience(PUBLIC)], unit_chain)
    assert not admits_someone_new(Audience(PUBLIC), [Audience(INTERNAL)], unit_chain)
    assert admits_someone_new(unit, [Audience(UNIT, units=frozenset({2, 4}))], unit_chain)
    assert not admits_someone_new(unit, [Audience(UNIT, units=frozenset({3}))], unit_chain)
    assert admits_someone_new(unit, [Audience(UNIT, units=frozenset({1}))], unit_chain)
    assert admits_someone_new(unit, [Audience(ROLE, roles=frozenset({"curator"}))], unit_chain)
    assert file_widens(Audience(PUBLIC), Audience(RESTRICTED, users=frozenset({1})), None,
                       unit_chain)
    assert not file_widens(Audience(RESTRICTED, users=frozenset({1})),
                           Audience(INTERNAL), None, unit_chain)
