"""A record's machine-readable faces over HTTP, read by independent parsers: the citation
tags and PDF link, export media types, content negotiation, Signposting and linksets."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import rispy
from lxml import html as lxml_html
from pyld import jsonld
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS
from requests.utils import parse_header_links
from werkzeug.http import parse_options_header

from lms.accounts.models import User
from lms.catalog import access_settings, deposit, workflow
from lms.catalog.models import AccessLevel
from lms.extensions import db
from lms.files.upload import Upload, upload_files
from tests.conftest import ClosingClient
from tests.factories import make_collection, statements
from tests.functional.test_leak_matrix import secret_pdf

pytestmark = pytest.mark.functional

BASE = "http://localhost"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif," \
                 "image/webp,*/*;q=0.8"


@dataclass(frozen=True)
class Published:
    record_id: int
    file_id: int

    @property
    def page(self) -> str:
        return f"{BASE}/records/{self.record_id}"

    @property
    def pdf(self) -> str:
        return f"{BASE}/records/{self.record_id}/files/{self.file_id}"


def publish_with_pdf(app, users, *, embargoed: bool = False, level=AccessLevel.PUBLIC,
                     **extra) -> Published:
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        collection = make_collection("khoa-hau-can", curators=[curator], steps=1)
        access = access_settings.AccessSettings(
            level=level, embargo_until=date.today() + timedelta(days=9) if embargoed else None)
        record = deposit.create_draft(owner, collection, statements(
            "Giáo trình Hậu cần quân đội", license="https://creativecommons.org/licenses/by/4.0/",
            identifier="doi:10.1234/hvhc.7", **extra), access)
        [file] = upload_files(owner, record, [Upload(io.BytesIO(secret_pdf()), "giáo trình.pdf")])
        workflow.submit(owner, record, record.lock_version)
        task = next(t for t in workflow.review_queue(curator).pool if t.record_id == record.id)
        workflow.claim(curator, task.id)
        workflow.accept(curator, task.id)
        return Published(record.id, file.id)


@pytest.fixture
def anonymous(app):
    app.test_client_class = ClosingClient  # file responses hold the blob open until closed
    return app.test_client()


@pytest.fixture
def published(app, users) -> Published:
    return publish_with_pdf(app, users)


def links_of(response) -> list[dict[str, str]]:
    return parse_header_links(response.headers["Link"])


# --- 1. citation_pdf_url, JSON-LD encoding, RIS L1 --------------------------------------------

def test_a_public_pdf_is_named_by_every_citation_channel(anonymous, published):
    page = anonymous.get(f"/records/{published.record_id}").get_data(as_text=True)
    tree = lxml_html.fromstring(page)
    assert tree.xpath("//meta[@name='citation_pdf_url']/@content") == [published.pdf]
    import extruct

    [item] = extruct.extract(page, syntaxes=["json-ld"])["json-ld"]
    assert item["encoding"]["contentUrl"] == published.pdf
    [ris] = rispy.loads(anonymous.get(f"/records/{published.record_id}/export/ris")
                        .get_data(as_text=True))
    assert ris["file_attachments1"] == published.pdf
    pdf = anonymous.get(published.pdf)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")


def test_no_pdf_is_named_to_a_reader_who_may_not_fetch_it(app, users, anonymous):
    embargoed = publish_with_pdf(app, users, embargoed=True)
    page = anonymous.get(f"/records/{embargoed.record_id}").get_data(as_text=True)
    assert lxml_html.fromstring(page).xpath("//meta[@name='citation_pdf_url']") == []
    [ris] = rispy.loads(anonymous.get(f"/records/{embargoed.record_id}/export/ris")
                        .get_data(as_text=True))
    assert "file_attachments1" not in ris
    assert anonymous.get(embargoed.pdf).status_code == 404


# --- 2. the PDF download's type --------------------------------------------------------------

def test_a_pdf_download_is_an_application_pdf_attachment(anonymous, published):
    response = anonymous.get(published.pdf)
    assert response.headers["Content-Type"] == "application/pdf"
    assert parse_options_header(response.headers["Content-Disposition"])[0] == "attachment"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- 4. media types --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ttl", "csv", "rdf", "jsonld", "bibtex", "ris", "oai_dc",
                                  "qdc", "marcxml", "mods", "csl"])
def test_each_export_names_its_charset_at_most_once(anonymous, published, name):
    response = anonymous.get(f"/records/{published.record_id}/export/{name}")
    assert response.status_code == 200
    header = response.headers["Content-Type"]
    assert header.lower().count("charset") <= 1, header
    _type, params = parse_options_header(header)
    assert params.get("charset", "utf-8") == "utf-8"


# --- content negotiation ----------------------------------------------------------------------

def _offline(url, options=None):
    raise AssertionError(f"JSON-LD processor fetched {url}")


def _read_jsonld(text: str):
    return jsonld.expand(json.loads(text), {"documentLoader": _offline})[0]["@id"]


def _read_turtle(text: str):
    return next(Graph().parse(data=text, format="turtle").objects(None, DCTERMS.title))


def _read_rdfxml(text: str):
    return next(Graph().parse(data=text, format="xml").objects(None, DCTERMS.title))


def _read_bibtex(text: str):
    import bibtexparser

    return bibtexparser.parse_string(text).entries[0].fields_dict["url"].value


def _read_ris(text: str):
    return rispy.loads(text)[0]["urls"][0]


def _read_csv(text: str):
    return next(csv.DictReader(io.StringIO(text)))["title[vi]"]


def _read_csl(text: str):
    return json.loads(text)[0]["URL"]


NEGOTIATION = [
    ("application/ld+json", _read_jsonld, "page"),
    ("text/turtle", _read_turtle, "title"),
    ("application/rdf+xml", _read_rdfxml, "title"),
    ("application/x-bibtex", _read_bibtex, "page"),
    ("application/x-research-info-systems", _read_ris, "page"),
    ("text/csv", _read_csv, "title"),
    ("application/vnd.citationstyles.csl+json", _read_csl, "page"),
]


@pytest.mark.parametrize(("accept", "read", "expect"), NEGOTIATION,
                         ids=[n[0] for n in NEGOTIATION])
def test_the_record_address_answers_each_negotiated_type(anonymous, published, accept, read,
                                                         expect):
    response = anonymous.get(f"/records/{published.record_id}", headers={"Accept": accept})
    assert response.status_code == 200
    assert parse_options_header(response.headers["Content-Type"])[0] == accept
    assert "Accept" in response.vary
    assert "Content-Disposition" not in response.headers  # the record, not a download
    found = read(response.get_data(as_text=True))
    expected = published.page if expect == "page" else "Giáo trình Hậu cần quân đội"
    assert str(found) == expected


@pytest.mark.parametrize("accept", [BROWSER_ACCEPT, "*/*", "",
                                    "application/ld+json;q=0.5, text/html",
                                    "application/pdf"])
def test_browsers_and_everything_else_get_the_page(anonymous, published, accept):
    response = anonymous.get(f"/records/{published.record_id}", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Accept" in response.vary


def test_negotiation_follows_the_access_rule(app, users, anonymous):
    internal = publish_with_pdf(app, users, level=AccessLevel.INTERNAL)
    response = anonymous.get(f"/records/{internal.record_id}",
                             headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert "Giáo trình" not in response.get_data(as_text=True)


# --- alternate links in <head> -----------------------------------------------------------------

def test_every_format_is_an_alternate_of_the_page(anonymous, published):
    from lms.exports.links import EXPORTS, media_type

    page = anonymous.get(f"/records/{published.record_id}").get_data(as_text=True)
    alternates = {(link.get("type"), link.get("href")) for link in
                  lxml_html.fromstring(page).xpath(
                      "//head/link[@rel='alternate'][contains(@href, '/export/')]")}
    assert alternates == {(media_type(name), f"{published.page}/export/{name}")
                          for name in EXPORTS}
    for _type, href in alternates:
        assert anonymous.get(href.removeprefix(BASE)).status_code == 200


# --- Signposting -------------------------------------------------------------------------------

def test_landing_page_signposting_links(anonymous, published):
    from lms.exports.links import EXPORTS, media_type

    links = links_of(anonymous.get(f"/records/{published.record_id}"))
    by_rel: dict[str, list[dict[str, str]]] = {}
    for link in links:
        by_rel.setdefault(link["rel"], []).append(link)
    assert [link["url"] for link in by_rel["cite-as"]] == ["https://doi.org/10.1234/hvhc.7"]
    assert {(link["url"], link["type"]) for link in by_rel["describedby"]} == {
        (f"{published.page}/export/{name}", media_type(name)) for name in EXPORTS}
    assert [(link["url"], link["type"]) for link in by_rel["item"]] == [
        (published.pdf, "application/pdf")]
    assert {link["url"] for link in by_rel["type"]} == {
        "https://schema.org/AboutPage", "https://schema.org/LearningResource"}
    assert len(by_rel["author"]) == 1 and "creator" in by_rel["author"][0]["url"]
    assert [link["url"] for link in by_rel["license"]] == [
        "https://creativecommons.org/licenses/by/4.0/"]
    assert {(link["url"], link["type"]) for link in by_rel["linkset"]} == {
        (f"{published.page}/linkset", "application/linkset"),
        (f"{published.page}/linkset.json", "application/linkset+json")}


def test_files_and_exports_point_back_to_the_landing_page(anonymous, published):
    for url in (published.pdf, f"{published.pdf}/preview"):
        assert links_of(anonymous.get(url)) == [
            {"url": published.page, "rel": "collection", "type": "text/html"}]
    export = anonymous.get(f"/records/{published.record_id}/export/jsonld")
    assert links_of(export) == [{"url": published.page, "rel": "describes",
                                 "type": "text/html"}]


def test_files_the_reader_may_not_fetch_are_not_items(app, users, anonymous):
    embargoed = publish_with_pdf(app, users, embargoed=True)
    rels = [link["rel"] for link in links_of(anonymous.get(f"/records/{embargoed.record_id}"))]
    assert "item" not in rels and "cite-as" in rels


def test_linksets_in_both_serialisations_say_the_same(anonymous, published):
    as_json = anonymous.get(f"/records/{published.record_id}/linkset.json")
    assert as_json.headers["Content-Type"] == "application/linkset+json"
    contexts = as_json.get_json()["linkset"]
    anchors = [context["anchor"] for context in contexts]
    assert anchors[0] == published.page and published.pdf in anchors
    landing = contexts[0]
    assert landing["cite-as"] == [{"href": "https://doi.org/10.1234/hvhc.7"}]
    assert landing["item"] == [{"href": published.pdf, "type": "application/pdf"}]
    pdf_context = next(c for c in contexts if c["anchor"] == published.pdf)
    assert pdf_context["collection"] == [{"href": published.page, "type": "text/html"}]

    as_text = anonymous.get(f"/records/{published.record_id}/linkset")
    assert as_text.headers["Content-Type"] == "application/linkset"
    parsed = parse_header_links(as_text.get_data(as_text=True).replace("\n", ""))
    from_text = {(link["anchor"], link["rel"], link["url"]) for link in parsed}
    from_json = {(context["anchor"], rel, target["href"]) for context in contexts
                 for rel, targets in context.items() if rel != "anchor" for target in targets}
    assert from_text == from_json


def test_linksets_follow_the_access_rule(app, users, anonymous):
    internal = publish_with_pdf(app, users, level=AccessLevel.INTERNAL)
    for suffix in ("linkset", "linkset.json"):
        response = anonymous.get(f"/records/{internal.record_id}/{suffix}")
        assert response.status_code == 404
        assert f"files/{internal.file_id}" not in response.get_data(as_text=True)


def test_rdf_subject_is_the_landing_page(anonymous, published):
    graph = Graph().parse(data=anonymous.get(f"/records/{published.record_id}/export/ttl")
                          .get_data(as_text=True), format="turtle")
    assert set(graph.subjects(DCTERMS.title)) == {URIRef(published.page)}
