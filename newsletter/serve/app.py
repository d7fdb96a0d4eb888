"""The WSGI application: every route of the readers' service, and what each bad request gets.

Routes are matched on the last segment of the path, so the service can be mounted under any prefix
(`public_url`, `unsubscribe_url`): `inscription` (GET the form, POST a sign-up), `confirmation`
(GET a page with a button, POST confirms), `mes-donnees` (the personal page and its forms),
`mes-donnees.json` (the download), `desinscription` (RFC 8058 one-click, and its page), `style.css`.
Every answer is a French page with the security headers; no exception reaches the visitor or the
log with a token or an address in it.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote

from newsletter.errors import NewsletterError
from newsletter.render.typography import Typography
from newsletter.send import signing_secret
from newsletter.send.config import SendingConfig
from newsletter.send.message import Recipient
from newsletter.send.tokens import CONFIRM, EXPIRED, PROFILE, TEST_ID, VALID, check_token, make_token, token_id
from newsletter.serve import pages
from newsletter.serve.config import ServeConfig
from newsletter.serve.limits import DAY, HOUR, Limits
from newsletter.serve.security import (
    client_of,
    cookie_of,
    csrf_ok,
    csrf_value,
    new_cookie,
    origin_of,
    same_origin,
    security_headers,
)
from newsletter.settings import Settings
from newsletter.subscribers import open_database
from newsletter.subscribers.store import (
    MAX_TEXT,
    STATUS_LABELS,
    SUBSCRIBED,
    UNSUBSCRIBED,
    USED,
    Subscriber,
    SubscriberError,
    SubscriberStore,
    clean_text,
)

MAX_BODY = 16 * 1024
MAX_ADDRESS = 254
ROUTES = {
    "inscription": ("GET", "HEAD", "POST"),
    "confirmation": ("GET", "HEAD", "POST"),
    "mes-donnees": ("GET", "HEAD", "POST"),
    "mes-donnees.json": ("GET", "HEAD"),
    "desinscription": ("GET", "HEAD", "POST"),
    "style.css": ("GET", "HEAD"),
}


@dataclass
class Answer(Exception):
    """What the visitor gets: a page (title, body) or raw content, with a status."""

    status: str
    title: str = ""
    body: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content: bytes | None = None
    content_type: str = "text/html; charset=utf-8"


@dataclass
class Request:
    environ: dict
    method: str
    route: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]

    def value(self, name: str) -> str:
        found = self.form.get(name) or self.query.get(name) or [""]
        return found[0]


class Service:
    """The application's state: settings, the database (one connection per thread), the mailer."""

    def __init__(
        self,
        settings: Settings,
        root: Path | None,
        sending: SendingConfig,
        serve: ServeConfig,
        *,
        mailer=None,
        clock: Callable[[], float] = time.time,
        log=None,
    ):
        self.settings, self.sending, self.serve, self.clock = settings, sending, serve, clock
        self.local = threading.local()
        store = SubscriberStore(open_database(sending.database, durable=False))
        self.secret = signing_secret(sending, store)
        store.record_form(serve.form_version, serve.form_text)
        store.db.close()
        self.limits = Limits(self.secret, clock)
        self.mailer = mailer
        self.log = log or sys.stderr
        self.https = serve.public_url.startswith("https://")
        self.origins = tuple(o for o in {origin_of(settings.base_url), origin_of(serve.public_url)} if o)
        self.style = f"{serve.public_url}/style.css" if serve.public_url else "style.css"
        self.fr = Typography.of(settings).text

    def say(self, text: str) -> str:
        """A paragraph of our French prose, typeset (no-break spaces before : ; ! ?) and escaped."""
        return pages.p(self.fr(text))

    def forbidden(self) -> Answer:
        return Answer(
            "403 Forbidden",
            "Formulaire expiré",
            self.say("Ce formulaire a expiré ou ne vient pas de notre site : rechargez la page et recommencez."),
        )

    def invalid(
        self,
        text: str = "Ce lien n’est pas valide : il a pu être coupé ou modifié. "
        "Utilisez le lien complet reçu par email.",
    ) -> Answer:
        return Answer("400 Bad Request", "Lien invalide", self.say(text))

    def store(self) -> SubscriberStore:
        store = getattr(self.local, "store", None)
        if store is None:
            store = self.local.store = SubscriberStore(open_database(self.sending.database, durable=False))
        return store

    def url(self, route: str, token: str = "") -> str:
        base = f"{self.serve.public_url}/{route}" if self.serve.public_url else route
        return f"{base}?jeton={token}" if token else base

    # --- WSGI ---------------------------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        route = environ.get("PATH_INFO", "/").rstrip("/").rpartition("/")[2]
        try:
            answer = self.respond(environ, method, route)
        except Answer as given:
            answer = given
        except Exception as error:  # never a traceback for the visitor, nothing personal in the log
            print(f"erreur interne sur /{route} : {type(error).__name__}", file=self.log)
            answer = Answer(
                "500 Internal Server Error",
                "Erreur",
                self.say(
                    "Une erreur est survenue de notre côté ; votre demande n’a pas été enregistrée. Réessayez dans quelques minutes."
                ),
            )
        print(f"{method} /{route if route in ROUTES else '…'} {answer.status[:3]}", file=self.log)
        content = (
            answer.content
            if answer.content is not None
            else pages.layout(self.fr(answer.title), answer.body, self.fr(self.settings.name), self.style)
        )
        headers = [
            ("Content-Type", answer.content_type),
            ("Content-Length", str(len(content))),
            *security_headers(self.https),
            *answer.headers,
        ]
        start_response(answer.status, headers)
        return [b"" if method == "HEAD" else content]

    def respond(self, environ: dict, method: str, route: str) -> Answer:
        if route not in ROUTES:
            raise Answer(
                "404 Not Found", "Page introuvable", self.say("Cette adresse ne correspond à aucune page du service.")
            )
        if method not in ROUTES[route]:
            raise Answer(
                "405 Method Not Allowed",
                "Méthode non permise",
                self.say("Cette page ne s’utilise pas ainsi."),
                [("Allow", ", ".join(ROUTES[route]))],
            )
        request = Request(environ, method, route, _query(environ), _form(environ) if method == "POST" else {})
        handler = getattr(self, "route_" + route.replace("-", "_").replace(".", "_"))
        return handler(request)

    # --- routes -------------------------------------------------------------------------------

    def route_style_css(self, request: Request) -> Answer:
        return Answer("200 OK", content=pages.STYLE.encode(), content_type="text/css; charset=utf-8")

    def route_inscription(self, request: Request) -> Answer:
        if request.method != "POST":
            return self.signup_page()
        cookie = cookie_of(request.environ)
        given = request.value("csrf")
        if not (csrf_ok(self.secret, cookie, given) if given else same_origin(request.environ, self.origins)):
            raise self.forbidden()
        sent = self.signup_sent()
        if request.value("site_url"):  # the honeypot: a robot filled it in; it is told the same
            return sent
        store = self.store()
        client = client_of(request.environ, self.serve.trusted_proxy)
        if not self.limits.allow(store.db, "c", client, self.serve.per_client, HOUR):
            raise Answer(
                "429 Too Many Requests",
                "Trop de demandes",
                self.say("Trop de demandes d’inscription depuis votre connexion. Réessayez dans une heure."),
                [("Retry-After", "3600")],
            )
        address, name = request.value("adresse").strip(), request.value("nom").strip()
        error = _signup_error(address, name, request.value("consentement"))
        if error:
            return self.signup_page("400 Bad Request", error, address if len(address) <= MAX_ADDRESS else "", name)
        try:
            subscriber, confirm = store.request_signup(address, name)
        except NewsletterError:
            return self.signup_page("400 Bad Request", "Cette adresse email n’est pas valide.", "", "")
        if confirm and self.limits.allow(store.db, "a", subscriber.address, self.serve.per_address, DAY):
            self.send_confirmation(subscriber)
        return sent

    def signup_page(self, status: str = "200 OK", error: str = "", address: str = "", name: str = "") -> Answer:
        value, header = new_cookie(self.https)
        form = pages.signup_form(
            self.url("inscription"),
            csrf_value(self.secret, value),
            self.fr(self.serve.form_text),
            address,
            name,
            self.fr(error),
        )
        return Answer(status, "S’inscrire à la lettre", form, [("Set-Cookie", header)])

    def signup_sent(self) -> Answer:
        return Answer(
            "200 OK",
            "Vérifiez votre boîte mail",
            self.say(
                "Merci ! Si cette adresse peut recevoir la lettre, un message vient de lui être envoyé : "
                "ouvrez le lien qu’il contient pour confirmer votre inscription. Sans confirmation, vous ne recevrez rien."
            ),
        )

    def send_confirmation(self, subscriber: Subscriber) -> None:
        expires = int(self.clock() + self.serve.confirm_days * DAY)
        token = make_token(
            self.secret, subscriber.id, subscriber.address, CONFIRM, expires=expires, bound=subscriber.pending_nonce
        )
        self.deliver("confirm", subscriber, self.url("confirmation", token))

    def deliver(self, kind: str, subscriber: Subscriber, link: str = "") -> None:
        if self.mailer is None:
            return
        try:
            self.mailer.send(kind, Recipient(subscriber.id, subscriber.address, subscriber.name), link)
        except NewsletterError as error:  # the reader is told the same; the editors see it in the log
            print(f"envoi impossible ({kind}) : {type(error).__name__}", file=self.log)

    def route_confirmation(self, request: Request) -> Answer:
        token = request.value("jeton")
        subscriber = self.holder(token)
        nonce = subscriber.pending_nonce
        used = nonce.startswith(USED)
        state = check_token(
            self.secret,
            token,
            subscriber.address,
            CONFIRM,
            now=self.clock(),
            bound=nonce[len(USED) :] if used else nonce,
        )
        if state == EXPIRED:
            raise Answer(
                "410 Gone", "Lien expiré", self.say("Ce lien de confirmation a expiré : inscrivez-vous de nouveau.")
            )
        if state != VALID or not nonce:
            raise self.invalid()
        if used:
            raise Answer(
                "410 Gone",
                "Lien déjà utilisé",
                self.say(
                    "Ce lien de confirmation a déjà servi. Vos données et vos choix : le lien « mes données » de vos emails."
                ),
            )
        if request.method != "POST":
            return Answer(
                "200 OK",
                "Confirmer mon inscription",
                self.say(f"Confirmez-vous vouloir recevoir {self.settings.name} à l’adresse {subscriber.address} ?")
                + pages.button_form(
                    self.url("confirmation", token),
                    "Confirmer mon inscription",
                    (("csrf", csrf_value(self.secret, token)),),
                ),
            )
        if not csrf_ok(self.secret, token, request.value("csrf")):
            raise self.forbidden()
        today = dt.datetime.fromtimestamp(self.clock(), self.settings.tz).date().isoformat()
        if not self.store().confirm(subscriber.id, nonce, self.serve.form_version, today):
            raise Answer("410 Gone", "Lien déjà utilisé", self.say("Ce lien de confirmation a déjà servi."))
        profile = self.url("mes-donnees", make_token(self.secret, subscriber.id, subscriber.address, PROFILE))
        self.deliver("welcome", subscriber)
        return Answer(
            "200 OK",
            "Inscription confirmée",
            self.say(f"Bienvenue ! Vous recevrez les prochains numéros de {self.settings.name}.")
            + f'<p><a href="{pages.escape(profile)}">Voir ou modifier mes données</a></p>',
        )

    def holder(self, token: str) -> Subscriber:
        """The subscriber a token claims (410 when erased, 400 when there is none); not yet verified."""
        claimed = token_id(token) if token else None
        if claimed is None or claimed == TEST_ID:
            raise self.invalid()
        store = self.store()
        subscriber = store.get_by_id(claimed)
        if subscriber is None:
            if store.erased_id(claimed):
                raise Answer("410 Gone", "Données effacées", self.say("Les données liées à ce lien ont été effacées."))
            raise self.invalid()
        return subscriber

    def verified(self, token: str, purpose: str) -> Subscriber:
        subscriber = self.holder(token)
        if check_token(self.secret, token, subscriber.address, purpose) != VALID:
            raise self.invalid()
        return subscriber

    def route_mes_donnees(self, request: Request) -> Answer:
        token = request.value("jeton")
        subscriber = self.verified(token, PROFILE)
        store = self.store()
        notice = ""
        if request.method == "POST":
            if not csrf_ok(self.secret, token, request.value("csrf")):
                raise self.forbidden()
            action = request.value("action")
            if action == "effacer":
                store.erase(subscriber)
                return Answer(
                    "200 OK",
                    "Données effacées",
                    self.say(
                        "Tout ce que nous gardions de vous est effacé. Seule une empreinte chiffrée de l’adresse reste, "
                        "pour qu’un ancien fichier ne vous réinscrive pas."
                    ),
                )
            if action == "desinscrire":
                store.set_status(subscriber.id, UNSUBSCRIBED)
                notice = "Désinscription enregistrée : vous ne recevrez plus la lettre."
            elif action == "nom":
                try:
                    store.set_name(subscriber.id, request.value("nom"))
                except NewsletterError:
                    raise Answer(
                        "400 Bad Request",
                        "Nom refusé",
                        self.say(NAME_REFUSED),
                    ) from None
                notice = "Nom enregistré."
            else:
                raise Answer("400 Bad Request", "Demande inconnue", self.say("Cette action n’existe pas."))
            subscriber = self.holder(token)  # read again after the change (410 if erased meanwhile)
        body = pages.profile(
            self.rows(subscriber),
            store.deliveries(subscriber.id),
            self.url("mes-donnees", token),
            csrf_value(self.secret, token),
            subscriber.name,
            self.url("mes-donnees.json", token),
            subscriber.status == SUBSCRIBED,
            self.fr,
        )
        return Answer("200 OK", "Mes données", (self.say(notice) if notice else "") + body)

    def rows(self, s: Subscriber) -> list[tuple[str, str]]:
        return [
            ("Adresse", s.address),
            ("Nom", s.name),
            ("Territoire", s.territory),
            ("Rôle", s.role),
            ("État", STATUS_LABELS[s.status]),
            ("Consentement", s.consent_date or "—"),
            ("Source", s.consent_source or "—"),
            ("Version du formulaire", s.consent_version or "—"),
        ]

    def route_mes_donnees_json(self, request: Request) -> Answer:
        subscriber = self.verified(request.value("jeton"), PROFILE)
        store = self.store()
        data = {
            "adresse": subscriber.address,
            "nom": subscriber.name,
            "territoire": subscriber.territory,
            "role": subscriber.role,
            "etat": subscriber.status,
            "cree_le": subscriber.created_at,
            "consentement": {
                "date": subscriber.consent_date,
                "source": subscriber.consent_source,
                "version_formulaire": subscriber.consent_version,
                "texte_formulaire": store.form_text(subscriber.consent_version) if subscriber.consent_version else None,
            },
            "envois": store.deliveries(subscriber.id),
        }
        content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
        return Answer(
            "200 OK",
            content=content,
            content_type="application/json; charset=utf-8",
            headers=[("Content-Disposition", 'attachment; filename="mes-donnees.json"')],
        )

    def route_desinscription(self, request: Request) -> Answer:
        """RFC 8058: a POST with the token unsubscribes at once (mail clients send no CSRF value: the
        token is the authority); a GET shows a button, so that link scanners unsubscribe no one."""
        token = (request.query.get("token") or request.form.get("token") or request.query.get("jeton") or [""])[
            0
        ].strip()
        claimed = token_id(token) if token else None
        if claimed == TEST_ID and check_token(self.secret, token, "") == VALID:
            return Answer(
                "200 OK",
                "Envoi de test",
                self.say(
                    "Ce lien vient d’un envoi de test : il ne désinscrit personne. Dans la lettre envoyée aux abonnés, "
                    "ce lien désinscrit son destinataire."
                ),
            )
        try:
            subscriber = self.verified(token, "unsubscribe")
        except Answer as answer:
            if answer.status.startswith("400"):
                raise self.invalid(
                    "Ce lien de désinscription n’est pas valide : il a pu être coupé ou modifié. Utilisez le "
                    "lien complet reçu dans l’email, ou répondez à l’email pour demander votre désinscription."
                ) from None
            raise
        if request.method == "POST":
            if subscriber.status != UNSUBSCRIBED:
                self.store().set_status(subscriber.id, UNSUBSCRIBED)
            return Answer(
                "200 OK",
                "Désinscription enregistrée",
                self.say(
                    f"L’adresse {subscriber.address} ne recevra plus {self.settings.name}. "
                    "Si c’est une erreur, inscrivez-vous de nouveau depuis le site."
                ),
            )
        if subscriber.status != SUBSCRIBED:
            return Answer(
                "200 OK",
                "Déjà désinscrit",
                self.say(f"L’adresse {subscriber.address} ne reçoit plus {self.settings.name}."),
            )
        return Answer(
            "200 OK",
            "Se désinscrire",
            self.say(f"Voulez-vous que l’adresse {subscriber.address} ne reçoive plus {self.settings.name} ?")
            + pages.button_form(f"?token={quote(token, safe='.')}", "Me désinscrire", ()),
        )


