"""Search through the app: the page, the JSON API, freshness, hostile input and relevance."""

from __future__ import annotations

import gzip
import json
import os
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from lms.accounts.models import User
from lms.catalog import access_settings, collections, workflow
from lms.catalog.models import AccessLevel, Record, RecordVersion
from lms.extensions import db
from tests.conftest import NEEDS_POSTGRES, Browser, at_once, search_backend_params
from tests.factories import PASSWORD, make_collection, publish_record

pytestmark = pytest.mark.functional


def api(client, **params):
    response = client.get("/api/v1/search", query_string=params)
    return response


@pytest.fixture
def library(app, users):
    """Three public records and one internal one."""
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        collection = make_collection("khoa-hau-can", curators=[curator], steps=1)
        public = access_settings.AccessSettings(level=AccessLevel.PUBLIC)
        ids = {
            "fuel": publish_record(owner, curator, collection, public,
                                   title="Bảo đảm xăng dầu trong huấn luyện").id,
            "digital": publish_record(owner, curator, collection, public,
                                      title="Kỹ năng số cho chiến sĩ").id,
            "script": publish_record(owner, curator, collection, public,
                                     title="Hậu cần <script>alert(1)</script> chiến đấu").id,
            "internal": publish_record(owner, curator, collection,
                                       access_settings.AccessSettings(level=AccessLevel.INTERNAL),
                                       title="Kế hoạch xăng dầu nội bộ").id,
        }
        return ids


def test_api_answers_in_the_documented_shape(client, library):
    body = api(client, q="xang dau").get_json()
    assert set(body) >= {"total", "page", "size", "hits", "facets"}
    assert (body["total"], body["page"], body["size"]) == (1, 1, 10)
    hit = body["hits"][0]
    assert set(hit) == {"id", "external_id", "title", "title_html", "snippet_html", "score",
                        "url"}
    assert hit["id"] == library["fuel"] and hit["url"] == f"/records/{library['fuel']}"
    assert hit["title"] == "Bảo đảm xăng dầu trong huấn luyện"
    assert "<mark>" in hit["title_html"]
    assert body["facets"]["type"] == [{"value": "Text", "count": 1}]


def test_markup_in_titles_stays_escaped(client, library):
    hit = api(client, q="hau can").get_json()["hits"][0]
    assert "<script>" not in hit["title_html"] and "&lt;script&gt;" in hit["title_html"]
    page = client.get("/search?q=hau+can").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page


def test_access_is_filtered_inside_the_query(app, client, library):
    anonymous = api(client, q="xăng dầu").get_json()
    assert [h["id"] for h in anonymous["hits"]] == [library["fuel"]]
    assert anonymous["total"] == 1
    browser = Browser(app.test_client())
    browser.login("learner", PASSWORD)
    logged_in = api(browser.client, q="xăng dầu").get_json()
    assert {h["id"] for h in logged_in["hits"]} == {library["fuel"], library["internal"]}
    assert logged_in["facets"]["type"] == [{"value": "Text", "count": 2}]


def test_changes_reach_search_at_once(app, client, library):
    with app.app_context():
        curator = db.session.scalar(db.select(User).where(User.username == "curator"))
        record = db.session.get(Record, library["digital"])
        settings = access_settings.AccessSettings.of(record)
        settings.level = AccessLevel.INTERNAL
        access_settings.change_access(curator, record, settings)
    assert api(client, q="kỹ năng số").get_json()["total"] == 0
    with app.app_context():
        curator = db.session.scalar(db.select(User).where(User.username == "curator"))
        workflow.withdraw(curator, db.session.get(Record, library["fuel"]), "Lỗi thời")
    hits = api(client, q="xăng dầu").get_json()["hits"]
    assert library["fuel"] not in [h["id"] for h in hits]


@pytest.mark.parametrize("params", [
    {"page": "0"}, {"page": "abc"}, {"page": "-1"}, {"size": "101"}, {"size": "0"},
    {"sort": "price"}, {"f.secret": "x"}, {"level": "secret"},
])
def test_bad_parameters_are_a_json_400(client, library, params):
    response = api(client, q="xang", **params)
    assert response.status_code == 400
    assert response.get_json()["error"]["status"] == 400
    assert client.get("/search", query_string={"q": "x", **params}).status_code == 400


