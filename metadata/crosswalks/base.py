"""What every serializer shares: the record context, value display and escaping helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from metadata.model import Metadata, Statement
from metadata.profile import Profile, default_profile


@dataclass(frozen=True)
class RecordContext:
    """Facts about a record that are not metadata statements.

    ``identifier`` is the record's stable identifier (the OAI identifier such as
    ``oai:kho.hvhc.edu.vn:42``, or any other string), ``url`` its landing page, which is
    also the RDF subject, ``pdf_url`` the main PDF file if there is one, ``lang`` the language
    preferred where a format takes a single value (BibTeX title, citation_title), and
    ``profile`` the profile whose vocabularies give labels (default: the shipped one).

    Raises ValueError if ``identifier`` is empty.
    """

    identifier: str
    url: str | None = None
    pdf_url: str | None = None
    lang: str = "vi"
    profile: Profile | None = None

    def __post_init__(self) -> None:
        if not self.identifier:
            raise ValueError("RecordContext.identifier must not be empty")

    @property
    def resolved_profile(self) -> Profile:
        return self.profile or default_profile()

    @property
    def subject_uri(self) -> str:
        """The URI a record is described under: its URL, else its identifier."""
        return self.url or self.identifier


# The lexical space of xml:lang / xsd:language.
_LANG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True, slots=True)
class Display:
    """A value as shown in an output format: vocabulary slugs become labels."""

    text: str
    lang: str | None


def display(statement: Statement, profile: Profile) -> list[Display]:
    """How a statement reads: one Display per vi/en label for a vocabulary slug, else itself.

    DCMI Type values stay the class name (``Text``): harvesters expect the English name.
    A language tag that is not even well-formed is left out, so it cannot break the output.
    """
    scheme = statement.scheme
    if scheme and scheme != "DCMIType" and scheme in profile.vocabularies:
        vocabulary = profile.vocabulary(scheme)
        if vocabulary.contains(statement.value):
            concept = vocabulary.concept(statement.value)
            return [Display(concept.labels[lang], lang) for lang in ("vi", "en")
                    if lang in concept.labels]
    lang = statement.lang if statement.lang and _LANG.fullmatch(statement.lang) else None
    return [Display(statement.value, lang)]


def displays(metadata: Metadata, term: str, profile: Profile) -> list[Display]:
    """All Display values of a term, in statement order, without repeats."""
    out: list[Display] = []
    for statement in metadata.get(term):
        for item in display(statement, profile):
            if item not in out:
                out.append(item)
    return out


def preferred(items: list[Display], lang: str) -> Display | None:
    """The item in ``lang`` (or a sub-tag of it), else one without language, else the first."""
    for wanted in (lang, None):
        for item in items:
            if item.lang == wanted or (
                wanted and item.lang and item.lang.lower().startswith(wanted.lower() + "-")
            ):
                return item
    return items[0] if items else None
