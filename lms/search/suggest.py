"""Engine-neutral suggestion helpers. They only ever look at texts the caller passes in, and
backends pass only stored fields of documents the user may see (found with the access filter),
so a word that appears only in a restricted document is never suggested. An engine's own
lexicon, ``correct_query`` or ``suggest`` reads the whole index and must not be used.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from .analysis import folded_regex, has_marks, normalize_text, tokenize

MAX_TEXT_CHARS = 50_000  # per document, when building a vocabulary


def _phrase_pattern(folded_words: Sequence[str]) -> re.Pattern[str]:
    body = r"\s+".join(folded_regex(w) for w in folded_words)
    return re.compile(rf"(?<![^\W_]){body}(?![^\W_])")


def accented_spellings(
    folded_words: Sequence[str], texts: Iterable[str]
) -> Counter[tuple[str, ...]]:
    """How often each accented spelling of the folded word sequence occurs in ``texts``."""
    counts: Counter[tuple[str, ...]] = Counter()
    if not folded_words:
        return counts
    pattern = _phrase_pattern(folded_words)
    for text in texts:
        text = normalize_text(text[:MAX_TEXT_CHARS])
        lowered = text.lower()
        if len(lowered) != len(text):
            continue
        for m in pattern.finditer(lowered):
            toks = [t.accented for t in tokenize(text[m.start() : m.end()], normalized=True)]
            if len(toks) == len(folded_words):
                counts[tuple(toks)] += 1
    return counts


def _best(counts: Counter[tuple[str, ...]], typed: tuple[str, ...]) -> tuple[str, ...] | None:
    """The most common spelling, unless the spelling as typed is at least as common."""
    if not counts:
        return None
    best, n = min(counts.items(), key=lambda item: (-item[1], item[0]))
    if typed in counts and counts[typed] >= n:
        return typed
    return best


def restore_accents(folded_runs: Sequence[Sequence[str]], texts: Sequence[str]) -> dict[str, str]:
    """Map folded words to their most common accented spelling in ``texts``, trying each run
    of adjacent words as a phrase first ("hau can" → "hậu cần", not "hậu căn"). A word that
    occurs as typed (unaccented) at least as often as any accented spelling maps to itself."""
    mapping: dict[str, str] = {}
    for run in folded_runs:
        best = _best(accented_spellings(run, texts), tuple(run))
        if best:
            for f, a in zip(run, best, strict=True):
                mapping.setdefault(f, a)
    for run in folded_runs:
        for f in run:
            if f not in mapping:
                best = _best(accented_spellings([f], texts), (f,))
                if best:
                    mapping[f] = best[0]
    return mapping


def vocabulary(texts: Iterable[str]) -> dict[str, Counter[str]]:
    """folded word → Counter of its accented spellings in ``texts``."""
    vocab: dict[str, Counter[str]] = {}
    for text in texts:
        for tok in tokenize(text[:MAX_TEXT_CHARS]):
            if tok.compound:
                continue
            vocab.setdefault(tok.folded, Counter())[tok.accented] += 1
    return vocab


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance with adjacent transpositions, or ``limit + 1`` if above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1] if prev[-1] <= limit else limit + 1


def closest_word(folded: str, vocab: dict[str, Counter[str]]) -> str | None:
    """The most frequent vocabulary word within a small edit distance of ``folded``."""
    limit = 1 if len(folded) <= 4 else 2
    best: tuple[int, int, str] | None = None
    for word, spellings in vocab.items():
        if word == folded or abs(len(word) - len(folded)) > limit:
            continue
        if word[0] != folded[0] and word[-1:] != folded[-1:]:
            continue
        d = edit_distance(folded, word, limit)
        if d > limit:
            continue
        key = (d, -sum(spellings.values()), word)
        if best is None or key < best:
            best = key
    return best[2] if best else None


def rewrite(q: str, replacements: dict[str, str]) -> str:
    """``q`` with each word whose folded form is in ``replacements`` replaced (other text,
    operators and quotes kept)."""
    text = normalize_text(q)
    out: list[str] = []
    pos = 0
    for tok in tokenize(text, normalized=True):
        if tok.compound or tok.start < pos:
            continue
        new = replacements.get(tok.folded)
        if new is None or (has_marks(tok.accented) and tok.accented == new):
            continue
        out.append(text[pos : tok.start])
        out.append(new)
        pos = tok.end
    out.append(text[pos:])
    return "".join(out)


def completions(
    complete: Sequence[str],
    partial: str | None,
    partial_accented: str | None,
    texts_per_doc: Iterable[Sequence[str]],
    limit: int,
) -> list[str]:
    """Phrases from visible titles/subjects that start with the ``complete`` folded words
    followed by a word starting with ``partial`` (or any next word when ``partial`` is None).
    Ranked by the number of documents they occur in."""
    counts: Counter[str] = Counter()
    k = len(complete)
    for values in texts_per_doc:
        seen: set[str] = set()
        for value in values:
            toks = [t for t in tokenize(value) if not t.compound]
            for i in range(len(toks) - k):
                if any(toks[i + j].folded != complete[j] for j in range(k)):
                    continue
                nxt = toks[i + k]
                if partial is not None and not nxt.folded.startswith(partial):
                    continue
                seen.add(" ".join(t.accented for t in toks[i : i + k + 1]))
        counts.update(seen)
    accent_hint = partial_accented if partial_accented and has_marks(partial_accented) else None

    def rank(item: tuple[str, int]) -> tuple[int, int, int, str]:
        phrase, n = item
        last = phrase.rsplit(" ", 1)[-1]
        mismatch = 1 if accent_hint and not last.startswith(accent_hint) else 0
        return (mismatch, -n, len(phrase), phrase)

    return [p for p, _ in sorted(counts.items(), key=rank)[:limit]]
