"""A partner's RSS or Atom feed → Markdown bullets for the « Inspiration » rubric.

    - ➡️ [Titre de l’article](https://partenaire.example/article)

The feed is untrusted: it is read with a size cap (and, over the network, a time limit for the
whole download), parsed by feedparser, and every text is reduced to plain text (no tag, no control
character) and escaped so that nothing in it can become a link, an image or HTML once pasted into
an issue. Links other than http(s) are dropped.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from newsletter import __version__
from newsletter.errors import NewsletterError, os_reason
from newsletter.render.sanitize import shorten, text_of

DEFAULT_TIMEOUT = 10.0  # seconds for the whole download
MAX_FEED_BYTES = 5_000_000
SUMMARY_LENGTH = 160
BULLET = "- ➡️ "
_CHUNK = 64 * 1024
_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
_URL_SAFE = "/:?#[]@!$&'*+,;=%~-._"


class FeedError(NewsletterError):
    """The feed cannot be had or read; the message (French, one line) says why."""


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    published: dt.date | None
    summary: str


@dataclass(frozen=True)
class Feed:
    title: str
    items: tuple[Item, ...]
    skipped: int  # items without a usable link


@dataclass(frozen=True)
class Download:
    data: bytes
    headers: dict[str, str]  # what feedparser needs of the HTTP response: type and location


def read_feed(source: str, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = MAX_FEED_BYTES) -> Download:
    """The feed's bytes, from an http(s) URL or a local file."""
    scheme = urlsplit(source).scheme.lower() if "://" in source else ""
    if scheme in ("http", "https"):
        return fetch(source, timeout, max_bytes)
    if scheme:
        raise FeedError(f"{source} : adresse non prise en charge (http:// ou https:// seulement)")
    return Download(_read_file(Path(source), max_bytes), {})


def fetch(url: str, timeout: float, max_bytes: int) -> Download:
    """GET `url`: at most `max_bytes`; no wait longer than `timeout` for the server, and the
    download abandoned once `timeout` seconds have passed in all (so at worst twice `timeout`)."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"User-Agent": f"newsletter/{__version__}", "Accept": _ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_big(url, max_bytes)
            data = bytearray()
            while chunk := response.read1(_CHUNK):
                data += chunk
                if len(data) > max_bytes:
                    raise _too_big(url, max_bytes)
                if time.monotonic() > deadline:
                    raise TimeoutError
            headers = {"content-type": response.headers.get("Content-Type", ""), "content-location": response.url}
            return Download(bytes(data), headers)
    except urllib.error.HTTPError as error:
        raise FeedError(f"{url} : le serveur a répondu {error.code} ({error.reason})") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, (TimeoutError, socket.timeout)):
            raise _too_slow(url, timeout) from None
        raise FeedError(f"{url} : adresse injoignable ({_reason(error.reason)})") from None
    except TimeoutError:
        raise _too_slow(url, timeout) from None
    except (OSError, ValueError) as error:  # connection reset, bad URL, invalid HTTP…
        raise FeedError(f"{url} : téléchargement impossible ({_reason(error)})") from None


def _read_file(path: Path, max_bytes: int) -> bytes:
    try:
        if path.stat().st_size > max_bytes:
            raise _too_big(str(path), max_bytes)
        with path.open("rb") as handle:  # a device or a pipe has no size: read one byte too many
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise FeedError(f"{path} : fichier introuvable") from None
    except IsADirectoryError:
        raise FeedError(f"{path} : c’est un dossier, pas un fichier") from None
    except OSError as error:
        raise FeedError(f"{path} : lecture impossible ({os_reason(error)})") from None
    if len(data) > max_bytes:
        raise _too_big(str(path), max_bytes)
    return data


def parse_feed(download: Download, source: str) -> Feed:
    """Items of an RSS or Atom feed, in the feed's order; a FeedError when it is not one."""
    import feedparser

    headers = {name: value for name, value in download.headers.items() if value}
    try:
        # A stream, never bytes or str: feedparser would take those for a path or a URL to open.
        parsed = feedparser.parse(
            io.BytesIO(download.data), response_headers=headers, sanitize_html=True, resolve_relative_uris=True
        )
    except Exception as error:  # feedparser catches almost everything itself; never a traceback
        raise FeedError(f"{source} : flux illisible ({type(error).__name__})") from None
    if not parsed.get("entries") and (parsed.get("bozo") or not parsed.get("version")):
        reason = _bozo_reason(parsed.get("bozo_exception")) if parsed.get("bozo") else "ni RSS ni Atom"
        raise FeedError(f"{source} : ce n’est pas un flux RSS ou Atom lisible ({reason})")
    items, skipped = [], 0
    for entry in parsed.get("entries", ()):
        item = _item(entry)
        if item is None:
            skipped += 1
        else:
            items.append(item)
    return Feed(text_of(parsed.get("feed", {}).get("title", "")), tuple(items), skipped)


