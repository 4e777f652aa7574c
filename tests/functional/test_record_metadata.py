"""The profile-driven form, the record page's embedded metadata and the export formats."""

from __future__ import annotations

import json
import re

import pytest
from lxml import etree

from lms.accounts.models import User
from lms.extensions import db
from metadata import FORMATS, Statement
from tests.conftest import Browser
from tests.factories import PASSWORD, make_collection, publish_record

pytestmark = pytest.mark.functional


@pytest.fixture
def published(app, users):
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        collection = make_collection("khoa-hau-can", curators=[curator])
        from lms.catalog.access_settings import AccessSettings

        record = publish_record(owner, curator, collection, AccessSettings(level="public"),
                                title='Hậu cần <script>alert("x")</script> quân đội')
        return record.id


def test_form_is_generated_from_the_profile_in_both_languages(app, users):
    with app.app_context():
        make_collection("khoa-hau-can")
    browser = Browser(app.test_client())
    browser.login("instructor", PASSWORD)
    vi = browser.client.get("/records/new").get_data(as_text=True)
    assert "Nhan đề" in vi and "Đối tượng người học" in vi
    assert 'name="dc.title.0.lang"' in vi and 'name="dc.audience.0.value"' in vi
    assert "Học viên năm thứ nhất" in vi  # a vocabulary picker for audiences
    browser.post("/language", {"language": "en"})
    en = browser.client.get("/records/new").get_data(as_text=True)
    assert "Title" in en and "Audience" in en and "First-year cadets" in en


def test_bad_values_get_per_field_errors_and_nothing_is_saved(app, users):
    with app.app_context():
        make_collection("khoa-hau-can")
    browser = Browser(app.test_client())
    browser.login("instructor", PASSWORD)
    response = browser.post("/records/new", {
        "collection": "khoa-hau-can",
        "dc.title.0.value": "Tài liệu", "dc.title.0.lang": "vi",
        "dc.issued.0.value": "2024-13-45",
        "dc.language.0.value": "xx-yy-zz",
        "dc.description.0.value": "có ký tự \x00 điều khiển",
    }, page="/records/new")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count('class="error"') >= 3
    assert 'value="2024-13-45"' in html  # what the user typed is kept in the form
    with app.app_context():
        from lms.catalog.models import Record

        assert db.session.scalar(db.select(db.func.count(Record.id))) == 0


def test_nfd_input_is_stored_as_nfc(app, users):
    import unicodedata

    with app.app_context():
        make_collection("khoa-hau-can")
    browser = Browser(app.test_client())
    browser.login("instructor", PASSWORD)
    nfd = unicodedata.normalize("NFD", "Hậu cần")
    response = browser.post("/records/new", {"collection": "khoa-hau-can",
                                             "dc.title.0.value": nfd, "dc.title.0.lang": "vi"},
                            page="/records/new")
    assert response.status_code == 302
    with app.app_context():
        from lms.catalog.models import Record

        assert db.session.scalar(db.select(Record.title)) == "Hậu cần"


def test_record_page_embeds_dc_html_highwire_and_json_ld(app, published, client):
    html = client.get(f"/records/{published}").get_data(as_text=True)
    assert '<link rel="schema.DC" href="http://purl.org/dc/elements/1.1/">' in html
    assert '<meta name="DC.title" lang="vi"' in html
    assert '<meta name="DCTERMS.issued" scheme="DCTERMS.W3CDTF" content="2025-09-22"' in html
    assert '<meta name="citation_title"' in html
    assert '<meta name="citation_publication_date" content="2025/09/22"' in html
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    data = json.loads(block.group(1))
    assert data["@type"] == "LearningResource"
    # The title's markup is escaped everywhere: no live script tag from the metadata.
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;" in html


def test_record_page_labels_metadata_in_the_ui_language(app, published):
    browser = Browser(app.test_client())
    vi = browser.client.get(f"/records/{published}").get_data(as_text=True)
    assert "Tác giả" in vi and "Học viên năm thứ nhất" in vi
    browser.post("/language", {"language": "en"})
    en = browser.client.get(f"/records/{published}").get_data(as_text=True)
    assert "Creator" in en and "First-year cadets" in en


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_export_format_is_served_with_its_type_and_file_name(app, published, client,
                                                                   name):
    fmt = FORMATS[name]
    response = client.get(f"/records/{published}/export/{name}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == fmt.media_type.split(";")[0]
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="record-{published}.{fmt.extension}"')
    body = response.get_data(as_text=True)
    assert "Hậu cần" in body  # UTF-8 text in every format, nothing transliterated
    if name in ("oai_dc", "qdc", "marcxml", "mods", "rdf"):
        etree.fromstring(response.get_data())  # well-formed XML


def test_oai_dc_export_validates_against_the_official_schema(app, published, client,
                                                              oai_dc_schema):
    document = etree.fromstring(client.get(f"/records/{published}/export/oai_dc").get_data())
    oai_dc_schema.assertValid(document)


def test_unknown_export_format_is_404(app, published, client):
    assert client.get(f"/records/{published}/export/../../etc").status_code == 404
    assert client.get(f"/records/{published}/export/marc").status_code == 404


def test_editing_keeps_terms_that_are_not_on_the_form(app, users):
    with app.app_context():
        from lms.catalog import deposit

        owner = db.session.get(User, users["instructor"].id)
        collection = make_collection("khoa-hau-can")
        from tests.factories import statements

        record = deposit.create_draft(owner, collection,
                                       [*statements(), Statement("bibliographicCitation",
                                                                 "Trích dẫn cũ")])
        record_id, lock = record.id, record.lock_version
    browser = Browser(app.test_client())
    browser.login("instructor", PASSWORD)
    browser.post(f"/records/{record_id}/edit", {"lock_version": lock,
                                                "dc.title.0.value": "Tên mới",
                                                "dc.title.0.lang": "vi"},
                 page=f"/records/{record_id}/edit")
    with app.app_context():
        from lms.catalog.models import Record

        record = db.session.get(Record, record_id)
        assert record.title == "Tên mới"
        assert record.dc.values("bibliographicCitation") == ["Trích dẫn cũ"]


