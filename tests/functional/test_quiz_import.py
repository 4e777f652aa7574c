"""Question bank files through the import page: CSV, XLSX and GIFT, dry runs, one message per
bad row and nothing imported when a row is bad, size, encodings, formula cells, and exports
that import back into the same questions."""

from __future__ import annotations

import csv
import html
import io
import re
import time

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from lms.extensions import db
from lms.quizzes.models import Question, QuestionCategory, QuestionVersion
from tests.encodings import to_cp1258
from tests.quiz_world import HEADER, bank_csv, make_bank, mixed_csv, user
from tests.training_world import signed_in, text

pytestmark = pytest.mark.functional


@pytest.fixture
def bank(app, world):
    with app.app_context():
        from lms.quizzes import banks

        found = banks.create_bank(user("trainer"), banks.BankInput(name="Ngân hàng nhập"))
        banks.ensure_category(found, "Tổng hợp")
        db.session.commit()
        return found.id


def upload(browser, bank_id: int, data: bytes, name: str = "cau-hoi.csv", *,
           dry_run: bool = False, create: bool = False):
    page = f"/train/banks/{bank_id}/import"
    form = {"file": (io.BytesIO(data), name)}
    if dry_run:
        form["dry_run"] = "y"
    if create:
        form["create_categories"] = "y"
    return browser.post(page, form, page=page, content_type="multipart/form-data")


def rows_csv(*rows, header=HEADER) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def row(text_="Câu hỏi?", kind="single", options=("A", "B", "C", "D"), correct="a",
        category="Tổng hợp", points="1", explanation="", record="", difficulty="medium"):
    return [category, kind, text_, *(list(options) + [""] * 4)[:4], correct, points,
            explanation, record, difficulty, "", ""]


def questions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Question.id)))


