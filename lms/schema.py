"""Whether the database holds the schema this version of the application expects."""

from __future__ import annotations

import enum
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import OperationalError

from lms.extensions import db

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaState(enum.Enum):
    CURRENT = "current"
    MISSING = "missing"  # no table yet: `lms db upgrade` was never run
    OUTDATED = "outdated"  # migrations of this version are not applied yet
    UNREACHABLE = "unreachable"


def schema_state() -> SchemaState:
    """Compare the database's Alembic revisions with this code's migration heads (in an app
    context)."""
    heads = set(ScriptDirectory(str(MIGRATIONS)).get_heads())
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except OperationalError:
        return SchemaState.UNREACHABLE
    if not current:
        return SchemaState.MISSING
    return SchemaState.CURRENT if current == heads else SchemaState.OUTDATED
