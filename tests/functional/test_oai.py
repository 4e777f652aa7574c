"""OAI-PMH 2.0 at /oai: every verb and error, validated against the official schemas."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree
from sqlalchemy import update

from lms.accounts.models import User
from lms.catalog import access_settings, workflow
from lms.catalog.models import AccessLevel, Collection
from lms.extensions import db
from lms.oai.models import OaiItem, OaiItemSet
from tests.factories import make_collection, publish_record
from tests.schemas import PAYLOAD_SCHEMAS, oai_pmh_schema, payload_prefix

pytestmark = pytest.mark.functional

NS = {"o": "http://www.openarchives.org/OAI/2.0/",
      "dc": "http://purl.org/dc/elements/1.1/",
      "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/"}
REPO = "kho.hvhc.edu.vn"


@pytest.fixture(scope="module")
def schema():
    """One schema per metadata prefix: the official OAI-PMH.xsd plus that payload's schema."""
    return {prefix: oai_pmh_schema(prefix) for prefix in PAYLOAD_SCHEMAS}


@pytest.fixture
def oai(client, schema):
    """GET /oai with these arguments; the response must be schema-valid, UTC and HTTP 200."""

    def call(query: str = "", *, method: str = "GET", data=None, content_type=None):
        if method == "POST":
            response = client.post("/oai", data=data if data is not None else query,
                                   content_type=content_type
                                   or "application/x-www-form-urlencoded")
        else:
            response = client.get(f"/oai?{query}")
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/xml")
        document = etree.fromstring(response.get_data())
        schema[payload_prefix(document)].assertValid(document)
        dates = (f"{{{NS['o']}}}responseDate", f"{{{NS['o']}}}datestamp")
        for date in document.iter(*dates):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", date.text), date.text
        return document

    return call


def error_code(document) -> str | None:
    error = document.find("o:error", NS)
    return error.get("code") if error is not None else None


@pytest.fixture
def world(app, users):
    """Public records in a collection tree, one internal and one never-public record."""
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        parent = make_collection("khoa-hau-can", curators=[curator], steps=1)
        child = make_collection("xang-dau", curators=[curator], steps=1, parent=parent)
        public = access_settings.AccessSettings(level=AccessLevel.PUBLIC)
        ids = {
            "a": publish_record(owner, curator, parent, public, title="Tài liệu A").id,
            "b": publish_record(owner, curator, child, public, title="Tài liệu B").id,
            "c": publish_record(owner, curator, child, public, title="Tài liệu C").id,
            "internal": publish_record(owner, curator, parent,
                                       access_settings.AccessSettings(level=AccessLevel.INTERNAL),
                                       title="Nội bộ").id,
        }
        return ids


def identifiers(document) -> list[str]:
    return [e.text for e in document.iterfind(".//o:header/o:identifier", NS)]


def oai_id(record_id: int) -> str:
    return f"oai:{REPO}:{record_id}"


# --- verbs ---------------------------------------------------------------------------------

def test_identify(oai, world):
    document = oai("verb=Identify")
    identify = document.find("o:Identify", NS)
    assert identify.findtext("o:baseURL", namespaces=NS) == "http://localhost/oai"
    assert identify.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert identify.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert identify.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    earliest = identify.findtext("o:earliestDatestamp", namespaces=NS)
    assert earliest.endswith("Z")
    request = document.find("o:request", NS)
    assert request.get("verb") == "Identify"


def test_identify_uses_the_public_base_url(app, oai):
    app.config["PUBLIC_BASE_URL"] = "https://kho.hvhc.edu.vn"
    document = oai("verb=Identify")
    assert document.findtext("o:Identify/o:baseURL", namespaces=NS) == \
        "https://kho.hvhc.edu.vn/oai"
    assert document.findtext("o:request", namespaces=NS) == "https://kho.hvhc.edu.vn/oai"


