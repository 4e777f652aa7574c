"""reports: indexes that answer the unit report from the index alone (chart, certificates,
quiz lessons), measured by bench/report_bench.py

Revision ID: 0021_report_covering_indexes
Revises: 0020_access_tokens
"""
from alembic import op

revision = '0021_report_covering_indexes'
down_revision = '0020_access_tokens'
branch_labels = None
depends_on = None

REPORT = ['unit_id', 'required', 'course_id', 'track_id', 'status', 'due_at', 'enrolled_at']


def upgrade():
    # The chart counts completions over time: with completed_at in the report's index it
    # reads no enrolment row.
    op.drop_index('ix_enrolments_report', table_name='enrolments')
    op.create_index('ix_enrolments_report', 'enrolments', [*REPORT, 'completed_at'])
    # Certificates per unit, by item, not revoked, in a period, for an audience's people.
    op.drop_index('ix_certificates_unit_issued', table_name='certificates')
    op.create_index('ix_certificates_report', 'certificates',
                    ['unit_id', 'revoked_at', 'course_id', 'track_id', 'issued_at', 'user_id'])
    # The quizzes of a course, read once per enrolment by the quiz figures.
    op.create_index('ix_lessons_course_quiz', 'lessons', ['course_id', 'quiz_id', 'removed_at'])


def downgrade():
    op.drop_index('ix_lessons_course_quiz', table_name='lessons')
    op.drop_index('ix_certificates_report', table_name='certificates')
    op.create_index('ix_certificates_unit_issued', 'certificates', ['unit_id', 'issued_at'])
    op.drop_index('ix_enrolments_report', table_name='enrolments')
    op.create_index('ix_enrolments_report', 'enrolments', REPORT)
