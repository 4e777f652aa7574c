"""factory_boy factories on the app's session; rows are flushed, tests commit when needed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import factory
from sqlalchemy import select

from lms.accounts.models import Group, PeopleImportBatch, PersonTerm, Role, Unit, User
from lms.api.models import PersonalAccessToken, TokenScope
from lms.auth.models import UserSession
from lms.catalog.models import (
    AccessLevel,
    AccessRequest,
    Collection,
    Record,
    RecordStatus,
    RecordValue,
    RecordVersion,
    ReviewTask,
    TaskStatus,
    WorkflowEvent,
)
from lms.certificates.models import Certificate, CertificateTemplate
from lms.changelog.models import ChangeApplied, ChangeEntry
from lms.extensions import db
from lms.files.models import Blob, DownloadEvent, FileText, FixityCheck, RecordFile, TextStatus
from lms.harvest.models import HarvestedRecord, HarvestRun, HarvestSource
from lms.models import AuditEvent, Job, JobStatus, ThrottleCounter, WorkerHeartbeat
from lms.notify.models import Notification, NotificationMute, OutgoingMail
from lms.oai.models import OaiItem, OaiItemSet
from lms.passwords import hash_password
from lms.quizzes.models import (
    AttemptQuestion,
    AttemptState,
    Question,
    QuestionBank,
    QuestionCategory,
    QuestionImage,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizGrade,
    QuizOverride,
    QuizSlot,
    QuizStatus,
)
from lms.reports.models import ReportTarget
from lms.stats.models import RecordView
from lms.training.models import (
    Assignment,
    AssignmentLearner,
    Audience,
    AudienceMember,
    AudienceState,
    Course,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    LearningStatement,
    Lesson,
    LessonKind,
    LessonProgress,
    LessonState,
    Track,
    TrackCourse,
)

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run


class Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class UnitFactory(Base):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"Đơn vị {n}")
    parent = None


class UserFactory(Base):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"Nguyễn Văn {n}")
    password_hash = _PASSWORD_HASH
    active = True

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        names = extracted if extracted is not None else ["learner"]
        self.roles = list(db.session.scalars(select(Role).where(Role.name.in_(names))))


class GroupFactory(Base):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Nhóm {n}")
    description = ""


# --- repository ----------------------------------------------------------------------------

def statements(title: str = "Giáo trình Hậu cần quân đội", **extra):
    """Deposit-complete metadata with a Vietnamese title."""
    from metadata import Statement

    rows = [
        Statement("title", title, "vi"),
        Statement("creator", "Nguyễn Văn A"),
        Statement("subject", "logistics"),
        Statement("issued", "2025-09-22"),
        Statement("type", "Text"),
        Statement("audience", "cadet-year-1"),
        Statement("rights", "Lưu hành nội bộ", "vi"),
    ]
    for term, value in extra.items():
        rows.append(Statement(term, value))
    return rows


def make_collection(slug: str = "khoa-hau-can", curators=(), steps: int = 2, parent=None,
                    single_reviewer: bool = True):
    """A collection for tests. Its one curator may take both review steps unless
    ``single_reviewer=False`` (the product's default: two different curators)."""
    from lms.catalog.collections import create_collection

    return create_collection(None, slug, f"Bộ sưu tập {slug}", parent=parent,
                             workflow_steps=steps, single_reviewer=single_reviewer,
                             curators=list(curators))


def publish_record(owner, curator, collection, access=None, title="Giáo trình Hậu cần quân đội",
                   **extra):
    """Create, submit and push a record through every review step; returns it published."""
    from lms.catalog import deposit, workflow

    record = deposit.create_draft(owner, collection, statements(title, **extra), access)
    workflow.submit(owner, record, record.lock_version)
    while record.status != "published":
        task = next(t for t in workflow.review_queue(curator).pool if t.record_id == record.id)
        workflow.claim(curator, task.id)
        workflow.accept(curator, task.id)
    return record


# --- factories for every model ---------------------------------------------------------------
#
# Rows in any state without walking the workflow: ``RecordFactory(published=True)``,
# ``RecordFileFactory(extracted=True)``, ``EnrolmentFactory(completed=True)``... Each flushes
# its row (and the rows it needs) on ``db.session``; tests commit when they need to.

def _now() -> datetime:
    return datetime.now(UTC)


def _hex(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


class PersonTermFactory(Base):
    class Meta:
        model = PersonTerm

    kind = "rank"
    code = factory.Sequence(lambda n: f"term-{n}")
    name = factory.Sequence(lambda n: f"Cấp bậc {n}")


class PeopleImportBatchFactory(Base):
    class Meta:
        model = PeopleImportBatch

    created_by_id = factory.LazyAttribute(lambda o: o.creator.id)

    class Params:
        creator = factory.SubFactory(UserFactory, roles=["admin"])


class UserSessionFactory(Base):
    class Meta:
        model = UserSession

    user_id = factory.LazyAttribute(lambda o: o.user.id)
    token_hash = factory.Sequence(_hex)
    user_version = factory.SelfAttribute("user.session_version")
    expires_at = factory.LazyFunction(lambda: _now() + timedelta(hours=8))

    class Params:
        user = factory.SubFactory(UserFactory)
        expired = factory.Trait(expires_at=factory.LazyFunction(
            lambda: _now() - timedelta(minutes=1)))


class PersonalAccessTokenFactory(Base):
    class Meta:
        model = PersonalAccessToken

    user = factory.SubFactory(UserFactory, roles=["instructor"])
    name = factory.Sequence(lambda n: f"Mã truy cập {n}")
    token_hash = factory.Sequence(_hex)
    prefix = factory.LazyFunction(lambda: secrets.token_hex(4))
    scope = TokenScope.READ
    expires_at = factory.LazyFunction(lambda: _now() + timedelta(days=30))

    class Params:
        writer = factory.Trait(scope=TokenScope.WRITE)
        revoked = factory.Trait(revoked_at=factory.LazyFunction(_now))
        expired = factory.Trait(expires_at=factory.LazyFunction(
            lambda: _now() - timedelta(days=1)))


class CollectionFactory(Base):
    """A collection; ``curators=[...]`` names who reviews it (its only curator may take both
    steps unless ``single_reviewer=False``)."""

    class Meta:
        model = Collection

    slug = factory.Sequence(lambda n: f"bo-suu-tap-{n}")
    title = factory.Sequence(lambda n: f"Bộ sưu tập {n}")
    workflow_steps = 2
    single_reviewer = True
    parent = None

    class Params:
        one_step = factory.Trait(workflow_steps=1)

    @factory.post_generation
    def curators(self, create, extracted, **kwargs):
        if extracted:
            self.curators = list(extracted)


class RecordFactory(Base):
    """A record in any workflow state, its metadata rows and its published versions written
    directly. Traits: ``submitted`` (with a review task in the pool), ``returned``,
    ``published``, ``withdrawn``, ``purged``; access: ``public``, ``restricted``,
    ``embargoed``."""

    class Meta:
        model = Record

    owner = factory.SubFactory(UserFactory, roles=["instructor"])
    collection = factory.SubFactory(CollectionFactory)
    status = RecordStatus.DRAFT
    title = factory.Sequence(lambda n: f"Giáo trình số {n}")
    access_level = AccessLevel.INTERNAL

    class Params:
        submitted = factory.Trait(status=RecordStatus.SUBMITTED)
        returned = factory.Trait(status=RecordStatus.RETURNED)
        published = factory.Trait(status=RecordStatus.PUBLISHED, current_version=1,
                                  published_at=factory.LazyFunction(_now))
        withdrawn = factory.Trait(
            status=RecordStatus.WITHDRAWN, current_version=1,
            published_at=factory.LazyFunction(lambda: _now() - timedelta(days=1)),
            withdrawn_at=factory.LazyFunction(_now), withdrawal_reason="Nội dung đã cũ")
        purged = factory.Trait(status=RecordStatus.PURGED, current_version=1,
                               withdrawn_at=factory.LazyFunction(_now),
                               withdrawal_reason="Gỡ bỏ theo quyết định")
        public = factory.Trait(access_level=AccessLevel.PUBLIC, ever_public=True)
        restricted = factory.Trait(access_level=AccessLevel.RESTRICTED)
        embargoed = factory.Trait(
            embargo_until=factory.LazyFunction(lambda: (_now() + timedelta(days=30)).date()),
            embargo_reason="Chờ xuất bản")

    @factory.post_generation
    def values(self, create, extracted, **kwargs):
        """Its metadata: ``values=[Statement, ...]``, else deposit-complete ones."""
        rows = extracted if extracted is not None else statements(self.title)
        self.values = [RecordValue(position=n, term=s.term, value=s.value, lang=s.lang,
                                   scheme=s.scheme) for n, s in enumerate(rows)]

    @factory.post_generation
    def versions(self, create, extracted, **kwargs):
        frozen = [[v.term, v.value, v.lang, v.scheme] for v in self.values]
        for number in range(1, self.current_version + 1):
            db.session.add(RecordVersion(record=self, number=number, title=self.title,
                                         statements=frozen, published_by=self.owner))

    @factory.post_generation
    def access_roles(self, create, extracted, **kwargs):
        """``access_roles=["trainer", ...]``: readable by holders of these roles."""
        if extracted:
            self.access_level = AccessLevel.ROLE
            self.access_roles = list(extracted)

    @factory.post_generation
    def review_task(self, create, extracted, **kwargs):
        if self.status == RecordStatus.SUBMITTED and extracted is not False:
            db.session.add(ReviewTask(record=self, step=1, status=TaskStatus.POOL))


class ReviewTaskFactory(Base):
    class Meta:
        model = ReviewTask

    record = factory.SubFactory(RecordFactory, submitted=True, review_task=False)
    step = 1
    status = TaskStatus.POOL

    class Params:
        claimed = factory.Trait(
            status=TaskStatus.CLAIMED,
            claimed_by=factory.SubFactory(UserFactory, roles=["curator"]),
            claimed_at=factory.LazyFunction(_now))
        done = factory.Trait(status=TaskStatus.DONE)


class WorkflowEventFactory(Base):
    class Meta:
        model = WorkflowEvent

    record = factory.SubFactory(RecordFactory, submitted=True)
    actor = factory.SelfAttribute("record.owner")
    action = "submit"
    from_status = RecordStatus.DRAFT
    to_status = RecordStatus.SUBMITTED


class AccessRequestFactory(Base):
    class Meta:
        model = AccessRequest

    record = factory.SubFactory(RecordFactory, published=True)
    requested_by = factory.SelfAttribute("record.owner")
    before = factory.LazyFunction(lambda: {"level": AccessLevel.INTERNAL})
    requested = factory.LazyFunction(lambda: {"level": AccessLevel.PUBLIC})

    class Params:
        approved = factory.Trait(status="approved", decided_at=factory.LazyFunction(_now),
                                 decided_by=factory.SubFactory(UserFactory, roles=["curator"]))
        rejected = factory.Trait(status="rejected", decided_at=factory.LazyFunction(_now),
                                 decided_by=factory.SubFactory(UserFactory, roles=["curator"]),
                                 comment="Chưa đủ căn cứ")


class RecordViewFactory(Base):
    class Meta:
        model = RecordView

    record_id = factory.LazyAttribute(lambda o: o.record.id)
    visitor = factory.Sequence(lambda n: f"visitor-{n}")

    class Params:
        record = factory.SubFactory(RecordFactory, published=True)


# --- files ----------------------------------------------------------------------------------

class BlobFactory(Base):
    """A blob row and its bytes in the app's storage (``content=``)."""

    class Meta:
        model = Blob

    content = factory.Sequence(lambda n: f"Nội dung tệp {n}\n".encode())
    key = factory.LazyAttribute(lambda o: hashlib.sha256(o.content).hexdigest())
    size = factory.LazyAttribute(lambda o: len(o.content))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        import io

        from lms.files.stores import get_storage

        stored = get_storage().put(io.BytesIO(kwargs.pop("content")))
        assert stored.key == kwargs["key"]
        existing = db.session.get(Blob, kwargs["key"])
        return existing or super()._create(model_class, *args, **kwargs)


class RecordFileFactory(Base):
    """A file of a record, its blob stored. Traits: ``extracted`` (its text stored),
    ``failed`` (extraction failed), ``removed``, ``restricted``."""

    class Meta:
        model = RecordFile

    record = factory.SubFactory(RecordFactory)
    name = factory.Sequence(lambda n: f"tai-lieu-{n}.txt")
    blob_key = factory.LazyAttribute(lambda o: o.blob.key)
    size = factory.LazyAttribute(lambda o: o.blob.size)
    media_type = "text/plain"
    uploaded_by = factory.SelfAttribute("record.owner")

    class Params:
        blob = factory.SubFactory(BlobFactory)
        extracted = factory.Trait(text_status=TextStatus.OK, text_chars=12,
                                  text_extracted_at=factory.LazyFunction(_now))
        failed = factory.Trait(text_status=TextStatus.FAILED, text_message="damaged file",
                               text_extracted_at=factory.LazyFunction(_now))
        removed = factory.Trait(removed_at=factory.LazyFunction(_now))
        restricted = factory.Trait(access_level=AccessLevel.RESTRICTED)

    @factory.post_generation
    def access_roles(self, create, extracted, **kwargs):
        """``access_roles=["trainer", ...]``: readable by holders of these roles."""
        if extracted:
            self.access_level = AccessLevel.ROLE
            self.access_roles = list(extracted)

    @factory.post_generation
    def text(self, create, extracted, **kwargs):
        if self.text_status == TextStatus.OK and extracted is not False:
            words = extracted if extracted is not None else "Nội dung tệp"
            self.text_row = FileText(text=words)
            self.text_chars = len(words)


class FileTextFactory(Base):
    class Meta:
        model = FileText

    file_id = factory.LazyAttribute(lambda o: o.file.id)
    text = "Văn bản trích xuất"

    class Params:
        file = factory.SubFactory(RecordFileFactory, extracted=True, text=False)


class FixityCheckFactory(Base):
    class Meta:
        model = FixityCheck

    blob_key = factory.LazyAttribute(lambda o: o.blob.key)
    status = "ok"
    actual_sha256 = factory.SelfAttribute("blob_key")
    size = factory.LazyAttribute(lambda o: o.blob.size)

    class Params:
        blob = factory.SubFactory(BlobFactory)
        mismatch = factory.Trait(status="mismatch", actual_sha256="0" * 64)


class DownloadEventFactory(Base):
    class Meta:
        model = DownloadEvent

    file_id = factory.LazyAttribute(lambda o: o.file.id)
    record_id = factory.LazyAttribute(lambda o: o.file.record_id)

    class Params:
        file = factory.SubFactory(RecordFileFactory, record=factory.SubFactory(
            RecordFactory, published=True))


# --- training -------------------------------------------------------------------------------

class AudienceFactory(Base):
    class Meta:
        model = Audience

    name = factory.Sequence(lambda n: f"Nhóm đối tượng {n}")
    owner = factory.SubFactory(UserFactory, roles=["trainer"])

    class Params:
        frozen = factory.Trait(state=AudienceState.FROZEN, frozen_reason="Đơn vị đã giải thể")


class AudienceMemberFactory(Base):
    class Meta:
        model = AudienceMember

    audience_id = factory.LazyAttribute(lambda o: o.audience.id)
    user = factory.SubFactory(UserFactory)

    class Params:
        audience = factory.SubFactory(AudienceFactory)
        ended = factory.Trait(ended_at=factory.LazyFunction(_now))


class CourseFactory(Base):
    """A course; traits ``published`` and ``archived``; ``owners=[...]`` (default: its
    creator)."""

    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"Khóa học {n}")
    created_by_id = factory.LazyAttribute(lambda o: o.creator.id)

    class Params:
        creator = factory.SubFactory(UserFactory, roles=["trainer"])
        published = factory.Trait(status=CourseStatus.PUBLISHED,
                                  published_at=factory.LazyFunction(_now))
        archived = factory.Trait(status=CourseStatus.ARCHIVED)
        open = factory.Trait(self_enrol=True)

    @factory.post_generation
    def owners(self, create, extracted, **kwargs):
        self.owners = (list(extracted) if extracted is not None
                       else [db.session.get(User, self.created_by_id)])


class LessonFactory(Base):
    class Meta:
        model = Lesson

    course = factory.SubFactory(CourseFactory)
    position = factory.Sequence(int)
    kind = LessonKind.PAGE
    title = factory.Sequence(lambda n: f"Bài {n}")
    body_html = "<p>Nội dung bài học</p>"

    class Params:
        material = factory.Trait(kind=LessonKind.RECORD, body_html="",
                                 record=factory.SubFactory(RecordFactory, published=True))
        optional = factory.Trait(required=False)


class TrackFactory(Base):
    class Meta:
        model = Track

    title = factory.Sequence(lambda n: f"Lộ trình {n}")
    created_by_id = factory.LazyAttribute(lambda o: o.creator.id)

    class Params:
        creator = factory.SubFactory(UserFactory, roles=["trainer"])
        published = factory.Trait(status=CourseStatus.PUBLISHED)


class TrackCourseFactory(Base):
    class Meta:
        model = TrackCourse

    track = factory.SubFactory(TrackFactory)
    course = factory.SubFactory(CourseFactory, published=True)
    position = factory.Sequence(int)


class AssignmentFactory(Base):
    class Meta:
        model = Assignment

    course = factory.SubFactory(CourseFactory, published=True)
    created_by_id = factory.SelfAttribute("course.created_by_id")

    class Params:
        fixed_due = factory.Trait(due_kind="fixed", due_at=factory.LazyFunction(
            lambda: _now() + timedelta(days=14)))
        cancelled = factory.Trait(active=False, cancelled_at=factory.LazyFunction(_now))


class EnrolmentFactory(Base):
    """An enrolment in a course; traits ``in_progress`` and ``completed``."""

    class Meta:
        model = Enrolment

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory, published=True)

    class Params:
        self_enrolled = factory.Trait(source="self")
        in_progress = factory.Trait(status=EnrolmentStatus.IN_PROGRESS,
                                    started_at=factory.LazyFunction(_now))
        completed = factory.Trait(
            status=EnrolmentStatus.COMPLETED,
            started_at=factory.LazyFunction(lambda: _now() - timedelta(days=2)),
            completed_at=factory.LazyFunction(_now))


