"""accounts: controlled lists (ranks, positions, target groups) and people's attributes

Revision ID: 0006_accounts_people
Revises: 0005_ingest

``users.rank`` (free text) becomes ``users.rank_id`` into the list of ranks; a rank typed
before that is not in the seeded list is added to it, so nothing is lost.
"""
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

import lms.db

from lms.accounts.seeds import seed_rows


revision = '0006_accounts_people'
down_revision = '0005_ingest'
branch_labels = None
depends_on = None

def _slug(text):
    text = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:56] or "rank"


def upgrade():
    terms = op.create_table('person_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_terms')),
    sa.UniqueConstraint('kind', 'code', name='kind_code')
    )
    op.bulk_insert(terms, seed_rows())

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('rank_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('position_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('target_group_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cohort', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('class_name', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('cohort_year', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_cohort'), ['cohort'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_position_id'), ['position_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_rank_id'), ['rank_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_target_group_id'), ['target_group_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_person_code'), ['person_code'])
        batch_op.create_foreign_key(batch_op.f('fk_users_rank_id_person_terms'), 'person_terms', ['rank_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_users_position_id_person_terms'), 'person_terms', ['position_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_users_target_group_id_person_terms'), 'person_terms', ['target_group_id'], ['id'])

    _carry_over_ranks()

    op.create_table('people_import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.db.TZDateTime(timezone=True), nullable=False),
    sa.Column('user_ids', sa.JSON(), nullable=False),
    sa.Column('passwords_issued_at', lms.db.TZDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_people_import_batches_created_by_id_users')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_people_import_batches_job_id_jobs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people_import_batches'))
    )
    with op.batch_alter_table('people_import_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_people_import_batches_job_id'), ['job_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('rank')


def _carry_over_ranks():
    bind = op.get_bind()
    ranks = {name.lower(): term_id for term_id, name in bind.execute(sa.text(
        "SELECT id, name FROM person_terms WHERE kind = 'rank'"))}
    codes = {code for (code,) in bind.execute(sa.text(
        "SELECT code FROM person_terms WHERE kind = 'rank'"))}
    typed = bind.execute(sa.text(
        "SELECT id, rank FROM users WHERE rank IS NOT NULL AND rank <> ''")).all()
    for user_id, rank in typed:
        name = unicodedata.normalize("NFC", rank).strip()[:120]
        if name.lower() not in ranks:
            code = base = _slug(name)
            n = 2
            while code in codes:
                code, n = f"{base}-{n}", n + 1
            codes.add(code)
            bind.execute(sa.text(
                "INSERT INTO person_terms (kind, code, name, name_en, sort_order, active) "
                "VALUES ('rank', :code, :name, '', 1000, :active)"),
                {"code": code, "name": name, "active": True})
            ranks[name.lower()] = bind.execute(sa.text(
                "SELECT id FROM person_terms WHERE kind = 'rank' AND code = :code"),
                {"code": code}).scalar_one()
        bind.execute(sa.text("UPDATE users SET rank_id = :rank WHERE id = :id"),
                     {"rank": ranks[name.lower()], "id": user_id})


def downgrade():
    with op.batch_alter_table('people_import_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_import_batches_job_id'))
    op.drop_table('people_import_batches')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rank', sa.String(length=64), nullable=True))
    op.execute("UPDATE users SET rank = (SELECT name FROM person_terms "
               "WHERE person_terms.id = users.rank_id)")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_target_group_id_person_terms'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_users_position_id_person_terms'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_users_rank_id_person_terms'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_users_person_code'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_users_target_group_id'))
        batch_op.drop_index(batch_op.f('ix_users_rank_id'))
        batch_op.drop_index(batch_op.f('ix_users_position_id'))
        batch_op.drop_index(batch_op.f('ix_users_cohort'))
        batch_op.drop_column('cohort_year')
        batch_op.drop_column('class_name')
        batch_op.drop_column('cohort')
        batch_op.drop_column('target_group_id')
        batch_op.drop_column('position_id')
        batch_op.drop_column('rank_id')
        batch_op.drop_column('person_code')
    op.drop_table('person_terms')
