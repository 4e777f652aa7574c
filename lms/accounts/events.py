"""What other features hear when people or units change.

Listeners are wired in the app factory (:func:`connect`), never by importing a module for
its side effects. They run inside the caller's transaction, before its commit, so that what
depends on people (audience memberships, enrolments) is committed together with the change
or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from flask import Flask, current_app

from lms.uow import AfterCommit

PeopleChanged = Callable[[Collection[int], AfterCommit], None]
UnitsDeleted = Callable[[Collection[int]], None]


@dataclass
class Listeners:
    people_changed: list[PeopleChanged] = field(default_factory=list)
    units_deleted: list[UnitsDeleted] = field(default_factory=list)


def connect(app: Flask, *, people_changed: PeopleChanged | None = None,
            units_deleted: UnitsDeleted | None = None) -> None:
    listeners: Listeners = app.extensions.setdefault("people_listeners", Listeners())
    if people_changed is not None:
        listeners.people_changed.append(people_changed)
    if units_deleted is not None:
        listeners.units_deleted.append(units_deleted)


def _listeners() -> Listeners:
    return current_app.extensions.get("people_listeners") or Listeners()


def people_changed(user_ids: Collection[int], on_commit: AfterCommit) -> None:
    """These people were created, or their unit, roles or attributes changed (flushed)."""
    if user_ids:
        for listener in _listeners().people_changed:
            listener(user_ids, on_commit)


def units_deleted(unit_ids: Collection[int]) -> None:
    """These units are being deleted (flushed, not yet committed)."""
    for listener in _listeners().units_deleted:
        listener(unit_ids)