class AssignmentLearnerFactory(Base):
    class Meta:
        model = AssignmentLearner

    assignment_id = factory.LazyAttribute(lambda o: o.assignment.id)
    user_id = factory.LazyAttribute(lambda o: o.enrolment.user_id)
    enrolment_id = factory.LazyAttribute(lambda o: o.enrolment.id)
    since = factory.LazyFunction(_now)

    class Params:
        assignment = factory.SubFactory(AssignmentFactory)
        enrolment = factory.SubFactory(EnrolmentFactory,
                                       course=factory.SelfAttribute("..assignment.course"))


class LessonProgressFactory(Base):
    class Meta:
        model = LessonProgress

    enrolment_id = factory.LazyAttribute(lambda o: o.enrolment.id)
    lesson_id = factory.LazyAttribute(lambda o: o.lesson.id)

    class Params:
        lesson = factory.SubFactory(LessonFactory)
        enrolment = factory.SubFactory(EnrolmentFactory, in_progress=True,
                                       course=factory.SelfAttribute("..lesson.course"))
        completed = factory.Trait(state=LessonState.COMPLETED,
                                  completed_at=factory.LazyFunction(_now))


class LearningStatementFactory(Base):
    class Meta:
        model = LearningStatement

    uuid = factory.Faker("uuid4")
    actor_id = factory.LazyAttribute(lambda o: o.enrolment.user_id)
    verb = "registered"
    object_type = "course"
    object_id = factory.LazyAttribute(lambda o: o.enrolment.course_id)
    course_id = factory.SelfAttribute("object_id")
    enrolment_id = factory.LazyAttribute(lambda o: o.enrolment.id)

    class Params:
        enrolment = factory.SubFactory(EnrolmentFactory)


