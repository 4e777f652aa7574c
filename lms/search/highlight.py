"""Engine-neutral highlighting: mark query words in a title or text, HTML-escaped.

Matching is on folded forms, so the query "hau can" marks "hậu cần" in the original text.
Everything outside our ``<mark>`` tags is escaped, so a title holding ``<script>`` stays text.
Matches are located by one C-speed regex scan of the lower-cased text, each folded query word
written as character classes ("da" → "[dđ][aàá…]"), fine for texts of megabytes; only the chosen
window is escaped and marked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from html import escape

from .analysis import fold, folded_regex, normalize_text, tokenize

SNIPPET_CHARS = 240
MAX_SPANS = 5_000
_WS_RE = re.compile(r"\s+")
_BOUNDARY_BEFORE = r"(?<![^\W_])"
_BOUNDARY_AFTER = r"(?![^\W_])"


@lru_cache(maxsize=512)
def _pattern(words: frozenset[str], prefixes: tuple[str, ...]) -> re.Pattern[str] | None:
    alts = []
    if words:
        ws = "|".join(folded_regex(w) for w in sorted(words, key=len, reverse=True))
        alts.append(rf"{_BOUNDARY_BEFORE}(?:{ws}){_BOUNDARY_AFTER}")
    if prefixes:
        ps = "|".join(folded_regex(p) for p in sorted(set(prefixes), key=len, reverse=True))
        alts.append(rf"{_BOUNDARY_BEFORE}(?:{ps})[^\W_]*")
    if not alts:
        return None
    return re.compile("|".join(alts))


def find_spans(
    text: str, words: frozenset[str], prefixes: tuple[str, ...] = ()
) -> list[tuple[int, int, str]]:
    """(start, end, folded match) of query words in NFC ``text``."""
    if not text or (not words and not prefixes):
        return []
    lowered = text.lower()
    if len(lowered) != len(text):
        return _spans_by_tokens(text, words, prefixes)
    pattern = _pattern(words, prefixes)
    if pattern is None:
        return []
    spans = []
    for m in pattern.finditer(lowered):
        spans.append((m.start(), m.end(), fold(m.group())))
        if len(spans) >= MAX_SPANS:
            break
    return spans


def _spans_by_tokens(
    text: str, words: frozenset[str], prefixes: tuple[str, ...]
) -> list[tuple[int, int, str]]:
    spans = []
    for tok in tokenize(text, normalized=True):
        if tok.folded in words or any(tok.folded.startswith(p) for p in prefixes):
            if spans and tok.start < spans[-1][1]:
                continue  # a part inside an already marked code
            spans.append((tok.start, tok.end, tok.folded))
    return spans


def _render(text: str, start: int, end: int, spans: Iterable[tuple[int, int, str]]) -> str:
    out: list[str] = []
    pos = start
    for s, e, _ in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        if s > pos:
            out.append(escape(_WS_RE.sub(" ", text[pos:s])))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    if pos < end:
        out.append(escape(_WS_RE.sub(" ", text[pos:end])))
    return "".join(out)


def highlight_title(title: str, words: frozenset[str], prefixes: tuple[str, ...] = ()) -> str:
    """The whole title, escaped, with query words marked."""
    title = normalize_text(title or "")
    return _render(title, 0, len(title), find_spans(title, words, prefixes)).strip()


def _best_window(spans: list[tuple[int, int, str]], size: int) -> int:
    """Start offset of the window of ``size`` chars with the most distinct words, then most
    matches, then earliest."""
    best_start, best_key = spans[0][0], (-1, -1)
    j = 0
    counts: dict[str, int] = {}
    for i, (s, _, _) in enumerate(spans):
        while j < len(spans) and spans[j][1] <= s + size:
            counts[spans[j][2]] = counts.get(spans[j][2], 0) + 1
            j += 1
        key = (len(counts), j - i)
        if key > best_key:
            best_key, best_start = key, s
        word = spans[i][2]
        if word in counts:
            counts[word] -= 1
            if counts[word] == 0:
                del counts[word]
    return best_start


def snippet(
    text: str, words: frozenset[str], prefixes: tuple[str, ...] = (), size: int = SNIPPET_CHARS
) -> str:
    """An escaped fragment of ``text`` around the best cluster of query words."""
    if not text:
        return ""
    text = normalize_text(text)
    spans = find_spans(text, words, prefixes)
    if spans:
        first = _best_window(spans, size)
        start = max(0, first - size // 5)
    else:
        start = 0
    if start > 0:
        space = text.rfind(" ", max(0, start - 20), start)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start + size // 2, end)
        end = space if space > 0 else end
    body = _render(text, start, end, spans).strip()
    return ("… " if start > 0 else "") + body + (" …" if end < len(text) else "")