def report_errors(response) -> list[tuple[str, str]]:
    """(row, problems) of the report's table."""
    body = response.get_data(as_text=True)
    found = re.findall(r'<tr class="row-error"><td data-label="Row">(\d+)</td>.*?'
                       r'<ul class="plain">(.*?)</ul>', body, re.S)
    return [(number, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", problems)).split()))
            for number, problems in found]


def counts(response) -> str:
    return re.search(r'<p class="report-counts">(.*?)</p>', text(response)).group(1)


def test_a_dry_run_reports_and_changes_nothing_then_the_import_adds_everything(app, bank):
    trainer = signed_in(app, "trainer")
    dry = upload(trainer, bank, mixed_csv(), dry_run=True)
    assert dry.status_code == 200
    assert counts(dry) == "4 new, 0 already in the bank, 0 refused."
    assert "The file is fine." in text(dry)
    assert questions(app) == 0
    done = upload(trainer, bank, mixed_csv())
    assert "Imported: 4 new questions, 0 already in the bank." in text(done)
    assert questions(app) == 4
    again = upload(trainer, bank, mixed_csv())
    assert counts(again) == "0 new, 4 already in the bank, 0 refused."
    assert questions(app) == 4


def test_every_bad_row_gets_its_message_and_nothing_is_imported(app, bank):
    trainer = signed_in(app, "trainer")
    data = rows_csv(
        row("Câu đúng?"),
        row("Không có đáp án?", correct=""),
        row("Đáp án ngoài phương án?", options=("A", "B", "C", ""), correct="e"),
        row("Phương án trùng?", options=("Ctrl + C", "ctrl + c", "Ctrl + V", "")),
        row("Chủ đề lạ?", category="Không có / Ở đây"),
        row("=HYPERLINK(\"http://evil\")", correct="a"),
        row("Kiểu lạ?", kind="essay"),
        row("Điểm lạ?", points="nhiều"),
        row("Hai đáp án cho câu một lựa chọn?", correct="a,b"),
        row("Đúng sai không rõ?", kind="truefalse", options=("", "", "", ""), correct="có lẽ"),
        row("Ghép thiếu mũi tên?", kind="matching", options=("Word", "Excel", "", ""),
            correct=""),
    )
    response = upload(trainer, bank, data)
    assert response.status_code == 422
    assert "Nothing was imported" in text(response)
    errors = dict(report_errors(response))
    assert errors == {
        "3": "No correct answer given (the correct column is empty).",
        "4": "The correct answer E is not one of the options (A, B, C).",
        "5": "Options A and B are the same.",
        "6": "Unknown category “Không có / Ở đây”: add it to the bank first, or let the "
             "import create missing categories.",
        "7": "The text cell starts with '=', like a spreadsheet formula; put an apostrophe "
             "(') before it to keep it as text.",
        "8": "Unknown question type “essay”: use single, multiple, multiple_partial, "
             "truefalse, matching or matching_all.",
        "9": "Points are a number (such as 1 or 0.5).",
        "10": "A single-choice question has exactly one correct option; 2 are marked.",
        "11": "No correct answer: a true/false question says true or false in the correct "
              "column.",
        "12": "Matching options are written “prompt -> answer”. A matching question needs at "
              "least two pairs.",
    }
    assert counts(response) == "1 new, 0 already in the bank, 10 refused."
    assert questions(app) == 0


def test_missing_categories_are_created_when_asked(app, bank):
    trainer = signed_in(app, "trainer")
    data = rows_csv(row("Một?", category="Kỹ năng số / An toàn thông tin / Mật khẩu"),
                    row("Hai?", category="Kỹ năng số/Máy tính"))
    dry = upload(trainer, bank, data, dry_run=True, create=True)
    assert ("Categories to create: Kỹ năng số / An toàn thông tin / Mật khẩu, "
            "Kỹ năng số / Máy tính") in text(dry)
    upload(trainer, bank, data, create=True)
    with app.app_context():
        paths = db.session.scalars(select(QuestionCategory.path).order_by(
            QuestionCategory.path)).all()
    assert paths == ["Kỹ năng số", "Kỹ năng số / An toàn thông tin",
                     "Kỹ năng số / An toàn thông tin / Mật khẩu", "Kỹ năng số / Máy tính",
                     "Tổng hợp"]


def test_an_apostrophe_keeps_formula_looking_text_and_numbers_stay_numbers(app, bank):
    trainer = signed_in(app, "trainer")
    data = rows_csv(row("'=SUM(A1:A5) tính gì?", options=("'=Tổng", "-1", "+84", "@me"),
                        correct="a"))
    response = upload(trainer, bank, data)
    assert dict(report_errors(response)) == {
        "2": "The option_d cell starts with '@', like a spreadsheet formula; put an apostrophe "
             "(') before it to keep it as text."}
    fixed = rows_csv(row("'=SUM(A1:A5) tính gì?", options=("'=Tổng", "-1", "+84", "'@me"),
                         correct="a"))
    upload(trainer, bank, fixed)
    with app.app_context():
        version = db.session.scalar(select(QuestionVersion))
    assert version.text_html == "<p>=SUM(A1:A5) tính gì?</p>"
    assert [o["text"] for o in version.options] == ["=Tổng", "-1", "+84", "@me"]


def test_utf8_with_bom_and_windows_1258_files_read_the_same(app, bank):
    trainer = signed_in(app, "trainer")
    csv_text = rows_csv(row("Mật khẩu nào mạnh nhất?", options=("Ngày sinh", "Tên đơn vị",
                                                                "Cụm từ dài có ký hiệu", "")),
                        ).decode()
    bom = upload(trainer, bank, "\ufeff".encode() + csv_text.encode(), "bom.csv", dry_run=True)
    assert counts(bom) == "1 new, 0 already in the bank, 0 refused."
    cp1258 = upload(trainer, bank, to_cp1258(csv_text), "cp1258.csv")
    assert counts(cp1258) == "1 new, 0 already in the bank, 0 refused."
    with app.app_context():
        version = db.session.scalar(select(QuestionVersion))
    assert version.text_html == "<p>Mật khẩu nào mạnh nhất?</p>"
    assert version.options[2]["text"] == "Cụm từ dài có ký hiệu"
    broken = upload(trainer, bank, b"\x81\x8d\x8f\x90\x9d", "broken.csv")
    assert broken.status_code == 422
    assert "The file is neither UTF-8 nor Windows-1258 text." in text(broken)


def test_5000_rows_import_at_once_and_more_are_refused_whole(app, bank):
    trainer = signed_in(app, "trainer")
    many = [row(f"Câu hỏi số {i}?", options=(f"A{i}", f"B{i}", f"C{i}", f"D{i}"))
            for i in range(5000)]
    started = time.perf_counter()
    response = upload(trainer, bank, rows_csv(*many))
    took = time.perf_counter() - started
    assert "Imported: 5000 new questions, 0 already in the bank." in text(response)
    assert questions(app) == 5000
    assert took < 60
    too_many = upload(trainer, bank, rows_csv(*many, row("Câu 5001?")))
    assert too_many.status_code == 422
    assert ("The file has more than 5000 questions. Split it into files of at most 5000; "
            "nothing was imported.") in text(too_many)
    assert questions(app) == 5000


def test_an_xlsx_formula_is_refused_but_text_that_looks_like_one_is_kept(app, bank):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(row("Công thức nào tính tổng?", options=("x", "y", "z", "w")))
    sheet["D2"] = "=1+1"  # a real formula in option_a
    sheet.append(row("Kết quả của ô có công thức =A1*2?", options=("Gấp đôi", "Nửa", "", "")))
    text_cell = sheet.cell(row=3, column=4, value="=A1*2 là gì")
    text_cell.data_type = "s"
    out = io.BytesIO()
    workbook.save(out)
    trainer = signed_in(app, "trainer")
    response = upload(trainer, bank, out.getvalue(), "cau-hoi.xlsx")
    assert dict(report_errors(response)) == {
        "2": "The option_a cell is a spreadsheet formula; type it as text."}
    assert counts(response) == "1 new, 0 already in the bank, 1 refused."
    sheet["D2"] = "x"
    out = io.BytesIO()
    workbook.save(out)
    assert counts(upload(trainer, bank, out.getvalue(), "cau-hoi.xlsx")) == \
        "2 new, 0 already in the bank, 0 refused."
    with app.app_context():
        texts = db.session.scalars(select(QuestionVersion.options)).all()
    assert texts[1][0]["text"] == "=A1*2 là gì"


GIFT = """// Ngân hàng mẫu
$CATEGORY: $course$/top/Kỹ năng số/Máy tính

// difficulty: easy
::Q1::Phím tắt nào sao chép? {=Ctrl + C#Đúng ~Ctrl + V#Đó là dán ~Ctrl + X}

::Q2::Thiết bị nhập liệu? {~%50%Bàn phím ~%50%Chuột ~%-100%Máy in ####Máy in là thiết bị xuất.}

Dùng chung mật khẩu là an toàn.{F}

// points: 2
Ghép phần mềm và công việc. {=Word -> Văn bản =Excel -> Bảng tính =PowerPoint -> Trình chiếu}

$CATEGORY: An toàn thông tin
Thủ đô của Việt Nam? {=Hà Nội =Ha Noi}

Mô tả ngắn {}

Số π bằng bao nhiêu? {#3.14:0.01}

Câu có ký tự đặc biệt \\{ và \\= ? {=Có ~Không}
"""


def test_a_gift_file_imports_the_four_types_and_reports_unsupported_ones(app, bank):
    trainer = signed_in(app, "trainer")
    response = upload(trainer, bank, GIFT.encode(), "moodle.gift", create=True)
    assert dict(report_errors(response)) == {
        "15": "Short-answer questions are not supported.",
        "17": "Essay questions are not supported.",
        "19": "Numerical questions are not supported.",
    }
    fixed = "\n".join(line for line in GIFT.splitlines()
                      if not line.startswith(("Thủ đô", "Mô tả", "Số π")))
    assert counts(upload(trainer, bank, fixed.encode(), "moodle.gift", create=True)) == \
        "5 new, 0 already in the bank, 0 refused."
    with app.app_context():
        rows = db.session.execute(select(QuestionVersion, Question).join(
            Question, Question.id == QuestionVersion.question_id).order_by(Question.id)).all()
    summary = [(v.type, v.partial, v.points, q.difficulty) for v, q in rows]
    assert summary == [("single", False, 1.0, "easy"), ("multiple", True, 1.0, "medium"),
                       ("truefalse", False, 1.0, "medium"), ("matching", True, 2.0, "medium"),
                       ("single", False, 1.0, "medium")]
    single, multiple, truth, matching, special = (v for v, _q in rows)
    assert [(o["text"], o["correct"], o["feedback"]) for o in single.options] == [
        ("Ctrl + C", True, "Đúng"), ("Ctrl + V", False, "Đó là dán"), ("Ctrl + X", False, "")]
    assert [o["correct"] for o in multiple.options] == [True, True, False]
    assert multiple.explanation_html == "<p>Máy in là thiết bị xuất.</p>"
    assert [(o["key"], o["correct"]) for o in truth.options] == [("t", False), ("f", True)]
    assert [o["match"] for o in matching.options] == ["Văn bản", "Bảng tính", "Trình chiếu"]
    assert special.text_html == "<p>Câu có ký tự đặc biệt { và = ?</p>"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "gift"])
