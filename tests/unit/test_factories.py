"""Every factory of tests/factories.py builds rows the database accepts, in the state its
traits name: a real flush (constraints and foreign keys checked), then the row read back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from tests import factories as f


def stored(row):
    """``row`` as the database holds it after a flush (nothing from the session's cache)."""
    db.session.flush()
    mapper = type(row).__mapper__
    key = mapper.primary_key_from_instance(row)
    db.session.expunge_all()
    return db.session.get(type(row), key[0] if len(key) == 1 else tuple(key))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_accounts(app_ctx):
    unit = stored(f.UnitFactory(name="Khoa Hậu cần"))
    user = stored(f.UserFactory(username="hv1", roles=["learner", "trainer"], unit_id=unit.id))
    assert (user.username, user.unit_id, sorted(r.name for r in user.roles)) == (
        "hv1", unit.id, ["learner", "trainer"])
    assert stored(f.GroupFactory(name="Tổ 1")).name == "Tổ 1"
    assert stored(f.PersonTermFactory(kind="position", code="tp")).code == "tp"
    assert stored(f.PeopleImportBatchFactory()).created_by_id is not None
    session = stored(f.UserSessionFactory(expired=True))
    assert session.expires_at < f._now()
    token = stored(f.PersonalAccessTokenFactory(writer=True, revoked=True))
    assert (token.scope, token.revoked_at is not None) == ("write", True)


@pytest.mark.parametrize("trait, status, version, task", [
    ({}, "draft", 0, None),
    ({"submitted": True}, "submitted", 0, "pool"),
    ({"returned": True}, "returned", 0, None),
    ({"published": True}, "published", 1, None),
    ({"withdrawn": True}, "withdrawn", 1, None),
    ({"purged": True}, "purged", 1, None),
])
def test_records_in_every_workflow_state(app_ctx, trait, status, version, task):
    from lms.catalog.models import ReviewTask

    record = stored(f.RecordFactory(title="Giáo trình Xăng dầu", **trait))
    assert (record.status, record.current_version) == (status, version)
    assert record.dc.first("title") == "Giáo trình Xăng dầu"
    assert [v.number for v in record.versions] == list(range(1, version + 1))
    if version:
        assert record.latest_version.dc.first("title") == "Giáo trình Xăng dầu"
    tasks = db.session.scalars(select(ReviewTask.status).where(
        ReviewTask.record_id == record.id)).all()
    assert tasks == ([task] if task else [])


def test_record_access_traits(app_ctx):
    record = stored(f.RecordFactory(published=True, public=True))
    assert (record.access_level, record.ever_public) == ("public", True)
    assert stored(f.RecordFactory(restricted=True)).access_level == "restricted"
    assert stored(f.RecordFactory(embargoed=True)).embargo_until > f._now().date()
    by_role = stored(f.RecordFactory(access_roles=["trainer"]))
    assert (by_role.access_level, list(by_role.access_roles)) == ("role", ["trainer"])
    file = stored(f.RecordFileFactory(access_roles=["curator"]))
    assert (file.access_level, list(file.access_roles)) == ("role", ["curator"])


def test_catalog_rows_around_records(app_ctx):
    curator = f.UserFactory(roles=["curator"])
    collection = stored(f.CollectionFactory(slug="khoa-xang-dau", curators=[curator],
                                            one_step=True))
    assert (collection.slug, collection.workflow_steps,
            [u.id for u in collection.curators]) == ("khoa-xang-dau", 1, [curator.id])
    task = stored(f.ReviewTaskFactory(claimed=True))
    assert (task.status, task.record.status, task.claimed_by_id is not None) == (
        "claimed", "submitted", True)
    assert count(f.ReviewTask) == 1  # the record's own task is not doubled
    event = stored(f.WorkflowEventFactory())
    assert (event.action, event.to_status, event.actor_id) == (
        "submit", "submitted", event.record.owner_id)
    request = stored(f.AccessRequestFactory(rejected=True))
    assert (request.status, request.requested, request.decided_by_id is not None) == (
        "rejected", {"level": "public"}, True)
    assert stored(f.RecordViewFactory()).record_id is not None


def test_files(app_ctx):
    from lms.files.stores import get_storage

    file = stored(f.RecordFileFactory(extracted=True, text="Nội dung bài giảng",
                                      blob__content=b"noi dung"))
    assert (file.text_status, file.extracted_text, file.text_chars) == (
        "ok", "Nội dung bài giảng", 18)
    with get_storage().open(file.blob_key) as stream:
        assert stream.read() == b"noi dung"
    assert db.session.get(f.Blob, file.blob_key).size == 8
    failed = stored(f.RecordFileFactory(failed=True, removed=True))
    assert (failed.text_status, failed.text_problem, failed.removed_at is not None) == (
        "failed", True, True)
    assert stored(f.FileTextFactory(text="x")).text == "x"
    assert stored(f.FixityCheckFactory(mismatch=True)).status == "mismatch"
    download = stored(f.DownloadEventFactory())
    assert download.record_id == db.session.get(f.RecordFile, download.file_id).record_id


def test_training(app_ctx):
    audience = stored(f.AudienceFactory(frozen=True))
    assert audience.state == "frozen"
    assert stored(f.AudienceMemberFactory(ended=True)).ended_at is not None
    course = stored(f.CourseFactory(published=True))
    assert (course.status, [u.id for u in course.owners]) == ("published",
                                                              [course.created_by_id])
    lesson = stored(f.LessonFactory(material=True))
    assert (lesson.kind, lesson.record.status) == ("record", "published")
    assert stored(f.TrackCourseFactory()).track.status == "draft"
    assert stored(f.AssignmentFactory(fixed_due=True)).due_kind == "fixed"
    enrolment = stored(f.EnrolmentFactory(completed=True))
    assert (enrolment.status, enrolment.completed_at is not None) == ("completed", True)
    learner = stored(f.AssignmentLearnerFactory())
    assert db.session.get(f.Enrolment, learner.enrolment_id).user_id == learner.user_id
    progress = stored(f.LessonProgressFactory(completed=True))
    assert progress.state == "completed"
    statement = stored(f.LearningStatementFactory())
    assert (statement.verb, statement.object_type) == ("registered", "course")


def test_quizzes(app_ctx):
    question = stored(f.QuestionFactory())
    versions = db.session.scalars(select(f.QuestionVersion).where(
        f.QuestionVersion.question_id == question.id)).all()
    assert [(v.number, [o["key"] for o in v.options]) for v in versions] == [(1, ["a", "b"])]
    assert question.category.bank_id == question.bank_id
    assert stored(f.QuestionVersionFactory()).number == 2
    assert stored(f.QuestionImageFactory()).media_type == "image/png"
    quiz = stored(f.QuizFactory(published=True, questions=[f.QuestionFactory()]))
    assert (quiz.status, len(quiz.slots)) == ("published", 1)
    assert stored(f.QuizSlotFactory(random=True)).question_id is None
    attempt = stored(f.QuizAttemptFactory(failed=True))
    assert (attempt.state, attempt.passed, attempt.percent) == ("graded", False, 0.0)
    assert stored(f.AttemptQuestionFactory(answered=True)).answer == ["a"]
    grade = stored(f.QuizGradeFactory())
    assert (grade.passed, grade.percent, grade.first_passed_at is not None) == (
        True, 100.0, True)
    assert stored(f.QuizOverrideFactory()).extra_attempts == 1


def test_certificates_notifications_reports(app_ctx):
    certificate = stored(f.CertificateFactory(revoked=True))
    assert (certificate.template.status, certificate.revoked_at is not None,
            certificate.course_id) == ("active", True, certificate.template.course_id)
    assert stored(f.NotificationFactory(read=True)).read_at is not None
    mail = stored(f.OutgoingMailFactory(sent=True))
    assert (mail.status, mail.to_address) == ("sent", mail.user.email)
    assert stored(f.NotificationMuteFactory()).kind == "record_published"
    assert stored(f.ReportTargetFactory()).percent == 90


def test_harvest_oai_changelog_jobs_and_the_rest(app_ctx):
    assert stored(f.HarvestSourceFactory(paused=True)).active is False
    assert stored(f.HarvestRunFactory(finished=True)).status == "succeeded"
    harvested = stored(f.HarvestedRecordFactory(deleted_upstream=True))
    assert harvested.deleted is True
    assert stored(f.OaiItemSetFactory()).set_spec.startswith("col:set-")
    assert stored(f.OaiItemFactory(deleted_item=True)).deleted is True
    assert stored(f.ChangeAppliedFactory()).mirror == "search"
    for trait, status in (({}, "queued"), ({"running": True}, "running"),
                          ({"done": True}, "done"), ({"failed": True}, "failed")):
        assert stored(f.JobFactory(**trait)).status == status
    assert stored(f.WorkerHeartbeatFactory(stale=True)).beat_at < f._now()
    assert stored(f.AuditEventFactory(denied=True)).outcome == "denied"
    assert stored(f.ThrottleCounterFactory()).count == 1
