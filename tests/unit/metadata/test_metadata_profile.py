from pathlib import Path

import pytest

from metadata import ProfileError, load_profile
from metadata.profile import DATA_DIR, default_profile
from metadata.terms import DCMI_TYPES, Syntax, is_term

REQUIRED = ["title", "creator", "subject", "issued", "type", "audience", "rights"]


def test_default_profile_loads_and_is_cached():
    assert default_profile() is default_profile()
    assert load_profile().name == "kho-hoc-lieu-so"


def test_every_profile_term_is_a_dcmi_term_and_every_vocabulary_exists():
    profile = load_profile()
    assert profile.form_terms
    for spec in profile.form_terms:
        assert is_term(spec.name)
        assert spec.in_form
        assert spec.label("vi") and spec.label("en") and spec.help_text("vi")
        if spec.vocabulary:
            assert profile.vocabulary(spec.vocabulary)


def test_required_for_deposit():
    profile = load_profile()
    assert [spec.name for spec in profile.required_terms] == REQUIRED
    assert profile.term("title").required_lang == "vi"
    assert profile.term("title").per_language


def test_education_terms_are_first_class():
    profile = load_profile()
    assert profile.term("audience").vocabulary == "audiences"
    assert profile.term("audience").closed
    assert profile.term("educationLevel").vocabulary == "education-levels"
    assert profile.term("instructionalMethod").vocabulary == "instructional-methods"
    assert profile.term("mediator").in_form


def test_terms_outside_the_profile_get_defaults():
    profile = load_profile()
    spec = profile.term("accrualPolicy")
    assert not spec.in_form and spec.repeatable and spec.syntax is Syntax.LITERAL
    assert spec.max_values == profile.default_max_values
    assert profile.term("hasVersion").syntax is Syntax.URI
    with pytest.raises(KeyError):
        profile.term("foo")
    names = [spec.name for spec in profile.form_terms]
    assert profile.term_rank("title") == 0
    assert profile.term_rank("accrualPolicy") > profile.term_rank(names[-1])


def test_audience_vocabulary():
    audiences = load_profile().vocabulary("audiences")
    for slug in ("cadet-year-1", "cadet-year-2", "cadet-year-3", "cadet-year-4", "lecturers",
                 "staff", "soldiers", "bdhvs-pupils-students", "bdhvs-citizens",
                 "bdhvs-civil-servants", "bdhvs-enterprise-workers"):
        assert audiences.contains(slug), slug
        assert slug.isascii()
    assert audiences.label("cadet-year-1", "vi") == "Học viên năm thứ nhất"
    assert audiences.label("bdhvs-citizens", "en") == "Citizens"
    assert audiences.ancestors("bdhvs-citizens") == ("bdhvs",)
    assert audiences.lookup("HOC VIEN NAM THU NHAT") == "cadet-year-1"
    options = audiences.options("en")
    assert options[:2] == [("cadets", "Cadets", 0), ("cadet-year-1", "First-year cadets", 1)]
    assert len(options) == len(audiences)


def test_subject_vocabulary_is_hierarchical():
    subjects = load_profile().vocabulary("subjects")
    for slug in ("logistics", "quartermaster", "petroleum", "barracks", "military-transport",
                 "military-finance", "transport-engineering", "military-medicine",
                 "military-science", "political-education", "foreign-languages",
                 "digital-skills", "digital-transformation", "information-security"):
        assert subjects.contains(slug), slug
    assert subjects.ancestors("petroleum") == ("logistics",)
    assert subjects.ancestors("logistics") == ()
    assert "petroleum" in subjects.concept("logistics").children
    assert subjects.label("petroleum", "vi") == "Xăng dầu"
    assert subjects.lookup("xang dau") == subjects.lookup("Xăng Dầu") == "petroleum"
    assert subjects.lookup("Quân y") == "military-medicine"
    assert subjects.lookup("no such subject") is None
    with pytest.raises(KeyError):
        subjects.ancestors("nope")
    assert subjects.roots()[0].slug == "logistics"


def test_dcmi_type_vocabulary_labels_every_class():
    types = load_profile().vocabulary("DCMIType")
    assert [c.slug for c in types] == list(DCMI_TYPES)
    assert types.label("Text", "vi") == "Văn bản"


