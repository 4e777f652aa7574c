"""The administration area over HTTP: who gets in, users, roles, units, groups, audit log.

Every test drives the real forms (CSRF tokens included) and then checks three things: the
HTTP answer, what the page says (in English, chosen with the language switch), and what was
stored (rows and audit events).

Requests run in their own application context, so each check below opens a fresh one and
reads the database as it is after the request.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from lms.accounts.models import Group, PersonTerm, Unit, User
from lms.accounts.services import find_unit
from lms.auth.services import find_user
from lms.errors import NotFound
from lms.extensions import db
from lms.models import AuditEvent
from lms.passwords import verify_password
from tests.conftest import Browser, csrf_token
from tests.factories import PASSWORD, GroupFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.functional

NEW_PASSWORD = "a brand new passphrase"
FORBIDDEN = "You do not have permission to do this."
ADMIN_GETS = ("/admin/users", "/admin/users/new", "/admin/units", "/admin/groups",
              "/admin/groups/new", "/admin/audit")


# --- helpers -------------------------------------------------------------------------------

def english(browser: Browser) -> Browser:
    """Choose English, so that the messages checked below are the source strings."""
    assert browser.post("/language", {"language": "en"}).status_code == 302
    return browser


def login(browser: Browser, username: str, password: str = PASSWORD):
    response = english(browser).login(username, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def new_browser(app: Flask) -> Browser:
    """A second, independent browser (its own cookie jar), in English."""
    return english(Browser(app.test_client()))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def flashes(response) -> list[str]:
    page = response.get_data(as_text=True)
    found = re.findall(r'<p class="flash flash-\w+"[^>]*>(.*?)</p>', page, re.S)
    return [html.unescape(message) for message in found]


def follow(browser: Browser, response):
    """GET the page a 302 points to (and so see its flashed messages)."""
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser.client.get(response.headers["Location"])


def listed_usernames(response) -> set[str]:
    return set(re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>',
                          response.get_data(as_text=True)))


def audit_actions_in_table(response) -> list[str]:
    body = response.get_data(as_text=True).split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    # Each row's event code; the cell shows its display name.
    return re.findall(r'<tr class="outcome-\w+">\s*<td>[^<]*</td>\s*<td data-action="(\w+)">',
                      body)


def account(app: Flask, username: str) -> dict | None:
    """What is stored about ``username``, read in a fresh session (None: no such user)."""
    with app.app_context():
        user = find_user(username)
        if user is None:
            return None
        return {
            "id": user.id,
            "username": user.username,
            "full_name": user.full_name,
            "email": user.email,
            "rank": user.rank.name if user.rank else None,
            "roles": user.role_names,
            "unit": user.unit.path if user.unit else None,
            "groups": sorted(g.name for g in user.groups),
            "active": user.active,
            "must_change_password": user.must_change_password,
            "session_version": user.session_version,
            "password_hash": user.password_hash,
        }


def user_id(app: Flask, username: str) -> int:
    found = account(app, username)
    assert found is not None, username
    return found["id"]


def unit_at(app: Flask, path: str) -> dict | None:
    with app.app_context():
        try:
            unit = find_unit(path)
        except NotFound:
            return None
        return {"id": unit.id, "path": unit.path, "parent_id": unit.parent_id,
                "members": sorted(u.username for u in unit.members)}


def group_named(app: Flask, name: str) -> dict | None:
    with app.app_context():
        group = db.session.scalar(select(Group).where(Group.name == name))
        if group is None:
            return None
        return {"id": group.id, "name": group.name, "description": group.description,
                "members": [u.username for u in group.members]}


def count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def audit_events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        db.session.expunge_all()
        return list(events)


EMPTY_PROFILE = {"person_code": "", "rank_id": "0", "position_id": "0", "target_group_id": "0",
                 "cohort": "", "class_name": "", "cohort_year": ""}


def term_id(app: Flask, kind: str, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(PersonTerm.id).where(PersonTerm.kind == kind,
                                                             PersonTerm.code == code))


def user_form(**fields) -> dict:
    """The "new user" form as a browser sends it (no unit, learner, generated password)."""
    data = {"username": "", "full_name": "", "email": "", "unit_id": "0",
            "roles": ["learner"], "password": "", **EMPTY_PROFILE}
    data.update(fields)
    return data


def edit_form(app: Flask, username: str, **changes) -> dict:
    """The edit form for ``username`` as the page shows it, with ``changes`` applied."""
    with app.app_context():
        user = find_user(username)
        data = {"full_name": user.full_name, "email": user.email or "",
                "person_code": user.person_code or "", "rank_id": str(user.rank_id or 0),
                "position_id": str(user.position_id or 0),
                "target_group_id": str(user.target_group_id or 0),
                "cohort": user.cohort or "", "class_name": user.class_name or "",
                "cohort_year": str(user.cohort_year or ""),
                "unit_id": str(user.unit_id or 0), "roles": sorted(user.role_names),
                "groups": [str(g.id) for g in user.groups]}
    data.update(changes)
    return data


def make(app: Flask, factory, **fields) -> int:
    """Create a row with a factory, commit it and return its id."""
    with app.app_context():
        row = factory(**fields)
        db.session.commit()
        return row.id


def test_sql_lower_folds_vietnamese_capitals(app):
    """Case-insensitive lookups rely on it: SQLite gets Python's lower(), PostgreSQL a UTF-8
    locale (CI's cluster is initialised with C.UTF-8)."""
    with app.app_context():
        assert db.session.scalar(select(func.lower("ĐỖ VĂN"))) == "đỗ văn"


@pytest.fixture
def admin(browser: Browser, users) -> Browser:
    """The default browser, logged in as the only administrator."""
    login(browser, "admin")
    return browser


# --- who gets in ---------------------------------------------------------------------------

@pytest.mark.parametrize("url", [*ADMIN_GETS, "/admin/", "/admin/users/1", "/admin/units/1",
                                 "/admin/groups/1"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, users, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_anonymous_post_with_a_valid_token_is_sent_to_the_login_page(app, browser, users):
    response = browser.post("/admin/users/new", user_form(username="intruder", password="x" * 12))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert account(app, "intruder") is None


@pytest.mark.parametrize("role", ["learner", "curator", "instructor", "trainer"])
def test_other_roles_get_the_access_denied_page(browser, users, role):
    login(browser, role)
    for url in ADMIN_GETS:
        response = browser.client.get(url)
        assert response.status_code == 403, url
        assert FORBIDDEN in text(response)
    # The menu does not offer the administration either.
    assert 'href="/admin/users"' not in browser.client.get("/").get_data(as_text=True)


def test_every_admin_page_renders_for_an_admin(app, admin):
    with app.app_context():
        academy = UnitFactory(name="Học viện")
        faculty = UnitFactory(name="Khoa Tài chính", parent=academy)
        member = UserFactory(username="an", unit=faculty)
        group = GroupFactory(name="Tổ biên mục", members=[member])
        db.session.commit()
        ids = {"unit": faculty.id, "user": member.id, "group": group.id}
    pages = [
        *ADMIN_GETS,
        f"/admin/users/{ids['user']}",
        f"/admin/units/{ids['unit']}",
        f"/admin/groups/{ids['group']}",
        f"/admin/users?q=an&role=learner&unit={ids['unit']}&status=active",
        "/admin/users?status=inactive&role=not-a-role&unit=abc&page=99",
        "/admin/audit?action=login_success&actor=admin&outcome=success"
        "&since=2024-01-01&until=2099-12-31",
        "/admin/audit?since=2024-13-45&until=2024-02-30",
        "/admin/audit?since=yesterday&until=%01&page=-3",
    ]
    for url in pages:
        response = admin.client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    assert admin.client.get("/admin/").headers["Location"] == "/admin/users"
    for url in ("/admin/users/99999", "/admin/units/99999", "/admin/groups/99999"):
        assert admin.client.get(url).status_code == 404, url


def test_user_list_filters_narrow_the_list(app, admin):
    with app.app_context():
        unit = UnitFactory(name="Khoa Vận tải")
        UserFactory(username="hoa", full_name="Trần Thị Hoa", unit=unit)
        UserFactory(username="retired", full_name="Lê Văn Cũ", active=False)
        db.session.commit()
        unit_id = unit.id
    everyone = {"admin", "curator", "instructor", "trainer", "learner", "hoa", "retired"}

    def listed(query: str) -> set[str]:
        response = admin.client.get(f"/admin/users{query}")
        assert response.status_code == 200
        return listed_usernames(response)

    assert listed("") == everyone
    assert "7 accounts" in text(admin.client.get("/admin/users"))
    assert listed("?q=hoa") == {"hoa"}
    assert listed("?q=thị") == {"hoa"}
    assert listed("?role=curator") == {"curator"}
    assert listed(f"?unit={unit_id}") == {"hoa"}
    assert listed("?status=inactive") == {"retired"}
    assert listed("?status=active") == everyone - {"retired"}
    assert listed("?q=nobody-like-this") == set()


def test_user_search_ignores_case_of_vietnamese_letters(app, admin):
    with app.app_context():
        UserFactory(username="binh", full_name="Đỗ Văn Bình")
        db.session.commit()
    response = admin.client.get("/admin/users?q=đỗ văn")
    assert listed_usernames(response) == {"binh"}


# --- creating users ------------------------------------------------------------------------

def test_admin_creates_a_user_with_a_password(app, admin):
    unit_id = make(app, UnitFactory, name="Thư viện")
    response = admin.post("/admin/users/new", user_form(
        username="thuthu2", full_name="Nguyễn Thị Thư", unit_id=str(unit_id),
        rank_id=str(term_id(app, "rank", "dai-uy")),
        roles=["curator", "learner"], password="a good long password"))
    stored = account(app, "thuthu2")
    assert stored is not None
    assert response.headers["Location"] == f"/admin/users/{stored['id']}"
    page = follow(admin, response)
    assert "Account thuthu2 created." in flashes(page)
    assert "one-time password" not in text(page)
    assert stored["full_name"] == "Nguyễn Thị Thư"
    assert stored["roles"] == {"curator", "learner"}
    assert stored["unit"] == "Thư viện"
    assert stored["rank"] == "Đại úy"
    assert stored["must_change_password"] is False
    assert verify_password(stored["password_hash"], "a good long password")

    [event] = audit_events(app, "user_create")
    assert event.actor_name == "admin"
    assert (event.object_type, event.object_id) == ("users", str(stored["id"]))
    assert event.details == {"username": "thuthu2", "roles": ["curator", "learner"],
                             "unit": "Thư viện"}

    newcomer = new_browser(app)
    assert login(newcomer, "thuthu2", "a good long password").headers["Location"] == "/"


def test_admin_creates_a_user_without_a_password_and_gets_a_one_time_password(app, admin):
    response = admin.post("/admin/users/new", user_form(username="hocvien7"))
    [message] = flashes(follow(admin, response))
    one_time = re.fullmatch(r"Account hocvien7 created\. Its one-time password is: (\S+)",
                            message).group(1)
    stored = account(app, "hocvien7")
    assert stored["must_change_password"] is True
    assert stored["roles"] == {"learner"}
    assert verify_password(stored["password_hash"], one_time)

    newcomer = new_browser(app)
    assert login(newcomer, "hocvien7", one_time).headers["Location"] == "/account/password"
    # Every other page sends them back until the password is changed.
    assert newcomer.client.get("/").headers["Location"] == "/account/password"
    changed = newcomer.post("/account/password", {"current_password": one_time,
                                                  "new_password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD},
                            page="/account/password")
    assert changed.status_code == 302
    assert newcomer.client.get("/").status_code == 200
    assert account(app, "hocvien7")["must_change_password"] is False


@pytest.mark.parametrize("username", ["LEARNER", "Learner", "learner"])
def test_duplicate_username_is_refused_whatever_its_case(app, admin, username):
    before = count(app, User)
    response = admin.post("/admin/users/new", user_form(username=username, password="x" * 12))
    assert response.status_code == 409
    assert f"The username {username} is already taken." in text(response)
    assert count(app, User) == before
    assert audit_events(app, "user_create") == []


# The form checks the length (400); the service checks the characters (422).
FORM_LENGTH = "Field must be between 2 and 64 characters long."
SERVICE_RULE = "A username has 2–64 characters: letters a–z, digits, '.', '_' or '-'."


@pytest.mark.parametrize(("username", "status", "message"), [
    ("an nguyen", 422, SERVICE_RULE),  # space
    ("a", 400, FORM_LENGTH),  # one character
    ("a" * 65, 400, FORM_LENGTH),  # too long
    ("-dash-first", 422, SERVICE_RULE),
    ("nguyễn", 422, SERVICE_RULE),  # not ASCII
])
def test_bad_usernames_are_refused(app, admin, username, status, message):
    before = count(app, User)
    response = admin.post("/admin/users/new", user_form(username=username, password="x" * 12))
    assert response.status_code == status
    page = text(response)
    assert 'name="username"' in page  # the form is shown again
    assert message in page
    assert count(app, User) == before


def test_too_short_password_is_refused(app, admin):
    response = admin.post("/admin/users/new", user_form(username="shorty", password="123456789"))
    assert response.status_code == 422
    assert "The password must have at least 10 characters." in text(response)
    assert account(app, "shorty") is None


def test_admin_creates_a_user_with_an_email_address(app, admin):
    response = admin.post("/admin/users/new", user_form(
        username="mail", email="mail@hvhc.edu.vn", password="a good long password"))
    assert response.status_code == 302
    assert account(app, "mail")["email"] == "mail@hvhc.edu.vn"


# --- roles -----------------------------------------------------------------------------------

def test_admin_gives_a_learner_the_curator_role_and_ends_their_sessions(app, admin):
    learner = new_browser(app)
    login(learner, "learner")
    assert learner.client.get("/account/password").status_code == 200
    before = account(app, "learner")

    response = admin.post(f"/admin/users/{before['id']}",
                          edit_form(app, "learner", roles=["curator", "learner"]))
    assert response.headers["Location"] == f"/admin/users/{before['id']}"
    assert "Changes to learner saved." in flashes(follow(admin, response))

    after = account(app, "learner")
    assert after["roles"] == {"curator", "learner"}
    assert after["session_version"] == before["session_version"] + 1
    [event] = audit_events(app, "user_update")
    assert event.actor_name == "admin"
    assert event.object_id == str(before["id"])
    assert event.details["before"]["roles"] == ["learner"]
    assert event.details["after"]["roles"] == ["curator", "learner"]

    # The session opened under the old role is over.
    response = learner.client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_saving_without_changes_keeps_sessions_and_writes_no_audit_row(app, admin):
    learner = new_browser(app)
    login(learner, "learner")
    learner_id = user_id(app, "learner")
    before = account(app, "learner")
    response = admin.post(f"/admin/users/{learner_id}", edit_form(app, "learner"))
    assert response.status_code == 302
    assert account(app, "learner")["session_version"] == before["session_version"]
    assert audit_events(app, "user_update") == []
    assert learner.client.get("/account/password").status_code == 200


def test_admin_edits_profile_unit_and_groups(app, admin):
    unit_id = make(app, UnitFactory, name="Phòng Đào tạo")
    group_id = make(app, GroupFactory, name="Cán bộ")
    trainer_id = user_id(app, "trainer")
    response = admin.post(f"/admin/users/{trainer_id}", edit_form(
        app, "trainer", full_name="Lê Văn Huấn", unit_id=str(unit_id), groups=[str(group_id)]))
    assert response.status_code == 302
    stored = account(app, "trainer")
    assert (stored["full_name"], stored["unit"], stored["groups"]) == (
        "Lê Văn Huấn", "Phòng Đào tạo", ["Cán bộ"])
    assert stored["roles"] == {"trainer"}
    [event] = audit_events(app, "user_update")
    assert event.details["after"] == {"roles": ["trainer"], "unit": "Phòng Đào tạo",
                                      "groups": ["Cán bộ"]}
    page = admin.client.get(f"/admin/users/{trainer_id}")
    assert "Lê Văn Huấn" in text(page)


def test_a_curator_cannot_assign_roles(app, browser, users):
    login(browser, "curator")
    for username in ("learner", "curator"):
        target = account(app, username)
        response = browser.post(f"/admin/users/{target['id']}",
                                edit_form(app, username, roles=["admin", "curator"]))
        assert response.status_code == 403
        assert FORBIDDEN in text(response)
        assert account(app, username)["roles"] == target["roles"]
    assert audit_events(app, "user_update") == []


def test_a_learner_cannot_grant_themselves_admin_through_any_form(app, browser, users):
    login(browser, "learner")
    learner_id = user_id(app, "learner")
    smuggled = {"role": "admin", "roles": ["admin", "learner"], "is_admin": "1"}

    assert browser.post(f"/admin/users/{learner_id}", smuggled).status_code == 403
    assert browser.post("/admin/users/new", {**smuggled, "username": "evil",
                                             "password": "x" * 12}).status_code == 403
    assert browser.post(f"/admin/users/{learner_id}/active",
                        {**smuggled, "active": "1"}).status_code == 403
    assert browser.post("/language", {**smuggled, "language": "en"}).status_code == 302
    changed = browser.post("/account/password", {**smuggled, "current_password": PASSWORD,
                                                 "new_password": NEW_PASSWORD,
                                                 "confirm": NEW_PASSWORD},
                           page="/account/password")
    assert changed.status_code == 302
    assert browser.client.get("/admin/users").status_code == 403

    assert account(app, "learner")["roles"] == {"learner"}
    assert account(app, "evil") is None
    assert audit_events(app, "user_update") == audit_events(app, "user_create") == []


# --- the last administrator ----------------------------------------------------------------

def test_the_last_admin_cannot_remove_their_own_admin_role(app, admin):
    before = account(app, "admin")
    response = admin.post(f"/admin/users/{before['id']}",
                          edit_form(app, "admin", roles=["curator"]))
    assert response.status_code == 409
    assert ("admin is the last active administrator and cannot be demoted or disabled."
            in text(response))
    after = account(app, "admin")
    assert after["roles"] == {"admin"}
    assert after["session_version"] == before["session_version"]
    assert audit_events(app, "user_update") == []
    assert admin.client.get("/admin/users").status_code == 200  # still logged in


def test_the_last_active_admin_cannot_be_deactivated(app, admin):
    # An inactive administrator does not count.
    make(app, UserFactory, username="old-admin", roles=["admin"], active=False)
    admin_id = user_id(app, "admin")
    response = admin.post(f"/admin/users/{admin_id}/active", {"active": "0"})
    assert response.status_code == 409
    assert "admin is the last active administrator" in text(response)
    assert account(app, "admin")["active"] is True
    assert audit_events(app, "user_deactivate") == []


def test_with_two_admins_one_can_be_demoted(app, admin):
    make(app, UserFactory, username="admin2", roles=["admin"])
    response = admin.post(f"/admin/users/{user_id(app, 'admin2')}",
                          edit_form(app, "admin2", roles=["learner"]))
    assert response.status_code == 302
    assert account(app, "admin2")["roles"] == {"learner"}
    # Now the acting admin is the last one again.
    response = admin.post(f"/admin/users/{user_id(app, 'admin')}",
                          edit_form(app, "admin", roles=["learner"]))
    assert response.status_code == 409


def test_an_admin_can_drop_their_own_admin_role_when_another_admin_remains(app, admin):
    make(app, UserFactory, username="admin2", roles=["admin"])
    response = admin.post(f"/admin/users/{user_id(app, 'admin')}",
                          edit_form(app, "admin", roles=["curator"]))
    assert response.status_code == 302
    assert account(app, "admin")["roles"] == {"curator"}
    assert account(app, "admin2")["roles"] == {"admin"}
    # Their own session was opened as an admin: it is over.
    assert admin.client.get("/admin/users").headers["Location"].startswith("/login")


# --- enabling, disabling, resetting --------------------------------------------------------

def test_deactivating_ends_sessions_and_blocks_login_until_re_enabled(app, admin):
    learner = new_browser(app)
    login(learner, "learner")
    before = account(app, "learner")
    url = f"/admin/users/{before['id']}/active"

    page = follow(admin, admin.post(url, {"active": "0"}))
    assert "Account disabled." in flashes(page)
    assert "Enable account" in text(page)
    stored = account(app, "learner")
    assert stored["active"] is False
    assert stored["session_version"] == before["session_version"] + 1
    assert learner.client.get("/account/password").headers["Location"].startswith("/login")
    refused = new_browser(app).login("learner", PASSWORD)
    assert refused.status_code == 401
    assert "Wrong username or password, or the account is disabled." in text(refused)
    assert listed_usernames(admin.client.get("/admin/users?status=inactive")) == {"learner"}

    page = follow(admin, admin.post(url, {"active": "1"}))
    assert "Account enabled." in flashes(page)
    assert account(app, "learner")["active"] is True
    login(new_browser(app), "learner")

    [off] = audit_events(app, "user_deactivate")
    [on] = audit_events(app, "user_activate")
    assert off.actor_name == on.actor_name == "admin"
    assert off.object_id == on.object_id == str(before["id"])
    assert off.id < on.id


def test_reset_password_gives_a_one_time_password(app, admin):
    learner = new_browser(app)
    login(learner, "learner")
    before = account(app, "learner")

    response = admin.post(f"/admin/users/{before['id']}/reset-password")
    [message] = flashes(follow(admin, response))
    one_time = re.fullmatch(r"New one-time password for learner: ([\w-]+)\. "
                            r"It must be changed at next login\.", message).group(1)

    stored = account(app, "learner")
    assert stored["must_change_password"] is True
    assert stored["session_version"] == before["session_version"] + 1
    assert not verify_password(stored["password_hash"], PASSWORD)
    assert learner.client.get("/account/password").headers["Location"].startswith("/login")
    [event] = audit_events(app, "password_reset")
    assert (event.actor_name, event.object_id) == ("admin", str(before["id"]))
    assert one_time not in str(event.details)

    assert new_browser(app).login("learner", PASSWORD).status_code == 401
    fresh = new_browser(app)
    assert login(fresh, "learner", one_time).headers["Location"] == "/account/password"
    assert fresh.client.get("/admin/users").headers["Location"] == "/account/password"


# --- units ---------------------------------------------------------------------------------

def test_admin_creates_a_root_and_children(app, admin):
    response = admin.post("/admin/units", {"name": "Học viện Hậu cần", "parent_id": "0"})
    assert response.headers["Location"] == "/admin/units"
    assert "Unit created." in flashes(follow(admin, response))
    root = unit_at(app, "Học viện Hậu cần")
    assert root["parent_id"] is None
    for name in ("Khoa Tài chính", "Khoa Vận tải"):
        assert admin.post("/admin/units", {"name": name,
                                           "parent_id": str(root["id"])}).status_code == 302
    child = unit_at(app, "Học viện Hậu cần/Khoa Tài chính")
    assert child["parent_id"] == root["id"]
    assert unit_at(app, "Học viện Hậu cần/Khoa Vận tải")["parent_id"] == root["id"]

    page = text(admin.client.get("/admin/units"))
    assert page.index("Học viện Hậu cần") < page.index("Khoa Tài chính") < page.index(
        "Khoa Vận tải")
    assert [e.details["path"] for e in audit_events(app, "unit_create")] == [
        "Học viện Hậu cần", "Học viện Hậu cần/Khoa Tài chính", "Học viện Hậu cần/Khoa Vận tải"]


def test_duplicate_sibling_unit_name_is_refused(app, admin):
    with app.app_context():
        root = UnitFactory(name="Học viện")
        UnitFactory(name="Khoa A", parent=root)
        other = UnitFactory(name="Trường khác")
        db.session.commit()
        root_id, other_id = root.id, other.id
    before = count(app, Unit)
    for name, parent_id in (("Khoa A", root_id), ("  Khoa A ", root_id), ("Học viện", 0)):
        response = admin.post("/admin/units", {"name": name, "parent_id": str(parent_id)})
        assert response.status_code == 409, name
        assert f"A unit named {name.strip()} already exists there." in text(response)
    assert count(app, Unit) == before
    # The same name elsewhere in the tree is fine.
    assert admin.post("/admin/units", {"name": "Khoa A",
                                       "parent_id": str(other_id)}).status_code == 302
    assert unit_at(app, "Trường khác/Khoa A") is not None


@pytest.mark.parametrize(("name", "message"), [
    ("Khoa/Lớp", "A unit name must not contain '/'."),
    ("Khoa\u202eTài chính", "Unit name contains invalid characters."),  # RTL override
    ("Khoa\u200bẩn", "Unit name contains invalid characters."),  # zero-width space
    ("Khoa\tTab", "Unit name contains invalid characters."),
])
def test_bad_unit_names_are_refused(app, admin, name, message):
    response = admin.post("/admin/units", {"name": name, "parent_id": "0"})
    assert response.status_code == 422
    assert message in text(response)
    assert count(app, Unit) == 0
    assert audit_events(app, "unit_create") == []


def test_nul_in_a_form_is_refused_before_anything_else(app, admin):
    response = admin.post("/admin/units", {"name": "Khoa\x00Tài chính", "parent_id": "0"})
    assert response.status_code == 400
    assert count(app, Unit) == 0


def test_a_unit_cannot_move_under_itself_or_its_descendants(app, admin):
    with app.app_context():
        academy = UnitFactory(name="Học viện")
        faculty = UnitFactory(name="Khoa", parent=academy)
        klass = UnitFactory(name="Lớp 1", parent=faculty)
        other = UnitFactory(name="Trường khác")
        db.session.commit()
        ids = {"academy": academy.id, "faculty": faculty.id, "class": klass.id,
               "other": other.id}

    for moved, new_parent in (("academy", "class"), ("academy", "faculty"),
                              ("academy", "academy"), ("faculty", "class")):
        name = "Học viện" if moved == "academy" else "Khoa"
        response = admin.post(f"/admin/units/{ids[moved]}",
                              {"name": name, "parent_id": str(ids[new_parent])})
        assert response.status_code == 409, (moved, new_parent)
        assert ("A unit cannot be moved under itself or one of its own sub-units."
                in text(response))
    assert unit_at(app, "Học viện")["parent_id"] is None
    assert unit_at(app, "Học viện/Khoa/Lớp 1")["id"] == ids["class"]
    assert audit_events(app, "unit_update") == []

    # Moving (and renaming) elsewhere works.
    response = admin.post(f"/admin/units/{ids['faculty']}",
                          {"name": "Khoa Tài chính", "parent_id": str(ids["other"])})
    assert response.headers["Location"] == "/admin/units"
    assert "Unit saved." in flashes(follow(admin, response))
    assert unit_at(app, "Trường khác/Khoa Tài chính/Lớp 1")["id"] == ids["class"]
    assert unit_at(app, "Học viện/Khoa") is None
    [event] = audit_events(app, "unit_update")
    assert event.details == {"before": "Học viện/Khoa", "after": "Trường khác/Khoa Tài chính"}
    # ... and back to the root.
    assert admin.post(f"/admin/units/{ids['class']}",
                      {"name": "Lớp 1", "parent_id": "0"}).status_code == 302
    assert unit_at(app, "Lớp 1")["id"] == ids["class"]


def test_renaming_onto_a_sibling_name_is_refused(app, admin):
    with app.app_context():
        root = UnitFactory(name="Học viện")
        UnitFactory(name="Khoa A", parent=root)
        b = UnitFactory(name="Khoa B", parent=root)
        db.session.commit()
        root_id, b_id = root.id, b.id
    response = admin.post(f"/admin/units/{b_id}", {"name": "Khoa A", "parent_id": str(root_id)})
    assert response.status_code == 409
    assert unit_at(app, "Học viện/Khoa B")["id"] == b_id


def test_deleting_units(app, admin):
    with app.app_context():
        root = UnitFactory(name="Học viện")
        staffed = UnitFactory(name="Thư viện", parent=root)
        empty = UnitFactory(name="Kho cũ", parent=root)
        UserFactory(username="thu", unit=staffed)
        db.session.commit()
        ids = {"root": root.id, "staffed": staffed.id, "empty": empty.id}

    response = admin.post(f"/admin/units/{ids['staffed']}/delete")
    assert response.status_code == 409
    assert "Thư viện still has 1 members; move them first." in text(response)
    response = admin.post(f"/admin/units/{ids['root']}/delete")
    assert response.status_code == 409
    assert "Học viện still has sub-units; move or delete them first." in text(response)
    assert count(app, Unit) == 3
    assert unit_at(app, "Học viện/Thư viện")["members"] == ["thu"]

    response = admin.post(f"/admin/units/{ids['empty']}/delete")
    assert response.headers["Location"] == "/admin/units"
    assert "Unit deleted." in flashes(follow(admin, response))
    assert unit_at(app, "Học viện/Kho cũ") is None
    assert count(app, Unit) == 2
    [event] = audit_events(app, "unit_delete")
    assert (event.actor_name, event.object_id) == ("admin", str(ids["empty"]))
    assert event.details == {"path": "Học viện/Kho cũ"}


# --- groups --------------------------------------------------------------------------------

def test_admin_creates_a_group_with_members_by_username(app, admin):
    response = admin.post("/admin/groups/new", {
        "name": "Tổ biên mục", "description": "Nhóm biên mục thư viện",
        "members": "curator\r\n  Learner  \n\n"})
    assert response.headers["Location"] == "/admin/groups"
    page = follow(admin, response)
    assert "Group saved." in flashes(page)
    assert "Tổ biên mục" in text(page)
    group = group_named(app, "Tổ biên mục")
    assert group["members"] == ["curator", "learner"]
    assert group["description"] == "Nhóm biên mục thư viện"
    [event] = audit_events(app, "group_save")
    assert event.actor_name == "admin"
    assert event.details == {"name": "Tổ biên mục", "members_before": [],
                             "members_after": ["curator", "learner"]}


def test_unknown_member_username_saves_nothing(app, admin):
    response = admin.post("/admin/groups/new", {"name": "Tổ biên mục",
                                                "members": "curator\nghost"})
    assert response.status_code == 422
    assert "No user named ghost." in text(response)
    assert "curator\nghost" in text(response)  # what was typed is kept
    assert count(app, Group) == 0
    assert audit_events(app, "group_save") == []


def test_duplicate_group_name_is_refused_whatever_its_case(app, admin):
    make(app, GroupFactory, name="Reviewers")
    response = admin.post("/admin/groups/new", {"name": "REVIEWERS", "members": "learner"})
    assert response.status_code == 409
    assert "A group named REVIEWERS already exists." in text(response)
    assert count(app, Group) == 1
    assert group_named(app, "Reviewers")["members"] == []


def test_duplicate_vietnamese_group_name_is_refused_whatever_its_case(app, admin):
    make(app, GroupFactory, name="TỔ BIÊN MỤC")
    response = admin.post("/admin/groups/new", {"name": "tổ biên mục", "members": ""})
    assert response.status_code == 409
    assert count(app, Group) == 1


def test_admin_edits_group_membership(app, admin):
    with app.app_context():
        members = [find_user("curator"), find_user("learner")]
        group = GroupFactory(name="Lớp bồi dưỡng", members=members)
        db.session.commit()
        group_id = group.id
    page = admin.client.get(f"/admin/groups/{group_id}")
    assert "curator\nlearner" in text(page)

    response = admin.post(f"/admin/groups/{group_id}", {
        "name": "Lớp bồi dưỡng K1", "description": "", "members": "trainer learner"})
    assert response.status_code == 302
    assert group_named(app, "Lớp bồi dưỡng") is None
    assert group_named(app, "Lớp bồi dưỡng K1")["members"] == ["learner", "trainer"]
    assert account(app, "curator")["groups"] == []
    [event] = audit_events(app, "group_save")
    assert event.details["members_before"] == ["curator", "learner"]
    assert event.details["members_after"] == ["learner", "trainer"]

    # Changing only the case of its own name is not a clash.
    assert admin.post(f"/admin/groups/{group_id}", {
        "name": "LỚP BỒI DƯỠNG K1", "members": ""}).status_code == 302
    assert group_named(app, "LỚP BỒI DƯỠNG K1")["members"] == []


def test_a_member_listed_twice_is_added_once(app, admin):
    response = admin.post("/admin/groups/new", {"name": "Tổ biên mục",
                                                "members": "learner\ncurator\nLEARNER"})
    assert response.status_code == 302
    assert group_named(app, "Tổ biên mục")["members"] == ["curator", "learner"]


# --- hostile or malformed input ------------------------------------------------------------

def test_over_long_full_name_is_refused_with_the_form(app, admin):
    learner_id = user_id(app, "learner")
    before = account(app, "learner")
    response = admin.post(f"/admin/users/{learner_id}",
                          edit_form(app, "learner", full_name="ễ" * 201))
    assert response.status_code == 400
    page = text(response)
    assert 'name="full_name"' in page
    assert "Field cannot be longer than 200 characters." in page
    assert account(app, "learner") == before

    response = admin.post("/admin/users/new", user_form(username="longname",
                                                        full_name="a" * 201))
    assert response.status_code == 400
    assert account(app, "longname") is None

    # 200 characters is the limit, not over it.
    response = admin.post(f"/admin/users/{learner_id}",
                          edit_form(app, "learner", full_name="ễ" * 200))
    assert response.status_code == 302
    assert account(app, "learner")["full_name"] == "ễ" * 200


def test_control_characters_in_a_full_name_are_refused(app, admin):
    learner_id = user_id(app, "learner")
    before = account(app, "learner")
    response = admin.post(f"/admin/users/{learner_id}",
                          edit_form(app, "learner", full_name="Nguyễn\u202eVăn"))
    assert response.status_code == 422
    assert "Full name contains invalid characters." in text(response)
    assert account(app, "learner") == before


def test_non_utf8_form_bytes_do_not_break_the_server(app, admin):
    token = csrf_token(admin.client, "/admin/units")
    body = b"csrf_token=" + token.encode() + b"&parent_id=0&name=Khoa%FF%FE%C3"
    response = admin.client.post("/admin/units", data=body,
                                 content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302
    with app.app_context():
        names = db.session.scalars(select(Unit.name)).all()
    for name in names:  # whatever was kept is valid text
        assert isinstance(name, str)
        name.encode("utf-8")


# NUL never reaches a query (PostgreSQL refuses it in text): it is a 400 at the edge.
def test_nul_bytes_in_list_and_audit_filters_are_refused(app, admin):
    for url in ("/admin/users?q=lear%00ner", "/admin/audit?actor=ad%00min",
                "/admin/audit?action=login_success%00", "/admin/audit?outcome=%00"):
        response = admin.client.get(url)
        assert response.status_code == 400, url


def test_nul_byte_in_a_member_name_is_refused(app, admin):
    response = admin.post("/admin/groups/new", {"name": "Tổ", "members": "curator\nlear\x00ner"})
    assert response.status_code == 400
    assert count(app, Group) == 0


def test_script_in_a_full_name_is_escaped_in_the_user_list(app, admin):
    make(app, UserFactory, username="mallory", full_name="<script>alert(1)</script>")
    page = admin.client.get("/admin/users").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    edit = admin.client.get(f"/admin/users/{user_id(app, 'mallory')}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in edit


# --- the audit log -------------------------------------------------------------------------

def test_audit_log_lists_events_and_filters_narrow_it(app, admin):
    assert admin.post("/admin/units", {"name": "Kho sach", "parent_id": "0"}).status_code == 302
    assert admin.post("/admin/users/new", user_form(username="an")).status_code == 302
    assert new_browser(app).login("nobody", "wrong password").status_code == 401

    everything = admin.client.get("/admin/audit")
    assert everything.status_code == 200
    actions = audit_actions_in_table(everything)
    assert {"login_success", "unit_create", "user_create", "login_failure"} <= set(actions)
    assert actions[0] == "login_failure"  # newest first

    def shown(query: str) -> list[str]:
        response = admin.client.get(f"/admin/audit?{query}")
        assert response.status_code == 200, query
        return audit_actions_in_table(response)

    assert shown("action=unit_create") == ["unit_create"]
    assert '{"path": "Kho sach"}' in text(admin.client.get("/admin/audit?action=unit_create"))
    assert shown("outcome=denied") == ["login_failure"]
    assert set(shown("actor=admin")) == {"login_success", "unit_create", "user_create"}
    assert shown("actor=learner") == []
    assert "No events match these filters." in text(admin.client.get("/admin/audit?actor=x"))
    today = datetime.now(UTC).date()
    assert shown(f"since={today + timedelta(days=1)}") == []
    assert shown(f"until={today - timedelta(days=1)}") == []
    assert shown(f"since={today - timedelta(days=1)}&until={today + timedelta(days=1)}") == actions
    assert shown("since=2024-13-45&until=not-a-date") == actions  # bad dates are ignored


def test_audit_table_is_append_only(app, admin):
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert rows  # at least the admin's login_success
        with pytest.raises(DBAPIError):
            db.session.execute(update(AuditEvent).values(action="tampered"))
            db.session.flush()
        db.session.rollback()
        with pytest.raises(DBAPIError):
            db.session.execute(delete(AuditEvent))
            db.session.flush()
        db.session.rollback()
        with pytest.raises(DBAPIError):
            event = db.session.scalars(select(AuditEvent)).first()
            event.outcome = "denied"
            db.session.commit()
        db.session.rollback()
    with app.app_context():
        assert db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all() == rows
