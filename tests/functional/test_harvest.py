"""Harvesting other repositories, end to end: recorded DSpace and EPrints providers, and a
second instance of this application on loopback, each served over real HTTP."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.catalog.models import Record, RecordStatus
from lms.cli import cli
from lms.extensions import db
from lms.harvest import services
from lms.harvest.models import HarvestedRecord, HarvestRun, HarvestSource
from metadata import Statement
from tests.conftest import ON_POSTGRES, Browser, make_app, migrate
from tests.factories import PASSWORD, make_collection
from tests.oai_replay import Replay
from tests.servers import serving

pytestmark = pytest.mark.functional


@pytest.fixture
def target(app, users):
    """This repository, with a collection for harvested records."""
    with app.app_context():
        make_collection("thu-thap", curators=[db.session.get(User, users["curator"].id)],
                        steps=1)
    return app


def register(app, users, name: str, base_url: str, prefix: str, sets: str = "") -> int:
    with app.app_context():
        admin = db.session.get(User, users["admin"].id)
        return services.register_source(admin, services.SourceInput(
            name=name, title=f"Nguồn {name}", base_url=base_url, metadata_prefix=prefix,
            collection="thu-thap", sets=sets)).id


def run(app, name: str):
    result = app.test_cli_runner().invoke(cli, ["harvest", "run", name])
    with app.app_context():
        last = db.session.scalars(select(HarvestRun).order_by(HarvestRun.id.desc())).first()
        return result, last.status, dict(last.counts), last.message, list(last.problems)


def harvested(app) -> dict[str, tuple[str, str, list[str]]]:
    """oai identifier -> (record status, title, its metadata's dcterms:source)."""
    with app.app_context():
        out = {}
        for mark in db.session.scalars(select(HarvestedRecord)):
            record = db.session.get(Record, mark.record_id)
            out[mark.oai_identifier] = (record.status, record.title,
                                        record.dc.values("source"))
        return out


# --- recorded DSpace (qdc) -------------------------------------------------------------------

def test_dspace_recordings_full_then_incremental_with_a_deletion(target, users):
    replay = Replay("dspace")
    with serving(replay) as url:
        register(target, users, "dspace", f"{url}/server/oai/request", "qdc")
        result, status, counts, _message, problems = run(target, "dspace")
        assert status == "succeeded", result.output
        assert counts == {"created": 3, "error": 1}
        assert result.exit_code == 1  # a record failed: the operator is told
        assert problems == [["oai:dspace.example.edu.vn:123456789/103",
                             "The title is missing."]]
        assert replay.requests == ["verb=Identify", "metadataPrefix=qdc&verb=ListRecords",
                                   "resumptionToken=qdc////2&verb=ListRecords"]
        first = harvested(target)
        assert first == {
            "oai:dspace.example.edu.vn:123456789/101": (
                RecordStatus.PUBLISHED, "Quản lý chuỗi cung ứng xăng dầu trong điều kiện dã chiến",
                ["http://hdl.handle.net/123456789/101"]),
            "oai:dspace.example.edu.vn:123456789/102": (
                RecordStatus.PUBLISHED,
                "Logistics support for peacekeeping operations: a case study",
                ["http://hdl.handle.net/123456789/102"]),
            "oai:dspace.example.edu.vn:123456789/104": (
                RecordStatus.PUBLISHED, "Bảo đảm hậu cần cho tác chiến phòng thủ",
                ["http://hdl.handle.net/123456789/104"]),
        }
        with target.app_context():
            source = db.session.scalar(select(HarvestSource))
            assert source.harvested_until == datetime(2024, 5, 2, 8, 13, 7, tzinfo=UTC)
            assert source.granularity == "YYYY-MM-DDThh:mm:ssZ"
            record = db.session.get(Record, db.session.scalar(
                select(HarvestedRecord.record_id).where(HarvestedRecord.oai_identifier.like(
                    "%/101"))))
            metadata = record.dc
            assert metadata.values("creator") == ["Phạm Minh Tuấn", "Lê Thị Hồng"]
            assert metadata.values("type") == ["Text"]  # "Article" is a text
            assert metadata.values("issued") == ["2023-06"]
            assert metadata.values("license") == [
                "https://creativecommons.org/licenses/by-nc/4.0/"]
            assert "oai:dspace.example.edu.vn:123456789/101" in metadata.values("identifier")
            assert Statement("alternative", "Fuel supply chain management in field "
                                            "conditions") in metadata
            record_id = record.id

        page = target.test_client().get(f"/records/{record_id}").get_data(as_text=True)
        assert "Nguồn dspace" in page and 'href="http://hdl.handle.net/123456789/101"' in page

        # Incremental: from the first list's responseDate; 101 changed, 102 was deleted.
        result, status, counts, _message, _problems = run(target, "dspace")
        assert status == "succeeded", result.output
        assert counts == {"updated": 1, "withdrawn": 1}
        assert replay.requests[-1] == \
            "from=2024-05-02T08:13:07Z&metadataPrefix=qdc&verb=ListRecords"
        second = harvested(target)
        assert second["oai:dspace.example.edu.vn:123456789/101"][1] == (
            "Quản lý chuỗi cung ứng xăng dầu trong điều kiện dã chiến (bản sửa đổi)")
        assert second["oai:dspace.example.edu.vn:123456789/102"][0] == RecordStatus.WITHDRAWN
        with target.app_context():
            gone = db.session.get(Record, db.session.scalar(select(
                HarvestedRecord.record_id).where(HarvestedRecord.oai_identifier.like("%/102"))))
            assert gone.withdrawal_reason == "Đã bị xóa ở nguồn thu thập Nguồn dspace."
            gone_id = gone.id
        assert target.test_client().get(f"/records/{gone_id}").status_code == 410

        # The provider now fails (no recording): the run fails, nothing moves.
        result, status, _counts, message, _problems = run(target, "dspace")
        assert (status, message, result.exit_code) == ("failed", "the source answered HTTP 500",
                                                       1)
        assert harvested(target) == second
        with target.app_context():
            assert db.session.scalar(select(HarvestSource.harvested_until)) == datetime(
                2024, 6, 10, 1, 0, 0, tzinfo=UTC)


# --- recorded EPrints (oai_dc, one set) --------------------------------------------------------

def test_eprints_recordings_one_set_over_two_runs_with_a_page_cap(target, users):
    target.config["HARVEST_MAX_PAGES"] = 1
    replay = Replay("eprints")
    with serving(replay) as url:
        register(target, users, "eprints", f"{url}/cgi/oai2", "oai_dc",
                 sets="74797065733D61727469636C65")
        _result, status, counts, _m, _p = run(target, "eprints")
        assert (status, counts) == ("partial", {"created": 1, "skipped": 1})
        with target.app_context():
            source = db.session.scalar(select(HarvestSource))
            assert source.harvested_until is None  # the list is not read to its end yet
            assert source.resume_token.startswith("metadataPrefix%3Doai_dc")
        result, status, counts, _m, _p = run(target, "eprints")
        assert (status, counts) == ("succeeded", {"created": 1}), result.output
        assert replay.requests == [
            "verb=Identify",
            "metadataPrefix=oai_dc&set=74797065733D61727469636C65&verb=ListRecords",
            "verb=Identify",
            "resumptionToken=metadataPrefix%3Doai_dc%26offset%3D2%26set%3D74797065733D61727469"
            "636C65&verb=ListRecords"]
        with target.app_context():
            source = db.session.scalar(select(HarvestSource))
            # The list began with the first run's response.
            assert source.harvested_until == datetime(2024, 5, 3, 2, 0, 2, tzinfo=UTC)
            assert source.resume_token is None
            record = db.session.get(Record, db.session.scalar(select(
                HarvestedRecord.record_id).where(HarvestedRecord.oai_identifier.like("%:1234"))))
            metadata = record.dc
            assert metadata.values("creator") == ["Smith, John", "Võ, Thị Mai"]
            assert metadata.values("bibliographicCitation") == [
                "Smith, John and Võ, Thị Mai (2022) Fuel logistics in mountainous terrain. "
                "Journal of Military Logistics, 3 (2). pp. 1-10. ISSN 1234-5678"]
            assert metadata.values("source") == ["http://127.0.0.1/1234/1/fuel-logistics.pdf"]
            assert metadata.values("format") == []  # "text" is no media type: left out
    titles = {title for _status, title, _src in harvested(target).values()}
    assert titles == {"Fuel logistics in mountainous terrain",
                      "Kho xăng dầu dã chiến: thiết kế và vận hành"}


# --- a second instance of this application -------------------------------------------------------

@pytest.fixture(scope="session")
def source_template(tmp_path_factory, migrated_database) -> str:
    """A migrated SQLite database for second instances (the first may be on PostgreSQL)."""
    if not ON_POSTGRES:
        return migrated_database
    path = tmp_path_factory.mktemp("source") / "source.sqlite"
    migrate(make_app(f"sqlite:///{path}", path.parent / "data"))
    return str(path)


@pytest.fixture
def second_instance(source_template, tmp_path):
    shutil.copyfile(source_template, tmp_path / "source.sqlite")
    app = make_app(f"sqlite:///{tmp_path / 'source.sqlite'}", tmp_path / "source-data",
                   OAI_REPOSITORY_ID="nguon.hvhc.edu.vn", OAI_PAGE_SIZE=2)
    with app.app_context():
        from lms.catalog.collections import create_collection

        create_collection(None, "tai-lieu", "Tài liệu")
    return app


def import_into(app, external_id: str, title: str, level: str = "public") -> int:
    from lms.catalog.access_settings import AccessSettings
    from lms.catalog.deposit import import_record
    from lms.catalog.models import Collection
    from metadata import Metadata

    with app.app_context():
        collection = db.session.scalar(select(Collection))
        result = import_record(
            None, external_id=external_id, collection=collection,
            metadata=Metadata([Statement("title", title, "vi"),
                               Statement("creator", "Trần Văn Giảng"),
                               Statement("type", "Text", None, "DCMIType")]),
            incomplete=False, access=AccessSettings(level=level), files=[], review=False,
            source={"via": "test"})
        return result.record_id


def test_a_second_instance_is_mirrored_and_its_deletions_followed(target, users,
                                                                 second_instance):
    source = second_instance
    with serving(source) as url:
        # Its OAI-PMH records then carry their landing pages, the originals linked to.
        source.config["PUBLIC_BASE_URL"] = url
        ids = {key: import_into(source, key, f"Tài liệu nguồn {key}") for key in "abc"}
        import_into(source, "secret", "Tài liệu nội bộ của nguồn", level="internal")
        register(target, users, "hvhc", f"{url}/oai", "oai_dc")
        result, status, counts, _m, _p = run(target, "hvhc")
        assert (status, counts) == ("succeeded", {"created": 3}), result.output
        assert sorted(t for _s, t, _src in harvested(target).values()) == [
            "Tài liệu nguồn a", "Tài liệu nguồn b", "Tài liệu nguồn c"]
        sources = {src[0] for _s, _t, src in harvested(target).values()}
        assert sources == {f"{url}/records/{i}" for i in ids.values()}

        # At the source: one record changes, one is withdrawn, one is added.
        import_into(source, "a", "Tài liệu nguồn a (sửa)")
        with source.app_context():
            from lms.catalog.workflow import withdraw
            from tests.factories import UserFactory

            source_admin = UserFactory(username="quantri", roles=["admin"])
            db.session.commit()
            withdraw(source_admin, db.session.get(Record, ids["b"]), "Hết hiệu lực")
        import_into(source, "d", "Tài liệu nguồn d")

        result, status, counts, _m, _p = run(target, "hvhc")
        assert status == "succeeded", result.output
        assert (counts.get("created"), counts.get("updated"), counts.get("withdrawn")) == (
            1, 1, 1)
    mirrored = {t: s for s, t, _src in harvested(target).values()}
    assert mirrored == {"Tài liệu nguồn a (sửa)": RecordStatus.PUBLISHED,
                        "Tài liệu nguồn b": RecordStatus.WITHDRAWN,
                        "Tài liệu nguồn c": RecordStatus.PUBLISHED,
                        "Tài liệu nguồn d": RecordStatus.PUBLISHED}


def test_a_source_redirecting_elsewhere_fails_and_imports_nothing(target, users):
    def redirecting(environ, start_response):
        start_response("302 Found", [("Location", "http://localhost:1/oai?verb=Identify")])
        return [b""]

    with serving(redirecting) as url:
        register(target, users, "lac", f"{url}/oai", "oai_dc")
        result, status, counts, message, _p = run(target, "lac")
    assert (status, message, counts) == ("failed", "a redirect to another host was refused", {})
    assert result.exit_code == 1
    assert harvested(target) == {}


def test_one_run_at_a_time(target, users):
    source_id = register(target, users, "mot", "http://127.0.0.1:9/oai", "oai_dc")
    with target.app_context():
        services._claim(source_id)
        with pytest.raises(services.Conflict):
            services.run_harvest(source_id)


# --- the administrators' pages ---------------------------------------------------------------

def test_an_admin_registers_and_runs_a_source_from_the_pages(target, users):
    replay = Replay("eprints")
    browser = Browser(target.test_client())
    browser.login("admin", PASSWORD)
    with serving(replay) as url:
        response = browser.post("/admin/harvest/new", {
            "name": "eprints", "title": "Kho EPrints", "base_url": f"{url}/cgi/oai2",
            "metadata_prefix": "oai_dc", "sets": "74797065733D61727469636C65",
            "collection": "thu-thap", "access_level": "public", "schedule": "weekly",
            "active": "1"}, page="/admin/harvest/new")
        assert response.status_code == 302
        with target.app_context():
            source = db.session.scalar(select(HarvestSource))
            assert (source.name, source.schedule, source.registered_by.username) == (
                "eprints", "weekly", "admin")
            source_id = source.id
        response = browser.post(f"/admin/harvest/{source_id}/run",
                                page=f"/admin/harvest/{source_id}")
        assert response.status_code == 302
    page = browser.client.get(f"/admin/harvest/{source_id}").get_data(as_text=True)
    assert "Thành công" in page and "tạo mới: 2" in page
    assert len(harvested(target)) == 2


@pytest.mark.parametrize(("field", "value"), [
    ("base_url", "file:///etc/passwd"), ("base_url", "http://u:p@example.org/oai"),
    ("name", "Tên Có Dấu"), ("metadata_prefix", "marc21"), ("access_level", "restricted"),
    ("sets", "bad set<>"), ("collection", "khong-co")])
def test_bad_source_settings_are_refused_and_nothing_is_saved(target, users, field, value):
    browser = Browser(target.test_client())
    browser.login("admin", PASSWORD)
    form = {"name": "nguon", "title": "Nguồn", "base_url": "http://127.0.0.1:5399/oai",
            "metadata_prefix": "oai_dc", "sets": "", "collection": "thu-thap",
            "access_level": "public", "schedule": "daily", "active": "1", field: value}
    response = browser.post("/admin/harvest/new", form, page="/admin/harvest/new")
    assert response.status_code == 422
    with target.app_context():
        assert db.session.scalar(select(HarvestSource)) is None


@pytest.mark.parametrize("who", ["curator", "instructor", None])
def test_only_admins_reach_the_harvest_pages(target, users, who):
    browser = Browser(target.test_client())
    if who:
        browser.login(who, PASSWORD)
        assert browser.client.get("/admin/harvest/").status_code == 403
    else:
        assert browser.client.get("/admin/harvest/").status_code == 302  # to the login page


def test_the_schedule_picks_due_sources_and_unfinished_lists(target, users):
    from datetime import timedelta

    daily = register(target, users, "hang-ngay", "http://127.0.0.1:9/oai", "oai_dc")
    register(target, users, "thu-cong", "http://127.0.0.1:9/oai", "oai_dc")
    with target.app_context():
        manual = db.session.scalar(select(HarvestSource).where(HarvestSource.name == "thu-cong"))
        manual.schedule = "manual"
        source = db.session.get(HarvestSource, daily)
        now = datetime(2025, 1, 2, 12, 0, tzinfo=UTC)
        assert [s.name for s in services.due_sources(now)] == ["hang-ngay"]  # never run
        source.last_run_at = now - timedelta(hours=23)
        assert services.due_sources(now) == []
        source.resume_started = now - timedelta(hours=23)  # a list cut by the page cap
        assert [s.name for s in services.due_sources(now)] == ["hang-ngay"]
        source.resume_started, source.last_run_at = None, now - timedelta(hours=24)
        assert [s.name for s in services.due_sources(now)] == ["hang-ngay"]
        db.session.rollback()


def test_a_record_withdrawn_here_stays_withdrawn(target, users):
    from lms.catalog.workflow import withdraw

    with serving(Replay("dspace")) as url:
        register(target, users, "dspace", f"{url}/server/oai/request", "qdc")
        run(target, "dspace")
        with target.app_context():
            record_id = db.session.scalar(select(HarvestedRecord.record_id).where(
                HarvestedRecord.oai_identifier.like("%/101")))
            curator = db.session.get(User, users["curator"].id)
            withdraw(curator, db.session.get(Record, record_id), "Trùng lặp")
        _result, status, counts, _m, problems = run(target, "dspace")
    assert (status, counts) == ("succeeded", {"skipped": 1, "withdrawn": 1})
    assert problems == [["oai:dspace.example.edu.vn:123456789/101",
                         "withdrawn in this repository; left alone"]]
    with target.app_context():
        record = db.session.get(Record, record_id)
        assert (record.status, record.withdrawal_reason) == (RecordStatus.WITHDRAWN, "Trùng lặp")
