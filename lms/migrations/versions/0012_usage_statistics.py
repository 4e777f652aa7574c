"""usage statistics: record page views, the visitor of each download

Revision ID: 0012_usage_statistics
Revises: 0011_listing_keys
Create Date: 2026-12-05 10:00:00

Downloads counted before this revision have no visitor: each counts on its own.
"""
import sqlalchemy as sa
from alembic import op

import lms.db

# revision identifiers, used by Alembic.
revision = "0012_usage_statistics"
down_revision = "0011_listing_keys"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "record_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("visitor", sa.String(length=32), nullable=False),
        sa.Column("at", lms.db.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"],
                                name=op.f("fk_record_views_record_id_records"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_views")),
    )
    with op.batch_alter_table("record_views", schema=None) as batch_op:
        batch_op.create_index("ix_record_views_record_at", ["record_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_views_at"), ["at"], unique=False)
    with op.batch_alter_table("download_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visitor", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_download_events_at"), ["at"], unique=False)


def downgrade():
    with op.batch_alter_table("download_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_download_events_at"))
        batch_op.drop_column("visitor")
    with op.batch_alter_table("record_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_views_at"))
        batch_op.drop_index("ix_record_views_record_at")
    op.drop_table("record_views")