@pytest.mark.parametrize("q", [
    "test:", "10/", '"unbalanced', "!!!", "x) OR level:secret OR (y", "level:secret",
    "principals:public", "*", "a*", "-", "OR OR OR", "title:", '""', "tieude:xăng",
    " OR ".join(f"w{i}" for i in range(10_000)), "x" * 100_000,
])
def test_hostile_queries_never_fail(client, library, q):
    response = api(client, q=q)
    if len(q) > 8192:  # an address longer than the API takes: a JSON error (observation 11)
        assert response.status_code == 414
        assert response.get_json()["status"] == 414  # problem details (RFC 9457)
    else:
        assert response.status_code == 200
        body = response.get_json()
        assert library["internal"] not in [h["id"] for h in body["hits"]]
    assert client.get("/search", query_string={"q": q}).status_code == 200


def test_overlong_query_is_cut_with_a_notice(client, library):
    body = api(client, q="xăng " * 200).get_json()
    assert any(n["code"] == "truncated" for n in body["notices"])


def test_several_words_fall_back_to_any_of_them_with_a_notice(client, library):
    body = api(client, q="xăng huấn luyện chiến sĩ").get_json()
    assert body["total"] >= 2
    assert [n["code"] for n in body["notices"]] == ["or_fallback"]
    page = client.get("/search?q=x%C4%83ng+hu%E1%BA%A5n+luy%E1%BB%87n+chi%E1%BA%BFn+s%C4%A9")
    # A fresh visitor sees the default UI language, Vietnamese.
    assert "Không có học liệu nào chứa tất cả các từ này; đang hiển thị học liệu chứa ít nhất " \
        "một từ." in page.get_data(as_text=True)


def test_facet_filters_combine(client, library):
    body = api(client, q="", **{"f.type": "Text"}).get_json()
    assert body["total"] == 3
    none = api(client, q="", **{"f.type": "Image"}).get_json()
    assert none["total"] == 0


def test_suggestions_come_only_from_visible_records(app, client, library):
    assert api(client, q="noi bo").get_json()["total"] == 0
    words = client.get("/api/v1/suggest?q=n%E1%BB%99").get_json()["suggestions"]
    assert not any("nội" in w for w in words)
    browser = Browser(app.test_client())
    browser.login("learner", PASSWORD)
    words = browser.client.get("/api/v1/suggest?q=n%E1%BB%99").get_json()["suggestions"]
    assert any("nội" in w for w in words)


def test_a_query_that_finds_records_gets_no_suggestion(client, library):
    body = api(client, q="xang dau").get_json()
    assert body["total"] == 1
    assert body["suggestion"] is None  # it found the record: no "did you mean xăng dầu"
    assert api(client, q="xang dauu").get_json()["suggestion"] == "xăng dầu"


def test_search_page_renders_facets_hits_and_pager_in_both_languages(app, library):
    browser = Browser(app.test_client())
    vi = browser.client.get("/search?q=&size=1").get_data(as_text=True)
    assert "Kiểu tài nguyên" in vi
    assert "Trang 1 / 3" in vi
    browser.post("/language", {"language": "en"})
    en = browser.client.get("/search?q=xang+dau").get_data(as_text=True)
    assert "1 result for “xang dau”" in en and "Resource type" in en and "<mark>" in en


def test_reindex_command_rebuilds_from_the_database(app, client, library):
    from lms.cli import cli

    result = app.test_cli_runner().invoke(cli, ["reindex"])
    assert result.exit_code == 0, result.output
    assert "4 records" in result.output  # every searchable record, whoever may see it
    assert api(client, q="xang dau").get_json()["total"] == 1


@pytest.mark.parametrize("engine", [
    "tantivy", pytest.param("postgres", marks=NEEDS_POSTGRES, id="postgres")])
def test_reindex_reads_the_database_in_parallel_shards(app, client, library, engine):
    from lms.cli import cli

    app.extensions.pop("search").close()  # as if the app had started with this engine
    app.config.update(SEARCH_BACKEND=engine, SEARCH_REBUILD_PROCESSES=3)
    result = app.test_cli_runner().invoke(cli, ["reindex"])
    assert result.exit_code == 0, result.output
    assert f"Search index ({engine}) rebuilt: 4 records." in result.output
    with app.app_context():
        from lms.discovery.services import backend

        assert backend().name == engine and backend().doc_count() == 4
    assert api(client, q="xang dau").get_json()["total"] == 1  # the internal one stays hidden
    assert api(client, q="chiến sĩ").get_json()["hits"][0]["id"] == library["digital"]