NAME_REFUSED = f"Ce nom n’est pas accepté ({MAX_TEXT} caractères au plus, sur une ligne)."


def _signup_error(address: str, name: str, consent: str) -> str:
    if not address:
        return "Indiquez votre adresse email."
    if len(address) > MAX_ADDRESS or "\r" in address or "\n" in address or "@" not in address:
        return "Cette adresse email n’est pas valide."
    if not _storable(name):
        return NAME_REFUSED
    if consent != "oui":
        return "Cochez la case de consentement pour vous inscrire."
    return ""


def _storable(name: str) -> bool:
    """The store's own rule for a name (one line, MAX_TEXT characters), told here as the form's message."""
    try:
        clean_text(name)
    except SubscriberError:
        return False
    return True


def _query(environ: dict) -> dict[str, list[str]]:
    return parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=20)


def _form(environ: dict) -> dict[str, list[str]]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Answer("400 Bad Request", "Demande invalide", pages.p("Cette demande est mal formée.")) from None
    if length > MAX_BODY:
        raise Answer("413 Content Too Large", "Demande trop grande", pages.p("Cette demande est trop volumineuse."))
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return {}
    try:
        return parse_qs(body.decode("utf-8", "replace"), max_num_fields=20)
    except ValueError:
        raise Answer("400 Bad Request", "Demande invalide", pages.p("Cette demande est mal formée.")) from None


def make_app(settings: Settings, root: Path | None, sending: SendingConfig, serve: ServeConfig, **kwargs) -> Service:
    return Service(settings, root, sending, serve, **kwargs)
