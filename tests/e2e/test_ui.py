"""The UI in a real browser: Vietnamese by default, login, language switch, admin forms."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")


def test_login_switch_language_and_create_a_unit(live_server, page, users):
    page.goto(live_server)
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("header").get_by_role("link", name="Đăng nhập").is_visible()

    log_in(page, live_server, "admin")
    assert "Xin chào" in page.locator(".flashes").inner_text()

    page.click("button[name=language][value=en]")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{live_server}/admin/units")
    page.fill("input[name=name]", "Học viện Hậu cần")
    page.click("form.card button[type=submit]")
    assert "Unit created." in page.locator(".flashes").inner_text()
    assert page.locator(".tree").inner_text().strip().startswith("Học viện Hậu cần")

    page.click(".account-menu summary")  # the account menu holds "Log out"
    page.click("text=Log out")
    assert page.locator("header").get_by_role("link", name="Log in").is_visible()


def test_wrong_password_shows_a_message_and_keeps_the_form(live_server, page, users):
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "learner")
    page.fill("input[name=password]", "not the password")
    page.click("form.form button[type=submit]")
    assert "Sai tên đăng nhập hoặc mật khẩu" in page.locator(".flashes").inner_text()
    assert page.input_value("input[name=username]") == "learner"
