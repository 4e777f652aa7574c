"""People: attributes, controlled lists, moving people, and the people import (CLI and page).

Every test drives the real forms (CSRF tokens included) or the real command, then checks the
answer, what the page says (in English) and what was stored.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import Flask
from openpyxl import Workbook
from sqlalchemy import func, select

from lms.accounts.models import PeopleImportBatch, PersonTerm, Unit, User
from lms.accounts.people_import import NO_HASH_YET
from lms.auth.services import find_user
from lms.cli import cli
from lms.extensions import db
from lms.models import AuditEvent
from lms.passwords import verify_password
from tests.conftest import Browser
from tests.encodings import to_cp1258
from tests.factories import UnitFactory, UserFactory
from tests.functional.test_admin import (
    edit_form,
    flashes,
    follow,
    login,
    make,
    term_id,
    text,
)

pytestmark = pytest.mark.functional

HEADER = "username,full_name,person_code,unit,rank,position,cohort,target_group,roles,email"
ACADEMY = "Học viện Hậu cần"


@pytest.fixture
def admin(app, users, browser) -> Browser:
    login(browser, "admin")
    return browser


@pytest.fixture
def battalion(app) -> int:
    """Học viện Hậu cần/Tiểu đoàn 1/Đại đội 2; returns the company's id."""
    with app.app_context():
        academy = UnitFactory(name=ACADEMY)
        battalion = UnitFactory(name="Tiểu đoàn 1", parent=academy)
        company = UnitFactory(name="Đại đội 2", parent=battalion)
        db.session.commit()
        return company.id


def person(app: Flask, username: str) -> dict | None:
    with app.app_context():
        user = find_user(username)
        if user is None:
            return None
        return {"id": user.id, "full_name": user.full_name, "person_code": user.person_code,
                "unit": user.unit.path if user.unit else None,
                "rank": user.rank.name if user.rank else None,
                "position": user.position.name if user.position else None,
                "target_group": user.target_group.code if user.target_group else None,
                "cohort": user.cohort, "class_name": user.class_name,
                "cohort_year": user.cohort_year, "email": user.email,
                "roles": user.role_names, "password_hash": user.password_hash,
                "must_change_password": user.must_change_password}


def user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


# --- attributes and lists ------------------------------------------------------------------

def test_admin_sets_every_attribute_of_a_person(app, admin, battalion):
    learner_id = make(app, UserFactory, username="hv01")
    form = edit_form(app, "hv01", person_code="QN-123456", unit_id=str(battalion),
                     rank_id=str(term_id(app, "rank", "thieu-uy")),
                     position_id=str(term_id(app, "position", "hoc-vien")),
                     target_group_id=str(term_id(app, "target_group", "cadets")),
                     cohort="K45", class_name="Hậu cần 3", cohort_year="2",
                     email="hv01@hvhc.edu.vn")
    response = admin.post(f"/admin/users/{learner_id}", form, page=f"/admin/users/{learner_id}")
    assert "Changes to hv01 saved." in flashes(follow(admin, response))
    stored = person(app, "hv01")
    assert (stored["person_code"], stored["unit"], stored["rank"], stored["position"],
            stored["target_group"], stored["cohort"], stored["class_name"],
            stored["cohort_year"], stored["email"]) == (
        "QN-123456", f"{ACADEMY}/Tiểu đoàn 1/Đại đội 2", "Thiếu úy", "Học viên", "cadets",
        "K45", "Hậu cần 3", 2, "hv01@hvhc.edu.vn")


def test_a_person_code_belongs_to_one_person(app, admin):
    make(app, UserFactory, username="a1", person_code="QN-1")
    b_id = make(app, UserFactory, username="b1")
    response = admin.post(f"/admin/users/{b_id}", edit_form(app, "b1", person_code="qn-1"),
                          page=f"/admin/users/{b_id}")
    assert response.status_code == 409
    assert "The person code qn-1 belongs to a1." in flashes(response)
    assert person(app, "b1")["person_code"] is None


