"""The search page as a reader sees it: facet boxes with counts (the first few values, the
rest behind "show more"), hierarchical values under their parent, the active filters as
removable chips, and what to try when nothing was found. Pure presentation: labels and links
come from the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from lms.search import FacetValue
from lms.search.analysis import fold, has_marks, normalize_text, tokenize
from lms.search.document import HIERARCHICAL_FACETS

#: Sidebar order. ``decade`` stays a filter (links from the browse page) but is not shown:
#: the year box says the same.
SHOWN_FACETS = ("collection", "type", "subject", "audience", "year", "language", "format",
                "has_files")
SHOWN_VALUES = 6

Label = Callable[[str, str], str]  # (facet, value) -> display label
Toggle = Callable[[str, str], str]  # (facet, value) -> URL with the value switched


@dataclass
class FacetEntry:
    value: str
    label: str
    count: int
    active: bool
    depth: int
    url: str


@dataclass
class FacetBox:
    name: str
    entries: list[FacetEntry] = field(default_factory=list)
    more: list[FacetEntry] = field(default_factory=list)

    @property
    def active_count(self) -> int:
        return sum(e.active for e in [*self.entries, *self.more])


@dataclass
class Chip:
    facet: str
    label: str
    url: str


def _ordered(name: str, values: Sequence[FacetValue]) -> list[tuple[FacetValue, int]]:
    """Values in display order with their depth: a hierarchical value after its parent."""
    if name not in HIERARCHICAL_FACETS:
        return [(v, 0) for v in values]
    by_parent: dict[str, list[FacetValue]] = {}
    for v in values:  # already sorted by count
        parent = v.value.rsplit("/", 1)[0] if "/" in v.value else ""
        by_parent.setdefault(parent, []).append(v)
    present = {v.value for v in values}
    out: list[tuple[FacetValue, int]] = []

    def walk(parent: str, depth: int) -> None:
        for v in by_parent.get(parent, []):
            out.append((v, depth))
            walk(v.value, depth + 1)

    walk("", 0)
    # A value whose parent is not counted (cannot happen with expanded paths, but an index
    # built by an older version may lack them) is still shown, at the top level.
    for parent, orphans in by_parent.items():
        if parent and parent not in present:
            for v in orphans:
                out.append((v, 0))
    return out


def facet_boxes(facets: Mapping[str, Sequence[FacetValue]],
                active: Mapping[str, Sequence[str]], label: Label, toggle: Toggle,
                shown: int = SHOWN_VALUES) -> list[FacetBox]:
    """One box per facet that has values; active values first among the shown ones."""
    boxes = []
    for name in SHOWN_FACETS:
        values = facets.get(name) or []
        if not values:
            continue
        chosen = set(active.get(name, ()))
        entries = [FacetEntry(v.value, label(name, v.value), v.count, v.value in chosen, depth,
                              toggle(name, v.value))
                   for v, depth in _ordered(name, values)]
        if name == "has_files" and len(entries) < 2 and not chosen:
            continue  # every hit alike: nothing to choose
        if len(entries) <= shown + 1:
            boxes.append(FacetBox(name, entries))
            continue
        head = entries[:shown]
        rest = entries[shown:]
        # An active value hidden under "show more" would look unchosen: lift it up.
        lifted = [e for e in rest if e.active]
        boxes.append(FacetBox(name, head + lifted, [e for e in rest if not e.active]))
    return boxes


def by_decade(entries: Sequence[FacetEntry]) -> list[tuple[str, list[FacetEntry]]]:
    """Year entries grouped by decade, newest first ("2020–2029", [2025, 2024, ...])."""
    groups: dict[int, list[FacetEntry]] = {}
    for entry in entries:
        if entry.value.isdigit():
            groups.setdefault(int(entry.value) // 10 * 10, []).append(entry)
    return [(f"{d}–{d + 9}", sorted(groups[d], key=lambda e: e.value, reverse=True))
            for d in sorted(groups, reverse=True)]


def chips(active: Mapping[str, Sequence[str]], label: Label, toggle: Toggle) -> list[Chip]:
    return [Chip(name, label(name, value), toggle(name, value))
            for name, values in active.items() for value in values]


@dataclass
class NoResultsHelp:
    """Other queries worth a click when nothing was found."""

    unaccented: str | None = None  # the query without diacritics, if it had any
    fewer_words: list[str] = field(default_factory=list)  # the query minus one word each
    had_marks: bool = False


MAX_FEWER = 3


def no_results_help(q: str) -> NoResultsHelp:
    text = " ".join(normalize_text(q or "").split())
    words = [t for t in tokenize(text, normalized=True) if not t.compound]
    marked = any(has_marks(t.accented) for t in words)
    unaccented = fold(text) if marked else None
    fewer: list[str] = []
    if len(words) > 1:
        for skip in range(len(words) - 1, -1, -1):
            shorter = (text[:words[skip].start] + text[words[skip].end:])
            shorter = " ".join(shorter.split())
            if shorter and shorter not in fewer:
                fewer.append(shorter)
            if len(fewer) == MAX_FEWER:
                break
    return NoResultsHelp(unaccented=unaccented if unaccented != text else None,
                         fewer_words=fewer, had_marks=marked)
