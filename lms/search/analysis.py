"""Vietnamese text analysis, done once here so every search backend sees the same tokens.

Pipeline per text: NFC; ``Ð`` (U+00D0, Latin ETH, a common typo) read as ``Đ``; tokens on
Unicode word boundaries (one-letter syllables such as "ở", "ý" are kept); per token: lower case,
one canonical tone placement, stray combining marks dropped. Each token has two forms:

* **accented**: the canonical token, e.g. "hòa", "thủy", "khỏe" (old-style "hoà", "thuỷ",
  "khoẻ" map to these: the tone goes on the first vowel of an open oa/oe/uy syllable);
* **folded**: all marks removed and đ → d, e.g. "hoa", "thuy", "khoe".

Codes such as "4325/KH-BQP", "COVID-19" or "1.500" are kept as one token (a *compound*) plus
their parts; "H5N1" and "PMU18" are single word tokens already. There is no stemmer and no stop
list: Vietnamese syllables are not inflected and short syllables carry meaning.

Change :data:`ANALYZER_VERSION` whenever the output of this module changes for any input: an
index built with another version reports ``needs_rebuild``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import filterfalse
from operator import itemgetter

ANALYZER_VERSION = "vi-2024.1"

#: Combining diacritical marks (U+0300..U+036F) plus the rarer supplement blocks.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_WORD = rf"(?:[^\W_]|[{_MARKS}])+"
#: A word, or a code: words joined by "/", "-" or "." with no space ("4325/KH-BQP").
TOKEN_RE = re.compile(rf"{_WORD}(?:[/.\-]{_WORD})*")
_JOINERS = frozenset("/.-")
_STRAY_MARKS_RE = re.compile(rf"[{_MARKS}]")

_TONE_MARKS = {
    "\u0300": 1,  # huyền (grave)
    "\u0309": 2,  # hỏi (hook above)
    "\u0303": 3,  # ngã (tilde)
    "\u0301": 4,  # sắc (acute)
    "\u0323": 5,  # nặng (dot below)
}
_VOWELS = frozenset("aăâeêioôơuưy")

#: A folding table that keeps string length (1:1), for locating matches in original text.
_FOLD_TABLE: dict[int, str] = {}


def _build_fold_table() -> None:
    ranges = [(0x00C0, 0x0250), (0x1E00, 0x1F00)]
    for lo, hi in ranges:
        for cp in range(lo, hi):
            ch = chr(cp)
            base = unicodedata.normalize("NFD", ch)[0]
            if base != ch and base.isascii() and base.isalpha():
                _FOLD_TABLE[cp] = base
    for ch, base in {"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"}.items():
        _FOLD_TABLE[ord(ch)] = base


_build_fold_table()


def normalize_text(text: str) -> str:
    """NFC with ``Ð`` (U+00D0) read as ``Đ``. Keeps the text displayable; offsets of
    :func:`tokenize` refer to this string."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if "Ð" in text or "ð" in text:
        text = text.replace("Ð", "Đ").replace("ð", "đ")
    return text


def _canonical_tone(token: str) -> str:
    """Move the tone of an open oa/oe/uy syllable onto its first vowel ("hoà" → "hòa")."""
    decomposed = unicodedata.normalize("NFD", token)
    tones = [(i, c) for i, c in enumerate(decomposed) if c in _TONE_MARKS]
    if len(tones) != 1:
        return token
    pos, tone = tones[0]
    base = decomposed[:pos] + decomposed[pos + 1 :]
    pair = base[-2:]
    if pair not in ("oa", "oe", "uy"):
        return token
    before = base[:-2]
    if before and (before[-1] in _VOWELS or unicodedata.combining(before[-1])):
        return token  # part of a longer vowel cluster ("ươa" does not exist, but be safe)
    if pair == "uy" and before.endswith("q"):
        return token  # "quý": u belongs to the consonant qu
    canonical = before + pair[0] + tone + pair[1]
    return unicodedata.normalize("NFC", canonical)


