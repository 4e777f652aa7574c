"""The policy: who may do what, decided in one place on the object.

Every decision is a named rule. Core rules (people, organisation, jobs) are stated here;
each feature states its own in its ``access`` module as a ``RULES`` mapping, and the policy
is the union of them all (a name defined twice is an error). Services call :func:`require`;
templates may call :func:`can` to decide whether to show a button. A rule handed ``None``
where it expects an object denies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from importlib import import_module
from typing import Any

from flask_login import AnonymousUserMixin

from lms.accounts.models import RoleName, User
from lms.errors import PermissionDenied

Principal = User | AnonymousUserMixin
Rule = Callable[[Principal, Any], bool]

# Feature modules whose ``RULES`` join the policy. Imported on first use, not at import time,
# because those modules import this one for ``Principal`` and the helpers below.
FEATURE_RULE_MODULES: tuple[str, ...] = ("lms.training.access", "lms.harvest.access")


def is_user(user: Principal) -> bool:
    """A logged-in, active account (anonymous visitors and disabled accounts are not)."""
    return isinstance(user, User) and user.is_authenticated and user.active


def has_role(role: RoleName) -> Rule:
    return lambda user, obj: is_user(user) and user.has_role(role)


def _admin(user: Principal, obj: Any) -> bool:
    return is_user(user) and user.is_admin


def _self(user: Principal, obj: Any) -> bool:
    return is_user(user) and isinstance(obj, User) and obj.id == user.id


CORE_RULES: dict[str, Rule] = {
    # People, roles and organisation: admins only (the services keep the last admin).
    "manage_users": _admin,
    "assign_roles": _admin,
    "manage_units": _admin,
    "manage_groups": _admin,
    "view_audit_log": _admin,
    "change_own_password": _self,
    "view_job": lambda user, obj: is_user(user)
    and obj is not None
    and (obj.owner_id == user.id or user.is_admin),
    "resume_job": lambda user, obj: is_user(user)
    and obj is not None
    and (obj.owner_id == user.id or user.is_admin),
    "manage_collections": _admin,
    "view_usage_reports": _admin,
    "view_all_jobs": _admin,
    "purge_records": _admin,
    "manage_files": _admin,  # fixity reports, storage maintenance
    "check_mirrors": _admin,  # search and OAI-PMH against the database
    "import_records": _admin,  # bulk import publishes directly, in any collection
    # Record rules need the object's collections and access lists: lms.catalog.access.
    "deposit": has_role(RoleName.INSTRUCTOR),
    "curate": has_role(RoleName.CURATOR),
    # The review queue and its task pages: curators (of some collection) and admins.
    "review_deposits": lambda user, obj: is_user(user)
    and (user.is_admin or user.has_role(RoleName.CURATOR)),
    "train": has_role(RoleName.TRAINER),
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


def require(user: Principal, action: str, obj: Any = None) -> None:
    """:raise PermissionDenied: ``user`` may not do ``action`` on ``obj``."""
    if not can(user, action, obj):
        raise PermissionDenied()
