"""Recorded OAI-PMH providers (tests/data/harvest/<system>/) served as WSGI apps."""

from __future__ import annotations

import json
from pathlib import Path

from werkzeug.wrappers import Request, Response

DATA = Path(__file__).parent / "data" / "harvest"


def query_key(args) -> str:
    """The manifest key of a request: its decoded arguments, sorted, joined as a query."""
    return "&".join(f"{name}={value}" for name, value in sorted(args.items(multi=True)))


class Replay:
    """Answers each request with the recording its manifest names, and notes the requests.

    An unexpected request is a test failure, answered 500 with the key in the body.
    """

    def __init__(self, system: str) -> None:
        folder = DATA / system
        self.folder = folder
        self.manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        self.requests: list[str] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        key = query_key(request.args)
        self.requests.append(key)
        name = self.manifest.get(key)
        if name is None:
            response = Response(f"no recording for {key}", status=500)
        else:
            response = Response((self.folder / name).read_bytes(),
                                content_type="text/xml; charset=utf-8")
        return response(environ, start_response)
