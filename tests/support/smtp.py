"""A real SMTP server on loopback (aiosmtpd) that records what it accepted and injects faults.

Faults, each off by default:
- `defer_every=N`: every Nth RCPT is answered 451 (each address at most once, so a retry succeeds);
- `close_every=N`: every Nth MAIL is answered 421 and the connection is closed;
- `reject={addresses}`: RCPT answered 550 for these;
- `defer={addresses}`: RCPT always answered 451 for these;
- `drop_data={addresses}`: the connection is cut when the message has been received, before the
  reply (the client cannot know whether it was delivered); only once per address;
- `on_data(address)`: called before a message is accepted; answering "drop" cuts the connection
  instead (the SIGKILL test kills the sender there, before the message is accepted);
- `users={name: password}`: AUTH required and checked.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import ssl
import subprocess
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FaultyHandler:
    def __init__(self, *, defer_every=0, close_every=0, reject=(), defer=(), drop_data=(), on_data=None):
        self.defer_every, self.close_every, self.defer = defer_every, close_every, set(defer)
        self.reject, self.drop_data, self.on_data = set(reject), set(drop_data), on_data
        self.lock = threading.Lock()
        self.accepted: list[tuple[str, bytes]] = []
        self.arrivals: list[tuple[str, float]] = []  # (address, time.monotonic()) in the order accepted
        self.envelopes: list[tuple[str, str]] = []  # (recipient, MAIL FROM) of each accepted message
        self.deferred: set[str] = set()
        self.dropped: set[str] = set()
        self.mails = self.rcpts = 0

    async def handle_MAIL(self, server, session, envelope, address, options):
        with self.lock:
            self.mails += 1
            closing = self.close_every and self.mails % self.close_every == 0
        if closing:
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.3.2 Service temporairement indisponible, fermeture"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        with self.lock:
            self.rcpts += 1
            if address in self.reject:
                return "550 5.1.1 Boîte inconnue"
            if address in self.defer:
                return "451 4.7.1 Toujours pas"
            if self.defer_every and self.rcpts % self.defer_every == 0 and address not in self.deferred:
                self.deferred.add(address)
                return "451 4.7.1 Réessayez plus tard"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        address = envelope.rcpt_tos[0]
        if self.on_data is not None and self.on_data(address) == "drop":
            server.transport.abort()
            return "451 never seen by the client"
        with self.lock:
            if address in self.drop_data and address not in self.dropped:
                self.dropped.add(address)
                server.transport.abort()
                return "250 OK (never seen by the client)"
            for rcpt in envelope.rcpt_tos:
                self.accepted.append((rcpt, envelope.original_content))
                self.arrivals.append((rcpt, time.monotonic()))
                self.envelopes.append((rcpt, envelope.mail_from))
        return "250 2.0.0 Ok: queued"

    def counts(self) -> collections.Counter:
        with self.lock:
            return collections.Counter(address for address, _ in self.accepted)

    def messages(self):
        with self.lock:
            return [(address, message_from_bytes(data, policy=policy.default)) for address, data in self.accepted]


class SMTPServer:
    """`with SMTPServer(handler) as server:` a server on 127.0.0.1:`server.port`."""

    def __init__(
        self,
        handler: FaultyHandler,
        users: dict[str, str] | None = None,
        port: int | None = None,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
    ):
        self.handler, self.port = handler, port or free_port()
        kwargs: dict = {}
        if users is not None:
            kwargs.update(
                authenticator=self._authenticator(users),
                auth_required=True,
                auth_require_tls=starttls is not None or implicit_tls is not None,
            )
        if starttls is not None:
            kwargs.update(tls_context=starttls, require_starttls=True)
        if implicit_tls is not None:
            kwargs.update(ssl_context=implicit_tls)
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port, **kwargs)

    @staticmethod
    def _authenticator(users):
        def check(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and users.get(auth_data.login.decode()) == auth_data.password.decode()
            )
            return AuthResult(success=bool(ok), handled=False)

        return check

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class RefusingThenServing:
    """A relay that greets the first `refusals` connections with 421 and closes them (how rate-limiting
    relays say « slow down »), then gives its port to a real SMTP server (`SMTPServer`)."""

    def __init__(self, handler: FaultyHandler, refusals: int):
        self.handler, self.refusals, self.port = handler, refusals, free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.greeted = 0
        self.server: SMTPServer | None = None
        self.thread = threading.Thread(target=self._refuse, daemon=True)

    def _refuse(self) -> None:
        while self.greeted < self.refusals:
            connection, _ = self.listener.accept()
            with connection:
                connection.sendall(b"421 4.7.0 Trop de connexions, ralentissez\r\n")
            self.greeted += 1
        self.listener.close()
        self.server = SMTPServer(self.handler, port=self.port).__enter__()

    def __enter__(self) -> RefusingThenServing:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.thread.is_alive():
            self.listener.close()
        self.thread.join(timeout=5)
        if self.server is not None:
            self.server.__exit__(*exc)


def self_signed(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 made by the `openssl` command, and a server context using it."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context
