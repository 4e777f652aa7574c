"""oai: marcxml and mods renderings in the projection

Existing items get empty renderings; the provider renders an empty one on the fly until
`lms oai rebuild` (or the record's next change) stores it, so nothing waits for a rebuild.

Revision ID: 0008_oai_library_formats
Revises: 0007_training

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008_oai_library_formats'
down_revision = '0007_training'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('oai_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('marcxml', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('mods', sa.Text(), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('oai_items', schema=None) as batch_op:
        batch_op.drop_column('mods')
        batch_op.drop_column('marcxml')
