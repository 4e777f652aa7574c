"""The demo library: learning materials an academy would publish, with documents made here.

Written for the demo (never taken from the benchmark news corpus): textbooks, lectures, slide
decks, checklists and data sheets on military logistics, transport, finance, digital skills
for the "Bình dân học vụ số" movement and information security. Each material is described
with the academy's profile and comes with its documents (PDF, DOCX, PPTX, XLSX or PNG)
generated from its own text, so full-text search, previews and thumbnails have something to
show. People and figures are invented; rules are stated in general terms only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lms.demo import ACADEMY
from metadata import Statement

Section = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class DemoCollection:
    slug: str
    parent: str | None
    title: str
    title_en: str
    description: str
    default_access: str
    steps: int


@dataclass(frozen=True)
class DemoMaterial:
    """One public material. ``sections`` are (heading, sentences): the document's body, the
    slides' bullets; ``files`` the formats it comes in."""

    key: str
    collection: str
    title: str
    title_en: str
    creators: tuple[str, ...]
    subjects: tuple[str, ...]
    audiences: tuple[str, ...]
    issued: str
    abstract: str
    sections: tuple[Section, ...]
    files: tuple[str, ...] = ("pdf",)
    type: str = "Text"
    education_level: str | None = None
    extra_languages: tuple[str, ...] = field(default=())

    def statements(self) -> list[Statement]:
        rows = [Statement("title", self.title, "vi"), Statement("title", self.title_en, "en")]
        rows += [Statement("creator", c) for c in self.creators]
        rows += [Statement("subject", s, None, "subjects") for s in self.subjects]
        rows += [Statement("abstract", self.abstract, "vi"),
                 Statement("tableOfContents", " -- ".join(h for h, _ in self.sections), "vi"),
                 Statement("publisher", ACADEMY), Statement("issued", self.issued),
                 Statement("type", self.type), Statement("language", "vi")]
        rows += [Statement("language", lang) for lang in self.extra_languages]
        rows += [Statement("audience", a, None, "audiences") for a in self.audiences]
        if self.education_level:
            rows.append(Statement("educationLevel", self.education_level, None,
                                  "education-levels"))
        rows.append(Statement("rights", "Tài liệu của Học viện Hậu cần, được phép sử dụng cho "
                              "mục đích học tập và giảng dạy, ghi rõ nguồn khi trích dẫn.", "vi"))
        return rows


PUBLIC = "public"
INTERNAL = "internal"

COLLECTIONS: tuple[DemoCollection, ...] = (
    DemoCollection("khoa-hau-can", None, "Khoa Hậu cần", "Faculty of Logistics",
                   "Giáo trình, bài giảng và tài liệu tham khảo về tổ chức, chỉ huy và bảo đảm "
                   "hậu cần quân đội.", INTERNAL, 2),
    DemoCollection("xang-dau", "khoa-hau-can", "Xăng dầu", "Fuel supply",
                   "Bảo đảm, bảo quản và quản lý xăng dầu trong huấn luyện và sẵn sàng chiến đấu.",
                   INTERNAL, 2),
    DemoCollection("quan-nhu", "khoa-hau-can", "Quân nhu", "Quartermaster supply",
                   "Bảo đảm ăn, mặc, quân trang và đời sống bộ đội.", INTERNAL, 2),
    DemoCollection("doanh-trai", "khoa-hau-can", "Doanh trại", "Barracks",
                   "Quản lý doanh trại, nhà ở, điện nước và môi trường sống của đơn vị.",
                   INTERNAL, 2),
    DemoCollection("khoa-van-tai", None, "Khoa Vận tải", "Faculty of Transport",
                   "Tổ chức vận tải quân sự, kỹ thuật xe và an toàn giao thông.", INTERNAL, 2),
    DemoCollection("khoa-tai-chinh", None, "Khoa Tài chính", "Faculty of Finance",
                   "Quản lý ngân sách, kế toán và kiểm tra tài chính trong quân đội.",
                   INTERNAL, 2),
    DemoCollection("binh-dan-hoc-vu-so", None, "Bình dân học vụ số",
                   "Digital literacy for all",
                   "Học liệu phổ cập kỹ năng số cho cán bộ, chiến sĩ, học viên và người dân "
                   "theo phong trào \"Bình dân học vụ số\".", PUBLIC, 1),
    DemoCollection("ky-nang-so-co-ban", "binh-dan-hoc-vu-so", "Kỹ năng số cơ bản",
                   "Basic digital skills",
                   "Sử dụng máy tính, điện thoại thông minh, văn bản, bảng tính và dịch vụ công "
                   "trực tuyến.", PUBLIC, 1),
    DemoCollection("an-toan-thong-tin", "binh-dan-hoc-vu-so", "An toàn thông tin",
                   "Information security",
                   "Nhận diện lừa đảo, bảo vệ dữ liệu và xử lý sự cố trên không gian mạng.",
                   PUBLIC, 1),
    DemoCollection("tai-lieu-chung", None, "Tài liệu tham khảo chung", "General reference",
                   "Hướng dẫn sử dụng thư viện, phương pháp học tập, thuật ngữ và truyền thống "
                   "ngành.", PUBLIC, 1),
)


def _m(key: str, collection: str, title: str, title_en: str, creators: tuple[str, ...],
       subjects: tuple[str, ...], audiences: tuple[str, ...], issued: str, abstract: str,
       sections: tuple[Section, ...], **kw) -> DemoMaterial:
    return DemoMaterial(key, collection, title, title_en, creators, subjects, audiences, issued,
                        abstract, sections, **kw)


