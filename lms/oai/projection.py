"""Keep ``oai_items`` equal to what an anonymous harvester may see of each record.

A record is harvestable while it is published, public and discoverable (its metadata is
shown even under an embargo: only files wait). Once harvestable it stays in the projection
for good (``deletedRecord=persistent``): withdrawn, purged or no longer public, it becomes a
deleted header. A record that was never harvestable is unknown to OAI-PMH.

The projection is a mirror of the change log (:class:`OaiMirror`): its rows and the change
log's "applied" marks are written in one transaction. The protocol also checks
:func:`harvestable_clause` when it serves an item, so a record that stopped being harvestable
is served as deleted at once, whether or not its change was applied yet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import current_app
from sqlalchemy import ColumnElement, and_, delete, select
from sqlalchemy.orm import Session, selectinload

from lms.catalog.access import published_clause
from lms.catalog.collections import record_ids_under
from lms.catalog.models import AccessLevel, Collection, Record
from lms.changelog import Difference, Mirror, mirror_lock
from lms.changelog.mirrors import Progress
from lms.db import insert_rows, utcnow
from lms.extensions import db
from lms.oai.models import OaiItem, OaiItemSet
from lms.web import external_url, public_base_url
from metadata import (
    Metadata,
    RecordContext,
    marcxml_fragment,
    mods_fragment,
    oai_dc_fragment,
    qdc_fragment,
)

# Each metadata prefix, the projection column holding it and the crosswalk writing it.
RENDERERS = {"oai_dc": oai_dc_fragment, "qdc": qdc_fragment, "marcxml": marcxml_fragment,
             "mods": mods_fragment}

#: The projection's name among the change log's mirrors.
MIRROR = "oai"
BATCH = 200

#: (deleted, space-separated setSpecs, rendering per metadata prefix) of an item.
State = tuple[bool, str, dict[str, str]]


def oai_identifier(record_id: int) -> str:
    return f"oai:{current_app.config['OAI_REPOSITORY_ID']}:{record_id}"


def harvestable(record: Record) -> bool:
    return (record.is_published and record.access_level == AccessLevel.PUBLIC
            and record.discoverable)


def harvestable_clause() -> ColumnElement[bool]:
    """:func:`harvestable` as SQL on ``Record``."""
    return and_(published_clause(), Record.access_level == AccessLevel.PUBLIC,
                Record.discoverable.is_(True))


def collection_specs(collection: Collection) -> list[str]:
    """``collection:a``, ``collection:a:b``...: a record in a child set is in its parents too."""
    slugs = collection.path_slugs
    return ["collection:" + ":".join(slugs[: i + 1]) for i in range(len(slugs))]


def set_specs(record: Record, metadata: Metadata) -> list[str]:
    specs: set[str] = set()
    for collection in record.all_collections:
        specs.update(collection_specs(collection))
    specs.update(f"type:{t}" for t in metadata.values("type"))
    specs.update(f"audience:{s.value}" for s in metadata.get("audience")
                 if s.scheme == "audiences")
    return sorted(specs)


def _rendered(record: Record) -> tuple[list[str], dict[str, str]]:
    version = record.latest_version
    assert version is not None
    metadata = version.dc
    context = RecordContext(identifier=oai_identifier(record.id),
                            url=_landing_page(record.id), lang="vi")
    return set_specs(record, metadata), {
        prefix: render(metadata, context) for prefix, render in RENDERERS.items()}


def render_missing(record_id: int, prefix: str) -> str:
    """The ``prefix`` metadata of a harvestable item whose stored rendering is empty (rows
    written before the format existed), rendered now; "" if it is no longer harvestable."""
    record = db.session.get(Record, record_id)
    if record is None or not harvestable(record):
        return ""
    return _rendered(record)[1][prefix]


def _landing_page(record_id: int) -> str | None:
    # Stored for every harvester: never taken from the request that happened to cause it.
    return external_url("catalog.show", record_id=record_id) if public_base_url() else None


def expected_state(record: Record, item: OaiItem | None) -> State | None:
    """What the projection should hold for ``record`` (given its current ``item``): a live
    item, a deleted header (keeping its last set membership, so set-selective harvesters see
    it go), or nothing (never harvestable)."""
    if harvestable(record):
        specs, rendered = _rendered(record)
        return False, " ".join(specs), rendered
    if item is not None or record.ever_public:
        return True, item.set_specs if item is not None else "", dict.fromkeys(RENDERERS, "")
    return None


def refresh_many(session: Session, record_ids: Sequence[int], *, force: bool = False) -> None:
    """Bring these records' projection up to date in ``session`` (the caller commits); a
    change gets a new datestamp. ``force`` rewrites the items and their set rows even if
    they look current (``lms check --repair``). The records are read together, and the set
    rows of the changed items replaced in one statement each way."""
    ids = sorted(set(record_ids))
    if not ids:
        return
    records = {r.id: r for r in session.scalars(
        select(Record).where(Record.id.in_(ids)).options(
            selectinload(Record.versions), selectinload(Record.mapped_collections)))}
    items = {i.record_id: i for i in session.scalars(
        select(OaiItem).where(OaiItem.record_id.in_(ids)))}
    now = utcnow()
    changed: list[OaiItem] = []
    for record_id in ids:
        record, item = records.get(record_id), items.get(record_id)
        if record is None:
            if item is not None:
                session.delete(item)
            continue
        state = expected_state(record, item)
        if state is None or (not force and item is not None and _unchanged(item, *state)):
            continue
        if item is None:
            item = OaiItem(record_id=record_id)
            session.add(item)
        item.deleted, item.set_specs = state[0], state[1]
        for prefix, text in state[2].items():
            setattr(item, prefix, text)
        item.datestamp = now
        changed.append(item)
    session.flush()
    if changed:
        session.execute(delete(OaiItemSet).where(
            OaiItemSet.record_id.in_([item.record_id for item in changed])))
        rows = [{"record_id": item.record_id, "set_spec": spec, "datestamp": now}
                for item in changed for spec in item.set_specs.split()]
        insert_rows(session, OaiItemSet, rows)


def _same(item: OaiItem, deleted: bool, specs: str, rendered: dict[str, str]) -> bool:
    """Whether the item says this, a rendering stored empty (a row written before its format
    existed, rendered when served) counting as the same."""
    return (item.deleted, item.set_specs) == (deleted, specs) and all(
        getattr(item, prefix) in ("", text) for prefix, text in rendered.items())


def _unchanged(item: OaiItem, deleted: bool, specs: str, rendered: dict[str, str]) -> bool:
    """Whether the item already says this. A rendering stored empty is filled in without a
    new datestamp: what harvesters saw is the same."""
    if not _same(item, deleted, specs, rendered):
        return False
    for prefix, text in rendered.items():
        if getattr(item, prefix) != text:
            setattr(item, prefix, text)
    return True


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Refresh every record's projection (after an upgrade or a restore); returns the count.

    Holds the projection's change-log lock, so no applier writes the same rows meanwhile.
    """
    count = 0
    with mirror_lock(MIRROR, wait=600.0) as held, Session(db.engine) as session:
        if not held:
            raise RuntimeError("the OAI-PMH projection stayed busy; try again later")
        ids = list(session.scalars(select(Record.id).order_by(Record.id)))
        for start in range(0, len(ids), BATCH):
            refresh_many(session, ids[start:start + BATCH])
            session.commit()
            count += len(ids[start:start + BATCH])
            if progress is not None:
                progress(len(ids[start:start + BATCH]))
    return count


