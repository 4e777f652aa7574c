"""The records API over HTTP: each endpoint's success and failure paths, ETags, cursors,
hostile bodies, concurrent updates, and export → import round trips."""

from __future__ import annotations

import io
import json
import threading

import pytest
import requests
from sqlalchemy import select

from lms.accounts.models import User
from lms.api.tokens import create_token
from lms.catalog.access_settings import AccessSettings
from lms.catalog.models import Record
from lms.extensions import db
from lms.extract.samples import write_demo_pdf
from metadata import Metadata
from tests.conftest import ClosingClient
from tests.factories import make_collection, publish_record, statements
from tests.servers import serving

pytestmark = pytest.mark.functional

TITLE = {"title": [{"value": "Bài giảng xăng dầu", "lang": "vi"}]}
# A deposit-complete record, in the import line's shape.
COMPLETE = Metadata(statements()).to_dict()


@pytest.fixture
def world(app, users):
    """Two collections (the curator curates the first), and write tokens for the instructor
    and the curator, a read token for the learner."""
    with app.app_context():
        curator = db.session.get(User, users["curator"].id)
        make_collection("khoa-hau-can", curators=[curator], steps=1)
        make_collection("khoa-khac", curators=[], steps=1)
        secrets = {}
        for username, scope in (("instructor", "write"), ("curator", "write"),
                                ("learner", "read"), ("admin", "write")):
            user = db.session.scalar(select(User).where(User.username == username))
            secrets[username] = create_token(user, "test", scope, 30).secret
    return secrets


class Api:
    def __init__(self, client, secret: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def __getattr__(self, method):
        def call(url, headers=None, **kwargs):
            return getattr(self.client, method)(url, headers={**self.headers,
                                                              **(headers or {})}, **kwargs)
        return call


def as_(app, world, username: str | None) -> Api:
    app.test_client_class = ClosingClient  # file responses hold their blob until closed
    return Api(app.test_client(), world[username] if username else None)


def draft(api: Api, metadata=None, **extra) -> dict:
    response = api.post("/api/v1/records", json={"collection": "khoa-hau-can",
                                                  "metadata": metadata or TITLE, **extra})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def pdf_bytes(tmp_path, title="Tài liệu") -> bytes:
    return write_demo_pdf(tmp_path / "doc.pdf", title, ["xăng", "dầu"]).read_bytes()


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    return body


# --- create and read ------------------------------------------------------------------------

def test_create_answers_201_with_location_etag_and_the_import_shape(app, world):
    api = as_(app, world, "instructor")
    response = api.post("/api/v1/records", json={"collection": "khoa-hau-can",
                                                  "metadata": TITLE, "access": "public"})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"collection", "access", "metadata", "files", "record"}
    assert body["metadata"] == TITLE
    assert body["access"]["level"] == "public"
    assert body["record"]["status"] == "draft"
    assert response.headers["Location"].endswith(f"/api/v1/records/{body['record']['id']}")
    assert response.headers["ETag"].startswith(f'"{body["record"]["id"]}-')