MATERIALS: tuple[DemoMaterial, ...] = (
    # --- Bình dân học vụ số: kỹ năng số cơ bản ----------------------------------------------
    _m("demo-thu-dien-tu-cong-vu", "ky-nang-so-co-ban",
       "Sử dụng thư điện tử công vụ an toàn, hiệu quả",
       "Using official e-mail safely and effectively",
       ("Đỗ Thị Hương",), ("digital-skills",), ("bdhvs-civil-servants", "staff"), "2025-04-15",
       "Hướng dẫn tạo, soạn, gửi và quản lý thư điện tử công vụ; cách đặt tiêu đề, đính kèm tệp "
       "và nhận biết thư giả mạo trước khi mở.",
       (("Tài khoản và đăng nhập", (
           "Mỗi cán bộ dùng một tài khoản thư công vụ riêng, không dùng chung mật khẩu.",
           "Đăng nhập từ máy tính của cơ quan; đăng xuất khi dùng máy chung.")),
        ("Soạn và gửi thư", (
            "Tiêu đề thư ngắn gọn, nêu rõ nội dung chính và thời hạn nếu có.",
            "Kiểm tra người nhận và tệp đính kèm trước khi bấm gửi.")),
        ("Sắp xếp hộp thư", (
            "Dùng thư mục và nhãn để phân loại thư theo công việc.",
            "Xóa thư rác định kỳ, lưu trữ thư quan trọng theo quy định.")),
        ("Cảnh giác với thư lạ", (
            "Không mở tệp đính kèm hoặc đường liên kết từ người gửi không rõ.",
            "Khi nghi ngờ, chuyển thư cho bộ phận công nghệ thông tin để kiểm tra.")),
        ), files=("pdf",)),
    _m("demo-dich-vu-cong-truc-tuyen", "ky-nang-so-co-ban",
       "Hướng dẫn sử dụng dịch vụ công trực tuyến",
       "A guide to online public services",
       ("Phòng Đào tạo",), ("digital-skills", "digital-transformation"),
       ("bdhvs-citizens", "soldiers"), "2025-06-02",
       "Các bước đăng ký tài khoản, nộp hồ sơ và theo dõi kết quả trên cổng dịch vụ công trực "
       "tuyến; lưu ý bảo vệ thông tin cá nhân khi khai báo.",
       (("Chuẩn bị", (
           "Chuẩn bị căn cước, số điện thoại chính chủ và bản chụp giấy tờ cần nộp.",
           "Kiểm tra địa chỉ trang web trước khi đăng nhập, tránh trang giả mạo.")),
        ("Nộp hồ sơ", (
            "Chọn đúng thủ tục, điền đầy đủ thông tin và tải lên giấy tờ theo yêu cầu.",
            "Ghi lại mã hồ sơ để tra cứu tiến độ giải quyết.")),
        ("Theo dõi kết quả", (
            "Tra cứu tình trạng hồ sơ bằng mã hồ sơ hoặc tài khoản đã đăng ký.",
            "Nhận kết quả trực tuyến hoặc tại bộ phận một cửa theo lựa chọn.")),
        ), files=("pdf",)),
    _m("demo-soan-thao-van-ban", "ky-nang-so-co-ban",
       "Soạn thảo văn bản hành chính trên máy tính",
       "Drafting administrative documents on a computer",
       ("Bùi Thị Mai", "Ngô Quang Huy"), ("digital-skills",), ("cadet-year-1", "staff"),
       "2024-10-08",
       "Thực hành định dạng văn bản hành chính: khổ giấy, lề, phông chữ, đánh số trang, bảng "
       "biểu và mục lục tự động.",
       (("Thiết lập trang", (
           "Chọn khổ giấy A4, đặt lề trên và dưới 20 mm, lề trái 30 mm, lề phải 15 mm.",
           "Dùng phông chữ Unicode thống nhất trong toàn văn bản.")),
        ("Định dạng nội dung", (
            "Dùng kiểu định dạng (style) cho tiêu đề để tạo mục lục tự động.",
            "Căn lề đều hai bên, giãn dòng hợp lý để văn bản dễ đọc.")),
        ("Bảng biểu và hình ảnh", (
            "Chèn bảng có tiêu đề cột rõ ràng, tránh gộp ô khi không cần thiết.",
            "Đặt chú thích dưới hình và trên bảng, đánh số theo thứ tự.")),
        ), files=("docx",)),
    _m("demo-bang-tinh-quan-so", "ky-nang-so-co-ban",
       "Bảng tính cơ bản: lập bảng theo dõi quân số",
       "Spreadsheet basics: a personnel roll-call sheet",
       ("Ngô Quang Huy",), ("digital-skills",), ("soldiers", "staff"), "2025-03-20",
       "Bảng tính mẫu theo dõi quân số hằng ngày của một đại đội, kèm hướng dẫn dùng công thức "
       "cộng, đếm và lọc dữ liệu.",
       (("Cấu trúc bảng", (
           "Mỗi dòng là một ngày, mỗi cột là một trung đội.",
           "Cột cuối tính tổng quân số có mặt bằng công thức SUM.")),
        ("Công thức thường dùng", (
            "Dùng COUNTIF để đếm số ngày quân số đủ.",
            "Dùng bộ lọc để xem riêng các ngày có quân số vắng.")),
        ), files=("xlsx", "pdf"), type="Dataset"),
    _m("demo-ky-nang-so-on-tap", "ky-nang-so-co-ban",
       "Bộ câu hỏi ôn tập kỹ năng số cơ bản",
       "Review questions on basic digital skills",
       ("Phòng Đào tạo", "Đỗ Thị Hương"), ("digital-skills", "digital-transformation"),
       ("bdhvs-civil-servants", "cadet-year-1"), "2025-08-12",
       "Câu hỏi trắc nghiệm ôn tập theo khung kỹ năng số cơ bản: sử dụng thiết bị, khai thác "
       "thông tin, giao tiếp trên môi trường số và an toàn thông tin.",
       (("Thiết bị số", (
           "Câu 1: Thao tác nào dùng để khóa nhanh màn hình máy tính khi rời vị trí?",
           "Câu 2: Khi điện thoại báo cập nhật hệ điều hành, nên làm gì?")),
        ("Khai thác thông tin", (
            "Câu 3: Dấu hiệu nào cho thấy một trang web có thể là trang giả mạo?",
            "Câu 4: Cách tìm chính xác một cụm từ trong máy tìm kiếm là gì?")),
        ("Giao tiếp và an toàn", (
            "Câu 5: Vì sao không nên dùng chung một mật khẩu cho nhiều tài khoản?",
            "Câu 6: Khi nhận tin nhắn trúng thưởng yêu cầu chuyển tiền, cần làm gì?")),
        ), files=("docx",), type="InteractiveResource"),
    _m("demo-hop-truc-tuyen", "ky-nang-so-co-ban",
       "Họp trực tuyến và làm việc nhóm trên môi trường số",
       "Online meetings and teamwork",
       ("Lê Minh Tuấn",), ("digital-skills", "digital-transformation"), ("lecturers", "staff"),
       "2024-12-05",
       "Chuẩn bị, điều hành và ghi biên bản cuộc họp trực tuyến; chia sẻ tài liệu và phân công "
       "việc trong nhóm bằng các công cụ được phép sử dụng.",
       (("Trước cuộc họp", (
           "Gửi giấy mời kèm chương trình và tài liệu trước ít nhất một ngày.",
           "Kiểm tra micro, loa và đường truyền trước giờ họp.")),
        ("Trong cuộc họp", (
            "Tắt micro khi không phát biểu, dùng chức năng giơ tay để xin ý kiến.",
            "Thư ký ghi kết luận và người chịu trách nhiệm từng việc.")),
        ("Sau cuộc họp", (
            "Gửi biên bản và danh sách việc cần làm cho các thành viên.",
            "Lưu tài liệu họp vào thư mục chung theo quy định.")),
        ), files=("pptx",)),
    _m("demo-khung-ky-nang-so", "binh-dan-hoc-vu-so",
       "Khung kỹ năng số cơ bản cho bốn nhóm đối tượng: tài liệu tóm tắt",
       "The basic digital-skills framework for four target groups: a summary",
       ("Phòng Đào tạo",), ("digital-skills", "digital-transformation"),
       ("bdhvs-pupils-students", "bdhvs-citizens", "bdhvs-civil-servants",
        "bdhvs-enterprise-workers"), "2025-05-10",
       "Tóm tắt các nhóm năng lực trong khung kỹ năng số cơ bản áp dụng cho học sinh, sinh "
       "viên; người dân; cán bộ, công chức, viên chức; người lao động trong doanh nghiệp.",
       (("Bốn nhóm đối tượng", (
           "Khung kỹ năng được xây dựng riêng cho từng nhóm với yêu cầu phù hợp công việc.",
           "Cán bộ, chiến sĩ học theo nhóm cán bộ, công chức, viên chức.")),
        ("Các nhóm năng lực", (
            "Sử dụng thiết bị số; khai thác dữ liệu và thông tin; giao tiếp và hợp tác.",
            "Sáng tạo nội dung số; an toàn trên môi trường số; giải quyết vấn đề.")),
        ("Đánh giá", (
            "Kết quả học tập được đánh giá bằng bài kiểm tra trắc nghiệm.",
            "Người học đạt yêu cầu khi trả lời đúng từ 80% số câu hỏi trở lên.")),
        ), files=("pdf", "pptx")),
    _m("demo-ky-nang-so-dien-thoai", "ky-nang-so-co-ban",
       "Sử dụng điện thoại thông minh an toàn cho chiến sĩ mới",
       "Safe smartphone use for new soldiers",
       ("Hoàng Văn Nam",), ("digital-skills", "information-security"), ("soldiers",),
       "2025-02-18",
       "Những điều chiến sĩ mới cần biết khi dùng điện thoại thông minh: cài đặt ứng dụng, cấp "
       "quyền, chia sẻ hình ảnh và quy định sử dụng trong doanh trại.",
       (("Cài đặt và cấp quyền", (
           "Chỉ cài ứng dụng từ kho ứng dụng chính thức.",
           "Không cấp quyền truy cập danh bạ, vị trí, micro khi ứng dụng không cần.")),
        ("Chia sẻ hình ảnh", (
            "Không chụp, đăng hình ảnh doanh trại, vũ khí, trang bị lên mạng xã hội.",
            "Tắt định vị khi chụp ảnh để không lộ vị trí đơn vị.")),
        ("Quy định của đơn vị", (
            "Sử dụng điện thoại đúng thời gian, địa điểm đơn vị cho phép.",
            "Báo cáo chỉ huy khi mất điện thoại hoặc bị lộ tài khoản.")),
        ), files=("pptx",)),
    # --- Bình dân học vụ số: an toàn thông tin -----------------------------------------------
    _m("demo-nhan-dien-tin-gia", "an-toan-thong-tin",
       "Nhận diện tin giả, thông tin xấu độc trên không gian mạng",
       "Recognising fake news and harmful content online",
       ("Trần Thị Lan",), ("information-security", "political-education"),
       ("bdhvs-citizens", "soldiers", "cadet-year-1"), "2025-07-01",
       "Dấu hiệu nhận biết tin giả, cách kiểm chứng nguồn tin và trách nhiệm của mỗi người khi "
       "gặp thông tin sai lệch trên mạng xã hội.",
       (("Dấu hiệu tin giả", (
           "Tiêu đề giật gân, không có nguồn rõ ràng, kêu gọi chia sẻ gấp.",
           "Hình ảnh bị cắt ghép hoặc lấy từ sự kiện khác.")),
        ("Kiểm chứng", (
            "Đối chiếu với trang tin của cơ quan báo chí chính thống.",
            "Tìm kiếm ngược hình ảnh để biết nguồn gốc.")),
        ("Ứng xử", (
            "Không bình luận, không chia sẻ thông tin chưa được kiểm chứng.",
            "Báo cáo nội dung xấu độc cho người quản lý và nền tảng mạng xã hội.")),
        ), files=("pptx", "pdf")),
    _m("demo-thu-lua-dao", "an-toan-thong-tin",
       "Nhận diện thư điện tử và tin nhắn lừa đảo",
       "Spotting phishing e-mails and messages",
       ("Vũ Đức Thắng",), ("information-security",), ("staff", "lecturers"), "2025-01-22",
       "Các thủ đoạn lừa đảo qua thư điện tử, tin nhắn và mạng xã hội; cách kiểm tra người gửi, "
       "đường liên kết và cách báo cáo khi nghi ngờ.",
       (("Thủ đoạn thường gặp", (
           "Giả danh cơ quan, ngân hàng hoặc cấp trên yêu cầu cung cấp mật khẩu.",
           "Gửi tệp đính kèm chứa mã độc dưới dạng hóa đơn, công văn.")),
        ("Cách kiểm tra", (
            "Xem kỹ địa chỉ người gửi và tên miền của đường liên kết.",
            "Gọi điện xác minh với người gửi qua số điện thoại đã biết.")),
        ("Khi đã lỡ bấm", (
            "Đổi mật khẩu ngay và bật xác thực hai lớp.",
            "Báo cáo bộ phận công nghệ thông tin để kiểm tra máy tính.")),
        ), files=("pptx",)),
    _m("demo-xu-ly-ma-doc", "an-toan-thong-tin",
       "Quy trình xử lý sự cố mã độc tại đơn vị",
       "Handling a malware incident in a unit",
       ("Vũ Đức Thắng", "Ban Công nghệ thông tin"), ("information-security",),
       ("staff",), "2024-09-30",
       "Các bước phát hiện, cô lập, báo cáo và khắc phục khi máy tính của đơn vị nghi nhiễm mã "
       "độc; trách nhiệm của người sử dụng và cán bộ kỹ thuật.",
       (("Phát hiện", (
           "Máy chạy chậm bất thường, xuất hiện cửa sổ lạ hoặc tệp bị đổi tên.",
           "Phần mềm phòng chống mã độc đưa ra cảnh báo.")),
        ("Cô lập và báo cáo", (
            "Ngắt kết nối mạng của máy nghi nhiễm, không tắt nguồn đột ngột.",
            "Báo cáo ngay cho cán bộ phụ trách công nghệ thông tin của đơn vị.")),
        ("Khắc phục", (
            "Cán bộ kỹ thuật quét, gỡ mã độc và khôi phục dữ liệu từ bản sao lưu.",
            "Rút kinh nghiệm, cập nhật phần mềm và hướng dẫn lại người sử dụng.")),
        ), files=("pdf",)),
    _m("demo-thiet-bi-usb", "an-toan-thong-tin",
       "An toàn khi sử dụng thiết bị lưu trữ di động",
       "Using removable storage safely",
       ("Hoàng Văn Nam",), ("information-security",), ("staff", "cadet-year-2"), "2024-11-11",
       "Quy tắc sử dụng USB, ổ cứng di động và thẻ nhớ trên máy tính của đơn vị để phòng lây "
       "nhiễm mã độc và lộ lọt thông tin.",
       (("Nguyên tắc", (
           "Chỉ dùng thiết bị lưu trữ được đơn vị cấp và quản lý.",
           "Không cắm thiết bị cá nhân vào máy tính có dữ liệu nội bộ.")),
        ("Trước khi mở tệp", (
            "Quét thiết bị bằng phần mềm phòng chống mã độc.",
            "Không chạy tệp thực thi có nguồn gốc không rõ ràng.")),
        ), files=("docx",)),
    _m("demo-mat-khau-manh", "an-toan-thong-tin",
       "Mật khẩu mạnh và xác thực hai lớp",
       "Strong passwords and two-factor authentication",
       ("Trần Thị Lan",), ("information-security", "digital-skills"),
       ("bdhvs-citizens", "bdhvs-pupils-students"), "2025-03-03",
       "Tờ thông tin hướng dẫn đặt mật khẩu mạnh, dùng cụm mật khẩu dễ nhớ và bật xác thực hai "
       "lớp cho các tài khoản quan trọng.",
       (("Mật khẩu mạnh", (
           "Dài ít nhất 12 ký tự, kết hợp chữ, số và ký hiệu.",
           "Dùng cụm từ dễ nhớ với bạn nhưng khó đoán với người khác.")),
        ("Xác thực hai lớp", (
            "Bật mã xác thực gửi qua ứng dụng hoặc tin nhắn cho thư điện tử và mạng xã hội.",
            "Không cung cấp mã xác thực cho bất kỳ ai, kể cả người tự xưng là nhân viên.")),
        ), files=("png", "pdf"), type="StillImage"),
    # --- Khoa Hậu cần ------------------------------------------------------------------------
    _m("demo-dai-cuong-hau-can", "khoa-hau-can",
       "Đại cương hậu cần quân sự",
       "An introduction to military logistics",
       ("Nguyễn Văn Hùng", "Phạm Quốc Khánh"), ("logistics", "logistics-command"),
       ("cadet-year-1", "cadet-year-2"), "2023-09-05",
       "Giáo trình nhập môn về vị trí, chức năng, nhiệm vụ và nguyên tắc tổ chức hậu cần quân "
       "sự; các chuyên ngành hậu cần và mối quan hệ với kỹ thuật, tham mưu.",
       (("Khái niệm và vị trí", (
           "Hậu cần quân sự là tổng thể các hoạt động bảo đảm vật chất, sinh hoạt, quân y và "
           "vận tải cho lực lượng vũ trang.",
           "Hậu cần là một bộ phận quan trọng cấu thành sức mạnh chiến đấu của đơn vị.")),
        ("Các chuyên ngành", (
            "Các chuyên ngành gồm quân nhu, xăng dầu, doanh trại, vận tải, quân y và tài chính.",
            "Mỗi chuyên ngành có tổ chức, trang bị và quy trình nghiệp vụ riêng.")),
        ("Nguyên tắc tổ chức", (
            "Bảo đảm kịp thời, đầy đủ, đồng bộ, tiết kiệm và an toàn.",
            "Kết hợp hậu cần tại chỗ với hậu cần cơ động, hậu cần quân đội với hậu cần nhân dân.")),
        ("Yêu cầu đối với cán bộ hậu cần", (
            "Nắm chắc nhiệm vụ của đơn vị, tính toán nhu cầu chính xác.",
            "Quản lý chặt chẽ tài sản, vật chất; chăm lo đời sống bộ đội.")),
        ), files=("pdf", "docx")),
    _m("demo-hau-can-da-ngoai", "khoa-hau-can",
       "Tổ chức bảo đảm hậu cần cho đơn vị huấn luyện dã ngoại",
       "Logistic support for field training",
       ("Phạm Quốc Khánh",), ("logistics-command", "military-training"),
       ("cadet-year-3", "lecturers"), "2024-05-14",
       "Trình tự lập kế hoạch, triển khai và kết thúc bảo đảm hậu cần cho một đợt huấn luyện dã "
       "ngoại cấp đại đội: ăn, uống, ở, xăng dầu, quân y và vận chuyển.",
       (("Lập kế hoạch", (
           "Nắm nhiệm vụ, thời gian, địa điểm và quân số tham gia huấn luyện.",
           "Tính toán nhu cầu lương thực, nước uống, xăng dầu và thuốc men.")),
        ("Triển khai", (
            "Bố trí khu vực ăn nghỉ, bếp dã chiến và điểm tiếp nhận vật chất.",
            "Tổ chức quân y đi cùng và phương án vận chuyển thương binh, bệnh binh.")),
        ("Kết thúc", (
            "Thu hồi, kiểm kê vật chất và vệ sinh khu vực huấn luyện.",
            "Quyết toán và rút kinh nghiệm công tác bảo đảm.")),
        ), files=("docx",)),
    _m("demo-tieu-chuan-an", "quan-nhu",
       "Tổ chức nấu ăn và bảo đảm dinh dưỡng cho bộ đội",
       "Cooking and nutrition for the troops",
       ("Lê Thị Hoa",), ("quartermaster", "food-service"), ("cadet-year-2", "staff"),
       "2024-03-12",
       "Tổ chức bếp ăn tập thể, xây dựng thực đơn cân đối, bảo đảm vệ sinh an toàn thực phẩm "
       "và tăng gia sản xuất cải thiện bữa ăn của đơn vị.",
       (("Xây dựng thực đơn", (
           "Thực đơn theo tuần, cân đối chất đạm, chất béo, chất bột và rau xanh.",
           "Thay đổi món ăn thường xuyên, phù hợp khẩu vị và mùa vụ.")),
        ("Vệ sinh an toàn thực phẩm", (
            "Kiểm tra nguồn gốc thực phẩm khi tiếp nhận, lưu mẫu thức ăn hằng ngày.",
            "Nhà bếp sạch sẽ, dụng cụ sống và chín để riêng.")),
        ("Tăng gia sản xuất", (
            "Trồng rau, chăn nuôi theo điều kiện của đơn vị để cải thiện bữa ăn.",
            "Công khai tài chính bếp ăn hằng tháng.")),
        ), files=("pdf",)),
    _m("demo-bao-quan-luong-thuc", "quan-nhu",
       "Bảo quản lương thực, thực phẩm trong điều kiện nóng ẩm",
       "Storing food in hot and humid conditions",
       ("Lê Thị Hoa", "Đặng Thanh Sơn"), ("quartermaster", "food-service"),
       ("cadet-year-3",), "2023-11-20",
       "Các nguyên nhân gây hư hỏng lương thực, thực phẩm ở vùng khí hậu nóng ẩm và biện pháp "
       "kê xếp, thông gió, chống ẩm, chống côn trùng trong kho.",
       (("Nguyên nhân hư hỏng", (
           "Độ ẩm cao làm gạo, bột bị mốc và vón cục.",
           "Côn trùng, chuột phá hoại khi kho không kín.")),
        ("Biện pháp bảo quản", (
            "Kê hàng trên bục cách nền, cách tường, để lối thông gió.",
            "Theo dõi nhiệt độ, độ ẩm hằng ngày; xuất trước những lô nhập trước.")),
        ("Kiểm tra định kỳ", (
            "Kiểm tra chất lượng theo lịch, ghi sổ theo dõi từng lô hàng.",
            "Xử lý kịp thời hàng có dấu hiệu hư hỏng.")),
        ), files=("pptx",)),
    _m("demo-chuoi-cung-ung", "khoa-hau-can",
       "Chuỗi cung ứng và logistics: những khái niệm cơ bản",
       "Supply chains and logistics: basic concepts",
       ("Nguyễn Văn Hùng",), ("logistics", "procurement"), ("cadet-year-1", "postgraduates"),
       "2025-02-25",
       "Bài giảng so sánh logistics quân sự với logistics kinh doanh: dòng hàng, dòng thông tin, "
       "dự trữ, vận chuyển và vai trò của công nghệ số trong quản lý chuỗi cung ứng.",
       (("Chuỗi cung ứng", (
           "Chuỗi cung ứng gồm nhà cung cấp, kho, vận chuyển và người sử dụng cuối cùng.",
           "Dòng hàng đi kèm dòng thông tin và dòng tài chính.")),
        ("Dự trữ", (
            "Dự trữ bảo đảm tính liên tục nhưng làm tăng chi phí bảo quản.",
            "Mức dự trữ được tính theo nhu cầu, thời gian bổ sung và rủi ro.")),
        ("Công nghệ số", (
            "Mã vạch, phần mềm quản lý kho giúp theo dõi hàng hóa theo thời gian thực.",
            "Dữ liệu tập trung hỗ trợ chỉ huy ra quyết định nhanh và chính xác.")),
        ), files=("pptx", "pdf")),
    _m("demo-kho-xang-dau-da-chien", "xang-dau",
       "Kỹ thuật triển khai kho xăng dầu dã chiến",
       "Setting up a field fuel depot",
       ("Đặng Thanh Sơn",), ("petroleum",), ("cadet-year-3", "cadet-year-4"), "2024-06-18",
       "Chọn vị trí, bố trí bể chứa mềm, đường ống và khu vực cấp phát; biện pháp ngụy trang, "
       "phòng cháy và bảo vệ môi trường khi triển khai kho xăng dầu dã chiến.",
       (("Chọn vị trí", (
           "Nơi kín đáo, thuận đường cơ động, xa khu dân cư và nguồn nước sinh hoạt.",
           "Nền đất chắc, thoát nước tốt, có địa hình che khuất.")),
        ("Bố trí kho", (
            "Bể chứa đặt trong hào có bờ bao chống tràn.",
            "Khu vực cấp phát cách bể chứa một khoảng an toàn.")),
        ("Phòng cháy và môi trường", (
            "Trang bị bình chữa cháy, cát, xẻng tại mỗi khu vực.",
            "Thu gom dầu tràn, không để ngấm xuống đất và nguồn nước.")),
        ), files=("pdf",)),
    _m("demo-dinh-muc-xang-dau", "xang-dau",
       "Bảng tính nhu cầu xăng dầu cho một cuộc hành quân",
       "Worksheet: fuel needed for a road march",
       ("Đặng Thanh Sơn", "Nguyễn Văn Hùng"), ("petroleum", "military-transport"),
       ("cadet-year-3", "lecturers"), "2025-01-08",
       "Bảng tính mẫu tính nhu cầu nhiên liệu theo loại xe, quãng đường và hệ số địa hình; số "
       "liệu trong bảng là giả định, dùng cho bài tập.",
       (("Cách dùng bảng tính", (
           "Nhập số lượng xe, mức tiêu hao cho 100 km và quãng đường của từng chặng.",
           "Bảng tự nhân hệ số địa hình và cộng lượng dự phòng.")),
        ("Lưu ý", (
            "Số liệu trong bảng là giả định phục vụ bài tập, không phải định mức chính thức.",
            "Khi lập kế hoạch thật, dùng định mức do cơ quan có thẩm quyền ban hành.")),
        ), files=("xlsx",), type="Dataset"),
    _m("demo-quan-ly-doanh-trai", "doanh-trai",
       "Quản lý doanh trại và môi trường sống của đơn vị",
       "Managing barracks and the living environment",
       ("Vũ Thị Thu",), ("barracks",), ("cadet-year-2", "staff"), "2024-08-27",
       "Nội dung quản lý nhà ở, nhà làm việc, hệ thống điện nước và cảnh quan doanh trại; xây "
       "dựng đơn vị xanh, sạch, đẹp.",
       (("Quản lý nhà ở", (
           "Sắp xếp nội vụ thống nhất, giữ gìn vệ sinh phòng ở hằng ngày.",
           "Kiểm tra, sửa chữa kịp thời hư hỏng của nhà cửa.")),
        ("Điện và nước", (
            "Sử dụng điện, nước tiết kiệm; kiểm tra an toàn hệ thống điện định kỳ.",
            "Bảo đảm nước sạch cho ăn uống và sinh hoạt.")),
        ("Môi trường", (
            "Phân loại, thu gom rác thải đúng nơi quy định.",
            "Trồng cây xanh, giữ gìn cảnh quan doanh trại.")),
        ), files=("docx",)),
    _m("demo-phong-chay-kho", "khoa-hau-can",
       "Phòng cháy, chữa cháy tại kho hậu cần",
       "Fire prevention in logistic depots",
       ("Phạm Quốc Khánh", "Vũ Thị Thu"), ("logistics", "barracks"), ("staff", "cadet-year-2"),
       "2023-12-15",
       "Nguyên nhân gây cháy ở kho vật chất hậu cần, nội quy phòng cháy, phương tiện chữa cháy "
       "và phương án xử lý ban đầu khi xảy ra cháy.",
       (("Nguyên nhân gây cháy", (
           "Chập điện, sử dụng lửa trần và hàng dễ cháy xếp không đúng quy định.",
           "Sét đánh khi hệ thống chống sét không được kiểm tra.")),
        ("Phòng ngừa", (
            "Niêm yết nội quy, biển cấm lửa tại các khu vực kho.",
            "Kiểm tra hệ thống điện, chống sét và phương tiện chữa cháy theo định kỳ.")),
        ("Xử lý ban đầu", (
            "Báo động, cắt điện và dùng phương tiện tại chỗ dập lửa.",
            "Sơ tán hàng hóa theo thứ tự ưu tiên, báo cáo cấp trên.")),
        ), files=("pdf",)),
    # --- Khoa Vận tải ------------------------------------------------------------------------
    _m("demo-van-tai-duong-bo", "khoa-van-tai",
       "Tổ chức vận tải quân sự bằng đường bộ",
       "Organising military road transport",
       ("Trịnh Văn Long",), ("military-transport", "road-transport"),
       ("cadet-year-3", "cadet-year-4"), "2024-02-20",
       "Giáo trình về tổ chức lực lượng, lập kế hoạch và chỉ huy vận tải đường bộ: đội hình, tốc "
       "độ, cự ly, điểm nghỉ và bảo đảm kỹ thuật trên đường.",
       (("Lực lượng vận tải", (
           "Lực lượng gồm các đơn vị ô tô vận tải và phương tiện huy động.",
           "Biên chế xe theo nhiệm vụ và loại hàng cần chở.")),
        ("Kế hoạch vận chuyển", (
            "Xác định khối lượng hàng, tuyến đường, thời gian và điểm giao nhận.",
            "Tính số chuyến, số xe và lượng xăng dầu cần thiết.")),
        ("Chỉ huy trên đường", (
            "Giữ đúng đội hình, tốc độ và cự ly giữa các xe.",
            "Bố trí xe sửa chữa đi sau đội hình để khắc phục sự cố.")),
        ), files=("pdf",)),
    _m("demo-bao-duong-xe", "khoa-van-tai",
       "Bảo dưỡng thường xuyên xe ô tô quân sự",
       "Routine maintenance of military vehicles",
       ("Trịnh Văn Long", "Lý Văn Phúc"), ("vehicle-maintenance",), ("soldiers", "cadet-year-2"),
       "2025-04-02",
       "Bài giảng trình chiếu về nội dung bảo dưỡng trước, trong và sau khi xe hoạt động; kiểm "
       "tra dầu, nước, lốp, phanh, đèn và ghi sổ theo dõi.",
       (("Trước khi xuất xe", (
           "Kiểm tra dầu máy, nước làm mát, áp suất lốp và hệ thống phanh.",
           "Thử đèn, còi, gạt nước và giấy tờ của xe.")),
        ("Trên đường", (
            "Theo dõi đồng hồ nhiệt độ, áp suất dầu trong khi chạy.",
            "Dừng kiểm tra lốp và mối ghép sau mỗi chặng dài.")),
        ("Sau khi về", (
            "Rửa xe, bổ sung nhiên liệu và ghi sổ nhật trình.",
            "Báo cáo hư hỏng để sửa chữa kịp thời.")),
        ), files=("pptx",)),
    _m("demo-hanh-quan-co-gioi", "khoa-van-tai",
       "Lập kế hoạch hành quân cơ giới cấp tiểu đoàn",
       "Planning a battalion road march",
       ("Lý Văn Phúc",), ("military-transport", "tactics"), ("cadet-year-4",), "2023-10-10",
       "Bài tập lập kế hoạch hành quân: tính toán thời gian, chia chặng, bố trí điểm nghỉ, bảo "
       "đảm hậu cần, kỹ thuật và chỉ huy giao thông.",
       (("Tính toán hành quân", (
           "Tính tốc độ trung bình theo loại đường và điều kiện thời tiết.",
           "Chia chặng hợp lý, mỗi chặng không quá thời gian lái xe liên tục cho phép.")),
        ("Bảo đảm trên đường", (
            "Bố trí điểm tiếp nhiên liệu, nước uống và nghỉ ăn.",
            "Tổ chức chỉ huy giao thông tại các giao lộ, cầu phà.")),
        ), files=("docx",), type="InteractiveResource"),
    _m("demo-an-toan-giao-thong", "khoa-van-tai",
       "An toàn giao thông cho lái xe quân sự",
       "Road safety for military drivers",
       ("Trịnh Văn Long",), ("road-transport", "regulations"), ("soldiers",), "2025-05-28",
       "Những quy định cơ bản và kinh nghiệm lái xe an toàn trên đường đèo dốc, trời mưa, ban "
       "đêm và khi chở quân, chở hàng nguy hiểm.",
       (("Nguyên tắc chung", (
           "Chấp hành nghiêm luật giao thông và mệnh lệnh của người chỉ huy xe.",
           "Không sử dụng rượu bia trước và trong khi lái xe.")),
        ("Điều kiện khó khăn", (
            "Đường đèo dốc: về số thấp, không tắt máy khi xuống dốc.",
            "Trời mưa, ban đêm: giảm tốc độ, tăng khoảng cách, bật đèn đúng quy định.")),
        ("Chở quân, chở hàng", (
            "Chằng buộc hàng chắc chắn, không chở quá tải trọng cho phép.",
            "Hàng nguy hiểm phải có biển báo và người áp tải.")),
        ), files=("pdf",)),
    # --- Khoa Tài chính ----------------------------------------------------------------------
    _m("demo-ke-toan-don-vi", "khoa-tai-chinh",
       "Nhập môn kế toán đơn vị dự toán",
       "An introduction to budget-unit accounting",
       ("Nguyễn Thị Thu Trang",), ("military-accounting",), ("cadet-year-2",), "2024-01-16",
       "Giáo trình giới thiệu đối tượng, nguyên tắc và phương pháp kế toán trong đơn vị dự toán: "
       "chứng từ, tài khoản, sổ kế toán và báo cáo tài chính.",
       (("Đối tượng kế toán", (
           "Kế toán phản ánh tài sản, nguồn kinh phí và tình hình sử dụng kinh phí.",
           "Mọi nghiệp vụ phát sinh đều phải có chứng từ hợp lệ.")),
        ("Tài khoản và sổ sách", (
            "Hệ thống tài khoản được áp dụng thống nhất theo quy định.",
            "Sổ kế toán được mở, ghi và khóa sổ theo từng kỳ.")),
        ("Báo cáo", (
            "Báo cáo quyết toán phản ánh trung thực số liệu trong kỳ.",
            "Số liệu báo cáo phải khớp với sổ kế toán và chứng từ.")),
        ), files=("pdf",)),
    _m("demo-lap-du-toan", "khoa-tai-chinh",
       "Quy trình lập dự toán ngân sách đơn vị cơ sở",
       "Preparing the budget estimate of a basic unit",
       ("Nguyễn Thị Thu Trang", "Cao Minh Đức"), ("budget-management",),
       ("cadet-year-3", "staff"), "2024-07-09",
       "Các bước lập dự toán ngân sách năm của đơn vị cơ sở: căn cứ, thu thập số liệu, tính "
       "toán, thuyết minh và trình duyệt.",
       (("Căn cứ lập dự toán", (
           "Nhiệm vụ của đơn vị, chế độ, tiêu chuẩn và định mức chi tiêu.",
           "Tình hình thực hiện dự toán của năm trước.")),
        ("Tính toán và thuyết minh", (
            "Tính nhu cầu chi theo từng mục, có thuyết minh cơ sở tính toán.",
            "Sắp xếp thứ tự ưu tiên các khoản chi.")),
        ("Trình duyệt", (
            "Thông qua chỉ huy đơn vị trước khi gửi cấp trên.",
            "Điều chỉnh dự toán theo ý kiến thẩm định.")),
        ), files=("docx",)),
    _m("demo-kiem-tra-tai-chinh", "khoa-tai-chinh",
       "Kiểm tra tài chính nội bộ ở đơn vị",
       "Internal financial inspection",
       ("Cao Minh Đức",), ("financial-audit",), ("lecturers", "staff"), "2025-03-14",
       "Mục đích, nội dung, phương pháp kiểm tra tài chính nội bộ và cách xử lý kết quả kiểm "
       "tra nhằm quản lý chặt chẽ ngân sách.",
       (("Mục đích", (
           "Phát hiện sai sót để chấn chỉnh kịp thời, phòng ngừa vi phạm.",
           "Bảo đảm chi tiêu đúng chế độ, tiết kiệm và hiệu quả.")),
        ("Nội dung kiểm tra", (
            "Kiểm tra chứng từ, sổ sách, quỹ tiền mặt và tài sản.",
            "Đối chiếu số liệu giữa kế toán, thủ quỹ và bộ phận sử dụng.")),
        ("Xử lý kết quả", (
            "Lập biên bản, kiến nghị biện pháp khắc phục.",
            "Theo dõi việc thực hiện kiến nghị sau kiểm tra.")),
        ), files=("pptx",)),
    # --- Tài liệu tham khảo chung ------------------------------------------------------------
    _m("demo-huong-dan-kho-hoc-lieu", "tai-lieu-chung",
       "Hướng dẫn sử dụng kho học liệu số của Học viện",
       "How to use the academy's digital library",
       ("Thư viện Học viện",), ("digital-skills", "pedagogy"),
       ("cadets", "lecturers", "staff"), "2025-09-01",
       "Cách tìm kiếm có dấu hoặc không dấu, lọc kết quả, xem và tải học liệu; cách giảng viên "
       "nộp học liệu và theo dõi quá trình duyệt.",
       (("Tìm kiếm", (
           "Gõ từ khóa có dấu hoặc không dấu; dùng dấu ngoặc kép để tìm cụm từ chính xác.",
           "Lọc kết quả theo bộ sưu tập, lĩnh vực, đối tượng, năm và định dạng tệp.")),
        ("Xem và tải", (
            "Tệp PDF xem được ngay trên trang; các định dạng khác tải về máy.",
            "Một số học liệu chỉ dành cho người đăng nhập hoặc cho đơn vị nhất định.")),
        ("Nộp học liệu", (
            "Giảng viên mô tả học liệu, tải tệp lên và chọn quyền truy cập.",
            "Thư viện kiểm tra và công bố; người nộp nhận thông báo kết quả.")),
        ), files=("pdf",)),
    _m("demo-thuat-ngu-tieng-anh", "tai-lieu-chung",
       "Thuật ngữ tiếng Anh chuyên ngành hậu cần",
       "English terms of military logistics",
       ("Phan Thị Ngọc Anh",), ("english", "logistics"), ("cadet-year-2", "postgraduates"),
       "2024-04-23",
       "Danh mục thuật ngữ tiếng Anh thông dụng về hậu cần, vận tải, kho và cung ứng, có giải "
       "nghĩa tiếng Việt và ví dụ sử dụng.",
       (("Supply and storage", (
           "Supply chain: chuỗi cung ứng. Warehouse: nhà kho. Inventory: hàng tồn kho.",
           "Requisition: phiếu yêu cầu cấp phát. Stock level: mức dự trữ.")),
        ("Transport", (
            "Convoy: đoàn xe. Route: tuyến đường. Load capacity: tải trọng.",
            "Fuel consumption: mức tiêu hao nhiên liệu. Refuelling point: điểm tiếp nhiên liệu.")),
        ("Sustainment", (
            "Ration: khẩu phần ăn. Field kitchen: bếp dã chiến.",
            "Medical evacuation: vận chuyển cấp cứu. Maintenance: bảo dưỡng.")),
        ), files=("docx",), extra_languages=("en",)),
    _m("demo-phuong-phap-tu-hoc", "tai-lieu-chung",
       "Phương pháp tự học hiệu quả cho học viên",
       "Effective self-study for cadets",
       ("Lê Minh Tuấn",), ("pedagogy",), ("cadet-year-1",), "2023-08-28",
       "Lập kế hoạch tự học, ghi chép, ôn tập và khai thác học liệu số; cách học nhóm và chuẩn "
       "bị cho kiểm tra, thi.",
       (("Kế hoạch tự học", (
           "Xác định mục tiêu từng tuần, chia nhỏ nội dung cần học.",
           "Dành thời gian cố định mỗi ngày cho tự học.")),
        ("Ghi chép và ôn tập", (
            "Ghi ý chính bằng sơ đồ, tóm tắt sau mỗi buổi học.",
            "Ôn tập giãn cách: xem lại sau một ngày, một tuần và một tháng.")),
        ("Học nhóm", (
            "Chia câu hỏi cho từng thành viên chuẩn bị rồi trao đổi.",
            "Giải thích lại cho bạn là cách kiểm tra mình đã hiểu bài.")),
        ), files=("pdf",)),
    _m("demo-truyen-thong-nganh-hau-can", "tai-lieu-chung",
       "Truyền thống ngành Hậu cần Quân đội nhân dân Việt Nam",
       "The traditions of the logistics branch of the Vietnam People's Army",
       ("Khoa Khoa học xã hội và nhân văn",), ("military-history", "logistics"),
       ("cadet-year-1", "staff"), "2025-07-11",
       "Tài liệu sinh hoạt truyền thống nhân kỷ niệm ngày truyền thống ngành Hậu cần (11/7/1950): "
       "những bài học về phục vụ bộ đội và xây dựng ngành.",
       (("Ngày truyền thống", (
           "Ngày 11 tháng 7 năm 1950 được lấy làm ngày truyền thống của ngành Hậu cần Quân đội "
           "nhân dân Việt Nam.",
           "Mỗi năm, các đơn vị tổ chức sinh hoạt truyền thống vào dịp này.")),
        ("Bài học", (
            "Luôn lấy phục vụ bộ đội, phục vụ chiến đấu làm mục tiêu hàng đầu.",
            "Dựa vào nhân dân, tự lực, tiết kiệm trong mọi hoàn cảnh.")),
        ), files=("pdf",)),
)


