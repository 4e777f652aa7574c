"""The CI gate around pip-audit: a known vulnerability fails, a missing network does not."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

GATE = Path(__file__).resolve().parents[2] / "scripts" / "pip_audit_gate.py"


@pytest.fixture(scope="module")
def decide():
    spec = importlib.util.spec_from_file_location("pip_audit_gate", GATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.decide


def report(*dependencies):
    return {"dependencies": list(dependencies), "fixes": []}


CLEAN = {"name": "flask", "version": "3.1.3", "vulns": []}
VULNERABLE = {"name": "werkzeug", "version": "3.0.0",
              "vulns": [{"id": "GHSA-xg9f-g7g7-2323", "fix_versions": ["3.0.1"]}]}
UNKNOWN = {"name": "alembic", "skip_reason": "Dependency not found on PyPI and could not be "
                                            "audited: alembic (1.20.1)"}


def test_a_known_vulnerability_fails_even_beside_unaudited_packages(decide):
    status, lines = decide(report(CLEAN, VULNERABLE, UNKNOWN), "")
    assert status == 1
    assert "VULNERABLE werkzeug 3.0.0: GHSA-xg9f-g7g7-2323 (fixed in 3.0.1)" in lines
    assert lines[-1] == ("pip-audit: 3 packages, 2 audited, 1 with known vulnerabilities, "
                         "1 not audited.")


def test_unaudited_packages_are_named_but_do_not_fail(decide):
    status, lines = decide(report(CLEAN, UNKNOWN), "")
    assert status == 0
    assert "not audited (Dependency not found on PyPI and could not be audited): alembic" \
        in lines


@pytest.mark.parametrize("stderr", [
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443): "
    "Max retries exceeded",
    "requests.exceptions.ProxyError: Unable to connect to proxy",
    "NameResolutionError: Temporary failure in name resolution",
])
def test_no_network_is_reported_as_not_done_and_passes(decide, stderr):
    status, lines = decide(None, stderr)
    assert status == 0
    assert lines == ["pip-audit: NOT DONE: the vulnerability service is unreachable (no "
                     "network). Run it again where PyPI is reachable."]


def test_any_other_failure_of_pip_audit_fails(decide):
    status, lines = decide(None, "ValueError: invalid requirement")
    assert status == 1
    assert lines[-1] == "pip-audit: failed (not a network error)."