def _item(entry) -> Item | None:
    link = safe_link(entry.get("link", ""))
    if link is None:
        return None
    summary = text_of(entry.get("summary", ""))
    title = text_of(entry.get("title", ""))
    if not title:  # the summary's first words stand for it, else the site's name
        title, summary = shorten(summary, 80) or urlsplit(link).netloc, ""
    moment = entry.get("published_parsed") or entry.get("updated_parsed")
    try:
        published = dt.date(*moment[:3]) if moment else None
    except (TypeError, ValueError):  # a date feedparser read but Python cannot hold (year 0…)
        published = None
    return Item(title, link, published, summary)


def recent(items: tuple[Item, ...] | list[Item], since: dt.date | None = None, limit: int | None = None) -> list[Item]:
    """Newest first (undated items after the dated ones, in the feed's order); with `since`, only
    items dated that day or later."""
    chosen = [item for item in items if since is None or (item.published is not None and item.published >= since)]
    chosen.sort(key=lambda item: item.published or dt.date.min, reverse=True)
    return chosen[:limit] if limit is not None else chosen


def safe_link(value: str) -> str | None:
    """An absolute http(s) URL, percent-encoded so it cannot end a Markdown link early; else None."""
    value = text_of(value) if "<" in value or "&" in value else value.strip()
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(value, safe=_URL_SAFE)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]])")
_ENTITY_LIKE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def escape_markdown(text: str) -> str:
    """Text that Markdown shows as it is: no emphasis, link, image, code or HTML can start in it."""
    text = _ENTITY_LIKE.sub("&amp;", text)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("<", "&lt;")


def markdown_line(item: Item, summary: bool = False) -> str:
    line = f"{BULLET}[{escape_markdown(item.title)}]({item.link})"
    if summary and item.summary:
        line += " : " + escape_markdown(shorten(item.summary, SUMMARY_LENGTH))
    return line


def _too_big(source: str, max_bytes: int) -> FeedError:
    return FeedError(f"{source} : flux trop volumineux (plus de {max_bytes / 1e6:.0f} Mo)")


def _too_slow(url: str, timeout: float) -> FeedError:
    return FeedError(f"{url} : le serveur ne répond pas (délai de {timeout:g} s dépassé)")


def _reason(reason: object) -> str:
    if isinstance(reason, socket.gaierror):
        return "nom de domaine inconnu"
    if isinstance(reason, ConnectionRefusedError):
        return "connexion refusée"
    if isinstance(reason, ConnectionResetError):
        return "connexion interrompue"
    if isinstance(reason, ssl.SSLError):
        return "échec de la connexion sécurisée"
    if isinstance(reason, OSError) and reason.strerror:
        return os_reason(reason)
    return text_of(str(reason))[:120] or type(reason).__name__


def _bozo_reason(error: object) -> str:
    import xml.sax

    if isinstance(error, xml.sax.SAXParseException):
        return f"XML invalide à la ligne {error.getLineNumber()}"
    name = type(error).__name__
    if name == "CharacterEncodingUnknown":
        return "encodage des caractères inconnu"
    if name == "NonXMLContentType":
        return "le contenu n’est pas du XML"
    return "format inconnu"
