"""What other features hear when learners complete courses and tracks, when the members of
audiences change, when a course's lessons change and when enrolments are made.

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
LessonsChanged = Callable[[int], None]
EnrolmentsAdded = Callable[[Collection[int]], None]
_KEY = "training_completion_listeners"
_MEMBERS_KEY = "training_membership_listeners"
_LESSONS_KEY = "training_lesson_listeners"
_ADDED_KEY = "training_enrolment_listeners"


def connect(app: Flask, *, completed: Completed | None = None,
            members_changed: MembersChanged | None = None,
            lessons_changed: LessonsChanged | None = None,
            enrolments_added: EnrolmentsAdded | None = None) -> None:
    for key, listener in ((_KEY, completed), (_MEMBERS_KEY, members_changed),
                          (_LESSONS_KEY, lessons_changed), (_ADDED_KEY, enrolments_added)):
        if listener is not None:
            app.extensions.setdefault(key, []).append(listener)


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


def lessons_changed(course_id: int) -> None:
    """The lessons of this course were added, removed or changed (flushed)."""
    for listener in current_app.extensions.get(_LESSONS_KEY, ()):
        listener(course_id)


def enrolments_added(enrolment_ids: Collection[int]) -> None:
    """These enrolments were just made (flushed, not yet committed)."""
    if enrolment_ids:
        for listener in current_app.extensions.get(_ADDED_KEY, ()):
            listener(enrolment_ids)
