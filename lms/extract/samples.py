"""Small, real demo documents with Vietnamese text, for ``lms demo`` and for tests.

The texts were written for the demo (never taken from the benchmark news corpus). The writers
need the optional demo packages fpdf2, python-docx and python-pptx, imported on use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SYSTEM_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
#: A copy kept in the repository (with its licence) so the app does not depend on the system.
BUNDLED_FONT = Path(__file__).resolve().parents[2] / "static" / "fonts" / "DejaVuSans.ttf"
_CREATOR = "Kho học liệu số"

#: The issue's check string: stacked tone marks (ậ, ẵ, ở), đ/Đ and an em dash.
PROBE_TEXT = "Hậu cần quân đội — chuyển đổi số, Bình dân học vụ số, Đà Nẵng, ở, ý"


@dataclass(frozen=True)
class DemoDocument:
    """A title, a few paragraphs, and the same content as slides (heading, bullet points)."""

    title: str
    paragraphs: tuple[str, ...]
    slides: tuple[tuple[str, tuple[str, ...]], ...]


FUEL_SUPPLY = DemoDocument(
    title="Công tác bảo đảm xăng dầu trong huấn luyện",
    paragraphs=(
        "Bảo đảm xăng dầu là một nội dung quan trọng của công tác hậu cần, góp phần trực tiếp "
        "vào việc hoàn thành nhiệm vụ huấn luyện của đơn vị. Mọi hoạt động cơ động, bắn đạn "
        "thật và diễn tập đều phải được tính toán nhu cầu xăng dầu cụ thể, sát với thực tế.",
        "Trước mỗi đợt huấn luyện, cơ quan hậu cần phối hợp với cơ quan tham mưu xác định số "
        "lượng phương tiện, quãng đường cơ động và thời gian hoạt động của từng loại trang bị, "
        "từ đó lập kế hoạch tiếp nhận, cấp phát và dự trữ xăng dầu hợp lý.",
        "Trong quá trình huấn luyện, việc cấp phát phải đúng đối tượng, đúng định mức và có sổ "
        "sách theo dõi đầy đủ. Kho, trạm xăng dầu dã chiến được bố trí ở nơi an toàn, có "
        "phương án phòng cháy, chữa cháy và bảo vệ môi trường.",
        "Kết thúc huấn luyện, đơn vị tổ chức quyết toán, rút kinh nghiệm, so sánh mức tiêu thụ "
        "thực tế với kế hoạch để điều chỉnh định mức cho các đợt sau, bảo đảm tiết kiệm và hiệu "
        "quả.",
    ),
    slides=(
        (
            "Vị trí, ý nghĩa",
            (
                "Xăng dầu là nhu cầu thiết yếu của mọi hoạt động huấn luyện",
                "Bảo đảm kịp thời, đủ, đúng chủng loại",
            ),
        ),
        (
            "Lập kế hoạch",
            (
                "Xác định số lượng phương tiện và quãng đường cơ động",
                "Tính toán nhu cầu, dự trữ và phương án tiếp nhận",
            ),
        ),
        (
            "Cấp phát và quyết toán",
            (
                "Đúng đối tượng, đúng định mức, sổ sách đầy đủ",
                "Rút kinh nghiệm, điều chỉnh định mức cho đợt sau",
            ),
        ),
    ),
)

DIGITAL_SKILLS = DemoDocument(
    title="Kỹ năng số cơ bản cho cán bộ, chiến sĩ — Bình dân học vụ số",
    paragraphs=(
        "Phong trào “Bình dân học vụ số” nhằm phổ cập kiến thức và kỹ năng số cơ bản cho mọi "
        "người, trong đó có cán bộ, chiến sĩ trong quân đội. Mục tiêu là ai cũng sử dụng được "
        "các công cụ số phục vụ học tập, công tác và sinh hoạt hằng ngày.",
        "Các kỹ năng cơ bản gồm: sử dụng máy tính và điện thoại thông minh, soạn thảo văn bản, "
        "tra cứu thông tin, khai thác học liệu số và trao đổi công việc qua các hệ thống được "
        "phép sử dụng.",
        "Bên cạnh đó, mỗi người cần biết nhận diện tin giả, thông tin xấu độc trên không gian "
        "mạng, không chia sẻ thông tin chưa được kiểm chứng và chủ động báo cáo khi phát hiện "
        "dấu hiệu bất thường.",
        "Việc học được tổ chức linh hoạt: học trên lớp, tự học qua kho học liệu số của nhà "
        "trường, kết hợp kiểm tra, đánh giá định kỳ để mỗi cán bộ, chiến sĩ thực sự làm chủ kỹ "
        "năng số.",
    ),
    slides=(
        (
            "Bình dân học vụ số là gì?",
            (
                "Phong trào phổ cập kỹ năng số cho mọi người",
                "Ai cũng dùng được công cụ số trong học tập và công tác",
            ),
        ),
        (
            "Kỹ năng cơ bản",
            (
                "Máy tính, điện thoại thông minh, soạn thảo văn bản",
                "Tra cứu thông tin và khai thác học liệu số",
            ),
        ),
        (
            "Ứng xử trên không gian mạng",
            (
                "Nhận diện tin giả, thông tin xấu độc",
                "Không chia sẻ thông tin chưa được kiểm chứng",
            ),
        ),
    ),
)

NETWORK_SECURITY = DemoDocument(
    title="An toàn thông tin khi sử dụng mạng quân sự",
    paragraphs=(
        "Mạng máy tính quân sự là hạ tầng quan trọng phục vụ lãnh đạo, chỉ huy và điều hành. "
        "Bảo đảm an toàn thông tin trên mạng quân sự là trách nhiệm của mọi cơ quan, đơn vị và "
        "của từng người sử dụng.",
        "Tuyệt đối không kết nối máy tính có dữ liệu mật với mạng Internet; không dùng thiết bị "
        "lưu trữ cá nhân hoặc thiết bị không rõ nguồn gốc trên máy tính thuộc mạng quân sự.",
        "Mật khẩu phải đủ dài, khó đoán và được thay đổi định kỳ; không ghi mật khẩu ra giấy, "
        "không dùng chung tài khoản. Khi rời vị trí làm việc, phải khóa màn hình hoặc đăng xuất "
        "khỏi hệ thống.",
        "Khi phát hiện máy tính có dấu hiệu nhiễm mã độc, mất dữ liệu hoặc bị truy cập trái "
        "phép, người sử dụng ngừng thao tác, giữ nguyên hiện trạng và báo cáo ngay cho bộ phận "
        "công nghệ thông tin của đơn vị.",
    ),
    slides=(
        (
            "Nguyên tắc chung",
            (
                "An toàn thông tin là trách nhiệm của mỗi người",
                "Không kết nối máy tính có dữ liệu mật với Internet",
            ),
        ),
        (
            "Mật khẩu và tài khoản",
            (
                "Mật khẩu đủ dài, khó đoán, thay đổi định kỳ",
                "Khóa màn hình khi rời vị trí làm việc",
            ),
        ),
        (
            "Khi có sự cố",
            (
                "Ngừng thao tác, giữ nguyên hiện trạng",
                "Báo cáo ngay cho bộ phận công nghệ thông tin",
            ),
        ),
    ),
)

DEMO_DOCUMENTS: tuple[DemoDocument, ...] = (FUEL_SUPPLY, DIGITAL_SKILLS, NETWORK_SECURITY)


def font_path() -> Path:
    """DejaVu Sans from the system if installed, else the copy bundled in ``static/fonts``.

    :raise FileNotFoundError: neither exists.
    """
    for candidate in (SYSTEM_FONT, BUNDLED_FONT):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("DejaVuSans.ttf not found (expected in static/fonts)")


def write_demo_pdf(path: Path, title: str, paragraphs: Sequence[str]) -> Path:
    """Write a PDF with ``title`` and ``paragraphs`` in embedded DejaVu Sans; return ``path``."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator(_CREATOR)
    pdf.add_font("DejaVu", fname=str(font_path()))
    pdf.add_page()
    pdf.set_font("DejaVu", size=16)
    pdf.multi_cell(0, 9, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("DejaVu", size=11)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 6, paragraph, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)
    pdf.output(str(path))
    return Path(path)


