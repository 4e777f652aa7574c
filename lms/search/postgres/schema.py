"""The PostgreSQL index layout: two tables (made by the migration ``0010_search_postgres``) and a
document as a row whose ``tsvector`` columns are written as literals of our analyser's tokens.

PostgreSQL never analyses a token: a ``tsvector`` literal (``'hau':1A 'can':2A,9``) keeps each
lexeme as written, so the tokens are those of :mod:`lms.search.analysis` (accented and folded
forms, codes), as in the other engines; the ``simple`` configuration's behaviour (no stemming,
no stop words) without its parser. Weight labels mark the fields: A title, B subject, C
creator, D description and full text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    false,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR

from ..analysis import ChunkAnalyser, collation_key
from ..backend import clean_principals, facet_keys
from ..document import TEXT_FIELDS, SearchDocument

#: Changes whenever the layout of a row changes: rows of another one need a rebuild.
SCHEMA_VERSION = "pg-2"  # 2: the digest column, for lms check
#: The weight label of each text field (PostgreSQL has four: description and full text share D).
LABELS = {"title": "A", "subject": "B", "creator": "C", "description": "D", "fulltext": "D"}
#: Fields a query may name, also in the small ``meta_f`` vector (with their labels).
META_FIELDS = ("title", "subject", "creator")
#: PostgreSQL's limits: positions 1..16383 (later ones count at 16383), 256 positions per
#: lexeme, a tsvector under 1 MB.
MAX_POSITION = 16_383
MAX_POSITIONS_PER_LEXEME = 256
MAX_TSVECTOR_BYTES = 1_000_000
#: Positions skipped between the values of a field and between fields: phrases never cross.
GAP = 10

metadata = MetaData()

search_state = Table(
    "search_state",
    metadata,
    Column("id", SmallInteger, nullable=False),
    Column("live_generation", Integer, nullable=False, server_default="0"),
    Column("building_generation", Integer),
    Column("analyzer_version", Text),
    Column("schema_version", Text),
    Column("built_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("id", name="pk_search_state"),
    CheckConstraint("id = 1", name="ck_search_state_one_row"),
)

search_documents = Table(
    "search_documents",
    metadata,
    Column("generation", Integer, nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("removed", Boolean, nullable=False, server_default=false()),
    Column("principals", ARRAY(Text), nullable=False),
    Column("fkeys", ARRAY(Text), nullable=False),
    Column("all_f", TSVECTOR, nullable=False),
    Column("all_a", TSVECTOR, nullable=False),
    Column("meta_f", TSVECTOR, nullable=False),
    Column("published", Float, nullable=False),
    Column("downloads", BigInteger, nullable=False),
    Column("title_key", Text(collation="C"), nullable=False),
    Column("external_id", Text),
    Column("titles", ARRAY(Text), nullable=False),
    Column("subjects", ARRAY(Text), nullable=False),
    Column("body", Text, nullable=False),
    Column("digest", Text),  # SearchDocument.digest(), for lms check (migration 0014)
    PrimaryKeyConstraint("generation", "record_id", name="pk_search_documents"),
    Index("ix_search_documents_all_f", "all_f", postgresql_using="gin"),
    Index("ix_search_documents_meta_f", "meta_f", postgresql_using="gin"),
    Index("ix_search_documents_principals", "principals", postgresql_using="gin"),
    Index("ix_search_documents_fkeys", "fkeys", postgresql_using="gin"),
)

#: The tables this backend owns (never part of the app's models).
TABLES = (search_state.name, search_documents.name)


def quote(lexeme: str) -> str:
    """A lexeme as a quoted ``tsvector``/``tsquery`` literal: never parsed, never split."""
    if "'" in lexeme or "\\" in lexeme:
        lexeme = lexeme.replace("\\", "\\\\").replace("'", "''")
    return f"'{lexeme}'"


#: "12A": a position with its label, for every position and label (formatting each of a
#: rebuild's tens of millions of positions would be its slowest part); past the last
#: position, all are the last one.
_AT = {label: [f"{p}{label}" for p in range(MAX_POSITION + 1)] for label in ("A", "B", "C", "")}


def _add_value(
    vectors: tuple[dict[str, list[str]], ...], acc: str, fol: str, start: int, label: str
) -> int:
    """Add one value's folded (and accented, with two vectors) tokens from position
    ``start`` on; a "+code" token shares the previous token's position. The last position."""
    fol_tokens = fol.split()
    acc_tokens = acc.split()
    if len(acc_tokens) != len(fol_tokens):  # not expected: the two forms come in pairs
        acc_tokens = fol_tokens
    at = _AT[label]
    folded = vectors[0]
    accented = vectors[1] if len(vectors) > 1 else None
    pos = start
    for a, f in zip(acc_tokens, fol_tokens, strict=True):
        if f[0] == "+" and len(f) > 1:
            f, a = f[1:], a.lstrip("+") or f[1:]
            here = at[min(max(pos, start + 1), MAX_POSITION)]
        else:
            pos += 1
            here = at[min(pos, MAX_POSITION)]
        positions = folded.get(f)
        if positions is None:
            folded[f] = [here]
        else:
            positions.append(here)
        if accented is not None:
            positions = accented.get(a)
            if positions is None:
                accented[a] = [here]
            else:
                positions.append(here)
    return pos


