"""Question banks, their categories, and their questions with versions and images.

Editing a question that an attempt has shown adds a version and leaves the shown one as it
was; a question nobody has seen yet is edited in place. Correcting a key is the one change
made to a version in place, on purpose: the attempts that showed it are regraded
(``lms.quizzes.grading``).
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

import nh3
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, or_, select

from lms import audit
from lms.accounts.models import Unit, User
from lms.catalog.access import can_view
from lms.catalog.models import Record
from lms.db import utcnow
from lms.errors import Conflict, NotFound, ValidationError
from lms.extensions import db
from lms.permissions import can, require
from lms.quizzes import kinds
from lms.quizzes.access import used_banks
from lms.quizzes.models import (
    AttemptQuestion,
    BankSharing,
    Difficulty,
    Question,
    QuestionBank,
    QuestionCategory,
    QuestionImage,
    QuestionType,
    QuestionVersion,
    QuizSlot,
)
from lms.text import clean_text, escape_like, fold
from lms.training.html import sanitize
from lms.uow import locked_change, unit_of_work

if TYPE_CHECKING:
    from lms.quizzes.grading import RegradeOutcome

SHARING_LABELS = {
    BankSharing.PRIVATE: _l("Only me"),
    BankSharing.UNIT: _l("Trainers of my unit"),
    BankSharing.ACADEMY: _l("Every trainer of the academy"),
}
PATH_SEPARATOR = " / "
MAX_TEXT = 20_000
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif",
               "image/webp": "webp"}


def _stale() -> str:
    return _("This was changed since you opened it (perhaps by another trainer). Reload it to "
             "see the changes, then make yours again.")


# --- banks ---------------------------------------------------------------------------------

@dataclass
class BankInput:
    name: str
    description: str = ""
    sharing: str = BankSharing.PRIVATE
    unit_id: int | None = None


def _apply_bank(actor: User, bank: QuestionBank, data: BankInput) -> None:
    bank.name = clean_text(data.name, max_length=200, what=_("Name"))
    bank.description = (data.description or "").strip()[:4000]
    if data.sharing not in set(BankSharing):
        raise ValidationError(_("Choose with whom the bank is shared."))
    if data.sharing == BankSharing.ACADEMY and not can(actor, "bank.share_all") and \
            bank.sharing != BankSharing.ACADEMY:
        raise ValidationError(_("Only administrators share a bank with the whole academy."))
    bank.sharing = data.sharing
    unit_id = data.unit_id or actor.unit_id
    if data.sharing == BankSharing.UNIT:
        if unit_id is None or db.session.get(Unit, unit_id) is None:
            raise ValidationError(_("Choose the unit whose trainers share the bank."))
        from lms.training.access import reachable_units

        reach = reachable_units(actor)
        if reach is not None and unit_id not in reach and unit_id != bank.unit_id:
            raise ValidationError(_("Choose your own unit or one below it."))
    bank.unit_id = unit_id


def create_bank(actor: User, data: BankInput) -> QuestionBank:
    require(actor, "bank.create")
    with unit_of_work():
        bank = QuestionBank(owner_id=actor.id)
        _apply_bank(actor, bank, data)
        audit.record_new("bank_create", actor=actor, obj=bank, details={"name": bank.name})
    return bank


def update_bank(actor: User, bank: QuestionBank, data: BankInput, lock_version: int) -> None:
    require(actor, "bank.manage", bank)
    with locked_change(bank, lock_version, _stale()):
        _apply_bank(actor, bank, data)
        bank.updated_at = utcnow()
        audit.record("bank_update", actor=actor, obj=bank,
                     details={"name": bank.name, "sharing": bank.sharing})


def get_bank(actor: User, bank_id: int, *, manage: bool = False) -> QuestionBank:
    """:raise NotFound: no such bank, or one ``actor`` may not use (or manage)."""
    bank = db.session.get(QuestionBank, bank_id)
    if bank is None or not can(actor, "bank.manage" if manage else "bank.use", bank):
        raise NotFound()
    return bank


def usable_banks(actor: User) -> Select:
    return select(QuestionBank).where(used_banks(actor)).order_by(QuestionBank.name,
                                                                  QuestionBank.id)


def question_counts(bank_ids: Sequence[int]) -> dict[int, int]:
    """Questions in use (not archived) per bank."""
    if not bank_ids:
        return {}
    return dict(db.session.execute(
        select(Question.bank_id, func.count(Question.id))
        .where(Question.bank_id.in_(bank_ids), Question.archived_at.is_(None))
        .group_by(Question.bank_id)).all())


# --- categories ----------------------------------------------------------------------------

def categories(bank: QuestionBank) -> list[QuestionCategory]:
    """The bank's categories in tree order (by path)."""
    return list(db.session.scalars(select(QuestionCategory).where(
        QuestionCategory.bank_id == bank.id).order_by(QuestionCategory.path)))


