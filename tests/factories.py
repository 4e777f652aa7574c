"""factory_boy factories on the app's session; rows are flushed, tests commit when needed."""

from __future__ import annotations

import factory
from sqlalchemy import select

from lms.accounts.models import Group, Role, Unit, User
from lms.extensions import db
from lms.passwords import hash_password

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


def make_collection(slug: str = "khoa-hau-can", curators=(), steps: int = 2, parent=None):
    from lms.catalog.collections import create_collection

    return create_collection(None, slug, f"Bộ sưu tập {slug}", parent=parent,
                             workflow_steps=steps, curators=list(curators))


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
