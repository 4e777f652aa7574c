"""Thumbnails in a limited child process: good files work, hostile ones fail cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from lms.files import thumbnails as thumbnails_module
from lms.files.thumbnail_worker import main as worker_main
from lms.files.thumbnails import ThumbnailResult, make_thumbnail


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".thumb-"))


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "thumbs"
    directory.mkdir()
    return directory


def test_pdf_first_page_with_vietnamese_text(tmp_path, out_dir, samples):
    source = write(tmp_path, "giao-trinh.pdf", samples.pdf(pages=3))
    out = out_dir / "giao-trinh.png"
    result = make_thumbnail(source, "application/pdf", out)
    assert result == ThumbnailResult(True, "PDF page 1 of 3")
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert max(image.size) == 320
        assert image.size[0] < image.size[1]  # A4 portrait
        darkest, _ = image.convert("L").getextrema()
        assert darkest < 128  # the text was drawn
    assert leftovers(out_dir) == []


@pytest.mark.parametrize(("fmt", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"),
                                                 ("GIF", "image/gif"), ("WEBP", "image/webp")])
def test_images(tmp_path, out_dir, samples, fmt, media_type):
    source = write(tmp_path, f"anh.{fmt.lower()}", samples.image(fmt, size=(1000, 600)))
    out = out_dir / "anh.webp"
    result = make_thumbnail(source, media_type, out, max_px=200)
    assert result.ok, result.message
    with Image.open(out) as image:
        assert image.format == "WEBP"
        assert image.size == (200, 120)


def test_pixel_flood_fails_cleanly(tmp_path, out_dir, samples):
    source = write(tmp_path, "flood.png", samples.png_header_only(30_000, 30_000))
    assert source.stat().st_size < 1000
    out = out_dir / "flood.png"
    result = make_thumbnail(source, "image/png", out)
    assert result.ok is False
    assert "too large" in result.message
    assert not out.exists()
    assert leftovers(out_dir) == []


def test_between_the_pixel_limit_and_twice_it_is_refused_too(tmp_path, out_dir, samples):
    # 64 M pixels: Pillow only warns above MAX_IMAGE_PIXELS (50 M); the worker refuses.
    source = write(tmp_path, "big.png", samples.png_header_only(8000, 8000))
    result = make_thumbnail(source, "image/png", out_dir / "big.png")
    assert result.ok is False
    assert "too large" in result.message


def test_memory_limit_turns_a_huge_decode_into_a_clean_failure(tmp_path, out_dir, samples):
    # 7000 x 7000 grey (49 M pixels, under the pixel cap): a 49 MB decode from a 48 KB file.
    source = write(tmp_path, "wide.png", samples.png_header_only(7000, 7000, rows=True))
    assert make_thumbnail(source, "image/png", out_dir / "ok.png").ok  # fine with 1 GiB
    result = make_thumbnail(source, "image/png", out_dir / "tight.png",
                            memory_bytes=100 * 1024 * 1024)
    assert result == ThumbnailResult(False, "out of memory")
    assert not (out_dir / "tight.png").exists()
    assert leftovers(out_dir) == []


def test_corrupt_pdf_fails_cleanly(tmp_path, out_dir, pdf_bytes):
    source = write(tmp_path, "broken.pdf", pdf_bytes[:400] + b"\x00garbage" * 50)
    result = make_thumbnail(source, "application/pdf", out_dir / "broken.png")
    assert result.ok is False
    assert "PDF" in result.message
    assert not (out_dir / "broken.png").exists()


def test_truncated_image_fails_cleanly(tmp_path, out_dir, samples):
    data = samples.image("PNG", size=(800, 800))
    source = write(tmp_path, "cut.png", data[: len(data) // 2])
    result = make_thumbnail(source, "image/png", out_dir / "cut.png")
    assert result.ok is False
    assert not (out_dir / "cut.png").exists()


def test_timeout_fails_cleanly_and_kills_the_worker(tmp_path, out_dir, pdf_bytes):
    source = write(tmp_path, "slow.pdf", pdf_bytes)
    result = make_thumbnail(source, "application/pdf", out_dir / "slow.png", timeout=0.01)
    assert result == ThumbnailResult(False, "timed out after 0.01 s")
    assert not (out_dir / "slow.png").exists()
    assert leftovers(out_dir) == []


@pytest.mark.parametrize(
    ("attr", "media_type"),
    [("SVG_WITH_SCRIPT", "image/svg+xml"), ("HTML_WITH_SCRIPT", "text/html"),
     ("EXE", "application/vnd.microsoft.portable-executable")],
)
def test_active_types_are_never_thumbnailed(tmp_path, out_dir, samples, attr, media_type):
    source = write(tmp_path, "x", getattr(samples, attr))
    result = make_thumbnail(source, media_type, out_dir / "x.png")
    assert result.ok is False
    assert result.message.startswith("no thumbnails for")


def test_polyglot_is_never_thumbnailed(tmp_path, out_dir, samples):
    source = write(tmp_path, "poly.pdf", samples.POLYGLOT)
    result = make_thumbnail(source, "application/pdf", out_dir / "poly.png")
    assert result.ok is False
    assert "polyglot" in result.message


def test_content_must_match_the_declared_type(tmp_path, out_dir, samples):
    source = write(tmp_path, "lie.pdf", samples.HTML_WITH_SCRIPT)
    result = make_thumbnail(source, "application/pdf", out_dir / "lie.png")
    assert result == ThumbnailResult(False, "content is text/html, not application/pdf")


def test_only_png_or_webp_output(tmp_path, samples):
    source = write(tmp_path, "a.png", samples.image("PNG"))
    assert make_thumbnail(source, "image/png", tmp_path / "a.jpg").ok is False
    assert make_thumbnail(source, "image/png", tmp_path / "a.png", max_px=5000).ok is False


def test_missing_source(tmp_path):
    result = make_thumbnail(tmp_path / "nope.png", "image/png", tmp_path / "t.png")
    assert result.ok is False


def test_the_worker_gets_no_inherited_environment(monkeypatch):
    monkeypatch.setenv("LMS_SECRET_KEY", "do-not-leak")
    env = thumbnails_module._child_env()
    assert not any(name.startswith("LMS_") for name in env)
    assert "do-not-leak" not in env.values()


def test_worker_refuses_other_types_in_process(tmp_path, capsys, monkeypatch):
    applied = []
    monkeypatch.setattr("lms.files.thumbnail_worker.apply_limits",
                        lambda *args: applied.append(args))
    status = worker_main(["--memory", "1", "--cpu", "1", "--max-output", "1", "--max-pixels",
                          "1", "--max-px", "64", "--media-type", "text/html", "--",
                          str(tmp_path / "a"), str(tmp_path / "b")])
    assert status == 1
    assert applied == [(1, 1, 1)]
    assert '"ok": false' in capsys.readouterr().out
