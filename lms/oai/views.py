"""``/oai``: the OAI-PMH 2.0 endpoint (GET, and POST with a urlencoded body)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from lms.extensions import csrf
from lms.oai import (
    projection,  # noqa: F401  (registers the after-commit listeners)
    protocol,
)
from lms.oai.protocol import OaiError
from lms.web import external_url

bp = Blueprint("oai", __name__)


def _arguments() -> dict[str, list[str]]:
    """Every argument with all its values, so repeats can be told apart from single values."""
    if request.method == "POST":
        if request.mimetype != "application/x-www-form-urlencoded":
            raise OaiError("badArgument",
                           "A POST request must be application/x-www-form-urlencoded.")
        source = request.form
    else:
        source = request.args
    return {name: source.getlist(name) for name in source}


@bp.route("", methods=["GET", "POST"])
@csrf.exempt  # a machine protocol with no session or state change; harvesters send no token
def endpoint() -> Response:
    base_url = external_url("oai.endpoint")
    verb, values = None, {}
    try:
        verb, values = protocol.check_arguments(_arguments())
        body = _dispatch(verb, values, base_url)
        response = protocol.Response(verb, values, body)
    except OaiError as error:
        response = protocol.Response(verb, values, "", [error])
    return Response(protocol.envelope(base_url, response),
                    mimetype="text/xml", content_type="text/xml; charset=utf-8")


def _dispatch(verb: str, values: dict[str, str], base_url: str) -> str:
    if verb == "Identify":
        return protocol.identify(base_url)
    if verb == "ListMetadataFormats":
        return protocol.list_metadata_formats(values.get("identifier"))
    if verb == "ListSets":
        return protocol.list_sets(values.get("resumptionToken"),
                                  current_app.config["OAI_PAGE_SIZE"])
    if verb == "GetRecord":
        return protocol.get_record(values["identifier"], values["metadataPrefix"])
    return protocol.list_items(verb, values)
