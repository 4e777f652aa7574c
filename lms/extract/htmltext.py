"""Visible text of an HTML page, with the standard library's tolerant HTML parser."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from lms.extract.base import RawText
from lms.extract.text import bom_encoding, decode_bytes, python_codec

# <meta charset="..."> or <meta http-equiv="Content-Type" content="text/html; charset=...">,
# looked for in the first bytes only, as browsers do (WHATWG "prescan", simplified).
_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:-]+)", re.I)
_PRESCAN_BYTES = 4096

# Content that is never shown as text.
_SKIP = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg"})
_PARAGRAPH = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "table",
        "ul",
        "ol",
        "dl",
        "section",
        "article",
        "header",
        "footer",
        "hr",
        "figure",
        "title",
        "main",
        "aside",
        "nav",
    }
)
_LINE = frozenset(
    {
        "br",
        "div",
        "li",
        "tr",
        "dt",
        "dd",
        "caption",
        "address",
        "form",
        "figcaption",
        "fieldset",
        "legend",
        "details",
        "summary",
        "option",
    }
)
_CELL = frozenset({"td", "th"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities decoded for us
        self.parts: list[str] = []
        self._skipping: list[str] = []
        # Breaks asked for by block tags since the last text: "</li><li>" is one line break,
        # "</p>\n<h2>" one paragraph break, never more.
        self._pending = ""
        self._pre = 0  # inside <pre>, line breaks are content

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self._pre += 1
        if tag in _SKIP:
            self._skipping.append(tag)
        elif not self._skipping:
            self._break(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._skipping:
            self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag in _SKIP:
            # Close up to the matching open element; a stray end tag closes nothing.
            if tag in self._skipping:
                while self._skipping and self._skipping.pop() != tag:
                    pass
        elif not self._skipping:
            self._break(tag)

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if data.strip() and self._pending:
            self.parts.append(self._pending)
            self._pending = ""
        self.parts.append(data if self._pre else data.replace("\n", " "))

    def _break(self, tag: str) -> None:
        if tag in _PARAGRAPH:
            self._pending = "\n\n"
        elif tag in _LINE:
            self._pending = self._pending or "\n"
        elif tag in _CELL:
            self.parts.append("\t")


def declared_charset(data: bytes) -> str | None:
    """The Python codec named by a ``<meta>`` charset in the first bytes, if known."""
    match = _META_CHARSET.search(data[:_PRESCAN_BYTES])
    return python_codec(match.group(1).decode("ascii")) if match else None


def html_to_text(data: bytes) -> str:
    """Decode (BOM, ``<meta>`` charset, then UTF-8 and the plain-text fallbacks) and strip tags.

    :raise ExtractionError: the bytes decode to nothing plausible.
    """
    declared = None if bom_encoding(data) else declared_charset(data)
    collector = _TextCollector()
    collector.feed(decode_bytes(data, declared))
    collector.close()
    return "".join(collector.parts)


def extract_html(path: Path) -> RawText:
    return RawText(html_to_text(path.read_bytes()))


def extract_plain(path: Path) -> RawText:
    return RawText(decode_bytes(path.read_bytes()))