def test_list_metadata_formats(oai, world):
    document = oai("verb=ListMetadataFormats")
    declared = {f.findtext("o:metadataPrefix", namespaces=NS): (
        f.findtext("o:schema", namespaces=NS), f.findtext("o:metadataNamespace", namespaces=NS))
        for f in document.iterfind(".//o:metadataFormat", NS)}
    assert declared == {
        "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                   "http://www.openarchives.org/OAI/2.0/oai_dc/"),
        # DSpace's wrapper schema, whose namespace is the root's (not dcterms.xsd).
        "qdc": ("http://www.ukoln.ac.uk/metadata/dcmi/xmlschema/qualifieddc.xsd",
                "http://dspace.org/qualifieddc/"),
        "marcxml": ("http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
                    "http://www.loc.gov/MARC21/slim"),
        "mods": ("http://www.loc.gov/standards/mods/v3/mods-3-7.xsd",
                 "http://www.loc.gov/mods/v3"),
    }
    assert oai(f"verb=ListMetadataFormats&identifier={oai_id(world['a'])}") is not None
    missing = oai(f"verb=ListMetadataFormats&identifier={oai_id(world['internal'])}")
    assert error_code(missing) == "idDoesNotExist"


def test_list_sets_names_the_collection_tree_in_vietnamese(oai, world):
    document = oai("verb=ListSets")
    sets = {e.findtext("o:setSpec", namespaces=NS): e.findtext("o:setName", namespaces=NS)
            for e in document.iterfind(".//o:set", NS)}
    assert sets["collection:khoa-hau-can"] == "Bộ sưu tập khoa-hau-can"
    assert "collection:khoa-hau-can:xang-dau" in sets
    assert sets["type:Text"] == "Văn bản"
    assert "audience:cadet-year-1" in sets


def test_list_sets_pages_with_resumption(app, oai, world):
    app.config["OAI_PAGE_SIZE"] = 5
    document = oai("verb=ListSets")
    seen = [e.text for e in document.iterfind(".//o:setSpec", NS)]
    token = document.find(".//o:resumptionToken", NS)
    while token is not None and token.text:
        document = oai(f"verb=ListSets&resumptionToken={token.text}")
        seen += [e.text for e in document.iterfind(".//o:setSpec", NS)]
        token = document.find(".//o:resumptionToken", NS)
    assert len(seen) == len(set(seen)) > 20
    assert token is not None and token.get("completeListSize") == str(len(seen))


def test_get_record_in_both_formats(oai, world):
    document = oai(f"verb=GetRecord&metadataPrefix=oai_dc&identifier={oai_id(world['a'])}")
    assert document.findtext(".//dc:title", namespaces=NS) == "Tài liệu A"
    assert document.find(".//dc:title", NS).get("{http://www.w3.org/XML/1998/namespace}lang") \
        == "vi"
    specs = [e.text for e in document.iterfind(".//o:setSpec", NS)]
    assert "collection:khoa-hau-can" in specs and "type:Text" in specs
    qdc = oai(f"verb=GetRecord&metadataPrefix=qdc&identifier={oai_id(world['a'])}")
    assert qdc.find(".//{http://dspace.org/qualifieddc/}qualifieddc") is not None


def test_a_record_in_a_child_collection_is_in_the_parent_set(oai, world):
    document = oai("verb=ListIdentifiers&metadataPrefix=oai_dc&set=collection:khoa-hau-can")
    assert set(identifiers(document)) == {oai_id(world[k]) for k in "abc"}
    child = oai("verb=ListIdentifiers&metadataPrefix=oai_dc&set=collection:khoa-hau-can:xang-dau")
    assert set(identifiers(child)) == {oai_id(world["b"]), oai_id(world["c"])}


def test_list_records_shows_only_what_anonymous_readers_may_see(oai, world):
    document = oai("verb=ListRecords&metadataPrefix=oai_dc")
    assert set(identifiers(document)) == {oai_id(world[k]) for k in "abc"}
    assert "Nội bộ" not in etree.tostring(document, encoding="unicode")
    lost = oai(f"verb=GetRecord&metadataPrefix=oai_dc&identifier={oai_id(world['internal'])}")
    assert error_code(lost) == "idDoesNotExist"


