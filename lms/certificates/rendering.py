"""Writing a certificate as a PDF (fpdf2), in Vietnamese, with its QR code (segno).

The page is A4 landscape: the issuing unit and the national motto at the top, the title, the
template's text with its placeholders filled in, the date and the signer at the bottom right,
and at the bottom left the QR code of the verify URL (drawn as vector squares, with a link
over it) and the code in letters. Fonts are the bundled DejaVu Serif, cut down to Latin with
full Vietnamese coverage (``static/fonts``).
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from lms import ROOT
from lms.errors import ValidationError

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_DIR = ROOT / "static" / "fonts"
FONTS = {"": FONT_DIR / "DejaVuSerif-vi.ttf", "B": FONT_DIR / "DejaVuSerif-Bold-vi.ttf"}
PAGE_W, PAGE_H = 297.0, 210.0
NAVY = (23, 52, 110)
RED = (170, 20, 30)
GOLD = (176, 141, 62)

# What a template's text may say, filled in for each person.
PLACEHOLDERS = ("name", "rank", "unit", "course", "hours", "date", "code", "expires",
                "issuer")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


def clean(text: str) -> str:
    """NFC, without control or direction-override characters (newlines kept)."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text or ""))


def check_placeholders(text: str) -> None:
    """:raise ValidationError: ``text`` names a placeholder that does not exist."""
    unknown = sorted({name for name in _PLACEHOLDER.findall(text)
                      if name not in PLACEHOLDERS})
    if unknown:
        raise ValidationError(_(
            "Unknown placeholders: %(names)s. Use %(known)s.",
            names=", ".join(f"{{{n}}}" for n in unknown),
            known=", ".join(f"{{{n}}}" for n in PLACEHOLDERS)))


