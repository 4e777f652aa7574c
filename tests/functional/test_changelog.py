"""The change log between the database and its mirrors (search, OAI-PMH): rows written with
each change, applied and marked per mirror, never lost while a mirror is busy or an applier
dies; channels that re-check the database on the way out; ``lms check [--repair]``."""

from __future__ import annotations

from dataclasses import replace

import pytest
from lxml import etree
from sqlalchemy import delete, func, select, update

from lms.accounts.models import User
from lms.catalog import access_settings, workflow
from lms.catalog.models import AccessLevel, Record
from lms.changelog import ChangeEntry, drain, pending_counts
from lms.cli import cli
from lms.discovery.documents import document_for
from lms.discovery.services import backend
from lms.extensions import db
from lms.oai.models import OaiItem, OaiItemSet
from tests.concurrency import at_once
from tests.factories import make_collection, publish_record
from tests.mirrors import mirrors_held, recording

pytestmark = pytest.mark.functional

NS = {"o": "http://www.openarchives.org/OAI/2.0/",
      "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/"}
REPO = "kho.hvhc.edu.vn"
PUBLIC = access_settings.AccessSettings(level=AccessLevel.PUBLIC)


@pytest.fixture
def people(app, users) -> dict[str, int]:
    with app.app_context():
        curator = db.session.get(User, users["curator"].id)
        make_collection("khoa-hau-can", curators=[curator], steps=1)
        db.session.commit()
    return {name: account.id for name, account in users.items()}


def publish(app, people, title: str, access=PUBLIC) -> int:
    with app.app_context():
        from lms.catalog.models import Collection

        owner = db.session.get(User, people["instructor"])
        curator = db.session.get(User, people["curator"])
        collection = db.session.scalar(select(Collection).where(Collection.slug == "khoa-hau-can"))
        return publish_record(owner, curator, collection, access, title=title).id


def change_access(app, people, record_id: int, level: str) -> None:
    """As the curator; "restricted" names the learner."""
    with app.app_context():
        curator = db.session.get(User, people["curator"])
        record = db.session.get(Record, record_id)
        users = [db.session.get(User, people["learner"])] \
            if level == AccessLevel.RESTRICTED else []
        access_settings.change_access(curator, record,
                                      access_settings.AccessSettings(level=level, users=users))


def pending(app) -> dict[str, int]:
    with app.app_context():
        return pending_counts()


def log_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ChangeEntry))


def search_hits(client, q: str) -> list[int]:
    return [hit["id"] for hit in client.get("/api/v1/search", query_string={"q": q})
            .get_json()["hits"]]


def oai(client, query: str):
    response = client.get(f"/oai?{query}")
    assert response.status_code == 200
    return etree.fromstring(response.get_data())


def oai_state(client, record_id: int) -> dict[str, object]:
    """What OAI-PMH says of the record: GetRecord's status and metadata, and its header in
    ListIdentifiers and ListRecords."""
    identifier = f"oai:{REPO}:{record_id}"
    get = oai(client, f"verb=GetRecord&metadataPrefix=oai_dc&identifier={identifier}")
    header = get.find(".//o:header", NS)
    listed = oai(client, "verb=ListIdentifiers&metadataPrefix=oai_dc")
    listed_headers = {h.findtext("o:identifier", namespaces=NS): h.get("status")
                      for h in listed.iterfind(".//o:header", NS)}
    records = oai(client, "verb=ListRecords&metadataPrefix=oai_dc")
    with_metadata = {r.findtext("o:header/o:identifier", namespaces=NS)
                     for r in records.iterfind(".//o:record", NS)
                     if r.find("o:metadata", NS) is not None}
    return {"get_status": header.get("status"),
            "get_metadata": get.find(".//o:metadata", NS) is not None,
            "listed_status": listed_headers.get(identifier, "absent"),
            "list_records_metadata": identifier in with_metadata}


LIVE = {"get_status": None, "get_metadata": True, "listed_status": None,
        "list_records_metadata": True}
