"""jobs survive their worker: worker heartbeats, the worker of each job, resume checkpoints

Revision ID: 0017_job_heartbeat
Revises: 0016_change_log

Jobs left "running" by a worker that died before this revision are marked "interrupted" by
the first worker started after it.
"""
import sqlalchemy as sa
from alembic import op

import lms.db


# revision identifiers, used by Alembic.
revision = '0017_job_heartbeat'
down_revision = '0016_change_log'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('worker_heartbeats',
    sa.Column('worker_id', sa.String(length=100), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', lms.db.TZDateTime(timezone=True), nullable=False),
    sa.Column('beat_at', lms.db.TZDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('worker_id', name=op.f('pk_worker_heartbeats'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('checkpoint', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('checkpoint')
        batch_op.drop_column('worker_id')

    op.drop_table('worker_heartbeats')
