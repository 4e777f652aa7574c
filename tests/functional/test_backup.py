"""`lms backup` and `lms restore`: a populated instance is backed up, wiped, restored and
compared table by table, row by row, and blob by blob (SHA-256); damaged or partial backups
are refused before anything changes. Runs on SQLite or PostgreSQL (whichever the suite uses)
and with both file stores."""

# The fixtures `collection` and `samples` come from test_files (imported below): F811 is how
# ruff sees a fixture requested by name.
# ruff: noqa: F811

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, text

from lms.accounts.models import Group, User
from lms.catalog import access_settings
from lms.catalog.models import AccessLevel
from lms.cli import cli
from lms.extensions import db
from lms.files.stores import get_storage
from lms.jobs import enqueue
from tests import storage_tools
from tests.conftest import ON_POSTGRES, ClosingClient, make_app
from tests.functional.test_files import (  # noqa: F401 - fixtures shared with that module
    _closing_client,
    as_user,
    collection,
    files_of,
    new_draft,
    published_with_pdf,
    samples,
    upload,
)

pytestmark = pytest.mark.functional

# What the issue names explicitly; every other table is compared too, whatever it holds.
MUST_HOLD_ROWS = ("records", "record_versions", "record_files", "blobs", "users",
                  "audit_events", "jobs", "file_texts", "oai_items", "download_events",
                  "throttle_counters", "groups", "fixity_checks")


def populate(app: Flask, collection_id: int, samples: dict[str, bytes]) -> int:
    """Records (published with two versions, and a draft), files with thumbnails and text,
    users and a group, audit entries, downloads, a throttle counter, jobs, fixity checks."""
    record_id, file_id = published_with_pdf(
        app, collection_id, samples, access_settings.AccessSettings(level=AccessLevel.PUBLIC),
        name="Giáo trình xăng dầu.pdf")
    curator = as_user(app, "curator")
    assert upload(curator, record_id, ("sơ đồ.png", samples["png"]),
                  content_type="image/png").status_code == 302  # version 2
    draft = new_draft(app, collection_id, title="Bản nháp")
    upload(as_user(app, "instructor"), draft, ("bài hát.mp3", samples["mp3"]),
           content_type="audio/mpeg")
    assert as_user(app, "learner").client.get(
        f"/records/{record_id}/files/{file_id}").status_code == 200
    as_user(app, None).login("learner", "wrong password!")
    with app.app_context():
        learner = db.session.scalar(db.select(User).where(User.username == "learner"))
        db.session.add(Group(name="Tổ bộ môn", members=[learner]))
        db.session.commit()
        enqueue("files.fixity")
    return record_id


def instance_state(app: Flask) -> dict[str, object]:
    """Every table's rows (sorted) and every stored blob's SHA-256."""
    with app.app_context():
        tables = {}
        with db.engine.connect() as connection:
            for name in sorted(inspect(connection).get_table_names()):
                rows = connection.execute(text(f'SELECT * FROM "{name}"')).all()  # noqa: S608
                tables[name] = sorted((tuple(row) for row in rows), key=repr)
        storage = get_storage(app)
        blobs = {key: hashlib.sha256(storage_tools.read_raw(storage, key)).hexdigest()
                 for key in list(storage.keys())}
        db.engine.dispose()
    return {"tables": tables, "blobs": blobs}


