"""Authentication: credentials, throttling, session revocation and password changes."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from lms import audit
from lms.accounts.models import User
from lms.db import utcnow
from lms.errors import PermissionDenied, TooManyAttempts, ValidationError
from lms.extensions import db
from lms.passwords import hash_password, needs_rehash, verify_password
from lms.throttle import counter_store
from lms.uow import unit_of_work


def find_user(username: str) -> User | None:
    if not username or "\x00" in username or len(username) > 64:
        return None
    return db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def authenticate(username: str, password: str, ip: str | None) -> User:
    """Check credentials, counting failures per account and per address.

    :raise TooManyAttempts: the account or the address has failed too often recently.
    :raise PermissionDenied: wrong credentials or an inactive account (one message for all,
        so the answer does not tell whether the account exists).
    """
    config = current_app.config
    store = counter_store()
    account_key = f"login:user:{username.strip().lower()[:64]}"
    ip_key = f"login:ip:{ip or '-'}"
    if (
        store.count(account_key) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or store.count(ip_key) >= config["LOGIN_MAX_FAILURES_PER_IP"]
    ):
        audit.record(
            "login_throttled", outcome="denied", details={"username": username}, standalone=True
        )
        raise TooManyAttempts()

    user = find_user(username.strip())
    valid = verify_password(user.password_hash if user else None, password)
    if not valid or user is None or not user.active:
        store.hit(account_key)
        store.hit(ip_key)
        reason = "inactive" if (valid and user is not None) else "bad_credentials"
        audit.record(
            "login_failure",
            outcome="denied",
            object_type="users",
            object_id=user.id if user else None,
            details={"username": username, "reason": reason},
            standalone=True,
        )
        raise PermissionDenied(_("Wrong username or password, or the account is disabled."))

    store.reset(account_key)
    with unit_of_work():
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
        audit.record("login_success", actor=user, obj=user)
    return user


def check_password_rules(password: str) -> None:
    """:raise ValidationError: the password is too short or too long."""
    config = current_app.config
    if len(password) < config["PASSWORD_MIN_LENGTH"]:
        raise ValidationError(
            _("The password must have at least %(n)d characters.", n=config["PASSWORD_MIN_LENGTH"])
        )
    if len(password) > config["PASSWORD_MAX_LENGTH"]:
        raise ValidationError(_("The password is too long."))


def change_own_password(user: User, current: str, new: str) -> None:
    """Replace ``user``'s password and end their other sessions.

    :raise PermissionDenied: ``current`` is wrong.
    :raise ValidationError: ``new`` breaks the password rules or equals the old one.
    """
    if not verify_password(user.password_hash, current):
        audit.record("password_change", actor=user, obj=user, outcome="denied", standalone=True)
        raise PermissionDenied(_("The current password is wrong."))
    check_password_rules(new)
    if new == current:
        raise ValidationError(_("The new password must differ from the current one."))
    with unit_of_work():
        user.password_hash = hash_password(new)
        user.must_change_password = False
        user.session_version += 1
        audit.record("password_change", actor=user, obj=user)


def revoke_sessions(user: User) -> None:
    """Log ``user`` out everywhere."""
    with unit_of_work():
        user.session_version += 1
        audit.record("logout_all", actor=user, obj=user)


def load_session_user(session_id: str) -> User | None:
    """Resolve Flask-Login's stored id ``"<user id>:<session version>"``; stale ones fail."""
    user_id, _sep, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def set_preferred_locale(user: User, locale: str) -> None:
    """Remember ``user``'s UI language across devices."""
    if user.locale != locale:
        with unit_of_work():
            user.locale = locale