def category_counts(bank: QuestionBank) -> dict[int, dict[str, int]]:
    """Per category: questions in use, per difficulty (without sub-categories)."""
    counts: dict[int, dict[str, int]] = {}
    for category_id, difficulty, n in db.session.execute(
            select(Question.category_id, Question.difficulty, func.count(Question.id))
            .where(Question.bank_id == bank.id, Question.archived_at.is_(None))
            .group_by(Question.category_id, Question.difficulty)):
        counts.setdefault(category_id, {})[difficulty] = n
    return counts


def category_of(bank: QuestionBank, category_id: int | None) -> QuestionCategory:
    """:raise ValidationError: not a category of ``bank``."""
    category = db.session.get(QuestionCategory, category_id) if category_id else None
    if category is None or category.bank_id != bank.id:
        raise ValidationError(_("Choose a category of this bank."))
    return category


def normalise_path(path: str) -> str:
    """"Kỹ năng số/ An toàn thông tin " → "Kỹ năng số / An toàn thông tin"."""
    parts = [" ".join(p.split()) for p in path.replace("\\", "/").split("/")]
    return PATH_SEPARATOR.join(p for p in parts if p)


def find_category(bank: QuestionBank, path: str) -> QuestionCategory | None:
    """The category of ``bank`` at ``path`` (names compared without case)."""
    wanted = normalise_path(path)
    return db.session.scalar(select(QuestionCategory).where(
        QuestionCategory.bank_id == bank.id,
        func.lower(QuestionCategory.path) == wanted.lower()))


def ensure_category(bank: QuestionBank, path: str) -> QuestionCategory:
    """The category at ``path``, made (with its parents) if missing. In the caller's
    transaction.

    :raise ValidationError: an empty or over-long name.
    """
    parent: QuestionCategory | None = None
    built: list[str] = []
    for name in normalise_path(path).split(PATH_SEPARATOR):
        name = clean_text(name, max_length=200, what=_("Category name"))
        built.append(name)
        found = find_category(bank, PATH_SEPARATOR.join(built))
        if found is None:
            found = QuestionCategory(bank_id=bank.id, parent_id=parent.id if parent else None,
                                     name=name, path=PATH_SEPARATOR.join(built))
            db.session.add(found)
            db.session.flush()
        parent = found
    if parent is None:
        raise ValidationError(_("A category needs a name."))
    return parent


def add_category(actor: User, bank: QuestionBank, name: str,
                 parent: QuestionCategory | None) -> QuestionCategory:
    """:raise Conflict: the parent has a category of that name already."""
    require(actor, "bank.manage", bank)
    name = clean_text(name, max_length=200, what=_("Category name"))
    if "/" in name:
        raise ValidationError(_("A category name cannot contain “/”: it separates levels."))
    path = f"{parent.path}{PATH_SEPARATOR}{name}" if parent else name
    if find_category(bank, path) is not None:
        raise Conflict(_("The category “%(path)s” exists already.", path=path))
    with unit_of_work():
        category = ensure_category(bank, path)
        audit.record("bank_category_add", actor=actor, obj=bank, details={"path": path})
    return category


def rename_category(actor: User, category: QuestionCategory, name: str) -> None:
    """Rename a category; the paths of its sub-categories follow."""
    bank = category.bank
    require(actor, "bank.manage", bank)
    name = clean_text(name, max_length=200, what=_("Category name"))
    if "/" in name:
        raise ValidationError(_("A category name cannot contain “/”: it separates levels."))
    old = category.path
    new = (old.rsplit(PATH_SEPARATOR, 1)[0] + PATH_SEPARATOR + name) \
        if PATH_SEPARATOR in old else name
    if new.lower() != old.lower() and find_category(bank, new) is not None:
        raise Conflict(_("The category “%(path)s” exists already.", path=new))
    with unit_of_work():
        for row in db.session.scalars(select(QuestionCategory).where(
                QuestionCategory.bank_id == bank.id,
                QuestionCategory.path.like(escape_like(old) + PATH_SEPARATOR + "%",
                                           escape="\\"))):
            row.path = new + row.path[len(old):]
        category.name, category.path = name, new
        audit.record("bank_category_rename", actor=actor, obj=bank,
                     details={"from": old, "to": new})


