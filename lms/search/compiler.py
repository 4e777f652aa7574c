"""The query compiler every backend shares: it walks the parsed AST of :mod:`lms.search.query`
and builds an engine's own query objects through a few hooks. User text never reaches an
engine's query parser.

Every word matches on its *folded* form (the required query) and adds its *accented* form to an
optional bonus query, so that documents spelling the word as typed rank first. Prefixes and
phrases require their folded forms; a phrase's words add their accented forms to the bonus.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Generic, TypeVar

from .document import Notice, Weights
from .query import AllOf, AnyOf, MatchAll, Node, ParsedQuery, Phrase, Word

#: The most index terms a prefix (``chứng*``) is expanded to, when an engine expands it.
PREFIX_EXPANSIONS = 256

Q = TypeVar("Q")


class QueryCompiler(ABC, Generic[Q]):
    """ParsedQuery → (required query, accented-form bonus query or None).

    ``field`` arguments are a field a query may name (``title``, ``creator``, ``subject``) or
    None for every text field; ``boost`` is that field's weight (1 for every field).
    """

    def __init__(self, weights: Weights, notices: list[Notice]) -> None:
        self.weights = weights
        self.notices = notices

    # -- engine hooks -------------------------------------------------------------------------

    @abstractmethod
    def term(self, field: str | None, folded: str, boost: float) -> Q:
        """Documents holding the folded word."""

    @abstractmethod
    def accented_term(self, field: str | None, accented: str, boost: float) -> Q:
        """Documents holding the word spelled with these accents (the bonus)."""

    @abstractmethod
    def phrase(self, field: str | None, folded: list[str], boost: float) -> Q:
        """Documents holding the folded words at adjacent positions."""

    @abstractmethod
    def any_of(self, queries: list[Q]) -> Q:
        """Documents matching any of two or more queries."""

    @abstractmethod
    def all_of(self, queries: list[Q]) -> Q:
        """Documents matching all of two or more queries."""

    @abstractmethod
    def exclude(self, required: Q, excluded: list[Q]) -> Q:
        """Documents matching ``required`` and none of ``excluded``."""

    @abstractmethod
    def match_all(self) -> Q: ...

    @abstractmethod
    def fuzzy(self, folded: str) -> Q:
        """Documents holding a folded word within one edit of ``folded`` (for "did you
        mean")."""

    @abstractmethod
    def nothing(self) -> Q:
        """A query that matches no document."""

    def expand_prefix(self, field: str | None, prefix: str, limit: int) -> list[str]:
        """Up to ``limit`` folded index terms starting with ``prefix`` (for :meth:`prefix`)."""
        raise NotImplementedError

    def prefix(self, field: str | None, folded: str, boost: float) -> Q:
        """Documents holding a word starting with ``folded``: by default the prefix expanded
        to at most :data:`PREFIX_EXPANSIONS` index terms, with a notice when there were more.
        An engine that matches prefixes natively overrides this."""
        terms = self.expand_prefix(field, folded, PREFIX_EXPANSIONS + 1)
        if len(terms) > PREFIX_EXPANSIONS:
            terms = terms[:PREFIX_EXPANSIONS]
            if not any(n.code == "prefix_limited" for n in self.notices):
                self.notices.append(Notice("prefix_limited", {"max": PREFIX_EXPANSIONS}))
        return self.match_any([self.term(field, t, boost) for t in terms])

    # -- the walk -----------------------------------------------------------------------------

    def compile(self, parsed: ParsedQuery) -> tuple[Q, Q | None] | None:
        """(required, bonus), or None when nothing can match."""
        if not parsed.must:
            return None
        parts = [self._node(n) for n in parsed.must]
        required = self.match_every([p[0] for p in parts])
        if parsed.must_not:
            required = self.exclude(required, [self._node(n)[0] for n in parsed.must_not])
        bonus = [b for p in parts for b in p[1]]
        return required, (self.match_any(bonus) if bonus else None)

    def boost(self, field: str | None) -> float:
        return self.weights.field(field) if field else 1.0

    def match_any(self, queries: list[Q]) -> Q:
        """Documents matching any of ``queries`` (none: no document)."""
        if not queries:
            return self.nothing()
        return queries[0] if len(queries) == 1 else self.any_of(queries)

    def match_every(self, queries: list[Q]) -> Q:
        """Documents matching all of ``queries`` (at least one)."""
        return queries[0] if len(queries) == 1 else self.all_of(queries)

    def _word(self, word: Word) -> tuple[Q, list[Q]]:
        boost = self.boost(word.field)
        if word.prefix:
            return self.prefix(word.field, word.folded, boost), []
        bonus = self.accented_term(word.field, word.accented, boost * self.weights.accent)
        return self.term(word.field, word.folded, boost), [bonus]

    def _phrase(self, phrase: Phrase) -> tuple[Q, list[Q]]:
        if len(phrase.words) == 1:
            return self._word(phrase.words[0])
        folded = [w.folded for w in phrase.words]
        required = self.phrase(phrase.field, folded, self.boost(phrase.field))
        return required, [b for w in phrase.words for b in self._word(w)[1]]

    def _node(self, node: Node) -> tuple[Q, list[Q]]:
        if isinstance(node, Word):
            return self._word(node)
        if isinstance(node, Phrase):
            return self._phrase(node)
        if isinstance(node, MatchAll):
            return self.match_all(), []
        parts = [self._node(c) for c in node.children]
        required = [p[0] for p in parts]
        bonus = [b for p in parts for b in p[1]]
        if isinstance(node, AnyOf):
            return self.match_any(required), bonus
        if isinstance(node, AllOf):
            return self.match_every(required), bonus
        raise TypeError(node)
