"""``GET /search`` (the page) and ``GET /api/v1/search`` (JSON), on one service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from lms.catalog.collections import find_collection
from lms.catalog.display import format_name, language_name
from lms.discovery import presentation, services
from lms.errors import NotFound
from lms.feeds.views import search_feed
from lms.search import FACETS, Notice, SearchResult
from lms.search.document import MAX_PAGE_SIZE, MAX_RESULT_WINDOW, SORTS
from lms.web import no_store
from metadata import default_profile

bp = Blueprint("discovery", __name__)

FACET_LABELS = {
    "type": _l("Resource type"), "subject": _l("Subject"), "audience": _l("Audience"),
    "language": _l("Language"), "year": _l("Year"), "decade": _l("Decade"),
    "collection": _l("Collection"), "format": _l("File format"), "has_files": _l("Files"),
}
SORT_LABELS = {"relevance": _l("Relevance"), "newest": _l("Newest"), "title": _l("Title"),
               "downloads": _l("Most downloaded")}


class BadParameter(ValueError):
    pass


@dataclass(frozen=True)
class Params:
    q: str
    page: int
    size: int
    sort: str
    filters: dict[str, list[str]]


def parse_params(args: MultiDict) -> Params:
    """:raise BadParameter: a malformed page, size, sort or facet filter."""
    def integer(name: str, default: int, low: int, high: int) -> int:
        raw = args.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise BadParameter(f"'{name}' must be a whole number from {low} to {high}.")
        return int(raw)

    sort = args.get("sort", "relevance")
    if sort not in SORTS:
        raise BadParameter(f"'sort' must be one of {', '.join(SORTS)}.")
    filters: dict[str, list[str]] = {}
    for key in args:
        if key.startswith("f."):
            facet = key[2:]
            if facet not in FACETS:
                raise BadParameter(f"Unknown facet '{facet[:40]}'; known: {', '.join(FACETS)}.")
            values = [v for v in args.getlist(key) if v]
            if any(len(v) > 200 for v in values) or len(values) > 50:
                raise BadParameter(f"Too many or too long values for '{key[:40]}'.")
            if facet == "has_files" and not set(values) <= {"true", "false"}:
                raise BadParameter("'f.has_files' must be true or false.")
            filters[facet] = values
        elif key not in ("q", "page", "size", "sort"):
            raise BadParameter(f"Unknown parameter '{key[:40]}'.")
    return Params(q=args.get("q", ""), page=integer("page", 1, 1, 10_000),
                  size=integer("size", 10, 1, MAX_PAGE_SIZE), sort=sort, filters=filters)


def notice_text(notice: Notice) -> str:
    messages = {
        "or_fallback": _("No material contains all of these words; showing materials with any "
                         "of them."),
        "truncated": _("Your query was too long and was cut to %(max)s characters.",
                       max=notice.params.get("max", "")),
        "too_many_terms": _("Only the first %(max)s words of your query were used.",
                            max=notice.params.get("max", "")),
        "unknown_field": _("Some words looked like a field (such as title:) that does not "
                           "exist; they were searched as plain text."),
        "unknown_filter": _("An unknown filter was ignored."),
        "bad_filter": _("A filter value was not understood and was ignored."),
        "prefix_too_short": _("A word ending in * needs at least two letters before the *."),
        "prefix_limited": _("A word ending in * matched very many words; only the most "
                            "common were used."),
        "page_clamped": _("That page is too far; showing the last page available."),
        "no_terms": _("Your query had no words to search for."),
        "search_unavailable": _("Search is not available at the moment: its index is being "
                                "rebuilt. Please try again in a few minutes."),
        "index_rebuilding": _("The search index is being rebuilt: some materials may be "
                              "missing from the results for a few minutes."),
    }
    return messages.get(notice.code, notice.code)


def facet_value_label(facet: str, value: str, lang: str) -> str:
    if facet == "language":
        return language_name(value, lang)
    if facet == "format":
        return format_name(value)
    if facet == "collection":
        collection = find_collection(value.rsplit("/", 1)[-1])
        return collection.display_title(lang) if collection else value
    profile = default_profile()
    vocabulary = {"type": "DCMIType", "audience": "audiences"}.get(facet)
    if facet == "subject":
        vocabulary, value_slug = "subjects", value.rsplit("/", 1)[-1]
    else:
        value_slug = value
    if facet == "has_files":
        return _("With files") if value == "true" else _("Metadata only")
    if facet == "decade":
        return _("%(decade)s (decade)", decade=value)
    if vocabulary and profile.vocabulary(vocabulary).contains(value_slug):
        return profile.vocabulary(vocabulary).label(value_slug, lang)
    return value


def hit_json(hit, lang: str) -> dict[str, object]:
    return {"id": hit.id, "external_id": hit.external_id, "title": hit.title,
            "title_html": hit.title_html, "snippet_html": hit.snippet_html,
            "score": round(hit.score, 4), "url": url_for("catalog.show", record_id=hit.id)}


def result_json(result: SearchResult, lang: str) -> dict[str, object]:
    return {
        "total": result.total, "page": result.page, "size": result.size,
        "hits": [hit_json(hit, lang) for hit in result.hits],
        "facets": {name: [{"value": v.value, "count": v.count} for v in values]
                   for name, values in result.facets.items()},
        "notices": [{"code": n.code, "message": notice_text(n)} for n in result.notices],
        "suggestion": result.suggestion,
    }


@bp.get("/api/v1/search")
def api_search():
    try:
        params = parse_params(request.args)
    except BadParameter as error:
        return jsonify(error={"status": 400, "message": str(error)}), 400
    result = services.search(current_user, params.q, filters=params.filters, sort=params.sort,
                             page=params.page, size=params.size)
    response = jsonify(result_json(result, str(get_locale())))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/api/v1/openapi.json")
def openapi():
    """The API's description (docs/openapi.json), served for API clients on the intranet."""
    path = Path(current_app.root_path).parent / "docs" / "openapi.json"
    return current_app.response_class(path.read_bytes(), mimetype="application/json")


