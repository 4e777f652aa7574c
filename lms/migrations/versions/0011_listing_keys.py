"""listing keys of published versions: title, first creator, issued date, type

Revision ID: 0011_listing_keys
Revises: 0010_search_postgres
Create Date: 2026-12-05 09:00:00

Collection pages sort records by title, creator, issued date or type in the database; each
published version keeps those keys (lms.catalog.sortkeys). Existing versions get theirs here.
"""
import sqlalchemy as sa
from alembic import op

from lms.catalog.sortkeys import version_keys

# revision identifiers, used by Alembic.
revision = "0011_listing_keys"
down_revision = "0010_search_postgres"
branch_labels = None
depends_on = None

SORT_KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
ISSUED = sa.String(32).with_variant(sa.String(32, collation="C"), "postgresql")


def upgrade():
    # Plain ADD/DROP COLUMN, SQLite included (>= 3.35): a batch "move and copy" would drop
    # record_versions, which record_version_files references with ON DELETE CASCADE.
    op.add_column("record_versions", sa.Column("sort_title", SORT_KEY, server_default="",
                                               nullable=False))
    op.add_column("record_versions", sa.Column("sort_creator", SORT_KEY, server_default="",
                                               nullable=False))
    op.add_column("record_versions", sa.Column("issued", ISSUED, nullable=True))
    op.add_column("record_versions", sa.Column("type", sa.String(32), nullable=True))

    versions = sa.table("record_versions", sa.column("id", sa.Integer),
                        sa.column("title", sa.String), sa.column("statements", sa.JSON),
                        sa.column("sort_title", sa.Text), sa.column("sort_creator", sa.Text),
                        sa.column("issued", sa.String), sa.column("type", sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(versions.c.id, versions.c.title, versions.c.statements))
    for version_id, title, statements in rows.all():
        keys = version_keys(title or "", statements or [])
        connection.execute(versions.update().where(versions.c.id == version_id).values(
            sort_title=keys.sort_title, sort_creator=keys.sort_creator, issued=keys.issued,
            type=keys.type))


def downgrade():
    for column in ("type", "issued", "sort_creator", "sort_title"):
        op.drop_column("record_versions", column)
