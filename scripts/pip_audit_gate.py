"""Run pip-audit on the locked set (requirements.lock, every extra) and decide: fail on a
known vulnerability, never on a missing network.

Why not ``pip-audit --strict`` alone: strict mode stops at the first package it cannot audit
and reports nothing about the others, and without a network pip-audit either crashes with a
connection error or (non-strict) calls every package "could not be audited" and exits 0. So:

* pip-audit runs without ``--strict`` and writes its JSON report;
* any package with a reported vulnerability fails the check (exit 1), whatever else happened;
* packages it could not audit (offline, or a version the vulnerability service does not
  know) are each listed by name, version and reason — never passed over silently — and do
  not fail the check;
* if pip-audit itself fails, its error is a network error (connection refused, name
  resolution, proxy, timeout: the check is reported as NOT DONE and passes) or anything else
  (the check fails).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

NETWORK_ERRORS = re.compile(
    r"ConnectionError|ProxyError|NameResolutionError|Temporary failure in name resolution|"
    r"Max retries exceeded|ConnectTimeout|ReadTimeout|Network is unreachable|"
    r"No route to host|Connection refused")
LOCK = Path(__file__).resolve().parents[1] / "requirements.lock"


def decide(report: dict | None, stderr: str) -> tuple[int, list[str]]:
    """The exit status and the lines to print for pip-audit's JSON ``report`` (``None`` when
    pip-audit failed before writing one, with ``stderr``)."""
    if report is None:
        if NETWORK_ERRORS.search(stderr):
            return 0, ["pip-audit: NOT DONE: the vulnerability service is unreachable (no "
                       "network). Run it again where PyPI is reachable."]
        return 1, [stderr[-4000:], "pip-audit: failed (not a network error)."]
    dependencies = report["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    unaudited = [d for d in dependencies if d.get("skip_reason")]
    lines = []
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
            lines.append(f"VULNERABLE {dependency['name']} {dependency['version']}: "
                         f"{vuln['id']} (fixed in {fixed})")
    reasons: dict[str, list[str]] = {}
    for dependency in unaudited:
        # "Dependency not found on PyPI and could not be audited: alembic (1.20.1)"
        reason = dependency["skip_reason"].split(":")[0]
        reasons.setdefault(reason, []).append(dependency["name"])
    lines.extend(f"not audited ({reason}): {', '.join(names)}"
                 for reason, names in reasons.items())
    lines.append(f"pip-audit: {len(dependencies)} packages, "
                 f"{len(dependencies) - len(unaudited)} audited, {len(vulnerable)} with known "
                 f"vulnerabilities, {len(unaudited)} not audited.")
    return (1 if vulnerable else 0), lines


def main() -> int:
    tool = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "audit.json"
        result = subprocess.run(  # noqa: S603 - our own fixed command line
            # Every line of the lock is pinned: no resolver needed (--no-deps, --disable-pip).
            [str(tool), "--requirement", str(LOCK), "--no-deps", "--disable-pip",
             "--progress-spinner", "off", "--format", "json", "--output", str(output)],
            capture_output=True, text=True, check=False)
        report = json.loads(output.read_text()) if output.exists() else None
    status, lines = decide(report, result.stderr)
    for line in lines:
        print(line, file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
