"""Real HTTP servers on loopback for tests that need one (schemathesis, harvesting).

Ports come from ``LMS_TEST_PORTS`` (``first-last``) when it is set: engineers sharing a
machine each have a range, so two test runs never take each other's port. Unset (CI), the
system picks a free port.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import BaseWSGIServer, make_server

from lms.serving import RequestHandler


def port_range() -> range:
    first, _, last = os.environ.get("LMS_TEST_PORTS", "0-0").partition("-")
    return range(int(first), int(last or first) + 1)


def _bind(app) -> BaseWSGIServer:
    for port in port_range():
        try:
            # The app's request handler: an over-long address reaches the app cut (lms.serving).
            return make_server("127.0.0.1", port, app, threaded=True,
                               request_handler=RequestHandler)
        except (OSError, SystemExit):
            # Werkzeug answers a port in use (another server of this run: moto, lms serve)
            # with sys.exit(1), not with the OSError.
            continue
    raise RuntimeError(f"no free port in {port_range()} (set LMS_TEST_PORTS)")


def free_port() -> int:
    """A port nothing listens on now, for a server run as a separate process (``lms run``)."""
    import socket

    for port in port_range():
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError(f"no free port in {port_range()} (set LMS_TEST_PORTS)")


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve ``app`` (any WSGI app) in a thread; yields its base URL, stops it afterwards."""
    server = _bind(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
