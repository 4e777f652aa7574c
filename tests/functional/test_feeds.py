"""robots.txt, sitemaps, Atom feeds and the OpenSearch description, read by independent
parsers (urllib.robotparser, feedparser, lxml), and each through the access rule."""

from __future__ import annotations

import urllib.robotparser

import feedparser
import pytest
from lxml import etree

from lms.accounts.models import User
from lms.catalog import access_settings, workflow
from lms.catalog.models import AccessLevel
from lms.extensions import db
from lms.oai.models import OaiItem
from tests.conftest import Browser
from tests.factories import PASSWORD, make_collection, publish_record

pytestmark = pytest.mark.functional

SITEMAP = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
BASE = "http://localhost"


@pytest.fixture
def world(app, users):
    """Five public records (two in a child collection), one internal, one undiscoverable,
    one withdrawn."""
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        parent = make_collection("khoa-hau-can", curators=[curator], steps=1)
        child = make_collection("xang-dau", curators=[curator], steps=1, parent=parent)
        other = make_collection("khoa-khac", curators=[curator], steps=1)
        public = access_settings.AccessSettings(level=AccessLevel.PUBLIC)
        ids = {f"public{i}": publish_record(owner, curator, parent if i < 3 else child, public,
                                            title=f"Tài liệu công khai {i}").id
               for i in range(5)}
        ids["other"] = publish_record(owner, curator, other, public, title="Khoa khác").id
        ids["internal"] = publish_record(
            owner, curator, parent, access_settings.AccessSettings(level=AccessLevel.INTERNAL),
            title="Tài liệu nội bộ").id
        ids["hidden"] = publish_record(
            owner, curator, parent, access_settings.AccessSettings(level=AccessLevel.PUBLIC,
                                                            discoverable=False),
            title="Tài liệu không liệt kê").id
        withdrawn = publish_record(owner, curator, parent, public, title="Tài liệu đã rút")
        workflow.withdraw(curator, withdrawn, "Lỗi thời")
        ids["withdrawn"] = withdrawn.id
        return ids


PUBLIC_TITLES = {f"Tài liệu công khai {i}" for i in range(5)} | {"Khoa khác"}


def titles(feed_bytes: bytes) -> set[str]:
    parsed = feedparser.parse(feed_bytes)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    return {entry.title for entry in parsed.entries}


def test_robots_lets_crawlers_read_records_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.mimetype == "text/plain"
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(response.get_data(as_text=True).splitlines())
    assert parser.site_maps() == [f"{BASE}/sitemap.xml"]
    assert parser.can_fetch("Googlebot", f"{BASE}/records/7")
    assert parser.can_fetch("Googlebot", f"{BASE}/records/7/files/3")
    assert not parser.can_fetch("Googlebot", f"{BASE}/admin/users")
    assert not parser.can_fetch("Googlebot", f"{BASE}/search?q=x")
    assert not parser.can_fetch("Googlebot", f"{BASE}/api/v1/search?q=x")


def test_sitemap_index_pages_public_records_with_their_datestamps(app, client, world):
    app.config["SITEMAP_PAGE_SIZE"] = 2
    index = etree.fromstring(client.get("/sitemap.xml").get_data())
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    pages = index.xpath("s:sitemap/s:loc/text()", namespaces=SITEMAP)
    assert pages == [f"{BASE}/sitemaps/{n}.xml" for n in (1, 2, 3)]
    listed: dict[str, str] = {}
    for page in pages:
        urlset = etree.fromstring(client.get(page.removeprefix(BASE)).get_data())
        urls = urlset.xpath("s:url", namespaces=SITEMAP)
        assert 1 <= len(urls) <= 2
        for url in urls:
            listed[url.findtext("s:loc", namespaces=SITEMAP)] = url.findtext(
                "s:lastmod", namespaces=SITEMAP)
    public_ids = [world[k] for k in world if k.startswith("public")] + [world["other"]]
    with app.app_context():
        stamps = {item.record_id: item.datestamp.strftime("%Y-%m-%dT%H:%M:%SZ")
                  for item in db.session.scalars(db.select(OaiItem))}
    assert listed == {f"{BASE}/records/{i}": stamps[i] for i in public_ids}
    page_lastmods = index.xpath("s:sitemap/s:lastmod/text()", namespaces=SITEMAP)
    assert page_lastmods[0] == max(stamps[i] for i in sorted(public_ids)[:2])
    assert client.get("/sitemaps/4.xml").status_code == 404
    assert client.get("/sitemaps/0.xml").status_code == 404


