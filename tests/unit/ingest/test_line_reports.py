"""An import's line reports, kept as columns, read back as the lines that went in."""

from __future__ import annotations

from lms.ingest.imports import ImportReport, LineReport, LineReports


def _lines() -> list[LineReport]:
    return [
        LineReport(1, "a", "created", 10),
        LineReport(2, None, "error", None, ["missing title"]),
        LineReport(3, "c", "updated", 12, [], ["odd date"]),
        LineReport(4, "d", "unchanged", 13),
        LineReport(5, "e", "error", None, ["missing title"], ["odd date"]),
    ]


def test_the_lines_read_back_are_the_lines_kept():
    kept = LineReports(_lines())
    assert list(kept) == _lines()
    assert len(kept) == 5
    assert kept[-1] == _lines()[-1]
    assert kept[1:3] == _lines()[1:3]


def test_lines_with_the_same_messages_share_one_list_of_each():
    first = LineReport(1, "a", "error", None, ["missing title"])
    second = LineReport(2, "b", "error", None, ["missing title"])
    kept = LineReports([first, second])
    assert kept[1].errors is kept[0].errors


def test_counts_come_from_the_columns():
    report = ImportReport(source="x.jsonl", lines=LineReports(_lines()))
    assert report.counts == {"created": 1, "updated": 1, "unchanged": 1, "error": 2,
                             "warnings": 1}
    assert report.failed is True


def test_a_report_without_refused_lines_has_not_failed():
    report = ImportReport(source="x.jsonl", lines=LineReports(_lines()[:1]))
    assert report.failed is False
