"""An OAI-PMH client that fetches nothing but its registered repository.

What the security guide asks of a harvester, in one place:

- only ``http``/``https`` URLs on the registered host and port; a redirect is followed only
  to that same origin (at most ``max_redirects`` times), any other is an error; no proxy;
- each response is capped in bytes (``Content-Length`` checked first, then while reading) and
  in time (a socket timeout per read and a deadline for the whole response);
- XML is parsed with defusedxml: no DTD, no entities, no external references;
- error messages say what went wrong without echoing the response.

The caller caps the number of resumption pages per run.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode, urljoin, urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

OAI = "{http://www.openarchives.org/OAI/2.0/}"
REDIRECTS = (301, 302, 303, 307, 308)


class HarvestError(Exception):
    """The source could not be read; the message is safe to show and to store."""


class BadResumptionToken(HarvestError):
    pass


@dataclass(frozen=True)
class Limits:
    timeout_seconds: float = 60.0
    max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 3


def check_base_url(url: str) -> str:
    """The base URL if it is an absolute http(s) URL without credentials, query or fragment.

    :raise ValueError: anything else.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the base URL must be an http:// or https:// address")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("the base URL must have no user name, query or fragment")
    try:
        parts.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        raise ValueError("the base URL has an invalid port") from None
    return url.strip()


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        return None  # 3xx surfaces as HTTPError; the client decides whether to follow


class OaiClient:
    """Requests to one OAI-PMH base URL."""

    def __init__(self, base_url: str, limits: Limits, user_agent: str) -> None:
        self.base_url = check_base_url(base_url)
        self.origin = _origin(self.base_url)
        self.limits = limits
        self.user_agent = user_agent
        # No proxy handler: the environment's proxy settings must not send us elsewhere.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                   _NoRedirects())

    def request(self, **arguments: str) -> Element:
        """The ``OAI-PMH`` root element of the answer to ``arguments``.

        :raise BadResumptionToken: the source refused the resumption token.
        :raise HarvestError: anything else (network, limits, XML, an OAI-PMH error other than
            ``noRecordsMatch``, which comes back as a root without a list).
        """
        url = f"{self.base_url}?{urlencode(arguments)}"
        root = self._parse(self._fetch(url))
        if root.tag != f"{OAI}OAI-PMH":
            raise HarvestError("the answer is not an OAI-PMH response")
        for error in root.iterfind(f"{OAI}error"):
            code = error.get("code", "")
            if code == "noRecordsMatch":
                continue
            if code == "badResumptionToken":
                raise BadResumptionToken("the source refused the resumption token")
            raise HarvestError(f"the source answered with the OAI-PMH error {code[:40]!r}")
        return root

    def _fetch(self, url: str) -> bytes:
        for _hop in range(self.limits.max_redirects + 1):
            if _origin(url) != self.origin:
                raise HarvestError("a redirect to another host was refused")
            # The origin check above means http(s) on the registered host only.
            request = urllib.request.Request(url, headers={  # noqa: S310
                "User-Agent": self.user_agent, "Accept": "text/xml, application/xml"})
            try:
                with self._opener.open(request, timeout=self.limits.timeout_seconds) as response:
                    return self._read(response)
            except urllib.error.HTTPError as error:
                location = error.headers.get("Location") if error.code in REDIRECTS else None
                error.close()
                if location is None:
                    raise HarvestError(f"the source answered HTTP {error.code}") from None
                url = urljoin(url, location)
            except OSError as error:  # URLError, timeouts, refused or reset connections
                reason = getattr(error, "reason", error)
                if isinstance(reason, TimeoutError):
                    raise HarvestError("the source did not answer in time") from None
                raise HarvestError("the source could not be reached") from None
        raise HarvestError("too many redirects")

    def _read(self, response) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise HarvestError(f"the response is larger than {self.limits.max_bytes} bytes")
        deadline = time.monotonic() + self.limits.timeout_seconds
        chunks, size = [], 0
        # read1: whatever has arrived, so a trickling provider meets the deadline too.
        while chunk := response.read1(64 * 1024):
            size += len(chunk)
            if size > self.limits.max_bytes:
                raise HarvestError(f"the response is larger than {self.limits.max_bytes} bytes")
            if time.monotonic() > deadline:
                raise HarvestError("the source did not answer in time")
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _parse(data: bytes) -> Element:
        try:
            return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                     forbid_external=True)
        except DefusedXmlException:
            raise HarvestError("the response declares a DTD or entities; refused") from None
        except ParseError:
            raise HarvestError("the response is not well-formed XML") from None


def response_date(root: Element) -> datetime:
    """The ``responseDate`` of an OAI-PMH response (UTC).

    :raise HarvestError: missing or malformed.
    """
    text = (root.findtext(f"{OAI}responseDate") or "").strip()
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise HarvestError("the response has no valid responseDate") from None


def format_from(moment: datetime, granularity: str) -> str:
    """A ``from`` argument in the source's granularity."""
    moment = moment.astimezone(UTC)
    if granularity == "YYYY-MM-DDThh:mm:ssZ":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.strftime("%Y-%m-%d")
