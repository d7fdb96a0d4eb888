"""The `[smtp]` and `[sending]` tables of `newsletter.toml`, typed; every key has a working default.

```toml
[sending]
transport = "outbox"          # or "smtp"
outbox = "outbox"             # folder of .eml files, relative to the project
database = "subscribers.sqlite3"
retries = 5                   # new attempts for a temporary refusal (4xx), over every run; then it fails
backoff = 300                 # seconds before the first retry, doubled at each one (5, 10, 20, 40, 80 min)
wait = 120                    # a run waits for a retry due within this many seconds; later ones: next run
reconnect = 3                 # new attempts when the server cannot be reached (refused, 421 greeting)
reconnect_delay = 5           # seconds before the first, doubled at each one
unknown = "hold"              # messages maybe delivered (connection cut after sending): "hold" or "resend"
secret = ""                   # signs unsubscribe links; NEWSLETTER_SECRET wins; else one is generated
unsubscribe_mailto = ""       # address of the mailto unsubscribe (default: bounce_address, else the sender)
list_id = ""                  # List-Id (default: from the letter's name and the site's domain)
bounce_address = ""           # envelope sender; each message gets bounces+<token>@… (VERP); default: From

[bounces]                     # `newsletter bounces`
source = ""                   # default mailbox: an mbox file, a Maildir folder, imaps://user@host/INBOX
password_env = "NEWSLETTER_IMAP_PASSWORD"   # the IMAP password is only ever read from the environment
soft_limit = 3                # a subscriber bounces after this many issues in a row soft-bounced
cafile = ""                   # CA bundle for an IMAP server with a private certificate
timeout = 30

[sending.domains."orange.fr"] # a pace per recipient domain, on top of [smtp] rate; "*": every other one
rate = "30/min"               # "N/s", "N/min", "N/h" or "N/jour"

[sending.dkim]                # optional: sign each message (when the relay does not sign)
selector = "lettre2025"       # the DNS record is <selector>._domainkey.<domain>
domain = "example.org"        # the sender's domain, or a parent of it (DMARC alignment)
private_key = "dkim.pem"      # RSA private key (PEM), relative to the project
headers = ["From", "To", …]   # optional: the signed headers (default: DKIM_HEADERS)

[smtp]
host = "localhost"
port = 587                    # default: 587 for starttls, 465 for tls, 25 for none
security = "starttls"         # "starttls", "tls" (implicit) or "none"
username = ""
password_env = "NEWSLETTER_SMTP_PASSWORD"   # the password is only ever read from the environment
timeout = 30
connections = 1               # parallel connections, each reused for many messages
rate = 0                      # messages per second over all connections; 0: no limit
cafile = ""                   # CA bundle for a server with a private certificate
```
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsletter.errors import SourceError
from newsletter.send.ratelimit import parse_rate
from newsletter.settings import SETTINGS_FILE, Settings, table_problem
from newsletter.subscribers.addresses import AddressError, normalize_address
from newsletter.text import ascii_only, slug

SECRET_ENV = "NEWSLETTER_SECRET"
TRANSPORTS = ("outbox", "smtp")
SECURITIES = {"starttls": 587, "tls": 465, "none": 25}
DKIM_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
    "Reply-To",
)
# RFC 6376 §5.4: headers a relay may add or rewrite; signing them breaks the signature.
_UNSIGNABLE = {"return-path", "received", "comments", "keywords", "bcc", "resent-bcc", "dkim-signature"}
_HEADER_NAME = re.compile(r"[!-9;-~]+")
_SELECTOR = re.compile(r"[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)*")


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password_env: str = "NEWSLETTER_SMTP_PASSWORD"
    timeout: float = 30.0
    connections: int = 1
    rate: float = 0.0
    cafile: str = ""

    def password(self) -> str | None:
        return os.environ.get(self.password_env) or None


@dataclass(frozen=True)
class DkimConfig:
    """`[sending.dkim]`. The key is read when a send starts (`send.dkim.Signer`), not here: the
    commands that never sign (`subscribers`, `serve-unsubscribe`) need not be able to read it."""

    selector: str
    domain: str
    private_key: Path
    source: Path  # the settings file, and the line of `private_key` in it, to locate a bad key
    key_line: int | None
    headers: tuple[str, ...] = DKIM_HEADERS


@dataclass(frozen=True)
class BouncesConfig:
    source: str = ""
    password_env: str = "NEWSLETTER_IMAP_PASSWORD"
    soft_limit: int = 3
    cafile: str = ""
    timeout: float = 30.0

    def password(self) -> str | None:
        return os.environ.get(self.password_env) or None


@dataclass(frozen=True)
class SendingConfig:
    """Everything `send/` needs to know about a project, resolved to absolute paths and values."""

    sender_name: str
    sender_address: str
    reply_to: str | None
    unsubscribe_url: str
    unsubscribe_mailto: str
    list_name: str
    list_id: str
    database: Path
    outbox: Path
    transport: str = "outbox"
    retries: int = 5
    backoff: float = 300.0
    wait: float = 120.0
    reconnect: int = 3
    reconnect_delay: float = 5.0
    unknown: str = "hold"
    domains: Mapping[str, float] = field(default_factory=dict)  # messages per second, per recipient domain
    secret: str | None = None
    smtp: SmtpConfig = SmtpConfig()
    dkim: DkimConfig | None = None
    bounce_address: str = ""  # empty: the envelope sender is `sender_address`, as in From
    bounces: BouncesConfig = BouncesConfig()
    profile_url: str = ""  # the personal page of `newsletter serve`, when `[serve] public_url` is set


_SENDING_KEYS = {
    "transport": str,
    "outbox": str,
    "database": str,
    "retries": int,
    "backoff": (int, float),
    "wait": (int, float),
    "reconnect": int,
    "reconnect_delay": (int, float),
    "unknown": str,
    "secret": str,
    "unsubscribe_mailto": str,
    "list_id": str,
    "domains": dict,
    "dkim": dict,
    "bounce_address": str,
}
UNKNOWN_POLICIES = ("hold", "resend")
DKIM_TABLE = "sending.dkim"
_DKIM_KEYS = {"selector": str, "domain": str, "private_key": str, "headers": list}
_BOUNCES_KEYS = {"source": str, "password_env": str, "soft_limit": int, "cafile": str, "timeout": (int, float)}
_SMTP_KEYS = {
    "host": str,
    "port": int,
    "security": str,
    "username": str,
    "password_env": str,
    "timeout": (int, float),
    "connections": int,
    "rate": (int, float),
    "cafile": str,
}


def sending_config(settings: Settings, root: Path) -> SendingConfig:
    """Type and check the `[sending]` and `[smtp]` tables; a bad value is a SourceError on its line."""
    path = settings.path or root / SETTINGS_FILE
    sending = _checked(settings.table("sending"), _SENDING_KEYS, "sending", path)
    smtp_table = _checked(settings.table("smtp"), _SMTP_KEYS, "smtp", path)
    smtp = _smtp(smtp_table, path)
    bounce_address = _bounce_address(sending.get("bounce_address", ""), path)
    bounces = _bounces(_checked(settings.table("bounces"), _BOUNCES_KEYS, "bounces", path), path)
    transport = sending.get("transport", "outbox")
    if transport not in TRANSPORTS:
        raise _error(path, "transport", f"transport inconnu « {transport} » (outbox ou smtp)")
    for key in ("retries", "backoff", "wait", "reconnect", "reconnect_delay"):
        if sending.get(key, 0) < 0:
            raise _error(path, key, f"« {key} » ne peut pas être négatif")
    unknown = sending.get("unknown", "hold")
    if unknown not in UNKNOWN_POLICIES:
        raise _error(
            path, "unknown", f"« unknown » inconnu « {unknown} » (hold : les garder de côté ; resend : les renvoyer)"
        )
    return SendingConfig(
        sender_name=settings.sender_name,
        sender_address=settings.sender_address,
        reply_to=settings.reply_to,
        unsubscribe_url=settings.unsubscribe_url,
        profile_url=profile_page(settings),
        unsubscribe_mailto=sending.get("unsubscribe_mailto") or bounce_address or settings.sender_address,
        list_name=settings.name,
        list_id=sending.get("list_id") or default_list_id(settings),
        database=root / sending.get("database", "subscribers.sqlite3"),
        outbox=root / sending.get("outbox", "outbox"),
        transport=transport,
        retries=sending.get("retries", SendingConfig.retries),
        backoff=float(sending.get("backoff", SendingConfig.backoff)),
        wait=float(sending.get("wait", SendingConfig.wait)),
        reconnect=sending.get("reconnect", SendingConfig.reconnect),
        reconnect_delay=float(sending.get("reconnect_delay", SendingConfig.reconnect_delay)),
        unknown=unknown,
        domains=_domains(sending.get("domains", {}), path),
        secret=os.environ.get(SECRET_ENV) or sending.get("secret") or None,
        smtp=smtp,
        dkim=_dkim(sending.get("dkim"), path, root, settings.sender_address),
        bounce_address=bounce_address,
        bounces=bounces,
    )


def _bounce_address(value: str, path: Path) -> str:
    if not value:
        return ""
    try:
        address = normalize_address(value)
    except AddressError as error:
        raise _error(path, "bounce_address", f"« bounce_address » : {error}") from None
    if "+" in address.partition("@")[0]:
        raise _error(
            path,
            "bounce_address",
            "« bounce_address » ne peut pas contenir « + » : "
            "l’envoi y ajoute +<jeton> pour reconnaître l’abonné de chaque rebond",
        )
    return address


def _bounces(table: Mapping[str, Any], path: Path) -> BouncesConfig:
    if table.get("soft_limit", 1) < 1:
        raise _error(path, "soft_limit", "« soft_limit » doit valoir au moins 1")
    if table.get("timeout", 1) <= 0:
        raise _error(path, "timeout", "« timeout » doit être positif")
    return BouncesConfig(
        source=table.get("source", ""),
        password_env=table.get("password_env", BouncesConfig.password_env),
        soft_limit=table.get("soft_limit", 3),
        cafile=table.get("cafile", ""),
        timeout=float(table.get("timeout", 30)),
    )


def _domains(table: Mapping[str, Any], path: Path) -> dict[str, float]:
    """`[sending.domains."orange.fr"] rate = "30/min"` → {"orange.fr": 0.5}; `"*"` is every other domain."""
    rates = {}
    for domain, entry in table.items():
        where = f'sending.domains."{domain}"'
        if not isinstance(entry, dict) or set(entry) != {"rate"}:
            raise _error(path, "domains", f'[{where}] attend une seule clé : rate = "30/min"')
        try:
            rates[domain.lower().strip()] = parse_rate(entry["rate"])
        except ValueError as error:
            raise _error(path, "rate", f"[{where}] {error}", where) from None
    return rates


def _smtp(table: Mapping[str, Any], path: Path) -> SmtpConfig:
    security = table.get("security", "starttls")
    if security not in SECURITIES:
        raise _error(path, "security", f"« security » inconnu « {security} » (starttls, tls ou none)")
    port = table.get("port", SECURITIES[security])
    if not 0 < port < 65536:
        raise _error(path, "port", f"port SMTP invalide : {port}")
    if table.get("connections", 1) < 1:
        raise _error(path, "connections", "« connections » doit valoir au moins 1")
    for key in ("rate", "timeout"):
        if table.get(key, 1) < 0:
            raise _error(path, key, f"« {key} » ne peut pas être négatif")
    return SmtpConfig(
        host=table.get("host", "localhost"),
        port=port,
        security=security,
        username=table.get("username", ""),
        password_env=table.get("password_env", SmtpConfig.password_env),
        timeout=float(table.get("timeout", 30)),
        connections=table.get("connections", 1),
        rate=float(table.get("rate", 0)),
        cafile=table.get("cafile", ""),
    )


def _dkim(table: Mapping[str, Any] | None, path: Path, root: Path, sender: str) -> DkimConfig | None:
    if table is None:
        return None
    _checked(table, _DKIM_KEYS, DKIM_TABLE, path)
    for key in ("selector", "domain", "private_key"):
        if not table.get(key, "").strip():
            raise _dkim_error(path, key if key in table else DKIM_TABLE, f"« {key} » manque dans [sending.dkim]")
    selector = table["selector"].strip().lower()
    if not _SELECTOR.fullmatch(selector):
        raise _dkim_error(
            path, "selector", f"sélecteur DKIM invalide « {table['selector']} » (lettres, chiffres, - et .)"
        )
    domain = _dkim_domain(table["domain"], sender, path)
    headers = _dkim_headers(table.get("headers", list(DKIM_HEADERS)), path)
    key_line = _line_of(path, "private_key", DKIM_TABLE)
    return DkimConfig(selector, domain, root / table["private_key"], path, key_line, headers)


def _dkim_domain(value: str, sender: str, path: Path) -> str:
    """The signing domain, refused unless DMARC can align it with the From domain (relaxed mode)."""
    try:
        domain = normalize_address(f"dkim@{value.strip().rstrip('.')}").rpartition("@")[2]
    except AddressError:
        raise _dkim_error(path, "domain", f"domaine DKIM invalide « {value} »") from None
    try:
        own = normalize_address(sender).rpartition("@")[2]
    except AddressError:
        return domain  # the sender's address is refused with its own message when a message is built
    if domain != own and not own.endswith("." + domain) and not domain.endswith("." + own):
        raise _dkim_error(
            path,
            "domain",
            f"le domaine DKIM « {domain} » n’est pas celui de l’expéditeur ({own}) "
            "ni un domaine parent : les destinataires (DMARC) ignoreraient la signature",
        )
    return domain


def _dkim_headers(names: list[Any], path: Path) -> tuple[str, ...]:
    if not all(isinstance(name, str) and _HEADER_NAME.fullmatch(name) for name in names):
        raise _dkim_error(path, "headers", "« headers » dans [sending.dkim] doit être une liste de noms d’en-têtes")
    lower = {name.lower() for name in names}
    if "from" not in lower:
        raise _dkim_error(path, "headers", "« headers » dans [sending.dkim] doit contenir « From » (RFC 6376)")
    if lower & _UNSIGNABLE:
        refused = ", ".join(sorted(lower & _UNSIGNABLE))
        raise _dkim_error(
            path, "headers", f"en-têtes à ne pas signer dans [sending.dkim] : {refused} (un relais les modifie)"
        )
    return tuple(names)


def _checked(table: Mapping[str, Any], keys: dict[str, Any], name: str, path: Path) -> Mapping[str, Any]:
    """`table` once settings.table_problem finds nothing wrong; a password written down is refused first."""
    if "password" in table and name in ("smtp", "bounces"):
        kind, variable = ("SMTP", SmtpConfig.password_env) if name == "smtp" else ("IMAP", BouncesConfig.password_env)
        raise _error(
            path,
            "password",
            f"le mot de passe {kind} ne s’écrit pas dans les réglages : mettez-le dans "
            f"la variable d’environnement nommée par « password_env » ({variable})",
        )
    if problem := table_problem(table, keys, name):
        raise _error(path, *problem)
    return table


def _error(path: Path, key: str, message: str, table: str | None = None) -> SourceError:
    return SourceError(path, _line_of(path, key, table), message)


def _dkim_error(path: Path, key: str, message: str) -> SourceError:
    return _error(path, key, message, DKIM_TABLE)


def _line_of(path: Path, key: str, table: str | None = None) -> int | None:
    """The line that sets `key` (or opens the table `[key]`), looked for first after `[table]`."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeError):
        return None
    pattern = re.compile(rf"^\s*({re.escape(key)}\s*=|\[\s*{re.escape(key)}\s*\])")
    header = re.compile(rf"^\s*\[\s*{re.escape(table or '')}\s*\]")
    start = next((n for n, line in enumerate(lines) if table and header.match(line)), 0)
    found = (n for n, line in enumerate(lines, 1) if n > start and pattern.match(line))
    return next(found, None) or next((n for n, line in enumerate(lines, 1) if pattern.match(line)), None)


def profile_page(settings: Settings) -> str:
    """The personal page's address (without its token), or "" when the service has no public URL."""
    return f"{settings.service_url}/mes-donnees" if settings.service_url else ""


def default_list_id(settings: Settings) -> str:
    """`territoires-pilotes.example.org`: the letter's name as a slug, under the site's domain."""
    name = slug(ascii_only(settings.name.lower())) or "lettre"
    host = urlsplit(settings.base_url).hostname or settings.sender_address.rpartition("@")[2]
    return f"{name}.{host}"
