"""Whether the database holds the schema this version of the application expects, and the
way to bring it there.

Alembic and Flask-Migrate (about 11 MB of every process that imports them) are loaded only by
what migrates: ``lms db …``, :func:`upgrade`. The check every other ``lms`` command makes
first reads the revision files' own assignments and the ``alembic_version`` table.
"""

from __future__ import annotations

import ast
import enum
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError

from lms.extensions import db

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


class SchemaState(enum.Enum):
    CURRENT = "current"
    MISSING = "missing"  # no table yet: `lms db upgrade` was never run
    OUTDATED = "outdated"  # migrations of this version are not applied yet
    UNREACHABLE = "unreachable"


def schema_state() -> SchemaState:
    """Compare the database's Alembic revisions with this code's migration heads (in an app
    context)."""
    try:
        with db.engine.connect() as connection:
            current = set()
            if inspect(connection).has_table(VERSION_TABLE):
                current = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
    except OperationalError:
        return SchemaState.UNREACHABLE
    if not current:
        return SchemaState.MISSING
    return SchemaState.CURRENT if current == migration_heads() else SchemaState.OUTDATED


def migration_heads(versions: Path = MIGRATIONS / "versions") -> set[str]:
    """The revisions no other revision builds on, read from each revision file's module-level
    ``revision`` and ``down_revision`` (what Alembic's script directory reads, without
    importing Alembic and every migration)."""
    revisions: set[str] = set()
    built_on: set[str] = set()
    for path in versions.glob("*.py"):
        assigned = _assignments(path)
        if "revision" not in assigned:
            continue
        revisions.add(assigned["revision"])
        down = assigned.get("down_revision")
        built_on.update([down] if isinstance(down, str) else down or ())
    return revisions - built_on


def _assignments(path: Path) -> dict:
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            found[target.id] = ast.literal_eval(node.value)
    return found


def use_migrations(app: Flask) -> None:
    """Give ``app`` Flask-Migrate's settings, which ``lms db …`` and :func:`upgrade` need."""
    from flask_migrate import Migrate

    if "migrate" not in app.extensions:
        Migrate(app, db, directory=str(MIGRATIONS))


def upgrade(revision: str = "head") -> None:
    """Apply this code's migrations up to ``revision`` (in an app context)."""
    from flask_migrate import upgrade as upgrade_to

    use_migrations(current_app._get_current_object())  # type: ignore[attr-defined]
    upgrade_to(revision=revision)
