"""send_blob over real HTTP (a throwaway route on the test app): headers, Range, conditionals,
on both stores (``served`` runs each test on local files, then on moto's S3 server)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.http import http_date, parse_options_header

from lms.files.serving import (
    FILE_CSP,
    INLINE_TYPES,
    PDF_CSP,
    UNSATISFIABLE,
    BlobResponse,
    choose_range,
    is_download_start,
    send_blob,
)
from lms.files.sniff import sniff_bytes
from lms.files.storage import BlobNotFound, LocalStorage
from lms.files.stores import get_storage

pytestmark = pytest.mark.functional

MODIFIED = datetime(2025, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
DATA = bytes(range(256)) * 40  # 10,240 bytes


class Served:
    """Blobs put into the app's storage and served at ``/blob/<key>`` with chosen options."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.storage = get_storage(app)
        self.options: dict[str, dict[str, Any]] = {}
        self.download_starts: list[bool] = []
        app.add_url_rule("/blob/<key>", "test_blob", self.view, methods=["GET", "HEAD", "POST"])
        self.client = app.test_client()

    def view(self, key: str):
        # The real route runs the access check here, before send_blob.
        response = send_blob(self.storage, key, **self.options[key])
        self.download_starts.append(response.is_download_start)
        return response

    def add(self, data: bytes = DATA, **options: Any) -> str:
        blob = self.storage.put(io.BytesIO(data))
        self.options[blob.key] = {
            "media_type": "application/pdf",
            "sniff_mismatch": False,
            "display_name": "Giáo trình Hậu cần.pdf",
            "is_public": False,
            "last_modified": MODIFIED,
        } | options
        return blob.key

    def get(self, key: str, **headers: str):
        response = self.client.get(f"/blob/{key}", headers=headers)
        response.get_data()
        response.close()  # as a WSGI server would: closes the blob
        return response


@pytest.fixture
def served(app: Flask, file_store: str) -> Served:
    return Served(app)


def assert_hardened(response, *, csp: str = FILE_CSP) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == csp
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert headers.get_all("Content-Security-Policy") == [csp]


def test_get_storage_lives_under_data_dir(app):
    storage = get_storage(app)
    assert isinstance(storage, LocalStorage)
    assert str(storage.root).startswith(str(app.config["DATA_DIR"]))
    assert storage.root.name == "blobs"
    assert storage.tmp_dir.name == "tmp"
    assert get_storage(app) is storage


def test_get_storage_is_the_bucket_the_settings_name(app, s3_settings):
    from lms.files.object_storage import S3Storage

    app.config.update(s3_settings)
    storage = get_storage(app)
    assert isinstance(storage, S3Storage)
    assert f"s3://{storage.bucket}/{storage.prefix.rstrip('/')}" == s3_settings["STORAGE"]
    assert storage.tmp_dir == Path(app.config["DATA_DIR"]) / "tmp"
    assert get_storage(app) is storage


def test_pdf_is_served_inline_with_the_pdf_csp(served):
    key = served.add()
    response = served.get(key)
    assert response.status_code == 200
    assert response.data == DATA
    headers = response.headers
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == (
        'inline; filename="Giao trinh Hau can.pdf"; '
        "filename*=UTF-8''Gi%C3%A1o%20tr%C3%ACnh%20H%E1%BA%ADu%20c%E1%BA%A7n.pdf"
    )
    assert_hardened(response, csp=PDF_CSP)
    assert "sandbox" not in PDF_CSP and "default-src" not in PDF_CSP
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["ETag"] == f'"{key}"'
    assert headers["Last-Modified"] == "Sat, 01 Mar 2025 08:30:15 GMT"
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Content-Length"] == str(len(DATA))
    assert served.download_starts == [True]


@pytest.mark.parametrize("media_type", sorted(INLINE_TYPES - {"application/pdf"}))
def test_allowlisted_media_is_inline_under_the_strict_csp(served, media_type):
    key = served.add(media_type=media_type, display_name="bai-giang.bin")
    response = served.get(key)
    assert response.headers["Content-Type"] == media_type
    assert parse_options_header(response.headers["Content-Disposition"])[0] == "inline"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert_hardened(response)


