"""Alembic environment, run through Flask-Migrate (``lms db upgrade``)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

# Every model module, so that autogenerate sees the whole schema.
import lms.accounts.models
import lms.api.models
import lms.auth.models
import lms.catalog.models
import lms.certificates.models
import lms.changelog.models
import lms.files.models
import lms.harvest.models
import lms.models
import lms.notify.models
import lms.oai.models
import lms.quizzes.models
import lms.reports.models
import lms.training.models  # noqa: F401
from lms.search.postgres.schema import TABLES as SEARCH_TABLES

config = context.config
if config.config_file_name and not current_app.testing:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
target_metadata = db.metadata


def include_name(name, type_, parent_names) -> bool:
    """The PostgreSQL search backend's tables are its own (made by a migration, not models)."""
    return not (type_ == "table" and name in SEARCH_TABLES)


def run_migrations_offline() -> None:
    context.configure(
        url=db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        include_name=include_name,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch ALTER copies the table, drops the old one and renames the copy. With
            # foreign keys enforced (lms.db turns them on), dropping "users" would cascade to
            # user_roles, collection_curators... and delete them. Off for the migration (it
            # cannot change inside a transaction), then checked and on again.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end SQLAlchemy's autobegun transaction: Alembic opens its own
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_name=include_name,
            process_revision_directives=skip_empty,
            render_as_batch=True,  # SQLite can only ALTER by copying the table
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
