"""The controlled lists a new database starts with (migration ``0006_accounts_people``).

Pure data. Editing it changes no existing database: admins edit the lists in the app, and a
change meant for every installation needs a migration of its own.
"""

from __future__ import annotations

Entry = tuple[str, str, str]  # (code, Vietnamese name, English name)

# Cấp bậc quân hàm of the Vietnam People's Army, then the professional soldiers' (QNCN).
RANKS: tuple[Entry, ...] = (
    ("binh-nhi", "Binh nhì", "Private"),
    ("binh-nhat", "Binh nhất", "Private first class"),
    ("ha-si", "Hạ sĩ", "Corporal"),
    ("trung-si", "Trung sĩ", "Sergeant"),
    ("thuong-si", "Thượng sĩ", "Senior sergeant"),
    ("thieu-uy", "Thiếu úy", "Second lieutenant"),
    ("trung-uy", "Trung úy", "First lieutenant"),
    ("thuong-uy", "Thượng úy", "Senior lieutenant"),
    ("dai-uy", "Đại úy", "Captain"),
    ("thieu-ta", "Thiếu tá", "Major"),
    ("trung-ta", "Trung tá", "Lieutenant colonel"),
    ("thuong-ta", "Thượng tá", "Senior colonel"),
    ("dai-ta", "Đại tá", "Colonel"),
    ("thieu-tuong", "Thiếu tướng", "Major general"),
    ("trung-tuong", "Trung tướng", "Lieutenant general"),
    ("thuong-tuong", "Thượng tướng", "Colonel general"),
    ("dai-tuong", "Đại tướng", "General"),
    ("thieu-uy-qncn", "Thiếu úy QNCN", "Second lieutenant (professional soldier)"),
    ("trung-uy-qncn", "Trung úy QNCN", "First lieutenant (professional soldier)"),
    ("thuong-uy-qncn", "Thượng úy QNCN", "Senior lieutenant (professional soldier)"),
    ("dai-uy-qncn", "Đại úy QNCN", "Captain (professional soldier)"),
    ("thieu-ta-qncn", "Thiếu tá QNCN", "Major (professional soldier)"),
    ("trung-ta-qncn", "Trung tá QNCN", "Lieutenant colonel (professional soldier)"),
    ("thuong-ta-qncn", "Thượng tá QNCN", "Senior colonel (professional soldier)"),
)

POSITIONS: tuple[Entry, ...] = (
    ("giam-doc", "Giám đốc", "Director"),
    ("pho-giam-doc", "Phó Giám đốc", "Deputy director"),
    ("chinh-uy", "Chính ủy", "Political commissar"),
    ("pho-chinh-uy", "Phó Chính ủy", "Deputy political commissar"),
    ("truong-phong", "Trưởng phòng", "Head of department"),
    ("pho-truong-phong", "Phó Trưởng phòng", "Deputy head of department"),
    ("chu-nhiem-khoa", "Chủ nhiệm khoa", "Head of faculty"),
    ("pho-chu-nhiem-khoa", "Phó Chủ nhiệm khoa", "Deputy head of faculty"),
    ("chu-nhiem-bo-mon", "Chủ nhiệm bộ môn", "Head of section"),
    ("giang-vien", "Giảng viên", "Lecturer"),
    ("tro-ly", "Trợ lý", "Assistant"),
    ("nhan-vien", "Nhân viên", "Clerk"),
    ("tieu-doan-truong", "Tiểu đoàn trưởng", "Battalion commander"),
    ("chinh-tri-vien", "Chính trị viên", "Political officer"),
    ("dai-doi-truong", "Đại đội trưởng", "Company commander"),
    ("trung-doi-truong", "Trung đội trưởng", "Platoon leader"),
    ("lop-truong", "Lớp trưởng", "Class monitor"),
    ("hoc-vien", "Học viên", "Cadet"),
    ("chien-si", "Chiến sĩ", "Soldier"),
)

# The four groups of the national movement (QĐ 757/QĐ-BKHCN), then the academy's own. The
# codes are those of the dcterms:audience vocabulary (metadata/data/audiences.toml).
TARGET_GROUPS: tuple[Entry, ...] = (
    ("bdhvs-pupils-students", "Học sinh, sinh viên", "Pupils and students"),
    ("bdhvs-citizens", "Người dân", "Citizens"),
    ("bdhvs-civil-servants", "Cán bộ, công chức, viên chức",
     "Cadres, civil servants and public employees"),
    ("bdhvs-enterprise-workers", "Người lao động trong doanh nghiệp", "Enterprise workers"),
    ("cadets", "Học viên", "Cadets"),
    ("lecturers", "Giảng viên", "Instructors"),
    ("staff", "Cán bộ, nhân viên", "Staff"),
    ("soldiers", "Hạ sĩ quan, binh sĩ", "Soldiers"),
)


def seed_rows() -> list[dict[str, object]]:
    """Rows of ``person_terms`` for the three lists, ten apart so admins can slot others in."""
    rows: list[dict[str, object]] = []
    for kind, entries in (("rank", RANKS), ("position", POSITIONS),
                          ("target_group", TARGET_GROUPS)):
        rows += [{"kind": kind, "code": code, "name": name, "name_en": name_en,
                  "sort_order": 10 * (n + 1), "active": True}
                 for n, (code, name, name_en) in enumerate(entries)]
    return rows
