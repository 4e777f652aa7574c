"""Reading pages as a visitor does: their links, and the interface text they show.

Used by the crawler and the listing tests. Interface text is what the application itself
writes: text inside ``<code>``, ``<script>``, ``<style>``, elements marked ``translate="no"``
(usernames, slugs: data) or in another language than the page (a record's English title)
is content, not interface, and is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]

#: Codes the application stores and must never show raw in the Vietnamese interface: roles,
#: access levels, record, task and job states (lms.display has their names).
CODE_WORDS = frozenset({
    "admin", "curator", "instructor", "trainer", "learner",
    "public", "internal", "restricted",
    "draft", "submitted", "returned", "published", "withdrawn", "purged",
    "pool", "claimed", "queued", "running", "done", "failed",
})
_WORD = re.compile(r"[A-Za-z_]+")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "source", "track", "wbr"})
_SKIPPED_TAGS = frozenset({"script", "style", "code", "pre", "template"})
SHOWN_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt")


@dataclass
class Page:
    lang: str = ""
    links: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # interface text nodes and attributes


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[tuple[str, bool, str]] = []  # (tag, skipped, lang)

    def _lang(self) -> str:
        return self.stack[-1][2] if self.stack else self.page.lang

    def _skipped(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.page.lang = values.get("lang", "")
        if tag == "a" and values.get("href"):
            self.page.links.append(values["href"])
        lang = values.get("lang") or self._lang()
        skipped = (self._skipped() or tag in _SKIPPED_TAGS or values.get("translate") == "no"
                   or (lang and self.page.lang and lang != self.page.lang))
        if not skipped:
            for name in SHOWN_ATTRIBUTES:
                if values.get(name):
                    self.page.texts.append(values[name])
        if tag not in _VOID:
            self.stack.append((tag, bool(skipped), lang))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipped() and data.strip():
            self.page.texts.append(" ".join(data.split()))


def read_page(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.page


def code_words(page: Page) -> set[str]:
    """Raw codes shown as interface text (whole words, as stored: lower case)."""
    found = set()
    for text in page.texts:
        found.update(w for w in _WORD.findall(text) if w in CODE_WORDS)
    return found


@cache
def _english_msgids() -> frozenset[str]:
    """English interface strings (without placeholders) whose Vietnamese differs or is
    missing: shown whole on a Vietnamese page, one was not translated (no translation, or
    translated once at import time instead of per request)."""
    with (ROOT / "lms/translations/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    out = set()
    for message in catalog:
        if not message.id or message.pluralizable or "%(" in message.id:
            continue
        if message.string != message.id and len(message.id) > 3:
            out.add(" ".join(message.id.split()))
    return frozenset(out)


#: English words that never occur in Vietnamese text: three of them in an all-ASCII text
#: node mean an English sentence nobody marked for translation.
_ENGLISH = frozenset({"the", "of", "and", "to", "in", "for", "with", "this", "your", "you",
                      "is", "are", "was", "be", "by", "on", "or", "an", "not", "no", "from",
                      "at", "as", "it", "that"})


def untranslated(page: Page) -> set[str]:
    msgids = _english_msgids()
    found = {t for t in page.texts if t in msgids}
    for text in page.texts:
        words = text.lower().split()
        if text.isascii() and sum(w.strip(".,:;!?()") in _ENGLISH for w in words) >= 3:
            found.add(text)
    return found


def same_site_links(page: Page, url: str) -> list[str]:
    """The page's links to this site, as paths with their query, fragments dropped."""
    out = []
    for href in page.links:
        absolute = urljoin("http://localhost" + url, href)
        parts = urlsplit(absolute)
        if parts.scheme != "http" or parts.netloc != "localhost":
            continue
        out.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out
