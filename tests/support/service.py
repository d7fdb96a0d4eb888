"""The readers' service under waitress on a loopback port, and a small HTTP client for it."""

from __future__ import annotations

import io
import re
import socket
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

from newsletter.send.config import sending_config
from newsletter.serve import make_app, serve_config
from newsletter.serve.mail import Mailer
from newsletter.serve.server import create, stop
from newsletter.settings import Settings

SECRET = "secret-de-test"


@dataclass
class Running:
    url: str  # the public URL: http://127.0.0.1:PORT/service
    service: object
    server: object
    thread: threading.Thread
    log: io.StringIO = field(default_factory=io.StringIO)

    def close(self) -> None:
        stop(self.server)
        self.thread.join(timeout=10)


def bound_socket() -> tuple[socket.socket, str]:
    """A loopback socket bound now, and the service's public URL on it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}/service"


def start(
    root: Path,
    serve: dict | None = None,
    sending: dict | None = None,
    smtp: dict | None = None,
    base_url: str = "https://example.org/lettre",
    clock=None,
    bound: tuple | None = None,
) -> Running:
    """Bind a loopback port first, so that `public_url` names it, then serve."""
    sock, public = bound or bound_socket()
    tables = {
        "sending": {"secret": SECRET, **(sending or {})},
        "serve": {"public_url": public, **(serve or {})},
    }
    if smtp:
        tables["smtp"] = smtp
    settings = Settings(base_url=base_url, path=root / "newsletter.toml", tables=tables)
    config = sending_config(settings, root)
    served = serve_config(settings)
    log = io.StringIO()
    extra = {"clock": clock} if clock else {}
    service = make_app(settings, root, config, served, log=log, **extra)
    service.mailer = Mailer(settings, root, config, service.secret, served.confirm_days)
    server = create(service, "127.0.0.1", 0, 4, sock=sock)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return Running(public, service, server, thread, log)


class Client:
    """urllib with cookies: what a browser without JavaScript does."""

    def __init__(self):
        self.cookies = urllib.request.HTTPCookieProcessor()
        self.opener = urllib.request.build_opener(self.cookies, _NoRedirect)

    def request(
        self,
        url: str,
        method: str = "GET",
        form: dict | None = None,
        body: bytes | None = None,
        headers: dict | None = None,
    ) -> tuple[int, str, dict]:
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        if body is not None and "Content-Type" not in (headers or {}):
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=20) as response:
                return response.status, response.read().decode("utf-8"), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace"), dict(error.headers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no {name} in the page"
    return match.group(1)


def outbox_messages(root: Path, kind: str) -> list:
    folder = root / "outbox" / "service"
    paths = sorted(folder.glob(f"{kind}-*.eml"), key=lambda p: p.stat().st_mtime_ns) if folder.exists() else []
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]


def link_in(message, route: str) -> str:
    text = message.get_body(("plain",)).get_content()
    match = re.search(rf"(http://\S+/{route}\?jeton=\S+)", text)
    assert match, text
    return match.group(1)