def test_post_is_accepted(oai, world):
    document = oai(method="POST", data={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    assert len(identifiers(document)) == 3


# --- deletions -----------------------------------------------------------------------------

def test_withdrawn_and_downgraded_records_become_deleted_headers(app, oai, world):
    with app.app_context():
        from lms.catalog.models import Record

        curator = db.session.scalar(db.select(User).where(User.username == "curator"))
        workflow.withdraw(curator, db.session.get(Record, world["a"]), "Lỗi thời")
        record_b = db.session.get(Record, world["b"])
        settings = access_settings.AccessSettings.of(record_b)
        settings.level = AccessLevel.INTERNAL
        access_settings.change_access(curator, record_b, settings)
        record_c = db.session.get(Record, world["c"])
        settings = access_settings.AccessSettings.of(record_c)
        settings.discoverable = False
        access_settings.change_access(curator, record_c, settings)
    document = oai("verb=ListIdentifiers&metadataPrefix=oai_dc")
    headers = {h.findtext("o:identifier", namespaces=NS): h.get("status")
               for h in document.iterfind(".//o:header", NS)}
    assert headers == {oai_id(world[k]): "deleted" for k in "abc"}
    record = oai(f"verb=GetRecord&metadataPrefix=oai_dc&identifier={oai_id(world['a'])}")
    assert record.find(".//o:header", NS).get("status") == "deleted"
    assert record.find(".//o:metadata", NS) is None
    # A deleted item keeps its sets, so set-selective harvesters see it go.
    in_set = oai("verb=ListIdentifiers&metadataPrefix=oai_dc&set=collection:khoa-hau-can")
    assert oai_id(world["a"]) in identifiers(in_set)


def test_restoring_access_brings_the_record_back(app, oai, world):
    with app.app_context():
        from lms.catalog.models import Record

        curator = db.session.scalar(db.select(User).where(User.username == "curator"))
        record = db.session.get(Record, world["internal"])
        settings = access_settings.AccessSettings.of(record)
        settings.level = AccessLevel.PUBLIC
        access_settings.change_access(curator, record, settings)
    document = oai(f"verb=GetRecord&metadataPrefix=oai_dc&identifier={oai_id(world['internal'])}")
    assert document.findtext(".//dc:title", namespaces=NS) == "Nội bộ"


# --- resumption ----------------------------------------------------------------------------

def harvest(oai, query: str) -> tuple[list[str], list]:
    document = oai(query)
    seen, tokens = identifiers(document), []
    token = document.find(".//o:resumptionToken", NS)
    while token is not None and token.text:
        tokens.append(token)
        verb = re.search(r"verb=(\w+)", query).group(1)
        document = oai(f"verb={verb}&resumptionToken={token.text}")
        seen += identifiers(document)
        token = document.find(".//o:resumptionToken", NS)
    if token is not None:
        tokens.append(token)
    return seen, tokens


def test_resumption_pages_carry_cursor_and_size(app, oai, world):
    app.config["OAI_PAGE_SIZE"] = 2
    seen, tokens = harvest(oai, "verb=ListRecords&metadataPrefix=oai_dc")
    assert sorted(seen) == sorted(oai_id(world[k]) for k in "abc")
    assert [t.get("cursor") for t in tokens] == ["0", "2"]
    assert {t.get("completeListSize") for t in tokens} == {"3"}
    expires = datetime.strptime(tokens[0].get("expirationDate"), "%Y-%m-%dT%H:%M:%SZ")
    assert expires.replace(tzinfo=UTC) - datetime.now(UTC) > timedelta(hours=24)


def test_additions_and_withdrawals_during_a_harvest(app, oai, world):
    app.config["OAI_PAGE_SIZE"] = 1
    first = oai("verb=ListIdentifiers&metadataPrefix=oai_dc")
    token = first.find(".//o:resumptionToken", NS).text
    with app.app_context():
        owner = db.session.scalar(db.select(User).where(User.username == "instructor"))
        curator = db.session.scalar(db.select(User).where(User.username == "curator"))
        collection = db.session.scalar(db.select(Collection).where(
            Collection.slug == "khoa-hau-can"))
        publish_record(owner, curator, collection,
                       access_settings.AccessSettings(level=AccessLevel.PUBLIC), title="Mới thêm")
        # Withdraw one already listed and one not yet listed.
        from lms.catalog.models import Record

        listed = int(identifiers(first)[0].rsplit(":", 1)[1])
        later = next(world[k] for k in "abc" if world[k] != listed)
        workflow.withdraw(curator, db.session.get(Record, listed), "Lỗi thời")
        workflow.withdraw(curator, db.session.get(Record, later), "Lỗi thời")
    seen = identifiers(first)
    while token:
        document = oai(f"verb=ListIdentifiers&resumptionToken={token}")
        seen += identifiers(document)
        element = document.find(".//o:resumptionToken", NS)
        token = element.text if element is not None else None
    # The list is frozen when the harvest begins: nothing is repeated, and what changed after
    # that (the addition, the later withdrawal) comes with the next incremental harvest.
    assert len(seen) == len(set(seen))
    assert oai_id(later) not in seen
    assert set(seen) == {oai_id(world[k]) for k in "abc"} - {oai_id(later)}
    start = first.findtext("o:responseDate", namespaces=NS)
    following, _tokens = harvest(oai, f"verb=ListIdentifiers&metadataPrefix=oai_dc&from={start}")
    assert oai_id(later) in following and oai_id(listed) in following


def test_from_and_until_are_inclusive_at_second_granularity(app, oai, world):
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with app.app_context():
        for table in (OaiItem, OaiItemSet):
            db.session.execute(update(table).where(table.record_id == world["a"])
                               .values(datestamp=moment))
        db.session.commit()
    exact = "2026-01-02T03:04:05Z"
    both = oai(f"verb=ListIdentifiers&metadataPrefix=oai_dc&from={exact}&until={exact}")
    assert identifiers(both) == [oai_id(world["a"])]
    day = oai("verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-01-02&until=2026-01-02")
    assert identifiers(day) == [oai_id(world["a"])]
    after = oai("verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-01-02T03:04:06Z"
                "&until=2026-01-02T23:00:00Z")
    assert error_code(after) == "noRecordsMatch"


# --- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("query, code", [
    ("", "badVerb"),
    ("verb=Unknown", "badVerb"),
    ("verb=GetMetadata", "badVerb"),
    ("verb=ListRecords&verb=ListRecords&metadataPrefix=oai_dc", "badVerb"),
    ("verb=Identify&extra=1", "badArgument"),
    ("verb=ListRecords", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2024-02-30", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2024-13-01", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=yesterday", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-02&until=2024-01-01", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01&until=2024-01-02T00:00:00Z",
     "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01T00:00:00+07:00", "badArgument"),
    ("verb=ListRecords&metadataPrefix=../../etc", "cannotDisseminateFormat"),
    ("verb=GetRecord&metadataPrefix=marc21&identifier=oai:kho.hvhc.edu.vn:1",
     "cannotDisseminateFormat"),
    ("verb=GetRecord&metadataPrefix=oai_dc", "badArgument"),
    ("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:other.repo:1", "idDoesNotExist"),
    ("verb=GetRecord&metadataPrefix=oai_dc&identifier=" + "x" * 10_000, "idDoesNotExist"),
    ("verb=ListIdentifiers&metadataPrefix=oai_dc&set=collection:no-such", "noRecordsMatch"),
    ("verb=ListIdentifiers&resumptionToken=garbage", "badResumptionToken"),
    ("verb=ListIdentifiers&resumptionToken=abc&metadataPrefix=oai_dc", "badArgument"),
    ("verb=ListMetadataFormats&identifier=oai:kho.hvhc.edu.vn:999999", "idDoesNotExist"),
])
def test_errors_are_exactly_as_the_spec_says(oai, world, query, code):
    document = oai(query)
    assert error_code(document) == code
    request = document.find("o:request", NS)
    if code in ("badVerb", "badArgument"):
        assert request.attrib == {}


