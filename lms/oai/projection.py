"""Keep ``oai_items`` equal to what an anonymous harvester may see of each record.

A record is harvestable while it is published, public and discoverable (its metadata is
shown even under an embargo: only files wait). Once harvestable it stays in the projection
for good (``deletedRecord=persistent``): withdrawn, purged or no longer public, it becomes a
deleted header. A record that was never harvestable is unknown to OAI-PMH.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import current_app
from sqlalchemy import delete, select

from lms.catalog import hooks
from lms.catalog.collections import record_ids_under
from lms.catalog.models import AccessLevel, Collection, Record
from lms.db import utcnow
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


def oai_identifier(record_id: int) -> str:
    return f"oai:{current_app.config['OAI_REPOSITORY_ID']}:{record_id}"


def harvestable(record: Record) -> bool:
    return (record.is_published and record.access_level == AccessLevel.PUBLIC
            and record.discoverable)


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


def refresh_many(record_ids: Sequence[int]) -> None:
    for record_id in record_ids:
        refresh(record_id)


def refresh(record_id: int) -> None:
    """Bring one record's projection up to date; a change gets a new datestamp."""
    record = db.session.get(Record, record_id)
    item = db.session.get(OaiItem, record_id)
    if record is None:
        return
    if harvestable(record):
        specs, rendered = _rendered(record)
        state = (False, " ".join(specs), rendered)
    elif item is not None or record.ever_public:
        # Deleted: keep the last set membership so set-selective harvesters see it go.
        specs = item.set_specs.split() if item is not None else []
        state = (True, " ".join(specs), dict.fromkeys(RENDERERS, ""))
    else:
        return
    if item is not None and _unchanged(item, *state):
        return
    now = utcnow()
    if item is None:
        item = OaiItem(record_id=record_id)
        db.session.add(item)
    item.deleted, item.set_specs = state[0], state[1]
    for prefix, text in state[2].items():
        setattr(item, prefix, text)
    item.datestamp = now
    db.session.flush()
    db.session.execute(delete(OaiItemSet).where(OaiItemSet.record_id == record_id))
    db.session.add_all(OaiItemSet(record_id=record_id, set_spec=spec, datestamp=now)
                       for spec in item.set_specs.split())
    db.session.commit()


def _unchanged(item: OaiItem, deleted: bool, specs: str, rendered: dict[str, str]) -> bool:
    """Whether the item already says this. A rendering stored empty (a row written before its
    format existed) is filled in without a new datestamp: what harvesters saw is the same."""
    if (item.deleted, item.set_specs) != (deleted, specs) or any(
            getattr(item, prefix) not in ("", text) for prefix, text in rendered.items()):
        return False
    missing = {p: text for p, text in rendered.items() if getattr(item, p) != text}
    for prefix, text in missing.items():
        setattr(item, prefix, text)
    if missing:
        db.session.commit()
    return True


def refresh_collection(collection_id: int) -> None:
    """Set membership follows the collection tree: refresh every record filed under it."""
    for record_id in record_ids_under(collection_id):
        refresh(record_id)


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Refresh every record's projection (after an upgrade or a restore); returns the count."""
    count = 0
    for record_id in list(db.session.scalars(select(Record.id).order_by(Record.id))):
        refresh(record_id)
        count += 1
        if progress is not None:
            progress(1)
    return count


hooks.on_records_changed(refresh_many)
hooks.on_collection_changed(refresh_collection)