# --- quizzes --------------------------------------------------------------------------------

class QuestionBankFactory(Base):
    class Meta:
        model = QuestionBank

    name = factory.Sequence(lambda n: f"Ngân hàng câu hỏi {n}")
    owner = factory.SubFactory(UserFactory, roles=["trainer"])

    class Params:
        academy = factory.Trait(sharing="academy")


class QuestionCategoryFactory(Base):
    class Meta:
        model = QuestionCategory

    bank = factory.SubFactory(QuestionBankFactory)
    name = factory.Sequence(lambda n: f"Chủ đề {n}")
    path = factory.SelfAttribute("name")


SINGLE_CHOICE = [{"key": "a", "text": "Đúng", "correct": True, "feedback": ""},
                 {"key": "b", "text": "Sai", "correct": False, "feedback": ""}]


class QuestionFactory(Base):
    """A single-choice question and its first version (``options=`` to change them)."""

    class Meta:
        model = Question

    bank = factory.SubFactory(QuestionBankFactory)
    category = factory.SubFactory(QuestionCategoryFactory, bank=factory.SelfAttribute("..bank"))
    type = "single"
    summary = factory.Sequence(lambda n: f"Câu hỏi {n}")
    fingerprint = factory.Sequence(_hex)
    created_by_id = factory.SelfAttribute("bank.owner_id")

    class Params:
        archived = factory.Trait(archived_at=factory.LazyFunction(_now))

    @factory.post_generation
    def options(self, create, extracted, **kwargs):
        db.session.add(QuestionVersion(
            question=self, number=1, type=self.type, text_html=f"<p>{self.summary}?</p>",
            options=list(extracted if extracted is not None else SINGLE_CHOICE),
            created_by_id=self.created_by_id))


