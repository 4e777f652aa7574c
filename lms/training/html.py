"""Rich text of page lessons: sanitised with nh3 (Ammonia) when saved, so that what is stored
is safe to show as it is."""

from __future__ import annotations

import html
import re

import nh3

MAX_HTML = 200_000
TAG = re.compile(r"<[A-Za-z!/]")
TAGS = {"p", "br", "hr", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "sub", "sup",
        "mark", "small", "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "code", "kbd",
        "a", "img", "figure", "figcaption", "table", "caption", "thead", "tbody", "tr", "th",
        "td", "abbr", "span"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
              "th": {"colspan", "rowspan", "scope"}, "td": {"colspan", "rowspan"},
              "abbr": {"title"}, "ol": {"start"}}


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    # Images come from this site only (an isolated network: an outside address would leak the
    # reader's visit, or simply not load).
    if element == "img" and attribute == "src" and not (
            value.startswith("/") and not value.startswith("//")):
        return None
    return value


def sanitize(text: str) -> str:
    """Safe HTML from what a trainer typed: HTML is cleaned; text without any tag becomes
    paragraphs (a blank line between two)."""
    text = (text or "")[:MAX_HTML]
    if not TAG.search(text):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        text = "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>"
                       for p in paragraphs)
    return nh3.clean(text, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https",
                     "mailto"}, attribute_filter=_keep_attribute,
                     link_rel="noopener noreferrer nofollow").strip()
