"""Every page a user can reach by following links, as every kind of user, on the demo library:
no 5xx anywhere, and the Vietnamese interface shows no raw code and no untranslated string.

The demo is loaded once for the module (``lms demo``'s own functions: 38 records, files,
review tasks), then each role starts at the home page and follows every same-site link.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lms.extensions import db
from tests.conftest import ON_POSTGRES, Browser, _empty_postgres_tables, make_app
from tests.pagewalk import code_words, read_page, same_site_links, untranslated

pytestmark = pytest.mark.functional

ROLES = ("anonymous", "learner", "trainer", "instructor", "curator", "admin")
PER_PATTERN = 3  # pages visited per address shape (/records/N, /search?f.type=…)
MAX_PAGES = 400
_DIGITS = re.compile(r"\d+")


@dataclass
class Crawl:
    statuses: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _pattern(url: str) -> str:
    path, _sep, query = url.partition("?")
    keys = sorted({part.split("=", 1)[0] for part in query.split("&") if part})
    return _DIGITS.sub("N", path) + "?" + "&".join(keys)


def _skipped(url: str) -> bool:
    # Static assets are not pages; file bodies are fetched by the file tests.
    return url.startswith("/static/") or re.search(r"/files/\d+(/preview|/thumbnail)?$",
                                                   url) is not None


def crawl(client: FlaskClient) -> Crawl:
    result = Crawl()
    queue: deque[str] = deque(["/"])
    per_pattern: Counter[str] = Counter()
    queued = {"/"}
    while queue and len(result.statuses) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        result.statuses[url] = response.status_code
        if response.status_code >= 500:
            result.problems.append(f"{url}: {response.status_code}")
        if response.mimetype != "text/html":
            continue
        page = read_page(response.get_data(as_text=True))
        if page.lang == "vi":
            if words := code_words(page):
                result.problems.append(f"{url}: raw codes {sorted(words)}")
            if strings := untranslated(page):
                result.problems.append(f"{url}: untranslated {sorted(strings)}")
        for link in same_site_links(page, url):
            pattern = _pattern(link)
            if link in queued or _skipped(link) or per_pattern[pattern] >= PER_PATTERN:
                continue
            per_pattern[pattern] += 1
            queued.add(link)
            queue.append(link)
    return result


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory, migrated_database) -> Iterator[tuple[Flask, dict[str, str]]]:
    """A site with the demo loaded, and each demo account's password by role."""
    from lms.catalog.demo import load_catalog_demo
    from lms.demo import load_demo

    base = tmp_path_factory.mktemp("demo-site")
    if ON_POSTGRES:
        url = migrated_database
    else:
        shutil.copyfile(migrated_database, base / "demo.sqlite")
        url = f"sqlite:///{base / 'demo.sqlite'}"
    app = make_app(url, base / "data")
    with app.app_context():
        logins = {login.role: (login.username, login.password)
                  for login in load_demo(base / "instance")}
        load_catalog_demo()
        db.session.remove()
    yield app, logins
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if ON_POSTGRES:
        _empty_postgres_tables(app)


def client_as(app: Flask, logins: dict[str, tuple[str, str]], role: str) -> FlaskClient:
    client = app.test_client()
    if role != "anonymous":
        username, password = logins[role]
        response = Browser(client).login(username, password)
        assert response.status_code == 302, f"{role} could not log in"
    return client


@pytest.mark.parametrize("role", ROLES)
def test_every_linked_page_answers_without_error_in_vietnamese(demo_site, role):
    app, logins = demo_site
    result = crawl(client_as(app, logins, role))
    assert result.problems == [], "\n".join(result.problems)
    assert len(result.statuses) > 40  # a crawl that saw almost nothing proves nothing
    visited = set(result.statuses)
    assert {"/", "/search", "/collections", "/browse/subject"} <= visited
    if role != "anonymous":
        assert "/deposits" in visited
    if role == "admin":
        assert {"/admin/users", "/admin/audit", "/review"} <= visited
