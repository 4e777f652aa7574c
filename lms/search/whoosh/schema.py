"""The Whoosh index layout: its schema, the tokenizers that hand Whoosh our pre-analysed tokens
(the tokenizer bridge) and a document's field values.

Existing indexes hold a pickled schema naming ``lms.search.whoosh.PreTokenized`` and
``lms.search.whoosh.Separated``: the package re-exports both, so that those indexes still open.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from whoosh import columns, fields
from whoosh.analysis import Token, Tokenizer

from ..analysis import VALUE_GAP, collation_key, index_forms_multi
from ..backend import StoredDoc, clean_principals, facet_keys
from ..document import NAMED_FIELDS, TEXT_FIELDS, SearchDocument, Weights
from ..ranking import pair_hashes

STORE_COMPRESS_OVER = 512
LIST_SEP = "\x1d"
DV_SEP = "\x1e"
_BOOST = "\x1c"


class _Tokenizer(Tokenizer):
    """A stateless Whoosh tokenizer over words it cuts itself (:meth:`words`): all instances
    are equal (Whoosh compares schemas)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def words(self, value: str, start_pos: int) -> Iterator[tuple[str, int, float]]:
        """(word, position, weight) of each token of ``value``."""
        raise NotImplementedError

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for word, pos, boost in self.words(value, start_pos):
            t.text = word
            t.boost = boost
            t.stopped = False
            if keeporiginal:
                t.original = word
            if positions:
                t.pos = pos
            if chars:
                t.startchar = t.endchar = start_char
            yield t


class PreTokenized(_Tokenizer):
    """Splits text pre-analysed by :mod:`lms.search.analysis` on spaces. A token starting
    with "+" shares the previous token's position; ``VALUE_GAP`` skips positions; a token
    "\\x1c<weight>" sets the weight of the tokens after it (and skips positions)."""

    def words(self, value: str, start_pos: int) -> Iterator[tuple[str, int, float]]:
        pos = start_pos - 1
        boost = 1.0
        for word in value.split(" "):
            if not word:
                continue
            if word == VALUE_GAP:
                pos += 10
                continue
            if word[0] == _BOOST:
                boost = float(word[1:])
                pos += 10
                continue
            if word[0] == "+" and len(word) > 1:
                word = word[1:]
                pos = max(pos, start_pos)
            else:
                pos += 1
            yield word, pos, boost


class Separated(_Tokenizer):
    """Splits a list joined with U+001D (opaque values such as principals)."""

    def words(self, value: str, start_pos: int) -> Iterator[tuple[str, int, float]]:
        for i, word in enumerate(v for v in value.split(LIST_SEP) if v):
            yield word, start_pos + i, 1.0


def _keyword() -> fields.KEYWORD:
    kw = fields.KEYWORD(stored=False, lowercase=False, commas=False, scorable=False)
    kw.analyzer = Separated()
    return kw


def make_schema() -> fields.Schema:
    spec: dict[str, fields.FieldType] = {
        "id": fields.ID(stored=True, unique=True),
        "ext": fields.STORED(),
        "titles": fields.STORED(),
        "subjects": fields.STORED(),
        "body": fields.STORED(),
        "inventory": fields.STORED(),  # (digest, principals), for lms check
        "principals": _keyword(),
        "fkeys": _keyword(),
        "dv": fields.COLUMN(columns.VarBytesColumn()),
        "pairs": fields.COLUMN(columns.VarBytesColumn()),
        # Every text field in one field, each token weighted by its field's weight: the
        # weighted term frequencies are combined before BM25 saturation (BM25F proper).
        "all_f": fields.TEXT(analyzer=PreTokenized(), phrase=True),
        "all_a": fields.TEXT(analyzer=PreTokenized(), phrase=False),
    }
    for name in NAMED_FIELDS:
        spec[f"{name}_f"] = fields.TEXT(analyzer=PreTokenized(), phrase=True)
        spec[f"{name}_a"] = fields.TEXT(analyzer=PreTokenized(), phrase=False)
    return fields.Schema(**spec)


def document_fields(doc: SearchDocument, weights: Weights) -> dict[str, Any]:
    """The Whoosh field values of one document."""
    values: dict[str, Any] = {"id": str(int(doc.id))}
    forms = {name: index_forms_multi(doc.text_values(name)) for name in TEXT_FIELDS}
    all_a: list[str] = []
    all_f: list[str] = []
    for name in TEXT_FIELDS:
        acc, fol = forms[name]
        if not fol:
            continue
        marker = f"{_BOOST}{weights.field(name):g}"
        all_a += [marker, acc]
        all_f += [marker, fol]
        if name in NAMED_FIELDS:
            values[f"{name}_f"] = fol
            values[f"{name}_a"] = acc
    if all_f:
        values["all_f"] = " ".join(all_f)
        values["all_a"] = " ".join(all_a)
    values["pairs"] = pair_hashes(fol for _, fol in forms.values())
    principals = clean_principals(doc.principals)
    if principals:
        values["principals"] = LIST_SEP.join(principals)
    values["inventory"] = (doc.digest(), principals)
    keys = facet_keys(doc)
    values["fkeys"] = LIST_SEP.join(keys)
    dv = DV_SEP.join(
        [
            f"{doc.published_timestamp:.0f}",
            str(int(doc.downloads or 0)),
            collation_key(doc.display_title),
            LIST_SEP.join(keys),
        ]
    )
    values["dv"] = dv.encode("utf-8")
    values["ext"] = doc.external_id
    values["titles"] = [str(t) for t in doc.title]
    values["subjects"] = [str(s) for s in doc.subject]
    body = doc.snippet_text
    encoded = body.encode("utf-8")
    values["body"] = zlib.compress(encoded, 1) if len(encoded) > STORE_COMPRESS_OVER else body
    return values


def stored_doc(stored: dict[str, Any], with_text: bool = True) -> StoredDoc:
    body = stored.get("body") or ""
    if with_text and isinstance(body, bytes):
        body = zlib.decompress(body).decode("utf-8")
    return StoredDoc(
        id=int(stored["id"]),
        external_id=stored.get("ext"),
        titles=list(stored.get("titles") or []),
        subjects=list(stored.get("subjects") or []),
        text=body if with_text and isinstance(body, str) else "",
    )

