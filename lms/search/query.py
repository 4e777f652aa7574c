"""Our own small query language, parsed into an engine-neutral AST. It never fails.

What a cadet can type::

    hậu cần                 both words (AND; falls back to OR when AND finds nothing)
    "chuyển đổi số"         a phrase
    -xăng                   exclude a word or phrase
    bóng đá OR bóng chuyền  either side of OR (OR binds tighter than the implicit AND)
    title:"hậu cần"         a field: title/tieude, creator/tacgia, subject/chude
    type:Text  year:2020  year:2020-2024   filters (loai:, nam: in Vietnamese)
    chứng*                  a prefix (at least two letters)

Anything else is plain text: ``test:x`` searches "test x", an unbalanced quote is ignored,
punctuation separates words, parentheses mean nothing. Access fields cannot be named. Queries
are cut to :data:`~lms.search.document.MAX_QUERY_CHARS` characters and
:data:`~lms.search.document.MAX_QUERY_TERMS` terms, with a notice.

Each backend compiles :class:`ParsedQuery` to its engine's query objects; user text never
reaches an engine's own parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Union

from .analysis import TOKEN_RE, fold, normalize_text, tokenize
from .document import MAX_QUERY_CHARS, MAX_QUERY_TERMS, Notice

MIN_PREFIX = 2

#: One-syllable function words ("của", "và", "các" …): in the any-word fallback they match
#: nothing and weigh nothing, or every record holding "của" would be a hit.
FUNCTION_WORDS = frozenset({
    "của", "và", "các", "những", "trong", "là", "có", "được", "cho", "với", "về", "để", "thì",
    "mà", "này", "đó", "khi", "một", "đã", "sẽ", "đang", "ở", "tại", "theo", "như", "hoặc",
    "bị", "vì", "nên", "cũng", "rất",
})
#: The same typed without marks, only where that spelling is hardly ever a content word:
#: "da" may be "đá", "dang" "đảng", "the" "thể", "thi" "thi", so those keep their weight.
_FOLDED_FUNCTION_WORDS = frozenset(
    {"cua", "va", "cac", "nhung", "trong", "duoc", "hoac", "nhu", "rat"})

#: Text fields a query may name, with their Vietnamese aliases.
TEXT_FIELDS = {
    "title": "title",
    "tieude": "title",
    "creator": "creator",
    "tacgia": "creator",
    "subject": "subject",
    "chude": "subject",
}
#: Filter fields a query may name.
FILTER_FIELDS = {"type": "type", "loai": "type", "year": "year", "nam": "year"}
SEARCH_FIELDS = ("title", "creator", "subject", "description", "fulltext")

_FIELD_RE = re.compile(r"([A-Za-z_]+):(?=[^\s:])")
_YEAR_RE = re.compile(r"^(\d{1,4})(?:\s*(?:-|–|\.\.)\s*(\d{1,4}))?$")


@dataclass(frozen=True)
class Word:
    """One analysed token. ``field`` None means every text field."""

    accented: str
    folded: str
    field: str | None = None
    prefix: bool = False
    compound: bool = False


@dataclass(frozen=True)
class Phrase:
    words: tuple[Word, ...]
    field: str | None = None


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class AllOf:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class MatchAll:
    pass


Node = Union[Word, Phrase, AnyOf, AllOf, MatchAll]  # noqa: UP007 (used at runtime)


@dataclass(frozen=True)
class ParsedQuery:
    """``must`` are ANDed, ``must_not`` excluded. ``must`` empty with ``searchable`` False
    means the text had nothing to search for (no hits); an empty text gives ``MatchAll``."""

    must: tuple[Node, ...]
    must_not: tuple[Node, ...] = ()
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude_filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notices: tuple[Notice, ...] = ()
    runs: tuple[tuple[Word, ...], ...] = ()  # adjacent plain words, for the proximity boost
    fallback: bool = False  # this is the OR fallback of an AND query

    @property
    def searchable(self) -> bool:
        return bool(self.must)

    @property
    def match_all(self) -> bool:
        return len(self.must) == 1 and isinstance(self.must[0], MatchAll)

    def positive_words(self) -> list[Word]:
        """Every word a hit may match, in query order (for highlighting and suggestions)."""
        out: list[Word] = []
        for node in self.must:
            out.extend(_words(node))
        return out

    def plain_words(self) -> list[Word]:
        """Positive unfielded words (not prefixes), in order: what "did you mean" rewrites."""
        return [w for w in self.positive_words() if not w.prefix and not w.compound]

    def or_fallback(self) -> ParsedQuery | None:
        """The same query with its top-level terms ORed, if it has two or more, without its
        function words (:data:`FUNCTION_WORDS`) unless it has nothing else."""
        positives = [n for n in self.must if not isinstance(n, MatchAll)]
        if len(positives) < 2 or self.fallback:
            return None
        content = [n for n in positives if not is_function_word(n)]
        return ParsedQuery(
            must=(AnyOf(tuple(content or positives)),),
            must_not=self.must_not,
            filters=self.filters,
            exclude_filters=self.exclude_filters,
            notices=self.notices,
            runs=self.runs,
            fallback=True,
        )


def is_function_word(node: Node) -> bool:
    """Whether ``node`` is a plain word that is a function word (see :data:`FUNCTION_WORDS`)."""
    if not isinstance(node, Word) or node.prefix or node.compound:
        return False
    if node.accented in FUNCTION_WORDS:
        return True
    return node.accented == node.folded and node.folded in _FOLDED_FUNCTION_WORDS


def _words(node: Node) -> Iterator[Word]:
    if isinstance(node, Word):
        yield node
    elif isinstance(node, Phrase):
        yield from node.words
    elif isinstance(node, AnyOf | AllOf):
        for child in node.children:
            yield from _words(child)


@dataclass
class _Item:
    node: Node | None = None
    negated: bool = False
    is_or: bool = False
    run_words: tuple[Word, ...] = ()  # plain words usable for adjacency
    filter: tuple[str, str] | None = None  # (facet, value)


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit
        self.cut = False  # some terms were dropped

    def take(self, n: int) -> None:
        self.left = max(0, self.left - n)


def _words_of(
    text: str, fieldname: str | None, budget: _Budget, prefix: bool = False
) -> list[Node]:
    """Nodes for one chunk of plain text: a Word per token; a code becomes
    ``AnyOf(code, Phrase(parts))``."""
    toks = tokenize(text)
    nodes: list[Node] = []
    i = 0
    while i < len(toks) and budget.left > 0:
        tok = toks[i]
        if tok.compound:
            parts = []
            j = i + 1
            while j < len(toks) and toks[j].start < tok.end:
                parts.append(Word(toks[j].accented, toks[j].folded, fieldname))
                j += 1
            budget.take(len(parts) or 1)
            code = Word(tok.accented, tok.folded, fieldname, compound=True)
            nodes.append(AnyOf((code, Phrase(tuple(parts), fieldname))) if parts else code)
            i = j
            continue
        budget.take(1)
        nodes.append(Word(tok.accented, tok.folded, fieldname))
        i += 1
    if i < len(toks):
        budget.cut = True
    if prefix and nodes and isinstance(nodes[-1], Word):
        last = nodes[-1]
        nodes[-1] = Word(last.accented, last.folded, fieldname, prefix=True)
    return nodes


def _year_value(value: str) -> str | None:
    m = _YEAR_RE.match(value.strip())
    if not m:
        return None
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) else None
    if hi is None:
        return str(lo)
    lo, hi = min(lo, hi), max(lo, hi)
    return f"{lo}-{hi}"


def _lex(text: str, budget: _Budget, notices: list[Notice]) -> list[_Item]:
    items: list[_Item] = []
    pos, n = 0, len(text)
    while pos < n and budget.left > 0:
        ch = text[pos]
        if ch.isspace():
            pos += 1
            continue
        negated = False
        if ch == "-":
            while pos < n and text[pos] == "-":
                pos += 1
            if pos >= n or text[pos].isspace():
                continue
            negated = True
        fieldname: str | None = None
        filter_name: str | None = None
        m = _FIELD_RE.match(text, pos)
        if m:
            name = m.group(1).lower()
            if name in TEXT_FIELDS:
                fieldname = TEXT_FIELDS[name]
                pos = m.end()
            elif name in FILTER_FIELDS:
                filter_name = FILTER_FIELDS[name]
                pos = m.end()
            else:
                notices.append(Notice("unknown_field", {"field": name[:40]}))
        quoted = False
        if text[pos] == '"':
            close = text.find('"', pos + 1)
            if close == -1:  # unbalanced quote: plain text
                pos += 1
                if pos >= n:
                    break
                chunk_end = _chunk_end(text, pos)
                chunk = text[pos:chunk_end]
            else:
                chunk = text[pos + 1 : close]
                chunk_end = close + 1
                quoted = True
        else:
            chunk_end = _chunk_end(text, pos)
            chunk = text[pos:chunk_end]
        pos = chunk_end

        if chunk == "OR" and not negated and fieldname is None and filter_name is None:
            items.append(_Item(is_or=True))
            continue
        if filter_name is not None:
            value = _year_value(chunk) if filter_name == "year" else chunk.strip()
            if value:
                items.append(_Item(filter=(filter_name, value[:200]), negated=negated))
                continue
            chunk = f"{filter_name} {chunk}"  # not a valid filter value: plain text
        items.extend(_chunk_items(chunk, fieldname, negated, quoted, budget, notices))
    if pos < n and TOKEN_RE.search(text, pos):
        budget.cut = True
    return items


def _chunk_end(text: str, pos: int) -> int:
    end = pos
    n = len(text)
    while end < n and not text[end].isspace() and text[end] != '"':
        end += 1
    return max(end, pos + 1)


def _chunk_items(
    chunk: str,
    fieldname: str | None,
    negated: bool,
    quoted: bool,
    budget: _Budget,
    notices: list[Notice],
) -> list[_Item]:
    prefix = chunk.endswith("*") and not quoted
    nodes = _words_of(chunk, fieldname, budget, prefix=prefix)
    if not nodes:
        return []
    last = nodes[-1]
    if isinstance(last, Word) and last.prefix and len(last.folded) < MIN_PREFIX:
        notices.append(Notice("prefix_too_short", {"min": MIN_PREFIX}))
        nodes[-1] = Word(last.accented, last.folded, last.field)
    if quoted and len(nodes) > 1:
        words: list[Word] = []
        for node in nodes:
            words.extend(_words(node) if not isinstance(node, AnyOf) else _first_phrase(node))
        node: Node = Phrase(tuple(words), fieldname)
        return [_Item(node=node, negated=negated)]
    run = tuple(n for n in nodes if isinstance(n, Word) and not n.prefix)
    if len(nodes) == 1:
        return [_Item(node=nodes[0], negated=negated, run_words=run)]
    return [_Item(node=AllOf(tuple(nodes)), negated=negated, run_words=run)]


def _first_phrase(node: AnyOf) -> Iterator[Word]:
    for child in node.children:
        if isinstance(child, Phrase):
            yield from child.words
            return
    yield from _words(node)


def parse(
    q: str, *, max_chars: int = MAX_QUERY_CHARS, max_terms: int = MAX_QUERY_TERMS
) -> ParsedQuery:
    """Parse user text; never raises for any string."""
    notices: list[Notice] = []
    q = q or ""
    if len(q) > max_chars:
        q = q[:max_chars]
        notices.append(Notice("truncated", {"max": max_chars}))
    q = normalize_text(q).replace("\u201c", '"').replace("\u201d", '"')
    if not q.strip():
        return ParsedQuery(must=(MatchAll(),), notices=tuple(notices))
    budget = _Budget(max_terms)
    items = _lex(q, budget, notices)
    if budget.cut:
        notices.append(Notice("too_many_terms", {"max": max_terms}))

    must: list[Node] = []
    must_not: list[Node] = []
    filters: dict[str, list[str]] = {}
    exclude_filters: dict[str, list[str]] = {}
    runs: list[tuple[Word, ...]] = []
    run: list[Word] = []

    def end_run() -> None:
        if len(run) >= 2:
            runs.append(tuple(run))
        run.clear()

    i = 0
    pending_or = False
    while i < len(items):
        item = items[i]
        i += 1
        if item.is_or:
            pending_or = bool(must)
            end_run()
            continue
        if item.filter is not None:
            target = exclude_filters if item.negated else filters
            facet, value = item.filter
            if value not in target.setdefault(facet, []):
                target[facet].append(value)
            end_run()
            continue
        if item.node is None:
            continue
        if item.negated:
            must_not.append(item.node)
            end_run()
            continue
        if pending_or:
            pending_or = False
            prev = must.pop()
            children = (*prev.children, item.node) if isinstance(prev, AnyOf) else (prev, item.node)
            must.append(AnyOf(children))
            end_run()
            continue
        must.append(item.node)
        if item.run_words and (not run or run[-1].field == item.run_words[0].field):
            run.extend(item.run_words)
        else:
            end_run()
            run.extend(item.run_words)
    end_run()

    if not must and (must_not or filters or exclude_filters):
        must.append(MatchAll())
    if not must:
        notices.append(Notice("no_terms", {}))
    return ParsedQuery(
        must=tuple(must),
        must_not=tuple(must_not),
        filters={k: tuple(v) for k, v in filters.items()},
        exclude_filters={k: tuple(v) for k, v in exclude_filters.items()},
        notices=tuple(_dedupe(notices)),
        runs=tuple(runs),
    )


def _dedupe(notices: list[Notice]) -> list[Notice]:
    seen: set[tuple[str, str]] = set()
    out = []
    for n in notices:
        key = (n.code, repr(sorted(n.params.items())))
        if key not in seen:
            seen.add(key)
            out.append(n)
    return out


def highlight_terms(parsed: ParsedQuery) -> tuple[frozenset[str], tuple[str, ...]]:
    """(folded whole words, folded prefixes) that hits should show marked."""
    words: set[str] = set()
    prefixes: list[str] = []
    for w in parsed.positive_words():
        if w.prefix:
            prefixes.append(w.folded)
        else:
            words.add(w.folded)
    return frozenset(words), tuple(prefixes)


def fold_query(text: str) -> str:
    """The folded form of a whole query text, for comparing suggestions with input."""
    return " ".join(fold(t.accented) for t in tokenize(text) if not t.compound)