#: Bound of the per-word caches below: the words that recur (Zipf) stay, while a long import's
#: new words do not pile up (an entry costs about 200 bytes). Whole texts are analysed through
#: :class:`ChunkAnalyser`'s larger caches first, so a bigger bound saved no measurable time.
WORD_CACHE = 16_384


@lru_cache(maxsize=WORD_CACHE)
def accent_form(raw: str) -> str:
    """The accented (canonical) form of one raw word token."""
    token = raw.lower()
    if "ð" in token:
        token = token.replace("ð", "đ")
    if _STRAY_MARKS_RE.search(token):
        token = unicodedata.normalize("NFC", token)
        token = _STRAY_MARKS_RE.sub("", unicodedata.normalize("NFC", _canonical_tone(token)))
        return token
    if token.isascii():
        return token
    return _canonical_tone(token)


@lru_cache(maxsize=WORD_CACHE)
def fold(text: str) -> str:
    """All marks removed, đ → d, lower case: "Đà Nẵng" → "da nang"."""
    text = text.lower().replace("đ", "d").replace("ð", "d")
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_aligned(text: str) -> str | None:
    """Lower-case folded copy of NFC ``text`` with the same length (offsets line up), or
    ``None`` when lower-casing changes the length (a few non-Vietnamese letters)."""
    lowered = text.lower()
    if len(lowered) != len(text):
        return None
    return lowered.translate(_FOLD_TABLE)


def _build_classes() -> dict[str, str]:
    variants: dict[str, set[str]] = {}
    for cp, base in _FOLD_TABLE.items():
        ch = chr(cp)
        if ch == ch.lower():
            variants.setdefault(base.lower(), {base.lower()}).add(ch)
    return {b: "[" + "".join(sorted(v)) + "]" for b, v in variants.items()}


_FOLD_CLASSES = _build_classes()


@lru_cache(maxsize=4096)
def folded_regex(folded: str) -> str:
    """A regex source matching ``folded`` with any marks, in lower-cased NFC text:
    "da" → "[dđ][aàáảãạăằắẳẵặâầấẩẫậ]". Lets C-speed regex search find folded matches in
    the original text without building a folded copy."""
    return "".join(_FOLD_CLASSES.get(c) or re.escape(c) for c in folded)


def has_marks(token: str) -> bool:
    """Whether an accented token differs from its folded form."""
    return fold(token) != token


@dataclass(frozen=True, slots=True)
class Token:
    """One token with offsets into :func:`normalize_text` output."""

    accented: str
    folded: str
    start: int
    end: int
    compound: bool = False  # a whole code such as "4325/kh-bqp"; its parts follow it


def _word_parts(raw: str) -> list[tuple[str, int]]:
    """Split a raw code into (word, offset) parts at the joiners."""
    parts = []
    start = 0
    for i, ch in enumerate(raw):
        if ch in _JOINERS:
            if i > start:
                parts.append((raw[start:i], start))
            start = i + 1
    if start < len(raw):
        parts.append((raw[start:], start))
    return parts


def tokenize(text: str, *, normalized: bool = False) -> list[Token]:
    """Tokens of ``text`` (normalised first unless ``normalized``), with offsets."""
    if not normalized:
        text = normalize_text(text)
    out: list[Token] = []
    for m in TOKEN_RE.finditer(text):
        raw = m.group()
        start = m.start()
        if any(j in raw for j in _JOINERS):
            parts = _word_parts(raw)
            if len(parts) > 1:
                acc = "".join(accent_form(w) if w not in _JOINERS else w for w in _split_keep(raw))
                if acc:
                    out.append(Token(acc, fold(acc), start, m.end(), compound=True))
                for word, off in parts:
                    a = accent_form(word)
                    if a:
                        out.append(Token(a, fold(a), start + off, start + off + len(word)))
                continue
        a = accent_form(raw)
        if a:
            out.append(Token(a, fold(a), start, m.end()))
    return out


def _split_keep(raw: str) -> list[str]:
    return re.split(r"([/.\-])", raw)


