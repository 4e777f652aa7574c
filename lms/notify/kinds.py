"""The kinds of notification: what each is called, and whether people may mute it.

Assignments and overdue work are mandatory (the unit's results depend on them); everything else
is optional. The words of each message are in ``templates/notify/_text.html`` (one template
for the app and the e-mails, in Vietnamese and English through the translations).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Kind:
    label: object  # a lazy string: what the settings page calls it
    mandatory: bool = False


ASSIGNED = "assigned"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
COMPLETED = "completed"
CERTIFICATE_ISSUED = "certificate_issued"
CERTIFICATE_EXPIRING = "certificate_expiring"
RECERTIFICATION = "recertification"
QUIZ_REGRADED = "quiz_regraded"
COMMANDER_OVERDUE = "commander_overdue"

KINDS: dict[str, Kind] = {
    ASSIGNED: Kind(_l("A course or track is assigned to me"), mandatory=True),
    DUE_SOON: Kind(_l("A due date is near")),
    OVERDUE: Kind(_l("Something assigned to me is overdue"), mandatory=True),
    COMPLETED: Kind(_l("I complete a course or track")),
    CERTIFICATE_ISSUED: Kind(_l("A certificate is issued to me")),
    CERTIFICATE_EXPIRING: Kind(_l("One of my certificates is about to expire")),
    RECERTIFICATION: Kind(_l("A course is assigned to me again to renew a certificate"),
                          mandatory=True),
    QUIZ_REGRADED: Kind(_l("My quiz result changed after a correction")),
    COMMANDER_OVERDUE: Kind(_l("Weekly list of overdue people in the units I command"),
                            mandatory=True),
    # The repository's own.
    "task_waiting": Kind(_l("A deposit waits for my review")),
    "published": Kind(_l("My deposit is published")),
    "returned": Kind(_l("My deposit is returned")),
    "access_request_waiting": Kind(_l("A wider access to a record waits for my approval")),
    "access_approved": Kind(_l("My access change is approved")),
    "access_rejected": Kind(_l("My access change is rejected")),
}


def is_mandatory(kind: str) -> bool:
    found = KINDS.get(kind)
    return found is not None and found.mandatory


def optional_kinds() -> list[str]:
    return [name for name, kind in KINDS.items() if not kind.mandatory]
