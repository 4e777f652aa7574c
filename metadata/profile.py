"""The application profile: which terms the form shows, their labels, limits and vocabularies.

The profile is data (``metadata/data/profile.toml``, documented in that file) and is checked
when it is loaded: an unknown term, an unknown vocabulary or a bad setting raises
:class:`ProfileError` at start-up.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from metadata.errors import ProfileError
from metadata.schemes import parse_language_tag
from metadata.terms import PROPERTIES, Syntax, is_term, syntax_of
from metadata.vocabularies import LANGUAGES, Vocabulary, load_dcmi_types, load_vocabulary

DATA_DIR = Path(str(resources.files("metadata") / "data"))
DEFAULT_PROFILE_PATH = DATA_DIR / "profile.toml"
DCMI_TYPE_VOCABULARY = "DCMIType"

_TERM_KEYS = {"name", "label", "help", "repeatable", "required", "required_lang", "vocabulary",
              "closed", "max_length", "max_values", "multiline", "group"}
_GROUP_KEYS = {"name", "label", "help"}
#: The group of terms that name none; the deposit form shows it first and open.
ESSENTIALS = "essentials"


@dataclass(frozen=True)
class FieldGroup:
    """A group of form terms shown together (the first one open, the others folded)."""

    name: str
    labels: Mapping[str, str]
    help: Mapping[str, str]

    def label(self, lang: str = "vi") -> str:
        return self.labels.get(lang) or self.name

    def help_text(self, lang: str = "vi") -> str:
        return self.help.get(lang, "")


@dataclass(frozen=True, slots=True)
class TermSpec:
    """How the profile treats one DCMI term."""

    name: str
    labels: Mapping[str, str]
    help: Mapping[str, str]
    syntax: Syntax
    max_length: int
    max_values: int
    repeatable: bool = True
    per_language: bool = False
    required: bool = False
    required_lang: str | None = None
    vocabulary: str | None = None
    closed: bool = True
    multiline: bool = False
    in_form: bool = False
    group: str = ESSENTIALS

    def label(self, lang: str = "vi") -> str:
        """The term's label in ``lang`` (falls back to the term name)."""
        return self.labels.get(lang) or self.name

    def help_text(self, lang: str = "vi") -> str:
        """The term's help text in ``lang`` (empty if none)."""
        return self.help.get(lang, "")

    @property
    def multilingual(self) -> bool:
        """True if values carry a language tag (free-text literals)."""
        return self.syntax is Syntax.LITERAL and self.vocabulary is None


@dataclass(frozen=True)
class Profile:
    """A loaded, checked application profile."""

    name: str
    form_terms: tuple[TermSpec, ...]
    vocabularies: Mapping[str, Vocabulary]
    default_max_length: int
    default_max_values: int
    _specs: dict[str, TermSpec] = field(repr=False, default_factory=dict)
    groups: tuple[FieldGroup, ...] = ()

    def term(self, name: str) -> TermSpec:
        """The spec of any DCMI term; terms not in the profile get default settings.

        Raises KeyError if ``name`` is not a DCMI Metadata Terms property.
        """
        spec = self._specs.get(name)
        if spec is not None:
            return spec
        if not is_term(name):
            raise KeyError(name)
        vocabulary = DCMI_TYPE_VOCABULARY if syntax_of(name) is Syntax.DCMI_TYPE else None
        return TermSpec(
            name=name,
            labels={"vi": name, "en": name},
            help={},
            syntax=syntax_of(name),
            max_length=self.default_max_length,
            max_values=self.default_max_values,
            vocabulary=vocabulary,
        )

    def vocabulary(self, name: str) -> Vocabulary:
        """A vocabulary by name. Raises KeyError if the profile has none of that name."""
        return self.vocabularies[name]

    def grouped_terms(self) -> list[tuple[FieldGroup, list[TermSpec]]]:
        """The form terms by group, groups in profile order, terms in form order."""
        return [(group, [s for s in self.form_terms if s.group == group.name])
                for group in self.groups]

    @property
    def required_terms(self) -> tuple[TermSpec, ...]:
        """Terms a deposit must have, in form order."""
        return tuple(spec for spec in self.form_terms if spec.required)

    def term_rank(self, name: str) -> int:
        """Sort key: form order first, then the remaining DCMI terms in DCMI order."""
        for index, spec in enumerate(self.form_terms):
            if spec.name == name:
                return index
        if is_term(name):
            return len(self.form_terms) + PROPERTIES.index(name)
        return len(self.form_terms) + len(PROPERTIES)


