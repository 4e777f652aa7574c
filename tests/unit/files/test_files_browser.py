"""In headless Chromium: an uploaded HTML file is downloaded, never rendered in our origin."""

from __future__ import annotations

import contextlib
import io

import pytest

from lms.files.serving import send_blob
from lms.files.sniff import sniff_bytes
from lms.files.storage import get_storage

pytestmark = pytest.mark.e2e

HTML = (
    b"<!doctype html><html><head><title>ok</title></head>"
    b"<body><h1>hello</h1><script>document.title='pwned'</script></body></html>"
)


def serve(app, data: bytes, name: str) -> str:
    """Store ``data`` and serve it at a throwaway route, sniffed as the deposit code will."""
    storage = get_storage(app)
    key = storage.put(io.BytesIO(data)).key
    sniffed = sniff_bytes(data, name)

    @app.get("/e2e-file")
    def e2e_file():
        # The real route checks access first.
        return send_blob(storage, key, media_type=sniffed.media_type,
                         sniff_mismatch=sniffed.mismatch, display_name=name)

    return "/e2e-file"


@pytest.mark.parametrize("name", ["brief.pdf", "trang.html"])
def test_html_with_script_is_downloaded_not_rendered(app, live_server, page, name):
    from playwright.sync_api import Error as PlaywrightError

    path = serve(app, HTML, name)
    page.goto(f"{live_server}/login")  # an ordinary page of our origin first
    navigated = []
    page.on("framenavigated", lambda frame: navigated.append(frame.url))

    # Navigating to an attachment aborts the navigation (a Playwright error): that is the point.
    with (
        page.expect_download(timeout=10_000) as download_info,
        contextlib.suppress(PlaywrightError),
    ):
        page.goto(f"{live_server}{path}")
    download = download_info.value

    assert download.suggested_filename == name
    assert download.url == f"{live_server}{path}"
    assert page.title() != "pwned"
    assert page.url == f"{live_server}/login"  # still on our page; nothing was rendered
    assert f"{live_server}{path}" not in navigated
    with open(download.path(), "rb") as fh:
        assert fh.read() == HTML  # delivered byte for byte, just not executed


def test_inline_pdf_opens_in_the_viewer_despite_the_csp(app, live_server, page, samples):
    # PDF_CSP must not break Chromium's viewer (it runs as an extension, outside our origin).
    path = serve(app, samples.pdf(), "Giáo trình.pdf")
    downloads = []
    page.on("download", lambda download: downloads.append(download))
    response = page.goto(f"{live_server}{path}")
    assert response is not None and response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    page.wait_for_timeout(500)
    assert downloads == []
    assert any(frame.url.startswith("chrome-extension://") for frame in page.frames)