class OaiMirror(Mirror):
    name = MIRROR

    def apply(self, session: Session, record_ids: Sequence[int],
              collection_ids: Sequence[int]) -> None:
        ids = set(record_ids)
        for collection_id in collection_ids:
            # Set membership follows the collection tree: every record filed under it.
            ids.update(record_ids_under(collection_id))
        ordered = sorted(ids)
        for start in range(0, len(ordered), BATCH):
            refresh_many(session, ordered[start:start + BATCH])

    def compare(self, session: Session, progress: Progress | None = None) -> list[Difference]:
        differences: list[Difference] = []
        last_id = 0
        while True:
            records = session.scalars(select(Record).where(Record.id > last_id)
                                      .order_by(Record.id).limit(BATCH)).all()
            if not records:
                break
            ids = [r.id for r in records]
            items = {i.record_id: i for i in session.scalars(
                select(OaiItem).where(OaiItem.record_id.in_(ids)))}
            sets: dict[int, list[tuple[str, object]]] = {}
            for row in session.execute(select(OaiItemSet.record_id, OaiItemSet.set_spec,
                                              OaiItemSet.datestamp)
                                       .where(OaiItemSet.record_id.in_(ids))):
                sets.setdefault(row.record_id, []).append((row.set_spec, row.datestamp))
            for record in records:
                found = _item_difference(record, items.get(record.id), sets.get(record.id, []))
                if found is not None:
                    differences.append(Difference(self.name, record.id, *found))
            last_id = ids[-1]
            session.expunge_all()
            if progress is not None:
                progress(len(records))
        orphans = session.scalars(select(OaiItem.record_id).where(
            OaiItem.record_id.not_in(select(Record.id))))
        differences.extend(Difference(self.name, rid, "extra", "item without a record")
                           for rid in orphans)
        return sorted(differences)

    def repair(self, session: Session, differences: Sequence[Difference]) -> None:
        ordered = sorted({d.record_id for d in differences})
        for start in range(0, len(ordered), BATCH):
            refresh_many(session, ordered[start:start + BATCH], force=True)
        session.commit()


def _item_difference(record: Record, item: OaiItem | None,
                     sets: list[tuple[str, object]]) -> tuple[str, str] | None:
    """(kind, detail) of how ``item`` differs from what ``record`` says, or None."""
    wanted = expected_state(record, item)
    if wanted is None:
        return None
    if item is None:
        return "missing", "no item" if not wanted[0] else "no deleted header"
    if item.deleted != wanted[0]:
        return "visibility", ("served as deleted, but harvestable" if item.deleted
                              else "served with metadata, but not harvestable")
    if not _same(item, *wanted):
        return "content", "metadata or sets differ"
    if sorted(sets) != sorted((spec, item.datestamp) for spec in item.set_specs.split()):
        return "content", "set index differs"
    return None
