"""The one-click unsubscribe endpoint: a small WSGI application (standard library only).

- `POST …?token=T` (what a mail client sends for RFC 8058, body `List-Unsubscribe=One-Click`, and
  what the confirmation page's button sends): unsubscribes at once.
- `GET …?token=T` (the footer link): a page in French with a button, so that a link scanner that
  follows every link unsubscribes no one.
- A missing, malformed or forged token: 400 and nothing changes. Any path is accepted, so the app
  can be mounted wherever `unsubscribe_url` points.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Callable, Iterable
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from newsletter.send.tokens import TEST_ID, token_id, verify_token
from newsletter.subscribers.database import open_database
from newsletter.subscribers.store import SUBSCRIBED, UNSUBSCRIBED, SubscriberStore

MAX_BODY = 4096
_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title} – {name}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;line-height:1.5}}
button{{font-size:1em;padding:.6em 1.2em;cursor:pointer}}</style></head>
<body><h1>{title}</h1>
{body}
</body></html>
"""


def make_app(database: Path, secret: str | None, name: str = "la lettre") -> Callable:
    """The WSGI application; `secret` None means the one generated in the database."""

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            status, title, body, headers = _respond(environ, database, secret, name)
        except Exception as error:  # never a traceback for the visitor
            print(f"désinscription : erreur interne : {error!r}", file=environ.get("wsgi.errors", sys.stderr))
            status, title, body, headers = "500 Internal Server Error", "Erreur", _p(
                "Une erreur est survenue de notre côté ; votre demande n’a pas été enregistrée. "
                "Réessayez dans quelques minutes."
            ), []
        page = _PAGE.format(title=html.escape(title), name=html.escape(name), body=body).encode("utf-8")
        start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page))),
                                ("Cache-Control", "no-store"), ("X-Robots-Tag", "noindex"), *headers])
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else page]

    return app


def _respond(environ: dict, database: Path, secret: str | None, name: str) -> tuple[str, str, str, list]:
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("GET", "HEAD", "POST"):
        return "405 Method Not Allowed", "Méthode non permise", _p("Utilisez le lien reçu par email."), [
            ("Allow", "GET, HEAD, POST")]
    token = _token(environ, method)
    claimed = token_id(token) if token else None
    if claimed is None:
        return _invalid()
    connection = open_database(database)
    try:
        store = SubscriberStore(connection)
        key = secret or store.signing_secret()
        if claimed == TEST_ID and verify_token(key, token, ""):
            return "200 OK", "Envoi de test", _p(
                "Ce lien vient d’un envoi de test : il ne désinscrit personne. Dans la lettre envoyée aux abonnés, "
                "ce lien désinscrit son destinataire."
            ), []
        subscriber = store.get_by_id(claimed)
        if subscriber is None or not verify_token(key, token, subscriber.address):
            return _invalid()
        address = html.escape(subscriber.address)
        if method == "POST":
            if subscriber.status != UNSUBSCRIBED:
                store.set_status(subscriber.id, UNSUBSCRIBED)
            return "200 OK", "Désinscription enregistrée", _p(
                f"L’adresse <strong>{address}</strong> ne recevra plus {html.escape(name)}. "
                "Si c’est une erreur, écrivez-nous pour vous réabonner."
            ), []
        if subscriber.status != SUBSCRIBED:
            return "200 OK", "Déjà désinscrit", _p(f"L’adresse <strong>{address}</strong> ne reçoit plus {html.escape(name)}."), []
        action = html.escape(f"?token={token}", quote=True)
        return "200 OK", "Se désinscrire", _p(
            f"Voulez-vous que l’adresse <strong>{address}</strong> ne reçoive plus {html.escape(name)} ?"
        ) + f'\n<form method="post" action="{action}"><button type="submit">Me désinscrire</button></form>', []
    finally:
        connection.close()


def _token(environ: dict, method: str) -> str:
    query = parse_qs(environ.get("QUERY_STRING", ""))
    token = (query.get("token") or [""])[0]
    if not token and method == "POST":
        try:
            length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length).decode("utf-8", "replace") if length else ""
        token = (parse_qs(body).get("token") or [""])[0]
    return token.strip()


def _invalid() -> tuple[str, str, str, list]:
    return "400 Bad Request", "Lien invalide", _p(
        "Ce lien de désinscription n’est pas valide : il a pu être coupé ou modifié. "
        "Utilisez le lien complet reçu dans l’email, ou répondez à l’email pour demander votre désinscription."
    ), []


def _p(text: str) -> str:
    return f"<p>{text}</p>"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        # The query string holds personal tokens: log the path only.
        sys.stderr.write(f"{self.address_string()} {self.command} {self.path.split('?', 1)[0]} {args[1] if len(args) > 1 else ''}\n")


class _SilentHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(app: Callable, host: str, port: int, log: bool = True) -> WSGIServer:
    """A threaded HTTP server for `app` (call `serve_forever()` on it); `log` prints each request."""
    return make_server(host, port, app, server_class=_Server, handler_class=_QuietHandler if log else _SilentHandler)
