"""Authentication: credentials, throttling, session revocation and password changes."""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from lms import audit
from lms.accounts.models import User
from lms.auth.models import UserSession
from lms.db import utcnow
from lms.errors import PermissionDenied, TooManyAttempts, ValidationError
from lms.extensions import db
from lms.passwords import Weakness, hash_password, needs_rehash, password_weakness, verify_password
from lms.permissions import require
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


def _weakness_messages() -> dict[Weakness, str]:
    return {
        Weakness.PERSONAL: _("The password must not contain your username or your name."),
        Weakness.CONTEXT: _("The password must not be built on the name of the academy or of "
                            "this site."),
        Weakness.COMMON: _("This password is one of the most common passwords or words: "
                           "choose another."),
        Weakness.REPEAT: _("The password repeats the same characters (like aaaa or abcabc), "
                           "which makes it easy to guess."),
        Weakness.SEQUENCE: _("The password is a sequence (like 12345 or abcde), which makes "
                             "it easy to guess."),
        Weakness.KEYBOARD: _("The password follows the keyboard (like qwerty or asdf), which "
                             "makes it easy to guess."),
        Weakness.DATE: _("The password is built on a date or a year, which makes it easy to "
                         "guess."),
        Weakness.GUESSABLE: _("The password is too easy to guess: a phrase of several words is "
                              "stronger and easier to remember."),
    }


def check_password_rules(password: str, *, username: str = "", full_name: str = "") -> None:
    """Length first, then guessability against common passwords, patterns, the account's own
    username and name, and the site's context words (OWASP ASVS 5.0, V6.2).

    :raise ValidationError: the password is too short, too long or too easy to guess; the
        message says which.
    """
    config = current_app.config
    if len(password) < config["PASSWORD_MIN_LENGTH"]:
        raise ValidationError(
            _("The password must have at least %(n)d characters.", n=config["PASSWORD_MIN_LENGTH"])
        )
    if len(password) > config["PASSWORD_MAX_LENGTH"]:
        raise ValidationError(_("The password is too long."))
    weakness = password_weakness(password, username=username, full_name=full_name,
                                 context_words=config["PASSWORD_CONTEXT_WORDS"])
    if weakness is not None:
        raise ValidationError(_weakness_messages()[weakness])


def change_own_password(user: User, current: str, new: str) -> None:
    """Replace ``user``'s password and end their other sessions.

    :raise PermissionDenied: ``current`` is wrong.
    :raise ValidationError: ``new`` breaks the password rules or equals the old one.
    """
    require(user, "user.change_password", user)
    if not verify_password(user.password_hash, current):
        audit.record("password_change", actor=user, obj=user, outcome="denied", standalone=True)
        raise PermissionDenied(_("The current password is wrong."))
    check_password_rules(new, username=user.username, full_name=user.full_name)
    if new == current:
        raise ValidationError(_("The new password must differ from the current one."))
    with unit_of_work():
        user.password_hash = hash_password(new)
        user.must_change_password = False
        end_all_sessions(user)  # the view opens a new one for this device
        audit.record("password_change", actor=user, obj=user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, ip: str | None, user_agent: str) -> None:
    """Open a server-side session for ``user``, who just proved who they are; its token
    becomes ``user.get_id()``, which Flask-Login keeps in the session cookie.

    The account's expired and revoked sessions are cleared on the way.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with unit_of_work():
        db.session.execute(delete(UserSession).where(
            UserSession.user_id == user.id,
            (UserSession.expires_at < now) | (UserSession.user_version != user.session_version)))
        db.session.add(UserSession(
            token_hash=_token_hash(token), user_id=user.id, user_version=user.session_version,
            created_at=now, expires_at=now + current_app.config["PERMANENT_SESSION_LIFETIME"],
            ip=ip, user_agent=(user_agent or "")[:200]))
    user.login_token = token


def end_session(user: User) -> None:
    """Log out: delete this session's row, so every copy of its cookie is anonymous."""
    token = getattr(user, "login_token", None)
    with unit_of_work():
        if token:
            db.session.execute(delete(UserSession).where(
                UserSession.token_hash == _token_hash(token)))
        audit.record("logout", actor=user, obj=user)


def end_all_sessions(user: User) -> None:
    """In the caller's unit of work: end every session of ``user`` (this one included)."""
    user.session_version += 1
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def revoke_sessions(user: User) -> None:
    """Log ``user`` out everywhere."""
    with unit_of_work():
        end_all_sessions(user)
        audit.record("logout_all", actor=user, obj=user)


def load_session_user(token: str) -> User | None:
    """The user of the live session whose token the cookie carries, else ``None``: unknown,
    logged out, expired, revoked by a session-version bump, or a disabled account."""
    if not token or len(token) > 100:
        return None
    # One statement: this runs before every request of a signed-in person.
    row = db.session.execute(
        select(UserSession.expires_at, UserSession.user_version, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == _token_hash(token))).first()
    if row is None or row.expires_at <= utcnow():
        return None
    user = row.User
    if not user.active or user.session_version != row.user_version:
        return None
    user.login_token = token
    return user


def set_preferred_locale(user: User, locale: str) -> None:
    """Remember ``user``'s UI language across devices."""
    if user.locale != locale:
        with unit_of_work():
            user.locale = locale