def test_reindex_reads_records_in_batches_with_a_fixed_number_of_queries(app, users):
    """``lms reindex`` reads tens of thousands of records: the queries per batch must not grow
    with the records in it (no query per record for versions, files, downloads or access)."""
    from sqlalchemy import event

    from lms.discovery.services import searchable_documents

    def statements_to_read_all() -> tuple[int, list[str]]:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            titles = [d.title[0] for d in searchable_documents()]
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen), titles

    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        collection = make_collection("khoa-hau-can", curators=[curator], steps=1)
        unit_only = access_settings.AccessSettings(level=AccessLevel.ROLE, roles=["instructor"])
        publish_record(owner, curator, collection, title="Tài liệu 0")
        few, _ = statements_to_read_all()
        for i in range(1, 8):
            publish_record(owner, curator, collection, unit_only if i % 2 else None,
                           title=f"Tài liệu {i}")
        many, titles = statements_to_read_all()
    assert titles == [f"Tài liệu {i}" for i in range(8)]
    assert many == few


# --- relevance on real Vietnamese text --------------------------------------------------------

CORPUS = Path(os.environ.get("LMS_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))


def load_vntc(app, limit: int) -> None:
    """Publish the first ``limit`` VNTC articles (test data) as public records, in bulk."""
    shard = CORPUS / "corpus" / "vntc-10topics-00.jsonl.gz"
    assert shard.is_file(), f"VNTC corpus not found at {shard}; set LMS_SHARED_DIR"
    with app.app_context():
        collection = make_collection("vntc", steps=1)
        base = datetime(2025, 1, 1, tzinfo=UTC)
        records, versions = [], []
        with gzip.open(shard, "rt", encoding="utf-8") as fh:
            for i, line in enumerate(fh, start=1):
                if i > limit:
                    break
                doc = json.loads(line)
                when = base + timedelta(minutes=i)
                records.append({"id": i, "external_id": doc["id"], "status": "published",
                                "collection_id": collection.id, "title": doc["title"][:500],
                                "access_level": "public", "discoverable": True,
                                "current_version": 1, "lock_version": 1, "ever_public": True,
                                "metadata_incomplete": False, "embargo_reason": "",
                                "withdrawal_reason": "", "created_at": when,
                                "updated_at": when, "published_at": when})
                versions.append({"record_id": i, "number": 1, "title": doc["title"][:500],
                                 "published_at": when, "statements": [
                                     ["title", doc["title"], "vi", None],
                                     ["description", doc["text"], "vi", None],
                                     ["type", "Text", None, "DCMIType"]]})
        db.session.execute(insert(Record), records)
        db.session.execute(insert(RecordVersion), versions)
        db.session.commit()
    from lms.cli import cli

    assert app.test_cli_runner().invoke(cli, ["reindex"]).exit_code == 0


@pytest.fixture(scope="module")
def vntc_app(tmp_path_factory, migrated_database):
    import shutil

    from tests.conftest import ON_POSTGRES, make_app, migrate

    # The sample lives in an instance of its own, loaded once for the module (on SQLite even
    # when the suite runs on PostgreSQL: relevance does not depend on the database).
    folder = tmp_path_factory.mktemp("vntc")
    url = f"sqlite:///{folder / 'db.sqlite'}"
    if ON_POSTGRES:
        migrate(make_app(url, folder / "data"))
    else:
        shutil.copyfile(migrated_database, folder / "db.sqlite")
    app = make_app(url, folder / "data")
    load_vntc(app, 1500)
    yield app
    with app.app_context():
        db.engine.dispose()


def ids_for(client, q: str) -> list[int]:
    body = api(client, q=q, size=100).get_json()
    return [h["id"] for h in body["hits"]]


def titles_and_text(app, record_id: int) -> str:
    """The record's words, lower case, joined by single spaces (punctuation dropped)."""
    with app.app_context():
        version = db.session.get(Record, record_id).latest_version
        text = " ".join(row[1] for row in version.statements).lower()
    return " ".join(re.findall(r"\w+", text))


@pytest.mark.parametrize("exact, variants", [
    ("bóng đá", ["bong da", "BÓNG ĐÁ"]),
    ("hòa bình", ["hoà bình", "hoa binh"]),
    ("sức khỏe", ["sức khoẻ", "suc khoe"]),
    ("Đà Nẵng", ["da nang", unicodedata.normalize("NFD", "Đà Nẵng"), "Ða Nẵng"]),
])
def test_alternative_spellings_find_the_same_documents(vntc_app, exact, variants):
    client = vntc_app.test_client()
    expected = set(ids_for(client, exact))
    assert expected, exact
    for variant in variants:
        assert set(ids_for(client, variant)) == expected, variant
    top = ids_for(client, exact)[0]
    canonical = exact.lower().replace("hoà", "hòa").replace("khoẻ", "khỏe")
    text = titles_and_text(vntc_app, top).replace("hoà", "hòa").replace("khoẻ", "khỏe")
    assert canonical in text


def test_adjacent_syllables_rank_first(vntc_app):
    client = vntc_app.test_client()
    ranked = ids_for(client, "chứng khoán")
    assert ranked
    adjacent = [i for i in ranked if "chứng khoán" in titles_and_text(vntc_app, i)]
    apart = [i for i in ranked if i not in adjacent]
    if apart:
        assert max(ranked.index(i) for i in adjacent[:5]) < min(ranked.index(i) for i in apart)


def test_collection_facet_and_newest_sort(vntc_app):
    client = vntc_app.test_client()
    body = api(client, q="bóng đá", sort="newest", size=5).get_json()
    assert body["facets"]["collection"][0]["value"] == "vntc"
    ids = [h["id"] for h in body["hits"]]
    assert ids == sorted(ids, reverse=True)  # loaded in id order, one minute apart


def test_openapi_document_matches_the_api(client, library):
    from lms.search import FACETS
    from lms.search.document import MAX_PAGE_SIZE, SORTS

    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/search"]["get"]
    params = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert params["sort"]["enum"] == list(SORTS)
    assert params["size"]["maximum"] == MAX_PAGE_SIZE
    assert {name[2:] for name in params if name.startswith("f.")} == set(FACETS)
    hit_fields = set(spec["components"]["schemas"]["Hit"]["required"])
    body = api(client, q="xang").get_json()
    assert set(body["hits"][0]) == hit_fields
    assert set(spec["components"]["schemas"]["SearchResult"]["required"]) <= set(body)


def publish_fuel_records(app, users) -> tuple[int, int]:
    """A public and an internal record about fuel ("xăng dầu"), published through the
    workflow (so the configured search engine indexes them after the commits)."""
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        collection = make_collection("khoa-hau-can", curators=[curator], steps=1)
        public = publish_record(owner, curator, collection,
                                access_settings.AccessSettings(level=AccessLevel.PUBLIC),
                                title="Bảo đảm xăng dầu trong huấn luyện").id
        internal = publish_record(owner, curator, collection,
                                  access_settings.AccessSettings(level=AccessLevel.INTERNAL),
                                  title="Kế hoạch xăng dầu nội bộ").id
    return public, internal


@pytest.mark.parametrize("engine", [
    "tantivy", pytest.param("postgres", marks=NEEDS_POSTGRES, id="postgres")])
def test_the_app_searches_with_the_other_engines_too(app, users, engine):
    """LMS_SEARCH_BACKEND=tantivy or postgres: same page, API, freshness and access
    filtering."""
    app.config["SEARCH_BACKEND"] = engine
    public, internal = publish_fuel_records(app, users)
    with app.app_context():
        from lms.discovery.services import backend

        assert backend().name == engine
    client = app.test_client()
    body = api(client, q="xang dau").get_json()
    assert [h["id"] for h in body["hits"]] == [public]
    assert "<mark>" in body["hits"][0]["title_html"]
    browser = Browser(app.test_client())
    browser.login("learner", PASSWORD)
    assert {h["id"] for h in api(browser.client, q="xăng dầu").get_json()["hits"]} == {
        public, internal}
    with app.app_context():
        curator = db.session.get(User, users["curator"].id)
        workflow.withdraw(curator, db.session.get(Record, public), "Lỗi thời")
    assert public not in [h["id"] for h in api(client, q="xang dau").get_json()["hits"]]


@pytest.mark.parametrize("engine", search_backend_params())
def test_moving_a_collection_moves_its_whole_subtree_in_search_and_oai(app, users, engine):
    """Moving a collection changes the path of every record below it, deep or mapped in:
    search finds them under the new path, as OAI-PMH lists them in the new set."""
    app.config["SEARCH_BACKEND"] = engine
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        admin = db.session.get(User, users["admin"].id)
        moved = make_collection("khoa-hau-can", curators=[curator], steps=1)
        child = make_collection("xang-dau", curators=[curator], steps=1, parent=moved)
        elsewhere = make_collection("ky-nang-so", curators=[curator], steps=1)
        academy = make_collection("hoc-vien", curators=[curator], steps=1)
        public = access_settings.AccessSettings(level=AccessLevel.PUBLIC)
        deep = publish_record(owner, curator, child, public, title="Xăng dầu trong kho").id
        mapped = publish_record(owner, curator, elsewhere, public, title="Xăng dầu dã chiến")
        workflow.map_record(curator, mapped, [child])
        mapped = mapped.id
        collections.update_collection(
            admin, moved, title=moved.title, title_en="", description="", parent=academy,
            default_access=moved.default_access, workflow_steps=1, curators=[curator])
    client = app.test_client()

    def found(path: str) -> list[int]:
        body = api(client, q="xăng dầu", **{"f.collection": path}).get_json()
        return sorted(hit["id"] for hit in body["hits"])

    assert found("hoc-vien/khoa-hau-can/xang-dau") == [deep, mapped]
    assert found("khoa-hau-can/xang-dau") == []
    listed = client.get("/oai", query_string={
        "verb": "ListIdentifiers", "metadataPrefix": "oai_dc",
        "set": "collection:hoc-vien:khoa-hau-can:xang-dau"}).get_data(as_text=True)
    assert sorted(int(i) for i in re.findall(r"<identifier>oai:[^:<]+:(\d+)</identifier>",
                                             listed)) == [deep, mapped]


def _close_search(app) -> None:
    found = app.extensions.pop("search", None)
    if found is not None:
        found.close()


@pytest.mark.parametrize("engine", search_backend_params())
def test_api_answers_searches_from_eight_threads_at_once(request, engine):
    """8 clients × 20 prefix and plain searches (accented and not) at the same moment against
    the app on a threaded WSGI server: every answer is a 200 with the same body as when the
    search is run alone (observation 4 of the hardening issue: 500s from Whoosh's reader)."""
    import http.client
    import threading
    import urllib.parse

    from werkzeug.serving import make_server

    queries = ["th*", "bong da", "ng*", "kỹ năng số", "ch*", "ky nang so", "tr*", "chứng khoán",
               "kh*", "việt nam"]
    if engine == "postgres":  # its index lives in the suite's own PostgreSQL database
        vntc_app = request.getfixturevalue("app")
        vntc_app.config["SEARCH_BACKEND"] = engine
        load_vntc(vntc_app, 1500)
    else:
        vntc_app = request.getfixturevalue("vntc_app")
        _close_search(vntc_app)
        vntc_app.config["SEARCH_BACKEND"] = engine
        with vntc_app.app_context():
            from lms.discovery.services import rebuild_index

            rebuild_index()
    server = make_server("127.0.0.1", 0, vntc_app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()

    def get(q: str) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=60)
        try:
            connection.request("GET", "/api/v1/search?" + urllib.parse.urlencode({"q": q}))
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    try:
        alone = {q: get(q) for q in queries}
        assert {status for status, _ in alone.values()} == {200}
        failures: list[str] = []

        def client(n: int) -> None:
            for i in range(20):
                q = queries[(n * 3 + i) % len(queries)]
                status, body = get(q)
                if (status, body) != alone[q]:
                    failures.append(f"{q}: {status} {body[:200]!r}")

        at_once(client, 8)
        assert failures == []
    finally:
        server.shutdown()
        serving.join(timeout=10)
        server.server_close()
        _close_search(vntc_app)
        vntc_app.config["SEARCH_BACKEND"] = "whoosh"


@NEEDS_POSTGRES
def test_app_servers_share_one_search_in_postgresql(app, users, tmp_path):
    """Two app servers on one database with LMS_SEARCH_BACKEND=postgres: what one publishes or
    withdraws, the other finds or stops finding at once; neither has an index folder."""
    from tests.conftest import make_app

    app.config["SEARCH_BACKEND"] = "postgres"
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "other-data",
                     SEARCH_BACKEND="postgres")
    record, _ = publish_fuel_records(app, users)
    assert [h["id"] for h in api(other.test_client(), q="xang dau").get_json()["hits"]] == [
        record]
    with other.app_context():
        curator = db.session.get(User, users["curator"].id)
        workflow.withdraw(curator, db.session.get(Record, record), "Lỗi thời")
    assert api(app.test_client(), q="xang dau").get_json()["total"] == 0
    for server in (app, other):
        assert not (Path(server.config["DATA_DIR"]) / "search").exists()
