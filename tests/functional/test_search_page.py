"""The search page as a catalogue: each hit with title, creators, year, type, collection,
snippet, formats and thumbnail; facets with counts, several values at once and "show more";
active filters as chips; the result count; help when nothing is found."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from lms.accounts.models import User
from lms.catalog import deposit, workflow
from lms.catalog.access_settings import AccessSettings
from lms.catalog.models import AccessLevel
from lms.extensions import db
from lms.files.upload import Upload, upload_files
from metadata import Statement
from tests.factories import make_collection, statements
from tests.pagewalk import read_page

pytestmark = pytest.mark.functional

PUBLIC = AccessSettings(level=AccessLevel.PUBLIC)


def _statements(title: str, kind: str = "Text", abstract: str = "") -> list[Statement]:
    rows = [s for s in statements(title) if s.term != "type"] + [Statement("type", kind)]
    return rows + ([Statement("abstract", abstract, "vi")] if abstract else [])


def _publish(owner, curator, collection, rows, files=()):
    record = deposit.create_draft(owner, collection, rows, PUBLIC)
    if files:
        upload_files(owner, record, list(files))
    workflow.submit(owner, record, record.lock_version)
    task = next(t for t in workflow.review_queue(curator).pool if t.record_id == record.id)
    workflow.claim(curator, task.id)
    workflow.accept(curator, task.id)
    return record.id


@pytest.fixture
def shelf(app, users):
    """A course with a picture (and so a thumbnail), and one material of each of 8 types."""
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        logistics = make_collection("khoa-hau-can", curators=[curator], steps=1)
        png = io.BytesIO()
        Image.new("RGB", (240, 160), (20, 110, 60)).save(png, format="PNG")
        png.seek(0)
        course = _publish(owner, curator, logistics, _statements(
            "Giáo trình hậu cần quân sự",
            abstract="Tổ chức bảo đảm hậu cần cho đơn vị huấn luyện."),
            [Upload(png, "sơ đồ kho.png")])
        for n, kind in enumerate(["Image", "Dataset", "Sound", "MovingImage", "Software",
                                  "Event", "InteractiveResource"]):
            _publish(owner, curator, logistics, _statements(f"Học liệu hậu cần {n}", kind))
        return {"course": course}


def test_a_hit_shows_what_a_catalogue_shows(app, client, shelf):
    html = client.get("/search?q=giao+trinh+hau+can").get_data(as_text=True)
    hit = html[html.index('<li class="hit">'):html.index("</li>", html.index('<li class="hit">'))]
    assert f'<a href="/records/{shelf["course"]}"><mark>Giáo</mark> <mark>trình</mark>' in hit
    assert '<span class="creators">Nguyễn Văn A</span>' in hit
    assert '<span class="year">2025</span>' in hit
    assert '<span class="type">Văn bản</span>' in hit
    assert '<a href="/collections/khoa-hau-can">Bộ sưu tập khoa-hau-can</a>' in hit
    assert '<span class="badge format">PNG</span>' in hit
    assert re.search(r'<img class="thumb" src="/records/\d+/files/\d+/thumbnail"', hit)
    assert "<mark>hậu</mark> <mark>cần</mark>" in hit  # the snippet
    assert "1 kết quả cho “giao trinh hau can”" in html


def facet_box(html: str, name: str) -> str:
    start = html.index(f'id="facet-{name}"')
    return html[start:html.index("</section>", start)]


def test_facets_count_combine_and_fold_their_long_tail(app, client, shelf):
    box = facet_box(client.get("/search?q=hau+can").get_data(as_text=True), "type")
    shown, more = box.split('<details class="more">')
    assert len(re.findall(r"<li ", shown)) == 6
    assert "Xem thêm 2" in more and len(re.findall(r"<li ", more)) == 2
    # Two values of one facet: records of either; both listed as chips.
    both = client.get("/search?q=hau+can&f.type=Image&f.type=Dataset").get_data(as_text=True)
    assert "2 kết quả cho “hau can”" in both
    page = read_page(both)
    chips = [link for link in page.links if "f.type" in link and "chip" not in link]
    assert '/search?q=hau+can&f.type=Dataset' in [c.replace("&amp;", "&") for c in chips]
    assert "Bỏ tất cả bộ lọc" in page.texts
    # An active value hidden under "show more" moves up among the shown ones.
    rare = client.get("/search?q=hau+can&f.type=InteractiveResource").get_data(as_text=True)
    shown = facet_box(rare, "type").split('<details class="more">')[0]
    assert 'aria-current="true"' in shown


def test_nothing_found_offers_other_queries(app, client, shelf):
    html = client.get("/search?q=xăng+dầu+zzzqqq&f.type=Image").get_data(as_text=True)
    assert "Không tìm thấy học liệu nào" in html
    links = read_page(html).links
    assert "/search?q=xang+dau+zzzqqq&f.type=Image" in links  # without diacritics
    assert "/search?q=x%C4%83ng+d%E1%BA%A7u&f.type=Image" in links  # one word less
    assert "/search?q=x%C4%83ng+d%E1%BA%A7u+zzzqqq" in links  # without the filter
    html = client.get("/search?q=zzzqqq").get_data(as_text=True)
    assert "Gõ từ có dấu" in html


def test_an_unknown_facet_or_page_is_a_clear_400(client, shelf):
    response = client.get("/search?f.colour=red")
    assert response.status_code == 400
    assert "Unknown facet" in response.get_data(as_text=True)