@bp.get("/api/v1/suggest")
def api_suggest():
    prefix = request.args.get("q", "")[:100]
    completions = services.autocomplete(current_user, prefix) if len(prefix) >= 2 else []
    response = jsonify(suggestions=completions)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _toggle(args: Mapping[str, list[str]], facet: str, value: str) -> dict[str, list[str]]:
    """The page's arguments with this facet value switched on or off (back to page 1)."""
    new = {k: list(v) for k, v in args.items() if k != "page"}
    key = f"f.{facet}"
    values = new.get(key, [])
    new[key] = [v for v in values if v != value] if value in values else [*values, value]
    return new


@bp.get("/search")
def search_page():
    no_store()
    lang = str(get_locale())
    args = request.args.copy()
    as_atom = args.get("format") == "atom"
    if as_atom:
        del args["format"]
    try:
        params = parse_params(args)
    except BadParameter as error:
        return render_template("discovery/search.html", error=str(error), params=None,
                               result=None, lang=lang), 400
    result = services.search(current_user, params.q, filters=params.filters, sort=params.sort,
                             page=params.page, size=params.size)
    if as_atom:
        return search_feed(params.q, [hit.id for hit in result.hits], args)
    args = request.args.to_dict(flat=False)

    def toggle(facet: str, value: str) -> str:
        return url_for("discovery.search_page", **_toggle(args, facet, value))

    def label(facet: str, value: str) -> str:
        return facet_value_label(facet, value, lang)

    return render_template(
        "discovery/search.html", params=params, result=result, lang=lang, error=None,
        notices=[notice_text(n) for n in result.notices], facet_labels=FACET_LABELS,
        sort_labels=SORT_LABELS,
        boxes=presentation.facet_boxes(result.facets, params.filters, label, toggle),
        chips=presentation.chips(params.filters, label, toggle),
        summaries=services.hit_summaries(current_user, result, lang),
        help=presentation.no_results_help(params.q) if not result.total else None,
        pages=min(max(1, -(-result.total // result.size)),
                  max(MAX_RESULT_WINDOW // result.size, 1)),
    )


BROWSE_FACETS = ("subject", "type", "audience", "year")


@bp.get("/browse/<facet>")
def browse(facet: str):
    """Browse by subject, type, audience or year: every value with how many materials the
    user may find, each a link to the search page filtered on it."""
    if facet not in BROWSE_FACETS:
        raise NotFound()
    lang = str(get_locale())
    values = services.facet_counts(current_user).get(facet, [])

    def toggle(name: str, value: str) -> str:
        return url_for("discovery.search_page", **{f"f.{name}": value})

    def label(name: str, value: str) -> str:
        return facet_value_label(name, value, lang)

    box = presentation.facet_boxes({facet: values}, {}, label, toggle, shown=len(values))
    entries = box[0].entries if box else []
    decades = presentation.by_decade(entries) if facet == "year" else []
    return render_template("discovery/browse.html", facet=facet, title=FACET_LABELS[facet],
                           entries=entries, decades=decades)
