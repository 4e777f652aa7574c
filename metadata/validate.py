"""Validation and normalisation of a record's metadata: the one function every ingest path uses.

``validate`` never raises for user data; it returns every problem it finds. Normalisation:
Unicode NFC (nothing else: look-alike letters such as "Ð" are kept), CR LF / CR -> LF,
surrounding whitespace trimmed, empty and exactly repeated values dropped, language tags in
canonical case, controlled-vocabulary labels replaced by their slug (scheme = vocabulary
name), DCMI Type names and language names canonicalised, URI schemes lower-cased.

Severity: in ``deposit`` mode every problem is an error except the notes about dropped
values. In ``import`` mode (imports and OAI-PMH harvests) deposit-required fields that are
missing are only warnings; a missing title is still an error.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from metadata.model import Metadata, ShapeError, Statement
from metadata.problems import Problem, Severity, make_problem
from metadata.profile import DCMI_TYPE_VOCABULARY, Profile, TermSpec, default_profile
from metadata.schemes import (
    parse_dcmi_type,
    parse_language_tag,
    parse_language_value,
    parse_media_type,
    parse_uri,
    parse_w3cdtf,
)
from metadata.terms import DCMI_SCHEMES, Syntax, is_term

Mode = Literal["deposit", "import"]

# C0 controls except TAB/LF/CR, DEL, C1 controls, non-characters and lone surrogates: none
# is allowed in XML 1.0 or useful in metadata.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_INCOMPLETE_CODES = frozenset({"missing_required", "missing_required_language"})


@dataclass(frozen=True)
class ValidationResult:
    """Normalised statements and the problems found."""

    statements: Metadata
    problems: tuple[Problem, ...]
    mode: Mode

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed): the record may be stored."""
        return not self.errors

    @property
    def incomplete(self) -> bool:
        """True when a deposit-required field is missing ("metadata incomplete" flag)."""
        return is_incomplete(self)

    def for_term(self, term: str) -> list[Problem]:
        """Problems about one term, for showing next to a form field."""
        return [p for p in self.problems if p.term == term]


def is_incomplete(result: ValidationResult) -> bool:
    """True if the record lacks a field or language the profile requires for deposit."""
    return any(p.code in _INCOMPLETE_CODES or p.code == "missing_title" for p in result.problems)


def normalise_text(value: str) -> str:
    """NFC, line ends as LF, surrounding whitespace removed."""
    value = unicodedata.normalize("NFC", value)
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