def _write_profile(tmp_path: Path, terms: str, vocabularies: str = "") -> Path:
    (tmp_path / "v.toml").write_text(
        '[vocabulary]\nvi = "V"\nen = "V"\n[[concepts]]\nslug = "a"\nvi = "A"\nen = "A"\n',
        "utf-8",
    )
    path = tmp_path / "profile.toml"
    path.write_text(
        f'[profile]\nname = "t"\n[vocabularies]\n{vocabularies}\n{terms}', "utf-8"
    )
    return path


TITLE = '[[terms]]\nname = "title"\nlabel = { vi = "a", en = "b" }\nhelp = { vi = "a", en = "b" }\n'


@pytest.mark.parametrize(("terms", "vocabularies", "message"), [
    (TITLE + TITLE.replace('"title"', '"titel"'), "", "titel"),
    (TITLE + TITLE.replace('"title"', '"subject"') + 'vocabulary = "nope"\n', "", "nope"),
    (TITLE + TITLE.replace('"title"', '"issued"') + 'vocabulary = "v"\n', 'v = "v.toml"',
     "vocabulary"),
    (TITLE + 'colour = "red"\n', "", "colour"),
    (TITLE + TITLE, "", "twice"),
    (TITLE.replace('en = "b" }\nhelp', 'fr = "b" }\nhelp'), "", "label"),
    (TITLE + "max_length = 0\n", "", "max_length"),
    (TITLE, 'v = "missing.toml"', "missing.toml"),
    (TITLE.replace('"title"', '"creator"'), "", "title"),
    (TITLE + 'repeatable = "sometimes"\n', "", "repeatable"),
    (TITLE + 'group = "nowhere"\n', "", "unknown group"),
    ('[[groups]]\nname = "more"\nlabel = { vi = "a", en = "b" }\n' + TITLE
     + 'required = true\ngroup = "more"\n', "", "essentials"),
    ('[[groups]]\nname = "more"\nlabel = { vi = "a", en = "b" }\n' * 2 + TITLE, "",
     "twice"),
    ("[[terms]\n", "", "cannot read"),
])
def test_bad_profiles_fail_at_load(tmp_path, terms, vocabularies, message):
    with pytest.raises(ProfileError, match=message):
        load_profile(_write_profile(tmp_path, terms, vocabularies))


@pytest.mark.parametrize(("body", "message"), [
    ('[[concepts]]\nslug = "Bad Slug"\nvi = "A"\nen = "A"\n', "bad slug"),
    ('[[concepts]]\nslug = "a"\nvi = "A"\nen = "A"\n'
     '[[concepts]]\nslug = "a"\nvi = "B"\nen = "B"\n', "duplicate slug"),
    ('[[concepts]]\nslug = "a"\nvi = "Xăng dầu"\nen = "A"\n'
     '[[concepts]]\nslug = "b"\nvi = "XANG DAU"\nen = "B"\n', "share the label"),
    ('[[concepts]]\nslug = "a"\nvi = "A"\n', "'en' label"),
    ("", "no concepts"),
])
def test_bad_vocabularies_fail_at_load(tmp_path, body, message):
    (tmp_path / "bad.toml").write_text('[vocabulary]\nvi = "V"\nen = "V"\n' + body, "utf-8")
    path = tmp_path / "profile.toml"
    path.write_text(f'[profile]\nname = "t"\n[vocabularies]\nbad = "bad.toml"\n{TITLE}', "utf-8")
    with pytest.raises(ProfileError, match=message):
        load_profile(path)


def test_shipped_data_files_exist():
    for name in ("profile.toml", "subjects.toml", "audiences.toml", "dcmitype.toml",
                 "iso639.tsv", "iso639-3.txt"):
        assert (DATA_DIR / name).is_file()


def test_form_groups_keep_required_terms_first_and_every_term_in_one_group():
    profile = default_profile()
    groups = profile.grouped_terms()
    assert groups[0][0].name == "essentials"
    assert {spec.name for spec in profile.required_terms} <= {s.name for s in groups[0][1]}
    grouped = [spec.name for _group, specs in groups for spec in specs]
    assert sorted(grouped) == sorted(spec.name for spec in profile.form_terms)
    assert [g.label("vi") for g, _specs in groups][:2] == ["Thông tin chính", "Mô tả bổ sung"]


def test_a_profile_without_groups_has_every_term_in_essentials(tmp_path):
    profile = load_profile(_write_profile(tmp_path, TITLE))
    [(group, specs)] = profile.grouped_terms()
    assert (group.name, [s.name for s in specs]) == ("essentials", ["title"])