def remove_category(actor: User, category: QuestionCategory) -> None:
    """:raise Conflict: the category still has questions, sub-categories or quiz draws."""
    bank = category.bank
    require(actor, "bank.manage", bank)
    busy = db.session.scalar(select(
        exists().where(Question.category_id == category.id)
        | exists().where(QuestionCategory.parent_id == category.id)
        | exists().where(QuizSlot.category_id == category.id)))
    if busy:
        raise Conflict(_("Only an empty category can be removed: move its questions and "
                         "sub-categories first, and take it out of quizzes that draw from it."))
    with unit_of_work():
        audit.record("bank_category_remove", actor=actor, obj=bank,
                     details={"path": category.path})
        db.session.delete(category)


def category_ids_under(category: QuestionCategory, with_subcategories: bool = True) -> list[int]:
    """The category and (optionally) every category below it."""
    if not with_subcategories:
        return [category.id]
    return list(db.session.scalars(select(QuestionCategory.id).where(
        QuestionCategory.bank_id == category.bank_id,
        or_(QuestionCategory.id == category.id,
            QuestionCategory.path.like(escape_like(category.path) + PATH_SEPARATOR + "%",
                                       escape="\\")))))


# --- questions -----------------------------------------------------------------------------

@dataclass
class QuestionInput:
    content: kinds.QuestionContent
    category_id: int | None
    difficulty: str = Difficulty.MEDIUM
    record_id: int | None = None


def plain_text(text_html: str) -> str:
    """The words of a question's HTML, on one line."""
    return " ".join(html.unescape(nh3.clean(text_html, tags=set())).split())


def fingerprint(question_type: str, text_html: str) -> str:
    return hashlib.sha256(f"{question_type}\n{fold(plain_text(text_html))}".encode()).hexdigest()


def prepare(content: kinds.QuestionContent) -> kinds.QuestionContent:
    """The content with its rich text sanitised (what is stored is safe to show)."""
    text_html = sanitize(content.text_html[:MAX_TEXT * 2])
    explanation = sanitize(content.explanation_html[:MAX_TEXT * 2])
    if len(text_html) > MAX_TEXT or len(explanation) > MAX_TEXT:
        raise ValidationError(_("The text is too long (at most %(n)d characters).", n=MAX_TEXT))
    return kinds.QuestionContent(content.type, text_html, content.options, content.partial,
                                 content.points, explanation)


def check_input(actor: User, bank: QuestionBank, data: QuestionInput, *,
                category_known: bool = True) -> tuple[kinds.QuestionContent, list[str]]:
    """The sanitised content and every problem of ``data`` (category, record, content).
    An import checks rows whose category it is still to make: ``category_known=False``."""
    problems: list[str] = []
    try:
        content = prepare(data.content)
    except ValidationError as error:
        return data.content, [error.message]
    problems += kinds.check_question(content)
    if data.difficulty not in set(Difficulty):
        problems.append(_("Unknown difficulty “%(value)s”: use easy, medium or hard.",
                          value=data.difficulty))
    category = db.session.get(QuestionCategory, data.category_id) if data.category_id else None
    if category_known and (category is None or category.bank_id != bank.id):
        problems.append(_("Choose a category of this bank."))
    if data.record_id is not None:
        record = db.session.get(Record, data.record_id)
        if record is None or not record.is_published or not can_view(actor, record):
            problems.append(_("Record %(id)s is not a published record you can read.",
                              id=data.record_id))
    return content, problems


def _new_version(question: Question, number: int, content: kinds.QuestionContent,
                 actor: User) -> QuestionVersion:
    return QuestionVersion(question_id=question.id, number=number, type=content.type,
                           text_html=content.text_html, options=kinds.stored_options(content),
                           partial=content.partial, points=float(content.points),
                           explanation_html=content.explanation_html, created_by_id=actor.id)


def _describe(question: Question, content: kinds.QuestionContent, data: QuestionInput) -> None:
    question.type = content.type
    question.category_id = data.category_id
    question.difficulty = data.difficulty
    question.record_id = data.record_id
    question.summary = plain_text(content.text_html)[:300]
    question.fingerprint = fingerprint(content.type, content.text_html)
    question.updated_at = utcnow()


