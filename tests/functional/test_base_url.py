"""One base URL: ``LMS_PUBLIC_BASE_URL`` names every absolute URL the site writes.

Observation 9 of issue 14: a request with ``Host: evil.example`` made the OAI ``baseURL``,
JSON-LD ``@id``/``url`` and page links point to ``evil.example``. With the base URL set, no
channel that writes absolute URLs may follow the ``Host`` header.
"""

from __future__ import annotations

import pytest

from lms.accounts.models import User
from lms.catalog import access_settings
from lms.catalog.models import AccessLevel
from lms.extensions import db
from tests.factories import make_collection, publish_record

pytestmark = pytest.mark.functional

BASE = "https://kho.hvhc.edu.vn"
EVIL = "evil.example"


@pytest.fixture
def record_id(app, users) -> int:
    app.config["PUBLIC_BASE_URL"] = BASE + "/"  # a trailing slash is allowed
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        collection = make_collection("khoa-hau-can", curators=[curator], steps=1)
        record = publish_record(owner, curator, collection,
                                access_settings.AccessSettings(level=AccessLevel.PUBLIC),
                                title="Giáo trình xăng dầu")
        return record.id


def channels(record_id: int) -> dict[str, str]:
    """Every channel that writes absolute URLs, and one URL it must contain."""
    landing = f"{BASE}/records/{record_id}"
    oai = "/oai?verb={}&metadataPrefix=oai_dc"
    urls = {
        "page (canonical, DC-HTML, JSON-LD)": (f"/records/{record_id}", landing),
        "version page": (f"/records/{record_id}/v/1", landing),
        "OAI Identify": ("/oai?verb=Identify", f"{BASE}/oai"),
        "OAI GetRecord": (f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier="
                          f"oai:kho.hvhc.edu.vn:{record_id}", landing),
        "OAI ListRecords": (oai.format("ListRecords"), landing),
        "OAI ListIdentifiers": (oai.format("ListIdentifiers"), f"{BASE}/oai"),
        "OAI error": ("/oai?verb=Nonsense", f"{BASE}/oai"),
    }
    urls.update({
        "linkset": (f"/records/{record_id}/linkset", landing),
        "linkset JSON": (f"/records/{record_id}/linkset.json", landing),
        "sitemap index": ("/sitemap.xml", f"{BASE}/sitemaps/1.xml"),
        "sitemap": ("/sitemaps/1.xml", landing),
        "robots.txt": ("/robots.txt", f"{BASE}/sitemap.xml"),
        "OpenSearch": ("/opensearch.xml", f"{BASE}/search"),
        "Atom feed": ("/feeds/newest.atom", landing),
        "collection feed": ("/collections/khoa-hau-can/feed.atom", landing),
    })
    for name in ("oai_dc", "jsonld", "ttl", "rdf", "bibtex", "ris"):
        urls[f"export {name}"] = (f"/records/{record_id}/export/{name}", landing)
    for name in ("qdc", "csv"):  # no URL in these: only the absence of the Host is checked
        urls[f"export {name}"] = (f"/records/{record_id}/export/{name}", "")
    return urls


def test_host_header_never_changes_an_absolute_url(client, record_id):
    failures = []
    for name, (url, expected) in channels(record_id).items():
        response = client.get(url, headers={"Host": EVIL})
        # The Link header (Signposting) is a channel too.
        body = response.get_data(as_text=True) + response.headers.get("Link", "")
        if response.status_code != 200 or EVIL in body or expected not in body:
            failures.append(f"{name}: {response.status_code}, evil={EVIL in body}, "
                            f"base={expected in body}")
    assert not failures, "\n".join(failures)


def test_oai_base_url_is_the_public_base_url(client, record_id):
    body = client.get("/oai?verb=Identify", base_url=f"http://{EVIL}").get_data(as_text=True)
    assert f"<baseURL>{BASE}/oai</baseURL>" in body


def test_without_a_base_url_links_follow_the_request(client, app, record_id):
    """Development: the address the browser used (TRUSTED_HOSTS vets it in production)."""
    app.config["PUBLIC_BASE_URL"] = None
    body = client.get("/oai?verb=Identify", base_url="http://10.0.0.7:5000").get_data(
        as_text=True)
    assert "<baseURL>http://10.0.0.7:5000/oai</baseURL>" in body


def test_untrusted_host_is_refused_when_trusted_hosts_are_set(client, app, record_id):
    app.config["TRUSTED_HOSTS"] = ["kho.hvhc.edu.vn"]
    assert client.get(f"/records/{record_id}", headers={"Host": EVIL}).status_code == 400
    assert client.get(f"/records/{record_id}",
                      headers={"Host": "kho.hvhc.edu.vn"}).status_code == 200
