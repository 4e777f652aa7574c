"""The search index as a mirror of the change log: applying changes, and ``lms check``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from lms.catalog.access import published_clause
from lms.catalog.collections import record_ids_under
from lms.changelog import Difference, Mirror
from lms.changelog.mirrors import Progress
from lms.discovery.services import BATCH, MIRROR, backend, index_records, searchable_documents
from lms.search.backend import clean_principals


class SearchMirror(Mirror):
    name = MIRROR

    def apply(self, session: Session, record_ids: Sequence[int],
              collection_ids: Sequence[int]) -> None:
        ids = set(record_ids)
        for collection_id in collection_ids:
            # Its path and curators are in the entry of every record filed under it.
            ids.update(record_ids_under(collection_id, published_clause()))
        ordered = sorted(ids)
        for start in range(0, len(ordered), BATCH):
            index_records(ordered[start:start + BATCH], session)

    def compare(self, session: Session, progress: Progress | None = None) -> list[Difference]:
        expected = {doc.id: (tuple(clean_principals(doc.principals)), doc.digest())
                    for doc in searchable_documents(progress)}
        differences: list[Difference] = []
        seen: set[int] = set()
        for entry in backend().inventory():
            wanted = expected.get(entry.id)
            if entry.id in seen:
                differences.append(Difference(self.name, entry.id, "extra",
                                              "indexed more than once"))
            elif wanted is None:
                differences.append(Difference(self.name, entry.id, "extra",
                                              "in the index, but not searchable"))
            elif entry.principals != wanted[0]:
                differences.append(Difference(
                    self.name, entry.id, "visibility",
                    f"found by {' '.join(entry.principals) or 'nobody'}, should be by "
                    f"{' '.join(wanted[0])}"))
            elif entry.digest != wanted[1]:
                differences.append(Difference(self.name, entry.id, "content",
                                              "indexed content differs"))
            seen.add(entry.id)
        differences.extend(Difference(self.name, record_id, "missing", "not in the index")
                           for record_id in expected.keys() - seen)
        return sorted(differences)

    def repair(self, session: Session, differences: Sequence[Difference]) -> None:
        # Re-indexing a record puts its current entry in, or takes it out (extra ones).
        self.apply(session, sorted({d.record_id for d in differences}), ())
