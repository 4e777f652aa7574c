"""Jobs lists: "my jobs" for whoever started them, every job for administrators, with their
states and kinds by name."""

from __future__ import annotations

import pytest

from lms.accounts.models import User
from lms.extensions import db
from lms.models import Job, JobStatus
from tests.conftest import Browser
from tests.factories import PASSWORD
from tests.pagewalk import code_words, read_page

pytestmark = pytest.mark.functional


@pytest.fixture
def jobs(app, users):
    with app.app_context():
        admin = db.session.get(User, users["admin"].id)
        rows = {
            "import": Job(name="ingest.import", owner_id=admin.id, status=JobStatus.DONE,
                          progress_done=10, progress_total=10, message="10 dòng"),
            "rebuild": Job(name="search.rebuild", owner_id=admin.id, status=JobStatus.RUNNING,
                           progress_done=3, progress_total=12),
            "fixity": Job(name="files.fixity", owner_id=None, status=JobStatus.FAILED,
                          message="OSError: disk"),
            "learner": Job(name="ingest.import", owner_id=users["learner"].id,
                           status=JobStatus.QUEUED),
        }
        db.session.add_all(rows.values())
        db.session.commit()
        return {key: job.id for key, job in rows.items()}


def login(app, username: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username, PASSWORD).status_code == 302
    return browser


def test_my_jobs_lists_only_mine(app, jobs):
    admin = login(app, "admin")
    html = admin.client.get("/jobs/").get_data(as_text=True)
    assert f'href="/jobs/{jobs["import"]}"' in html and f'href="/jobs/{jobs["rebuild"]}"' in html
    assert f'href="/jobs/{jobs["fixity"]}"' not in html
    assert f'href="/jobs/{jobs["learner"]}"' not in html
    assert "Nhập biểu ghi" in html and "Xây dựng lại chỉ mục tìm kiếm" in html
    assert code_words(read_page(html)) == set()
    learner = login(app, "learner").client.get("/jobs/").get_data(as_text=True)
    assert f'href="/jobs/{jobs["learner"]}"' in learner and "1 công việc" in learner
    assert app.test_client().get("/jobs/").status_code == 302  # to the login page


def test_the_admins_list_has_every_job_and_filters(app, jobs):
    admin = login(app, "admin")
    html = admin.client.get("/admin/jobs/").get_data(as_text=True)
    for job_id in jobs.values():
        assert f'href="/jobs/{job_id}"' in html
    assert "Hệ thống (theo lịch)" in html  # the scheduled fixity check has no owner
    assert '<progress max="100" value="25"' in html  # 3 of 12
    assert code_words(read_page(html)) == set()
    failed = admin.client.get("/admin/jobs/?status=failed").get_data(as_text=True)
    assert f'href="/jobs/{jobs["fixity"]}"' in failed
    assert f'href="/jobs/{jobs["import"]}"' not in failed
    imports = admin.client.get("/admin/jobs/?name=ingest.import").get_data(as_text=True)
    assert f'href="/jobs/{jobs["learner"]}"' in imports
    assert f'href="/jobs/{jobs["rebuild"]}"' not in imports
    assert admin.client.get("/admin/jobs/?status=nonsense").status_code == 200


@pytest.mark.parametrize("role", ["learner", "curator", "instructor"])
def test_every_job_is_for_administrators(app, jobs, role):
    assert login(app, role).client.get("/admin/jobs/").status_code == 403


def test_the_job_page_names_its_state(app, jobs):
    html = login(app, "admin").client.get(f"/jobs/{jobs['import']}").get_data(as_text=True)
    assert '<strong class="job-status">Đã xong</strong>' in html
    assert "Trạng thái: done" not in html
    assert f'href="/admin/import/{jobs["import"]}"' in html  # the import's report
