"""Demo quiz content: a bank of digital-skills questions (imported through the CSV import, as a
trainer would) and the ministry's 30-question test as the last lesson of the demo course
"Kỹ năng số cơ bản". Running it again changes nothing."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from lms.auth.services import find_user
from lms.extensions import db
from lms.quizzes import banks, quizzes, transfer
from lms.quizzes.models import BankSharing, QuestionBank
from lms.training.models import Course, Lesson, LessonKind

BANK_NAME = "Ngân hàng câu hỏi Kỹ năng số cơ bản"
COURSE_TITLE = "Kỹ năng số cơ bản"

# category, type, text, options (A…F), correct, difficulty, explanation
QUESTIONS = [
    ("Kỹ năng số / Sử dụng máy tính", "single", "Phím tắt nào dùng để sao chép nội dung đã chọn trên Windows?",
     ["Ctrl + C", "Ctrl + V", "Ctrl + X", "Ctrl + Z"], "a", "easy",
     "Ctrl + C sao chép, Ctrl + V dán, Ctrl + X cắt, Ctrl + Z hoàn tác."),
    ("Kỹ năng số / Sử dụng máy tính", "single", "Phím tắt nào dùng để hoàn tác thao tác vừa thực hiện?",
     ["Ctrl + Y", "Ctrl + Z", "Ctrl + A", "Alt + F4"], "b", "easy", ""),
    ("Kỹ năng số / Sử dụng máy tính", "single", "Tệp có phần mở rộng .xlsx là tệp của phần mềm nào?",
     ["Microsoft Word", "Microsoft Excel", "Microsoft PowerPoint", "Adobe Reader"], "b", "easy", ""),
    ("Kỹ năng số / Sử dụng máy tính", "single", "Trong bảng tính, công thức =SUM(A1:A5) dùng để làm gì?",
     ["Đếm số ô có dữ liệu từ A1 đến A5", "Tính tổng các ô từ A1 đến A5",
      "Tính trung bình các ô từ A1 đến A5", "Tìm giá trị lớn nhất từ A1 đến A5"], "b", "medium",
     "SUM cộng các giá trị của vùng ô; COUNT đếm, AVERAGE tính trung bình, MAX tìm giá trị lớn nhất."),
    ("Kỹ năng số / Sử dụng máy tính", "single", "Định dạng tệp nào phù hợp nhất để gửi văn bản cần giữ nguyên bố cục khi in?",
     ["PDF", "TXT", "HTML", "CSV"], "a", "easy", ""),
    ("Kỹ năng số / Sử dụng máy tính", "truefalse", "Lưu tệp thường xuyên trong khi soạn thảo giúp tránh mất dữ liệu khi mất điện.",
     [], "true", "easy", ""),
    ("Kỹ năng số / Sử dụng máy tính", "multiple", "Những thiết bị nào sau đây là thiết bị nhập dữ liệu?",
     ["Bàn phím", "Chuột", "Máy in", "Máy quét"], "a,b,d", "medium", "Máy in là thiết bị xuất."),
    ("Kỹ năng số / Sử dụng máy tính", "single", "Để tìm nhanh một từ trong văn bản đang mở, dùng tổ hợp phím nào?",
     ["Ctrl + F", "Ctrl + P", "Ctrl + S", "Ctrl + N"], "a", "easy", ""),
    ("Kỹ năng số / Sử dụng máy tính", "matching", "Ghép mỗi phần mềm với công việc phù hợp.",
     ["Trình soạn thảo văn bản -> Soạn công văn", "Bảng tính -> Lập bảng lương",
      "Trình chiếu -> Trình bày báo cáo", "Trình duyệt web -> Truy cập cổng thông tin"], "",
     "medium", ""),
    ("Kỹ năng số / Sử dụng máy tính", "single", "Dung lượng 1 GB xấp xỉ bằng bao nhiêu MB?",
     ["10 MB", "100 MB", "1.000 MB", "1.000.000 MB"], "c", "medium", ""),
    ("An toàn thông tin / Mật khẩu", "single", "Mật khẩu nào sau đây mạnh nhất?",
     ["123456", "matkhau", "Ngay15thang8", "Tr@m-Hai!Bon7-Bien"], "d", "easy",
     "Mật khẩu dài, có chữ hoa, chữ thường, số và ký hiệu thì khó đoán nhất."),
    ("An toàn thông tin / Mật khẩu", "truefalse", "Dùng chung một mật khẩu cho mọi tài khoản là an toàn nếu mật khẩu đủ dài.",
     [], "false", "easy", "Một dịch vụ bị lộ mật khẩu sẽ kéo theo mọi tài khoản khác."),
    ("An toàn thông tin / Mật khẩu", "single", "Xác thực hai yếu tố (2FA) là gì?",
     ["Đăng nhập bằng hai mật khẩu khác nhau", "Mật khẩu cộng một yếu tố khác như mã gửi tới điện thoại",
      "Hai người cùng đăng nhập một tài khoản", "Đổi mật khẩu hai lần mỗi tháng"], "b", "medium", ""),
    ("An toàn thông tin / Mật khẩu", "multiple", "Những việc nào giúp bảo vệ mật khẩu?",
     ["Không ghi mật khẩu lên giấy dán cạnh màn hình", "Không cung cấp mật khẩu qua điện thoại",
      "Đặt mật khẩu là ngày sinh", "Đổi mật khẩu khi nghi bị lộ"], "a,b,d", "medium", ""),
    ("An toàn thông tin / Mật khẩu", "single", "Khi rời khỏi máy tính tại cơ quan trong thời gian ngắn, nên làm gì?",
     ["Để nguyên màn hình", "Khóa màn hình (Windows + L)", "Tắt màn hình bằng nút nguồn",
      "Nhờ đồng nghiệp trông máy"], "b", "easy", ""),
    ("An toàn thông tin / Mật khẩu", "truefalse", "Quản trị viên hệ thống có thể yêu cầu bạn gửi mật khẩu qua thư điện tử.",
     [], "false", "medium", "Quản trị viên không bao giờ cần biết mật khẩu của người dùng."),
    ("An toàn thông tin / Lừa đảo trực tuyến", "single", "Dấu hiệu nào thường gặp ở thư điện tử lừa đảo (phishing)?",
     ["Gửi từ địa chỉ đúng tên miền cơ quan", "Thúc giục hành động gấp và yêu cầu bấm vào liên kết lạ",
      "Có chữ ký điện tử hợp lệ", "Không có tệp đính kèm"], "b", "medium", ""),
    ("An toàn thông tin / Lừa đảo trực tuyến", "single", "Nhận được tin nhắn báo trúng thưởng, yêu cầu nộp phí để nhận quà, bạn nên làm gì?",
     ["Nộp phí ngay để không mất quà", "Cung cấp số tài khoản để nhận tiền",
      "Bỏ qua và báo cho cơ quan chức năng", "Chuyển tiếp cho bạn bè"], "c", "easy", ""),
    ("An toàn thông tin / Lừa đảo trực tuyến", "multiple", "Những thông tin nào không được cung cấp cho người lạ qua mạng?",
     ["Mã OTP", "Mật khẩu tài khoản", "Số căn cước công dân", "Tên cơ quan công khai trên cổng thông tin"],
     "a,b,c", "medium", ""),
    ("An toàn thông tin / Lừa đảo trực tuyến", "truefalse", "Ngân hàng có thể gọi điện đề nghị khách hàng đọc mã OTP để xác minh.",
     [], "false", "easy", "Ngân hàng không bao giờ yêu cầu khách hàng cung cấp mã OTP."),
    ("An toàn thông tin / Lừa đảo trực tuyến", "single", "Trước khi bấm vào một liên kết trong thư, cách kiểm tra nhanh là gì?",
     ["Bấm thử rồi đóng lại", "Di chuột lên liên kết để xem địa chỉ thật",
      "Chuyển cho đồng nghiệp bấm trước", "Kiểm tra màu chữ của liên kết"], "b", "medium", ""),
    ("An toàn thông tin / Mạng quân sự", "single", "USB cá nhân không rõ nguồn gốc có được cắm vào máy tính nối mạng quân sự không?",
     ["Được, nếu đã quét virus", "Được, nếu chỉ chép tài liệu", "Không được",
      "Được, nếu chỉ huy đồng ý miệng"], "c", "medium", ""),
    ("An toàn thông tin / Mạng quân sự", "truefalse", "Máy tính soạn thảo tài liệu mật không được kết nối Internet.",
     [], "true", "easy", ""),
    ("An toàn thông tin / Mạng quân sự", "multiple", "Những hành vi nào vi phạm quy định bảo vệ bí mật trên không gian mạng?",
     ["Chụp ảnh tài liệu mật đăng mạng xã hội", "Gửi tài liệu mật qua ứng dụng nhắn tin công cộng",
      "Lưu tài liệu mật trên máy tính đã được cấp phép", "Bàn luận nội dung mật trong nhóm trò chuyện"],
     "a,b,d", "hard", ""),
    ("An toàn thông tin / Mạng quân sự", "single", "Khi phát hiện máy tính có dấu hiệu nhiễm mã độc, việc làm đầu tiên là gì?",
     ["Tiếp tục làm việc", "Ngắt kết nối mạng và báo cho bộ phận công nghệ thông tin",
      "Tự cài phần mềm diệt virus tải trên mạng", "Định dạng lại ổ cứng ngay"], "b", "medium", ""),
    ("Khai thác học liệu số", "single", "Kho học liệu số của Học viện dùng để làm gì?",
     ["Lưu trữ, tìm kiếm và khai thác học liệu phục vụ dạy và học", "Chơi trò chơi trực tuyến",
      "Mua bán tài liệu", "Lưu ảnh cá nhân"], "a", "easy", ""),
    ("Khai thác học liệu số", "single", "Để tìm tài liệu theo đúng một cụm từ, nên nhập truy vấn thế nào?",
     ["Đặt cụm từ trong dấu ngoặc kép", "Viết hoa toàn bộ", "Thêm dấu chấm than", "Viết không dấu"],
     "a", "medium", ""),
    ("Khai thác học liệu số", "truefalse", "Học liệu có mức truy cập nội bộ được phép chia sẻ ra ngoài Internet.",
     [], "false", "easy", ""),
    ("Khai thác học liệu số", "multiple", "Thông tin nào giúp trích dẫn đúng một học liệu?",
     ["Tác giả", "Nhan đề", "Năm xuất bản", "Màu bìa"], "a,b,c", "medium", ""),
    ("Khai thác học liệu số", "matching", "Ghép mỗi loại học liệu với định dạng thường gặp.",
     ["Giáo trình điện tử -> PDF", "Bài giảng -> PowerPoint", "Video bài giảng -> MP4"], "", "hard", ""),
    ("Khai thác học liệu số", "single", "OAI-PMH là giao thức dùng để làm gì?",
     ["Thu thập (harvest) siêu dữ liệu giữa các kho tài liệu", "Gửi thư điện tử",
      "Nén tệp tin", "Gọi video"], "a", "hard", ""),
    ("Khai thác học liệu số", "single", "Lộ trình học tập khóa sau chỉ mở khi nào?",
     ["Khi hoàn thành bài trước", "Vào cuối tuần", "Khi có Internet tốc độ cao", "Bất kỳ lúc nào"],
     "a", "easy", "Các bài học của phong trào Bình dân học vụ số mở lần lượt."),
    ("Kỹ năng số / Giao tiếp trực tuyến", "single", "Khi tham gia họp trực tuyến, nên làm gì khi không phát biểu?",
     ["Bật micro", "Tắt micro", "Tắt máy tính", "Rời cuộc họp"], "b", "easy", ""),
    ("Kỹ năng số / Giao tiếp trực tuyến", "multiple", "Thư điện tử công vụ cần có những gì?",
     ["Tiêu đề rõ ràng", "Lời chào và ký tên", "Biểu tượng cảm xúc trong mọi câu", "Nội dung ngắn gọn"],
     "a,b,d", "medium", ""),
]


def _csv() -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["category", "type", "text", "option_a", "option_b", "option_c", "option_d",
                     "correct", "points", "explanation", "record", "difficulty"])
    for category, kind, text, options, correct, difficulty, explanation in QUESTIONS:
        cells = (options + [""] * 4)[:4]
        writer.writerow([category, kind, text, *cells, correct, "1", explanation, "",
                         difficulty])
    return out.getvalue().encode()


def load_quiz_demo() -> bool:
    """The demo bank and the demo course's final test; returns whether the test was added."""
    trainer = find_user("huanluyen")
    course = db.session.scalar(select(Course).where(Course.title == COURSE_TITLE))
    if trainer is None or course is None or not trainer.is_demo:
        return False
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.name == BANK_NAME))
    if bank is None:
        bank = banks.create_bank(trainer, banks.BankInput(
            name=BANK_NAME, sharing=BankSharing.UNIT, unit_id=trainer.unit_id,
            description="Câu hỏi kiểm tra kỹ năng số cơ bản theo mô hình của Bộ Quốc phòng."))
        transfer.import_bank(trainer, bank, _csv(), "ky-nang-so.csv", create_categories=True)
    if db.session.scalar(select(Lesson.id).where(Lesson.course_id == course.id,
                                                 Lesson.kind == LessonKind.QUIZ)):
        return False
    db.session.refresh(course)
    quizzes.create_course_quiz(trainer, course, course.lock_version,
                               preset=quizzes.DIGITAL_SKILLS, bank=bank,
                               title="Kiểm tra kỹ năng số")
    return True