class _Checker:
    def __init__(self, profile: Profile, mode: Mode) -> None:
        self.profile = profile
        self.mode = mode
        self.problems: list[Problem] = []

    def report(self, code: str, spec: TermSpec | None, index: int | None,
               severity: Severity = "error", *, term: str | None = None, **params: Any) -> None:
        labels = (spec.label("vi"), spec.label("en")) if spec else None
        self.problems.append(make_problem(
            code, severity, term=spec.name if spec else term, index=index, labels=labels,
            **params,
        ))

    def statement(self, index: int, raw: Statement) -> Statement | None:
        """Normalise one statement; None if it must be dropped."""
        spec = self.profile.term(raw.term)
        value = normalise_text(raw.value)
        if _CONTROL.search(value):
            self.report("control_chars", spec, index)
            return Statement(raw.term, value, raw.lang, raw.scheme)
        if not value:
            self.report("empty_value", spec, index, "warning")
            return None
        if len(value) > spec.max_length:
            self.report("too_long", spec, index, length=len(value), max=spec.max_length)
        lang = self.language_tag(index, spec, raw.lang)
        if spec.syntax is Syntax.LITERAL:
            return self.literal(index, spec, value, lang, raw.scheme)
        return self.syntax(index, spec, value, raw.scheme)

    def language_tag(self, index: int, spec: TermSpec, lang: str | None) -> str | None:
        if lang is None or not lang.strip():
            return None
        lang = lang.strip()
        if spec.syntax is not Syntax.LITERAL:
            self.report("lang_not_allowed", spec, index, "warning", lang=lang)
            return None
        tag = parse_language_tag(lang)
        if tag is None:
            self.report("bad_language_tag", spec, index, lang=lang)
            return lang
        return tag

    def syntax(self, index: int, spec: TermSpec, value: str, scheme: str | None) -> Statement:
        # Syntax terms are language-neutral and their scheme is implied by the term.
        term = spec.name
        if spec.syntax is Syntax.W3CDTF:
            if parse_w3cdtf(value) is None:
                self.report("bad_date", spec, index, value=value)
            return Statement(term, value)
        if spec.syntax is Syntax.URI:
            uri = parse_uri(value)
            if uri is None:
                self.report("bad_uri", spec, index, value=value)
            return Statement(term, uri or value)
        if spec.syntax is Syntax.IMT:
            media_type = parse_media_type(value)
            if media_type is None:
                self.report("bad_media_type", spec, index, value=value)
            return Statement(term, media_type or value)
        if spec.syntax is Syntax.LANGUAGE:
            code = parse_language_value(value)
            if code is None:
                self.report("unknown_language", spec, index, value=value)
            return Statement(term, code or value)
        # DCMI Type: a class name or URI, or a vi/en label of one.
        name = parse_dcmi_type(value) or self.profile.vocabulary(DCMI_TYPE_VOCABULARY).lookup(value)
        if name is None:
            self.report("unknown_type", spec, index, value=value)
            return Statement(term, value, None, scheme)
        return Statement(term, name, None, DCMI_TYPE_VOCABULARY)

    def literal(self, index: int, spec: TermSpec, value: str, lang: str | None,
                scheme: str | None) -> Statement:
        term = spec.name
        if scheme is not None and scheme not in self.profile.vocabularies:
            if scheme not in DCMI_SCHEMES:
                self.report("unknown_scheme", spec, index, "warning", detail=scheme)
            if spec.vocabulary is not None and spec.closed:
                self.report("unknown_vocabulary_value", spec, index, value=value)
            return Statement(term, value, lang, scheme)
        vocabulary_name = scheme or spec.vocabulary
        if vocabulary_name is None:
            return Statement(term, value, lang, None)
        slug = self.profile.vocabulary(vocabulary_name).lookup(value)
        if slug is not None:
            return Statement(term, slug, None, vocabulary_name)
        if scheme is not None or spec.closed:
            self.report("unknown_vocabulary_value", spec, index, value=value)
            return Statement(term, value, lang, vocabulary_name)
        return Statement(term, value, lang, None)

    def cardinality(self, kept: list[tuple[int, Statement]]) -> None:
        seen_lang: set[tuple[str, str | None]] = set()
        counts: Counter[str] = Counter()
        for index, statement in kept:
            spec = self.profile.term(statement.term)
            counts[statement.term] += 1
            if not spec.repeatable and counts[statement.term] == 2:
                self.report("not_repeatable", spec, index)
            if spec.per_language:
                key = (statement.term, statement.lang)
                if key in seen_lang:
                    self.report("duplicate_language", spec, index, lang=statement.lang or "—")
                seen_lang.add(key)

    def required(self, statements: Metadata) -> None:
        if not statements.get("title"):
            self.report("missing_title", self.profile.term("title"), None)
        severity: Severity = "error" if self.mode == "deposit" else "warning"
        for spec in self.profile.required_terms:
            present = statements.get(spec.name)
            if not present:
                if spec.name != "title":
                    self.report("missing_required", spec, None, severity)
            elif spec.required_lang and not statements.get(spec.name, spec.required_lang):
                self.report("missing_required_language", spec, None, severity,
                            lang=spec.required_lang)


def validate(
    statements: Iterable[Statement] | Mapping[str, Any],
    profile: Profile | None = None,
    *,
    mode: Mode = "deposit",
) -> ValidationResult:
    """Check and normalise a record's metadata against the profile.

    ``statements`` is a list of :class:`Statement` (or :class:`Metadata`), or the JSON dict
    shape of :meth:`Metadata.from_dict`. Problem indexes refer to positions in that list
    (for a dict: in the flattened order of its values). Never raises for user data.
    """
    if mode not in ("deposit", "import"):
        raise ValueError(f"mode must be 'deposit' or 'import', not {mode!r}")
    checker = _Checker(profile or default_profile(), mode)
    if isinstance(statements, Mapping):
        try:
            statements = Metadata.from_dict(statements)
        except ShapeError as exc:
            checker.report("bad_shape", None, None, detail=str(exc))
            return ValidationResult(Metadata(), tuple(checker.problems), mode)
    kept: list[tuple[int, Statement]] = []
    seen: set[Statement] = set()
    counts: Counter[str] = Counter()
    for index, raw in enumerate(statements):
        if not _well_typed(raw):
            checker.report("bad_shape", None, index, detail=f"#{index}: {raw!r:.60}")
            continue
        if not is_term(raw.term):
            checker.report("unknown_term", None, index, term=raw.term, value=raw.term)
            continue
        spec = checker.profile.term(raw.term)
        counts[raw.term] += 1
        if counts[raw.term] > spec.max_values:
            if counts[raw.term] == spec.max_values + 1:
                checker.report("too_many_values", spec, index, max=spec.max_values)
            continue
        statement = checker.statement(index, raw)
        if statement is None:
            continue
        if statement in seen:
            checker.report("duplicate_value", spec, index, "warning", value=statement.value)
            continue
        seen.add(statement)
        kept.append((index, statement))
    checker.cardinality(kept)
    result = Metadata(statement for _, statement in kept)
    checker.required(result)
    return ValidationResult(result, tuple(checker.problems), mode)


def _well_typed(raw: object) -> bool:
    return (
        isinstance(raw, Statement)
        and isinstance(raw.term, str)
        and isinstance(raw.value, str)
        and (raw.lang is None or isinstance(raw.lang, str))
        and (raw.scheme is None or isinstance(raw.scheme, str))
    )
