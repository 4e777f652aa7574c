"""Thumbnail worker: ``python -m lms.files.thumbnail_worker [limits] -- SOURCE OUTPUT``.

Run only by :func:`lms.files.thumbnails.make_thumbnail`. It caps its own resources before
decoding anything, writes OUTPUT (PNG or WebP by suffix) and prints one JSON line
``{"ok": bool, "message": str}``; the exit status is 0 on success, 1 on a clean failure.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
import warnings
from pathlib import Path


class ThumbnailError(Exception):
    """The file cannot be thumbnailed; the message says why."""


def _cap(limit: int, value: int) -> None:
    _soft, hard = resource.getrlimit(limit)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(limit, (value, value))


def apply_limits(memory: int, cpu_seconds: int, max_output: int) -> None:
    """Cap address space, CPU time, written file size, open files and core dumps."""
    _cap(resource.RLIMIT_AS, memory)
    _cap(resource.RLIMIT_CPU, cpu_seconds)
    _cap(resource.RLIMIT_FSIZE, max_output)
    _cap(resource.RLIMIT_CORE, 0)
    _cap(resource.RLIMIT_NOFILE, 64)
    # Writing past RLIMIT_FSIZE then fails with EFBIG instead of killing us silently.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _save(image, output: Path) -> None:
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in
                              image.info else "RGB")
    if output.suffix.lower() == ".webp":
        image.save(output, format="WEBP", quality=80, method=4)
    else:
        image.save(output, format="PNG", optimize=True)


def render_image(source: Path, output: Path, max_px: int, max_pixels: int) -> str:
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = max_pixels
    # Between MAX_IMAGE_PIXELS and twice that, Pillow only warns: refuse those too.
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        with Image.open(source, formats=["PNG", "JPEG", "GIF", "WEBP"]) as image:
            width, height = image.size
            image.draft("RGB", (max_px, max_px))  # JPEG: decode at a reduced scale
            image.seek(0)  # first frame of an animation only
            frame = ImageOps.exif_transpose(image)
            frame.thumbnail((max_px, max_px))
            _save(frame, output)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ThumbnailError("image too large (possible decompression bomb)") from error
    except Image.UnidentifiedImageError as error:
        raise ThumbnailError("not a supported image") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        # Pillow reports truncated or corrupt data with these.
        raise ThumbnailError(f"corrupt image: {error}") from error
    return f"image {width}x{height}"


def render_pdf(source: Path, output: Path, max_px: int) -> str:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(source))
    except pdfium.PdfiumError as error:
        raise ThumbnailError(f"corrupt or protected PDF: {error}") from error
    try:
        pages = len(document)
        if pages == 0:
            raise ThumbnailError("PDF has no pages")
        page = document[0]
        width, height = page.get_size()
        if not (width > 0 and height > 0):
            raise ThumbnailError("PDF page has no size")
        scale = max_px / max(width, height)
        bitmap = page.render(scale=scale)
        _save(bitmap.to_pil(), output)
    except pdfium.PdfiumError as error:
        raise ThumbnailError(f"PDF could not be rendered: {error}") from error
    finally:
        document.close()
    return f"PDF page 1 of {pages}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lms.files.thumbnail_worker")
    parser.add_argument("--memory", type=int, required=True)
    parser.add_argument("--cpu", type=int, required=True)
    parser.add_argument("--max-output", type=int, required=True)
    parser.add_argument("--max-pixels", type=int, required=True)
    parser.add_argument("--max-px", type=int, required=True)
    parser.add_argument("--media-type", required=True)
    parser.add_argument("source", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    apply_limits(args.memory, args.cpu, args.max_output)

    try:
        if args.media_type == "application/pdf":
            message = render_pdf(args.source, args.output, args.max_px)
        elif args.media_type.startswith("image/"):
            message = render_image(args.source, args.output, args.max_px, args.max_pixels)
        else:
            raise ThumbnailError(f"no thumbnails for {args.media_type}")
    except ThumbnailError as error:
        return _report(False, str(error))
    except MemoryError:
        return _report(False, "out of memory")
    return _report(True, message)


def _report(ok: bool, message: str) -> int:
    sys.stdout.write(json.dumps({"ok": ok, "message": message}) + "\n")
    sys.stdout.flush()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
