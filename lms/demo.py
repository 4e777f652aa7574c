"""Demo content for a new instance: a unit tree and one account per role.

Written for the demo; never the benchmark corpus. Running it again changes nothing, and
prints the same logins (kept in the instance folder, readable only by its owner).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from lms.accounts.models import Group, RoleName
from lms.accounts.services import Profile, UserInput, create_unit_path, create_user
from lms.auth.services import find_user
from lms.extensions import db
from lms.passwords import hash_password, verify_password
from lms.uow import unit_of_work

ACADEMY = "Học viện Hậu cần"
DEMO_UNITS = (
    f"{ACADEMY}/Khoa Hậu cần/Lớp Hậu cần 1",
    f"{ACADEMY}/Khoa Tài chính/Lớp Tài chính 1",
    f"{ACADEMY}/Khoa Vận tải",
    f"{ACADEMY}/Phòng Đào tạo",
    f"{ACADEMY}/Thư viện",
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    role: RoleName
    unit: str


DEMO_ACCOUNTS = (
    DemoAccount("admin", "Quản trị hệ thống", RoleName.ADMIN, f"{ACADEMY}/Phòng Đào tạo"),
    DemoAccount("thuthu", "Nguyễn Thị Thư", RoleName.CURATOR, f"{ACADEMY}/Thư viện"),
    DemoAccount("giangvien", "Trần Văn Giảng", RoleName.INSTRUCTOR, f"{ACADEMY}/Khoa Hậu cần"),
    # The training officer organises training for the whole academy: their unit is its root,
    # so the audiences of every faculty and class are theirs to manage.
    DemoAccount("huanluyen", "Lê Văn Huấn", RoleName.TRAINER, ACADEMY),
    DemoAccount("hocvien", "Phạm Văn Học", RoleName.LEARNER,
                f"{ACADEMY}/Khoa Hậu cần/Lớp Hậu cần 1"),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


def _stored_passwords(path: Path) -> dict[str, str]:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _store_passwords(path: Path, passwords: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(passwords, fh, indent=1)


def load_demo(instance: Path) -> list[DemoLogin]:
    """Create what is missing of the demo; return the demo logins."""
    for path in DEMO_UNITS:
        create_unit_path(None, path)

    password_file = instance / "demo-logins.json"
    passwords = _stored_passwords(password_file)
    logins = []
    for account in DEMO_ACCOUNTS:
        password = passwords.get(account.username) or secrets.token_urlsafe(9)
        user = find_user(account.username)
        if user is None:
            user, _ = create_user(None, UserInput(
                username=account.username, profile=Profile(full_name=account.full_name),
                password=password,
                roles=(str(account.role),), unit_path=account.unit, is_demo=True))
        elif user.is_demo and not verify_password(user.password_hash, password):
            with unit_of_work():
                user.password_hash = hash_password(password)
        if user.is_demo:
            passwords[account.username] = password
            logins.append(DemoLogin(account.username, password, str(account.role)))
    _store_passwords(password_file, passwords)

    if db.session.scalar(select(Group).where(Group.name == "Tổ biên mục")) is None:
        with unit_of_work():
            curators = [u for u in (find_user("thuthu"), find_user("admin")) if u is not None]
            db.session.add(Group(name="Tổ biên mục", description="Nhóm biên mục thư viện",
                                 members=curators))
    return logins