def fill(text: str, values: dict[str, str]) -> str:
    """Replace each ``{placeholder}`` by its value (a value is never read as a placeholder)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def vietnamese_date(day: date) -> str:
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


@dataclass
class Design:
    """What a template prints, whatever the person."""

    title: str
    body: str
    issuer: str
    place: str = ""
    signer_name: str = ""
    signer_title: str = ""
    background: bytes | None = None
    logo: bytes | None = None


@dataclass
class Person:
    """What one certificate prints about its person and course."""

    name: str
    rank: str
    unit: str
    course: str
    hours: str
    day: date
    code: str  # as printed, in groups
    expires: date | None
    verify_url: str


def _fonts(pdf: FPDF) -> None:
    for style, path in FONTS.items():
        pdf.add_font("Serif", style=style, fname=str(Path(path)))
        # The subset fpdf2 embeds keeps every glyph's outline as it is: recomputing their
        # bounding boxes (fontTools' default) decodes and re-encodes each glyph, which was
        # two thirds of the time a certificate took (bench/report_bench.py).
        pdf.fonts[f"serif{style}"].ttfont.recalcBBoxes = False


def _frame(pdf: FPDF) -> None:
    pdf.set_draw_color(*NAVY)
    pdf.set_line_width(1.6)
    pdf.rect(8, 8, PAGE_W - 16, PAGE_H - 16)
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.5)
    pdf.rect(11.5, 11.5, PAGE_W - 23, PAGE_H - 23)


def _qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    """The QR code of ``url`` as filled squares (one per run of dark modules), with a link."""
    # A fixed mask: choosing the best of the eight costs more than the rest of the page,
    # and any mask reads.
    import segno  # here, like fpdf2: only a certificate's PDF needs it

    matrix = segno.make(url, error="m", boost_error=False, mask=4, micro=False).matrix
    quiet = 2
    module = size / (len(matrix) + 2 * quiet)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for row_no, row in enumerate(matrix):
        col = 0
        while col < len(row):
            if not row[col]:
                col += 1
                continue
            start = col
            while col < len(row) and row[col]:
                col += 1
            pdf.rect(x + (quiet + start) * module, y + (quiet + row_no) * module,
                     (col - start) * module, module, style="F")
    pdf.link(x, y, size, size, url)


def _centered(pdf: FPDF, y: float, text: str, size: float, style: str = "",
              color: tuple[int, int, int] = (0, 0, 0), x: float = 20,
              width: float = PAGE_W - 40) -> float:
    pdf.set_font("Serif", style, size)
    pdf.set_text_color(*color)
    pdf.set_xy(x, y)
    pdf.multi_cell(width, size * 0.48, text, align="C")
    return pdf.get_y()


def render(design: Design, person: Person, *, sample: bool = False) -> bytes:
    """The certificate of ``person`` as PDF bytes; ``sample`` marks a preview as such."""
    # Imported here: fpdf2 and fontTools are 20 MB that no other page or job needs.
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_creator("Kho học liệu số - Học viện Hậu cần")
    pdf.set_title(clean(f"{design.title} - {person.name}"))
    pdf.set_lang("vi")
    _fonts(pdf)
    pdf.add_page()
    if design.background:
        pdf.image(io.BytesIO(design.background), 0, 0, PAGE_W, PAGE_H)
    else:
        _frame(pdf)
    values = {"name": person.name, "rank": person.rank, "unit": person.unit,
              "course": person.course, "hours": person.hours,
              "date": vietnamese_date(person.day), "code": person.code,
              "expires": person.expires.strftime("%d/%m/%Y") if person.expires else "",
              "issuer": design.issuer}
    values = {key: clean(value) for key, value in values.items()}

    # Top: the issuing unit (left) and the national motto (right).
    pdf.set_text_color(*NAVY)
    pdf.set_font("Serif", "B", 11)
    pdf.set_xy(18, 18)
    pdf.multi_cell(110, 5.5, clean(design.issuer).upper(), align="C")
    pdf.set_xy(160, 18)
    pdf.cell(120, 5.5, MOTTO[0], align="C")
    pdf.set_font("Serif", "B", 11)
    pdf.set_xy(160, 23.5)
    pdf.cell(120, 5.5, MOTTO[1], align="C")
    pdf.set_draw_color(*NAVY)
    pdf.set_line_width(0.3)
    pdf.line(195, 30, 245, 30)

    y = 36.0
    if design.logo:
        pdf.image(io.BytesIO(design.logo), PAGE_W / 2 - 11, 30, h=22)
        y = 54.0
    y = _centered(pdf, y, clean(design.title).upper(), 28, "B", RED) + 4
    for line in fill(clean(design.body), values).splitlines():
        template_line = line.strip()
        if not template_line:
            y += 3
            continue
        emphasised = template_line == values["name"] and values["name"]
        y = _centered(pdf, y, template_line, 20 if emphasised else 13,
                      "B" if emphasised else "", NAVY if emphasised else (0, 0, 0)) + 1.5

    # Bottom right: date, signer.
    pdf.set_text_color(0, 0, 0)
    date_line = vietnamese_date(person.day)
    if design.place:
        date_line = f"{clean(design.place)}, {date_line}"
    pdf.set_font("Serif", "", 12)
    pdf.set_xy(165, 150)
    pdf.cell(115, 6, date_line, align="C")
    pdf.set_font("Serif", "B", 12)
    pdf.set_xy(165, 157)
    pdf.multi_cell(115, 6, clean(design.signer_title).upper(), align="C")
    pdf.set_xy(165, 184)
    pdf.cell(115, 6, clean(design.signer_name), align="C")

    # Bottom left: QR code and the code in letters.
    _qr(pdf, person.verify_url, 22, 150, 36)
    pdf.set_font("Serif", "", 9)
    pdf.set_text_color(60, 60, 60)
    pdf.set_xy(62, 156)
    pdf.cell(95, 5, "Mã xác thực:")
    pdf.set_font("Serif", "B", 11)
    pdf.set_xy(62, 161)
    pdf.cell(95, 6, values["code"])
    pdf.set_font("Serif", "", 8)
    pdf.set_xy(62, 168)
    pdf.cell(95, 4, "Kiểm tra tại:")
    pdf.set_xy(62, 172)
    pdf.multi_cell(95, 4, person.verify_url, align="L")
    if person.expires:
        pdf.set_xy(62, 180)
        pdf.cell(95, 4, f"Có giá trị đến {values['expires']}")

    if sample:
        pdf.set_font("Serif", "B", 90)
        pdf.set_text_color(205, 205, 205)
        with pdf.rotation(25, PAGE_W / 2, PAGE_H / 2):
            pdf.set_xy(0, PAGE_H / 2 - 20)
            pdf.cell(PAGE_W, 40, "MẪU", align="C")
    return bytes(pdf.output())


def preview_png(pdf_bytes: bytes, width_px: int = 900) -> bytes:
    """The first page of a PDF as a PNG ``width_px`` wide (pdfium)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf_bytes)
    try:
        page = document[0]
        scale = width_px / page.get_width()
        image = page.render(scale=scale).to_pil()
        out = io.BytesIO()
        image.convert("RGB").save(out, format="PNG", optimize=True)
        page.close()
    finally:
        document.close()
    return out.getvalue()