def wipe(app: Flask, *, new_bucket: str | None = None) -> Flask:
    """Lose the instance: database, data folder (and, with ``new_bucket``, the bucket's
    contents: the new instance uses an empty one); return a new app on an empty instance,
    made as an operator would (`lms db upgrade`)."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        if ON_POSTGRES:
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            db.engine.dispose()
        else:
            path = Path(db.engine.url.database)
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
    shutil.rmtree(app.config["DATA_DIR"])
    settings = {name: app.config[name] for name in app.config if name.startswith("S3_")}
    settings["STORAGE"] = new_bucket or app.config["STORAGE"]
    fresh = make_app(app.config["SQLALCHEMY_DATABASE_URI"], Path(app.config["DATA_DIR"]),
                     **settings)
    fresh.test_client_class = ClosingClient
    result = fresh.test_cli_runner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return fresh


def empty_state(app: Flask) -> dict[str, object]:
    state = instance_state(app)
    for name in MUST_HOLD_ROWS:
        assert state["tables"][name] == [], f"{name} is not empty"
    return state


@pytest.fixture(params=["local", "s3-listed", "s3-copied"])
def store(request, app: Flask) -> str:
    """Local files (copied into the backup); a bucket that survives the loss (its objects
    listed); a bucket lost with the rest (its objects copied into the backup)."""
    if request.param != "local":
        app.config.update(request.getfixturevalue("s3_settings"))
    return request.param


def test_backup_wipe_restore_loses_nothing(app, users, collection, samples, store, tmp_path,
                                           moto_s3):
    record_id = populate(app, collection, samples)
    before = instance_state(app)
    for name in MUST_HOLD_ROWS:
        assert before["tables"][name], f"the populated instance has no {name}"
    assert len(before["blobs"]) == 5  # the PDF, the PNG, the MP3, two thumbnails

    destination = tmp_path / "backup"
    options = ["--copy-files"] if store == "s3-copied" else []
    result = app.test_cli_runner().invoke(cli, ["backup", str(destination), *options])
    assert result.exit_code == 0, result.output
    assert "Backup written to" in result.output
    manifest = json.loads((destination / "manifest.json").read_text())
    assert manifest["files"]["copied"] is (store != "s3-listed")
    assert manifest["files"]["count"] == len(before["blobs"])
    settings_text = json.dumps(manifest["settings"])
    assert app.config["SECRET_KEY"] not in settings_text
    assert "S3_SECRET_ACCESS_KEY" not in manifest["settings"]
    assert "SECRET_KEY" not in manifest["settings"]

    new_bucket = None
    if store == "s3-copied":
        new_bucket = storage_tools.new_bucket(moto_s3)["STORAGE"]
    app = wipe(app, new_bucket=new_bucket)
    assert instance_state(app)["tables"]["records"] == []

    result = app.test_cli_runner().invoke(cli, ["restore", str(destination)])
    assert result.exit_code == 0, result.output
    assert "search index rebuilt (1 records)" in result.output
    after = instance_state(app)
    assert after["tables"].keys() == before["tables"].keys()
    for name in before["tables"]:
        assert after["tables"][name] == before["tables"][name], f"table {name} differs"
    assert after["blobs"] == before["blobs"]

    # Search and OAI-PMH were rebuilt from the database; the files are served.
    anonymous = as_user(app, None)
    found = anonymous.client.get("/api/v1/search?q=xăng dầu").get_json()
    assert [hit["id"] for hit in found["hits"]] == [record_id]
    oai = anonymous.client.get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc")
    assert f":{record_id}</identifier>" in oai.get_data(as_text=True)
    pdf = files_of(app, record_id)[0]
    response = anonymous.client.get(f"/records/{record_id}/files/{pdf.id}")
    assert response.status_code == 200 and response.data == samples["pdf"]
    # New rows continue the restored sequences.
    with app.app_context():
        db.session.add(User(username="moi", full_name="Người mới", password_hash="x"))
        db.session.commit()


def test_restore_refuses_a_non_empty_instance_unless_forced(app, users, collection, samples,
                                                            tmp_path):
    populate(app, collection, samples)
    before = instance_state(app)
    runner = app.test_cli_runner()
    assert runner.invoke(cli, ["backup", str(tmp_path / "b")]).exit_code == 0
    refused = runner.invoke(cli, ["restore", str(tmp_path / "b")])
    assert refused.exit_code == 1
    assert "this instance is not empty" in refused.stderr
    assert "The database was not changed." in refused.stderr
    assert instance_state(app) == before

    with app.app_context():
        db.session.add(Group(name="Thêm sau sao lưu"))
        db.session.commit()
    forced = runner.invoke(cli, ["restore", "--force", str(tmp_path / "b")])
    assert forced.exit_code == 0, forced.output
    assert instance_state(app)["tables"] == before["tables"]


def test_backup_into_a_non_empty_folder_is_refused(app, tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "other.txt").write_text("x")
    result = app.test_cli_runner().invoke(cli, ["backup", str(tmp_path / "b")])
    assert result.exit_code == 1 and "exists and is not empty" in result.stderr


def damage_missing_blob(backup: Path) -> str:
    victim = next(p for p in (backup / "blobs").rglob("*") if p.is_file())
    victim.unlink()
    return f"the backup lacks the stored file {victim.name}"


def damage_truncated_dump(backup: Path) -> str:
    dump = next(backup.glob("database.*"))
    data = dump.read_bytes()
    dump.write_bytes(data[: len(data) // 2])
    return "the database dump is damaged or truncated"


def damage_flipped_blob(backup: Path) -> str:
    victim = next(p for p in (backup / "blobs").rglob("*") if p.is_file())
    victim.chmod(0o640)
    data = bytearray(victim.read_bytes())
    data[0] ^= 1
    victim.write_bytes(bytes(data))
    return f"the backup's copy of the stored file {victim.name} is damaged"


def damage_unfinished(backup: Path) -> str:
    (backup / "manifest.json").unlink()
    return "is not a finished backup (no manifest.json)"


def damage_edited_file_list(backup: Path) -> str:
    listing = backup / "files.jsonl"
    listing.write_text(listing.read_text().splitlines()[0] + "\n")
    return "the file list files.jsonl is missing or damaged"


@pytest.mark.parametrize("damage", [damage_missing_blob, damage_truncated_dump,
                                    damage_flipped_blob, damage_unfinished,
                                    damage_edited_file_list])
def test_a_damaged_or_partial_backup_is_refused_and_changes_nothing(
        app, users, collection, samples, tmp_path, damage):
    populate(app, collection, samples)
    backup = tmp_path / "backup"
    assert app.test_cli_runner().invoke(cli, ["backup", str(backup)]).exit_code == 0
    message = damage(backup)
    app = wipe(app)
    before = empty_state(app)

    result = app.test_cli_runner().invoke(cli, ["restore", str(backup)])
    assert result.exit_code == 1
    assert message in result.stderr
    assert "The database was not changed." in result.stderr
    assert instance_state(app) == before
    assert storage_tools.stored_names(get_storage(app)) == []


def test_a_listed_backup_needs_its_objects_in_the_store(app, users, collection, samples,
                                                        tmp_path, s3_settings, moto_s3):
    app.config.update(s3_settings)
    populate(app, collection, samples)
    backup = tmp_path / "backup"
    assert app.test_cli_runner().invoke(cli, ["backup", str(backup)]).exit_code == 0
    app = wipe(app, new_bucket=storage_tools.new_bucket(moto_s3)["STORAGE"])  # bucket lost
    before = empty_state(app)
    result = app.test_cli_runner().invoke(cli, ["restore", str(backup)])
    assert result.exit_code == 1
    assert "file(s) listed in the backup are not in S3Storage(" in result.stderr
    assert instance_state(app) == before
