"""change log: a row per change that search and OAI-PMH mirror, and what each mirror applied

Revision ID: 0016_change_log
Revises: 0015_certificates_reports

Mirrors that were out of step before this revision are found and repaired by
`lms check --repair` (the worker also runs it daily). On PostgreSQL, the search tables of
LMS_SEARCH_BACKEND=postgres get a digest column (what `lms check` compares); the backend's
schema version changes with it, so its index is rebuilt.
"""
import sqlalchemy as sa
from alembic import op

import lms.db


# revision identifiers, used by Alembic.
revision = '0016_change_log'
down_revision = '0015_certificates_reports'
branch_labels = None
depends_on = None

CHANGE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _on_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if _on_postgres():
        op.add_column('search_documents', sa.Column('digest', sa.Text(), nullable=True))
    op.create_table('change_log',
    sa.Column('id', CHANGE_ID, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('created_at', lms.db.TZDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_log'))
    )
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.create_index('ix_change_log_kind_target', ['kind', 'target_id'], unique=False)

    op.create_table('change_log_applied',
    sa.Column('change_id', CHANGE_ID, nullable=False),
    sa.Column('mirror', sa.String(length=32), nullable=False),
    sa.Column('applied_at', lms.db.TZDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['change_id'], ['change_log.id'], name=op.f('fk_change_log_applied_change_id_change_log'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('change_id', 'mirror', name=op.f('pk_change_log_applied'))
    )


def downgrade():
    op.drop_table('change_log_applied')
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.drop_index('ix_change_log_kind_target')

    op.drop_table('change_log')
    if _on_postgres():
        op.drop_column('search_documents', 'digest')
