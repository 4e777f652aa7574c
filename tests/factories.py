"""factory_boy factories on the app's session; rows are flushed, tests commit when needed."""

from __future__ import annotations

import factory
from sqlalchemy import select

from lms.extensions import db
from lms.models import Group, Role, Unit, User
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
