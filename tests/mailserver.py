"""A real SMTP server for tests (aiosmtpd on loopback): STARTTLS with a certificate made for
the test by its own authority (trustme), and a login; it keeps what it accepts, and can be told
to refuse recipients.

Its port comes from ``LMS_TEST_PORTS`` when that is set (engineers sharing a machine), else
from the system.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers import port_range

USERNAME = "lms-mailer"
PASSWORD = "mat-khau-thu-2025"


@dataclass
class Mailbox:
    """What the server accepted; ``refuse`` makes it answer 550 to every recipient."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: bool = False
    logins: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content,
                                                policy=policy.default))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def _authenticate(mailbox: Mailbox):
    def check(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USERNAME \
                and auth_data.password.decode() == PASSWORD:
            mailbox.logins += 1
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    return check


def free_port() -> int:
    for port in port_range():
        if port == 0:
            break
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SmtpServer:
    host: str
    port: int
    ca_file: Path
    mailbox: Mailbox

    def settings(self) -> dict[str, object]:
        """The app settings that send through this server."""
        return {"SMTP_HOST": self.host, "SMTP_PORT": self.port, "SMTP_STARTTLS": True,
                "SMTP_USERNAME": USERNAME, "SMTP_PASSWORD": PASSWORD,
                "SMTP_CA_FILE": str(self.ca_file), "SMTP_FROM": "kho-hoc-lieu@hvhc.edu.vn",
                "SMTP_TIMEOUT_SECONDS": 10}


@contextmanager
def smtp_server(folder: Path, port: int | None = None) -> Iterator[SmtpServer]:
    """Serve SMTP with STARTTLS and login on loopback until the block ends."""
    authority = trustme.CA()
    ca_file = folder / "test-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(tls)
    mailbox = Mailbox()
    port = port or free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=tls,
                            require_starttls=True, authenticator=_authenticate(mailbox),
                            auth_required=True, auth_require_tls=True)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, ca_file, mailbox)
    finally:
        controller.stop()
