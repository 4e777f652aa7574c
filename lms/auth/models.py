"""Login sessions kept on the server, so that logging out really ends one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import TZDateTime, utcnow
from lms.extensions import db


class UserSession(db.Model):
    """One login. The session cookie carries its token (only its SHA-256 is stored); logout
    deletes the row, so every copy of that cookie is anonymous from then on.

    ``user_version`` is the account's ``session_version`` at login: bumping that (logout
    everywhere, password change, role change, deactivation) ends all its sessions at once.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    user_version: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime, index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200), default="")