def create_question(actor: User, bank: QuestionBank, data: QuestionInput) -> Question:
    """:raise ValidationError: the question is not well formed (every problem listed)."""
    require(actor, "bank.manage", bank)
    content, problems = check_input(actor, bank, data)
    if problems:
        raise ValidationError(" ".join(problems))
    with unit_of_work():
        question = add_questions(actor, bank, [(content, data)])[0]
        audit.record("question_create", actor=actor, obj=question, details={"bank": bank.id})
    return question


def add_questions(actor: User, bank: QuestionBank,
                  rows: Sequence[tuple[kinds.QuestionContent, QuestionInput]]) -> list[Question]:
    """Add checked questions to ``bank`` in the caller's transaction (imports add thousands)."""
    questions = []
    for content, data in rows:
        question = Question(bank_id=bank.id, created_by_id=actor.id, current_version=1)
        _describe(question, content, data)
        questions.append(question)
    db.session.add_all(questions)
    db.session.flush()
    db.session.add_all([_new_version(question, 1, content, actor)
                        for question, (content, _data) in zip(questions, rows, strict=True)])
    db.session.flush()
    return questions


def current_version(question: Question) -> QuestionVersion:
    return db.session.scalar(select(QuestionVersion).where(
        QuestionVersion.question_id == question.id,
        QuestionVersion.number == question.current_version))


def versions(question: Question) -> list[QuestionVersion]:
    return list(db.session.scalars(select(QuestionVersion).where(
        QuestionVersion.question_id == question.id).order_by(QuestionVersion.number.desc())))


def is_used(version_id: int) -> bool:
    """Has an attempt shown this version?"""
    return bool(db.session.scalar(select(exists().where(
        AttemptQuestion.version_id == version_id))))


def update_question(actor: User, question: Question, data: QuestionInput,
                    lock_version: int) -> bool:
    """Save an edited question; returns whether a new version was made (the current one had
    been shown in an attempt).

    :raise ValidationError: not well formed. :raise Conflict: changed meanwhile.
    """
    bank = question.bank
    require(actor, "bank.manage", bank)
    content, problems = check_input(actor, bank, data)
    if problems:
        raise ValidationError(" ".join(problems))
    with locked_change(question, lock_version, _stale()):
        version = current_version(question)
        changed = (version.type, version.text_html, version.options, version.partial,
                   version.points, version.explanation_html) != (
            content.type, content.text_html, kinds.stored_options(content), content.partial,
            float(content.points), content.explanation_html)
        new = changed and is_used(version.id)
        if new:
            question.current_version = version.number + 1
            db.session.add(_new_version(question, question.current_version, content, actor))
        elif changed:
            version.type, version.text_html = content.type, content.text_html
            version.options = kinds.stored_options(content)
            version.partial, version.points = content.partial, float(content.points)
            version.explanation_html = content.explanation_html
        _describe(question, content, data)
        audit.record("question_update", actor=actor, obj=question,
                     details={"version": question.current_version, "new_version": new})
    return new


def set_archived(actor: User, question: Question, archived: bool) -> None:
    """Archive a question (no longer drawn nor offered) or bring it back."""
    require(actor, "bank.manage", question.bank)
    if archived and db.session.scalar(select(exists().where(
            QuizSlot.question_id == question.id))):
        raise Conflict(_("This question is a fixed question of a quiz: take it out of the "
                         "quiz first."))
    with unit_of_work():
        question.archived_at = utcnow() if archived else None
        audit.record("question_archive" if archived else "question_restore", actor=actor,
                     obj=question)


def fix_key(actor: User, version: QuestionVersion, correct_keys: Sequence[str],
            partial: bool | None = None) -> RegradeOutcome:
    """Correct the key of ``version`` in place and regrade every attempt that showed it.
    Learners whose result in a quiz changes are notified.

    ``correct_keys``: the keys of the correct options (true/false: ``["t"]`` or ``["f"]``).

    :raise ValidationError: the new key is not one a question of its type may have.
    """
    from lms.quizzes.grading import regrade_versions

    question = version.question
    require(actor, "bank.manage", question.bank)
    if version.type == QuestionType.MATCHING:
        raise ValidationError(_("A matching question's key is its pairs: edit the question "
                                "instead."))
    keys = {o["key"] for o in version.options}
    chosen = set(correct_keys)
    if not chosen <= keys:
        raise ValidationError(_("Choose the correct options among the question's options."))
    options = [{**o, "correct": o["key"] in chosen} for o in version.options]
    content = kinds.QuestionContent(version.type, version.text_html, kinds.content_of(
        version.type, options), version.partial if partial is None else partial,
        version.points, version.explanation_html)
    problems = kinds.check_question(content)
    if problems:
        raise ValidationError(" ".join(problems))
    with unit_of_work() as on_commit:
        before = [o["key"] for o in version.options if o.get("correct")]
        version.options = options
        version.partial = content.partial
        version.key_fixed_at = utcnow()
        audit.record("question_key_fix", actor=actor, obj=question,
                     details={"version": version.number, "before": before,
                              "after": sorted(chosen), "partial": version.partial})
        db.session.flush()
        outcome = regrade_versions([version.id], on_commit)
    return outcome