def _text_pair(where: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or set(value) != set(LANGUAGES):
        raise ProfileError(f"{where}: expected {{ vi = ..., en = ... }}")
    if not all(isinstance(v, str) and v.strip() for v in value.values()):
        raise ProfileError(f"{where}: vi and en must be non-empty strings")
    return dict(value)


def _positive_int(where: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ProfileError(f"{where}: expected a positive integer, got {value!r}")
    return value


def _group(raw: Any, index: int) -> FieldGroup:
    where = f"profile group #{index + 1}"
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise ProfileError(f"{where}: expected a table with a name")
    unknown = set(raw) - _GROUP_KEYS
    if unknown:
        raise ProfileError(f"{where}: unknown keys {sorted(unknown)}")
    return FieldGroup(raw["name"], _text_pair(f"{where} label", raw.get("label")),
                      _text_pair(f"{where} help", raw["help"]) if "help" in raw else {})


def _term_spec(raw: Any, index: int, defaults: tuple[int, int],
               vocabularies: Mapping[str, Vocabulary], groups: set[str]) -> TermSpec:
    where = f"profile term #{index + 1}"
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: expected a table")
    name = raw.get("name")
    if not isinstance(name, str) or not is_term(name):
        raise ProfileError(f"{where}: {name!r} is not a DCMI Metadata Terms property")
    where = f"profile term {name!r}"
    unknown = set(raw) - _TERM_KEYS
    if unknown:
        raise ProfileError(f"{where}: unknown keys {sorted(unknown)}")
    repeatable = raw.get("repeatable", True)
    if repeatable not in (True, False, "per-language"):
        raise ProfileError(f"{where}: repeatable must be true, false or \"per-language\"")
    syntax = syntax_of(name)
    vocabulary = raw.get("vocabulary")
    if vocabulary is not None:
        if vocabulary not in vocabularies:
            raise ProfileError(f"{where}: unknown vocabulary {vocabulary!r}")
        if (vocabulary == DCMI_TYPE_VOCABULARY) != (syntax is Syntax.DCMI_TYPE):
            raise ProfileError(f"{where}: the DCMIType vocabulary is for the type term only")
        if syntax not in (Syntax.LITERAL, Syntax.DCMI_TYPE):
            raise ProfileError(f"{where}: a {syntax} term cannot have a vocabulary")
    elif syntax is Syntax.DCMI_TYPE:
        vocabulary = DCMI_TYPE_VOCABULARY
    closed = raw.get("closed", True)
    if not isinstance(closed, bool) or (not closed and vocabulary is None):
        raise ProfileError(f"{where}: closed must be a boolean and needs a vocabulary")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise ProfileError(f"{where}: required must be a boolean")
    required_lang = raw.get("required_lang")
    if required_lang is not None and (
        not required or not isinstance(required_lang, str)
        or parse_language_tag(required_lang) != required_lang
    ):
        raise ProfileError(f"{where}: required_lang needs required = true and a language tag")
    multiline = raw.get("multiline", False)
    if not isinstance(multiline, bool):
        raise ProfileError(f"{where}: multiline must be a boolean")
    group = raw.get("group", ESSENTIALS)
    if group not in groups:
        raise ProfileError(f"{where}: unknown group {group!r}")
    if required and group != ESSENTIALS:
        raise ProfileError(f"{where}: a required term belongs to the {ESSENTIALS} group")
    return TermSpec(
        name=name,
        labels=_text_pair(f"{where} label", raw.get("label")),
        help=_text_pair(f"{where} help", raw.get("help")),
        syntax=syntax,
        max_length=_positive_int(f"{where} max_length", raw.get("max_length", defaults[0])),
        max_values=_positive_int(f"{where} max_values", raw.get("max_values", defaults[1])),
        repeatable=repeatable is not False,
        per_language=repeatable == "per-language",
        required=required,
        required_lang=required_lang,
        vocabulary=vocabulary,
        closed=closed,
        multiline=multiline,
        in_form=True,
        group=group,
    )


def load_profile(path: Path | str | None = None) -> Profile:
    """Load and check an application profile (default: the one shipped in metadata/data).

    Raises:
        ProfileError: the file cannot be read, or names an unknown term or vocabulary, or
            has a bad setting.
    """
    path = Path(path) if path is not None else DEFAULT_PROFILE_PATH
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"cannot read profile {path}: {exc}") from exc
    unknown = set(data) - {"profile", "vocabularies", "groups", "terms"}
    if unknown:
        raise ProfileError(f"profile {path}: unknown tables {sorted(unknown)}")
    header = data.get("profile", {})
    name = header.get("name")
    if not isinstance(name, str) or not name:
        raise ProfileError(f"profile {path}: [profile] needs a name")
    defaults = (
        _positive_int("[profile] max_length", header.get("max_length", 2000)),
        _positive_int("[profile] max_values", header.get("max_values", 500)),
    )
    vocabularies: dict[str, Vocabulary] = {
        DCMI_TYPE_VOCABULARY: load_dcmi_types(DATA_DIR / "dcmitype.toml")
    }
    for vocab_name, file_name in data.get("vocabularies", {}).items():
        if vocab_name in vocabularies or not isinstance(file_name, str):
            raise ProfileError(f"profile {path}: bad vocabulary entry {vocab_name!r}")
        vocabularies[vocab_name] = load_vocabulary(vocab_name, path.parent / file_name)
    raw_terms = data.get("terms", [])
    if not isinstance(raw_terms, list) or not raw_terms:
        raise ProfileError(f"profile {path}: needs at least one [[terms]] entry")
    groups = [_group(raw, index) for index, raw in enumerate(data.get("groups", []))]
    if ESSENTIALS not in {g.name for g in groups}:
        groups.insert(0, FieldGroup(ESSENTIALS, {"vi": "Thông tin chính", "en": "Essentials"},
                                    {}))
    if len({g.name for g in groups}) != len(groups):
        raise ProfileError(f"profile {path}: a group is listed twice")
    specs: dict[str, TermSpec] = {}
    for index, raw in enumerate(raw_terms):
        spec = _term_spec(raw, index, defaults, vocabularies, {g.name for g in groups})
        if spec.name in specs:
            raise ProfileError(f"profile {path}: term {spec.name!r} is listed twice")
        specs[spec.name] = spec
    if "title" not in specs:
        raise ProfileError(f"profile {path}: the title term must be in the profile")
    return Profile(
        name=name,
        form_terms=tuple(specs.values()),
        vocabularies=vocabularies,
        default_max_length=defaults[0],
        default_max_values=defaults[1],
        _specs=specs,
        groups=tuple(groups),
    )


@cache
def default_profile() -> Profile:
    """The shipped profile, loaded once per process."""
    return load_profile()