@pytest.mark.parametrize("media_type", sorted(INLINE_TYPES))
def test_a_forced_download_keeps_the_true_type_of_allowlisted_media(served, media_type):
    key = served.add(media_type=media_type, force_attachment=True)
    response = served.get(key)
    assert response.headers["Content-Type"] == media_type
    assert parse_options_header(response.headers["Content-Disposition"])[0] == "attachment"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert_hardened(response)


def test_a_forced_download_of_a_mismatch_stays_an_octet_stream(served):
    key = served.add(media_type="application/pdf", sniff_mismatch=True, force_attachment=True)
    assert served.get(key).headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    "media_type",
    [
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "application/javascript",
        "text/javascript",
        "text/plain",
        "application/octet-stream",
        "application/x-unknown",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/zip",
        "image/bmp",
        "application/pdf; charset=utf-8",  # not exactly an allowlisted type
    ],
)
def test_everything_else_is_an_octet_stream_attachment(served, media_type):
    key = served.add(media_type=media_type, display_name="tai-lieu.html")
    response = served.get(key)
    assert response.headers["Content-Type"] == "application/octet-stream"
    disposition, params = parse_options_header(response.headers["Content-Disposition"])
    assert disposition == "attachment"
    assert params["filename"] == "tai-lieu.html"
    assert_hardened(response)
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_sniff_mismatch_is_never_inline(served):
    key = served.add(media_type="application/pdf", sniff_mismatch=True)
    response = served.get(key)
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert_hardened(response)


@pytest.mark.parametrize(
    ("attr", "name"), [("EXE", "giao-trinh.pdf"), ("HTML_WITH_SCRIPT", "brief.pdf"),
                       ("SVG_WITH_SCRIPT", "logo.svg"), ("HTML_WITH_SCRIPT", "page.html")]
)
def test_hostile_uploads_end_to_end_are_attachments(served, samples, attr, name):
    data = getattr(samples, attr)
    sniffed = sniff_bytes(data, name)
    key = served.add(data, media_type=sniffed.media_type, sniff_mismatch=sniffed.mismatch,
                     display_name=name)
    response = served.get(key)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert_hardened(response)
    assert response.data == data


def test_public_files_are_revalidated_not_stored_privately(served):
    key = served.add(is_public=True)
    assert served.get(key).headers["Cache-Control"] == "public, no-cache"


def test_zero_byte_file(served):
    key = served.add(b"", media_type="text/plain", display_name="empty.txt")
    response = served.get(key)
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == "0"
    ranged = served.get(key, Range="bytes=0-10")
    assert ranged.status_code == 200  # nothing to slice: the Range is ignored
    assert served.storage.size(key) == 0


def test_header_injection_through_the_display_name(served):
    key = served.add(display_name="x\r\nSet-Cookie: session=evil\r\n\r\n<script>.pdf")
    response = served.get(key)
    assert response.status_code == 200
    assert response.headers.get_all("Set-Cookie") == []
    value = response.headers["Content-Disposition"]
    assert "\r" not in value and "\n" not in value and "<" not in value


# -- Range


def test_single_range(served):
    key = served.add()
    response = served.get(key, Range="bytes=0-99")
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 0-99/{len(DATA)}"
    assert response.headers["Content-Length"] == "100"
    assert response.data == DATA[:100]
    assert_hardened(response, csp=PDF_CSP)
    assert served.download_starts == [True]  # a player's first request counts once


def test_range_continuation_is_not_a_new_download(served):
    key = served.add()
    response = served.get(key, Range="bytes=5000-")
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 5000-{len(DATA) - 1}/{len(DATA)}"
    assert response.data == DATA[5000:]
    assert served.download_starts == [False]


def test_suffix_range(served):
    key = served.add()
    response = served.get(key, Range="bytes=-10")
    assert response.status_code == 206
    assert response.data == DATA[-10:]
    assert response.headers["Content-Range"] == f"bytes {len(DATA) - 10}-{len(DATA) - 1}/10240"


def test_range_end_past_the_end_is_clamped(served):
    key = served.add()
    response = served.get(key, Range="bytes=10000-99999")
    assert response.status_code == 206
    assert response.headers["Content-Range"] == "bytes 10000-10239/10240"
    assert response.data == DATA[10000:]


