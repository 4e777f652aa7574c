"""user sessions: one row per login, deleted at logout

Revision ID: 0018_user_sessions
Revises: 0017_job_heartbeat

Sessions opened before this revision carried "<user id>:<session version>" and are no longer
accepted: everyone logs in once more.
"""
import sqlalchemy as sa
from alembic import op

import lms.db

revision = '0018_user_sessions'
down_revision = '0017_job_heartbeat'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('user_version', sa.Integer(), nullable=False),
        sa.Column('created_at', lms.db.TZDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', lms.db.TZDateTime(timezone=True), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash')),
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_sessions_expires_at'), ['expires_at'],
                              unique=False)


def downgrade():
    op.drop_table('user_sessions')
