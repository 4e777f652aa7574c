"""Engine-neutral ranking helpers: the adjacency (proximity) boost.

Vietnamese words are mostly two or more syllables ("hậu cần", "chứng khoán", "chuyển đổi số"),
and the query's syllables matched far apart are usually another topic. Each document carries the
set of its adjacent folded syllable pairs as sorted 32-bit hashes (:func:`pair_hashes`, computed
at index time). Backends score with BM25F first, then rescore the best :data:`RESCORE_WINDOW`
hits: ``score * (1 + phrase_weight * coverage)``, where coverage is the share of the query's
adjacent pairs the document has. Rescoring a fixed window keeps paging stable, and a membership
test on hashes costs microseconds per document (no positions, no stored text).
"""

from __future__ import annotations

import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from itertools import pairwise
from typing import TypeVar

RESCORE_WINDOW = 100
MAX_PAIRS = 8
MAX_DOC_PAIRS = 100_000


def pair_hash(a: str, b: str) -> int:
    return zlib.crc32(f"{a} {b}".encode())


def query_pairs(runs: Sequence[Sequence[str]]) -> tuple[int, ...]:
    """Hashes of the adjacent folded syllable pairs of the query's runs of plain words."""
    return tuple(dict.fromkeys(pair_hash(a, b) for a, b in query_word_pairs(runs)))


def pair_hashes(folded_values: Iterable[str]) -> bytes:
    """Sorted unique hashes of adjacent word pairs in pre-analysed folded strings (tokens
    joined by spaces; "+code" tokens and value gaps are skipped)."""
    seen: set[int] = set()
    for value in folded_values:
        prev: str | None = None
        for tok in value.split(" "):
            if not tok or tok[0] == "+":
                continue
            if not tok[0].isalnum():
                prev = None
                continue
            if prev is not None:
                seen.add(pair_hash(prev, tok))
            prev = tok
        if len(seen) >= MAX_DOC_PAIRS:
            break
    return array("I", sorted(seen)).tobytes()


def coverage(pairs: tuple[int, ...], hashes: bytes | None) -> float:
    """Share of the query ``pairs`` present in a document's :func:`pair_hashes`."""
    if not pairs or not hashes:
        return 0.0
    arr = array("I")
    arr.frombytes(hashes)
    n = len(arr)
    found = 0
    for h in pairs:
        i = bisect_left(arr, h)
        if i < n and arr[i] == h:
            found += 1
    return found / len(pairs)


def query_word_pairs(runs: Sequence[Sequence[str]]) -> list[tuple[str, str]]:
    """The adjacent folded word pairs of the query's runs of plain words (those
    :func:`query_pairs` hashes), for engines that check pairs with phrase queries."""
    pairs: list[tuple[str, str]] = []
    for run in runs:
        for a, b in pairwise(run):
            if (a, b) not in pairs:
                pairs.append((a, b))
    return pairs[:MAX_PAIRS]


K = TypeVar("K", bound=Hashable)


def rescore(
    window: Sequence[tuple[float, K]],
    bonus: Mapping[K, float],
    pair_share: Callable[[K], float] | None,
    phrase_weight: float,
) -> list[tuple[float, K]]:
    """The second ranking phase over the best hits ``(score, key)``: ``(score + bonus) * (1 +
    phrase_weight * share of the query's adjacent pairs the document has)``, best first; ties
    keep their first-phase order."""
    rescored = []
    for rank, (score, key) in enumerate(window):
        score += bonus.get(key, 0.0)
        if pair_share is not None:
            score *= 1.0 + phrase_weight * pair_share(key)
        rescored.append((score, rank, key))
    rescored.sort(key=lambda item: (-item[0], item[1]))
    return [(score, key) for score, _, key in rescored]