def test_range_past_the_end_is_416(served):
    key = served.add()
    response = served.get(key, Range="bytes=20000-")
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */10240"
    assert response.data == b""
    assert "Content-Disposition" not in response.headers
    assert response.headers["Cache-Control"] == "private, no-store"
    assert_hardened(response, csp=PDF_CSP)
    assert served.download_starts == [False]


def test_a_thousand_ranges_get_one_range(served):
    key = served.add()
    header = "bytes=" + ",".join(f"{i * 10}-{i * 10 + 4}" for i in range(1000))
    response = served.get(key, Range=header)
    assert response.status_code == 206
    assert not response.headers["Content-Type"].startswith("multipart/")
    assert response.headers["Content-Range"] == "bytes 0-4/10240"
    assert response.data == DATA[:5]


def test_a_thousand_overlapping_ranges_get_one_range(served):
    key = served.add()
    response = served.get(key, Range="bytes=" + ",".join(["0-"] * 1000))
    assert response.status_code == 206
    assert response.headers["Content-Range"] == "bytes 0-10239/10240"
    assert response.data == DATA


def test_first_satisfiable_range_wins(served):
    key = served.add()
    response = served.get(key, Range="bytes=50000-60000,100-199,0-9")
    assert response.status_code == 206
    assert response.headers["Content-Range"] == "bytes 100-199/10240"


def test_a_thousand_unsatisfiable_ranges_are_416(served):
    key = served.add()
    header = "bytes=" + ",".join(f"{20000 + i}-{20000 + i}" for i in range(1000))
    response = served.get(key, Range=header)
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */10240"


@pytest.mark.parametrize(
    "header", ["bytes=abc", "items=0-5", "bytes=5-1", "bytes=-", "bytes", "bytes=1-2-3",
               "bytes=" + "9" * 30 + "-"]
)
def test_malformed_range_is_ignored(served, header):
    key = served.add()
    response = served.get(key, Range=header)
    assert response.status_code == 200
    assert response.data == DATA


def test_range_parsing_stops_at_the_first_satisfiable_range():
    # Ten thousand specs after it are never looked at (nor validated).
    header = "bytes=0-0," + ",".join(["junk"] * 10_000)
    assert choose_range(header, 100) == (0, 1)
    assert choose_range("bytes=200-300", 100) is UNSATISFIABLE
    assert choose_range("bytes=-0", 100) is UNSATISFIABLE
    assert choose_range(None, 100) is None
    assert choose_range("bytes=0-", 0) is None


def test_head_sends_headers_without_opening_the_blob(served, monkeypatch):
    key = served.add()

    def refuse(key):
        raise AssertionError("HEAD must not open the blob")

    monkeypatch.setattr(served.storage, "open", refuse)
    response = served.client.head(f"/blob/{key}")
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(DATA))
    assert response.data == b""
    assert served.download_starts == [False]


def test_large_range_crosses_chunk_boundaries(served):
    data = bytes(range(251)) * 20_000  # ~5 MB, several read chunks
    key = served.add(data, media_type="video/mp4", display_name="video.mp4")
    response = served.get(key, Range="bytes=1000000-3500000")
    assert response.status_code == 206
    assert response.data == data[1_000_000:3_500_001]


# -- conditional requests


def test_if_none_match_gives_304(served):
    key = served.add()
    for tag in (f'"{key}"', f'W/"{key}"', f'"other", "{key}"', "*"):
        response = served.get(key, **{"If-None-Match": tag})
        assert response.status_code == 304, tag
        assert response.data == b""
        assert response.headers["ETag"] == f'"{key}"'
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "Content-Disposition" not in response.headers
        assert_hardened(response, csp=PDF_CSP)
    assert served.get(key, **{"If-None-Match": '"other"'}).status_code == 200
    assert served.download_starts == [False] * 4 + [True]