def test_a_year_of_study_out_of_range_is_refused_by_the_form(app, admin):
    user_id = make(app, UserFactory, username="hv02")
    response = admin.post(f"/admin/users/{user_id}", edit_form(app, "hv02", cohort_year="11"),
                          page=f"/admin/users/{user_id}")
    assert response.status_code == 400
    assert person(app, "hv02")["cohort_year"] is None


def test_admin_edits_the_list_of_ranks(app, admin):
    page = admin.client.get("/admin/lists/rank")
    assert page.status_code == 200
    assert "Đại tướng" in text(page)
    response = admin.post("/admin/lists/rank", {"name": "Học viên sĩ quan", "name_en": "Officer "
                          "cadet", "sort_order": "5"}, page="/admin/lists/rank")
    assert "Học viên sĩ quan added." in flashes(follow(admin, response))
    with app.app_context():
        added = db.session.scalar(select(PersonTerm).where(PersonTerm.name == "Học viên sĩ quan"))
        assert (added.kind, added.code, added.sort_order, added.active) == (
            "rank", "hoc-vien-si-quan", 5, True)
        added_id = added.id
    # Taken out of use: kept (people keep it), no longer offered.
    response = admin.post(f"/admin/lists/rank/{added_id}", {"name": "Học viên sĩ quan",
                          "name_en": "Officer cadet", "sort_order": "5"}, page="/admin/lists/rank")
    assert "Học viên sĩ quan saved." in flashes(follow(admin, response))
    with app.app_context():
        assert db.session.get(PersonTerm, added_id).active is False
    new_user_form = admin.client.get("/admin/users/new").get_data(as_text=True)
    assert "Học viên sĩ quan" not in new_user_form
    # The same name twice is refused with a message.
    response = admin.post("/admin/lists/rank", {"name": "đại úy"}, page="/admin/lists/rank")
    assert response.status_code == 409
    assert "đại úy is already in the list." in flashes(response)


def test_an_unknown_list_is_not_found(app, admin):
    assert admin.client.get("/admin/lists/salary").status_code == 404


def test_lists_are_for_admins_only(app, users, browser):
    login(browser, "trainer")
    assert browser.client.get("/admin/lists/rank").status_code == 403


def test_admin_moves_the_ticked_people_to_another_unit(app, admin, battalion):
    ids = [make(app, UserFactory, username=f"mv{n}") for n in range(3)]
    response = admin.post("/admin/users/move", {"user_ids": [str(i) for i in ids[:2]],
                          "unit_id": str(battalion), "back": "/admin/users?q=mv"},
                          page="/admin/users")
    assert response.headers["Location"] == "/admin/users?q=mv"
    assert "2 people moved to Học viện Hậu cần/Tiểu đoàn 1/Đại đội 2." in flashes(
        follow(admin, response))
    assert [person(app, f"mv{n}")["unit"] for n in range(3)] == [
        f"{ACADEMY}/Tiểu đoàn 1/Đại đội 2"] * 2 + [None]
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "people_move")).all()
        assert event.details["count"] == 2


def test_moving_needs_ticked_people_and_never_redirects_elsewhere(app, admin, battalion):
    response = admin.post("/admin/users/move", {"unit_id": str(battalion),
                          "back": "https://evil.example/"}, page="/admin/users")
    assert response.headers["Location"] == "/admin/users"
    assert "Tick the people to move first." in flashes(follow(admin, response))


# --- people import over the web ------------------------------------------------------------

def upload(browser: Browser, data: bytes, name: str = "people.csv", **fields):
    """POST the import form with ``data`` as its file.

    The body is built here, in memory: for a large file the test client would otherwise spool
    it to a temporary file that nothing closes.
    """
    from tests.conftest import csrf_token

    boundary = "----people-import-test"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
             .encode() for key, value in {"csrf_token": csrf_token(
                 browser.client, "/admin/people/import"), **fields}.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="people"; '
                 f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                 .encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return browser.client.post("/admin/people/import", data=body,
                               content_type=f"multipart/form-data; boundary={boundary}")


