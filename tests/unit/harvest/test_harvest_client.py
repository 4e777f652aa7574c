"""The harvester's HTTP client against a hostile provider on loopback: it fetches only the
registered host, within size and time limits, and parses no DTD or entity."""

from __future__ import annotations

import time

import pytest
from werkzeug.wrappers import Request, Response

from lms.harvest.client import (
    BadResumptionToken,
    HarvestError,
    Limits,
    OaiClient,
    check_base_url,
    format_from,
)
from tests.servers import serving

OK = (b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
      b"<responseDate>2024-01-01T00:00:00Z</responseDate><request>x</request>"
      b"<Identify><granularity>YYYY-MM-DD</granularity></Identify></OAI-PMH>")
XXE = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">&x;</OAI-PMH>')
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
          b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">&lol3;</OAI-PMH>')
OAI_ERROR = (b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>'
             b'2024-01-01T00:00:00Z</responseDate><request>x</request>'
             b'<error code="%s">no</error></OAI-PMH>')


def provider(environ, start_response):
    request = Request(environ)
    path = request.path
    if path == "/ok":
        response = Response(OK, content_type="text/xml")
    elif path == "/redirect-same":
        response = Response(status=302, headers={"Location": "/ok"})
    elif path == "/redirect-away":
        port = request.host.split(":")[1]
        response = Response(status=302, headers={"Location": f"http://localhost:{port}/ok"})
    elif path == "/redirect-scheme":
        response = Response(status=301, headers={"Location": "file:///etc/passwd"})
    elif path == "/loop":
        response = Response(status=307, headers={"Location": "/loop"})
    elif path == "/big":
        response = Response(b"<x>" + b"a" * 5000 + b"</x>", content_type="text/xml")
    elif path == "/big-chunked":
        def body():
            for _ in range(10):
                yield b"a" * 1000
        response = Response(body(), content_type="text/xml")
    elif path == "/slow":
        def body():
            for _ in range(20):
                time.sleep(0.2)
                yield b" "
        response = Response(body(), content_type="text/xml")
    elif path == "/xxe":
        response = Response(XXE, content_type="text/xml")
    elif path == "/laughs":
        response = Response(LAUGHS, content_type="text/xml")
    elif path == "/html":
        response = Response(b"<html><body>hello</body></html>", content_type="text/html")
    elif path == "/broken":
        response = Response(b"<OAI-PMH", content_type="text/xml")
    elif path == "/oai-error":
        response = Response(OAI_ERROR % request.args["code"].encode(), content_type="text/xml")
    else:
        response = Response(b"", status=503)
    return response(environ, start_response)


@pytest.fixture(scope="module")
def base():
    with serving(provider) as url:
        yield url


def client(url: str, **limits) -> OaiClient:
    return OaiClient(url, Limits(**{"timeout_seconds": 1.0, "max_bytes": 2000, **limits}),
                     "test")


def test_a_plain_answer_is_parsed(base):
    root = client(f"{base}/ok").request(verb="Identify")
    assert root.tag == "{http://www.openarchives.org/OAI/2.0/}OAI-PMH"


def test_a_redirect_on_the_same_host_is_followed(base):
    assert client(f"{base}/redirect-same").request(verb="Identify") is not None


@pytest.mark.parametrize(("path", "message"), [
    ("/redirect-away", "a redirect to another host was refused"),
    ("/redirect-scheme", "a redirect to another host was refused"),
    ("/loop", "too many redirects"),
    ("/big", "the response is larger than 2000 bytes"),
    ("/big-chunked", "the response is larger than 2000 bytes"),
    ("/slow", "the source did not answer in time"),
    ("/xxe", "the response declares a DTD or entities; refused"),
    ("/laughs", "the response declares a DTD or entities; refused"),
    ("/html", "the answer is not an OAI-PMH response"),
    ("/broken", "the response is not well-formed XML"),
    ("/down", "the source answered HTTP 503"),
])
def test_hostile_or_broken_providers_are_refused_with_a_clear_message(base, path, message):
    started = time.monotonic()
    with pytest.raises(HarvestError) as caught:
        client(f"{base}{path}").request(verb="Identify")
    assert str(caught.value) == message
    assert time.monotonic() - started < 3  # the time cap holds for a slow provider too


def test_oai_errors(base):
    with pytest.raises(BadResumptionToken):
        client(f"{base}/oai-error").request(code="badResumptionToken")
    with pytest.raises(HarvestError, match="'cannotDisseminateFormat'"):
        client(f"{base}/oai-error").request(code="cannotDisseminateFormat")
    # No records is an empty list, not an error.
    assert client(f"{base}/oai-error").request(code="noRecordsMatch") is not None


def test_an_unreachable_source():
    with pytest.raises(HarvestError, match="could not be reached"):
        client("http://127.0.0.1:9/oai").request(verb="Identify")


@pytest.mark.parametrize("url", ["ftp://example.org/oai", "file:///etc/passwd",
                                 "http://user:pw@example.org/oai", "http://example.org/oai?x=1",
                                 "http://example.org/oai#top", "javascript:alert(1)", "/oai",
                                 "http://example.org:99999/oai"])
def test_only_plain_http_base_urls_are_accepted(url):
    with pytest.raises(ValueError):
        check_base_url(url)


def test_from_follows_the_granularity():
    from datetime import UTC, datetime

    moment = datetime(2024, 5, 2, 8, 13, 7, tzinfo=UTC)
    assert format_from(moment, "YYYY-MM-DDThh:mm:ssZ") == "2024-05-02T08:13:07Z"
    assert format_from(moment, "YYYY-MM-DD") == "2024-05-02"
