"""The record metadata model: an ordered list of ``(term, value, lang, scheme)`` statements.

``term`` is a DCMI term name (``title``, ``issued``, ``audience``...), ``value`` the text,
``lang`` an optional BCP 47 tag of the value's language and ``scheme`` the optional name of
the encoding scheme or controlled vocabulary the value belongs to (``DCMIType``, ``subjects``).

The JSON shape used by JSONL imports and by :meth:`Metadata.to_dict` is::

    {"title": [{"value": "Giáo trình", "lang": "vi"}, {"value": "Textbook", "lang": "en"}],
     "audience": [{"value": "cadet-year-1", "scheme": "audiences"}]}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload


@dataclass(frozen=True, slots=True)
class Statement:
    """One metadata statement about a record."""

    term: str
    value: str
    lang: str | None = None
    scheme: str | None = None


class ShapeError(ValueError):
    """Raised by :meth:`Metadata.from_dict` when the data is not shaped like metadata."""


def _lang_matches(tag: str | None, wanted: str) -> bool:
    # "vi" matches "vi" and "vi-VN"; comparison is case-insensitive as in BCP 47.
    if tag is None:
        return False
    tag, wanted = tag.lower(), wanted.lower()
    return tag == wanted or tag.startswith(wanted + "-")


class Metadata(Sequence[Statement]):
    """An immutable, ordered list of statements with term look-up helpers."""

    __slots__ = ("_statements",)

    def __init__(self, statements: Iterable[Statement] = ()) -> None:
        self._statements: tuple[Statement, ...] = tuple(statements)

    @overload
    def __getitem__(self, index: int) -> Statement: ...
    @overload
    def __getitem__(self, index: slice) -> Metadata: ...
    def __getitem__(self, index: int | slice) -> Statement | Metadata:
        if isinstance(index, slice):
            return Metadata(self._statements[index])
        return self._statements[index]

    def __len__(self) -> int:
        return len(self._statements)

    def __iter__(self) -> Iterator[Statement]:
        return iter(self._statements)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Metadata):
            return self._statements == other._statements
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._statements)

    def __repr__(self) -> str:
        return f"Metadata({list(self._statements)!r})"

    def __add__(self, other: Iterable[Statement]) -> Metadata:
        return Metadata((*self._statements, *other))

    def terms(self) -> list[str]:
        """Distinct term names in order of first appearance."""
        return list(dict.fromkeys(s.term for s in self._statements))

    def get(self, term: str, lang: str | None = None) -> list[Statement]:
        """Statements of ``term``; with ``lang``, only those in that language (or a sub-tag)."""
        return [
            s
            for s in self._statements
            if s.term == term and (lang is None or _lang_matches(s.lang, lang))
        ]

    def values(self, term: str, lang: str | None = None) -> list[str]:
        """Values of ``term`` in statement order, optionally only those in language ``lang``."""
        return [s.value for s in self.get(term, lang)]

    def first(self, term: str, lang: str | None = None) -> str | None:
        """The preferred single value of ``term``.

        With ``lang``: the first value in that language, else the first value without a
        language, else the first value at all. Without ``lang``: the first value.
        Returns None when the term has no value.
        """
        statements = self.get(term)
        if not statements:
            return None
        if lang is not None:
            for candidates in (
                [s for s in statements if _lang_matches(s.lang, lang)],
                [s for s in statements if s.lang is None],
            ):
                if candidates:
                    return candidates[0].value
        return statements[0].value

    def to_dict(self) -> dict[str, list[dict[str, str]]]:
        """The JSON-able dict shape (keys in order of first appearance)."""
        out: dict[str, list[dict[str, str]]] = {}
        for s in self._statements:
            item = {"value": s.value}
            if s.lang is not None:
                item["lang"] = s.lang
            if s.scheme is not None:
                item["scheme"] = s.scheme
            out.setdefault(s.term, []).append(item)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Metadata:
        """Build metadata from the JSON dict shape.

        A bare string is accepted in place of ``{"value": ...}`` and in place of a one-item
        list. Term names and values are not checked here: run :func:`metadata.validate`.

        Raises:
            ShapeError: ``data`` is not a mapping of term names to lists of values.
        """
        if not isinstance(data, Mapping):
            raise ShapeError("metadata must be a JSON object / siêu dữ liệu phải là đối tượng JSON")
        statements: list[Statement] = []
        for term, items in data.items():
            if not isinstance(term, str):
                raise ShapeError(f"term name must be a string: {term!r}")
            if isinstance(items, str | Mapping):
                items = [items]
            if not isinstance(items, list):
                raise ShapeError(f"{term}: values must be a list / giá trị phải là danh sách")
            for item in items:
                statements.append(_statement_from_item(term, item))
        return cls(statements)


def _statement_from_item(term: str, item: Any) -> Statement:
    if isinstance(item, str):
        return Statement(term, item)
    if not isinstance(item, Mapping):
        raise ShapeError(f"{term}: each value must be a string or an object")
    unknown = set(item) - {"value", "lang", "scheme"}
    if unknown:
        raise ShapeError(f"{term}: unknown keys {sorted(unknown)}")
    value, lang, scheme = item.get("value"), item.get("lang"), item.get("scheme")
    if not isinstance(value, str):
        raise ShapeError(f"{term}: 'value' must be a string")
    for key, field in (("lang", lang), ("scheme", scheme)):
        if field is not None and not isinstance(field, str):
            raise ShapeError(f"{term}: '{key}' must be a string")
    return Statement(term, value, lang or None, scheme or None)