def test_an_export_imports_back_into_the_same_questions(app, world, fmt):
    from lms.quizzes import transfer

    with app.app_context():
        source = make_bank(user("trainer"), mixed_csv())
        transfer.import_bank(user("trainer"), source, rows_csv(row(
            "'=SUM(A1:A2) là gì?", category="Bảng tính", options=("Tổng", "'=A1+A2", "", ""))),
            "bang-tinh.csv", create_categories=True)
        source_id = source.id
        target = make_bank(user("trainer"), rows_csv(), name="Đích")
        target_id = target.id
    trainer = signed_in(app, "trainer")
    exported = trainer.client.get(f"/train/banks/{source_id}/export?format={fmt}")
    assert exported.status_code == 200
    data = exported.get_data()
    if fmt == "csv":
        assert data.startswith("\ufeff".encode())
        assert "'=SUM(A1:A2) là gì?" in data.decode()
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(data)).active
        cells = {c.value: c.data_type for r in sheet.iter_rows() for c in r if c.value}
        assert cells["=SUM(A1:A2) là gì?"] == "s"
    response = upload(trainer, target_id, data, f"xuat.{fmt}", create=True)
    assert counts(response) == "5 new, 0 already in the bank, 0 refused."

    def content(bank_id):
        with app.app_context():
            return sorted((q.type, q.difficulty, v.text_html, v.partial, v.points,
                           v.explanation_html, c.path,
                           [(o["text"], o.get("correct"), o.get("match"), o.get("feedback"))
                            for o in v.options])
                          for v, q, c in db.session.execute(
                              select(QuestionVersion, Question, QuestionCategory)
                              .join(Question, Question.id == QuestionVersion.question_id)
                              .join(QuestionCategory, QuestionCategory.id == Question.category_id)
                              .where(Question.bank_id == bank_id)))

    assert content(target_id) == content(source_id)


def test_a_file_of_another_kind_is_refused(app, bank):
    trainer = signed_in(app, "trainer")
    response = upload(trainer, bank, b"%PDF-1.4", "cau-hoi.pdf")
    assert response.status_code == 422
    assert "Choose a .csv, .xlsx or .gift file." in text(response)
    header = upload(trainer, bank, b"category,kind,text\nA,single,B\n", "x.csv")
    assert "Unknown columns: kind." in text(header)
    empty = upload(trainer, bank, b"", "x.csv")
    assert "The file is empty." in text(empty)
    assert questions(app) == 0


def test_only_the_banks_manager_imports(app, bank):
    other = signed_in(app, "trainer2")
    assert upload(other, bank, bank_csv(per_category=1)).status_code == 404
    assert questions(app) == 0
