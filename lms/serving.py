"""The development server's request handler (``lms run``, the tests' live server).

Python's HTTP server reads at most 65,536 bytes of a request line and answers anything longer
with its own HTML 414 page, which the application never sees: a JSON client then gets HTML,
and a search page user a bare error. This handler instead reads the request to its end and
hands the application a request whose query values are cut short, marked with
:data:`URI_CUT`: the search page searches the cut query (with its "too long" notice), the API
and every other page answer 414 in their own format (``lms.web``).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from werkzeug.serving import WSGIRequestHandler
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

#: Set in the WSGI environ of a request whose address was too long and has been cut.
URI_CUT = "lms.uri_cut"
#: Each query value of a cut address keeps this many characters: more than any field allows
#: (a search query keeps 500), so the application still sees that it was too long.
KEPT_VALUE_CHARS = 1000
#: What is read and thrown away of an over-long request before answering it. A request that
#: is still longer is answered anyway (the client may then see the connection reset).
DRAIN_LIMIT = 4 * 1024 * 1024


class RequestHandler(WSGIRequestHandler):
    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        if code != 414 or not self.raw_requestline:
            super().send_error(code, message, explain)
            return
        self._answer_cut_request()

    def _answer_cut_request(self) -> None:
        method, _space, rest = self.raw_requestline.decode("latin-1").partition(" ")
        path, _mark, query = rest.partition("?")
        self._drain_request()
        values = parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="ignore")
        kept = urlencode([(key[:100], value[:KEPT_VALUE_CHARS]) for key, value in values[:100]])
        self.command, self.request_version = method[:10] or "GET", "HTTP/1.1"
        self.path = f"{path}?{kept}" if kept else path
        environ = EnvironBuilder(path=path, query_string=kept, method=self.command,
                                 environ_base={"REMOTE_ADDR": self.client_address[0],
                                               URI_CUT: True}).get_environ()
        response = Response.from_app(self.server.app, environ, buffered=True)  # type: ignore[attr-defined]
        body = response.get_data()
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def _drain_request(self) -> None:
        """Read the rest of the request line and the headers, so that closing the connection
        does not reset it before the client has read the answer."""
        remaining = DRAIN_LIMIT
        line = self.raw_requestline
        while not line.endswith(b"\n") and remaining > 0:
            line = self.rfile.readline(min(65536, remaining))
            if not line:
                return
            remaining -= len(line)
        while remaining > 0:
            line = self.rfile.readline(65536)
            remaining -= len(line)
            if line in (b"\r\n", b"\n", b""):
                return
