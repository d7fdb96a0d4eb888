"""Waitress, a production WSGI server in pure Python, running the service.

Waitress writes no access log; the application writes one line per request (method, route,
status): never the query string (tokens) nor a form value (addresses). Bodies over the
application's limit get its French 413 without being read; waitress itself only stops bodies past
`BODY_CEILING`, spooling large ones to disk rather than memory.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

BODY_CEILING = 64 * 1024 * 1024


def create(app: Callable, host: str, port: int, threads: int = 4, sock: socket.socket | None = None):
    """A waitress server for `app` (call `.run()`; `.close()` stops it); `sock` an already bound socket."""
    from waitress.server import create_server

    options = dict(
        threads=threads,
        max_request_body_size=BODY_CEILING,
        ident="newsletter",
        channel_timeout=30,
        expose_tracebacks=False,
    )
    if sock is not None:
        return create_server(app, sockets=[sock], **options)
    return create_server(app, host=host, port=port, **options)


def port_of(server) -> int:
    return server.effective_port if hasattr(server, "effective_port") else server.socket.getsockname()[1]


def stop(server) -> None:
    """Stop a server running in another thread: its loop closes every channel, then returns."""

    def close_all() -> None:
        for channel in list(server._map.values()):
            channel.handle_close()

    server.trigger.pull_trigger(close_all)
    server.task_dispatcher.shutdown()
