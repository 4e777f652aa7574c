"""The VNTC test corpus (../shared/corpus, or LMS_SHARED_DIR): test data, never content."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def corpus_dir() -> Path:
    return Path(os.environ.get("LMS_SHARED_DIR") or ROOT.parent / "shared") / "corpus"


def read_vntc(limit: int) -> Iterator[dict]:
    """The first ``limit`` articles, in shard order (any prefix mixes all ten topics)."""
    shards = sorted(corpus_dir().glob("vntc-10topics-*.jsonl.gz"))
    if not shards:
        raise SystemExit(f"VNTC corpus not found in {corpus_dir()} (set LMS_SHARED_DIR)")
    count = 0
    for shard in shards:
        with gzip.open(shard, "rt", encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)
                count += 1
                if count >= limit:
                    return
