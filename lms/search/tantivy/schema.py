"""The tantivy index layout: its schema and documents laid out for tantivy's whitespace
tokenizer from our analysis (field weights as value copies, codes after the words)."""

from __future__ import annotations

import json

import tantivy

from ..analysis import ChunkAnalyser, collation_key
from ..backend import StoredDoc, clean_principals, facet_keys
from ..document import NAMED_FIELDS, TEXT_FIELDS, SearchDocument, Weights

MAX_COPIES = 20
MAX_FULLTEXT_COPIES = 4


def make_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    sb.add_text_field("all_f", tokenizer_name="whitespace", index_option="position")
    sb.add_text_field("all_a", tokenizer_name="whitespace", index_option="freq")
    for name in NAMED_FIELDS:
        sb.add_text_field(f"{name}_f", tokenizer_name="whitespace", index_option="position")
        sb.add_text_field(f"{name}_a", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("principals", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("fkeys", tokenizer_name="raw", index_option="basic", fast=True)
    sb.add_text_field("title_key", tokenizer_name="raw", index_option="basic", fast=True)
    sb.add_integer_field("published", fast=True)
    sb.add_unsigned_field("downloads", fast=True)
    sb.add_bytes_field("store", stored=True)
    sb.add_bytes_field("body", stored=True)
    return sb.build()


def field_copies(weights: Weights) -> dict[str, int]:
    """How many times each field's values go into ``all_f``/``all_a``: the field weights as
    small integers relative to the lightest field (title 5, subject 3, creator 3,
    description 2, full text 1 by default). tantivy scores one field with BM25, so repeating
    a value multiplies its term frequencies before saturation, as BM25F's field weights do;
    the full text (the bulk of the index) is repeated at most :data:`MAX_FULLTEXT_COPIES`
    times."""
    ws = {name: max(weights.field(name), 0.0) for name in TEXT_FIELDS}
    unit = min((w for w in ws.values() if w > 0), default=1.0)
    copies = {name: max(1, int(w / unit + 0.5)) for name, w in ws.items()}
    copies["fulltext"] = min(copies["fulltext"], MAX_FULLTEXT_COPIES)
    for name in TEXT_FIELDS:
        copies[name] = min(copies[name], MAX_COPIES)
    return copies


#: What :func:`document_parts` returns: plain picklable values (analysis can run in a worker).
Parts = tuple[int, list[tuple[str, str]], list[str], list[str], str, int, int, bytes, bytes]


def document_parts(doc: SearchDocument, copies: dict[str, int], analyser: ChunkAnalyser) -> Parts:
    """All the Python work for one document: (id, [(field, pre-analysed text)], principals,
    facet keys, title collation key, published, downloads, stored JSON, body)."""
    texts: list[tuple[str, str]] = []
    for name in TEXT_FIELDS:
        named = name in NAMED_FIELDS
        n = copies[name]
        for value in doc.text_values(name):
            acc, fol = analyser.forms(value)
            if not fol.strip():
                continue
            for _ in range(n):  # each value separately: positions do not run across values
                texts.append(("all_f", fol))
                texts.append(("all_a", acc))
            if named:
                texts.append((f"{name}_f", fol))
                texts.append((f"{name}_a", acc))
    stored = {
        "e": doc.external_id,
        "t": [str(t) for t in doc.title],
        "s": [str(s) for s in doc.subject],
        "d": doc.digest(),  # for lms check, with the principals
        "p": clean_principals(doc.principals),
    }
    return (
        int(doc.id),
        texts,
        clean_principals(doc.principals),
        facet_keys(doc),
        collation_key(str(doc.display_title)),
        int(doc.published_timestamp),
        max(int(doc.downloads or 0), 0),
        json.dumps(stored, ensure_ascii=False).encode("utf-8"),
        doc.snippet_text.encode("utf-8"),
    )


def build_document(parts: Parts) -> tantivy.Document:
    doc_id, texts, principals, keys, title_key, published, downloads, stored, body = parts
    d = tantivy.Document()
    d.add_unsigned("id", doc_id)
    for field, text in texts:
        d.add_text(field, text)
    for p in principals:
        d.add_text("principals", p)
    for key in keys:
        d.add_text("fkeys", key)
    d.add_text("title_key", title_key)
    d.add_integer("published", published)
    d.add_unsigned("downloads", downloads)
    d.add_bytes("store", stored)
    d.add_bytes("body", body)
    return d


def stored_doc(doc_id: int, raw: bytes | None, body: bytes | None) -> StoredDoc:
    data = json.loads(raw) if raw else {}
    return StoredDoc(
        id=int(doc_id),
        external_id=data.get("e"),
        titles=list(data.get("t") or []),
        subjects=list(data.get("s") or []),
        text=body.decode("utf-8") if body else "",
    )
