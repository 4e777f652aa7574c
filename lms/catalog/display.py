"""Metadata as a reader sees it: grouped by term, labelled in the UI language."""

from __future__ import annotations

from dataclasses import dataclass

from metadata import Metadata, Profile, Statement
from metadata.profile import DCMI_TYPE_VOCABULARY

# Terms shown apart on the record page (title block), not in the metadata table.
HEADLINE_TERMS = ("title",)
TYPE_TERMS = ("type",)


@dataclass(frozen=True)
class ShownValue:
    text: str
    lang: str | None
    is_link: bool = False


@dataclass(frozen=True)
class ShownTerm:
    term: str
    label: str
    values: list[ShownValue]


def value_text(statement: Statement, profile: Profile, lang: str) -> str:
    """A controlled value's label in ``lang``; any other value as it is."""
    scheme = statement.scheme
    if statement.term in TYPE_TERMS:
        scheme = scheme or DCMI_TYPE_VOCABULARY
    if scheme and scheme in profile.vocabularies:
        vocabulary = profile.vocabulary(scheme)
        if vocabulary.contains(statement.value):
            return vocabulary.label(statement.value, lang)
    return statement.value


def shown_terms(metadata: Metadata, profile: Profile, lang: str) -> list[ShownTerm]:
    """Every term present, in profile order (terms not on the profile last), labelled."""
    terms = sorted(set(metadata.terms()) - set(HEADLINE_TERMS), key=profile.term_rank)
    shown = []
    for term in terms:
        spec = profile.term(term)
        values = [
            ShownValue(value_text(s, profile, lang), s.lang,
                       is_link=s.value.startswith(("http://", "https://")))
            for s in metadata.get(term)
        ]
        shown.append(ShownTerm(term, spec.label(lang), values))
    return shown