def report_page(browser: Browser, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    page = browser.client.get(response.headers["Location"])
    assert page.status_code == 200
    return text(page)


def csv_bytes(*rows: str, bom: bool = False) -> bytes:
    data = "\n".join([HEADER, *rows]).encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def test_import_creates_people_and_hands_out_their_passwords_once(app, admin, battalion):
    data = csv_bytes(
        f"hv100,Nguyễn Văn Một,QN-100,{ACADEMY}/Tiểu đoàn 1/Đại đội 2,Binh nhì,Học viên,K45,"
        "cadets,learner,hv100@hvhc.edu.vn",
        f"hv101,Trần Thị Hai,QN-101,{ACADEMY}/Tiểu đoàn 1/Đại đội 2,Binh nhất,,K45,Học viên,,",
        bom=True)
    response = upload(admin, data)
    page = report_page(admin, response)
    assert "people.csv: 2 created, 0 updated, 0 unchanged, 0 refused." in page
    first = person(app, "hv100")
    assert (first["full_name"], first["person_code"], first["unit"], first["rank"],
            first["position"], first["cohort"], first["target_group"], first["roles"],
            first["email"]) == ("Nguyễn Văn Một", "QN-100", f"{ACADEMY}/Tiểu đoàn 1/Đại đội 2",
                                "Binh nhì", "Học viên", "K45", "cadets", {"learner"},
                                "hv100@hvhc.edu.vn")
    # No password exists before it is handed out.
    assert first["password_hash"] == NO_HASH_YET
    assert person(app, "hv101")["target_group"] == "cadets"  # matched by its Vietnamese name

    job_path = response.headers["Location"]
    download = admin.post(f"{job_path}/passwords", page=job_path)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["username", "full_name", "one_time_password"]
    passwords = {row[0]: row[2] for row in rows[1:]}
    assert sorted(passwords) == ["hv100", "hv101"]
    stored = person(app, "hv100")
    assert stored["must_change_password"] is True
    assert verify_password(stored["password_hash"], passwords["hv100"])
    # Only hashes are kept: the file's passwords appear nowhere in the database.
    with app.app_context():
        batch = db.session.scalar(select(PeopleImportBatch))
        assert batch.passwords_issued_at is not None
        assert passwords["hv100"] not in repr(batch.user_ids)

    # Once: a second download (a double click, another tab) gets a message, not new passwords.
    again = admin.post(f"{job_path}/passwords", page=job_path)
    assert again.status_code == 302
    assert ("The passwords of this import were handed out already. Reset the password of "
            "anyone who did not get theirs.") in flashes(follow(admin, again))
    assert verify_password(person(app, "hv100")["password_hash"], passwords["hv100"])

    # The new person logs in with it and must change it.
    learner = Browser(app.test_client())
    response = learner.login("hv100", passwords["hv100"])
    assert response.status_code == 302


def test_another_admin_cannot_take_the_passwords_of_my_import(app, admin, battalion):
    response = upload(admin, csv_bytes("hv110,Người Mới,,,,,,,,"))
    job_path = response.headers["Location"]
    make(app, UserFactory, username="admin2", roles=["admin"])
    other = Browser(app.test_client())
    login(other, "admin2")
    assert other.post(f"{job_path}/passwords", page="/admin/people/import").status_code == 404
    assert person(app, "hv110")["password_hash"] == NO_HASH_YET


def test_rows_update_people_by_username_or_person_code(app, admin, battalion):
    make(app, UserFactory, username="cu01", full_name="Tên Cũ", person_code="QN-9")
    data = csv_bytes(
        f"cu01,Tên Mới,,{ACADEMY}/Tiểu đoàn 1/Đại đội 2,,,,,,",
        ",Tên Theo Mã,QN-9,,Đại úy,,,,,")
    page = report_page(admin, upload(admin, data))
    # Both rows change the same person: by username, then by person code.
    assert "0 created, 2 updated, 0 unchanged, 0 refused." in page
    stored = person(app, "cu01")
    assert (stored["full_name"], stored["unit"], stored["rank"]) == (
        "Tên Theo Mã", f"{ACADEMY}/Tiểu đoàn 1/Đại đội 2", "Đại úy")


def test_importing_the_same_file_twice_changes_nothing_the_second_time(app, admin, battalion):
    data = csv_bytes(f"hv120,Lê Văn Ba,QN-120,{ACADEMY}/Tiểu đoàn 1/Đại đội 2,Hạ sĩ,,K46,"
                     "soldiers,learner,")
    report_page(admin, upload(admin, data))
    page = report_page(admin, upload(admin, data))
    assert "0 created, 0 updated, 1 unchanged, 0 refused." in page


def test_every_bad_row_gets_its_own_message_and_changes_nothing(app, admin, battalion):
    make(app, UserFactory, username="giu", full_name="Giữ Nguyên")
    data = csv_bytes(
        "ok01,Đúng Cả,,,,,,,,",
        "u1,Một,,Học viện Không Có,,,,,,",
        "u2,Hai,,,Tướng Quân,,,,,",
        "u3,Ba,,,,,,,superuser,",
        "dup,Bốn,,,,,,,,",
        "dup,Năm,,,,,,,,",
        "u6,Sáu,,,,,,,,not-an-email",
        "giu,=HYPERLINK(\"http://evil\"),,,,,,,,",
        "u8,Tám,,,,,,,admin,",
        "u9,Chín,,,,,,sailors,,",
        "bad name!,Mười,,,,,,,,")
    response = upload(admin, data)
    page = report_page(admin, response)
    assert "1 created, 0 updated, 0 unchanged, 10 refused." in page
    expected = {
        3: "Unknown unit: Học viện Không Có.",
        4: "Unknown rank: Tướng Quân.",
        5: "Unknown role: superuser.",
        6: "The username dup is on more than one row of the file.",
        7: "The username dup is on more than one row of the file.",
        8: "not-an-email is not a valid e-mail address.",
        9: "The full_name cell starts with '=', like a spreadsheet formula; such cells are "
           "refused.",
        10: "The administrator role is granted and removed in the account form, not by import.",
        11: "Unknown target group: sailors.",
        12: "A username has 2–64 characters: letters a–z, digits, '.', '_' or '-'.",
    }
    for row, message in expected.items():
        assert re.search(rf"<td>{row}</td>.*?{re.escape(message)}", page, re.S), (row, message)
    assert person(app, "ok01") is not None
    for username in ("u1", "u2", "u3", "dup", "u6", "u8", "u9"):
        assert person(app, username) is None
    assert person(app, "giu")["full_name"] == "Giữ Nguyên"


def test_a_cp1258_file_is_read_with_its_accents(app, admin, battalion):
    data = to_cp1258("\n".join([HEADER, f"hv130,Đặng Thị Hường,,{ACADEMY}/Tiểu đoàn 1/Đại đội 2"
                                ",Thượng úy,Trợ lý,,\"Cán bộ, nhân viên\",,"]))
    assert b"\xd0" in data  # "Đ" in Windows-1258: not UTF-8
    page = report_page(admin, upload(admin, data))
    assert "1 created" in page
    stored = person(app, "hv130")
    assert (stored["full_name"], stored["rank"], stored["position"], stored["target_group"]) \
        == ("Đặng Thị Hường", "Thượng úy", "Trợ lý", "staff")


def test_an_xlsx_file_with_a_formula_cell_refuses_that_row_only(app, admin, battalion):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["hv140", "Phạm Văn Bốn", 123456, f"{ACADEMY}/Tiểu đoàn 1", "Trung sĩ", None,
                  "K47", "soldiers", "learner", None])
    sheet.append(["hv141", "=1+1", None, None, None, None, None, None, None, None])
    out = io.BytesIO()
    book.save(out)
    page = report_page(admin, upload(admin, out.getvalue(), "people.xlsx"))
    assert "1 created, 0 updated, 0 unchanged, 1 refused." in page
    assert "The full_name cell starts with '='" in page
    stored = person(app, "hv140")
    assert (stored["person_code"], stored["unit"], stored["rank"]) == (
        "123456", f"{ACADEMY}/Tiểu đoàn 1", "Trung sĩ")
    assert person(app, "hv141") is None


