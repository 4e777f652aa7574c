"""The durable change log (a transactional outbox) between the database and its mirrors.

Every change that a mirror (the search index, the OAI-PMH projection) depends on writes a
``change_log`` row naming the record or collection, in the same transaction as the change
(:func:`log_change`, called by ``lms.catalog.hooks``). Each mirror applies the rows and marks
them done for itself only once applied (:mod:`lms.changelog.mirrors`): the request that made
the change right after its commit, and the worker for whatever is left, within seconds. A
change can therefore be applied late (the channels re-check the database rule on the way
out), never lost with a process. ``lms check`` compares every mirror with the database.
"""

from lms.changelog.locks import mirror_lock
from lms.changelog.log import batched, log_change, log_changes
from lms.changelog.mirrors import (
    Difference,
    Mirror,
    MirrorBusy,
    apply_inline,
    apply_pending,
    drain,
    init_app,
    mirrors,
    pending_counts,
    pending_records_clause,
    prune_applied,
)
from lms.changelog.models import ChangeApplied, ChangeEntry, ChangeKind

__all__ = ["ChangeApplied", "ChangeEntry", "ChangeKind", "Difference", "Mirror", "MirrorBusy",
           "apply_inline", "apply_pending", "batched", "drain", "init_app", "log_change",
           "log_changes",
           "mirror_lock", "mirrors", "pending_counts", "pending_records_clause",
           "prune_applied"]
