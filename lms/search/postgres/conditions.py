"""The query compiler's PostgreSQL hooks: our query AST becomes conditions on the ``tsvector``
columns (``tsquery`` literals of our tokens, never ``to_tsquery`` on user text), rendered as SQL
with every value a bound parameter.

A word anywhere is a lexeme of ``all_f``; a word in a named field (``title:``) is a labelled
lexeme of the small ``meta_f`` (``'xang':A``); a prefix is PostgreSQL's own (``'chun':*``); a
phrase is ``<->``. Conditions on one column are merged into one ``tsquery``, so that one GIN
lookup answers them; conditions on several columns are combined in SQL.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    Text,
    and_,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, REAL, TSQUERY

from ..compiler import QueryCompiler
from ..document import Weights
from .schema import LABELS, quote

#: Letters a word one edit away may gain or change ("did you mean"): folded words are mostly
#: ASCII; PostgreSQL has no lexicon to look words up in, so the neighbours are generated.
FUZZY_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class Cond:
    """``kind`` "ts" (``column @@ tsquery``), "and", "or", "not", "all", "none", or "fuzzy"
    (the words one edit from ``tsquery``'s word, resolved by :func:`resolve_fuzzy`)."""

    kind: str
    column: str = ""
    tsquery: str = ""
    parts: tuple[Cond, ...] = field(default=())


ALL = Cond("all")
NONE = Cond("none")


def resolve_fuzzy(cond: Cond, present: Callable[[list[str]], list[str]]) -> Cond:
    """``cond`` with each "fuzzy" part replaced by the neighbours of its word that
    ``present`` finds (in documents the searching user may see)."""
    if cond.kind == "fuzzy":
        found = present(sorted(edits(cond.tsquery)))
        return _merge("or", [Cond("ts", "all_f", quote(w)) for w in found])
    if cond.kind in ("and", "or"):
        return _merge(cond.kind, [resolve_fuzzy(p, present) for p in cond.parts])
    if cond.kind == "not":
        return Cond("not", parts=(resolve_fuzzy(cond.parts[0], present),))
    return cond


def render(cond: Cond, table: Table) -> ColumnElement[bool]:
    """``cond`` as an SQL condition on a row of ``table`` (every tsquery a bound value)."""
    if cond.kind == "ts":
        return table.c[cond.column].bool_op("@@")(tsquery(cond.tsquery))
    if cond.kind == "and":
        return and_(*(render(p, table) for p in cond.parts))
    if cond.kind == "or":
        return or_(*(render(p, table) for p in cond.parts))
    if cond.kind == "not":
        return not_(render(cond.parts[0], table))
    return true() if cond.kind == "all" else false()


def tsquery(query: str) -> ColumnElement[Any]:
    """A bound ``tsquery`` literal: its lexemes as written, never parsed into words."""
    return cast(literal(query, Text), TSQUERY)


def ts_rank(
    weights: Sequence[float], vector: ColumnElement[Any], query: str
) -> ColumnElement[float]:
    """``ts_rank`` with label weights {D, C, B, A}, divided by 1 + log(document length)."""
    return func.ts_rank(cast(literal(list(weights)), ARRAY(REAL)), vector, tsquery(query), 1)


def rank(cond: Cond, table: Table, weights: Sequence[float]) -> ColumnElement[float]:
    """A relevance for rows matching ``cond``: the sum of ``ts_rank`` of its positive parts."""
    if cond.kind == "ts":
        return ts_rank(weights, table.c[cond.column], cond.tsquery)
    if cond.kind in ("and", "or"):
        parts = [rank(p, table, weights) for p in cond.parts]
        return sum(parts[1:], parts[0])
    return literal(0.0)


def rank_weights(weights: Weights) -> list[float]:
    """``ts_rank``'s weights of the labels {D, C, B, A}, scaled into (0, 1] as it requires."""
    by_label = {"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.0}
    for name, label in LABELS.items():
        by_label[label] = max(by_label[label], max(weights.field(name), 0.0))
    top = max(by_label.values()) or 1.0
    return [max(by_label[label] / top, 1e-6) for label in "DCBA"]


def edits(word: str) -> set[str]:
    """Words one edit (delete, swap, change, insert) from ``word``, first letter kept."""
    head, tail = word[:1], word[1:]
    out: set[str] = set()
    for i in range(len(tail) + 1):
        before, after = tail[:i], tail[i:]
        if after:
            out.add(head + before + after[1:])
            if len(after) > 1:
                out.add(head + before + after[1] + after[0] + after[2:])
        for ch in FUZZY_ALPHABET:
            out.add(head + before + ch + after)
            if after:
                out.add(head + before + ch + after[1:])
    out.discard(word)
    return out


def _merge(kind: str, parts: Iterable[Cond]) -> Cond:
    """``parts`` joined by AND or OR: "all"/"none" simplified away, conditions on one column
    merged into one tsquery."""
    op = " & " if kind == "and" else " | "
    absorbing, neutral = (NONE, ALL) if kind == "and" else (ALL, NONE)
    by_column: dict[str, list[str]] = {}
    others: list[Cond] = []
    for part in parts:
        if part == absorbing:
            return absorbing
        if part == neutral:
            continue
        if part.kind == "ts":
            by_column.setdefault(part.column, []).append(part.tsquery)
        else:
            others.append(part)
    merged = [Cond("ts", col, qs[0] if len(qs) == 1 else "(" + op.join(qs) + ")")
              for col, qs in by_column.items()]
    conds = merged + others
    if not conds:
        return neutral
    return conds[0] if len(conds) == 1 else Cond(kind, parts=tuple(conds))


class Compiler(QueryCompiler[Cond]):
    """The query walk's PostgreSQL hooks."""

    @staticmethod
    def _where(field: str | None) -> tuple[str, str]:
        """(column, label suffix) of a word in ``field`` or anywhere."""
        return ("meta_f", f":{LABELS[field]}") if field else ("all_f", "")

    def term(self, field: str | None, folded: str, boost: float) -> Cond:
        column, label = self._where(field)
        return Cond("ts", column, quote(folded) + label)

    def accented_term(self, field: str | None, accented: str, boost: float) -> Cond:
        return Cond("ts", "all_a", quote(accented) + self._where(field)[1])

    def phrase(self, field: str | None, folded: list[str], boost: float) -> Cond:
        column, label = self._where(field)
        return Cond("ts", column, "(" + " <-> ".join(quote(w) + label for w in folded) + ")")

    def prefix(self, field: str | None, folded: str, boost: float) -> Cond:
        column, label = self._where(field)
        return Cond("ts", column, f"{quote(folded)}:*{label[1:]}")

    def any_of(self, queries: list[Cond]) -> Cond:
        return _merge("or", queries)

    def all_of(self, queries: list[Cond]) -> Cond:
        return _merge("and", queries)

    def exclude(self, required: Cond, excluded: list[Cond]) -> Cond:
        unwanted = _merge("or", excluded)
        if unwanted == NONE:
            return required
        if unwanted.kind == "ts" and required.kind in ("ts", "all"):
            if required.kind == "all":
                return Cond("ts", unwanted.column, f"!{unwanted.tsquery}")
            if required.column == unwanted.column:
                return Cond("ts", required.column, f"{required.tsquery} & !{unwanted.tsquery}")
        return Cond("and", parts=(required, Cond("not", parts=(unwanted,))))

    def match_all(self) -> Cond:
        return ALL

    def nothing(self) -> Cond:
        return NONE

    def fuzzy(self, folded: str) -> Cond:
        return Cond("fuzzy", tsquery=folded)
