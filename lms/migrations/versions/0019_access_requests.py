"""access requests: a depositor's widening of a published record's access waits for a curator

Revision ID: 0019_access_requests
Revises: 0018_user_sessions
"""
import sqlalchemy as sa
from alembic import op

import lms.db

revision = '0019_access_requests'
down_revision = '0018_user_sessions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'access_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', lms.db.TZDateTime(timezone=True), nullable=False),
        sa.Column('before', sa.JSON(), nullable=False),
        sa.Column('requested', sa.JSON(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', lms.db.TZDateTime(timezone=True), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_access_requests_decided_by_id_users')),
        sa.ForeignKeyConstraint(['file_id'], ['record_files.id'],
                                name=op.f('fk_access_requests_file_id_record_files'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['record_id'], ['records.id'],
                                name=op.f('fk_access_requests_record_id_records'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_access_requests_requested_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_requests')),
    )
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_requests_file_id'), ['file_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_access_requests_record_id'), ['record_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_access_requests_status'), ['status'],
                              unique=False)


def downgrade():
    op.drop_table('access_requests')
