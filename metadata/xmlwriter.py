"""The one way this code base writes XML: escaped strings, built element by element.

Every XML output (the crosswalks ``oai_dc``, ``qdc``, ``marcxml``, ``mods``, RDF/XML, the
OAI-PMH envelope and the Atom feeds and sitemaps) is written with these functions, so there
is one escaper. Why strings and not lxml's ``etree.xmlfile``: the OAI-PMH List verbs embed
metadata that the projection rendered once and stored as text; ``xmlfile`` can only add
elements or escaped text, so every stored fragment would have to be parsed again on every
page. Strings embed it as it is, and stream a page without building a tree.

Characters that XML 1.0 cannot carry at all (NUL and other C0 controls, lone surrogates,
U+FFFE/U+FFFF) become U+FFFD, so no value can make a document ill-formed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*(?::[A-Za-z_][A-Za-z0-9_.\-]*)?$")

Attributes = Mapping[str, str | None] | Iterable[tuple[str, str | None]]


def text(value: str) -> str:
    """Escape ``value`` as element content (``&``, ``<``, ``>``; CR kept as ``&#13;``)."""
    value = _INVALID.sub("\N{REPLACEMENT CHARACTER}", str(value))
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def attr(value: str) -> str:
    """Escape ``value`` for a double-quoted attribute (whitespace kept as character refs)."""
    return (text(value).replace('"', "&quot;").replace("\t", "&#9;")
            .replace("\n", "&#10;"))


def _check_name(name: str) -> str:
    # Names are always literals of this code base; a bad one is a programming error. The few
    # there are are remembered once checked (a record's renderings write hundreds of tags).
    if name in _CHECKED:
        return name
    if not _NAME.match(name):
        raise ValueError(f"not an XML name: {name!r}")
    if len(_CHECKED) < 10_000:
        _CHECKED.add(name)
    return name


_CHECKED: set[str] = set()


def attributes(pairs: Attributes = ()) -> str:
    """`` a="1" b="2"`` for the pairs whose value is not None, in the order given."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return "".join(f' {_check_name(name)}="{attr(value)}"' for name, value in items
                   if value is not None)


def start(name: str, pairs: Attributes = ()) -> str:
    """An opening tag."""
    return f"<{_check_name(name)}{attributes(pairs)}>"


def end(name: str) -> str:
    """A closing tag."""
    return f"</{_check_name(name)}>"


def element(name: str, content: str | None = None, pairs: Attributes = ()) -> str:
    """``<name a="…">content</name>`` with ``content`` escaped; ``<name/>`` when it is None."""
    if content is None:
        return f"<{_check_name(name)}{attributes(pairs)}/>"
    return f"{start(name, pairs)}{text(content)}{end(name)}"


def wrap(name: str, inner_xml: str, pairs: Attributes = ()) -> str:
    """``<name …>inner_xml</name>`` where ``inner_xml`` is already XML (written here)."""
    return f"{start(name, pairs)}{inner_xml}{end(name)}"


def namespaces(prefixes: Mapping[str, str], schema_locations: Iterable[tuple[str, str]] = ()
               ) -> list[tuple[str, str]]:
    """``xmlns:…`` pairs (prefix ``""`` is the default namespace), plus ``xsi:schemaLocation``
    when schema locations are given (``xmlns:xsi`` is then declared too)."""
    pairs = [("xmlns" if not prefix else f"xmlns:{prefix}", uri)
             for prefix, uri in prefixes.items()]
    locations = " ".join(f"{ns} {url}" for ns, url in schema_locations)
    if locations:
        if "xsi" not in prefixes:
            pairs.append(("xmlns:xsi", XSI_NS))
        pairs.append(("xsi:schemaLocation", locations))
    return pairs