class QuestionVersionFactory(Base):
    """A later version of a question (its first comes with the question)."""

    class Meta:
        model = QuestionVersion

    question = factory.SubFactory(QuestionFactory)
    number = factory.LazyAttribute(lambda o: o.question.current_version + 1)
    type = factory.SelfAttribute("question.type")
    text_html = "<p>Câu hỏi đã sửa?</p>"
    options = factory.LazyFunction(lambda: list(SINGLE_CHOICE))


class QuestionImageFactory(Base):
    class Meta:
        model = QuestionImage

    bank_id = factory.LazyAttribute(lambda o: o.bank.id)
    blob_key = factory.LazyAttribute(lambda o: o.blob.key)
    name = "hinh.png"
    media_type = "image/png"
    size = factory.LazyAttribute(lambda o: o.blob.size)

    class Params:
        bank = factory.SubFactory(QuestionBankFactory)
        blob = factory.SubFactory(BlobFactory)


class QuizFactory(Base):
    """A quiz; traits ``published`` and ``closed``; ``questions=[...]`` adds a fixed slot
    for each."""

    class Meta:
        model = Quiz

    title = factory.Sequence(lambda n: f"Bài kiểm tra {n}")
    created_by = factory.SubFactory(UserFactory, roles=["trainer"])
    shuffle_questions = False
    shuffle_options = False

    class Params:
        published = factory.Trait(status=QuizStatus.PUBLISHED)
        closed = factory.Trait(status=QuizStatus.CLOSED)
        timed = factory.Trait(time_limit_minutes=20)

    @factory.post_generation
    def questions(self, create, extracted, **kwargs):
        for position, question in enumerate(extracted or []):
            db.session.add(QuizSlot(quiz=self, position=position, question=question))


