"""Controlled vocabularies: hierarchical concept schemes with Vietnamese and English labels.

A vocabulary file is TOML::

    [vocabulary]
    vi = "Lĩnh vực"
    en = "Subjects"

    [[concepts]]
    slug = "logistics"                 # stable ASCII id: lower-case words joined by "-"
    vi = "Hậu cần"
    en = "Logistics"
    children = [
      { slug = "quartermaster", vi = "Quân nhu", en = "Quartermaster supply" },
    ]

``children`` nest to any depth. Slugs are unique in a vocabulary, and so are labels once
case, diacritics and spacing are ignored, so that a label typed on input maps to one slug.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metadata.errors import ProfileError
from metadata.schemes import fold_ascii
from metadata.terms import DCMI_TYPES

LANGUAGES = ("vi", "en")
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class Concept:
    """One concept of a vocabulary."""

    slug: str
    labels: Mapping[str, str]
    parent: str | None
    children: tuple[str, ...]


class Vocabulary:
    """A named concept scheme. Iterating yields concepts depth-first in file order."""

    def __init__(self, name: str, labels: Mapping[str, str], concepts: list[Concept]) -> None:
        self.name = name
        self.labels = dict(labels)
        self._concepts = {c.slug: c for c in concepts}
        self._by_label: dict[str, str] = {}
        for concept in concepts:
            for key in {fold_ascii(concept.slug), *map(fold_ascii, concept.labels.values())}:
                other = self._by_label.setdefault(key, concept.slug)
                if other != concept.slug:
                    raise ProfileError(
                        f"vocabulary {name!r}: {concept.slug!r} and {other!r} share the label "
                        f"{key!r}"
                    )

    def __iter__(self) -> Iterator[Concept]:
        return iter(self._concepts.values())

    def __len__(self) -> int:
        return len(self._concepts)

    def __repr__(self) -> str:
        return f"<Vocabulary {self.name} ({len(self)} concepts)>"

    def contains(self, value: str) -> bool:
        """True if ``value`` is a slug of this vocabulary."""
        return value in self._concepts

    def concept(self, slug: str) -> Concept:
        """The concept for ``slug``. Raises KeyError if there is none."""
        return self._concepts[slug]

    def label(self, slug: str, lang: str = "vi") -> str:
        """The label of ``slug`` in ``lang`` ("vi" or "en"), else in the other language.

        Raises KeyError if ``slug`` is not in the vocabulary.
        """
        labels = self._concepts[slug].labels
        return labels.get(lang) or labels.get("vi") or labels.get("en") or slug

    def lookup(self, text: str) -> str | None:
        """The slug whose slug or vi/en label matches ``text`` ignoring case and diacritics."""
        if text in self._concepts:
            return text
        return self._by_label.get(fold_ascii(text))

    def ancestors(self, slug: str) -> tuple[str, ...]:
        """Slugs of the broader concepts of ``slug``, root first (empty for a top concept).

        Raises KeyError if ``slug`` is not in the vocabulary.
        """
        chain: list[str] = []
        parent = self._concepts[slug].parent
        while parent is not None:
            chain.append(parent)
            parent = self._concepts[parent].parent
        return tuple(reversed(chain))

    def options(self, lang: str = "vi") -> list[tuple[str, str, int]]:
        """(slug, label, depth) for every concept, depth-first: the choices of a form select."""
        return [(c.slug, self.label(c.slug, lang), len(self.ancestors(c.slug))) for c in self]

    def roots(self) -> list[Concept]:
        """Top concepts in file order."""
        return [c for c in self._concepts.values() if c.parent is None]


def _labels(where: str, table: Mapping[str, Any]) -> dict[str, str]:
    labels = {}
    for lang in LANGUAGES:
        label = table.get(lang)
        if not isinstance(label, str) or not label.strip():
            raise ProfileError(f"{where}: missing {lang!r} label")
        labels[lang] = label
    return labels


def load_vocabulary(name: str, path: Path) -> Vocabulary:
    """Load a vocabulary file.

    Raises:
        ProfileError: the file is missing, is not TOML, or breaks the rules above.
    """
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"vocabulary {name!r}: cannot read {path}: {exc}") from exc
    header = data.get("vocabulary")
    if not isinstance(header, dict):
        raise ProfileError(f"vocabulary {name!r}: missing [vocabulary] table in {path}")
    concepts: list[Concept] = []

    def walk(items: Any, parent: str | None, where: str) -> tuple[str, ...]:
        if not isinstance(items, list):
            raise ProfileError(f"{where}: expected a list of concepts")
        slugs = []
        for item in items:
            if not isinstance(item, dict):
                raise ProfileError(f"{where}: each concept must be a table")
            unknown = set(item) - {"slug", "vi", "en", "children"}
            if unknown:
                raise ProfileError(f"{where}: unknown keys {sorted(unknown)}")
            slug = item.get("slug")
            if not isinstance(slug, str) or not SLUG.fullmatch(slug):
                raise ProfileError(f"{where}: bad slug {slug!r} (use a-z, 0-9 and -)")
            if any(c.slug == slug for c in concepts):
                raise ProfileError(f"{where}: duplicate slug {slug!r}")
            index = len(concepts)
            concepts.append(Concept(slug, _labels(f"{where}/{slug}", item), parent, ()))
            children = walk(item.get("children", []), slug, f"{where}/{slug}")
            concepts[index] = Concept(slug, concepts[index].labels, parent, children)
            slugs.append(slug)
        return tuple(slugs)

    walk(data.get("concepts", []), None, f"vocabulary {name!r}")
    if not concepts:
        raise ProfileError(f"vocabulary {name!r}: no concepts in {path}")
    return Vocabulary(name, _labels(f"vocabulary {name!r}", header), concepts)


def load_dcmi_types(path: Path) -> Vocabulary:
    """The DCMI Type vocabulary: names from rdflib, vi/en labels from ``path``.

    ``path`` maps each class name to its labels (``[Text]`` ``vi = "Văn bản"``...).

    Raises:
        ProfileError: the file does not label exactly the 12 DCMI Type classes.
    """
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"DCMI Type labels: cannot read {path}: {exc}") from exc
    if set(data) != set(DCMI_TYPES):
        raise ProfileError(
            f"DCMI Type labels: {path} must label exactly {sorted(DCMI_TYPES)}; "
            f"got {sorted(data)}"
        )
    concepts = [Concept(name, _labels(f"DCMIType/{name}", data[name]), None, ())
                for name in DCMI_TYPES]
    return Vocabulary("DCMIType", {"vi": "Kiểu tài nguyên DCMI", "en": "DCMI Type"}, concepts)
