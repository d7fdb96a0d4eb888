"""`newsletter serve`: the readers' own endpoints as one WSGI application.

Sign-up with double opt-in, confirmation, the personal page (see, change, download, unsubscribe,
erase) and RFC 8058 one-click unsubscribe. `app` routes and answers, `pages` writes the French
pages, `security` holds the headers, CSRF values and the client's identity, `limits` the rate
limits kept in SQLite, `mail` the confirmation and welcome emails, `server` runs it under waitress.
Like the CLI, this package sits above `render/` and `send/`: it renders its two emails and hands
them to the sending layer's one MIME builder and transports.
"""

from newsletter.serve.app import Service, make_app
from newsletter.serve.config import ServeConfig, serve_config

__all__ = ["ServeConfig", "Service", "make_app", "serve_config"]
