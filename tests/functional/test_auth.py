"""Login, logout, throttling, CSRF, session revocation and redirects, through real forms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from lms.accounts.models import User
from lms.auth.models import UserSession
from lms.db import utcnow
from lms.extensions import db
from lms.models import AuditEvent, ThrottleCounter
from tests.factories import PASSWORD

pytestmark = pytest.mark.functional


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_login_with_the_right_password_opens_a_session(app, browser, users, client):
    response = browser.login("learner", PASSWORD)
    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200
    assert "login_success" in audit_actions(app)


def test_username_is_case_insensitive(browser, users, client):
    assert browser.login("LEARNER", PASSWORD).status_code == 302


@pytest.mark.parametrize("username, password", [
    ("learner", "wrong password!"),
    ("nobody", PASSWORD),
])
def test_wrong_credentials_get_one_message_and_are_logged(app, browser, users, client,
                                                          username, password):
    response = browser.login(username, password)
    assert response.status_code == 401
    # A fresh visitor sees the default UI language, Vietnamese.
    assert "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đã bị vô hiệu hóa." in \
        response.get_data(as_text=True)
    assert client.get("/account/password").status_code == 302
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event.action == "login_failure" and event.outcome == "denied"
        assert event.details["username"] == username


def test_deactivated_user_cannot_log_in(app, browser, users):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "learner"))
        user.active = False
        db.session.commit()
    assert browser.login("learner", PASSWORD).status_code == 401


def test_login_without_csrf_token_is_refused(app, client, users):
    response = client.post("/login", data={"username": "learner", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/account/password").status_code == 302
    assert "csrf_failure" in audit_actions(app)


def test_token_from_before_login_cannot_be_replayed(browser, client, users):
    old_token_page = client.get("/").get_data(as_text=True)
    browser.login("learner", PASSWORD)
    from tests.conftest import CSRF_INPUT

    stale = CSRF_INPUT.search(old_token_page).group(1)
    response = client.post("/logout", data={"csrf_token": stale})
    assert response.status_code == 400
    assert client.get("/account/password").status_code == 200  # still logged in


def test_logout_is_a_post_with_csrf(browser, client, users):
    browser.login("learner", PASSWORD)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert browser.logout().status_code == 302
    assert client.get("/account/password").status_code == 302


def test_session_is_regenerated_on_login(browser, client, users):
    with client.session_transaction() as session:
        session["planted"] = "by attacker"
    browser.login("learner", PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session


@pytest.mark.parametrize("target", [
    "//evil.example", "/\\evil.example", "\\/evil.example", "///evil.example",
    "https:evil.example", "%2F%2Fevil.example", "/%2F%2Fevil.example", "javascript:alert(1)",
    "http://intranet@evil.example/", "https://evil.example/",
])
def test_next_never_leaves_the_site(browser, users, target):
    response = browser.login("learner", PASSWORD, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_keeps_a_local_path(browser, users):
    response = browser.login("learner", PASSWORD, next="/account/password?x=1")
    assert response.headers["Location"] == "/account/password?x=1"


def test_throttle_per_account_then_recovery(app, browser, users, client):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert browser.login("learner", "wrong password!").status_code == 401
    # Even the right password is refused while the account is throttled.
    assert browser.login("learner", PASSWORD).status_code == 429
    assert "login_throttled" in audit_actions(app)
    with app.app_context():
        row = db.session.get(ThrottleCounter, "login:user:learner")
        assert row.count == limit
        # The window passes: simulate by moving its start back.
        from datetime import timedelta

        row.window_start -= timedelta(seconds=app.config["LOGIN_THROTTLE_WINDOW_SECONDS"] + 1)
        db.session.commit()
    assert browser.login("learner", PASSWORD).status_code == 302


def test_throttle_per_address_covers_many_accounts(app, browser, users):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    for name in ("a1", "a2", "a3"):
        browser.login(name, "whatever password")
    assert browser.login("learner", PASSWORD).status_code == 429


def test_counters_are_shared_through_the_database(app, browser, users):
    # A second app instance (another gunicorn worker) sees the same counters.
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        browser.login("learner", "wrong password!")
    from tests.conftest import make_app

    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATA_DIR"])
    from tests.conftest import Browser

    assert Browser(other.test_client()).login("learner", PASSWORD).status_code == 429


def test_password_change_ends_other_sessions(app, users):
    from tests.conftest import Browser

    phone, laptop = Browser(app.test_client()), Browser(app.test_client())
    phone.login("learner", PASSWORD)
    laptop.login("learner", PASSWORD)
    response = laptop.post("/account/password", {
        "current_password": PASSWORD, "new_password": "a brand new passphrase",
        "confirm": "a brand new passphrase"}, page="/account/password")
    assert response.status_code == 302
    assert laptop.client.get("/account/password").status_code == 200  # this device stays in
    assert phone.client.get("/account/password").status_code == 302  # the other is out
    assert phone.login("learner", "a brand new passphrase").status_code == 302
    assert "password_change" in audit_actions(app)


@pytest.mark.parametrize("new, message", [
    ("aaaaaaaaaa", "repeats the same characters"),
    ("1234567890", "one of the most common passwords"),
    ("gv2gv2gv2gv2", "repeats the same characters"),
    ("qwertyuiop[]", "keyboard"),
    ("learner-2025-learner", "your username or your name"),
    ("Nguyễn Văn Học 1990", "your username or your name"),
    ("hocvienhaucan2025", "name of the academy"),
])
def test_guessable_passwords_are_refused_with_the_reason(app, browser, users, new, message):
    """Issue 14, observation 8; ASVS 5.0 V6.2: common passwords, patterns, the account's own
    username and name, and the academy's name are refused, and the message says why."""
    with app.app_context():
        learner = db.session.scalar(select(User).where(User.username == "learner"))
        learner.full_name = "Nguyễn Văn Học"
        db.session.commit()
        stored = learner.password_hash
    browser.post("/language", {"language": "en"})
    browser.login("learner", PASSWORD)
    response = browser.post("/account/password", {
        "current_password": PASSWORD, "new_password": new, "confirm": new},
        page="/account/password")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, users["learner"].id).password_hash == stored