# --- documents ------------------------------------------------------------------------------

def body(material: DemoMaterial) -> list[tuple[str | None, str]]:
    """The document's text as (heading or None, paragraph) pairs: the abstract, then one
    paragraph per section."""
    out: list[tuple[str | None, str]] = [(None, material.abstract)]
    for heading, sentences in material.sections:
        out.append((heading, " ".join(sentences)))
    return out


def _cover_line(material: DemoMaterial) -> str:
    return f"{', '.join(material.creators)} · {ACADEMY} · {material.issued[:4]}"


def write_pdf(path: Path, material: DemoMaterial) -> Path:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    from lms.extract.samples import BUNDLED_FONT

    pdf = FPDF(format="A4")
    pdf.set_title(material.title)
    pdf.set_author(", ".join(material.creators))
    pdf.set_creator("Kho học liệu số")
    pdf.add_font("DejaVu", fname=str(BUNDLED_FONT))
    pdf.add_page()
    pdf.set_text_color(31, 81, 48)
    pdf.set_font("DejaVu", size=10)
    pdf.multi_cell(0, 6, ACADEMY.upper(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font("DejaVu", size=18)
    pdf.multi_cell(0, 9, material.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(60, 60, 60)
    pdf.set_font("DejaVu", size=10)
    pdf.multi_cell(0, 6, _cover_line(material), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(5)
    pdf.set_text_color(20, 20, 20)
    for heading, paragraph in body(material):
        if heading:
            pdf.set_font("DejaVu", size=13)
            pdf.multi_cell(0, 8, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("DejaVu", size=11)
        pdf.multi_cell(0, 6, paragraph, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)
    pdf.output(str(path))
    return path


def write_docx(path: Path, material: DemoMaterial) -> Path:
    from docx import Document

    document = Document()
    document.core_properties.title = material.title
    document.core_properties.author = ", ".join(material.creators)
    document.add_heading(material.title, level=1)
    document.add_paragraph(_cover_line(material))
    for heading, paragraph in body(material):
        if heading:
            document.add_heading(heading, level=2)
        document.add_paragraph(paragraph)
    document.save(str(path))
    return path


def write_pptx(path: Path, material: DemoMaterial) -> Path:
    from pptx import Presentation

    presentation = Presentation()
    presentation.core_properties.title = material.title
    presentation.core_properties.author = ", ".join(material.creators)
    cover = presentation.slides.add_slide(presentation.slide_layouts[0])
    cover.shapes.title.text = material.title
    cover.placeholders[1].text = _cover_line(material)
    for heading, sentences in (("Nội dung chính", (material.abstract,)), *material.sections):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = heading
        frame = slide.placeholders[1].text_frame
        frame.text = sentences[0]
        for sentence in sentences[1:]:
            frame.add_paragraph().text = sentence
    presentation.save(str(path))
    return path


def write_xlsx(path: Path, material: DemoMaterial) -> Path:
    """A worksheet: the material's rows of invented figures, with formulas, and a notes sheet."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Bang tinh"
    if material.key == "demo-dinh-muc-xang-dau":
        sheet.append(["Loại xe", "Số xe", "Lít/100 km (giả định)", "Quãng đường (km)",
                      "Hệ số địa hình", "Nhu cầu (lít)"])
        rows = [("Xe tải 2,5 tấn", 12, 28, 180, 1.1), ("Xe tải 5 tấn", 6, 35, 180, 1.1),
                ("Xe chở xăng dầu", 2, 40, 180, 1.15), ("Xe chỉ huy", 3, 16, 180, 1.05)]
        for number, (kind, count, rate, distance, factor) in enumerate(rows, start=2):
            sheet.append([kind, count, rate, distance, factor,
                          f"=B{number}*C{number}*D{number}/100*E{number}"])
        total = len(rows) + 2
        sheet.append(["Cộng", f"=SUM(B2:B{total - 1})", None, None, None,
                      f"=SUM(F2:F{total - 1})"])
        sheet.append(["Dự phòng 10%", None, None, None, None, f"=F{total}*0.1"])
    else:
        sheet.append(["Ngày", "Trung đội 1", "Trung đội 2", "Trung đội 3", "Có mặt"])
        for day in range(1, 8):
            n = day + 1
            sheet.append([f"0{day}/03/2025", 30 - day % 3, 31 - day % 2, 29, f"=SUM(B{n}:D{n})"])
        sheet.append(["Số ngày đủ 90", None, None, None, '=COUNTIF(E2:E8,">=90")'])
    notes = workbook.create_sheet("Ghi chu")
    notes.append([material.title])
    for heading, paragraph in body(material):
        notes.append([heading or "", paragraph])
    workbook.properties.title = material.title
    workbook.properties.creator = ", ".join(material.creators)
    workbook.save(str(path))
    return path


def write_png(path: Path, material: DemoMaterial) -> Path:
    """An infographic: the title and each section's first sentence on coloured cards."""
    from PIL import Image, ImageDraw, ImageFont

    from lms.extract.samples import BUNDLED_FONT

    width, height = 1000, 700
    image = Image.new("RGB", (width, height), (246, 247, 244))
    draw = ImageDraw.Draw(image)
    title_font = ImageFont.truetype(str(BUNDLED_FONT), 40)
    text_font = ImageFont.truetype(str(BUNDLED_FONT), 24)
    draw.rectangle((0, 0, width, 110), fill=(31, 81, 48))
    draw.text((40, 32), material.title, font=title_font, fill=(255, 255, 255))
    y = 150
    for index, (heading, sentences) in enumerate(material.sections):
        draw.rounded_rectangle((40, y, width - 40, y + 230), radius=16,
                               fill=(255, 255, 255), outline=(201, 162, 39), width=3)
        draw.text((70, y + 20), f"{index + 1}. {heading}", font=title_font, fill=(31, 81, 48))
        line_y = y + 85
        for sentence in sentences:
            for line in _wrap(sentence, text_font, draw, width - 140):
                draw.text((70, line_y), line, font=text_font, fill=(29, 36, 32))
                line_y += 32
        y += 260
    image.save(path, format="PNG", optimize=True)
    return path


def _wrap(text: str, font, draw, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


WRITERS = {"pdf": write_pdf, "docx": write_docx, "pptx": write_pptx, "xlsx": write_xlsx,
           "png": write_png}


def write_files(folder: Path, material: DemoMaterial) -> list[Path]:
    """Every document of ``material``, written into ``folder``, named after its title."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = material.title.split(":")[0].strip()
    return [WRITERS[kind](folder / f"{stem}.{kind}", material) for kind in material.files]
