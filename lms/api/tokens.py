"""Personal access tokens: create (the secret is returned once), list, revoke, and the check
of a presented token.

A token is ``lms_`` followed by 43 random URL-safe characters (256 bits); only its SHA-256 is
stored, so a copy of the database lets nobody use one. Looking a token up by its hash and then
comparing the hashes with :func:`hmac.compare_digest` keeps the check constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from lms import audit
from lms.accounts.models import User
from lms.api.models import PersonalAccessToken, TokenScope
from lms.db import utcnow
from lms.errors import NotFound, ServiceError, TooManyAttempts, ValidationError
from lms.extensions import db
from lms.permissions import can, require
from lms.throttle import counter_store
from lms.uow import unit_of_work

TOKEN_PREFIX = "lms_"  # noqa: S105 (a marker that makes leaked tokens greppable)
MAX_TOKEN_LENGTH = 100
# A token's last use is written at most this often: a busy script should not turn every read
# into a write.
LAST_USE_RESOLUTION = timedelta(minutes=1)


class TokenRejected(ServiceError):
    """The token is unknown, expired or revoked, or its account is disabled (one answer)."""

    status = 401

    def default_message(self) -> str:
        return _("The access token is invalid, expired or revoked.")


@dataclass(frozen=True)
class NewToken:
    token: PersonalAccessToken
    secret: str  # shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user: User, name: str, scope: str, days: int) -> NewToken:
    """A new token of ``user`` valid for ``days`` days.

    :raise PermissionDenied: ``user`` may not hold tokens.
    :raise ValidationError: no name, an unknown scope, or an expiry outside 1..max days.
    """
    require(user, "token.create")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError(_("Give the token a name of at most 100 characters."))
    if scope not in TokenScope.ALL:
        raise ValidationError(_("Choose read or write access."))
    max_days = int(current_app.config["API_TOKEN_MAX_DAYS"])
    if not 1 <= days <= max_days:
        raise ValidationError(_("A token expires after 1 to %(n)d days.", n=max_days))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with unit_of_work():
        token = PersonalAccessToken(
            user_id=user.id, name=name, token_hash=_hash(secret), prefix=secret[:10],
            scope=scope, created_at=now, expires_at=now + timedelta(days=days))
        audit.record_new("api_token_create", actor=user, obj=token,
                         details={"name": name, "scope": scope,
                                  "expires": token.expires_at.isoformat()})
    return NewToken(token, secret)


def tokens_of(user: User) -> list[PersonalAccessToken]:
    return list(db.session.scalars(select(PersonalAccessToken).where(
        PersonalAccessToken.user_id == user.id).order_by(PersonalAccessToken.id.desc())))


def all_tokens(actor: User) -> list[PersonalAccessToken]:
    """Every token of every user, newest first. :raise PermissionDenied: not an admin."""
    require(actor, "token.manage_all")
    return list(db.session.scalars(select(PersonalAccessToken)
                                   .order_by(PersonalAccessToken.id.desc())))


def revoke_token(actor: User, token_id: int) -> PersonalAccessToken:
    """Revoke a token at once (its next request is refused).

    :raise NotFound: no such token, or it is another user's and ``actor`` is no admin.
    """
    token = db.session.get(PersonalAccessToken, token_id)
    if token is None or not can(actor, "token.revoke", token):
        raise NotFound()
    if token.revoked_at is None:
        with unit_of_work():
            token.revoked_at = utcnow()
            token.revoked_by_id = actor.id
            audit.record("api_token_revoke", actor=actor, obj=token,
                         details={"name": token.name, "owner": token.user_id})
    return token


def authenticate(secret: str, ip: str | None) -> tuple[User, PersonalAccessToken]:
    """The user and token a presented secret stands for; its last use is noted.

    :raise TooManyAttempts: this address presented too many bad tokens recently.
    :raise TokenRejected: unknown, expired or revoked token, or a disabled account.
    """
    store = counter_store()
    ip_key = f"api_token:ip:{ip or '-'}"
    if store.count(ip_key) >= current_app.config["API_TOKEN_MAX_FAILURES_PER_IP"]:
        audit.record("api_token_throttled", outcome="denied", details={"ip": ip},
                     standalone=True)
        raise TooManyAttempts()
    digest = _hash(secret) if secret and len(secret) <= MAX_TOKEN_LENGTH else ""
    token = db.session.scalar(select(PersonalAccessToken).where(
        PersonalAccessToken.token_hash == digest)) if digest else None
    now = utcnow()
    if token is None or not hmac.compare_digest(token.token_hash, digest) \
            or token.state(now) != "active" or not token.user.active:
        store.hit(ip_key)
        audit.record("api_token_failure", outcome="denied",
                     object_type="personal_access_tokens",
                     object_id=token.id if token else None,
                     details={"ip": ip, "reason": token.state(now) if token else "unknown"},
                     standalone=True)
        raise TokenRejected()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_RESOLUTION:
        with unit_of_work():
            token.last_used_at = now
            token.last_used_ip = (ip or "")[:64] or None
    return token.user, token