DELETED = {"get_status": "deleted", "get_metadata": False, "listed_status": "deleted",
           "list_records_metadata": False}


def lms(app, *args: str):
    return app.test_cli_runner().invoke(cli, list(args))


# --- rows written with the change, applied at once -------------------------------------------

def test_a_change_writes_its_row_and_the_request_applies_it(app, people, client):
    record_id = publish(app, people, "Giáo trình Xylophon")

    # Applied by the use case itself right after its commit, then pruned: nothing is left.
    assert pending(app) == {"search": 0, "oai": 0}
    assert log_rows(app) == 0
    assert search_hits(client, "xylophon") == [record_id]
    assert oai_state(client, record_id) == LIVE


def test_changes_made_while_the_mirrors_are_busy_wait_for_the_worker(app, people, client):
    record_id = publish(app, people, "Giáo trình Xylophon")

    with mirrors_held(app):
        change_access(app, people, record_id, AccessLevel.RESTRICTED)  # committed, not applied
        assert pending(app) == {"search": 1, "oai": 1}

    with app.app_context():
        assert drain() == {"search": 1, "oai": 1}
    assert pending(app) == {"search": 0, "oai": 0}
    assert log_rows(app) == 0
    with app.app_context():
        [entry] = [e for e in backend().inventory() if e.id == record_id]
        assert "public" not in entry.principals
    assert oai_state(client, record_id) == DELETED


# --- fail closed on the way out ----------------------------------------------------------------

def test_a_restriction_not_yet_applied_shows_nowhere(app, people, client):
    """Observation 1 in one process: the database says restricted, the mirrors still say
    public. Nothing of the record may reach an anonymous reader through any channel."""
    record_id = publish(app, people, "Giáo trình Xylophon bí mật")
    other_id = publish(app, people, "Giáo trình Xylophon công khai")

    with mirrors_held(app):
        change_access(app, people, record_id, AccessLevel.RESTRICTED)

        body = client.get("/api/v1/search", query_string={"q": "xylophon"}).get_data(
            as_text=True)
        assert search_hits(client, "xylophon") == [other_id]
        assert "bí mật" not in body
        page = client.get("/search", query_string={"q": "xylophon bí mật"}).get_data(
            as_text=True)
        # Beyond the reader's own query, echoed back (search box, result count, sort form).
        assert f"/records/{record_id}" not in page and "mật" not in page.split("<main")[1] \
            .replace("xylophon bí mật", "")
        assert client.get("/api/v1/suggest", query_string={"q": "xylophon b"}) \
            .get_json()["suggestions"] == []
        assert client.get(f"/records/{record_id}").status_code == 404
        assert oai_state(client, record_id) == DELETED
        assert oai_state(client, other_id) == LIVE

    with app.app_context():
        drain()
    assert search_hits(client, "xylophon") == [other_id]
    assert oai_state(client, record_id) == DELETED


def test_a_search_applies_what_a_dead_process_left_pending(app, people, client):
    """After a crash, with the worker down too, the first search applies the changes left
    pending before it counts: its total and facets never count a record now restricted."""
    record_id = publish(app, people, "Giáo trình Xylophon bí mật")
    with mirrors_held(app):
        change_access(app, people, record_id, AccessLevel.RESTRICTED)
    assert pending(app) == {"search": 1, "oai": 1}

    answer = client.get("/api/v1/search", query_string={"q": "xylophon"}).get_json()
    assert (answer["total"], answer["hits"]) == (0, [])
    assert pending(app) == {"search": 0, "oai": 1}


def test_a_widening_not_yet_applied_shows_only_once_applied(app, people, client):
    record_id = publish(app, people, "Giáo trình Xylophon",
                        access_settings.AccessSettings(level=AccessLevel.INTERNAL))
    with mirrors_held(app):
        change_access(app, people, record_id, AccessLevel.PUBLIC)
        assert search_hits(client, "xylophon") == []
        assert "idDoesNotExist" in client.get(
            f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:{REPO}:{record_id}"
        ).get_data(as_text=True)
    with app.app_context():
        drain()
    assert search_hits(client, "xylophon") == [record_id]
    assert oai_state(client, record_id) == LIVE


