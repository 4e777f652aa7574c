"""Opening a record: for its page (with the tombstone of a withdrawn or purged one), for
editing, or for a curator's action. Whoever may not know a record exists gets
:class:`~lms.errors.NotFound`, exactly as for a record that does not exist."""

from __future__ import annotations

from lms.accounts.models import User
from lms.catalog.access import (
    Principal,
    can_edit,
    can_view,
    could_have_seen,
    is_curator_of,
    sees_working_copy,
)
from lms.catalog.models import Record, RecordStatus
from lms.errors import NotFound, PermissionDenied
from lms.extensions import db
from lms.permissions import can


def get_record(user: User, record_id: int, *, for_edit: bool = False) -> Record:
    """The record if ``user`` may see it.

    :raise NotFound: it does not exist or ``user`` may not know it exists.
    :raise PermissionDenied: ``for_edit`` and ``user`` sees it but may not edit it.
    """
    record = db.session.get(Record, record_id)
    if record is None or not (can_view(user, record) or sees_working_copy(user, record)):
        raise NotFound()
    if for_edit and not can_edit(user, record):
        raise PermissionDenied()
    return record


def record_for_page(user: Principal, record_id: int) -> tuple[Record, bool]:
    """The record for its public page, and whether only its tombstone is shown (410).

    Curators still see a withdrawn record, to restore it; others who could have read it see
    its tombstone.

    :raise NotFound: it does not exist or ``user`` may not know it exists.
    """
    record = db.session.get(Record, record_id)
    if record is None:
        raise NotFound()
    if record.status in (RecordStatus.WITHDRAWN, RecordStatus.PURGED):
        if is_curator_of(user, record) and record.status == RecordStatus.WITHDRAWN:
            return record, False
        if not could_have_seen(user, record):
            raise NotFound()
        return record, True
    if not can_view(user, record):
        raise NotFound()
    return record, False


def curated_record(user: Principal, record_id: int) -> Record:
    """A record ``user`` curates, whatever its state (a withdrawn one, to restore it).

    :raise NotFound: it does not exist or ``user`` does not curate it.
    """
    record = db.session.get(Record, record_id)
    if record is None or not is_curator_of(user, record):
        raise NotFound()
    return record


def record_to_purge(user: Principal, record_id: int) -> Record:
    """:raise NotFound: it does not exist or ``user`` may not purge records."""
    record = db.session.get(Record, record_id)
    if record is None or not can(user, "purge_records"):
        raise NotFound()
    return record