class QuizSlotFactory(Base):
    class Meta:
        model = QuizSlot

    quiz = factory.SubFactory(QuizFactory)
    position = factory.Sequence(int)
    question = factory.SubFactory(QuestionFactory)

    class Params:
        random = factory.Trait(question=None, count=2,
                               category=factory.SubFactory(QuestionCategoryFactory))


class QuizAttemptFactory(Base):
    """An attempt: ``open`` by default, trait ``graded`` (``passed``/``failed``)."""

    class Meta:
        model = QuizAttempt

    quiz = factory.SubFactory(QuizFactory, published=True)
    user = factory.SubFactory(UserFactory)
    number = 1

    class Params:
        graded = factory.Trait(state=AttemptState.GRADED,
                               submitted_at=factory.LazyFunction(_now),
                               graded_at=factory.LazyFunction(_now), closed_by="learner",
                               score=1.0, max_score=1.0, percent=100.0, passed=True)
        failed = factory.Trait(graded=True, score=0.0, percent=0.0, passed=False)


class AttemptQuestionFactory(Base):
    class Meta:
        model = AttemptQuestion

    attempt_id = factory.LazyAttribute(lambda o: o.attempt.id)
    slot = factory.Sequence(lambda n: n + 1)
    question_id = factory.LazyAttribute(lambda o: o.question.id)
    version_id = factory.LazyAttribute(lambda o: db.session.scalar(
        select(QuestionVersion.id).where(QuestionVersion.question_id == o.question.id,
                                         QuestionVersion.number == 1)))
    choices = factory.LazyFunction(lambda: [["t1", "a"], ["t2", "b"]])

    class Params:
        attempt = factory.SubFactory(QuizAttemptFactory)
        question = factory.SubFactory(QuestionFactory)
        answered = factory.Trait(answer=["a"], answer_seq=1,
                                 answered_at=factory.LazyFunction(_now))


