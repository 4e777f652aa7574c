"""Problems found in user data, with stable codes and messages in Vietnamese and English."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

# code -> (Vietnamese template, English template). Templates may use {label_vi}/{label_en}
# (the term's label), {value}, {lang}, {max}, {length}, {line}, {header}, {detail}.
MESSAGES: dict[str, tuple[str, str]] = {
    "bad_shape": ("Dữ liệu không đúng cấu trúc siêu dữ liệu: {detail}",
                  "Data is not shaped like metadata: {detail}"),
    "missing_title": ("Thiếu nhan đề.", "The title is missing."),
    "missing_required": ("Thiếu trường bắt buộc “{label_vi}”.",
                         "The required field “{label_en}” is missing."),
    "missing_required_language": ("“{label_vi}” phải có giá trị bằng ngôn ngữ “{lang}”.",
                                  "“{label_en}” needs a value in language “{lang}”."),
    "unknown_term": ("“{value}” không phải là thuật ngữ Dublin Core.",
                     "“{value}” is not a Dublin Core term."),
    "too_many_values": ("“{label_vi}” có quá nhiều giá trị (tối đa {max}).",
                        "“{label_en}” has too many values (at most {max})."),
    "not_repeatable": ("“{label_vi}” chỉ được có một giá trị.",
                       "“{label_en}” takes only one value."),
    "duplicate_language": ("“{label_vi}” chỉ được có một giá trị cho mỗi ngôn ngữ ({lang}).",
                           "“{label_en}” takes one value per language ({lang})."),
    "duplicate_value": ("“{label_vi}”: giá trị “{value}” bị lặp lại, đã bỏ bản sao.",
                        "“{label_en}”: the value “{value}” is repeated; the copy was dropped."),
    "empty_value": ("“{label_vi}”: đã bỏ một giá trị rỗng.",
                    "“{label_en}”: an empty value was dropped."),
    "control_chars": ("“{label_vi}” chứa ký tự điều khiển không hợp lệ.",
                      "“{label_en}” contains invalid control characters."),
    "too_long": ("“{label_vi}” dài {length} ký tự, tối đa {max}.",
                 "“{label_en}” is {length} characters long; the maximum is {max}."),
    "bad_language_tag": ("“{label_vi}”: “{lang}” không phải mã ngôn ngữ hợp lệ (ví dụ vi, en-US).",
                         "“{label_en}”: “{lang}” is not a valid language tag (e.g. vi, en-US)."),
    "lang_not_allowed": ("“{label_vi}” không ghi ngôn ngữ; đã bỏ mã ngôn ngữ “{lang}”.",
                         "“{label_en}” takes no language; the tag “{lang}” was dropped."),
    "bad_date": ("“{label_vi}”: “{value}” không phải ngày hợp lệ "
                 "(NNNN, NNNN-TT, NNNN-TT-NN hoặc ngày giờ có múi giờ).",
                 "“{label_en}”: “{value}” is not a valid W3CDTF date "
                 "(YYYY, YYYY-MM, YYYY-MM-DD or a date-time with a time zone)."),
    "unknown_type": ("“{value}” không thuộc bộ từ vựng DCMI Type (ví dụ Text, MovingImage).",
                     "“{value}” is not in the DCMI Type Vocabulary (e.g. Text, MovingImage)."),
    "unknown_language": ("“{value}” không phải mã ngôn ngữ ISO 639 / BCP 47.",
                         "“{value}” is not an ISO 639 / BCP 47 language code."),
    "bad_uri": ("“{label_vi}”: “{value}” không phải địa chỉ hợp lệ "
                "(chỉ chấp nhận http, https, urn:, doi:, hdl:, oai:).",
                "“{label_en}”: “{value}” is not a valid URI "
                "(only http, https, urn:, doi:, hdl:, oai: are accepted)."),
    "bad_media_type": ("“{value}” không phải kiểu tệp MIME hợp lệ (ví dụ application/pdf).",
                       "“{value}” is not a valid media type (e.g. application/pdf)."),
    "unknown_vocabulary_value": ("“{label_vi}”: “{value}” không có trong danh mục.",
                                 "“{label_en}”: “{value}” is not in the vocabulary."),
    "unknown_scheme": ("“{label_vi}”: không biết lược đồ mã hóa “{detail}”.",
                       "“{label_en}”: unknown encoding scheme “{detail}”."),
    # CSV import
    "bad_encoding": ("Tệp không phải UTF-8 hoặc UTF-16 hợp lệ (dòng {line}).",
                     "The file is not valid UTF-8 or UTF-16 (line {line})."),
    "bad_csv": ("Tệp CSV lỗi ở dòng {line}: {detail}", "Malformed CSV at line {line}: {detail}"),
    "empty_file": ("Tệp rỗng, không có dòng tiêu đề.", "The file is empty: no header row."),
    "duplicate_header": ("Tiêu đề cột “{header}” bị lặp lại.",
                         "The column header “{header}” appears twice."),
    "unknown_header": ("Tiêu đề cột “{header}” không phải thuật ngữ Dublin Core.",
                       "The column header “{header}” is not a Dublin Core term."),
    "bad_header": ("Tiêu đề cột “{header}” sai cú pháp (ví dụ title[vi], subject^subjects).",
                   "The column header “{header}” is malformed (e.g. title[vi], subject^subjects)."),
    "row_too_long": ("Dòng {line} có nhiều ô hơn số cột.",
                     "Line {line} has more cells than there are columns."),
}

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def excerpt(value: str, limit: int = 60) -> str:
    """A short, printable excerpt of a value for use in a message."""
    value = _UNPRINTABLE.sub("\N{REPLACEMENT CHARACTER}", value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem with a record or file.

    ``index`` is the position of the offending statement in the validated input (or the CSV
    line number for file problems), None for problems about the record as a whole.
    """

    code: str
    severity: Severity
    term: str | None
    index: int | None
    message_vi: str
    message_en: str

    def message(self, lang: str = "vi") -> str:
        """The message in ``lang`` ("vi" or "en"; anything else gives Vietnamese)."""
        return self.message_en if lang.lower().startswith("en") else self.message_vi

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def make_problem(code: str, severity: Severity, *, term: str | None = None,
                 index: int | None = None, labels: tuple[str, str] | None = None,
                 **params: object) -> Problem:
    """Build a Problem with messages from :data:`MESSAGES`.

    ``labels`` is the term's (vi, en) label; ``value`` is shortened with :func:`excerpt`.
    Raises KeyError for an unknown code (a programming error).
    """
    vi, en = MESSAGES[code]
    label_vi, label_en = labels or (term or "", term or "")
    values = {k: excerpt(v) if isinstance(v, str) else v for k, v in params.items()}
    return Problem(
        code=code,
        severity=severity,
        term=term,
        index=index,
        message_vi=vi.format(label_vi=label_vi, label_en=label_en, **values),
        message_en=en.format(label_vi=label_vi, label_en=label_en, **values),
    )
