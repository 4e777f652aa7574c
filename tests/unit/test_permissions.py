"""The policy: one test per named rule, plus the guards that keep it the only place deciding.

Each rule is asked for every kind of user on the objects it is about; the expected answers
are written here, independently of the rules' code. Separate checks: every rule in the policy
has its cases here; object rules handed ``None`` deny; every rule name the code or the
templates use exists; and no view, service or template tests a role itself.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from lms.accounts.models import User
from lms.catalog import deposit, workflow
from lms.catalog.models import AccessLevel, AccessRequest, Collection, Record, ReviewTask
from lms.extensions import db
from lms.files.models import RecordFile
from lms.models import Job
from lms.permissions import can, policy
from tests.conftest import ON_POSTGRES, database_for_test, make_app

ROOT = Path(__file__).resolve().parents[2]

KINDS = ("anonymous", "learner", "owner", "instructor", "curator", "curator_other", "admin",
         "disabled_admin")
NOBODY: frozenset[str] = frozenset()
ADMIN = frozenset({"admin"})
CURATORS = frozenset({"curator", "admin"})


@dataclass(frozen=True)
class Case:
    rule: str
    obj: str | None          # a name in the world, or None for rules about no object
    allowed: frozenset[str]  # the kinds allowed; every other kind is denied


def case(rule: str, obj: str | None, *allowed: str) -> Case:
    return Case(rule, obj, frozenset(allowed))


CASES = [
    case("record.view", "draft", "owner", "admin"),
    case("record.view", "submitted", "owner", "curator", "admin"),
    case("record.view", "published", "learner", "owner", "curator", "admin"),
    case("record.view", "withdrawn", "owner", "curator", "admin"),
    case("record.view", "purged"),
    case("record.view_working_copy", "draft", "owner", "admin"),
    case("record.view_working_copy", "submitted", "owner", "curator", "admin"),
    case("record.view_working_copy", "published", "owner", "curator", "admin"),
    case("record.view_history", "published", "owner", "curator", "admin"),
    case("record.view_tombstone", "withdrawn", "learner", "owner", "curator", "admin"),
    case("record.view_tombstone", "draft"),
    case("record.read_files", "published", "learner", "owner", "curator", "admin"),
    case("record.read_files", "embargoed", "owner", "curator", "admin"),
    case("record.edit", "draft", "owner"),
    case("record.edit", "submitted", "curator", "admin"),
    case("record.edit", "published", "owner", "curator", "admin"),
    case("record.edit", "withdrawn"),
    case("record.submit", "draft", "owner"),
    case("record.submit", "submitted"),
    case("record.change_access", "draft", "owner"),
    case("record.change_access", "submitted", "curator", "admin"),
    case("record.change_access", "published", "owner", "curator", "admin"),
    case("record.change_access", "withdrawn"),
    case("record.widen_access", "draft", "owner"),
    case("record.widen_access", "published", "curator", "admin"),
    case("record.curate", "published", "curator", "admin"),
    case("record.curate", "other_collection", "curator_other", "admin"),
    case("record.withdraw", "published", "curator", "admin"),
    case("record.withdraw", "withdrawn"),
    case("record.restore", "withdrawn", "curator", "admin"),
    case("record.restore", "published"),
    case("record.map", "published", "curator", "admin"),
    case("record.purge", "published", "admin"),
    case("record.import", None, "admin"),
    case("collection.deposit", "collection", "owner", "instructor", "curator", "admin"),
    case("collection.deposit", "other", "owner", "instructor", "curator_other", "admin"),
    case("collection.curate", "collection", "curator", "admin"),
    case("collection.manage", None, "admin"),
    case("review.queue", None, "curator", "curator_other", "admin"),
    case("review.claim", "task", "curator", "admin"),
    case("review.release", "task", "curator", "admin"),
    case("review.accept", "task", "curator", "admin"),
    case("review.return", "task", "curator", "admin"),
    case("access_request.decide", "access_request", "curator", "admin"),
    case("file.download", "file", "learner", "owner", "curator", "admin"),
    case("file.download", "embargoed_file", "owner", "curator", "admin"),
    case("file.maintain", None, "admin"),
    case("extraction.view_report", None, "curator", "curator_other", "admin"),
    case("user.manage", None, "admin"),
    case("role.assign", "learner_account", "admin"),
    case("unit.manage", None, "admin"),
    case("group.manage", None, "admin"),
    case("audit.view", None, "admin"),
    case("user.change_password", "learner_account", "learner"),
    case("job.view", "job", "owner", "admin"),
    case("job.resume", "job", "owner", "admin"),
    case("job.view_all", None, "admin"),
    case("stats.view", None, "admin"),
    case("mirror.check", None, "admin"),
    case("harvest.manage", None, "admin"),
]
# Rules whose cases live in their package's own tests.
TESTED_ELSEWHERE = {
    "lms.training.access": "tests/unit/training/test_training_access.py",
    "lms.quizzes.access": "tests/unit/quizzes/test_quiz_access.py",
    "lms.certificates.access": "tests/functional/test_certificates.py",
    "lms.reports.access": "tests/functional/test_reports.py",
    "lms.api.access": "tests/unit/api/test_api_access.py",
}


def build_world() -> dict[str, tuple[type, int]]:
    """Users of every kind and the objects the rules are about: name → (model, id)."""
    from datetime import date, timedelta

    from lms.catalog.access_settings import AccessSettings, change_access
    from lms.files.upload import Upload, upload_files
    from tests.factories import UserFactory, make_collection, statements

    people = {kind: UserFactory(username=kind, roles=roles) for kind, roles in {
        "learner": ["learner"], "owner": ["instructor"], "instructor": ["instructor"],
        "curator": ["curator"], "curator_other": ["curator"], "admin": ["admin"],
        "disabled_admin": ["admin"]}.items()}
    people["disabled_admin"].active = False
    db.session.commit()
    collection = make_collection("c", curators=[people["curator"]], steps=1)
    other = make_collection("d", curators=[people["curator_other"]], steps=1)
    owner, curator = people["owner"], people["curator"]
    readable = AccessSettings(level=AccessLevel.RESTRICTED, users=[people["learner"]])

    def make(title, target=collection, access=readable, stage="published"):
        record = deposit.create_draft(owner, target, statements(title), access)
        if stage == "draft":
            return record
        workflow.submit(owner, record, record.lock_version)
        if stage == "submitted":
            return record
        reviewer = curator if target is collection else people["curator_other"]
        task = next(t for t in workflow.review_queue(reviewer).pool if t.record_id == record.id)
        workflow.claim(reviewer, task.id)
        workflow.accept(reviewer, task.id)
        return record

    draft = make("Nháp", stage="draft")
    submitted = make("Đang duyệt", stage="submitted")
    published = make("Đã công bố")
    [file] = upload_files(owner, published, [Upload(io.BytesIO(b"x" * 10),
                                                    "ghi-chu.txt")])
    task = next(t for t in db.session.scalars(db.select(ReviewTask))
                if t.record_id == submitted.id)
    embargoed = make("Cấm vận", access=AccessSettings(
        level=AccessLevel.RESTRICTED, users=[people["learner"]],
        embargo_until=date.today() + timedelta(days=30)))
    [embargoed_file] = upload_files(owner, embargoed, [Upload(
        io.BytesIO(b"y" * 10), "cam.txt")])
    for record in (published, embargoed):  # publish the files with a new version
        workflow.submit(owner, record, record.lock_version)
        task_ = next(t for t in workflow.review_queue(curator).pool if t.record_id == record.id)
        workflow.claim(curator, task_.id)
        workflow.accept(curator, task_.id)
    withdrawn = make("Thu hồi")
    workflow.withdraw(curator, withdrawn, "Hết hạn")
    purged = make("Xoá")
    workflow.purge(people["admin"], purged, "Quyết định 12")
    in_other = make("Bộ khác", target=other)
    request = change_access(owner, published, AccessSettings(level=AccessLevel.PUBLIC))
    job = Job(name="test", owner_id=owner.id)
    db.session.add(job)
    db.session.commit()
    world = {name: (User, person.id) for name, person in people.items()}
    world.update({
        "draft": (Record, draft.id), "submitted": (Record, submitted.id),
        "published": (Record, published.id), "embargoed": (Record, embargoed.id),
        "withdrawn": (Record, withdrawn.id), "purged": (Record, purged.id),
        "other_collection": (Record, in_other.id),
        "collection": (Collection, collection.id), "other": (Collection, other.id),
        "task": (ReviewTask, task.id), "access_request": (AccessRequest, request.id),
        "file": (RecordFile, file.id), "embargoed_file": (RecordFile, embargoed_file.id),
        "learner_account": (User, people["learner"].id), "job": (Job, job.id),
    })
    return world


@pytest.fixture(scope="module")
def policy_app(migrated_database, tmp_path_factory):
    """One world for every rule test of this module (built once: it takes a few seconds)."""
    folder = tmp_path_factory.mktemp("policy")
    app = make_app(database_for_test(migrated_database, folder), folder / "data")
    with app.app_context():
        world = build_world()
        db.session.remove()
    yield app, world
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if ON_POSTGRES:
        from tests.conftest import _empty_postgres_tables

        _empty_postgres_tables(app)


def _subject(world, kind: str):
    from flask_login import AnonymousUserMixin

    return AnonymousUserMixin() if kind == "anonymous" else db.session.get(User,
                                                                          world[kind][1])


@pytest.mark.parametrize("rule", sorted({c.rule for c in CASES}))
def test_rule(policy_app, rule):
    app, world = policy_app
    wrong = []
    with app.test_request_context():
        for c in (c for c in CASES if c.rule == rule):
            obj = None if c.obj is None else db.session.get(*world[c.obj])
            for kind in KINDS:
                if can(_subject(world, kind), rule, obj) != (kind in c.allowed):
                    wrong.append(f"{kind} on {c.obj}: expected {kind in c.allowed}")
        db.session.remove()
    assert not wrong, "\n".join(wrong)


def test_every_rule_of_the_policy_has_its_cases(policy_app):
    from importlib import import_module

    elsewhere = {name for module in TESTED_ELSEWHERE for name in import_module(module).RULES}
    assert sorted(set(policy()) - elsewhere) == sorted({c.rule for c in CASES})


def test_an_object_rule_handed_none_or_a_wrong_object_denies(policy_app):
    app, world = policy_app
    object_rules = {c.rule for c in CASES if c.obj is not None}
    with app.test_request_context():
        admin = db.session.get(User, world["admin"][1])
        job = db.session.get(Job, world["job"][1])
        allowed = [rule for rule in sorted(object_rules)
                   if can(admin, rule, None)
                   or can(admin, rule, admin if rule.startswith("job.") else job)]
        db.session.remove()
    assert allowed == []


def test_an_unknown_rule_is_a_programming_error():
    with pytest.raises(KeyError):
        can(None, "record.fly")


# --- guards ------------------------------------------------------------------------------

RULE_USE = re.compile(
    r"""\b(?:require|can|guard_blueprint)\(\s*(?:[\w.]+\s*,\s*)?["']([\w.]+)["']""")


def test_every_rule_the_code_and_templates_name_exists(policy_app):
    used = {}
    for path in [*ROOT.glob("lms/**/*.py"), *ROOT.glob("templates/**/*.html")]:
        for name in RULE_USE.findall(path.read_text(encoding="utf-8")):
            used.setdefault(name, path.relative_to(ROOT))
    unknown = {name: str(path) for name, path in used.items() if name not in policy()}
    assert unknown == {}
    assert len(used) > 20  # the pattern does find them


ROLE_TEST = re.compile(r"\b(is_admin|has_role|role_names|is_curator\w*|RoleName\.)")
# Where role tests belong: the policy and the access modules, and the models defining them.
ALLOWED = re.compile(r"^lms/(permissions\.py|models\.py|(\w+/)*(access|models)\.py)$")
# Modules that name roles without deciding anything, and why.
NAMING_ROLES = {
    "lms/demo.py": "seeds the demo accounts, one per role",
    "lms/admin/forms.py": "display names of the roles",
    "lms/display.py": "display names of an account's roles",
}


def test_no_view_service_or_template_tests_a_role_itself():
    found = []
    for path in [*ROOT.glob("lms/**/*.py"), *ROOT.glob("templates/**/*.html")]:
        name = str(path.relative_to(ROOT))
        if ALLOWED.match(name) or name in NAMING_ROLES or "/migrations/" in name:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ROLE_TEST.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == [], "role tests outside the policy:\n" + "\n".join(found)
