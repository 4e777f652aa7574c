"""collections: may one curator take every review step (single_reviewer)

Revision ID: 0013_single_reviewer
Revises: 0012_usage_statistics
Create Date: 2026-12-05 11:00:00

Existing collections get the default: a two-step workflow needs two different curators.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013_single_reviewer"
down_revision = "0012_usage_statistics"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN with a constant default, on SQLite too: a batch "move and copy" of
    # collections would drop a table that records, mappings and curators reference.
    op.add_column("collections", sa.Column("single_reviewer", sa.Boolean(),
                                           server_default="0", nullable=False))


def downgrade():
    op.drop_column("collections", "single_reviewer")  # native on SQLite >= 3.35, as above
