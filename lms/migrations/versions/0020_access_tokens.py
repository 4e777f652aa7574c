"""personal access tokens for the records API

Revision ID: 0020_access_tokens
Revises: 0019_access_requests
"""
import sqlalchemy as sa
from alembic import op

import lms.db

revision = '0020_access_tokens'
down_revision = '0019_access_requests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'personal_access_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('scope', sa.String(length=8), nullable=False),
        sa.Column('created_at', lms.db.TZDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', lms.db.TZDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', lms.db.TZDateTime(timezone=True), nullable=True),
        sa.Column('last_used_ip', sa.String(length=64), nullable=True),
        sa.Column('revoked_at', lms.db.TZDateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_personal_access_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'],
                                name=op.f('fk_personal_access_tokens_revoked_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_access_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_personal_access_tokens_token_hash')),
    )
    with op.batch_alter_table('personal_access_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personal_access_tokens_user_id'), ['user_id'],
                              unique=False)


def downgrade():
    op.drop_table('personal_access_tokens')
