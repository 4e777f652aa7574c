"""Storing an import's files (``lms.ingest.imports``): their messages, a path listed twice."""

from __future__ import annotations

import json
from pathlib import Path

from flask_babel import force_locale

from lms.extensions import db
from lms.ingest.imports import ImportOptions, run_import
from tests.factories import make_collection

METADATA = {"title": [{"value": "Hậu cần quân đội", "lang": "vi"}],
            "type": [{"value": "Text"}], "issued": [{"value": "2025-09-22"}]}


def _package(folder: Path, files: dict[str, bytes], lines: list[list[str]]) -> Path:
    for name, data in files.items():
        (folder / name).write_bytes(data)
    path = folder / "import.jsonl"
    path.write_text("".join(json.dumps({
        "id": f"s-{n}", "access": "public", "metadata": METADATA,
        "files": [{"path": name} for name in names]}, ensure_ascii=False) + "\n"
        for n, names in enumerate(lines)), encoding="utf-8")
    return path


def test_file_messages_are_in_the_runs_language(app, tmp_path):
    package = _package(tmp_path, {"empty.txt": b"", "a.txt": "nội dung".encode()},
                       [["a.txt", "empty.txt"], ["a.txt", "a.txt"]])
    with app.app_context():
        make_collection("khoa-hau-can")
        db.session.commit()
        with force_locale("vi"):  # a job's owner's; the command line's is English
            report = run_import(None, package, ImportOptions(collection="khoa-hau-can",
                                                             lang="vi"))

    first, second = report.lines
    assert (first.outcome, first.errors) == ("error", ["empty.txt: empty.txt rỗng (0 byte)."])
    # One path twice in a line: stored once, attached once, with the line's warning.
    assert second.outcome == "created"
    assert [w for w in second.warnings if "a.txt" in w] == [
        "a.txt có nội dung trùng với một tệp khác của dòng; chỉ đính kèm một lần."]