def test_a_file_with_50000_rows_is_refused_whole(app, admin, battalion):
    rows = [f"big{n},Người {n},,,,,,,," for n in range(50_000)]
    before = user_count(app)
    page = report_page(admin, upload(admin, csv_bytes(*rows)))
    assert ("The file people.csv cannot be imported: The file has more than 20000 rows. Split "
            "it into files of at most 20000 rows; nothing was imported.") in page
    assert user_count(app) == before


@pytest.mark.parametrize(("data", "message"), [
    (b"name,age\nx,1\n", "Unknown columns: name, age."),
    (b"full_name,unit\nA,B\n", "The file needs a username or a person_code column."),
    (b"", "The file is empty."),
])
def test_a_file_that_cannot_be_read_says_why(app, admin, data, message):
    response = upload(admin, data)
    if not data:
        assert response.status_code == 422
        assert message in text(response)
        return
    assert message in report_page(admin, response)


def test_the_import_page_refuses_other_file_types(app, admin):
    response = upload(admin, b"username\nx\n", "people.pdf")
    assert response.status_code == 400
    assert "Choose a .csv or .xlsx file." in text(response)


def test_a_dry_run_changes_nothing(app, admin, battalion):
    before = user_count(app)
    page = report_page(admin, upload(admin, csv_bytes("hv150,Thử,,,,,,,,"), dry_run="1"))
    assert "Dry run: nothing was saved." in page
    assert "1 created" in page
    assert user_count(app) == before
    assert "Download the passwords" not in page


