"""``/robots.txt``, ``/sitemap.xml`` (an index) and ``/sitemaps/<n>.xml``, Atom feeds
(``/feeds/newest.atom``, ``/collections/<slug>/feed.atom``, and ``/search?…&format=atom``
through :func:`search_feed`), and ``/opensearch.xml``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from lms.catalog.collections import get_collection
from lms.catalog.models import Record
from lms.errors import NotFound
from lms.feeds import documents, services
from lms.web import external_url
from metadata import default_profile
from metadata.crosswalks.base import displays, preferred
from metadata.crosswalks.citation import labels_in

bp = Blueprint("feeds", __name__)

ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
# Working pages, machine interfaces and endless result lists are no use to a crawler.
ROBOTS_DISALLOWED = ("/admin/", "/api/", "/oai", "/search", "/jobs/", "/login", "/logout",
                     "/deposits", "/review", "/notifications", "/records/new", "/language")


def _response(body: str, content_type: str, *, personal: bool = False) -> Response:
    response = Response(body, content_type=content_type)
    # A feed lists what its reader may see: a logged-in reader's copy is nobody else's.
    response.headers["Cache-Control"] = "private, no-store" if personal else "public, no-cache"
    response.vary.add("Cookie")
    return response


# --- crawlers ----------------------------------------------------------------------------------

@bp.get("/robots.txt")
def robots():
    return _response(documents.robots(external_url("feeds.sitemap"), ROBOTS_DISALLOWED),
                     "text/plain; charset=utf-8")


@bp.get("/sitemap.xml")
def sitemap():
    size = current_app.config["SITEMAP_PAGE_SIZE"]
    pages = [(external_url("feeds.sitemap_page", number=page.number), page.lastmod)
             for page in services.sitemap_pages(size)]
    return _response(documents.sitemap_index(pages), XML)


@bp.get("/sitemaps/<int:number>.xml")
def sitemap_page(number: int):
    urls = services.sitemap_urls(number, current_app.config["SITEMAP_PAGE_SIZE"]) \
        if number >= 1 else []
    if not urls:
        raise NotFound()
    return _response(documents.urlset(
        (external_url("catalog.show", record_id=record_id), lastmod)
        for record_id, lastmod in urls),
        XML)


@bp.get("/opensearch.xml")
def opensearch():
    return _response(documents.opensearch(
        short_name=_("HVHC library"),
        description=_("Search the digital learning repository of the Logistics Academy."),
        html_template=external_url("discovery.search_page") + "?q={searchTerms}",
        atom_template=external_url("discovery.search_page") + "?q={searchTerms}&format=atom",
        json_template=external_url("discovery.api_search") + "?q={searchTerms}",
    ), "application/opensearchdescription+xml; charset=utf-8")


# --- feeds -------------------------------------------------------------------------------------

def _entry(record: Record, lang: str) -> documents.Entry:
    version = record.latest_version
    metadata = version.dc if version is not None else record.dc
    profile = default_profile()
    title = preferred(displays(metadata, "title", profile), lang)
    summary = preferred(displays(metadata, "abstract", profile), lang) or \
        preferred(displays(metadata, "description", profile), lang)
    url = external_url("catalog.show", record_id=record.id)
    published = record.published_at
    return documents.Entry(
        id=url, title=title.text if title else record.title, url=url,
        updated=record.updated_at or published or datetime.now(UTC), published=published,
        authors=metadata.values("creator"), summary=summary.text if summary else None,
        categories=labels_in(metadata, "subject", profile, lang),
        lang=title.lang if title else None)


def _feed(title: str, self_url: str, page_url: str, records: Sequence[Record],
          lang: str) -> Response:
    entries = [_entry(record, lang) for record in records]
    updated = max((e.updated for e in entries), default=datetime.now(UTC))
    body = documents.atom(documents.Feed(id=self_url, title=title, self_url=self_url,
                                         page_url=page_url, updated=updated, entries=entries))
    return _response(body, ATOM, personal=current_user.is_authenticated)


def _lang() -> str:
    return str(get_locale() or "vi")


@bp.get("/feeds/newest.atom")
def newest():
    records = services.newest(current_user, current_app.config["FEED_SIZE"])
    return _feed(_("Newest materials"), external_url("feeds.newest"), external_url("main.index"),
                 records, _lang())


@bp.get("/collections/<slug>/feed.atom")
def collection_feed(slug: str):
    collection = get_collection(slug)
    records = services.newest(current_user, current_app.config["FEED_SIZE"], collection)
    return _feed(_("Newest in %(collection)s", collection=collection.display_title(_lang())),
                 external_url("feeds.collection_feed", slug=slug),
                 external_url("catalog.collection", slug=slug), records, _lang())


def search_feed(q: str, hit_ids: Sequence[int], args: MultiDict) -> Response:
    """The Atom feed of a page of search hits (already filtered for the reader); ``args``
    are the search's arguments without ``format``."""
    page = external_url("discovery.search_page", **args.to_dict(flat=False))
    feed = external_url("discovery.search_page", **args.to_dict(flat=False), format="atom")
    return _feed(_("Search: %(q)s", q=q) if q else _("All materials"), feed, page,
                 services.records_in_order(hit_ids), _lang())
