"""Personal access tokens through their pages and the API: created once, shown once, used,
noted, revoked; scopes, expiry, CSRF both ways, throttling, the administrators' page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.api.models import PersonalAccessToken
from lms.audit import events
from lms.db import utcnow
from lms.extensions import db
from tests.conftest import Browser, csrf_token
from tests.factories import PASSWORD, make_collection

pytestmark = pytest.mark.functional

NEW_TOKEN = re.compile(r'<code id="new-token">(lms_[A-Za-z0-9_-]{43})</code>')
DRAFT = {"collection": "khoa-hau-can",
         "metadata": {"title": [{"value": "Bài giảng xăng dầu", "lang": "vi"}]}}


def logged_in(app, username: str):
    client = app.test_client()
    assert Browser(client).login(username, PASSWORD).status_code == 302
    return client


def create_on_page(client, name: str = "Kịch bản", scope: str = "read", days: str = "30"):
    return Browser(client).post("/account/tokens", {"name": name, "scope": scope, "days": days},
                                page="/account/tokens")


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def collection(app, users):
    from lms.accounts.models import User

    with app.app_context():
        make_collection("khoa-hau-can", curators=[db.session.get(User, users["curator"].id)])


def test_a_token_is_shown_once_used_noted_and_revoked(app, users, collection):
    owner = logged_in(app, "instructor")
    created = create_on_page(owner, name="Đồng bộ LMS")
    assert created.status_code == 201
    secret = NEW_TOKEN.search(created.get_data(as_text=True)).group(1)
    listing = owner.get("/account/tokens").get_data(as_text=True)
    assert secret not in listing
    assert "Đồng bộ LMS" in listing
    with app.app_context():
        stored = db.session.scalar(select(PersonalAccessToken))
        assert stored.token_hash != secret
        assert len(stored.token_hash) == 64
        assert stored.last_used_at is None
    api = app.test_client()
    assert api.get("/api/v1/records", headers=bearer(secret)).status_code == 200
    with app.app_context():
        used = db.session.scalar(select(PersonalAccessToken)).last_used_at
        assert used is not None
        token_id = db.session.scalar(select(PersonalAccessToken.id))
    assert used.strftime("%Y-%m-%d %H:%M") in owner.get("/account/tokens").get_data(as_text=True)
    revoked = Browser(owner).post(f"/account/tokens/{token_id}/revoke", page="/account/tokens")
    assert revoked.status_code == 302
    refused = api.get("/api/v1/records", headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["status"] == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    with app.app_context():
        logged = [e.action for e in db.session.scalars(events(actor="instructor"))
                  if e.action.startswith("api_token_")]
        assert sorted(logged) == ["api_token_create", "api_token_revoke"]


def _secret(app, username: str, scope: str) -> str:
    from lms.accounts.models import User
    from lms.api.tokens import create_token

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return create_token(user, f"{scope} token", scope, 30).secret


def test_a_token_never_opens_pages(app, users):
    secret = _secret(app, "instructor", "write")
    response = app.test_client().get("/account/tokens", headers=bearer(secret))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_read_token_reads_and_may_not_write(app, users, collection):
    secret = _secret(app, "instructor", "read")
    client = app.test_client()
    assert client.get("/api/v1/collections", headers=bearer(secret)).status_code == 200
    refused = client.post("/api/v1/records", json=DRAFT, headers=bearer(secret))
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"


def test_a_write_token_writes_without_csrf_and_sets_no_cookie(app, users, collection):
    secret = _secret(app, "instructor", "write")
    response = app.test_client().post("/api/v1/records", json=DRAFT, headers=bearer(secret))
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers


def test_a_session_write_needs_the_csrf_token(app, users, collection):
    client = logged_in(app, "instructor")
    refused = client.post("/api/v1/records", json=DRAFT)
    assert refused.status_code == 400
    assert refused.mimetype == "application/problem+json"
    token = csrf_token(client, "/account/tokens")
    accepted = client.post("/api/v1/records", json=DRAFT, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_an_expired_token_is_refused(app, users):
    secret = _secret(app, "instructor", "read")
    with app.app_context():
        token = db.session.scalar(select(PersonalAccessToken))
        token.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    response = app.test_client().get("/api/v1/records", headers=bearer(secret))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_a_disabled_account_s_token_is_refused(app, users):
    from lms.accounts.models import User

    secret = _secret(app, "instructor", "read")
    with app.app_context():
        db.session.get(User, users["instructor"].id).active = False
        db.session.commit()
    assert app.test_client().get("/api/v1/records", headers=bearer(secret)).status_code == 401


@pytest.mark.parametrize("header", ["Bearer lms_khongtontai", "Bearer ", "Basic YTpi",
                                    "Bearer " + "x" * 5000])
def test_unknown_or_malformed_credentials_are_401(client, header):
    response = client.get("/api/v1/records", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_failed_tokens_are_throttled_per_address(app, users):
    app.config["API_TOKEN_MAX_FAILURES_PER_IP"] = 3
    secret = _secret(app, "instructor", "read")
    client = app.test_client()
    statuses = [client.get("/api/v1/records", headers=bearer(f"lms_sai{n}")).status_code
                for n in range(3)]
    assert statuses == [401, 401, 401]
    throttled = client.get("/api/v1/records", headers=bearer(secret))
    assert throttled.status_code == 429
    assert throttled.mimetype == "application/problem+json"


def test_the_expiry_has_a_maximum(app, users):
    app.config["API_TOKEN_MAX_DAYS"] = 90
    client = logged_in(app, "instructor")
    assert 'value="365"' not in client.get("/account/tokens").get_data(as_text=True)
    assert create_on_page(client, days="365").status_code == 400
    with app.app_context():
        assert db.session.scalar(select(PersonalAccessToken)) is None


def test_admins_see_and_revoke_every_token_others_do_not(app, users):
    secret = _secret(app, "instructor", "write")
    with app.app_context():
        token_id = db.session.scalar(select(PersonalAccessToken.id))
    learner = logged_in(app, "learner")
    assert learner.get("/admin/tokens").status_code == 403
    assert Browser(learner).post(f"/account/tokens/{token_id}/revoke",
                                 page="/account/tokens").status_code == 404
    admin = logged_in(app, "admin")
    page = admin.get("/admin/tokens").get_data(as_text=True)
    assert "instructor" in page
    assert "write token" in page
    assert Browser(admin).post(f"/admin/tokens/{token_id}/revoke",
                               page="/admin/tokens").status_code == 302
    assert app.test_client().get("/api/v1/records", headers=bearer(secret)).status_code == 401
    with app.app_context():
        token = db.session.get(PersonalAccessToken, token_id)
        assert token.revoked_by_id == users["admin"].id


def test_the_account_menu_links_the_tokens_page(app, users):
    page = logged_in(app, "learner").get("/").get_data(as_text=True)
    assert 'href="/account/tokens"' in page