def test_read_sends_an_etag_and_304_for_a_matching_if_none_match(app, world):
    api = as_(app, world, "instructor")
    record_id = draft(api)["record"]["id"]
    first = api.get(f"/api/v1/records/{record_id}")
    assert first.status_code == 200
    again = api.get(f"/api/v1/records/{record_id}",
                    headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_draft_is_404_for_others_and_anonymous(app, world):
    record_id = draft(as_(app, world, "instructor"))["record"]["id"]
    assert_problem(as_(app, world, "learner").get(f"/api/v1/records/{record_id}"), 404)
    assert_problem(as_(app, world, None).get(f"/api/v1/records/{record_id}"), 404)
    assert_problem(as_(app, world, "learner").get(f"/api/v1/records/{record_id}/versions"), 404)


def test_anonymous_may_not_create(app, world):
    response = app.test_client().post("/api/v1/records",
                                      json={"collection": "khoa-hau-can", "metadata": TITLE})
    assert_problem(response, 401)


@pytest.mark.parametrize("body,status", [
    ({"collection": "khong-co", "metadata": TITLE}, 422),
    ({"collection": "khoa-hau-can", "metadata": {"title": [{"value": ""}]}}, 422),
    ({"collection": "khoa-hau-can", "metadata": TITLE, "access": {"level": "bí mật"}}, 422),
    ({"collection": "khoa-hau-can", "metadata": TITLE, "access": {"units": "x"}}, 422),
    ({"collection": "khoa-hau-can", "metadata": ["title"]}, 400),
    ({"collection": 7, "metadata": TITLE}, 400),
    ({"collection": "khoa-hau-can", "metadata": {"title": [{"value": 5}]}}, 400),
    ({"collection": "khoa-hau-can", "metadata": TITLE, "access": 3}, 400),
    ({"collection": "khoa-hau-can"}, 400),
    ({"collection": "khoa-hau-can", "metadata": TITLE, "owner": "admin"}, 400),
    ([1, 2], 400),
])
def test_bad_bodies_are_problems_and_create_nothing(app, world, body, status):
    assert_problem(as_(app, world, "instructor").post("/api/v1/records", json=body), status)
    with app.app_context():
        assert db.session.scalar(select(Record.id)) is None


def test_a_collection_one_may_not_deposit_in_is_403(app, world):
    response = as_(app, world, "learner").get("/api/v1/collections")
    assert response.status_code == 200
    with app.app_context():
        learner = db.session.scalar(select(User).where(User.username == "learner"))
        secret = create_token(learner, "w", "write", 1).secret
    refused = Api(app.test_client(), secret).post(
        "/api/v1/records", json={"collection": "khoa-hau-can", "metadata": TITLE})
    assert_problem(refused, 403)


@pytest.mark.parametrize("raw,content_type,status", [
    (b"[" * 5000 + b"]" * 5000, "application/json", 400),
    (json.dumps({"metadata": {"title": [{"value": "x", "a": {"b": {"c": {"d": {"e": {
        "f": {"g": {}}}}}}}}]}}).encode(), "application/json", 400),
    (b"{" * 100_000, "application/json", 400),
    (b"\xff\xfe{}", "application/json", 400),
    (b"{\"collection\": \"khoa-hau-can\", \"metadata\": {\"title\": \"" + b"x" * 2_000_000
     + b"\"}}", "application/json", 413),
    (b"collection=khoa-hau-can", "application/x-www-form-urlencoded", 415),
    (b"1" * 5000, "application/json", 400),
])
def test_hostile_json_is_refused_with_a_problem(app, world, raw, content_type, status):
    response = as_(app, world, "instructor").post(
        "/api/v1/records", data=raw, headers={"Content-Type": content_type})
    assert_problem(response, status)


# --- update, lock -------------------------------------------------------------------------

def test_put_needs_if_match_428_and_refuses_a_stale_one_412(app, world):
    api = as_(app, world, "instructor")
    created = api.post("/api/v1/records", json={"collection": "khoa-hau-can", "metadata": TITLE})
    url = created.headers["Location"]
    body = {"metadata": COMPLETE}
    assert_problem(api.put(url, json=body), 428)
    saved = api.put(url, json=body, headers={"If-Match": created.headers["ETag"]})
    assert saved.status_code == 200
    assert saved.get_json()["metadata"]["creator"] == [{"value": "Nguyễn Văn A"}]
    assert saved.headers["ETag"] != created.headers["ETag"]
    stale = api.put(url, json={"metadata": TITLE}, headers={"If-Match": created.headers["ETag"]})
    assert_problem(stale, 412)
    assert api.get(url).get_json()["metadata"] == saved.get_json()["metadata"]


def test_put_sends_the_read_shape_back_unchanged_and_nothing_changes(app, world):
    api = as_(app, world, "instructor")
    created = api.post("/api/v1/records", json={"collection": "khoa-hau-can", "metadata": TITLE})
    again = api.put(created.headers["Location"], json=created.get_json(),
                    headers={"If-Match": created.headers["ETag"]})
    assert again.status_code == 200
    assert again.headers["ETag"] == created.headers["ETag"]


def test_put_may_not_move_the_record_to_another_collection(app, world):
    api = as_(app, world, "instructor")
    created = api.post("/api/v1/records", json={"collection": "khoa-hau-can", "metadata": TITLE})
    moved = api.put(created.headers["Location"],
                    json={"collection": "khoa-khac", "metadata": TITLE},
                    headers={"If-Match": created.headers["ETag"]})
    assert_problem(moved, 422)


def test_patch_merges_terms_and_access(app, world):
    api = as_(app, world, "instructor")
    created = api.post("/api/v1/records", json={"collection": "khoa-hau-can",
                                                "metadata": {**TITLE, "subject": "logistics"}})
    patched = api.patch(created.headers["Location"],
                        json={"metadata": {"subject": None, "creator": [{"value": "Lê B"}]},
                              "access": {"level": "public"}},
                        headers={"If-Match": created.headers["ETag"],
                                 "Content-Type": "application/merge-patch+json"})
    assert patched.status_code == 200
    body = patched.get_json()
    assert body["metadata"] == {**TITLE, "creator": [{"value": "Lê B"}]}
    assert body["access"]["level"] == "public"


def test_a_reader_may_read_a_published_record_but_not_edit_it_403(app, world):
    record_id = _publish(app, "Công khai")
    learner = as_(app, world, "learner")
    read = learner.get(f"/api/v1/records/{record_id}")
    assert read.status_code == 200
    assert read.get_json()["access"] == {"level": "public", "embargo_until": None,
                                         "discoverable": True}
    assert_problem(learner.put(f"/api/v1/records/{record_id}", json={"metadata": TITLE},
                               headers={"If-Match": read.headers["ETag"]}), 403)


def test_two_updates_with_the_same_etag_one_wins_one_412(app, world):
    api = as_(app, world, "instructor")
    created = api.post("/api/v1/records", json={"collection": "khoa-hau-can", "metadata": TITLE})
    path, etag = created.headers["Location"], created.headers["ETag"]
    path = path[path.index("/api/"):]
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def put(title: str, base: str) -> None:
        barrier.wait()
        response = requests.put(base + path, timeout=30, json={
            "metadata": {"title": [{"value": title, "lang": "vi"}]}},
            headers={"If-Match": etag, "Authorization": f"Bearer {world['instructor']}"})
        statuses.append(response.status_code)

    with serving(app) as base:
        threads = [threading.Thread(target=put, args=(t, base)) for t in ("Một", "Hai")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [200, 412]


# --- files, submit, withdraw ---------------------------------------------------------------

def test_upload_and_remove_files_with_if_match(app, world, tmp_path):
    api = as_(app, world, "instructor")
    created = api.post("/api/v1/records", json={"collection": "khoa-hau-can", "metadata": TITLE})
    url = created.headers["Location"]
    assert_problem(api.post(f"{url}/files", data={"file": (io.BytesIO(b"x"), "a.txt")}), 428)
    uploaded = api.post(f"{url}/files", data={"file": (io.BytesIO(pdf_bytes(tmp_path)),
                                                       "hau-can.pdf")},
                        headers={"If-Match": created.headers["ETag"]})
    assert uploaded.status_code == 201
    [file] = uploaded.get_json()["files"]
    assert file["path"] == "hau-can.pdf"
    assert file["media_type"] == "application/pdf"
    assert uploaded.get_json()["added"] == [file["id"]]
    listed = api.get(f"{url}/files").get_json()["files"]
    assert [f["id"] for f in listed] == [file["id"]]
    assert_problem(api.delete(f"{url}/files/{file['id']}",
                              headers={"If-Match": created.headers["ETag"]}), 412)
    removed = api.delete(f"{url}/files/{file['id']}",
                         headers={"If-Match": uploaded.headers["ETag"]})
    assert removed.status_code == 200
    assert removed.get_json()["files"] == []
    assert_problem(api.delete(f"{url}/files/{file['id']}",
                              headers={"If-Match": removed.headers["ETag"]}), 404)


def test_an_empty_upload_is_a_problem(app, world):
    api = as_(app, world, "instructor")
    created = api.post("/api/v1/records", json={"collection": "khoa-hau-can", "metadata": TITLE})
    refused = api.post(f"{created.headers['Location']}/files",
                       data={"file": (io.BytesIO(b""), "rong.pdf")},
                       headers={"If-Match": created.headers["ETag"]})
    assert_problem(refused, 422)


def test_submit_then_the_curator_sees_it_and_may_withdraw_once_published(app, world):
    owner = as_(app, world, "instructor")
    created = owner.post("/api/v1/records", json={"collection": "khoa-hau-can",
                                                  "metadata": TITLE})
    url = created.headers["Location"]
    incomplete = owner.post(f"{url}/submit", headers={"If-Match": created.headers["ETag"]})
    assert_problem(incomplete, 422)
    saved = owner.put(url, json={"metadata": COMPLETE},
                      headers={"If-Match": created.headers["ETag"]})
    submitted = owner.post(f"{url}/submit", headers={"If-Match": saved.headers["ETag"]})
    assert submitted.status_code == 200
    assert submitted.get_json()["record"]["status"] == "submitted"
    curator = as_(app, world, "curator")
    listed = curator.get("/api/v1/records?status=submitted").get_json()["records"]
    assert [r["record"]["id"] for r in listed] == [created.get_json()["record"]["id"]]
    with app.app_context():
        from lms.catalog import workflow

        reviewer = db.session.scalar(select(User).where(User.username == "curator"))
        task = workflow.review_queue(reviewer).pool[0]
        workflow.claim(reviewer, task.id)
        workflow.accept(reviewer, task.id)
    published = owner.get(url)
    assert published.get_json()["record"]["status"] == "published"
    assert_problem(owner.post(f"{url}/withdraw", json={"reason": "Cũ"},
                              headers={"If-Match": published.headers["ETag"]}), 403)
    etag = curator.get(url).headers["ETag"]
    assert_problem(curator.post(f"{url}/withdraw", json={}, headers={"If-Match": etag}), 400)
    withdrawn = curator.post(f"{url}/withdraw", json={"reason": "Hết hiệu lực"},
                             headers={"If-Match": etag})
    assert withdrawn.status_code == 200
    assert withdrawn.get_json()["record"]["status"] == "withdrawn"
    assert_problem(owner.get(url), 410)
    versions = curator.get(f"{url}/versions").get_json()["versions"]
    assert [v["number"] for v in versions] == [1]
    assert versions[0]["metadata"] == saved.get_json()["metadata"]


# --- listings -------------------------------------------------------------------------------

def _publish(app, title: str, access: str = "public", slug: str = "khoa-hau-can", **extra):
    from lms.catalog.collections import get_collection

    with app.app_context():
        owner = db.session.scalar(select(User).where(User.username == "instructor"))
        curator = db.session.scalar(select(User).where(User.username == "curator"))
        collection = get_collection(slug)
        if slug != "khoa-hau-can":
            collection.curators.append(curator)
            db.session.commit()
        return publish_record(owner, curator, collection, AccessSettings(level=access),
                              title=title, **extra).id


def test_the_cursor_pages_on_stably_while_records_are_added(app, world):
    ids = [_publish(app, f"Tài liệu {n}") for n in range(5)]
    anonymous = as_(app, world, None)
    first = anonymous.get("/api/v1/records?size=2")
    assert [r["record"]["id"] for r in first.get_json()["records"]] == ids[:2]
    next_url = first.get_json()["next"]
    assert first.headers["Link"] == f'<{next_url}>; rel="next"'
    added = _publish(app, "Tài liệu mới")
    seen = [r["record"]["id"] for r in first.get_json()["records"]]
    while next_url:
        page = anonymous.get(next_url[next_url.index("/api/"):]).get_json()
        seen += [r["record"]["id"] for r in page["records"]]
        next_url = page["next"]
    assert seen == [*ids, added]


def test_filters_collection_type_modified_since(app, world):
    here = _publish(app, "Ở đây")
    other = _publish(app, "Ở khoa khác", slug="khoa-khac")
    hidden = _publish(app, "Nội bộ", access="internal")
    anonymous = as_(app, world, None)

    def ids(query: str) -> list[int]:
        response = anonymous.get(f"/api/v1/records?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return [r["record"]["id"] for r in response.get_json()["records"]]

    assert ids("") == [here, other]
    assert ids("collection=khoa-khac") == [other]
    assert ids("type=Text") == [here, other]
    assert ids("type=Image") == []
    assert ids("modified_since=2999-01-01T00:00:00Z") == []
    assert ids("modified_since=2000-01-01") == [here, other]
    assert [r["record"]["id"] for r in as_(app, world, "learner").get(
        "/api/v1/records").get_json()["records"]] == [here, other, hidden]


@pytest.mark.parametrize("query,status", [
    ("cursor=%%%", 400), ("cursor=YWZ0ZXI6eA", 400), ("size=0", 400), ("size=abc", 400),
    ("status=withdrawn", 400), ("collection=khong-co", 404), ("modified_since=hôm qua", 400),
    ("sort=title", 400), ("size=1&size=2", 400),
])
def test_bad_list_parameters_are_problems(app, world, query, status):
    assert_problem(as_(app, world, None).get(f"/api/v1/records?{query}"), status)


def test_collections_tree_and_one(app, world):
    from lms.catalog.collections import get_collection

    with app.app_context():
        parent = get_collection("khoa-hau-can")
        child = make_collection("bo-mon-xang-dau", parent=parent)
        parent_id, child_id = parent.id, child.id
    tree = as_(app, world, None).get("/api/v1/collections").get_json()["collections"]
    [node] = [c for c in tree if c["slug"] == "khoa-hau-can"]
    assert [c["slug"] for c in node["children"]] == ["bo-mon-xang-dau"]
    one = as_(app, world, None).get(f"/api/v1/collections/{child_id}").get_json()
    assert (one["parent"], one["children"]) == (parent_id, [])
    assert_problem(as_(app, world, None).get("/api/v1/collections/999999"), 404)


def test_a_wrong_method_is_405_with_allow_and_a_problem(app, world):
    response = app.test_client().delete("/api/v1/records")
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {
        "GET", "HEAD", "OPTIONS", "POST"}


# --- export → import -----------------------------------------------------------------------

def test_a_record_read_from_the_api_imports_as_the_same_record(app, world, tmp_path):
    from lms.ingest.imports import ImportOptions, run_import

    api = as_(app, world, "instructor")
    created = api.post("/api/v1/records", json={
        "collection": "khoa-hau-can", "metadata": COMPLETE,
        "access": {"level": "role", "roles": ["curator"], "embargo_until": "2030-01-01",
                   "embargo_reason": "Chờ phê duyệt", "discoverable": False}})
    url = created.headers["Location"]
    uploaded = api.post(f"{url}/files", data={"file": (io.BytesIO(pdf_bytes(tmp_path)),
                                                       "hau-can.pdf")},
                        headers={"If-Match": created.headers["ETag"]})
    exported = api.get(url).get_json()
    folder = tmp_path / "package"
    folder.mkdir()
    for file in exported["files"]:
        content = api.get(file["url"][file["url"].index("/api/"):]).data
        (folder / file["path"]).write_bytes(content)
    (folder / "records.jsonl").write_text(json.dumps(exported, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    with app.app_context():
        report = run_import(None, folder / "records.jsonl", ImportOptions())
        [line] = report.lines
        assert (line.outcome, line.errors) == ("created", [])
        new_id = line.record_id
    imported = as_(app, world, "admin").get(f"/api/v1/records/{new_id}").get_json()
    for key in ("collection", "access", "metadata"):
        assert imported[key] == exported[key]
    assert [(f["path"], f["sha256"]) for f in imported["files"]] == [
        (f["path"], f["sha256"]) for f in uploaded.get_json()["files"]]


def test_an_imported_record_read_back_imports_unchanged(app, world, tmp_path):
    from lms.ingest.imports import ImportOptions, run_import

    line = {"id": "gt-hau-can-2025", "collection": "khoa-hau-can", "access": "public",
            "metadata": COMPLETE}
    source = tmp_path / "a.jsonl"
    source.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    with app.app_context():
        [first] = run_import(None, source, ImportOptions()).lines
    exported = as_(app, world, "admin").get(f"/api/v1/records/{first.record_id}").get_json()
    assert exported["id"] == "gt-hau-can-2025"
    again = tmp_path / "b.jsonl"
    again.write_text(json.dumps(exported, ensure_ascii=False) + "\n", encoding="utf-8")
    with app.app_context():
        [second] = run_import(None, again, ImportOptions()).lines
    assert (second.outcome, second.record_id) == ("unchanged", first.record_id)


@pytest.mark.parametrize("since,status", [
    ("0001-01-01T00:00:00%2B23:59", 200), ("9999-12-31T23:59:60-23:59", 200),
    ("2025-06-30t23:59:60.1234567z", 200), ("2025-02-30", 400),
    ("2025-01-01T00:00:00%2B99:00", 400),
])
def test_modified_since_takes_any_rfc3339_date_time(app, world, since, status):
    response = as_(app, world, None).get(f"/api/v1/records?modified_since={since}")
    assert response.status_code == status


def test_a_cursor_past_the_last_possible_id_is_an_empty_page(app, world):
    _publish(app, "Tài liệu")
    response = as_(app, world, None).get("/api/v1/records?cursor=833312786269")
    assert response.status_code == 200
    assert response.get_json() == {"records": [], "next": None}
