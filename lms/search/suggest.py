"""Engine-neutral suggestion helpers. They only ever look at texts the caller passes in, and
backends pass only stored fields of documents the user may see (found with the access filter),
so a word that appears only in a restricted document is never suggested. An engine's own
lexicon, ``correct_query`` or ``suggest`` reads the whole index and must not be used.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .analysis import TOKEN_RE, folded_regex, has_marks, normalize_text, tokenize

MAX_TEXT_CHARS = 50_000  # per document, when building a vocabulary
#: Per text, when restoring the accents of a query from its hits. Titles are short and kept
#: whole; a body is cut to its first 5,000 characters, about 1,000 syllables: all of a typical
#: news article (the VNTC median is about 2,500 characters) and the lead and first paragraphs
#: of a long one, where a document found by the query uses its words. The common spelling is
#: settled by those first occurrences; scanning up to 50,000 characters of each of ten hits
#: cost milliseconds per query. On VNTC, 500 random 2-4-word title phrases got the same
#: answers as with the 50,000 cap (3,000 changed 7 of them, ambiguous syllables such as "dat").
SPELLING_TEXT_CHARS = 5_000


@dataclass(frozen=True, slots=True)
class PreparedText:
    """A text cut, normalised and lower-cased once, for any number of phrase searches."""

    text: str  # NFC, cut at a word boundary; match offsets refer to it
    lowered: str  # ``text.lower()``, the same length


def prepare_text(text: str, limit: int = MAX_TEXT_CHARS) -> PreparedText | None:
    """``text`` cut to at most ``limit`` characters, at a whitespace so that no word is cut
    into a shorter one, then normalised and lower-cased; ``None`` when lower-casing changes
    its length (a few non-Vietnamese letters), as match offsets must line up."""
    if len(text) > limit:
        cut = text[:limit]
        if not text[limit].isspace():
            parts = cut.rsplit(None, 1)  # drop the word the cut went through
            cut = parts[0] if len(parts) == 2 else cut
        text = cut
    text = normalize_text(text)
    lowered = text.lower()
    if len(lowered) != len(text):
        return None
    return PreparedText(text, lowered)


def prepare_texts(
    texts: Iterable[str | PreparedText], limit: int = MAX_TEXT_CHARS
) -> list[PreparedText]:
    """:func:`prepare_text` for each text not prepared yet (prepared ones are kept as they are);
    texts that cannot be prepared are left out."""
    out: list[PreparedText] = []
    for text in texts:
        prepared = text if isinstance(text, PreparedText) else prepare_text(text, limit)
        if prepared is not None:
            out.append(prepared)
    return out


@lru_cache(maxsize=1024)
def _phrase_pattern(folded_words: tuple[str, ...]) -> re.Pattern[str]:
    """The folded words with any marks, separated by white space, not inside a longer word.

    The "no word character before" check is a look-behind after the first character rather
    than before it: a pattern that starts with a character class lets the regex engine skip
    ahead to candidate positions, one that starts with a look-behind tests every position
    (five times slower on news text)."""
    first = folded_words[0]
    head = folded_regex(first[0])
    body = r"\s+".join((folded_regex(first[1:]), *(folded_regex(w) for w in folded_words[1:])))
    return re.compile(rf"{head}(?<![^\W_]{head}){body}(?![^\W_])")


def accented_spellings(
    folded_words: Sequence[str], texts: Iterable[str | PreparedText]
) -> Counter[tuple[str, ...]]:
    """How often each accented spelling of the folded word sequence occurs in ``texts``
    (plain texts are cut to :data:`MAX_TEXT_CHARS`; see :func:`prepare_texts`)."""
    counts: Counter[tuple[str, ...]] = Counter()
    if not folded_words or not all(folded_words):
        return counts
    pattern = _phrase_pattern(tuple(folded_words))
    found: Counter[str] = Counter()
    for prepared in prepare_texts(texts):
        text = prepared.text
        for m in pattern.finditer(prepared.lowered):
            found[text[m.start() : m.end()]] += 1
    # Tokenize each distinct match once: the same few spellings repeat all through a text.
    for match, n in found.items():
        toks = [t.accented for t in tokenize(match, normalized=True)]
        if len(toks) == len(folded_words):
            counts[tuple(toks)] += n
    return counts


def _best(counts: Counter[tuple[str, ...]], typed: tuple[str, ...]) -> tuple[str, ...] | None:
    """The most common spelling, unless the spelling as typed is at least as common."""
    if not counts:
        return None
    best, n = min(counts.items(), key=lambda item: (-item[1], item[0]))
    if typed in counts and counts[typed] >= n:
        return typed
    return best


def restore_accents(
    folded_runs: Sequence[Sequence[str]],
    texts: Sequence[str | PreparedText],
    limit: int = SPELLING_TEXT_CHARS,
) -> dict[str, str]:
    """Map folded words to their most common accented spelling in ``texts`` (each cut to
    ``limit`` characters, so titles stay whole), trying each run of adjacent words as a phrase
    first ("hau can" → "hậu cần", not "hậu căn"). A word that occurs as typed (unaccented) at
    least as often as any accented spelling maps to itself. Each text is prepared once for
    all runs, and a run whose words all have a spelling already is not searched again."""
    prepared = prepare_texts(texts, limit)
    mapping: dict[str, str] = {}
    for run in folded_runs:
        if all(f in mapping for f in run):
            continue  # nothing left to map: the search could only confirm what is known
        best = _best(accented_spellings(run, prepared), tuple(run))
        if best:
            for f, a in zip(run, best, strict=True):
                mapping.setdefault(f, a)
    tried: set[str] = set()
    for run in folded_runs:
        for f in run:
            if f not in mapping and f not in tried:
                tried.add(f)
                best = _best(accented_spellings([f], prepared), (f,))
                if best:
                    mapping[f] = best[0]
    return mapping


def vocabulary(texts: Iterable[str]) -> dict[str, Counter[str]]:
    """folded word → Counter of its accented spellings in ``texts``."""
    # Count the raw tokens first and analyse each distinct one once: a text repeats a few
    # hundred words, and building a Token for every occurrence cost 80 ms for 40 news articles.
    raw_counts: Counter[str] = Counter()
    for text in texts:
        raw_counts.update(TOKEN_RE.findall(normalize_text(text[:MAX_TEXT_CHARS])))
    vocab: dict[str, Counter[str]] = {}
    for raw, n in raw_counts.items():
        for folded, accented in _word_forms(raw):
            vocab.setdefault(folded, Counter())[accented] += n
    return vocab


@lru_cache(maxsize=65_536)
def _word_forms(raw: str) -> tuple[tuple[str, str], ...]:
    """(folded, accented) of each word of one raw token (the parts of a code, not the code)."""
    return tuple((t.folded, t.accented) for t in tokenize(raw, normalized=True) if not t.compound)


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
    """The most frequent vocabulary word within a small edit distance of ``folded``.

    A short word (a syllable of up to 4 letters) keeps its first letter: changing it makes
    another syllable altogether ("hau" is not a typo of "xau"), and a short word has many
    neighbours at distance 1. Longer words keep their first or their last letter.
    """
    limit = 1 if len(folded) <= 4 else 2
    best: tuple[int, int, str] | None = None
    for word, spellings in vocab.items():
        if word == folded or abs(len(word) - len(folded)) > limit:
            continue
        if word[0] != folded[0] and (len(folded) <= 4 or word[-1:] != folded[-1:]):
            continue
        d = edit_distance(folded, word, limit)
        if d > limit:
            continue
        key = (d, -sum(spellings.values()), word)
        if best is None or key < best:
            best = key
    return best[2] if best else None


def respell(
    words: Sequence[tuple[str, str]], texts: Sequence[str], indexed: Callable[[str], bool]
) -> dict[str, str]:
    """Replacements (folded word → new spelling) for a "did you mean" built from ``texts``
    (the visible documents near the query). ``words`` are the query's (accented, folded)
    words; ``indexed(folded)`` says whether a visible document holds that word.

    A word found in the index is never replaced: typed with accents it is kept as typed,
    typed without it may get its accents back when something else in the query is
    corrected. A word that is not in the index is replaced by the closest vocabulary word, if
    any. Every corrected word takes its most common accented spelling in ``texts``, phrases
    first.
    """
    vocab = vocabulary(texts)
    corrected: list[str] = []
    kept: set[str] = set()
    for accented, folded in words:
        if folded in vocab or indexed(folded):
            corrected.append(folded)
            if has_marks(accented):
                kept.add(folded)
        else:
            corrected.append(closest_word(folded, vocab) or folded)
    # The same window as the vocabulary, so that a corrected word also gets its accents.
    runs = [corrected, *([c] for c in corrected)]
    mapping = restore_accents(runs, texts, limit=MAX_TEXT_CHARS)
    replacements: dict[str, str] = {}
    for (_accented, folded), new_folded in zip(words, corrected, strict=True):
        if folded in kept:
            continue
        new = mapping.get(new_folded) or (new_folded if new_folded != folded else None)
        if new:
            replacements.setdefault(folded, new)
    return replacements


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