@pytest.mark.parametrize("new, confirm, current, status", [
    ("short", "short", PASSWORD, 422),  # too short
    ("a brand new passphrase", "something else!", PASSWORD, 400),  # the two do not match
    ("a brand new passphrase", "a brand new passphrase", "not my password", 403),
])
def test_bad_password_changes_change_nothing(app, browser, users, new, confirm, current, status):
    browser.login("learner", PASSWORD)
    response = browser.post("/account/password", {
        "current_password": current, "new_password": new, "confirm": confirm},
        page="/account/password")
    assert response.status_code == status
    browser.logout()
    assert browser.login("learner", PASSWORD).status_code == 302


def test_logout_everywhere_revokes_copied_cookies(app, users):
    from tests.conftest import Browser

    first, second = Browser(app.test_client()), Browser(app.test_client())
    first.login("learner", PASSWORD)
    second.login("learner", PASSWORD)
    assert first.post("/logout-everywhere").status_code == 302
    assert second.client.get("/account/password").status_code == 302


def test_cookie_copied_before_logout_is_useless_after_it(app, browser, users, client):
    """Issue 14, observation 7: logout revokes the session on the server, so a replayed copy
    of the cookie is anonymous (nothing else bumped)."""
    browser.login("learner", PASSWORD)
    cookie = client.get_cookie("session").value
    assert client.get("/account/password").status_code == 200
    browser.logout()
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/account/password").status_code == 302
    assert 'action="/logout"' not in thief.get("/").get_data(as_text=True)  # anonymous
    with app.app_context():
        learner = db.session.scalar(select(User).where(User.username == "learner"))
        assert db.session.scalar(select(func.count()).select_from(UserSession)
                                 .where(UserSession.user_id == learner.id)) == 0


def test_logout_ends_only_this_session(app, users):
    from tests.conftest import Browser

    phone, laptop = Browser(app.test_client()), Browser(app.test_client())
    phone.login("learner", PASSWORD)
    laptop.login("learner", PASSWORD)
    laptop.logout()
    assert laptop.client.get("/account/password").status_code == 302
    assert phone.client.get("/account/password").status_code == 200


@pytest.mark.parametrize("forged", ["0" * 43, "", "2:1", "x" * 5000])
def test_a_session_id_never_issued_is_anonymous(app, browser, users, client, forged):
    """A signed cookie naming a session id the server never issued (or the old
    "<user id>:<version>" form) is anonymous."""
    browser.login("learner", PASSWORD)
    with client.session_transaction() as session:
        session["_user_id"] = forged
    assert client.get("/account/password").status_code == 302


def test_expired_session_is_anonymous(app, browser, users, client):
    browser.login("learner", PASSWORD)
    with app.app_context():
        db.session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert client.get("/account/password").status_code == 302


def test_forced_password_change_blocks_other_pages(app, browser, users, client):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "learner"))
        user.must_change_password = True
        db.session.commit()
    response = browser.login("learner", PASSWORD)
    assert response.headers["Location"].endswith("/account/password")
    assert client.get("/").headers["Location"].endswith("/account/password")


def test_overlong_and_non_utf8_fields_change_nothing(app, browser, users, client):
    response = browser.login("x" * 5000, PASSWORD)
    assert response.status_code == 400
    token = __import__("tests.conftest", fromlist=["csrf_token"]).csrf_token(client, "/login")
    body = b"csrf_token=" + token.encode() + b"&username=learn%FFer&password=" + \
        PASSWORD.replace(" ", "+").encode()
    response = client.post("/login", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401  # the undecodable byte is replaced: no such user
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 5


def test_auth_pages_are_never_cached(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
