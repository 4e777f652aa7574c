"""The policy: who may do what, decided in one place on the object.

Every decision is a named rule, ``<object>.<action>`` (``record.view``, ``file.download``,
``review.accept``, ``user.manage``...). The platform's own rules (jobs) are stated here; each
feature states its own in its ``access`` module as a ``RULES`` mapping, and the
policy is the union of them all (a name defined twice is an error). Services call
:func:`require`; templates call :func:`can` to decide whether to show a button; no view,
service or template tests a role itself. A rule handed ``None`` (or the wrong kind of object)
where it expects an object denies.

Who may not know an object exists gets 404 from the service that looked it up (it asks
``record.view`` or the like first); a forbidden action on an object the user can see is 403
(:class:`~lms.errors.PermissionDenied`, raised by :func:`require`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from importlib import import_module
from typing import Any, TypeVar

from flask_login import AnonymousUserMixin

from lms.accounts.models import User
from lms.errors import NotFound, PermissionDenied
from lms.models import Job

Principal = User | AnonymousUserMixin
Rule = Callable[[Principal, Any], bool]

# Feature modules whose ``RULES`` join the policy. Imported on first use, not at import time,
# because those modules import this one for ``Principal`` and the helpers below.
FEATURE_RULE_MODULES: tuple[str, ...] = (
    "lms.accounts.access", "lms.catalog.access", "lms.files.access", "lms.training.access",
    "lms.harvest.access", "lms.stats.access", "lms.changelog.access", "lms.quizzes.access",
    "lms.certificates.access", "lms.reports.access", "lms.api.access")


def is_user(user: Principal) -> bool:
    """A logged-in, active account (anonymous visitors and disabled accounts are not)."""
    return isinstance(user, User) and user.is_authenticated and user.active


def admin_only(user: Principal, obj: Any = None) -> bool:
    """The rule of what only administrators do."""
    return is_user(user) and user.is_admin


def _job_owner(user: Principal, obj: Any) -> bool:
    return is_user(user) and isinstance(obj, Job) and (obj.owner_id == user.id
                                                        or user.is_admin)


CORE_RULES: dict[str, Rule] = {
    # A background job's page: its owner and admins (``obj``: the job).
    "job.view": _job_owner,
    # Queue an interrupted job again (an import goes on after its last committed line).
    "job.resume": _job_owner,
    # Every job, scheduled ones included (/admin/jobs).
    "job.view_all": admin_only,
}


@cache
def policy() -> Mapping[str, Rule]:
    """Every named rule: the core ones and those of each feature module."""
    rules = dict(CORE_RULES)
    for module_name in FEATURE_RULE_MODULES:
        feature_rules: Mapping[str, Rule] = import_module(module_name).RULES
        clash = rules.keys() & feature_rules.keys()
        if clash:
            raise RuntimeError(f"{module_name} redefines rules {sorted(clash)}")
        rules.update(feature_rules)
    return rules


def can(user: Principal, action: str, obj: Any = None) -> bool:
    rule = policy().get(action)
    if rule is None:
        raise KeyError(f"no policy for action {action!r}")
    return bool(rule(user, obj))


T = TypeVar("T")


def get_permitted(user: Principal, action: str, model: type[T], object_id: int) -> T:
    """The ``model`` row of ``object_id``, if ``user`` may do ``action`` on it.

    :raise NotFound: there is none, or ``user`` may not (who may not act on an object is not
        told that it exists).
    """
    from lms.extensions import db

    found = db.session.get(model, object_id)
    if found is None or not can(user, action, found):
        raise NotFound()
    return found


def require(user: Principal, action: str, obj: Any = None) -> None:
    """:raise PermissionDenied: ``user`` may not do ``action`` on ``obj``."""
    if not can(user, action, obj):
        raise PermissionDenied()
