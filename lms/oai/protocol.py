"""OAI-PMH 2.0: argument rules, errors, resumption tokens and the six verbs.

Responses are written as strings (every value escaped) around metadata that the projection
pre-rendered, and List verbs page by a keyset on (datestamp, record id): fast on large
repositories and stable while records are added or withdrawn during a harvest. Every item is
served with metadata only while the database still says its record is harvestable; otherwise
as deleted, even before the projection has caught up with the change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, func, or_, select

from lms.catalog.models import Collection, Record
from lms.db import utcnow
from lms.extensions import db
from lms.oai.models import OaiItem, OaiItemSet
from lms.oai.projection import harvestable_clause
from metadata import default_profile
from metadata.terms import DCMI_TYPES

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
TOKEN_LIFETIME = timedelta(hours=48)

FORMATS = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
               "http://www.openarchives.org/OAI/2.0/oai_dc/"),
    "qdc": ("http://dublincore.org/schemas/xmls/qdc/2008/02/11/dcterms.xsd",
            "http://dspace.org/qualifieddc/"),
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
    sets = "".join(f"<setSpec>{escape(s)}</setSpec>" for s in specs.split()) if specs else ""
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
    return (
        "<Identify>"
        f"<repositoryName>{escape(config['OAI_REPOSITORY_NAME'])}</repositoryName>"
        f"<baseURL>{escape(base_url)}</baseURL>"
        "<protocolVersion>2.0</protocolVersion>"
        f"<adminEmail>{escape(config['OAI_ADMIN_EMAIL'])}</adminEmail>"
        f"<earliestDatestamp>{stamp(earliest)}</earliestDatestamp>"
        "<deletedRecord>persistent</deletedRecord>"
        f"<granularity>{GRANULARITY}</granularity>"
        "<description><oai-identifier "
        'xmlns="http://www.openarchives.org/OAI/2.0/oai-identifier" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai-identifier '
        'http://www.openarchives.org/OAI/2.0/oai-identifier.xsd">'
        "<scheme>oai</scheme>"
        f"<repositoryIdentifier>{escape(repository_id)}</repositoryIdentifier>"
        "<delimiter>:</delimiter>"
        f"<sampleIdentifier>oai:{escape(repository_id)}:1</sampleIdentifier>"
        "</oai-identifier></description>"
        "</Identify>"
    )


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
        f"<metadataFormat><metadataPrefix>{prefix}</metadataPrefix>"
        f"<schema>{escape(schema)}</schema>"
        f"<metadataNamespace>{escape(namespace)}</metadataNamespace></metadataFormat>"
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
                     getattr(item, prefix))
    return f"<GetRecord>{record}</GetRecord>"


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
    body = "".join(f"<set><setSpec>{escape(spec)}</setSpec><setName>{escape(name)}</setName>"
                   f"</set>" for spec, name in page)
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
    if next_token is None:
        # The last page of a resumed list: an empty token closes it.
        return f'<resumptionToken completeListSize="{total}" cursor="{cursor}"/>'
    expires = stamp(utcnow() + TOKEN_LIFETIME)
    return (f'<resumptionToken completeListSize="{total}" cursor="{cursor}" '
            f'expirationDate="{expires}">{escape(next_token)}</resumptionToken>')


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
                                 row.metadata))
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

def envelope(base_url: str, response: Response) -> Iterator[str]:
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n'
           f'<OAI-PMH xmlns="{OAI_NS}" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ '
           'http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
           f"<responseDate>{stamp(utcnow())}</responseDate>")
    # Arguments are echoed only when the request was well formed (badVerb/badArgument: none).
    attributes = ""
    if not any(e.code in ("badVerb", "badArgument") for e in response.errors):
        echoed = {"verb": response.verb, **response.arguments} if response.verb else {}
        attributes = "".join(
            f" {name}={quoteattr(value)}" for name, value in echoed.items()
            if name not in _ECHO_PATTERNS or _ECHO_PATTERNS[name].match(value))
    yield f"<request{attributes}>{escape(base_url)}</request>"
    if response.errors:
        for error in response.errors:
            yield f'<error code="{error.code}">{escape(error.message)}</error>'
    elif isinstance(response.body, str):
        yield response.body
    else:
        yield from response.body
    yield "</OAI-PMH>\n"

