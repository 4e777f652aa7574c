"""lms.auth.services without HTTP: the password check, the lockout, sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.auth import services
from lms.auth.models import UserSession
from lms.errors import PermissionDenied, TooManyAttempts, ValidationError
from lms.extensions import db
from lms.models import AuditEvent
from tests.factories import PASSWORD, UserFactory, UserSessionFactory

REFUSAL = "Wrong username or password, or the account is disabled."


@pytest.fixture
def learner(app_ctx):
    user = UserFactory(username="hv1")
    db.session.commit()
    return user


def actions() -> list[tuple[str, str]]:
    return [(e.action, e.outcome) for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]


def test_the_right_password_logs_in_whatever_the_case_of_the_username(learner):
    assert services.authenticate(" HV1 ", PASSWORD, "10.0.0.1").id == learner.id
    assert db.session.get(type(learner), learner.id).last_login_at is not None
    assert actions() == [("login_success", "success")]


@pytest.mark.parametrize("username, password", [("hv1", "wrong password!"),
                                                ("nobody", PASSWORD)])
def test_wrong_credentials_get_one_message(learner, username, password):
    with pytest.raises(PermissionDenied, match=REFUSAL):
        services.authenticate(username, password, "10.0.0.1")
    assert actions() == [("login_failure", "denied")]


def test_a_disabled_account_is_refused_with_the_same_message(learner):
    learner.active = False
    db.session.commit()
    with pytest.raises(PermissionDenied, match=REFUSAL):
        services.authenticate("hv1", PASSWORD, "10.0.0.1")


def test_too_many_failures_lock_the_account_even_for_the_right_password(app_ctx, learner):
    app_ctx.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 3
    for _ in range(3):
        with pytest.raises(PermissionDenied):
            services.authenticate("hv1", "wrong password!", "10.0.0.1")
    with pytest.raises(TooManyAttempts):
        services.authenticate("hv1", PASSWORD, "10.0.0.2")
    assert actions()[-1] == ("login_throttled", "denied")


def test_a_success_clears_the_accounts_failures(app_ctx, learner):
    app_ctx.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 2
    with pytest.raises(PermissionDenied):
        services.authenticate("hv1", "wrong password!", "10.0.0.1")
    services.authenticate("hv1", PASSWORD, "10.0.0.1")
    with pytest.raises(PermissionDenied):
        services.authenticate("hv1", "wrong password!", "10.0.0.1")
    assert services.authenticate("hv1", PASSWORD, "10.0.0.1").id == learner.id


def test_a_password_change_needs_the_current_one_and_a_new_different_one(learner):
    with pytest.raises(PermissionDenied, match=r"The current password is wrong\."):
        services.change_own_password(learner, "not my password", "a brand new passphrase")
    with pytest.raises(ValidationError, match="must differ from the current one"):
        services.change_own_password(learner, PASSWORD, PASSWORD)
    services.change_own_password(learner, PASSWORD, "a brand new passphrase")
    assert services.authenticate("hv1", "a brand new passphrase", None).id == learner.id


def test_a_password_change_ends_every_session(learner):
    session = UserSessionFactory(user=learner, token_hash=services._token_hash("t0k3n"))
    db.session.commit()
    session_id = session.id
    assert services.load_session_user("t0k3n").id == learner.id
    services.change_own_password(learner, PASSWORD, "a brand new passphrase")
    assert services.load_session_user("t0k3n") is None
    assert db.session.scalar(select(func.count()).where(UserSession.id == session_id)) == 0


def test_an_expired_session_loads_nobody(learner):
    UserSessionFactory(user=learner, token_hash=services._token_hash("old"), expired=True)
    db.session.commit()
    assert services.load_session_user("old") is None