@lru_cache(maxsize=WORD_CACHE)
def _index_forms(raw: str) -> tuple[str, str]:
    """(accented, folded) index strings of one raw token; a code becomes
    "part +code part part" ("+": same position as the previous token)."""
    if any(j in raw for j in _JOINERS):
        parts = [w for w, _ in _word_parts(raw)]
        if len(parts) > 1:
            acc_parts = [accent_form(w) for w in parts]
            acc_code = "".join(accent_form(w) if w not in _JOINERS else w for w in _split_keep(raw))
            acc = [acc_parts[0], "+" + acc_code, *acc_parts[1:]]
            fol = [fold(acc_parts[0]), "+" + fold(acc_code), *(fold(p) for p in acc_parts[1:])]
            acc_s = " ".join(x for x in acc if x.strip("+"))
            return acc_s, " ".join(x for x in fol if x.strip("+"))
    a = accent_form(raw)
    return a, fold(a)


#: Marks a gap between the values of a multi-valued field, so phrases do not cross values.
VALUE_GAP = "\x1d"


def index_forms(text: str) -> tuple[str, str]:
    """Pre-analysed (accented, folded) strings of ``text``: space-joined tokens, for an
    engine's plain whitespace tokenizer. A token starting with "+" shares the previous
    token's position (the whole code after its first part)."""
    if not text:
        return "", ""
    text = normalize_text(text)
    if text.isalnum():  # one word, the common case for a word or chunk (str.isalnum is \w - _)
        return _index_forms(text)
    acc: list[str] = []
    fol: list[str] = []
    for raw in TOKEN_RE.findall(text):
        a, f = _index_forms(raw)
        if a:
            acc.append(a)
            fol.append(f)
    return " ".join(acc), " ".join(fol)


def index_forms_multi(values: list[str] | tuple[str, ...]) -> tuple[str, str]:
    """:func:`index_forms` for a multi-valued field, with a position gap between values."""
    accs, fols = [], []
    for v in values:
        a, f = index_forms(v)
        if a:
            accs.append(a)
            fols.append(f)
    sep = f" {VALUE_GAP} "
    return sep.join(accs), sep.join(fols)


# --- Vietnamese collation --------------------------------------------------------------------

_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_PRIMARY = {ch: chr(0xE000 + i) for i, ch in enumerate(_ALPHABET)}
_QUALITY = {"\u0306": "breve", "\u0302": "circumflex", "\u031b": "horn"}


@lru_cache(maxsize=65_536)
def _collate_char(ch: str) -> tuple[str, str]:
    decomposed = unicodedata.normalize("NFD", ch)
    base = decomposed[0]
    tone = 0
    letter = base
    for mark in decomposed[1:]:
        if mark in _TONE_MARKS:
            tone = _TONE_MARKS[mark]
        elif mark in _QUALITY:
            letter = unicodedata.normalize("NFC", letter + mark)
    if base == "đ":
        letter = "đ"
    primary = _PRIMARY.get(letter)
    if primary is None:
        primary = _PRIMARY.get(base, ch)
    return primary, str(tone)


@lru_cache(maxsize=65_536)
def _collate_word(word: str) -> tuple[str, str]:
    keys = [_collate_char(ch) for ch in word]
    return "".join(p for p, _ in keys), "".join(s for _, s in keys)


def collation_key(text: str) -> str:
    """A sort key for Vietnamese titles: a < ă < â < b < c < d < đ < e < ê …, word by word;
    tone marks (none, huyền, hỏi, ngã, sắc, nặng) break ties only (secondary level)."""
    keys = [_collate_word(accent_form(w)) for w in TOKEN_RE.findall(normalize_text(text))]
    return "\x01".join(p for p, _ in keys) + "\x00" + "".join(s for _, s in keys)


# --- fast analysis of whole texts for whitespace tokenizers ----------------------------------


