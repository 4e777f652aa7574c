"""Every code the application stores has a display name: jobs, audit events, roles."""

from __future__ import annotations

import re
from pathlib import Path

from lms.accounts.models import RoleName
from lms.display import (
    AUDIT_ACTION_LABELS,
    JOB_NAME_LABELS,
    ROLE_LABELS,
    job_name_label,
    role_labels,
)

LMS = Path(__file__).resolve().parents[2] / "lms"


def test_every_registered_job_has_a_name(app):
    registered = set(app.extensions["jobs"])
    assert registered - set(JOB_NAME_LABELS) == set()


def test_every_audit_event_the_code_writes_has_a_name():
    written = set()
    for path in LMS.rglob("*.py"):
        written.update(re.findall(r'audit\.record\(\s*"([a-z_]+)"', path.read_text()))
    assert written
    assert written - set(AUDIT_ACTION_LABELS) == set()


def test_roles_are_named_in_a_fixed_order(app):
    assert set(ROLE_LABELS) == set(RoleName)
    with app.test_request_context():
        assert role_labels(["learner", "admin"]) == "Quản trị viên, Học viên / cán bộ"
        assert job_name_label("search.rebuild") == "Xây dựng lại chỉ mục tìm kiếm"
        assert job_name_label("some.new_job") == "some.new_job"  # a new code shows as is
