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


def test_schemathesis_runs_every_check_against_the_served_spec(app, with_records, tmp_path):
    st = Path(sys.executable).with_name("st")
    with serving(app) as base_url:
        result = subprocess.run(
            [str(st), "run", f"{base_url}/api/v1/openapi.json", "--checks", "all",
             "--max-examples", "40", "--seed", "20", "--generation-database", "none",
             "--workers", "1", "--no-color", "--request-timeout", "20",
             "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=500, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "passed" in result.stdout


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
