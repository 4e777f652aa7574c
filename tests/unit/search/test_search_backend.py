"""Backend behaviour on small synthetic documents, run for every backend."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from search_helpers import HOSTILE, doc

from lms.search import SearchBackend, SearchQuery, SearchResult, Weights, analysis
from lms.search.document import FACETS

PUBLIC = frozenset({"public"})
CURATOR = frozenset({"public", "role:curator"})


def search(b: SearchBackend, q: str, principals=PUBLIC, **kw) -> SearchResult:
    return b.query(SearchQuery(q, principals, **kw))


def ids(r: SearchResult) -> list[int]:
    return [h.id for h in r.hits]


def facet(r: SearchResult, name: str) -> dict[str, int]:
    return {fv.value: fv.count for fv in r.facets[name]}


# --- ranking ---------------------------------------------------------------------------------


def test_accented_match_ranks_above_folded_only(backend: SearchBackend) -> None:
    backend.index(
        [
            doc(1, "Con cá lớn", "chợ bán cá tươi"),
            doc(2, "Con ca lớn", "chợ bán ca tươi"),
            doc(3, "Con cà lớn", "chợ bán cà tươi"),
        ]
    )
    r = search(backend, "cá")
    assert r.total == 3  # a query matches either form
    assert ids(r)[0] == 1
    r = search(backend, "ca")
    assert ids(r)[0] == 2 and r.total == 3
    r = search(backend, "cà")
    assert ids(r)[0] == 3


def test_old_and_new_tone_placement_match_equally(backend: SearchBackend) -> None:
    backend.index([doc(1, "Hoà bình", "khoẻ mạnh"), doc(2, "Hòa bình", "khỏe mạnh")])
    for q in ("hoà bình", "hòa bình", "hoa binh", "khoẻ", "khỏe"):
        r = search(backend, q)
        assert sorted(ids(r)) == [1, 2], q
        assert r.hits[0].score == pytest.approx(r.hits[1].score), q


def test_adjacent_syllables_rank_first(backend: SearchBackend) -> None:
    filler = " ".join(["một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám"] * 3)
    backend.index(
        [
            doc(1, "Tin tức", f"giấy chứng nhận {filler} khoán sản phẩm"),
            doc(2, "Tin tức", f"thị trường chứng khoán {filler} tăng trưởng"),
            doc(3, "Tin tức", f"chuyển hướng {filler} đổi mới số hóa"),
            doc(4, "Tin tức", f"chuyển đổi số {filler} hướng mới hóa"),
        ]
    )
    assert ids(search(backend, "chứng khoán")) == [2, 1]
    assert ids(search(backend, "chung khoan")) == [2, 1]
    assert ids(search(backend, "chuyển đổi số")) == [4, 3]


def test_field_weights_title_first(backend: SearchBackend) -> None:
    backend.index(
        [
            doc(1, "Báo cáo", "hậu cần quân đội"),
            doc(2, "Hậu cần quân đội", "báo cáo"),
            doc(3, "Báo cáo", "khác", subject=["Hậu cần quân đội"]),
        ]
    )
    assert ids(search(backend, "hậu cần")) == [2, 3, 1]


def test_weights_are_configurable(make_backend) -> None:
    b = make_backend(weights=Weights.from_mapping({"title": 0.1, "fulltext": 10.0}))
    b.index([doc(1, "Báo cáo", "hậu cần quân đội"), doc(2, "Hậu cần quân đội", "báo cáo")])
    assert ids(search(b, "hậu cần")) == [1, 2]


def test_and_falls_back_to_or(backend: SearchBackend) -> None:
    backend.index([doc(1, "Hậu cần", "xăng dầu"), doc(2, "Bóng đá", "thể thao")])
    r = search(backend, "hậu cần")
    assert r.total == 1 and not r.notices
    r = search(backend, "hậu bóng")
    assert r.total == 2
    assert [n.code for n in r.notices] == ["or_fallback"]
    r = search(backend, "khôngcó từnàocả")
    assert r.total == 0 and "or_fallback" not in [n.code for n in r.notices]


def test_function_words_weigh_nothing_in_the_any_word_fallback(backend: SearchBackend) -> None:
    backend.index(
        [
            doc(1, "Công tác hậu cần", "bảo đảm xăng dầu"),
            doc(2, "Lịch sử của các trường", "những người trong và ngoài nước"),
            doc(3, "Bóng đá", "thể thao"),
        ]
    )
    for q in ("hậu cần của các những trong và zzqx", "hau can cua cac nhung trong va zzqx"):
        r = search(backend, q)
        assert [n.code for n in r.notices] == ["or_fallback"], q
        assert ids(r) == [1], q
    # Function words alone are still searched (there is nothing else to look for).
    assert ids(search(backend, "của và")) == [2]


def test_phrases_match_across_punctuation_but_not_across_words(backend: SearchBackend) -> None:
    backend.index(
        [
            doc(1, "Bóng – đá", "giải (bóng) , đá phủi"),
            doc(2, "Bóng chuyền", "bóng rổ và đá cầu"),
        ]
    )
    assert ids(search(backend, '"bóng đá"')) == [1]
    assert ids(search(backend, '"bong da phui"')) == [1]


def test_phrase_exclude_field_prefix_queries(backend: SearchBackend) -> None:
    backend.index(
        [
            doc(1, "Hậu cần xăng dầu", "bảo đảm hậu cần", creator=["Nguyễn Văn An"]),
            doc(2, "Cần hậu", "cần thiết cho hậu phương", creator=["Trần Bình"]),
            doc(3, "Kỹ thuật", "hậu cần kỹ thuật", subject=["Hậu cần"]),
        ]
    )
    assert sorted(ids(search(backend, '"hậu cần"'))) == [1, 3]
    assert sorted(ids(search(backend, "hậu cần -xăng"))) == [2, 3]
    assert ids(search(backend, "title:xăng")) == [1]
    assert ids(search(backend, "tacgia:bình")) == [2]
    assert ids(search(backend, "chude:hậu")) == [3]
    assert sorted(ids(search(backend, "xăng OR thiết"))) == [1, 2]
    assert sorted(ids(search(backend, "hậu*"))) == [1, 2, 3]
    assert ids(search(backend, "tieude:xa*")) == [1]


def test_codes_are_searchable(backend: SearchBackend) -> None:
    backend.index(
        [
            doc(1, "Kế hoạch 4325/KH-BQP", "dịch cúm H5N1 và dự án PMU18"),
            doc(2, "Kế hoạch 4325", "KH khác"),
        ]
    )
    assert ids(search(backend, "4325/KH-BQP")) == [1]
    assert ids(search(backend, "h5n1")) == [1]
    assert ids(search(backend, "PMU18")) == [1]
    assert sorted(ids(search(backend, "4325"))) == [1, 2]


def test_empty_query_browses_visible_documents(backend: SearchBackend) -> None:
    backend.index([doc(1, "A"), doc(2, "B"), doc(3, "C", principals=["unit:1"])])
    assert search(backend, "").total == 2
    assert search(backend, "", frozenset({"unit:1"})).total == 1


# --- hostile queries -------------------------------------------------------------------------


@pytest.fixture
def guarded(backend: SearchBackend) -> SearchBackend:
    backend.index(
        [
            doc(1, "Tài liệu công khai level", "x y secret công khai", type=["Text"]),
            doc(2, "Secret level tài liệu mật", "x y level secret", principals=["role:curator"],
                type=["Secret"]),
        ]
    )
    return backend


@pytest.mark.parametrize(
    "q", [*HOSTILE, "level:secret", "x) OR principals:role:curator OR (y", "type:Secret"]
)
def test_hostile_queries_never_fail_or_leak(guarded: SearchBackend, q: str) -> None:
    for sort in ("relevance", "newest", "title", "downloads", "bogus"):
        r = search(guarded, q, sort=sort)
        assert isinstance(r, SearchResult)
        assert 2 not in ids(r)
        assert r.total <= 1
        assert "Secret" not in facet(r, "type")


def test_bad_paging_and_filters_never_fail(guarded: SearchBackend) -> None:
    for page, size in [(0, 0), (-5, -1), (10**9, 10**9), (3, 1)]:
        r = search(guarded, "", page=page, size=size)
        assert r.page >= 1 and 1 <= r.size <= 100
    r = search(guarded, "", filters={"nope": ["x"], "principals": ["role:curator"]})
    assert r.total == 1
    assert {n.code for n in r.notices} == {"unknown_filter"}
    r = search(guarded, "", filters={"year": ["abc"], "type": ["Text"]})
    assert r.total == 0  # a bad value matches nothing
    r = search(guarded, "", filters={"type": "Text"})  # a bare string is one value
    assert r.total == 1


# --- access ----------------------------------------------------------------------------------


@pytest.fixture
def restricted(backend: SearchBackend) -> SearchBackend:
    backend.index(
        [
            doc(1, "Kế hoạch huấn luyện", "huấn luyện bắn súng công khai", type=["Text"],
                subject_path=["huan-luyen"], year=2020),
            doc(2, "Kế hoạch Zebrafox phòng không", "zebrafox tác chiến phòng không huấn luyện",
                principals=["role:curator"], type=["Dataset"], subject_path=["mat/zebra"],
                year=1999, subject=["Zebrafox"]),
        ]
    )
    return backend


def test_restricted_docs_never_reach_other_principals(restricted: SearchBackend) -> None:
    r = search(restricted, "zebrafox")
    assert r.total == 0 and r.hits == []
    assert r.suggestion is None
    r = search(restricted, "kế hoạch")
    assert ids(r) == [1] and r.total == 1
    assert all("zebrafox" not in (h.snippet_html + h.title_html).lower() for h in r.hits)
    assert facet(r, "type") == {"Text": 1}
    assert "mat" not in facet(r, "subject") and "1999" not in facet(r, "year")
    assert restricted.autocomplete("zeb", PUBLIC) == []
    assert restricted.autocomplete("kế hoạch z", PUBLIC) == []
    assert restricted.suggest("zebrafax", PUBLIC) is None
    assert restricted.suggest("phong khong", PUBLIC) is None  # accents only in the restricted doc
    assert search(restricted, "phong khong").suggestion is None
    assert search(restricted, "zebrafox", frozenset()).total == 0


def test_restricted_docs_reach_matching_principals(restricted: SearchBackend) -> None:
    r = search(restricted, "zebrafox", CURATOR)
    assert ids(r) == [2]
    assert "<mark>" in r.hits[0].snippet_html
    r = search(restricted, "kế hoạch", CURATOR)
    assert r.total == 2 and facet(r, "type") == {"Text": 1, "Dataset": 1}
    assert restricted.autocomplete("zeb", CURATOR) == ["zebrafox"]
    assert restricted.suggest("zebrafax", CURATOR) == "zebrafox"
    # It finds the record already: an accented spelling is no suggestion.
    assert restricted.suggest("phong khong", CURATOR) is None
    assert restricted.suggest("phong khongg", CURATOR) == "phòng không"
    assert search(restricted, "kế hoạch", frozenset({"role:curator"})).total == 1


def test_admit_keeps_what_the_database_refuses_out_of_hits_and_suggestions(
        restricted: SearchBackend) -> None:
    # The index still lets curators find record 2; the database (admit) no longer does.
    refuse_2 = lambda found: {i for i in found if i != 2}  # noqa: E731
    r = restricted.query(SearchQuery("zebrafox", CURATOR), admit=refuse_2)
    assert r.hits == []
    assert ids(restricted.query(SearchQuery("kế hoạch", CURATOR), admit=refuse_2)) == [1]
    assert restricted.autocomplete("zeb", CURATOR, admit=refuse_2) == []
    assert restricted.suggest("zebrafax", CURATOR, admit=refuse_2) is None


def test_inventory_lists_each_document_with_its_principals_and_digest(
        restricted: SearchBackend) -> None:
    entries = sorted(restricted.inventory(), key=lambda e: e.id)
    assert [(e.id, e.principals) for e in entries] == [(1, ("public",)),
                                                       (2, ("role:curator",))]
    expected = doc(1, "Kế hoạch huấn luyện", "huấn luyện bắn súng công khai", type=["Text"],
                   subject_path=["huan-luyen"], year=2020)
    assert entries[0].digest == expected.digest()
    restricted.remove([2])
    assert [e.id for e in restricted.inventory()] == [1]


# --- facets ----------------------------------------------------------------------------------


@pytest.fixture
def faceted(backend: SearchBackend) -> SearchBackend:
    backend.index(
        [
            doc(1, "Xăng dầu một", "hậu cần", type=["Text"], subject_path=["hau-can/xang-dau"],
                year=2019, language=["vi"], audience=["hoc-vien"], format=["application/pdf"],
                collection_path=["giao-trinh/nam-1"], has_files=True),
            doc(2, "Xăng dầu hai", "hậu cần", type=["Text"], subject_path=["hau-can/quan-nhu"],
                year=2021, language=["vi", "en"], format=["video/mp4"],
                collection_path=["giao-trinh/nam-2"], has_files=True),
            doc(3, "Chiến thuật", "hậu cần", type=["MovingImage"],
                subject_path=["chien-thuat", "hau-can"], year=2023, language=["en"]),
            doc(4, "Mật", "hậu cần", type=["Text"], subject_path=["hau-can/xang-dau"],
                year=2022, principals=["unit:7"]),
        ]
    )
    return backend


def test_facet_counts_and_hierarchy(faceted: SearchBackend) -> None:
    r = search(faceted, "hậu cần")
    assert r.total == 3
    assert set(r.facets) == set(FACETS)
    assert facet(r, "type") == {"Text": 2, "MovingImage": 1}
    assert facet(r, "subject") == {
        "hau-can": 3, "hau-can/xang-dau": 1, "hau-can/quan-nhu": 1, "chien-thuat": 1,
    }
    assert facet(r, "collection") == {"giao-trinh": 2, "giao-trinh/nam-1": 1, "giao-trinh/nam-2": 1}
    assert facet(r, "language") == {"vi": 2, "en": 2}
    assert facet(r, "year") == {"2019": 1, "2021": 1, "2023": 1}
    assert facet(r, "decade") == {"2010-2019": 1, "2020-2029": 2}
    assert facet(r, "has_files") == {"true": 2, "false": 1}
    assert facet(r, "audience") == {"hoc-vien": 1}
    assert facet(r, "format") == {"application/pdf": 1, "video/mp4": 1}
    assert [fv.value for fv in r.facets["year"]] == ["2023", "2021", "2019"]


def test_facet_filters_combine(faceted: SearchBackend) -> None:
    r = search(faceted, "", filters={"subject": ["hau-can/xang-dau"]})
    assert ids(r) == [1]
    r = search(faceted, "", filters={"subject": ["hau-can"]})
    assert r.total == 3
    r = search(faceted, "", filters={"type": ["Text", "MovingImage"]})  # same facet: OR
    assert r.total == 3
    r = search(faceted, "", filters={"type": ["Text"], "language": ["en"]})  # facets: AND
    assert ids(r) == [2]
    # Multi-select: a facet's own filter does not shrink its own counts.
    assert facet(r, "type") == {"Text": 1, "MovingImage": 1}
    assert facet(r, "language") == {"vi": 2, "en": 1}
    r = search(faceted, "", filters={"has_files": ["false"]})
    assert ids(r) == [3]


def test_year_ranges(faceted: SearchBackend) -> None:
    assert sorted(ids(search(faceted, "", filters={"year": ["2020-2024"]}))) == [2, 3]
    assert sorted(ids(search(faceted, "year:2019-2021"))) == [1, 2]
    assert ids(search(faceted, "hậu nam:2019")) == [1]
    assert sorted(ids(search(faceted, "", filters={"decade": ["2020-2029"]}))) == [2, 3]
    assert sorted(ids(search(faceted, "", filters={"year": ["2019", "2023"]}))) == [1, 3]
    assert sorted(ids(search(faceted, "type:Text -year:2019"))) == [2]


def test_facets_can_be_skipped(faceted: SearchBackend) -> None:
    r = search(faceted, "hậu cần", facets=False)
    assert r.facets == {} and r.total == 3


# --- highlighting ----------------------------------------------------------------------------


def test_highlight_is_escaped_and_marks_folded_matches(backend: SearchBackend) -> None:
    backend.index(
        [doc(1, "Hậu cần <script>alert('x')</script> & co", "Đầu. " + "chữ " * 100
             + "công tác hậu cần <b>quan trọng</b> " + "đuôi " * 100)]
    )
    r = search(backend, "hau can")
    (hit,) = r.hits
    assert hit.title_html.startswith("<mark>Hậu</mark> <mark>cần</mark> &lt;script&gt;")
    assert "<script>" not in hit.title_html and "&amp; co" in hit.title_html
    assert "<mark>hậu</mark> <mark>cần</mark>" in hit.snippet_html
    assert "&lt;b&gt;quan trọng&lt;/b&gt;" in hit.snippet_html
    assert hit.snippet_html.startswith("… ") and hit.snippet_html.endswith(" …")
    assert len(hit.snippet_html) < 400
    html_only = hit.snippet_html.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in html_only
    r = search(backend, "hau can", highlight=False)
    assert r.hits[0].snippet_html == "" and "<mark>" not in r.hits[0].title_html
    assert "&lt;script&gt;" in r.hits[0].title_html


def test_highlight_prefix_and_description(backend: SearchBackend) -> None:
    backend.index([doc(1, "Chứng khoán", "", description=["Thị trường chứng khoán Việt Nam"])])
    (hit,) = search(backend, "chứn*").hits
    assert hit.title_html == "<mark>Chứng</mark> khoán"
    assert "<mark>chứng</mark>" in hit.snippet_html


# --- sorting and paging ----------------------------------------------------------------------


def test_sorts(backend: SearchBackend) -> None:
    titles = ["Đá quý", "Dê núi", "Ăn uống", "An ninh", "Âm nhạc", "bò sữa", "Em bé", "Êm ái"]
    backend.index(
        [
            doc(i, t, "chung", downloads=(i * 7) % 5,
                published_at=datetime(2020, 1, i, tzinfo=UTC))
            for i, t in enumerate(titles, 1)
        ]
    )
    r = search(backend, "chung", sort="title", size=20)
    assert [h.title for h in r.hits] == [
        "An ninh", "Ăn uống", "Âm nhạc", "bò sữa", "Dê núi", "Đá quý", "Em bé", "Êm ái",
    ]
    r = search(backend, "chung", sort="newest", size=20)
    assert ids(r) == [8, 7, 6, 5, 4, 3, 2, 1]
    r = search(backend, "chung", sort="downloads", size=20)
    downloads = [(i * 7) % 5 for i in ids(r)]
    assert downloads == sorted(downloads, reverse=True)


def test_paging(backend: SearchBackend) -> None:
    backend.index([doc(i, f"Tài liệu {i}", "huấn luyện " * (i % 5 + 1)) for i in range(1, 26)])
    seen: list[int] = []
    for page in (1, 2, 3):
        r = search(backend, "huấn luyện", page=page, size=10)
        assert r.total == 25
        seen += ids(r)
    assert len(seen) == 25 == len(set(seen))
    p1 = ids(search(backend, "huấn luyện", page=1, size=10))
    p2 = ids(search(backend, "huấn luyện", page=2, size=10))
    assert not set(p1) & set(p2)
    for sort in ("newest", "title", "downloads"):
        a = ids(search(backend, "", sort=sort, page=1, size=7))
        b = ids(search(backend, "", sort=sort, page=2, size=7))
        assert len(a) == len(b) == 7 and not set(a) & set(b)


# --- freshness, removal, rebuild -------------------------------------------------------------


def test_update_then_refresh_keeps_counts(backend: SearchBackend) -> None:
    backend.index([doc(i, f"Bài {i}", "nội dung chung") for i in range(1, 51)])
    assert search(backend, "chung").total == 50
    assert backend.doc_count() == 50
    backend.index([doc(i, f"Bài mới {i}", "nội dung chung cập nhật") for i in range(1, 51, 5)])
    r = search(backend, "chung", size=100)
    assert r.total == 50 and len(ids(r)) == 50 == len(set(ids(r)))
    assert search(backend, "cập nhật").total == 10
    assert backend.doc_count() == 50
    assert facet(search(backend, "chung"), "has_files") == {"false": 50}


def test_a_second_instance_sees_updates(make_backend, tmp_path) -> None:
    a = make_backend(tmp_path / "shared")
    b = make_backend(tmp_path / "shared")
    a.index([doc(1, "Một", "chung")])
    assert search(b, "chung").total == 1
    b.index([doc(2, "Hai", "chung")])
    assert search(a, "chung").total == 2
    a.remove([1])
    assert ids(search(b, "chung")) == [2]


def test_concurrent_writers_wait_for_the_lock(make_backend, tmp_path) -> None:
    a = make_backend(tmp_path / "shared")
    b = make_backend(tmp_path / "shared")
    errors: list[BaseException] = []

    def write(backend: SearchBackend, start: int) -> None:
        try:
            for i in range(start, start + 10):
                backend.index([doc(i, f"Bài {i}", "chung")])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(x, s)) for x, s in ((a, 1), (b, 100))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert search(a, "chung").total == 20 == search(b, "chung").total


def test_remove(backend: SearchBackend) -> None:
    backend.index([doc(i, f"Bài {i}", "chung") for i in range(1, 6)])
    assert backend.remove([2, 4, 99]) == 3
    assert sorted(ids(search(backend, "chung"))) == [1, 3, 5]
    assert backend.doc_count() == 3


def test_rebuild_swaps_atomically_with_progress(make_backend, tmp_path) -> None:
    b = make_backend(tmp_path / "ix")
    other = make_backend(tmp_path / "ix")
    b.index([doc(i, "Cũ", "chung") for i in range(1, 4)])
    seen_during: list[int] = []
    progress: list[int] = []

    def docs():
        for i in range(100, 1300):
            if i == 700:
                seen_during.append(search(b, "chung").total)  # search keeps working
                b.index([doc(5000, "Viết trong lúc dựng lại", "chung")])
                seen_during.append(search(b, "chung").total)
            yield doc(i, "Mới", "chung")

    assert b.rebuild(docs(), progress=progress.append) == 1200
    assert seen_during == [3, 4]
    assert progress == sorted(progress) and progress[-1] == 1200 and len(progress) >= 2
    r = search(b, "chung", size=5)
    assert r.total == 1201  # old docs gone, the write made during the rebuild kept
    assert search(b, "cũ").total == 0
    assert search(other, "chung").total == 1201  # another instance follows the swap
    assert not b.needs_rebuild


def test_analyzer_version_change_needs_rebuild(make_backend, tmp_path, monkeypatch) -> None:
    b = make_backend(tmp_path / "ix")
    assert b.needs_rebuild  # a new, empty index
    b.rebuild([doc(1, "Một", "chung")])
    assert not b.needs_rebuild
    b.close()
    assert not make_backend(tmp_path / "ix").needs_rebuild
    monkeypatch.setattr(analysis, "ANALYZER_VERSION", "changed")
    c = make_backend(tmp_path / "ix")
    assert c.needs_rebuild
    assert search(c, "chung").total == 1  # the old index still answers meanwhile
    c.rebuild([doc(1, "Một", "chung")])
    assert not c.needs_rebuild


def test_garbage_index_folder_is_recreated(make_backend, tmp_path) -> None:
    folder = tmp_path / "ix"
    folder.mkdir()
    (folder / "CURRENT").write_text("gen-bogus")
    (folder / "gen-bogus").mkdir()
    b = make_backend(folder)
    assert b.needs_rebuild and b.doc_count() == 0
    b.index([doc(1, "Một", "chung")])
    assert search(b, "chung").total == 1


# --- suggestions -----------------------------------------------------------------------------


def test_no_suggestion_when_records_hold_every_word(backend: SearchBackend) -> None:
    backend.index(
        [
            doc(1, "Công tác hậu cần", "hậu cần quân đội, cần thiết"),
            doc(2, "Hậu cần kỹ thuật", "bảo đảm hậu cần"),
            doc(3, "Cá và ca", "con cá, bài ca"),
        ]
    )
    r = search(backend, "hau can")
    assert r.total == 2
    assert r.suggestion is None  # found as typed: no "did you mean hậu cần"
    assert search(backend, "hậu cần").suggestion is None
    assert search(backend, "ca").suggestion is None
    assert backend.suggest("hậu cần", PUBLIC) is None


def test_a_misspelt_word_is_corrected_and_accents_restored(backend: SearchBackend) -> None:
    backend.index(
        [
            doc(1, "Công tác hậu cần", "hậu cần quân đội, bảo đảm hậu cần"),
            doc(2, "Bảo đảm xăng dầu", "xăng dầu trong huấn luyện"),
        ]
    )
    assert backend.suggest("hau cann", PUBLIC) == "hậu cần"
    assert search(backend, "hậu cầnn").suggestion == "hậu cần"
    assert search(backend, "bảo đảmm xăng dầu").suggestion == "bảo đảm xăng dầu"
    assert search(backend, "xang dauu").suggestion == "xăng dầu"


def test_the_academys_name_is_never_respelt_into_another_word(backend: SearchBackend) -> None:
    """The reported case: "hậu cần" (only in a restricted record) became "xấu cần" for
    visitors, from the public "thông tin xấu độc ... cần"."""
    backend.index(
        [
            doc(1, "Kế hoạch hậu cần", "hậu cần diễn tập", principals=["role:curator"]),
            doc(2, "Kỹ năng số", "nhận diện thông tin xấu độc, cần cảnh giác"),
        ]
    )
    r = search(backend, "hậu cần")
    assert r.total == 1  # "cần", through the any-word fallback
    assert r.suggestion is None
    assert search(backend, "hau can").suggestion is None
    assert search(backend, "hậu cần", CURATOR).suggestion is None  # found


def test_a_word_in_the_index_is_kept_even_beside_many_neighbours(backend: SearchBackend) -> None:
    """Forty-five documents hold "hao" (one letter from "hau") and "xăng"; one long textbook
    holds "hậu" far into its text, beyond what the suggester reads of a document. "hậu
    xăngg" must not become "hao xăng", although that finds records: "hậu" is a word of the
    index."""
    long_text = "giáo trình lý thuyết chung " * 3000 + "hậu phương vững chắc"
    backend.index(
        [doc(i, f"Hao hụt xăng dầu {i}", "hao hụt xăng dầu khi vận chuyển") for i in range(1, 46)]
        + [doc(99, "Giáo trình", long_text)]
    )
    r = search(backend, "hậu xăngg")
    assert ids(r) == [99]  # any word
    assert r.suggestion is None
    assert search(backend, "hau xangg").suggestion is None


def test_a_suggestion_must_find_records_with_all_its_words(backend: SearchBackend) -> None:
    backend.index([doc(1, "Bảo đảm xăng dầu", "xăng dầu"), doc(2, "Kỹ năng số", "kỹ năng số")])
    # "xăngg" is close to "xăng", but no record holds both "xăng" and "số".
    r = search(backend, "xăngg số")
    assert r.total == 1
    assert r.suggestion is None
    assert search(backend, "xăngg dầu").suggestion == "xăng dầu"


def test_suggestions_keep_the_filters_of_the_query(backend: SearchBackend) -> None:
    backend.index([doc(1, "Bảo đảm xăng dầu", "xăng dầu", type=["Text"]),
                   doc(2, "Xăng dầu dã chiến", "xăng dầu", type=["Image"])])
    r = backend.query(SearchQuery("xăngg dầu", PUBLIC, filters={"type": ["Sound"]}))
    assert r.suggestion is None  # "xăng dầu" finds nothing of that type either
    r = backend.query(SearchQuery("xăngg dầu", PUBLIC, filters={"type": ["Image"]}))
    assert r.suggestion == "xăng dầu"


def test_did_you_mean_on_no_results(backend: SearchBackend) -> None:
    backend.index([doc(1, "Thị trường chứng khoán", "chứng khoán tăng điểm")])
    r = search(backend, "chung khoang")
    assert r.suggestion == "chứng khoán"
    r = search(backend, "title:chứng khoáng")
    assert r.suggestion == "title:chứng khoán"


def test_autocomplete(backend: SearchBackend) -> None:
    backend.index(
        [
            doc(1, "Hậu cần quân đội", "x"),
            doc(2, "Hậu cần kỹ thuật", "x"),
            doc(3, "Hậu phương vững chắc", "x"),
            doc(4, "Chứng khoán", "x", subject=["Hậu cần"]),
        ]
    )
    assert backend.autocomplete("hậu c", PUBLIC) == ["hậu cần"]
    assert backend.autocomplete("hau", PUBLIC) == ["hậu"]
    assert backend.autocomplete("hậu ", PUBLIC) == ["hậu cần", "hậu phương"]
    assert backend.autocomplete("chứng kh", PUBLIC) == ["chứng khoán"]
    assert backend.autocomplete("h", PUBLIC) == []
    assert backend.autocomplete("", PUBLIC) == []
    assert backend.autocomplete("hậu c", frozenset()) == []
    assert backend.autocomplete("x) OR *", PUBLIC) == []


def test_field_weight_change_needs_rebuild(make_backend, tmp_path) -> None:
    """Field weights applied at index time need a rebuild when they change; weights an engine
    applies when a query runs take effect at once."""
    b = make_backend(tmp_path / "ix")
    b.rebuild([doc(1, "Một", "chung")])
    b.close()
    assert not make_backend(tmp_path / "ix", weights=Weights(accent=2.0, phrase=0.5)).needs_rebuild
    heavy_title = make_backend(tmp_path / "ix", weights=Weights.from_mapping({"title": 9.0}))
    assert heavy_title.needs_rebuild is type(b).weights_at_index_time


def test_query_notices_reach_the_result(backend: SearchBackend) -> None:
    backend.index([doc(1, "Một", "chung")])
    r = search(backend, "chung " + "x" * 600)
    assert ("truncated", {"max": 500}) in [(n.code, dict(n.params)) for n in r.notices]
    r = search(backend, " ".join(["chung"] * 100))
    assert "too_many_terms" in [n.code for n in r.notices] and r.total == 1


def test_searches_run_while_another_thread_writes(backend: SearchBackend) -> None:
    """8 threads search (plain, prefix, accented and not) while another writes: each answer
    is some consistent state of the index between the first and the last write."""
    backend.index([doc(i, f"Bài {i}", "chung") for i in range(1, 21)])
    errors: list[BaseException] = []
    totals: list[int] = []
    stop = threading.Event()

    def reader(n: int) -> None:
        q = ("chung", "bài*", "bai", "chu*")[n % 4]
        try:
            while not stop.is_set():
                r = search(backend, q)
                assert len(set(ids(r))) == len(r.hits) == min(r.total, 10)
                totals.append(r.total)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    try:
        for i in range(21, 41):
            backend.index([doc(i, f"Bài {i}", "chung")])
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert totals and all(20 <= n <= 40 for n in totals)
    assert search(backend, "chung").total == 40
    assert search(backend, "bai*").total == 40


def test_a_removal_during_a_rebuild_stays_removed(make_backend, tmp_path) -> None:
    """A write made while a rebuild runs is newer than the rebuild's copy of the record,
    whether the rebuild had reached the record or not."""
    b = make_backend(tmp_path / "ix")
    b.index([doc(i, "Cũ", "chung") for i in range(1, 4)])

    def docs():
        for i in range(1, 600):
            if i == 300:
                b.remove([2, 450])  # one already written to the new index, one not yet
            yield doc(i, "Mới", "chung")

    assert b.rebuild(docs()) == 599
    found = set()
    for page in range(1, 8):
        found |= set(ids(search(b, "chung", size=100, page=page)))
    assert 2 not in found  # removed after the rebuild had written it
    assert 450 not in found  # removed before the rebuild reached it
    assert len(found) == 597 == search(b, "chung").total


def test_a_failed_rebuild_leaves_the_index_as_it_was(make_backend, tmp_path) -> None:
    b = make_backend(tmp_path / "ix")
    b.rebuild([doc(1, "Bài cũ", "hậu cần")])

    def broken():
        yield doc(2, "Bài mới", "hậu cần")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="database went away"):
        b.rebuild(broken())
    assert ids(search(b, "hau can")) == [1]
    assert not b.needs_rebuild
    assert b.rebuild([doc(3, "Bài sau", "hậu cần")]) == 1
    assert ids(search(b, "hau can")) == [3]