def test_if_modified_since(served):
    key = served.add()
    assert served.get(key, **{"If-Modified-Since": http_date(MODIFIED)}).status_code == 304
    later = http_date(MODIFIED + timedelta(days=1))
    assert served.get(key, **{"If-Modified-Since": later}).status_code == 304
    earlier = http_date(MODIFIED - timedelta(seconds=1))
    assert served.get(key, **{"If-Modified-Since": earlier}).status_code == 200
    assert served.get(key, **{"If-Modified-Since": "not a date"}).status_code == 200


def test_if_none_match_takes_precedence_over_if_modified_since(served):
    key = served.add()
    response = served.get(
        key, **{"If-None-Match": '"other"', "If-Modified-Since": http_date(MODIFIED)}
    )
    assert response.status_code == 200


def test_if_match_and_if_unmodified_since(served):
    key = served.add()
    assert served.get(key, **{"If-Match": '"other"'}).status_code == 412
    assert served.get(key, **{"If-Match": f'W/"{key}"'}).status_code == 412  # strong only
    assert served.get(key, **{"If-Match": f'"{key}"'}).status_code == 200
    earlier = http_date(MODIFIED - timedelta(days=1))
    assert served.get(key, **{"If-Unmodified-Since": earlier}).status_code == 412


def test_if_range(served):
    key = served.add()
    same = served.get(key, Range="bytes=0-9", **{"If-Range": f'"{key}"'})
    assert same.status_code == 206
    changed = served.get(key, Range="bytes=0-9", **{"If-Range": '"older"'})
    assert changed.status_code == 200 and changed.data == DATA
    weak = served.get(key, Range="bytes=0-9", **{"If-Range": f'W/"{key}"'})
    assert weak.status_code == 200
    dated = served.get(key, Range="bytes=0-9", **{"If-Range": http_date(MODIFIED)})
    assert dated.status_code == 206
    other_date = http_date(MODIFIED - timedelta(days=1))
    assert served.get(key, Range="bytes=0-9", **{"If-Range": other_date}).status_code == 200


def test_no_last_modified_when_not_given(served):
    key = served.add(last_modified=None)
    response = served.get(key, **{"If-Modified-Since": http_date(MODIFIED)})
    assert response.status_code == 200
    assert "Last-Modified" not in response.headers


def test_custom_etag_base(served):
    key = served.add(etag_base="v2-abc")
    assert served.get(key).headers["ETag"] == '"v2-abc"'
    assert served.get(key, **{"If-None-Match": '"v2-abc"'}).status_code == 304


# -- misuse


def test_missing_blob_raises_instead_of_serving(app):
    storage = get_storage(app)
    with app.test_request_context("/"), pytest.raises(BlobNotFound):
        send_blob(storage, "0" * 64, media_type="application/pdf", sniff_mismatch=False,
                  display_name="x.pdf")


@pytest.mark.parametrize(
    "options",
    [
        {"key": "../../etc/passwd"},
        {"etag_base": 'x"; evil'},
        {"last_modified": datetime(2025, 1, 1)},  # naive
    ],
)
def test_invalid_arguments_raise(app, options):
    storage = get_storage(app)
    key = storage.put(io.BytesIO(b"x")).key
    arguments = {"key": key, "media_type": "application/pdf", "sniff_mismatch": False,
                 "display_name": "x.pdf"} | options
    with app.test_request_context("/"), pytest.raises(ValueError):
        send_blob(storage, **arguments)


def test_send_blob_returns_a_blob_response(app):
    storage = get_storage(app)
    key = storage.put(io.BytesIO(b"abc")).key
    with app.test_request_context("/"):
        response = send_blob(storage, key, media_type="image/png", sniff_mismatch=False,
                             display_name="a.png")
        assert isinstance(response, BlobResponse)
        response.close()


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        ("GET", {}, True),
        ("GET", {"Range": "bytes=0-"}, True),
        ("GET", {"Range": "bytes=0-1023"}, True),
        ("GET", {"Range": "bytes=1024-"}, False),
        ("GET", {"Range": "bytes=-500"}, False),
        ("GET", {"Range": "garbage"}, True),  # ignored: a full download
        ("HEAD", {}, False),
        ("POST", {}, False),
    ],
)
def test_is_download_start(app, method, headers, expected):
    with app.test_request_context("/", method=method, headers=headers):
        from flask import request

        assert is_download_start(request) is expected