def test_sitemap_uses_the_public_base_url_when_set(app, client, world):
    app.config["PUBLIC_BASE_URL"] = "https://kho.hvhc.edu.vn/"
    index = etree.fromstring(client.get("/sitemap.xml").get_data())
    assert index.xpath("s:sitemap/s:loc/text()", namespaces=SITEMAP) == [
        "https://kho.hvhc.edu.vn/sitemaps/1.xml"]


def test_newest_feed_follows_the_reader(app, client, world):
    assert titles(client.get("/feeds/newest.atom").get_data()) == PUBLIC_TITLES
    browser = Browser(app.test_client())
    browser.login("learner", PASSWORD)
    response = browser.client.get("/feeds/newest.atom")
    assert titles(response.get_data()) == PUBLIC_TITLES | {"Tài liệu nội bộ"}
    assert response.headers["Cache-Control"] == "private, no-store"


def test_newest_feed_entries_are_complete_and_newest_first(client, world):
    parsed = feedparser.parse(client.get("/feeds/newest.atom").get_data())
    first = parsed.entries[0]
    assert first.title == "Khoa khác"  # published last
    assert first.link == f"{BASE}/records/{world['other']}"
    assert first.id == first.link
    assert [a.name for a in first.authors] == ["Nguyễn Văn A"]
    assert parsed.feed.links[0].href == f"{BASE}/feeds/newest.atom"


def test_collection_feed_holds_its_subtree(client, world):
    assert titles(client.get("/collections/khoa-hau-can/feed.atom").get_data()) == {
        f"Tài liệu công khai {i}" for i in range(5)}
    assert titles(client.get("/collections/xang-dau/feed.atom").get_data()) == {
        "Tài liệu công khai 3", "Tài liệu công khai 4"}
    assert client.get("/collections/khong-co/feed.atom").status_code == 404


def test_search_as_atom_follows_the_access_rule(app, client, world):
    assert titles(client.get("/search?q=t%C3%A0i+li%E1%BB%87u&format=atom").get_data()) == {
        f"Tài liệu công khai {i}" for i in range(5)}
    browser = Browser(app.test_client())
    browser.login("learner", PASSWORD)
    assert "Tài liệu nội bộ" in titles(browser.client.get(
        "/search?q=n%E1%BB%99i+b%E1%BB%99&format=atom").get_data())
    assert client.get("/search?q=x&format=rss").status_code == 400


def test_opensearch_description(client):
    response = client.get("/opensearch.xml")
    assert response.mimetype == "application/opensearchdescription+xml"
    root = etree.fromstring(response.get_data())
    ns = {"o": "http://a9.com/-/spec/opensearch/1.1/"}
    templates = {u.get("type"): u.get("template") for u in root.xpath("o:Url", namespaces=ns)}
    assert templates == {
        "text/html": f"{BASE}/search?q={{searchTerms}}",
        "application/atom+xml": f"{BASE}/search?q={{searchTerms}}&format=atom",
        "application/json": f"{BASE}/api/v1/search?q={{searchTerms}}",
    }
    assert len(root.findtext("o:ShortName", namespaces=ns)) <= 16
    page = client.get("/").get_data(as_text=True)
    assert 'type="application/opensearchdescription+xml"' in page
