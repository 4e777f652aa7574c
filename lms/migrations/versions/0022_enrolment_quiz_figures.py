"""enrolments keep their quiz figures (grades in the course's quizzes, summed) for the
reports, measured by bench/report_bench.py

Revision ID: 0022_enrolment_quiz_figures
Revises: 0021_report_covering_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = '0022_enrolment_quiz_figures'
down_revision = '0021_report_covering_indexes'
branch_labels = None
depends_on = None

REPORT = ['unit_id', 'required', 'course_id', 'track_id', 'status', 'due_at', 'enrolled_at',
          'completed_at']
FIGURES = ['quiz_graded', 'quiz_passed', 'quiz_percent']
# Each figure sums the person's grades in the quizzes of the course's current lessons.
BACKFILL = """
UPDATE enrolments SET
  quiz_graded = (SELECT count(g.id) FROM lessons l JOIN quiz_grades g
                   ON g.quiz_id = l.quiz_id AND g.user_id = enrolments.user_id
                 WHERE l.course_id = enrolments.course_id AND l.quiz_id IS NOT NULL
                   AND l.removed_at IS NULL),
  quiz_passed = (SELECT coalesce(sum(CASE WHEN g.passed THEN 1 ELSE 0 END), 0)
                 FROM lessons l JOIN quiz_grades g
                   ON g.quiz_id = l.quiz_id AND g.user_id = enrolments.user_id
                 WHERE l.course_id = enrolments.course_id AND l.quiz_id IS NOT NULL
                   AND l.removed_at IS NULL),
  quiz_percent = (SELECT coalesce(sum(g.percent), 0) FROM lessons l JOIN quiz_grades g
                    ON g.quiz_id = l.quiz_id AND g.user_id = enrolments.user_id
                  WHERE l.course_id = enrolments.course_id AND l.quiz_id IS NOT NULL
                    AND l.removed_at IS NULL)
WHERE course_id IS NOT NULL AND EXISTS (
  SELECT 1 FROM lessons l JOIN quiz_grades g
    ON g.quiz_id = l.quiz_id AND g.user_id = enrolments.user_id
  WHERE l.course_id = enrolments.course_id AND l.quiz_id IS NOT NULL)
"""


def upgrade():
    op.add_column('enrolments', sa.Column('quiz_graded', sa.Integer(), nullable=False,
                                          server_default='0'))
    op.add_column('enrolments', sa.Column('quiz_passed', sa.Integer(), nullable=False,
                                          server_default='0'))
    op.add_column('enrolments', sa.Column('quiz_percent', sa.Float(), nullable=False,
                                          server_default='0'))
    op.execute(BACKFILL)
    # The report sums them per unit from its index alone.
    op.drop_index('ix_enrolments_report', table_name='enrolments')
    op.create_index('ix_enrolments_report', 'enrolments', [*REPORT, *FIGURES])


def downgrade():
    op.drop_index('ix_enrolments_report', table_name='enrolments')
    op.create_index('ix_enrolments_report', 'enrolments', REPORT)
    with op.batch_alter_table('enrolments') as batch:
        for column in reversed(FIGURES):
            batch.drop_column(column)
