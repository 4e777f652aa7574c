"""The main pages in Chromium, on the real server with the demo: they load with every request
outside loopback blocked (the network is isolated), pass axe-core with no serious or critical
violation, never scroll sideways at 360 px, and work from the keyboard."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import horizontal_overflow, log_in, shot

pytestmark = pytest.mark.e2e

AXE = "/static/vendor/axe-core/axe.min.js"
PUBLIC_PAGES = ("/", "/search?q=hau+can", "/search", "/collections",
                "/collections/khoa-hau-can", "/collections/binh-dan-hoc-vu-so?sort=issued",
                "/browse/subject", "/browse/year", "/login", "{record}")
MEMBER_PAGES = ("/deposits", "/records/new", "/review", "/notifications", "/admin/users",
                "/admin/audit", "/admin/collections/", "{record}")


@pytest.fixture(scope="module")
def record_path(site) -> str:
    """The page of a public demo material with a PDF."""
    import json
    import urllib.request

    with urllib.request.urlopen(  # noqa: S310 (loopback)
            f"{site.url}/api/v1/search?q=%C4%91%E1%BA%A1i+c%C6%B0%C6%A1ng+h%E1%BA%ADu+c%E1%BA%A7n"
            "&size=1") as response:
        return json.load(response)["hits"][0]["url"]


def _pages(paths, record: str) -> list[str]:
    return [p.replace("{record}", record) for p in paths]


def test_every_main_page_loads_with_the_outside_world_blocked(site, desktop, record_path):
    attempted: list[str] = []

    def guard(route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    desktop.context.route("**/*", guard)
    failed: list[str] = []
    # A load cut short by the next navigation (net::ERR_ABORTED, a thumbnail still coming
    # when the test moves on) is not a failure of the page.
    desktop.on("requestfailed", lambda request: failed.append(request.url)
               if request.failure != "net::ERR_ABORTED" else None)
    for path in _pages(PUBLIC_PAGES, record_path):
        desktop.goto(site.url + path, wait_until="networkidle")
    log_in(desktop, site, "admin")
    for path in _pages(MEMBER_PAGES, record_path):
        desktop.goto(site.url + path, wait_until="networkidle")
    assert attempted == []
    assert failed == []


def _serious_violations(page) -> list[str]:
    page.add_script_tag(url=AXE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(", ".join(n["target"]) for n in v["nodes"][:3])
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_main_pages_pass_axe(site, desktop, phone, record_path):
    problems: dict[str, list[str]] = {}
    for path in _pages(PUBLIC_PAGES, record_path):
        desktop.goto(site.url + path)
        if found := _serious_violations(desktop):
            problems[f"anonymous {path}"] = found
    phone.goto(site.url + "/search?q=hau+can")
    if found := _serious_violations(phone):
        problems["phone /search"] = found
    for role in ("instructor", "admin"):
        log_in(desktop, site, role)
        for path in _pages(MEMBER_PAGES, record_path):
            response = desktop.goto(site.url + path)
            if response.status == 200 and (found := _serious_violations(desktop)):
                problems[f"{role} {path}"] = found
        desktop.context.clear_cookies()
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_no_page_scrolls_sideways_at_360_px(site, chromium, role, record_path):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    try:
        paths = _pages(PUBLIC_PAGES, record_path)
        if role == "admin":
            log_in(page, site, "admin")
            paths += _pages(MEMBER_PAGES, record_path)
        wide = {}
        for path in paths:
            page.goto(site.url + path)
            if (overflow := horizontal_overflow(page)) > 0:
                wide[path] = overflow
        assert wide == {}
    finally:
        context.close()


def test_the_phone_menu_and_the_skip_link_work_from_the_keyboard(site, phone):
    phone.goto(site.url + "/")
    menu = phone.locator("#site-menu")
    toggle = phone.locator(".menu-toggle")
    assert toggle.is_visible() and not menu.is_visible()
    phone.keyboard.press("Tab")  # the first stop is the skip link, shown when focused
    skip = phone.locator("a.skip")
    assert skip.evaluate("el => el === document.activeElement") and skip.is_visible()
    phone.keyboard.press("Tab")  # the brand
    phone.keyboard.press("Tab")  # the menu button
    assert toggle.evaluate("el => el === document.activeElement")
    outline = toggle.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"  # the focus is visible
    phone.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true" and menu.is_visible()
    shot(phone, "phone-menu-open")
    phone.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false" and not menu.is_visible()
    # Skip link: Enter moves on to the page's content.
    phone.goto(site.url + "/")
    phone.keyboard.press("Tab")
    phone.keyboard.press("Enter")
    assert phone.evaluate("location.hash") == "#main"


def test_wide_tables_stay_in_their_box_on_a_phone(site, phone):
    log_in(phone, site, "admin")
    phone.goto(site.url + "/admin/audit")
    assert horizontal_overflow(phone) == 0
    cells = phone.locator("table.table.reflow td[data-label]")
    assert cells.count() > 0  # rows became labelled cards
    shot(phone, "phone-admin-audit")
