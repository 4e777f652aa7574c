"""The documents of the discovery channels, written with :mod:`metadata.xmlwriter`: Atom 1.0
(RFC 4287), sitemaps 0.9 (sitemaps.org), OpenSearch 1.1 descriptions, and robots.txt."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from metadata import xmlwriter as xml

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Entry:
    id: str                   # the landing page URL (a permanent IRI)
    title: str
    url: str
    updated: datetime
    published: datetime | None = None
    authors: Sequence[str] = ()
    summary: str | None = None
    categories: Sequence[str] = ()
    lang: str | None = None


@dataclass(frozen=True)
class Feed:
    id: str                   # the feed's own URL
    title: str
    self_url: str
    page_url: str             # the HTML page the feed mirrors
    updated: datetime
    entries: Sequence[Entry] = field(default_factory=list)
    generator: str = "Kho học liệu số"


def atom(feed: Feed) -> str:
    """An Atom 1.0 feed document."""
    parts = [
        xml.element("id", feed.id),
        xml.element("title", feed.title),
        xml.element("updated", rfc3339(feed.updated)),
        xml.element("link", None, {"rel": "self", "type": "application/atom+xml",
                                   "href": feed.self_url}),
        xml.element("link", None, {"rel": "alternate", "type": "text/html",
                                   "href": feed.page_url}),
        xml.element("generator", feed.generator),
    ]
    for entry in feed.entries:
        inner = [
            xml.element("id", entry.id),
            xml.element("title", entry.title, {"xml:lang": entry.lang}),
            xml.element("link", None, {"rel": "alternate", "type": "text/html",
                                       "href": entry.url}),
            xml.element("updated", rfc3339(entry.updated)),
        ]
        if entry.published is not None:
            inner.append(xml.element("published", rfc3339(entry.published)))
        inner += [xml.wrap("author", xml.element("name", name)) for name in entry.authors]
        if entry.summary:
            inner.append(xml.element("summary", entry.summary, {"xml:lang": entry.lang}))
        inner += [xml.element("category", None, {"term": term}) for term in entry.categories]
        parts.append(xml.wrap("entry", "".join(inner)))
    return xml.DECLARATION + xml.wrap("feed", "\n".join(parts), xml.namespaces(
        {"": ATOM_NS})) + "\n"


def sitemap_index(pages: Iterable[tuple[str, datetime]]) -> str:
    """A sitemap index: (sitemap URL, lastmod) per page."""
    body = "".join(xml.wrap("sitemap", xml.element("loc", url)
                            + xml.element("lastmod", rfc3339(lastmod)))
                   for url, lastmod in pages)
    return xml.DECLARATION + xml.wrap("sitemapindex", body,
                                      xml.namespaces({"": SITEMAP_NS})) + "\n"


def urlset(urls: Iterable[tuple[str, datetime]]) -> str:
    """One sitemap: (URL, lastmod) per page of the site."""
    body = "\n".join(xml.wrap("url", xml.element("loc", url)
                              + xml.element("lastmod", rfc3339(lastmod)))
                     for url, lastmod in urls)
    return xml.DECLARATION + xml.wrap("urlset", body, xml.namespaces({"": SITEMAP_NS})) + "\n"


def opensearch(*, short_name: str, description: str, html_template: str, atom_template: str,
               json_template: str) -> str:
    """An OpenSearch 1.1 description document."""
    urls = [("text/html", html_template), ("application/atom+xml", atom_template),
            ("application/json", json_template)]
    parts = [
        xml.element("ShortName", short_name[:16]),
        xml.element("Description", description[:1024]),
        xml.element("InputEncoding", "UTF-8"),
        xml.element("OutputEncoding", "UTF-8"),
        xml.element("Language", "vi"),
        xml.element("Language", "en"),
        *(xml.element("Url", None, {"type": kind, "template": template})
          for kind, template in urls),
    ]
    return xml.DECLARATION + xml.wrap("OpenSearchDescription", "".join(parts),
                                      xml.namespaces({"": OPENSEARCH_NS})) + "\n"


def robots(sitemap_url: str, disallowed: Iterable[str]) -> str:
    """robots.txt: every crawler may read the records; working pages and APIs are off."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in disallowed), "Allow: /",
             "", f"Sitemap: {sitemap_url}"]
    return "\n".join(lines) + "\n"
