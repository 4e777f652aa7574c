"""Opening a record: for its page (with the tombstone of a withdrawn or purged one), for
editing, or for a curator's action. Whoever may not know a record exists gets
:class:`~lms.errors.NotFound`, exactly as for a record that does not exist."""

from __future__ import annotations

from lms.accounts.models import User
from lms.catalog.access import Principal
from lms.catalog.models import Record, RecordStatus
from lms.errors import NotFound
from lms.extensions import db
from lms.permissions import can, get_permitted, require


def get_record(user: User, record_id: int, *, for_edit: bool = False) -> Record:
    """The record if ``user`` may see it.

    :raise NotFound: it does not exist or ``user`` may not know it exists.
    :raise PermissionDenied: ``for_edit`` and ``user`` sees it but may not edit it.
    """
    record = db.session.get(Record, record_id)
    if record is None or not (can(user, "record.view", record)
                              or can(user, "record.view_working_copy", record)):
        raise NotFound()
    if for_edit:
        require(user, "record.edit", record)
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
        if can(user, "record.restore", record):
            return record, False
        if not can(user, "record.view_tombstone", record):
            raise NotFound()
        return record, True
    if not can(user, "record.view", record):
        raise NotFound()
    return record, False


def curated_record(user: Principal, record_id: int) -> Record:
    """A record ``user`` curates, whatever its state (a withdrawn one, to restore it).

    :raise NotFound: it does not exist or ``user`` does not curate it.
    """
    return get_permitted(user, "record.curate", Record, record_id)


def record_to_purge(user: Principal, record_id: int) -> Record:
    """:raise NotFound: it does not exist or ``user`` may not purge records."""
    return get_permitted(user, "record.purge", Record, record_id)
