"""The JSON API against its own description: schemathesis with every check, on the spec the
app serves, plus the HTTP rules it relies on (405 with Allow, the cut-with-notice query)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lms.accounts.models import User
from lms.catalog.access_settings import AccessSettings
from lms.extensions import db
from tests.factories import make_collection, publish_record
from tests.servers import serving

pytestmark = pytest.mark.functional


@pytest.fixture
def with_records(app, users):
    with app.app_context():
        owner = db.session.get(User, users["instructor"].id)
        curator = db.session.get(User, users["curator"].id)
        collection = make_collection("khoa-hau-can", curators=[curator], steps=1)
        for title in ("Giáo trình Hậu cần quân đội", "Bảo đảm xăng dầu"):
            publish_record(owner, curator, collection, AccessSettings(level="public"),
                           title=title)


# The spec says what is well formed; which collection exists, what the profile accepts and
# the current ETag it cannot say: schema-valid requests may also meet 410, 412, 413, 422
# or 428 (each documented on its operation), and a missing If-Match is 428.
SCHEMATHESIS_CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "410", "412", "413", "422",
                     "428", "429"]

[checks.missing_required_header]
expected-statuses = ["400", "401", "403", "404", "406", "412", "415", "422", "428"]
"""


def api_token(app, username: str, scope: str) -> str:
    from lms.api.tokens import create_token

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        return create_token(user, f"schemathesis {scope}", scope, 1).secret


def run_schemathesis(base_url: str, folder: Path, *options: str) -> subprocess.CompletedProcess:
    st = Path(sys.executable).with_name("st")
    (folder / "schemathesis.toml").write_text(SCHEMATHESIS_CONFIG, encoding="utf-8")
    return subprocess.run(
        [str(st), "run", f"{base_url}/api/v1/openapi.json", "--checks", "all",
         "--max-examples", "40", "--seed", "20", "--generation-database", "none",
         "--workers", "1", "--no-color", "--request-timeout", "20",
         "--report-dir", str(folder), *options],
        capture_output=True, text=True, timeout=900, cwd=folder, check=False)


def test_schemathesis_runs_every_check_against_the_served_spec(app, with_records, tmp_path):
    with serving(app) as base_url:
        result = run_schemathesis(base_url, tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "passed" in result.stdout


@pytest.mark.parametrize("scope", ["write", "read"])
def test_schemathesis_with_a_token(app, with_records, tmp_path, scope):
    """Every operation with the instructor's token: a write token reaches the services (and
    their refusals), a read token is refused every change with 403."""
    secret = api_token(app, "instructor", scope)
    with serving(app) as base_url:
        result = run_schemathesis(base_url, tmp_path, "--header",
                                  f"Authorization: Bearer {secret}")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "passed" in result.stdout


def test_the_spec_describes_every_api_route(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    served = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule.replace("<int:", "{").replace(">", "}")
            served.setdefault(path, set()).update(
                m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    described = {path: set(ops) - {"parameters"} for path, ops in spec["paths"].items()}
    assert described == served
    assert set(spec["components"]["securitySchemes"]) == {"bearerToken", "sessionCookie"}


@pytest.mark.parametrize("path", ["/api/v1/search", "/api/v1/suggest", "/api/v1/openapi.json",
                                  "/sitemap.xml", "/robots.txt"])
def test_a_wrong_method_is_405_with_allow(client, path):
    response = client.delete(path)
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {
        "GET", "HEAD", "OPTIONS"}


def test_an_over_long_query_is_cut_with_a_notice(client, with_records):
    response = client.get("/api/v1/search", query_string={"q": "xăng " * 400})
    assert response.status_code == 200
    assert [n["code"] for n in response.get_json()["notices"]].count("truncated") == 1


def test_the_served_spec_documents_the_cut_instead_of_a_max_length(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    [q] = [p for p in spec["paths"]["/api/v1/search"]["get"]["parameters"] if p["name"] == "q"]
    assert "maxLength" not in q["schema"]
    assert "truncated" in q["description"]
