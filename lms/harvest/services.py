"""Register OAI-PMH sources and harvest them incrementally into records marked as harvested.

A run reads ``ListRecords`` ``from`` the source's last complete harvest (the responseDate of
its first request, in the source's granularity), for each registered set, and per record:

- a new or changed record is mapped (``lms.harvest.mapping``) and imported into the source's
  collection with the catalogue's import service (one transaction per record; published at
  once with the source's access level; unchanged records write nothing); a record withdrawn
  here because the source had deleted it is restored first;
- a deleted header withdraws the record (in the registering admin's name), which OAI-PMH and
  every other channel then show as gone;
- a record that cannot be mapped (no title) is reported and skipped.

At most ``HARVEST_MAX_PAGES`` pages are read per run: a longer list is resumed by the next
run from the stored resumption token (restarted if the source refuses it). Only a list read
to its end advances ``harvested_until``. One run per source at a time (a claim in the
database; one left by a killed process expires after ``STALE_CLAIM``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.etree.ElementTree import Element

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from lms import audit
from lms.accounts.models import User
from lms.catalog.access_settings import AccessSettings
from lms.catalog.collections import get_collection
from lms.catalog.deposit import import_record
from lms.catalog.models import AccessLevel, Record, RecordStatus
from lms.catalog.workflow import restore, withdraw
from lms.db import utcnow
from lms.errors import Conflict, NotFound, ServiceError, ValidationError
from lms.extensions import db
from lms.harvest.client import (
    OAI,
    BadResumptionToken,
    HarvestError,
    Limits,
    OaiClient,
    check_base_url,
    format_from,
    response_date,
)
from lms.harvest.mapping import NAMESPACES, Unmappable, map_record
from lms.harvest.models import HarvestedRecord, HarvestRun, HarvestSource, RunStatus, Schedule
from lms.permissions import can, require
from lms.uow import unit_of_work
from metadata import Metadata

log = logging.getLogger(__name__)

NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SET_SPEC = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
PREFIXES = ("oai_dc", "qdc")
ACCESS_LEVELS = (AccessLevel.PUBLIC, AccessLevel.INTERNAL)
INTERVALS = {Schedule.HOURLY: timedelta(hours=1), Schedule.DAILY: timedelta(days=1),
             Schedule.WEEKLY: timedelta(days=7)}
STALE_CLAIM = timedelta(hours=6)
MAX_PROBLEMS = 200
USER_AGENT = "KhoHocLieuSo-harvester/1.0 (OAI-PMH 2.0)"


# --- sources -----------------------------------------------------------------------------------

@dataclass
class SourceInput:
    name: str
    title: str
    base_url: str
    metadata_prefix: str
    collection: str                  # slug
    sets: str = ""                   # setSpecs separated by spaces or commas
    access_level: str = AccessLevel.PUBLIC
    schedule: str = Schedule.DAILY
    active: bool = True


def _checked(data: SourceInput) -> dict[str, object]:
    """:raise ValidationError: naming the first field that is wrong."""
    name = data.name.strip()
    if not NAME.match(name) or len(name) > 64:
        raise ValidationError(_("The name must be lower-case letters, digits and hyphens."))
    title = " ".join(data.title.split())
    if not title or len(title) > 300:
        raise ValidationError(_("Give a title of at most 300 characters."))
    try:
        base_url = check_base_url(data.base_url)
    except ValueError:
        raise ValidationError(_("The base URL must be an http:// or https:// address without "
                                "user name, query or fragment.")) from None
    if len(base_url) > 500:
        raise ValidationError(_("The base URL is too long."))
    if data.metadata_prefix not in PREFIXES:
        raise ValidationError(_("The metadata format must be oai_dc or qdc."))
    sets = data.sets.replace(",", " ").split()
    if any(not SET_SPEC.match(s) or len(s) > 200 for s in sets) or len(sets) > 50:
        raise ValidationError(_("A set is not a valid setSpec."))
    if data.access_level not in ACCESS_LEVELS:
        raise ValidationError(_("Harvested records are public or internal."))
    if data.schedule not in {str(s) for s in Schedule}:
        raise ValidationError(_("Unknown schedule."))
    return {"name": name, "title": title, "base_url": base_url,
            "metadata_prefix": data.metadata_prefix, "set_specs": " ".join(sets),
            "collection": get_collection(data.collection), "access_level": data.access_level,
            "schedule": data.schedule, "active": data.active}


def register_source(actor: User, data: SourceInput) -> HarvestSource:
    """Register a source; the first run harvests everything it has.

    :raise PermissionDenied: ``actor`` is not an administrator.
    :raise ValidationError: a field is wrong. :raise NotFound: no such collection.
    :raise Conflict: the name is taken.
    """
    require(actor, "harvest.manage")
    values = _checked(data)
    if db.session.scalar(select(HarvestSource.id).where(HarvestSource.name == values["name"])):
        raise Conflict(_("A source with this name exists."))
    with unit_of_work():
        source = HarvestSource(registered_by=actor, **values)
        db.session.add(source)
        db.session.flush()
        audit.record("harvest_source_register", actor=actor, details={
            "source": source.name, "base_url": source.base_url})
    return source


def update_source(actor: User, source: HarvestSource, data: SourceInput) -> None:
    """Change a source. A new base URL, format or sets starts over with a full harvest.

    :raise PermissionDenied, ValidationError, NotFound, Conflict: as :func:`register_source`.
    """
    require(actor, "harvest.manage")
    values = _checked(data)
    clash = db.session.scalar(select(HarvestSource.id).where(
        HarvestSource.name == values["name"], HarvestSource.id != source.id))
    if clash:
        raise Conflict(_("A source with this name exists."))
    with unit_of_work():
        restart = (values["base_url"], values["metadata_prefix"], values["set_specs"]) != (
            source.base_url, source.metadata_prefix, source.set_specs)
        for key, value in values.items():
            setattr(source, key, value)
        if restart:
            source.harvested_until = None
            _clear_resume(source)
        audit.record("harvest_source_update", actor=actor, details={
            "source": source.name, "base_url": source.base_url, "restart": restart})


def get_source(key: str | int) -> HarvestSource:
    """A source by id or name. :raise NotFound: there is none."""
    if isinstance(key, int) or str(key).isdigit():
        source = db.session.get(HarvestSource, int(key))
    else:
        source = db.session.scalar(select(HarvestSource).where(HarvestSource.name == key))
    if source is None:
        raise NotFound(_("No harvest source %(name)s.", name=str(key)[:64]))
    return source


def all_sources() -> list[HarvestSource]:
    return list(db.session.scalars(select(HarvestSource).order_by(HarvestSource.name)))


def recent_runs(source: HarvestSource, limit: int = 20) -> list[HarvestRun]:
    return list(db.session.scalars(select(HarvestRun).where(HarvestRun.source_id == source.id)
                                   .order_by(HarvestRun.id.desc()).limit(limit)))


def last_runs() -> dict[int, HarvestRun]:
    """The latest run of each source."""
    latest = select(HarvestRun.source_id, db.func.max(HarvestRun.id).label("id")) \
        .group_by(HarvestRun.source_id).subquery()
    runs = db.session.scalars(select(HarvestRun).join(latest, latest.c.id == HarvestRun.id))
    return {run.source_id: run for run in runs}


def due_sources(now: datetime | None = None) -> list[HarvestSource]:
    """Active scheduled sources whose interval has passed, and those with a list to finish."""
    now = now or utcnow()
    due = []
    for source in all_sources():
        if not source.active or source.schedule == Schedule.MANUAL:
            continue
        if source.resume_started is not None or source.last_run_at is None or \
                source.last_run_at + INTERVALS[Schedule(source.schedule)] <= now:
            due.append(source)
    return due


def provenance(record: Record) -> HarvestedRecord | None:
    """Where a harvested record came from (None for the repository's own records)."""
    return db.session.get(HarvestedRecord, record.id)


# --- a run -------------------------------------------------------------------------------------

def _clear_resume(source: HarvestSource) -> None:
    source.resume_set, source.resume_token, source.resume_started = 0, None, None


def _claim(source_id: int) -> None:
    now = utcnow()
    claimed = db.session.execute(
        update(HarvestSource).where(
            HarvestSource.id == source_id,
            or_(HarvestSource.running_since.is_(None),
                HarvestSource.running_since < now - STALE_CLAIM))
        .values(running_since=now))
    db.session.commit()
    if claimed.rowcount != 1:
        raise Conflict(_("A harvest of this source is already running."))


def run_harvest(source_key: str | int, *, progress: Callable[[int, str], None] | None = None
                ) -> HarvestRun:
    """Harvest one source now; returns the finished run (failed runs included).

    :raise NotFound: no such source. :raise Conflict: it is being harvested already.
    """
    source_id = get_source(source_key).id
    _claim(source_id)
    run = HarvestRun(source_id=source_id, counts={}, problems=[])
    try:
        db.session.add(run)
        db.session.commit()
        source = db.session.get(HarvestSource, source_id)
        assert source is not None
        _Harvest(source, run, progress).execute()
    except HarvestError as error:
        db.session.rollback()
        run.status, run.message = RunStatus.FAILED, str(error)
        log.warning("harvest of source %s failed: %s", source_id, error)
    except Exception:
        db.session.rollback()
        run.status, run.message = RunStatus.FAILED, "internal error (see the server log)"
        raise
    finally:
        source = db.session.get(HarvestSource, source_id)
        if source is not None:
            source.running_since = None
            source.last_run_at = utcnow()
        run.finished_at = utcnow()
        db.session.commit()
    return run


class _Harvest:
    def __init__(self, source: HarvestSource, run: HarvestRun,
                 progress: Callable[[int, str], None] | None) -> None:
        config = current_app.config
        self.source, self.run, self.progress = source, run, progress
        self.client = OaiClient(source.base_url, Limits(
            timeout_seconds=float(config["HARVEST_TIMEOUT_SECONDS"]),
            max_bytes=int(config["HARVEST_MAX_RESPONSE_BYTES"]),
            max_redirects=int(config["HARVEST_MAX_REDIRECTS"])), USER_AGENT)
        self.max_pages = int(config["HARVEST_MAX_PAGES"])
        self.counts: Counter[str] = Counter()
        self.problems: list[list[str]] = []

    def execute(self) -> None:
        source, run = self.source, self.run
        identify = self.client.request(verb="Identify")
        source.granularity = (identify.findtext(f"{OAI}Identify/{OAI}granularity")
                              or "YYYY-MM-DD").strip()[:32]
        since = format_from(source.harvested_until, source.granularity) \
            if source.harvested_until else None
        run.from_date = since
        sets: list[str | None] = list(source.sets) or [None]
        resuming = source.resume_started is not None
        set_index = source.resume_set if resuming else 0
        token = source.resume_token if resuming else None
        started = source.resume_started if resuming else None
        retried_token = False
        pages = 0
        while set_index < len(sets):
            if pages >= self.max_pages:
                source.resume_set, source.resume_token = set_index, token
                source.resume_started = started
                self._finish(RunStatus.PARTIAL, pages)
                return
            arguments = {"verb": "ListRecords", "resumptionToken": token} if token else {
                "verb": "ListRecords", "metadataPrefix": source.metadata_prefix,
                **({"from": since} if since else {}),
                **({"set": sets[set_index]} if sets[set_index] else {})}
            try:
                root = self.client.request(**arguments)  # type: ignore[arg-type]
            except BadResumptionToken:
                if retried_token or not token:
                    raise
                retried_token, token = True, None  # expired: read this set again from `from`
                continue
            pages += 1
            if started is None:
                started = response_date(root)
            listing = root.find(f"{OAI}ListRecords")
            token = None
            if listing is not None:
                for element in listing.iterfind(f"{OAI}record"):
                    self._record(element)
                token = (listing.findtext(f"{OAI}resumptionToken") or "").strip() or None
            if token is None:
                set_index += 1
            run.pages, run.counts = pages, dict(self.counts)
            db.session.commit()
            if self.progress is not None:
                self.progress(pages, f"{sum(self.counts.values())} records")
        source.harvested_until = started
        _clear_resume(source)
        self._finish(RunStatus.SUCCEEDED, pages)

    def _finish(self, status: RunStatus, pages: int) -> None:
        self.run.status, self.run.pages = status, pages
        self.run.counts, self.run.problems = dict(self.counts), self.problems[:MAX_PROBLEMS]
        self.run.message = ", ".join(f"{k}: {v}" for k, v in sorted(self.counts.items()))
        db.session.commit()

    # --- one record ----------------------------------------------------------------------

    def _record(self, element: Element) -> None:
        header = element.find(f"{OAI}header")
        identifier = (header.findtext(f"{OAI}identifier") or "").strip() \
            if header is not None else ""
        datestamp = (header.findtext(f"{OAI}datestamp") or "").strip()[:32] \
            if header is not None else ""
        try:
            if not identifier or len(identifier) > 500:
                raise Unmappable("the record has no usable identifier")
            if header.get("status") == "deleted":
                outcome = self._deleted(identifier, datestamp)
            else:
                outcome = self._imported(identifier, datestamp, element.find(f"{OAI}metadata"))
        except (Unmappable, ServiceError) as error:
            db.session.rollback()
            outcome = "error"
            self._problem(identifier, str(error) if isinstance(error, Unmappable)
                          else error.message)
        except SQLAlchemyError as error:
            db.session.rollback()
            log.warning("harvested record %r failed in the database", identifier, exc_info=True)
            outcome = "error"
            self._problem(identifier, f"database error ({type(error).__name__})")
        self.counts[outcome] += 1

    def _problem(self, identifier: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append([identifier[:200], message[:500]])

    def _known(self, identifier: str) -> HarvestedRecord | None:
        return db.session.scalar(select(HarvestedRecord).where(
            HarvestedRecord.source_id == self.source.id,
            HarvestedRecord.oai_identifier == identifier))

    def _acting_admin(self) -> User:
        admin = self.source.registered_by
        if admin is None or not can(admin, "harvest.manage"):
            raise ValidationError("no active administrator registered this source; register "
                                  "it again to withdraw or restore its records")
        return admin

    def _imported(self, identifier: str, datestamp: str, metadata: Element | None) -> str:
        prefix = self.source.metadata_prefix
        payload = metadata[0] if metadata is not None and len(metadata) else None
        if payload is None or not payload.tag.startswith("{" + NAMESPACES[prefix] + "}"):
            raise Unmappable(f"the record has no {prefix} metadata")
        mapped = map_record(payload, identifier, self.source.base_url, prefix)
        for warning in mapped.warnings:
            self._problem(identifier, f"left out: {warning}")
        known = self._known(identifier)
        record = db.session.get(Record, known.record_id) if known is not None else None
        if record is not None and record.status in (RecordStatus.WITHDRAWN, RecordStatus.PURGED):
            if not known.deleted or record.status == RecordStatus.PURGED:
                # Withdrawn or purged here, by a curator: that decision stands.
                self._problem(identifier, "withdrawn in this repository; left alone")
                return "skipped"
            restore(self._acting_admin(), record)  # it came back at the source
        result = import_record(
            None, external_id=external_id(self.source.id, identifier),
            collection=self.source.collection, metadata=Metadata(mapped.statements),
            incomplete=mapped.incomplete, access=AccessSettings(level=self.source.access_level),
            files=[], review=False,
            source={"via": "harvest", "source": self.source.name,
                    "identifier": identifier[:200], "datestamp": datestamp})
        with unit_of_work():
            known = self._known(identifier)
            if known is None:
                known = HarvestedRecord(record_id=result.record_id, source_id=self.source.id,
                                        oai_identifier=identifier)
                db.session.add(known)
            known.datestamp, known.original_url = datestamp, mapped.original_url[:2000]
            known.deleted, known.updated_at = False, utcnow()
        return result.action

    def _deleted(self, identifier: str, datestamp: str) -> str:
        known = self._known(identifier)
        if known is None:
            return "skipped"  # deleted before we ever had it
        record = db.session.get(Record, known.record_id)
        with unit_of_work():
            known.deleted, known.datestamp, known.updated_at = True, datestamp, utcnow()
        if record is None or record.status != RecordStatus.PUBLISHED:
            return "unchanged"
        admin = self._acting_admin()
        if not can(admin, "record.withdraw", record):
            raise ValidationError("the registering administrator may not withdraw this record")
        with force_locale("vi"):  # stored like a curator's reason, in the repository language
            reason = _("Deleted at the harvested source %(source)s.", source=self.source.title)
        withdraw(admin, record, reason)
        return "withdrawn"


def external_id(source_id: int, identifier: str) -> str:
    """The import id of a harvested record: stable, and short whatever the identifier."""
    return f"harvest:{source_id}:{hashlib.sha256(identifier.encode()).hexdigest()[:40]}"