class QuizGradeFactory(Base):
    class Meta:
        model = QuizGrade

    quiz_id = factory.LazyAttribute(lambda o: o.attempt.quiz_id)
    user_id = factory.LazyAttribute(lambda o: o.attempt.user_id)
    attempt_id = factory.LazyAttribute(lambda o: o.attempt.id)
    attempts = 1
    score = factory.LazyAttribute(lambda o: o.attempt.score)
    max_score = factory.LazyAttribute(lambda o: o.attempt.max_score)
    percent = factory.LazyAttribute(lambda o: o.attempt.percent)
    passed = factory.LazyAttribute(lambda o: o.attempt.passed)
    first_passed_at = factory.LazyAttribute(
        lambda o: o.attempt.graded_at if o.attempt.passed else None)

    class Params:
        attempt = factory.SubFactory(QuizAttemptFactory, graded=True)


class QuizOverrideFactory(Base):
    class Meta:
        model = QuizOverride

    quiz_id = factory.LazyAttribute(lambda o: o.quiz.id)
    user = factory.SubFactory(UserFactory)
    extra_attempts = 1
    reason = "Ốm trong ngày thi"

    class Params:
        quiz = factory.SubFactory(QuizFactory, published=True)


# --- certificates, notifications, reports ---------------------------------------------------