def test_post_with_a_wrong_content_type_is_bad_argument(oai, world):
    document = oai(method="POST", data='{"verb": "Identify"}', content_type="application/json")
    assert error_code(document) == "badArgument"


def test_token_from_another_query_or_edited_is_refused(app, oai, world):
    app.config["OAI_PAGE_SIZE"] = 1
    token = oai("verb=ListRecords&metadataPrefix=oai_dc").find(".//o:resumptionToken", NS).text
    assert error_code(oai(f"verb=ListIdentifiers&resumptionToken={token}")) == \
        "badResumptionToken"
    edited = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert error_code(oai(f"verb=ListRecords&resumptionToken={edited}")) == "badResumptionToken"


def test_token_past_the_end_is_refused(app, oai, world):
    app.config["OAI_PAGE_SIZE"] = 1
    from lms.oai.protocol import _dump_token

    with app.test_request_context():
        token = _dump_token({"verb": "ListRecords", "prefix": "oai_dc", "since": None,
                             "until": "2099-01-01T00:00:00+00:00", "set": None,
                             "after": ["2099-01-01T00:00:00+00:00", 10**6],
                             "total": 3, "cursor": 3})
    assert error_code(oai(f"verb=ListRecords&resumptionToken={token}")) == "badResumptionToken"