def write_demo_docx(path: Path, title: str, paragraphs: Sequence[str]) -> Path:
    """Write a DOCX with ``title`` as heading 1 and as the core title; return ``path``."""
    from docx import Document

    document = Document()
    document.core_properties.title = title
    document.core_properties.author = _CREATOR
    document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))
    return Path(path)


def write_demo_pptx(path: Path, title: str, slides: Sequence[tuple[str, Sequence[str]]]) -> Path:
    """Write a PPTX: a title slide, then one slide per ``(heading, bullets)``; return ``path``."""
    from pptx import Presentation

    presentation = Presentation()
    presentation.core_properties.title = title
    presentation.core_properties.author = _CREATOR
    cover = presentation.slides.add_slide(presentation.slide_layouts[0])
    cover.shapes.title.text = title
    cover.placeholders[1].text = _CREATOR
    for heading, bullets in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = heading
        body = slide.placeholders[1].text_frame
        body.text = bullets[0] if bullets else ""
        for bullet in bullets[1:]:
            body.add_paragraph().text = bullet
    presentation.save(str(path))
    return Path(path)


def write_demo_set(folder: Path) -> list[Path]:
    """Write every demo document as PDF, DOCX and PPTX into ``folder``; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for number, doc in enumerate(DEMO_DOCUMENTS, start=1):
        stem = folder / f"hoc-lieu-demo-{number}"
        written.append(write_demo_pdf(stem.with_suffix(".pdf"), doc.title, doc.paragraphs))
        written.append(write_demo_docx(stem.with_suffix(".docx"), doc.title, doc.paragraphs))
        written.append(write_demo_pptx(stem.with_suffix(".pptx"), doc.title, doc.slides))
    return written