def _literal(vector: dict[str, list[str]]) -> str:
    """The ``tsvector`` literal, within PostgreSQL's limits: 256 positions per lexeme (the
    first ones: title first), lexemes past the size limit left out."""
    if any(len(ps) > MAX_POSITIONS_PER_LEXEME for ps in vector.values()):
        vector = {lex: ps[:MAX_POSITIONS_PER_LEXEME] for lex, ps in vector.items()}
    # An upper bound (UTF-8 takes at most 4 bytes a character) first: computed in C, it
    # spares nearly every document the exact count.
    bound = 4 * sum(map(len, vector)) + 8 * len(vector) + 2 * sum(map(len, vector.values()))
    if bound > MAX_TSVECTOR_BYTES:
        kept, size = {}, 0
        for lexeme, positions in vector.items():
            size += len(lexeme.encode()) + 8 + 2 * len(positions)
            if size > MAX_TSVECTOR_BYTES:
                break
            kept[lexeme] = positions
        vector = kept
    return " ".join([f"{quote(lex)}:{','.join(ps)}" for lex, ps in vector.items()])


#: PostgreSQL text holds no NUL: the collation key's two separators (NUL, then U+0001 between
#: words) move up by one, which keeps the order (no other character below U+0003 occurs).
_NO_NUL = {0: 1, 1: 2}


def document_row(doc: SearchDocument, analyser: ChunkAnalyser) -> dict[str, Any]:
    """The ``search_documents`` values of one document (without its generation)."""
    all_f: dict[str, list[str]] = {}
    all_a: dict[str, list[str]] = {}
    meta_f: dict[str, list[str]] = {}
    pos = meta_pos = 0
    for name in TEXT_FIELDS:
        label = "" if LABELS[name] == "D" else LABELS[name]  # D is the literal's default
        for value in doc.text_values(name):
            acc, fol = analyser.forms(value)
            if not fol.strip():
                continue
            pos = _add_value((all_f, all_a), acc, fol, pos, label) + GAP
            if name in META_FIELDS:
                meta_pos = _add_value((meta_f,), acc, fol, meta_pos, label) + GAP
    return {
        "record_id": int(doc.id),
        "principals": clean_principals(doc.principals),
        "fkeys": facet_keys(doc),
        "all_f": _literal(all_f),
        "all_a": _literal(all_a),
        "meta_f": _literal(meta_f),
        "published": doc.published_timestamp,
        "downloads": max(int(doc.downloads or 0), 0),
        "title_key": collation_key(str(doc.display_title)).translate(_NO_NUL),
        "external_id": doc.external_id,
        "titles": [str(t) for t in doc.title],
        "subjects": [str(s) for s in doc.subject],
        "body": doc.snippet_text,
        "digest": doc.digest(),
    }
