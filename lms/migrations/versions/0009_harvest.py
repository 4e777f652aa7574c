"""harvest: OAI-PMH sources this repository harvests, their runs and records

Revision ID: 0009_harvest
Revises: 0008_oai_library_formats

"""
import sqlalchemy as sa
from alembic import op

import lms.db


# revision identifiers, used by Alembic.
revision = '0009_harvest'
down_revision = '0008_oai_library_formats'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('harvest_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('metadata_prefix', sa.String(length=16), nullable=False),
    sa.Column('set_specs', sa.Text(), nullable=False),
    sa.Column('collection_id', sa.Integer(), nullable=False),
    sa.Column('access_level', sa.String(length=16), nullable=False),
    sa.Column('schedule', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.db.TZDateTime(timezone=True), nullable=False),
    sa.Column('harvested_until', lms.db.TZDateTime(timezone=True), nullable=True),
    sa.Column('granularity', sa.String(length=32), nullable=False),
    sa.Column('resume_set', sa.Integer(), nullable=False),
    sa.Column('resume_token', sa.Text(), nullable=True),
    sa.Column('resume_started', lms.db.TZDateTime(timezone=True), nullable=True),
    sa.Column('running_since', lms.db.TZDateTime(timezone=True), nullable=True),
    sa.Column('last_run_at', lms.db.TZDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], name=op.f('fk_harvest_sources_collection_id_collections')),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'], name=op.f('fk_harvest_sources_registered_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_harvest_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_harvest_sources_name'))
    )
    with op.batch_alter_table('harvest_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_harvest_sources_collection_id'), ['collection_id'], unique=False)

    op.create_table('harvest_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('started_at', lms.db.TZDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', lms.db.TZDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('from_date', sa.String(length=32), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['harvest_sources.id'], name=op.f('fk_harvest_runs_source_id_harvest_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_harvest_runs'))
    )
    with op.batch_alter_table('harvest_runs', schema=None) as batch_op:
        batch_op.create_index('ix_harvest_runs_source_started', ['source_id', 'started_at'], unique=False)

    op.create_table('harvested_records',
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('oai_identifier', sa.String(length=500), nullable=False),
    sa.Column('datestamp', sa.String(length=32), nullable=False),
    sa.Column('original_url', sa.String(length=2000), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('updated_at', lms.db.TZDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_harvested_records_record_id_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['harvest_sources.id'], name=op.f('fk_harvested_records_source_id_harvest_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_harvested_records')),
    sa.UniqueConstraint('source_id', 'oai_identifier', name=op.f('uq_harvested_records_source_id'))
    )
    with op.batch_alter_table('harvested_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_harvested_records_source_id'), ['source_id'], unique=False)


def downgrade():
    with op.batch_alter_table('harvested_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_harvested_records_source_id'))
    op.drop_table('harvested_records')
    with op.batch_alter_table('harvest_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_harvest_runs_source_started')
    op.drop_table('harvest_runs')
    with op.batch_alter_table('harvest_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_harvest_sources_collection_id'))
    op.drop_table('harvest_sources')