class CertificateTemplateFactory(Base):
    class Meta:
        model = CertificateTemplate

    name = factory.Sequence(lambda n: f"Mẫu chứng nhận {n}")
    course = factory.SubFactory(CourseFactory, published=True)
    title = "GIẤY CHỨNG NHẬN"
    body = "Đã hoàn thành khóa học {item}"
    issuer = "Học viện Hậu cần"

    class Params:
        active = factory.Trait(status="active")


class CertificateFactory(Base):
    """A certificate issued for a completed enrolment; trait ``revoked``."""

    class Meta:
        model = Certificate

    code = factory.Sequence(lambda n: f"C{n:019d}")
    issue_key = factory.Sequence(lambda n: f"test-issue-{n}")
    template = factory.SubFactory(CertificateTemplateFactory, active=True)
    user_id = factory.LazyAttribute(lambda o: o.enrolment.user_id)
    course_id = factory.LazyAttribute(lambda o: o.enrolment.course_id)
    enrolment_id = factory.LazyAttribute(lambda o: o.enrolment.id)
    completed_at = factory.LazyAttribute(lambda o: o.enrolment.completed_at)
    full_name = factory.LazyAttribute(lambda o: o.enrolment.user.full_name)
    item_title = factory.LazyAttribute(lambda o: o.enrolment.course.title)
    blob_key = factory.LazyAttribute(lambda o: o.blob.key)
    size = factory.LazyAttribute(lambda o: o.blob.size)

    class Params:
        enrolment = factory.SubFactory(EnrolmentFactory, completed=True,
                                       course=factory.SelfAttribute("..template.course"))
        blob = factory.SubFactory(BlobFactory)
        revoked = factory.Trait(revoked_at=factory.LazyFunction(_now),
                                revoked_by=factory.SubFactory(UserFactory, roles=["admin"]),
                                revoke_reason="Cấp nhầm")


class NotificationFactory(Base):
    class Meta:
        model = Notification

    user_id = factory.LazyAttribute(lambda o: o.user.id)
    kind = "record_published"
    params = factory.LazyFunction(lambda: {"title": "Giáo trình Hậu cần"})

    class Params:
        user = factory.SubFactory(UserFactory)
        read = factory.Trait(read_at=factory.LazyFunction(_now))


class OutgoingMailFactory(Base):
    class Meta:
        model = OutgoingMail

    user = factory.SubFactory(UserFactory, email=factory.Sequence(lambda n: f"hv{n}@hvhc.vn"))
    kind = "digest"
    period = factory.Sequence(lambda n: f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}")
    to_address = factory.SelfAttribute("user.email")
    subject = "Thông báo mới"
    body = "Đồng chí có thông báo mới."

    class Params:
        sent = factory.Trait(status="sent", attempts=1, sent_at=factory.LazyFunction(_now))


class NotificationMuteFactory(Base):
    class Meta:
        model = NotificationMute

    user_id = factory.LazyAttribute(lambda o: o.user.id)
    kind = "record_published"

    class Params:
        user = factory.SubFactory(UserFactory)


class ReportTargetFactory(Base):
    class Meta:
        model = ReportTarget

    unit_id = factory.LazyAttribute(lambda o: o.unit.id)
    course_id = factory.LazyAttribute(lambda o: o.course.id)
    percent = 90
    starts_at = factory.LazyFunction(_now)
    deadline_at = factory.LazyFunction(lambda: _now() + timedelta(days=30))

    class Params:
        unit = factory.SubFactory(UnitFactory)
        course = factory.SubFactory(CourseFactory, published=True)


# --- harvesting, OAI-PMH, the change log, jobs and the rest ---------------------------------