def find_questions(bank: QuestionBank, *, category: QuestionCategory | None = None,
                   subcategories: bool = True, difficulty: str = "", query: str = "",
                   archived: bool = False) -> Select:
    stmt = select(Question).where(Question.bank_id == bank.id)
    stmt = stmt.where(Question.archived_at.is_not(None) if archived
                      else Question.archived_at.is_(None))
    if category is not None:
        stmt = stmt.where(Question.category_id.in_(category_ids_under(category, subcategories)))
    if difficulty in set(Difficulty):
        stmt = stmt.where(Question.difficulty == difficulty)
    if query:
        stmt = stmt.where(func.lower(Question.summary).like(
            f"%{escape_like(query.lower())}%", escape="\\"))
    return stmt.order_by(Question.id.desc())


def get_question(actor: User, question_id: int, *, manage: bool = False) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or not can(actor, "bank.manage" if manage else "bank.use",
                                   question.bank):
        raise NotFound()
    return question


# --- images --------------------------------------------------------------------------------

def add_image(actor: User, bank: QuestionBank, stream: BinaryIO, filename: str) -> QuestionImage:
    """Store an image for the bank's questions (PNG, JPEG, GIF or WebP) in the files storage.

    :raise ValidationError: not such an image, or larger than ``QUIZ_IMAGE_MAX_BYTES``.
    """
    from lms.files.records import register_blob
    from lms.files.sniff import sniff_stream
    from lms.files.storage import FileTooLarge
    from lms.files.stores import get_storage

    require(actor, "bank.manage", bank)
    limit = int(current_app.config["QUIZ_IMAGE_MAX_BYTES"])
    sniffed = sniff_stream(stream, filename)
    if sniffed.media_type not in IMAGE_TYPES:
        raise ValidationError(_("Choose a PNG, JPEG, GIF or WebP image."))
    try:
        stored = get_storage().put(stream, max_size=limit)
    except FileTooLarge as error:
        raise ValidationError(_("The image is larger than %(n)d KB.", n=limit // 1024)) from error
    name = clean_text(filename or "", max_length=255, what=_("File name")) \
        if (filename or "").strip() else f"image.{IMAGE_TYPES[sniffed.media_type]}"
    with unit_of_work():
        register_blob(stored.key, stored.size)
        image = QuestionImage(bank_id=bank.id, blob_key=stored.key, name=name,
                              media_type=sniffed.media_type, size=stored.size,
                              created_by_id=actor.id)
        audit.record_new("question_image_add", actor=actor, obj=image, details={"bank": bank.id})
    return image


def image_url(image: QuestionImage) -> str:
    return f"/quizzes/images/{image.id}"


def readable_image(actor: User, image_id: int) -> QuestionImage:
    """An image ``actor`` may see: a user of its bank, or a learner shown a question with it.

    :raise NotFound: no such image, or not theirs to see.
    """
    from lms.quizzes.models import QuizAttempt

    image = db.session.get(QuestionImage, image_id)
    if image is None:
        raise NotFound()
    if can(actor, "bank.use", db.session.get(QuestionBank, image.bank_id)):
        return image
    marker = f"%{escape_like(f'/quizzes/images/{image.id}')}\"%"
    shown = db.session.scalar(select(exists().where(
        QuizAttempt.user_id == actor.id, AttemptQuestion.attempt_id == QuizAttempt.id,
        QuestionVersion.id == AttemptQuestion.version_id,
        or_(QuestionVersion.text_html.like(marker, escape="\\"),
            QuestionVersion.explanation_html.like(marker, escape="\\")))))
    if not shown:
        raise NotFound()
    return image

