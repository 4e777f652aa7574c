"""What other features hear when learners complete courses and tracks, and when the members
of audiences change.

Listeners are wired in the app factory (:func:`connect`). They run inside the changing
transaction, before its commit, so what follows (a certificate; the audiences built on an
audience and the enrolments of the assignments that reach it) is committed with it or not at
all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from flask import Flask, current_app

Completed = Callable[[Collection[int]], None]
# Audience id → its Change (lms.training.audiences), for the audiences that changed.
MembersChanged = Callable[[Mapping[int, Any]], None]
_KEY = "training_completion_listeners"
_MEMBERS_KEY = "training_membership_listeners"


def connect(app: Flask, *, completed: Completed | None = None,
            members_changed: MembersChanged | None = None) -> None:
    if completed is not None:
        app.extensions.setdefault(_KEY, []).append(completed)
    if members_changed is not None:
        app.extensions.setdefault(_MEMBERS_KEY, []).append(members_changed)


def enrolments_completed(enrolment_ids: Collection[int]) -> None:
    """These enrolments (of courses or tracks) just completed (flushed, not yet committed)."""
    if enrolment_ids:
        for listener in current_app.extensions.get(_KEY, ()):
            listener(enrolment_ids)


def members_changed(changes: Mapping[int, Any]) -> None:
    """The members of these audiences changed, by hand or by their rule (flushed, not yet
    committed)."""
    for listener in current_app.extensions.get(_MEMBERS_KEY, ()):
        listener(changes)