class HarvestSourceFactory(Base):
    class Meta:
        model = HarvestSource

    name = factory.Sequence(lambda n: f"nguon-{n}")
    title = factory.Sequence(lambda n: f"Nguồn thu thập {n}")
    base_url = "http://127.0.0.1:9/oai"
    metadata_prefix = "oai_dc"
    collection = factory.SubFactory(CollectionFactory)

    class Params:
        paused = factory.Trait(active=False)


class HarvestRunFactory(Base):
    class Meta:
        model = HarvestRun

    source_id = factory.LazyAttribute(lambda o: o.source.id)

    class Params:
        source = factory.SubFactory(HarvestSourceFactory)
        finished = factory.Trait(status="succeeded", finished_at=factory.LazyFunction(_now),
                                 pages=1, counts=factory.LazyFunction(lambda: {"created": 1}))


class HarvestedRecordFactory(Base):
    class Meta:
        model = HarvestedRecord

    record_id = factory.LazyAttribute(lambda o: o.record.id)
    source_id = factory.LazyAttribute(lambda o: o.source.id)
    oai_identifier = factory.Sequence(lambda n: f"oai:example.org:{n}")
    datestamp = "2026-01-01"

    class Params:
        source = factory.SubFactory(HarvestSourceFactory)
        record = factory.SubFactory(RecordFactory, published=True, public=True,
                                    collection=factory.SelfAttribute("..source.collection"))
        deleted_upstream = factory.Trait(deleted=True)


class OaiItemFactory(Base):
    class Meta:
        model = OaiItem

    record_id = factory.LazyAttribute(lambda o: o.record.id)
    datestamp = factory.LazyFunction(_now)
    oai_dc = "<oai_dc:dc/>"

    class Params:
        record = factory.SubFactory(RecordFactory, published=True, public=True)
        deleted_item = factory.Trait(deleted=True, oai_dc="")


class OaiItemSetFactory(Base):
    class Meta:
        model = OaiItemSet

    record_id = factory.LazyAttribute(lambda o: o.item.record_id)
    set_spec = factory.Sequence(lambda n: f"col:set-{n}")
    datestamp = factory.SelfAttribute("item.datestamp")

    class Params:
        item = factory.SubFactory(OaiItemFactory)


class ChangeEntryFactory(Base):
    class Meta:
        model = ChangeEntry

    kind = "record"
    target_id = factory.LazyAttribute(lambda o: o.record.id)

    class Params:
        record = factory.SubFactory(RecordFactory)


class ChangeAppliedFactory(Base):
    class Meta:
        model = ChangeApplied

    change_id = factory.LazyAttribute(lambda o: o.change.id)
    mirror = "search"

    class Params:
        change = factory.SubFactory(ChangeEntryFactory)


class JobFactory(Base):
    """A job row in any state: ``queued`` by default, traits ``running``, ``done``,
    ``failed``."""

    class Meta:
        model = Job

    name = "test.noop"
    status = JobStatus.QUEUED

    class Params:
        running = factory.Trait(status=JobStatus.RUNNING, started_at=factory.LazyFunction(_now),
                                worker_id="test-worker")
        done = factory.Trait(status=JobStatus.DONE, started_at=factory.LazyFunction(_now),
                             finished_at=factory.LazyFunction(_now), result={})
        failed = factory.Trait(status=JobStatus.FAILED, started_at=factory.LazyFunction(_now),
                               finished_at=factory.LazyFunction(_now), message="boom")


class WorkerHeartbeatFactory(Base):
    class Meta:
        model = WorkerHeartbeat

    worker_id = factory.Sequence(lambda n: f"host:{1000 + n}")
    host = "host"
    pid = factory.Sequence(lambda n: 1000 + n)

    class Params:
        stale = factory.Trait(beat_at=factory.LazyFunction(lambda: _now() - timedelta(hours=1)))


class AuditEventFactory(Base):
    class Meta:
        model = AuditEvent

    action = "login_success"
    actor_id = factory.LazyAttribute(lambda o: o.actor.id)
    actor_name = factory.LazyAttribute(lambda o: o.actor.username)

    class Params:
        actor = factory.SubFactory(UserFactory)
        denied = factory.Trait(action="login_failure", outcome="denied")


class ThrottleCounterFactory(Base):
    class Meta:
        model = ThrottleCounter

    key = factory.Sequence(lambda n: f"login:ip:10.0.0.{n % 250}:{n}")
    window_start = factory.LazyFunction(_now)
    count = 1
