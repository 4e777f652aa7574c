"""search on PostgreSQL: the tables of LMS_SEARCH_BACKEND=postgres

Revision ID: 0010_search_postgres
Revises: 0009_harvest
Create Date: 2026-12-02 10:00:00

Only on PostgreSQL (a no-op on SQLite, where that backend cannot run). The tables belong to
the search backend (lms/search/postgres/schema.py), not to the app's models: `lms reindex`
fills them.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0010_search_postgres'
down_revision = '0009_harvest'
branch_labels = None
depends_on = None


def _on_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _on_postgres():
        return
    op.create_table(
        'search_state',
        sa.Column('id', sa.SmallInteger(), nullable=False),
        sa.Column('live_generation', sa.Integer(), server_default='0', nullable=False),
        sa.Column('building_generation', sa.Integer(), nullable=True),
        sa.Column('analyzer_version', sa.Text(), nullable=True),
        sa.Column('schema_version', sa.Text(), nullable=True),
        sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('id = 1', name='ck_search_state_one_row'),
        sa.PrimaryKeyConstraint('id', name='pk_search_state'),
    )
    op.create_table(
        'search_documents',
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.BigInteger(), nullable=False),
        sa.Column('removed', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('principals', postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column('fkeys', postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column('all_f', postgresql.TSVECTOR(), nullable=False),
        sa.Column('all_a', postgresql.TSVECTOR(), nullable=False),
        sa.Column('meta_f', postgresql.TSVECTOR(), nullable=False),
        sa.Column('published', sa.Float(), nullable=False),
        sa.Column('downloads', sa.BigInteger(), nullable=False),
        sa.Column('title_key', sa.Text(collation='C'), nullable=False),
        sa.Column('external_id', sa.Text(), nullable=True),
        sa.Column('titles', postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column('subjects', postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('generation', 'record_id', name='pk_search_documents'),
    )
    for column in ('all_f', 'meta_f', 'principals', 'fkeys'):
        op.create_index(f'ix_search_documents_{column}', 'search_documents', [column],
                        postgresql_using='gin')


def downgrade():
    if not _on_postgres():
        return
    op.drop_table('search_documents')
    op.drop_table('search_state')
