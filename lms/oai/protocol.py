"""OAI-PMH 2.0: argument rules, errors, resumption tokens and the six verbs.

Responses are written with :mod:`metadata.xmlwriter` (the one XML writer of the code base:
every value escaped) around metadata that the projection pre-rendered, and List verbs page by
a keyset on (datestamp, record id): fast on large repositories and stable while records are
added or withdrawn during a harvest. Every item is served with metadata only while the
database still says its record is harvestable; otherwise as deleted, even before the
projection has caught up with the change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, func, or_, select

from lms.catalog.models import Collection, Record
from lms.db import utcnow
from lms.extensions import db
from lms.oai.models import OaiItem, OaiItemSet
from lms.oai.projection import harvestable_clause, render_missing
from metadata import default_profile
from metadata import xmlwriter as xml
from metadata.crosswalks.marcxml import MARC_NS, MARC_SCHEMA
from metadata.crosswalks.mods import MODS_NS, MODS_SCHEMA
from metadata.crosswalks.oai_dc import OAI_DC_NS, OAI_DC_SCHEMA
from metadata.crosswalks.qdc import QDC_NS, QDC_SCHEMA
from metadata.terms import DCMI_TYPES

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_IDENTIFIER_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
TOKEN_LIFETIME = timedelta(hours=48)

# prefix: (schema, namespace), as ListMetadataFormats declares them. qdc names DSpace's
# wrapper schema for its root namespace, as DSpace does (dcterms.xsd has another namespace).
FORMATS = {
    "oai_dc": (OAI_DC_SCHEMA, OAI_DC_NS),
    "qdc": (QDC_SCHEMA, QDC_NS),
    "marcxml": (MARC_SCHEMA, MARC_NS),
    "mods": (MODS_SCHEMA, MODS_NS),
}

VERBS: dict[str, tuple[set[str], set[str]]] = {
    # verb: (required arguments, optional arguments); resumptionToken is exclusive.
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What the schema accepts in the echoed <request> attributes; an invalid value is not echoed.
_PREFIX_CHARS = r"[A-Za-z0-9\-_\.!~\*'\(\)]+"
_ECHO_PATTERNS = {
    "metadataPrefix": re.compile(f"^{_PREFIX_CHARS}$"),
    "set": re.compile(f"^{_PREFIX_CHARS}(:{_PREFIX_CHARS})*$"),
    "from": re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?$"),
    "until": re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?$"),
    "identifier": re.compile(r"^\S{1,2000}$"),
}
_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Response:
    verb: str | None
    arguments: Mapping[str, str]
    body: Iterator[str] | str
    errors: Sequence[OaiError] = ()


# --- helpers -------------------------------------------------------------------------------

def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(value: str, *, end: bool) -> tuple[datetime, str]:
    """A ``from``/``until`` value as the inclusive bound it means, and its granularity.

    :raise OaiError: badArgument, for a malformed or impossible date.
    """
    try:
        if _DAY.match(value):
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            return (day + timedelta(days=1) if end else day), "day"
        if _SECOND.match(value):
            moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            return (moment + timedelta(seconds=1) if end else moment), "second"
    except ValueError:
        pass
    raise OaiError("badArgument", f"'{value[:40]}' is not a date of the form YYYY-MM-DD or "
                                  f"YYYY-MM-DDThh:mm:ssZ.")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="oai-resumption")


def record_id_of(identifier: str) -> int | None:
    prefix = f"oai:{current_app.config['OAI_REPOSITORY_ID']}:"
    if not identifier.startswith(prefix):
        return None
    tail = identifier[len(prefix):]
    return int(tail) if tail.isdigit() and len(tail) < 12 else None


def _header(item_id: int, datestamp: datetime, deleted: bool, specs: str) -> str:
    # The hot path of every List page. The identifier needs no escaping: the repository id
    # is checked against the oai-identifier pattern at startup and the id is an integer.
    status = ' status="deleted"' if deleted else ""
    sets = "".join(xml.element("setSpec", s) for s in specs.split()) if specs else ""
    return (f"<header{status}><identifier>oai:{_repository_id()}:{item_id}</identifier>"
            f"<datestamp>{datestamp.strftime('%Y-%m-%dT%H:%M:%SZ')}</datestamp>{sets}</header>")


def _repository_id() -> str:
    return current_app.config["OAI_REPOSITORY_ID"]


# --- request validation --------------------------------------------------------------------

def check_arguments(args: Mapping[str, Sequence[str]]) -> tuple[str, dict[str, str]]:
    """The verb and its single-valued arguments.

    :raise OaiError: badVerb (missing, unknown or repeated) or badArgument.
    """
    verbs = args.get("verb", [])
    if len(verbs) != 1:
        raise OaiError("badVerb", "Exactly one verb argument is required." if len(verbs) > 1
                       else "The verb argument is missing.")
    verb = verbs[0]
    if verb not in VERBS:
        raise OaiError("badVerb", f"'{verb[:40]}' is not an OAI-PMH verb.")
    required, optional = VERBS[verb]
    values: dict[str, str] = {}
    for name, given in args.items():
        if name == "verb":
            continue
        if name not in required | optional:
            raise OaiError("badArgument", f"'{name[:40]}' is not an argument of {verb}.")
        if len(given) != 1:
            raise OaiError("badArgument", f"The argument {name} is repeated.")
        values[name] = given[0]
    if "resumptionToken" in values:
        if len(values) > 1:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument.")
    else:
        missing = required - values.keys()
        if missing:
            raise OaiError("badArgument",
                           f"Missing required argument(s): {', '.join(sorted(missing))}.")
    return verb, values


# --- verbs ---------------------------------------------------------------------------------

def identify(base_url: str) -> str:
    config = current_app.config
    earliest = db.session.scalar(select(func.min(OaiItem.datestamp))) or utcnow()
    repository_id = config["OAI_REPOSITORY_ID"]
    oai_identifier = xml.wrap("oai-identifier", "".join((
        xml.element("scheme", "oai"),
        xml.element("repositoryIdentifier", repository_id),
        xml.element("delimiter", ":"),
        xml.element("sampleIdentifier", f"oai:{repository_id}:1"),
    )), xml.namespaces({"": OAI_IDENTIFIER_NS}, [
        (OAI_IDENTIFIER_NS, "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd")]))
    return xml.wrap("Identify", "".join((
        xml.element("repositoryName", config["OAI_REPOSITORY_NAME"]),
        xml.element("baseURL", base_url),
        xml.element("protocolVersion", "2.0"),
        xml.element("adminEmail", config["OAI_ADMIN_EMAIL"]),
        xml.element("earliestDatestamp", stamp(earliest)),
        xml.element("deletedRecord", "persistent"),
        xml.element("granularity", GRANULARITY),
        xml.wrap("description", oai_identifier),
    )))


def _known_item(identifier: str) -> tuple[OaiItem, bool]:
    """The item and whether it is deleted: in the projection, or in the database already."""
    record_id = record_id_of(identifier)
    item = db.session.get(OaiItem, record_id) if record_id is not None else None
    if item is None:
        raise OaiError("idDoesNotExist", "No item has this identifier.")
    live = db.session.scalar(select(Record.id).where(Record.id == item.record_id,
                                                     harvestable_clause()))
    return item, item.deleted or live is None


def list_metadata_formats(identifier: str | None) -> str:
    if identifier is not None:
        _item, deleted = _known_item(identifier)
        if deleted:
            # A deleted item has no metadata left to disseminate in any format.
            raise OaiError("noMetadataFormats", "This item was deleted.")
    formats = "".join(
        xml.wrap("metadataFormat", xml.element("metadataPrefix", prefix)
                 + xml.element("schema", schema) + xml.element("metadataNamespace", namespace))
        for prefix, (schema, namespace) in FORMATS.items()
    )
    return f"<ListMetadataFormats>{formats}</ListMetadataFormats>"


def _check_prefix(prefix: str) -> None:
    if prefix not in FORMATS:
        raise OaiError("cannotDisseminateFormat",
                       f"The metadata format '{prefix[:40]}' is not supported.")


def get_record(identifier: str, prefix: str) -> str:
    _check_prefix(prefix)
    item, deleted = _known_item(identifier)
    record = _record(item.record_id, item.datestamp, deleted, item.set_specs,
                     _metadata(item.record_id, deleted, prefix, getattr(item, prefix)))
    return f"<GetRecord>{record}</GetRecord>"


def _metadata(record_id: int, deleted: bool, prefix: str, stored: str) -> str:
    if stored or deleted:
        return stored
    # A row from before this format existed: render it now (lms oai rebuild stores it).
    return render_missing(record_id, prefix)


def _record(record_id: int, datestamp: datetime, deleted: bool, specs: str,
            metadata: str) -> str:
    header = _header(record_id, datestamp, deleted, specs)
    if deleted:
        return f"<record>{header}</record>"
    return f"<record>{header}<metadata>{metadata}</metadata></record>"


# --- sets ----------------------------------------------------------------------------------

def all_sets() -> list[tuple[str, str]]:
    """(setSpec, setName) of every set, names in Vietnamese."""
    sets: list[tuple[str, str]] = []
    collections = db.session.scalars(select(Collection).order_by(Collection.id)).all()
    for collection in collections:
        sets.append(("collection:" + ":".join(collection.path_slugs), collection.title))
    profile = default_profile()
    types = profile.vocabulary("DCMIType")
    sets.extend((f"type:{t}", types.label(t, "vi")) for t in DCMI_TYPES)
    audiences = profile.vocabulary("audiences")
    sets.extend((f"audience:{slug}", label) for slug, label, _d in audiences.options("vi"))
    return sorted(sets)


def list_sets(token: str | None, base_page: int) -> str:
    sets = all_sets()
    if not sets:
        raise OaiError("noSetHierarchy", "This repository has no sets.")
    offset = 0
    if token is not None:
        state = _load_token(token, "ListSets")
        offset = state["offset"]
    page = sets[offset: offset + base_page]
    body = "".join(xml.wrap("set", xml.element("setSpec", spec) + xml.element("setName", name))
                   for spec, name in page)
    more = offset + base_page < len(sets)
    next_token = _dump_token({"verb": "ListSets", "offset": offset + base_page}) if more \
        else None
    return f"<ListSets>{body}{_token_element(next_token, len(sets), offset, token)}</ListSets>"


# --- list verbs ----------------------------------------------------------------------------

def _dump_token(state: dict) -> str:
    return _serializer().dumps(state)


def _load_token(token: str, verb: str) -> dict:
    try:
        state = _serializer().loads(token, max_age=int(TOKEN_LIFETIME.total_seconds()))
    except SignatureExpired:
        raise OaiError("badResumptionToken", "The resumption token has expired.") from None
    except BadSignature:
        raise OaiError("badResumptionToken", "The resumption token is invalid.") from None
    if not isinstance(state, dict) or state.get("verb") != verb:
        raise OaiError("badResumptionToken", "The resumption token belongs to another request.")
    return state


def _token_element(next_token: str | None, total: int, cursor: int, previous: str | None) -> str:
    if next_token is None and previous is None:
        return ""
    counts = {"completeListSize": str(total), "cursor": str(cursor)}
    if next_token is None:
        # The last page of a resumed list: an empty token closes it.
        return xml.element("resumptionToken", None, counts)
    return xml.element("resumptionToken", next_token,
                       {**counts, "expirationDate": stamp(utcnow() + TOKEN_LIFETIME)})


@dataclass(frozen=True)
class ListQuery:
    prefix: str
    since: datetime | None
    until: datetime | None  # exclusive upper bound, frozen at the first request
    set_spec: str | None


def _query_from_arguments(values: Mapping[str, str]) -> ListQuery:
    prefix = values["metadataPrefix"]
    _check_prefix(prefix)
    since = until = None
    granularities = set()
    if "from" in values:
        since, granularity = parse_date(values["from"], end=False)
        granularities.add(granularity)
    if "until" in values:
        until, granularity = parse_date(values["until"], end=True)
        granularities.add(granularity)
    if len(granularities) > 1:
        raise OaiError("badArgument", "from and until must have the same granularity.")
    if since is not None and until is not None and since >= until:
        raise OaiError("badArgument", "from is later than until.")
    # Freeze the end of the list now: records added or changed while the harvest pages on
    # belong to the next incremental harvest (from = this response's date), not this one.
    now_bound = utcnow()
    until = min(until, now_bound) if until is not None else now_bound
    # An unknown set matches nothing, which is reported as noRecordsMatch.
    return ListQuery(prefix, since, until, values.get("set"))


def list_items(verb: str, values: Mapping[str, str]) -> str:
    """ListIdentifiers / ListRecords, one page."""
    page_size = current_app.config["OAI_PAGE_SIZE"]
    token = values.get("resumptionToken")
    if token is not None:
        state = _load_token(token, verb)
        try:
            query = ListQuery(
                state["prefix"],
                datetime.fromisoformat(state["since"]) if state["since"] else None,
                datetime.fromisoformat(state["until"]),
                state["set"],
            )
            after = (datetime.fromisoformat(state["after"][0]), int(state["after"][1]))
            total, cursor = int(state["total"]), int(state["cursor"])
        except (KeyError, TypeError, ValueError, IndexError):
            raise OaiError("badResumptionToken", "The resumption token is invalid.") from None
    else:
        query = _query_from_arguments(values)
        after, total, cursor = None, None, 0

    select_items = _select(query, after, page_size + 1, with_metadata=verb == "ListRecords")
    # Core execution: plain rows, without the ORM's per-row bookkeeping.
    rows = db.session.connection().execute(select_items).all()
    if total is None:
        if not rows:
            raise OaiError("noRecordsMatch", "No items match these arguments.")
        total = db.session.scalar(_count(query))
    if not rows and token is not None:
        raise OaiError("badResumptionToken", "The resumption token is past the end of the list.")
    more = len(rows) > page_size
    rows = rows[:page_size]
    parts: list[str] = [f"<{verb}>"]
    for row in rows:
        deleted = row.deleted or not row.live
        if verb == "ListRecords":
            parts.append(_record(row.record_id, row.datestamp, deleted, row.set_specs,
                                 _metadata(row.record_id, deleted, query.prefix,
                                           row.metadata)))
        else:
            parts.append(_header(row.record_id, row.datestamp, deleted, row.set_specs))
    next_token = None
    if more:
        last = rows[-1]
        next_token = _dump_token({
            "verb": verb, "prefix": query.prefix,
            "since": query.since.isoformat() if query.since else None,
            "until": query.until.isoformat(), "set": query.set_spec,
            "after": [last.datestamp.isoformat(), last.record_id],
            "total": total, "cursor": cursor + len(rows),
        })
    parts.append(_token_element(next_token, total, cursor, token))
    parts.append(f"</{verb}>")
    return "".join(parts)


def _bounds(query: ListQuery, datestamp):
    conditions = [datestamp < query.until]
    if query.since is not None:
        conditions.append(datestamp >= query.since)
    return conditions


def _select(query: ListQuery, after: tuple[datetime, int] | None, limit: int, *,
            with_metadata: bool):
    # "live": the database's word now, whatever the projection says (see the module doc).
    columns = [OaiItem.record_id, OaiItem.datestamp, OaiItem.deleted, OaiItem.set_specs,
               harvestable_clause().label("live")]
    if with_metadata:
        columns.append(getattr(OaiItem, query.prefix).label("metadata"))
    if query.set_spec is None:
        stamp_col, id_col = OaiItem.datestamp, OaiItem.record_id
        stmt = select(*columns)
    else:
        stamp_col, id_col = OaiItemSet.datestamp, OaiItemSet.record_id
        stmt = select(*columns).join(OaiItemSet, OaiItemSet.record_id == OaiItem.record_id) \
            .where(OaiItemSet.set_spec == query.set_spec)
    stmt = stmt.outerjoin(Record, Record.id == OaiItem.record_id)
    conditions = _bounds(query, stamp_col)
    if after is not None:
        # State the lower bound on its own too: SQLite's planner then seeks the index
        # instead of scanning from the start on every page.
        conditions.append(stamp_col >= after[0])
        conditions.append(or_(stamp_col > after[0],
                              and_(stamp_col == after[0], id_col > after[1])))
    return stmt.where(*conditions).order_by(stamp_col, id_col).limit(limit)


def _count(query: ListQuery):
    if query.set_spec is None:
        return select(func.count()).select_from(OaiItem).where(
            *_bounds(query, OaiItem.datestamp))
    return select(func.count()).select_from(OaiItemSet).where(
        OaiItemSet.set_spec == query.set_spec,
        *_bounds(query, OaiItemSet.datestamp))


# --- envelope ------------------------------------------------------------------------------

_ENVELOPE_START = xml.start("OAI-PMH", xml.namespaces(
    {"": OAI_NS}, [(OAI_NS, "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")]))

def envelope(base_url: str, response: Response) -> Iterator[str]:
    yield (xml.DECLARATION + _ENVELOPE_START
           + xml.element("responseDate", stamp(utcnow())))
    # Arguments are echoed only when the request was well formed (badVerb/badArgument: none).
    attributes: list[tuple[str, str]] = []
    if not any(e.code in ("badVerb", "badArgument") for e in response.errors):
        echoed = {"verb": response.verb, **response.arguments} if response.verb else {}
        attributes = [(name, value) for name, value in echoed.items()
                      if name not in _ECHO_PATTERNS or _ECHO_PATTERNS[name].match(value)]
    yield xml.element("request", base_url, attributes)
    if response.errors:
        for error in response.errors:
            yield xml.element("error", error.message, {"code": error.code})
    elif isinstance(response.body, str):
        yield response.body
    else:
        yield from response.body
    yield "</OAI-PMH>\n"

