"""The migrations are the only way a schema is made: from empty, and matching the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

import lms
from lms.accounts.models import Role, RoleName
from lms.extensions import db
from lms.schema import migration_heads, use_migrations
from lms.search.postgres import schema as search_schema
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, make_app


@pytest.fixture
def empty_app(tmp_path, monkeypatch, migrated_database):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    if ON_POSTGRES:
        # A database of its own, so the shared test database keeps its schema.
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        url = make_url(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://"))
        # Named after the test database: two checkouts sharing a server must not collide.
        scratch = f"{url.database}_migration_test"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
            connection.execute(text(f'CREATE DATABASE "{scratch}"'))
        admin.dispose()
        app = make_app(url.set(database=scratch).render_as_string(False),
                       tmp_path / "data")
    else:
        app = make_app(f"sqlite:///{tmp_path / 'empty.sqlite'}", tmp_path / "data")
    use_migrations(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_upgrade_from_empty_matches_the_models_and_seeds_roles(empty_app):
    with empty_app.app_context():
        assert inspect(db.engine).get_table_names() == []
        upgrade()
        def compared(search_tables: bool) -> dict:
            """Options comparing either the app's tables or the search backend's."""
            def include_name(name, type_, parent_names):
                return type_ != "table" or (name in search_schema.TABLES) == search_tables
            return {"include_name": include_name}

        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=compared(search_tables=False))
            diff = compare_metadata(context, db.metadata)
            assert diff == [], f"models and migrations disagree: {diff}"
            tables = set(inspect(connection).get_table_names())
            if ON_POSTGRES:  # the search backend's tables, made only on PostgreSQL
                context = MigrationContext.configure(connection, opts=compared(search_tables=True))
                diff = compare_metadata(context, search_schema.metadata)
                assert diff == [], f"search tables and migrations disagree: {diff}"
            else:
                assert not tables & set(search_schema.TABLES)
        names = set(db.session.scalars(select(Role.name)))
        assert names == {str(r) for r in RoleName}


def test_downgrade_to_base_and_up_again(empty_app):
    with empty_app.app_context():
        upgrade()
        db.session.remove()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "users" in inspect(db.engine).get_table_names()


def test_later_migrations_keep_the_rows_of_referenced_tables(empty_app):
    """0011 and 0013 add columns to record_versions and collections, which other tables
    reference with ON DELETE CASCADE: a "move and copy" of either table would empty its
    dependents. Up to head and back down, every row stays, and the versions get their keys."""
    from sqlalchemy import func, table, text

    rows = {  # table: one row, in the schema of 0005 (bound values: dates and the blob key)
        "users": "INSERT INTO users (id, username, full_name, password_hash, active, "
                 "must_change_password, session_version, is_demo, created_at) VALUES "
                 "(1, 'thuthu', 'Thư', 'x', true, false, 1, false, :now)",
        "collections": "INSERT INTO collections (id, slug, title, title_en, description, "
                       "default_access, workflow_steps, created_at) VALUES "
                       "(1, 'khoa-hau-can', 'Khoa', '', '', 'public', 2, :now)",
        "collection_curators": "INSERT INTO collection_curators VALUES (1, 1)",
        "records": "INSERT INTO records (id, collection_id, status, title, metadata_incomplete, "
                   "access_level, embargo_reason, discoverable, current_version, lock_version, "
                   "ever_public, created_at, updated_at, withdrawal_reason) VALUES "
                   "(1, 1, 'published', 'Đại cương', false, 'public', '', true, 1, 1, true, "
                   ":now, :now, '')",
        "record_versions": "INSERT INTO record_versions (id, record_id, number, title, "
                           "statements, published_at) VALUES (1, 1, 1, 'Đại cương', "
                           "'[[\"creator\", \"Lê Văn B\", null, null], "
                           "[\"issued\", \"2024-05\", null, null]]', :now)",
        "blobs": "INSERT INTO blobs (key, size, created_at) VALUES (:key, 1, :now)",
        "record_files": "INSERT INTO record_files (id, record_id, position, name, blob_key, "
                        "size, media_type, claimed_type, sniff_mismatch, created_at, "
                        "thumbnail_status, thumbnail_message) VALUES (1, 1, 0, 'a.pdf', "
                        ":key, 1, 'application/pdf', '', false, :now, 'none', '')",
        "record_version_files": "INSERT INTO record_version_files (version_id, file_id, "
                                "position) VALUES (1, 1, 0)",
    }
    values = {"now": "2025-01-01 00:00:00", "key": "a" * 64}

    def counts() -> dict[str, int]:
        with db.engine.connect() as connection:
            return {name: connection.execute(select(func.count()).select_from(table(name)))
                    .scalar_one() for name in rows}

    with empty_app.app_context():
        upgrade(revision="0005_ingest")
        with db.engine.begin() as connection:
            for statement in rows.values():
                connection.execute(text(statement), values)
        before = counts()
        assert set(before.values()) == {1}
        upgrade()
        assert counts() == before
        with db.engine.connect() as connection:
            keys = connection.execute(text(
                "SELECT issued, sort_creator <> '' FROM record_versions")).one()
        assert tuple(keys) == ("2024-05", True)
        downgrade(revision="0005_ingest")
        assert counts() == before
        upgrade()
        assert counts() == before


def test_revision_ids_fit_alembic_version_and_form_one_chain():
    """Alembic's ``alembic_version.version_num`` is VARCHAR(32): a longer id fails the upgrade
    on PostgreSQL (SQLite does not check lengths)."""
    from pathlib import Path

    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(Path(__file__).resolve().parents[2] / "lms" / "migrations"))
    revisions = list(scripts.walk_revisions())
    assert [r.revision for r in revisions if len(r.revision) > 32] == []
    assert len(scripts.get_heads()) == 1


def test_the_schema_check_finds_the_heads_alembic_finds():
    """``lms`` commands check the schema without Alembic: the heads they read from the
    revision files are Alembic's own."""
    script = ScriptDirectory(str(Path(lms.__file__).parent / "migrations"))
    assert migration_heads() == set(script.get_heads())


def test_a_branch_of_revisions_has_two_heads_until_a_merge(tmp_path):
    (tmp_path / "a.py").write_text("revision = 'a'\ndown_revision = None\n")
    (tmp_path / "b.py").write_text("revision: str = 'b'\ndown_revision = 'a'\n")
    (tmp_path / "c.py").write_text("revision = 'c'\ndown_revision = 'a'\n")
    assert migration_heads(tmp_path) == {"b", "c"}
    (tmp_path / "d.py").write_text("revision = 'd'\ndown_revision = ('b', 'c')\n")
    assert migration_heads(tmp_path) == {"d"}
