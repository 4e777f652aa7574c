"""What other features hear when learners complete courses and tracks.

Listeners are wired in the app factory (:func:`connect`). They run inside the completing
transaction, before its commit, so what follows from a completion (a certificate) is
committed with it or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from flask import Flask, current_app

Completed = Callable[[Collection[int]], None]
_KEY = "training_completion_listeners"


def connect(app: Flask, *, completed: Completed) -> None:
    app.extensions.setdefault(_KEY, []).append(completed)


def enrolments_completed(enrolment_ids: Collection[int]) -> None:
    """These enrolments (of courses or tracks) just completed (flushed, not yet committed)."""
    if enrolment_ids:
        for listener in current_app.extensions.get(_KEY, ()):
            listener(enrolment_ids)
