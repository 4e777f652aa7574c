"""What services call when they change something that search and OAI-PMH mirror.

Call these inside the unit of work that makes the change: each writes a change-log row in
the same transaction (``lms.changelog``), so the mirrors learn of the change even if this
process dies right after the commit. A bulk import wraps its work in :func:`batched`, so that
the mirrors are brought up to date once per batch of records instead of once per record.
"""

from __future__ import annotations

from collections.abc import Sequence

from lms.changelog import ChangeKind, batched, log_change, log_changes

__all__ = ["batched", "collection_changed", "record_changed", "records_changed"]


def record_changed(record_id: int) -> None:
    """The record (metadata, status, access, files, mapping...) changed."""
    log_change(ChangeKind.RECORD, record_id)


def records_changed(record_ids: Sequence[int]) -> None:
    """:func:`record_changed` for many records at once (bulk imports)."""
    log_changes(ChangeKind.RECORD, record_ids)


def collection_changed(collection_id: int) -> None:
    """The collection's name, place in the tree or curators changed: every record filed
    under it shows them."""
    log_change(ChangeKind.COLLECTION, collection_id)
