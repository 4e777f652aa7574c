"""The migrations are the only way a schema is made: from empty, and matching the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from lms.accounts.models import Role, RoleName
from lms.extensions import db
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
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS lms_migration_test"))
            connection.execute(text("CREATE DATABASE lms_migration_test"))
        admin.dispose()
        app = make_app(url.set(database="lms_migration_test").render_as_string(False),
                       tmp_path / "data")
    else:
        app = make_app(f"sqlite:///{tmp_path / 'empty.sqlite'}", tmp_path / "data")
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