def test_an_index_that_drifted_still_shows_nothing_the_database_forbids(app, people, client):
    """A restored or damaged index that says "public" for a restricted record: hits and
    suggestions are checked against the database, so nothing shows before ``lms check``."""
    record_id = publish(app, people, "Giáo trình Xylophon",
                        access_settings.AccessSettings(level=AccessLevel.INTERNAL))
    with app.app_context():
        document = document_for(db.session.get(Record, record_id))
        backend().index([replace(document, principals=["public"])])
    assert search_hits(client, "xylophon") == []
    assert client.get("/api/v1/suggest", query_string={"q": "xylo"}).get_json() == \
        {"suggestions": []}


# --- concurrency ------------------------------------------------------------------------------

def test_appliers_at_the_same_moment_apply_each_change_once(app, people):
    with recording(app) as mirror:
        ids = [publish(app, people, f"Tài liệu {n}") for n in range(3)]
        mirror.calls.clear()
        with mirrors_held(app):
            for record_id in ids:
                change_access(app, people, record_id, AccessLevel.INTERNAL)
        assert pending(app)["recording"] == 3

        def drain_in_context():
            with app.app_context():
                return drain()

        results = at_once(*(drain_in_context for _ in range(3)))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(mirror.records) == sorted(ids)  # each exactly once, none lost
    assert sum(r["recording"] for r in results) == 3
    assert pending(app) == {"search": 0, "oai": 0}


# --- lms check ------------------------------------------------------------------------------

