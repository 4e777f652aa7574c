"""The UI in a real browser: Vietnamese by default, login, language switch, admin forms."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def test_login_switch_language_and_create_a_unit(served_app, page, users):
    page.goto(served_app)
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("header").get_by_role("link", name="Đăng nhập").is_visible()

    log_in(page, served_app, "admin")
    assert "Xin chào" in page.locator(".flashes").inner_text()

    page.click("button[name=language][value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{served_app}/admin/units")
    page.fill("input[name=name]", "Học viện Hậu cần")
    page.click("form.card button[type=submit]")
    expect(page.locator(".flashes")).to_contain_text("Unit created.")
    assert page.locator(".tree").inner_text().strip().startswith("Học viện Hậu cần")

    page.click(".account-menu summary")  # the account menu holds "Log out"
    page.click("text=Log out")
    expect(page.locator("header").get_by_role("link", name="Log in")).to_be_visible()


def test_wrong_password_shows_a_message_and_keeps_the_form(served_app, page, users):
    page.goto(f"{served_app}/login")
    page.fill("input[name=username]", "learner")
    page.fill("input[name=password]", "not the password")
    page.click("form.form button[type=submit]")
    expect(page.locator(".flashes")).to_contain_text("Sai tên đăng nhập hoặc mật khẩu")
    assert page.input_value("input[name=username]") == "learner"