class ChunkAnalyser:
    """:func:`index_forms` of whole texts, fast, for an engine that only splits on spaces.

    A text is split at whitespace (in C) and each chunk ("đá,", "(4325/KH-BQP).") is looked up
    in dictionaries at C level (``itemgetter``), which makes indexing about three times as fast
    as analysing token by token. Tokens never contain whitespace, so a text's tokens are its
    chunks' tokens in order. A chunk without tokens leaves two spaces in a row, which a
    whitespace tokenizer skips without a position gap.

    With ``codes_last``, a code's whole token ("4325/kh-bqp") is moved after the text's words
    instead of following its first part with a "+" (for engines that cannot put two tokens
    at one position): the code's parts stay adjacent. One instance per backend: its caches
    hold up to ``max_chunks`` chunks and are cleared when full. Live writes (an import's
    batches, a record's edit) keep ``max_chunks`` small, so that a long import's memory stays
    flat (a chunk costs about 300 bytes); a rebuild raises the bound to ``rebuild_chunks``
    (80,712 news articles have about 430,000 chunks) while it runs (:meth:`rebuilding`).
    """

    def __init__(self, *, codes_last: bool, max_chunks: int = 50_000,
                 rebuild_chunks: int = 600_000) -> None:
        self.codes_last = codes_last
        self.max_chunks = max_chunks
        self.rebuild_chunks = rebuild_chunks
        self._acc: dict[str, str] = {}
        self._fol: dict[str, str] = {}
        self._codes: dict[str, str] = {}
        self.clear()

    def clear(self) -> None:
        self._acc.clear()
        self._fol.clear()
        self._codes.clear()
        self._acc[""] = self._fol[""] = ""

    @contextmanager
    def rebuilding(self) -> Iterator[None]:
        """The larger bound for the block (a rebuild analyses every record once, and each
        chunk already known saves its analysis); the caches are emptied after it."""
        live = self.max_chunks
        self.max_chunks = max(live, self.rebuild_chunks)
        try:
            yield
        finally:
            self.max_chunks = live
            self.clear()

    def _chunk_forms(self, chunk: str) -> tuple[str, str, str]:
        """(accented tokens, folded tokens, folded whole codes moved out) of one chunk."""
        acc, fol = index_forms(chunk) if chunk else ("", "")
        if not self.codes_last or "+" not in fol:
            return acc, fol, ""
        tokens = fol.split(" ")
        codes = " ".join(t[1:] for t in tokens if t[:1] == "+" and len(t) > 1)
        fol = " ".join(t for t in tokens if t and t[0] != "+")
        acc = " ".join(t.lstrip("+") for t in acc.split(" ") if t.strip("+"))
        return acc, fol, codes

    def _learn(self, chunks: set[str]) -> None:
        if len(self._acc) + len(chunks) > self.max_chunks:
            self.clear()
        for chunk in chunks:
            self._acc[chunk], self._fol[chunk], codes = self._chunk_forms(chunk)
            if codes:
                self._codes[chunk] = codes

    def forms(self, text: str) -> tuple[str, str]:
        """(accented, folded) space-joined tokens of ``text``."""
        if not text:
            return "", ""
        chunks = normalize_text(text).split()
        if not chunks:
            return "", ""
        if len(chunks) == 1:
            chunks.append("")  # itemgetter of one key returns the value, not a tuple
        get = itemgetter(*chunks)
        try:
            accs, fols = get(self._acc), get(self._fol)
        except KeyError:
            self._learn(set(filterfalse(self._fol.__contains__, chunks)))
            try:
                accs, fols = get(self._acc), get(self._fol)
            except KeyError:  # the caches were cleared meanwhile (this or another thread)
                forms = [self._chunk_forms(c) for c in chunks]
                codes = [f[2] for f in forms if f[2]]
                fol = " ".join(f[1] for f in forms)
                return " ".join(f[0] for f in forms), f"{fol} {' '.join(codes)}" if codes else fol
        acc, fol = " ".join(accs), " ".join(fols)
        if self._codes and not self._codes.keys().isdisjoint(chunks):
            codes = map(self._codes.__getitem__, filter(self._codes.__contains__, chunks))
            fol = f"{fol} {' '.join(codes)}"
        return acc, fol