def test_check_finds_and_repairs_a_damaged_search_index(app, people, client):
    ids = {name: publish(app, people, f"Giáo trình {name}") for name in
           ("missing", "leaked", "withdrawn", "altered", "fine")}
    with app.app_context():
        curator = db.session.get(User, people["curator"])
        documents = {name: document_for(db.session.get(Record, record_id))
                     for name, record_id in ids.items()}
        workflow.withdraw(curator, db.session.get(Record, ids["withdrawn"]), "Hết hiệu lực")
    change_access(app, people, ids["leaked"], AccessLevel.INTERNAL)
    assert lms(app, "check").output.endswith("0 difference(s).\n")

    with app.app_context():
        engine = backend()
        engine.remove([ids["missing"]])
        engine.index([replace(documents["leaked"], principals=["public", "role:admin"]),
                      documents["withdrawn"],
                      replace(documents["altered"], title=["Tiêu đề đã bị sửa"])])

    found = lms(app, "check")
    assert found.exit_code == 1, found.output
    lines = found.output.splitlines()
    expected = {("missing", ids["missing"]), ("visibility", ids["leaked"]),
                ("extra", ids["withdrawn"]), ("content", ids["altered"])}
    assert {(line.split()[4], int(line.split()[3])) for line in lines
            if line.startswith("differs")} == expected
    assert lines[-1] == "4 difference(s)."

    repaired = lms(app, "check", "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert repaired.output.splitlines()[-1] == "0 difference(s), 4 repaired."
    assert lms(app, "check").exit_code == 0
    assert set(search_hits(client, "giáo trình")) == {ids["missing"], ids["altered"],
                                                      ids["fine"]}


def test_check_finds_and_repairs_a_damaged_oai_projection(app, people, client):
    ids = {name: publish(app, people, f"Giáo trình {name}") for name in
           ("missing", "leaked", "altered", "sets", "fine")}
    ids["never_public"] = publish(app, people, "Nội bộ",
                                  access_settings.AccessSettings(level=AccessLevel.INTERNAL))
    change_access(app, people, ids["leaked"], AccessLevel.INTERNAL)
    assert oai_state(client, ids["leaked"]) == DELETED
    with app.app_context():
        altered = db.session.get(OaiItem, ids["altered"]).oai_dc
        assert "Giáo trình altered" in altered
        db.session.execute(delete(OaiItem).where(OaiItem.record_id == ids["missing"]))
        db.session.execute(update(OaiItem).where(OaiItem.record_id == ids["leaked"])
                           .values(deleted=False, oai_dc=altered))
        db.session.execute(update(OaiItem).where(OaiItem.record_id == ids["altered"]).values(
            oai_dc=altered.replace("Giáo trình altered", "Giáo trình sửa tay")))
        db.session.execute(delete(OaiItemSet).where(OaiItemSet.record_id == ids["sets"]))
        item = db.session.get(OaiItem, ids["fine"])
        db.session.add(OaiItem(record_id=ids["never_public"], datestamp=item.datestamp,
                               deleted=False, set_specs="", oai_dc=item.oai_dc, qdc=item.qdc))
        db.session.commit()
    # Served as deleted already: the database says neither may be harvested.
    assert oai_state(client, ids["leaked"]) == DELETED
    assert oai_state(client, ids["never_public"]) == DELETED

    found = lms(app, "check")
    assert found.exit_code == 1, found.output
    differs = {(line.split()[4], int(line.split()[3])) for line in found.output.splitlines()
               if line.startswith("differs")}
    assert differs == {("missing", ids["missing"]), ("visibility", ids["leaked"]),
                       ("content", ids["altered"]), ("content", ids["sets"]),
                       ("visibility", ids["never_public"])}

    repaired = lms(app, "check", "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert lms(app, "check").output.splitlines()[-1] == "0 difference(s)."
    assert oai_state(client, ids["missing"]) == LIVE
    assert oai_state(client, ids["altered"]) == LIVE
    assert oai_state(client, ids["leaked"]) == DELETED
    with app.app_context():
        assert sorted(db.session.scalars(select(OaiItemSet.set_spec).where(
            OaiItemSet.record_id == ids["sets"]))) == sorted(
            db.session.get(OaiItem, ids["sets"]).set_specs.split())


def test_the_daily_job_repairs_and_keeps_its_result_for_the_admin_page(app, people, browser):
    record_id = publish(app, people, "Giáo trình Xylophon")
    with app.app_context():
        backend().remove([record_id])
        from lms.jobs import enqueue

        job = enqueue("mirrors.check")
        assert job.status == "done", job.message
        assert job.result["differences"] == 0 and job.result["repaired"] == 1
        assert job.result["sample"] == [{"mirror": "search", "record_id": record_id,
                                         "kind": "missing", "detail": "not in the index"}]
    from tests.factories import PASSWORD

    assert browser.login("admin", PASSWORD).status_code == 302
    page = browser.client.get("/admin/mirrors/").get_data(as_text=True)
    assert f'/jobs/{job.id}">#{job.id}</a>' in page
    assert f'/records/{record_id}">#{record_id}</a>' in page
    assert client_status(browser, "/admin/mirrors/", "learner") == 403
    # The admin jobs page shows the last result too.
    jobs_page = browser.client.get("/admin/jobs/").get_data(as_text=True)
    summary = jobs_page.split('<p class="mirror-check">', 1)[1].split("</p>", 1)[0]
    assert f'/jobs/{job.id}">#{job.id}</a>' in summary
    assert "Tìm thấy và đã sửa 1 chỗ khác biệt, còn lại 0." in summary


def client_status(browser, url: str, username: str) -> int:
    from tests.conftest import Browser
    from tests.factories import PASSWORD

    other = Browser(browser.client.application.test_client())
    other.login(username, PASSWORD)
    return other.client.get(url).status_code


def test_health_is_degraded_while_changes_wait_too_long(app, people, client):
    record_id = publish(app, people, "Giáo trình Xylophon")
    assert client.get("/health").get_json()["checks"]["mirrors"] == "ok"
    with mirrors_held(app):
        change_access(app, people, record_id, AccessLevel.INTERNAL)
    app.config["CHANGE_LOG_STALE_SECONDS"] = -1  # any wait is too long
    assert client.get("/health").get_json()["checks"]["mirrors"] == "degraded"
    with app.app_context():
        drain()
    assert client.get("/health").get_json()["checks"]["mirrors"] == "ok"