def test_expired_token_is_refused(app, oai, world):
    """A token kept 49 hours (past its 48): the same state, signed with the app's key at a
    time 49 hours ago."""
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class SignedEarlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 49 * 3600

    app.config["OAI_PAGE_SIZE"] = 1
    token = oai("verb=ListRecords&metadataPrefix=oai_dc").find(".//o:resumptionToken", NS).text
    fresh = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="oai-resumption")
    state = fresh.loads(token)
    kept = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="oai-resumption",
                                  signer=SignedEarlier).dumps(state)
    assert error_code(oai(f"verb=ListRecords&resumptionToken={token}")) is None
    assert error_code(oai(f"verb=ListRecords&resumptionToken={kept}")) == "badResumptionToken"


def test_empty_repository_answers_no_records_and_still_has_type_sets(oai, users):
    assert error_code(oai("verb=ListRecords&metadataPrefix=oai_dc")) == "noRecordsMatch"
    assert error_code(oai("verb=ListSets")) is None


def test_oai_rebuild_command_restores_the_projection(app, oai, world):
    from lms.cli import cli

    with app.app_context():
        db.session.execute(db.delete(OaiItemSet))
        db.session.execute(db.delete(OaiItem))
        db.session.commit()
    assert error_code(oai("verb=ListRecords&metadataPrefix=oai_dc")) == "noRecordsMatch"
    result = app.test_cli_runner().invoke(cli, ["oai", "rebuild"])
    assert result.exit_code == 0, result.output
    assert len(identifiers(oai("verb=ListRecords&metadataPrefix=oai_dc"))) == 3


# --- a real harvester ----------------------------------------------------------------------

