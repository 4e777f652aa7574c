"""The migrations are the only way a schema is made: from empty, and matching the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from lms.accounts.models import Role, RoleName
from lms.extensions import db
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
    yield app
    with app.app_context():
        db.engine.dispose()


def test_upgrade_from_empty_matches_the_models_and_seeds_roles(empty_app):
    with empty_app.app_context():
        assert inspect(db.engine).get_table_names() == []
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
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