def test_people_import_is_for_admins_only(app, users, browser):
    login(browser, "trainer")
    assert browser.client.get("/admin/people/import").status_code == 403


# --- the command line ----------------------------------------------------------------------

def test_cli_imports_creates_units_and_writes_the_passwords_file(app, tmp_path, battalion):
    source = tmp_path / "people.csv"
    source.write_bytes(csv_bytes(f"hv200,Vũ Văn Năm,,{ACADEMY}/Tiểu đoàn 2/Đại đội 5,,,,,,"))
    runner = app.test_cli_runner()
    refused = runner.invoke(cli, ["people", "import", str(source)])
    assert refused.exit_code == 1
    assert "row 2 (hv200): Unknown unit: Học viện Hậu cần/Tiểu đoàn 2/Đại đội 5." in \
        refused.output

    dry = runner.invoke(cli, ["people", "import", str(source), "--create-units", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run: would have 1 created" in dry.output
    assert "Would create unit Học viện Hậu cần/Tiểu đoàn 2" in dry.output
    with app.app_context():
        assert db.session.scalar(select(Unit).where(Unit.name == "Tiểu đoàn 2")) is None

    target = tmp_path / "secret.csv"
    result = runner.invoke(cli, ["people", "import", str(source), "--create-units",
                                 "--passwords-file", str(target)])
    assert result.exit_code == 0, result.output
    assert "Created unit Học viện Hậu cần/Tiểu đoàn 2/Đại đội 5" in result.output
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    [row] = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8").lstrip("\ufeff"))))[1:]
    assert row[0] == "hv200"
    assert verify_password(person(app, "hv200")["password_hash"], row[2])
    assert person(app, "hv200")["unit"] == f"{ACADEMY}/Tiểu đoàn 2/Đại đội 5"
    # The passwords file is never overwritten.
    again = runner.invoke(cli, ["people", "import", str(source), "--passwords-file",
                                str(target)])
    assert again.exit_code == 1
    assert "exists; choose another --passwords-file" in again.output


def test_cli_imports_2000_rows_in_bulk(app, tmp_path, battalion):
    """The 10,000-row target is measured by bench/training_bench.py; this checks the path."""
    rows = [f"p{n:05d},Người {n},QN{n:05d},{ACADEMY}/Tiểu đoàn 1/Đại đội 2,,,,,," for n in
            range(2000)]
    source = tmp_path / "people.csv"
    source.write_bytes(csv_bytes(*rows))
    result = app.test_cli_runner().invoke(cli, ["people", "import", str(source),
                                                "--passwords-file", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    assert "2000 created" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(
            User.username.like("p%"))) == 2000