def test_sickle_harvests_everything_over_several_pages(app, live_server, world):
    from sickle import Sickle

    app.config["OAI_PAGE_SIZE"] = 2
    with app.app_context():
        owner = db.session.scalar(db.select(User).where(User.username == "instructor"))
        curator = db.session.scalar(db.select(User).where(User.username == "curator"))
        collection = db.session.scalar(db.select(Collection).where(
            Collection.slug == "khoa-hau-can"))
        public = access_settings.AccessSettings(level=AccessLevel.PUBLIC)
        extra = [publish_record(owner, curator, collection, public, title=f"Thêm {i}").id
                 for i in range(3)]
        from lms.catalog.models import Record

        workflow.withdraw(curator, db.session.get(Record, world["b"]), "Lỗi thời")
    harvester = Sickle(f"{live_server}/oai", max_retries=0, timeout=30)
    records = list(harvester.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
    harvested = {r.header.identifier: r.header.deleted for r in records}
    published = {oai_id(i) for i in [world["a"], world["c"], *extra]}
    assert harvested == {**{i: False for i in published}, oai_id(world["b"]): True}
    titles = {r.metadata["title"][0] for r in records if not r.header.deleted}
    assert "Tài liệu A" in titles and "Thêm 2" in titles
    identify = harvester.Identify()
    assert identify.repositoryName == "Kho học liệu số - Học viện Hậu cần"


@pytest.mark.parametrize("prefix", sorted(PAYLOAD_SCHEMAS))
def test_sickle_harvests_each_format_with_every_page_schema_valid(app, live_server, world,
                                                                 schema, prefix):
    from sickle import Sickle

    class RecordingSickle(Sickle):
        pages: list[str] = []

        def harvest(self, **kwargs):
            response = super().harvest(**kwargs)
            self.pages.append(response.raw)
            return response

    app.config["OAI_PAGE_SIZE"] = 1
    harvester = RecordingSickle(f"{live_server}/oai", max_retries=0, timeout=30)
    records = list(harvester.ListRecords(metadataPrefix=prefix))
    assert len(records) == 3 and len(harvester.pages) == 3
    for page in harvester.pages:
        schema[prefix].assertValid(etree.fromstring(page.encode("utf-8")))
    titles = set()
    for record in records:
        payload = record.xml.find(".//o:metadata", NS)[0]
        titles.update(t.strip() for t in payload.itertext() if t.strip().startswith("Tài liệu"))
    assert titles == {"Tài liệu A", "Tài liệu B", "Tài liệu C"}


def test_marcxml_and_mods_map_the_record(oai, world):
    marc = oai(f"verb=GetRecord&metadataPrefix=marcxml&identifier={oai_id(world['a'])}")
    m = {"m": "http://www.loc.gov/MARC21/slim"}
    assert marc.xpath("//m:datafield[@tag='245']/m:subfield[@code='a']/text()",
                      namespaces=m) == ["Tài liệu A"]
    assert marc.xpath("//m:datafield[@tag='100']/m:subfield[@code='a']/text()",
                      namespaces=m) == ["Nguyễn, Văn A"]
    mods = oai(f"verb=GetRecord&metadataPrefix=mods&identifier={oai_id(world['a'])}")
    v3 = {"v": "http://www.loc.gov/mods/v3"}
    assert mods.xpath("//v:titleInfo/v:title/text()", namespaces=v3) == ["Tài liệu A"]
    assert mods.xpath("//v:recordInfo/v:recordIdentifier/text()", namespaces=v3) == [
        oai_id(world["a"])]


def test_rows_from_before_marcxml_and_mods_are_rendered_until_refreshed(app, oai, world):
    """After the migration, existing items have empty renderings: served rendered all the
    same, and filled in by a rebuild without a new datestamp."""
    with app.app_context():
        before = {i.record_id: i.datestamp for i in db.session.scalars(db.select(OaiItem))}
        db.session.execute(update(OaiItem).values(marcxml="", mods=""))
        db.session.commit()
    listed = oai("verb=ListRecords&metadataPrefix=mods")
    assert len(listed.xpath("//v:mods", namespaces={"v": "http://www.loc.gov/mods/v3"})) == 3
    got = oai(f"verb=GetRecord&metadataPrefix=marcxml&identifier={oai_id(world['a'])}")
    assert got.find(".//{http://www.loc.gov/MARC21/slim}record") is not None
    from lms.cli import cli

    result = app.test_cli_runner().invoke(cli, ["oai", "rebuild"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        items = db.session.scalars(db.select(OaiItem)).all()
        assert all(item.marcxml.startswith("<record") and item.mods.startswith("<mods")
                   for item in items)
        assert {i.record_id: i.datestamp for i in items} == before
