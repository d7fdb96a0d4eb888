"""One message per subscriber, from an issue rendered once.

This is the one MIME builder: the `.eml` preview of `newsletter build` and every message sent come
from it, so what the editor previews is what subscribers get. The headers that are the same for
every subscriber (From, Reply-To, Subject, List-Id…) are written once per issue (folded in lines of
at most 78 characters, RFC 2047 encoded-words of at most 75), and so is the quoted-printable encoding of
the text and HTML parts: each part is cut at its personal marks (`newsletter.render.personalize`)
and every piece between them is encoded once, ending in a soft line break. Per subscriber, only the
greeting and the unsubscribe link are escaped (by `personalize` itself, applied to the marks alone),
encoded and slotted in; the decoded parts are exactly `personalize(parts, greeting, url)`.
Building a whole `EmailMessage` per subscriber costs ~4.5 ms for a 45 KB issue, more than sending
it; this costs a few tens of microseconds. `tests/test_send.py` parses the result with `email`.

`Date:` is the instant the message is built, just before it is handed over (`clock`), never the
issue's date: a message dated years back sorts among old mail and counts against us with spam
filters. Only the preview, which must be the same bytes at every build, passes a fixed clock.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime, formataddr, make_msgid
from types import SimpleNamespace
from typing import TYPE_CHECKING
from urllib.parse import quote

from newsletter.errors import NewsletterError
from newsletter.render.personalize import (
    ACTION_MARK,
    FALLBACK_GREETING,
    GREETING_MARK,
    PROFILE_MARK,
    UNSUBSCRIBE_MARK,
    personalize,
)
from newsletter.send.config import SendingConfig
from newsletter.send.tokens import PROFILE, TEST_ID, make_token, make_verp_token, message_digest, verp_address
from newsletter.subscribers.addresses import AddressError, normalize_address

if TYPE_CHECKING:
    from newsletter.send.dkim import Signer

TEST_PREFIX = "[TEST] "


class MessageError(NewsletterError):
    """A message that must not be built (a header value with a line break…); French message."""


@dataclass(frozen=True)
class Attachment:
    """A file carried after the text and HTML (a correction's updated `.ics`)."""

    filename: str
    content_type: str  # with its parameters, e.g. 'text/calendar; charset="utf-8"; method=PUBLISH'
    data: bytes


@dataclass(frozen=True)
class Letter:
    """What `send/` needs of an issue, rendered once: `html` and `text` still hold the personal marks."""

    number: int
    date: dt.datetime  # the publication instant: the preview's Date, and the clock's time zone
    subject: str
    html: str
    text: str
    greeting: str = ""  # the issue's own generic greeting, for subscribers without a name
    attachments: tuple[Attachment, ...] = ()
    correction: int = 0  # the round of a correction of the issue (« rectificatif »); 0: the issue itself


@dataclass(frozen=True)
class Recipient:
    id: int
    address: str
    name: str = ""


@dataclass(frozen=True)
class Message:
    recipient: str
    message_id: str
    data: bytes
    envelope: str  # the envelope sender (MAIL FROM): where bounces go


def header_safe(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise MessageError(f"retour à la ligne interdit dans {what} : {value!r}")
    return value


class MessageFactory:
    """Builds the message of each subscriber for one letter; made once per send.

    With a `signer` (DKIM), each message is signed as the last step, over the bytes handed over.
    """

    def __init__(
        self,
        config: SendingConfig,
        letter: Letter,
        secret: str,
        *,
        test: bool = False,
        preview: bool = False,
        signer: Signer | None = None,
        transactional: bool = False,
    ):
        self.config, self.letter, self.secret, self.test, self.preview = config, letter, secret, test, preview
        self.transactional = transactional  # one message of its kind (a sign-up's confirmation): its own Message-ID
        self.signer = signer
        zone = letter.date.tzinfo
        self.clock: Callable[[], dt.datetime] = (
            (lambda: letter.date) if preview else (lambda: dt.datetime.now(zone).replace(microsecond=0))
        )
        self.subject = subject = (TEST_PREFIX if test else "") + header_safe(letter.subject, "le sujet")
        self.domain = normalize_address(config.sender_address).rpartition("@")[2]
        self.boundary = "=_" + hashlib.sha256(f"{letter.number}:{letter.html}".encode()).hexdigest()[:32]
        self.mixed = (
            "=_" + hashlib.sha256(f"mixed:{self.boundary}".encode()).hexdigest()[:32] if letter.attachments else ""
        )
        self.head = self._common_headers(subject)
        boundary = self.boundary.encode("ascii")
        self.text_part = _EncodedPart("plain", letter.text, self._opening() + b"\r\n--" + boundary + b"\r\n")
        self.html_part = _EncodedPart("html", letter.html, b"\r\n--" + boundary + b"\r\n")
        self.closing = b"\r\n--" + boundary + b"--\r\n" + self._attachments()
        self.generic_greeting = letter.greeting or FALLBACK_GREETING
        self.mailto = _address(config.unsubscribe_mailto, "l’adresse de désinscription")
        if not header_safe(config.unsubscribe_url, "le lien de désinscription").isascii():
            raise MessageError(f"le lien de désinscription doit être écrit en ASCII : {config.unsubscribe_url}")

    def _common_headers(self, subject: str) -> bytes:
        """Headers shared by every subscriber's copy, written by our own folders (see `mailbox_header`)."""
        config = self.config
        sender = _address(config.sender_address, "l’adresse de l’expéditeur")
        name = header_safe(config.sender_name, "le nom de l’expéditeur")
        list_name = header_safe(config.list_name, "le nom de la lettre")
        lines = [b"From: " + mailbox_header(name, sender, "From")]
        if config.reply_to:
            lines.append(b"Reply-To: " + _address(config.reply_to, "l’adresse de réponse").encode("ascii"))
        lines += [
            b"List-Id: " + mailbox_header(list_name, header_safe(config.list_id, "List-Id"), "List-Id"),
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            b"MIME-Version: 1.0",
            f"Content-Type: multipart/{'mixed' if self.mixed else 'alternative'};\r\n"
            f' boundary="{self.mixed or self.boundary}"'.encode("ascii"),
        ]
        head = b"".join(line + b"\r\n" for line in lines)
        return head + b"Subject: " + text_header("Subject", subject) + b"\r\n"

    def _opening(self) -> bytes:
        """With attachments, the text and HTML sit in a multipart/alternative, first of a multipart/mixed."""
        if not self.mixed:
            return b""
        return f'\r\n--{self.mixed}\r\nContent-Type: multipart/alternative;\r\n boundary="{self.boundary}"\r\n'.encode(
            "ascii"
        )

    def _attachments(self) -> bytes:
        """Each attachment base64 encoded once, then the end of the multipart/mixed."""
        if not self.mixed:
            return b""
        pieces = []
        for attachment in self.letter.attachments:
            name = header_safe(attachment.filename, "le nom d’une pièce jointe")
            if (
                not name.isascii()
                or '"' in name
                or not header_safe(attachment.content_type, "une pièce jointe").isascii()
            ):
                raise MessageError(f"nom de pièce jointe à écrire en ASCII, sans guillemets : {name}")
            pieces.append(
                f'\r\n--{self.mixed}\r\nContent-Type: {attachment.content_type}; name="{name}"\r\n'
                f'Content-Disposition: attachment; filename="{name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n'.encode(
                    "ascii"
                )
                + base64.encodebytes(attachment.data).replace(b"\n", b"\r\n").rstrip(b"\r\n")
            )
        return b"".join(pieces) + f"\r\n--{self.mixed}--\r\n".encode("ascii")

    def sample_recipient(self) -> Recipient:
        """A typical subscriber, to show the editor the size of a message before sending."""
        return Recipient(TEST_ID, self.config.sender_address, self.config.sender_name)

    def token(self, recipient: Recipient) -> str:
        return make_token(self.secret, recipient.id, "" if recipient.id == TEST_ID else recipient.address)

    def unsubscribe_url(self, token: str) -> str:
        base = self.config.unsubscribe_url
        if self.preview:  # the same link as the .html and .txt files beside the preview
            return base
        return f"{base}{'&' if '?' in base else '?'}token={token}"

    def profile_url(self, recipient: Recipient) -> str:
        """The personal page, with a token of its own purpose (an unsubscribe token cannot open it)."""
        base = self.config.profile_url
        if not base or self.preview or recipient.id == TEST_ID:
            return base
        return f"{base}?jeton={make_token(self.secret, recipient.id, recipient.address, PROFILE)}"

    def message_id(self, recipient: Recipient) -> str:
        if self.preview:
            return f"<{self.letter.number:03d}.preview@{self.domain}>"
        if self.test or self.transactional:  # not to be hidden by mail clients as a copy of the previous one
            return make_msgid("test" if self.test else "service", domain=self.domain)
        number, correction = self.letter.number, self.letter.correction
        if correction:  # not the issue's own form, which `newsletter bounces` reads as the issue's
            digest = message_digest(
                self.secret, self.config.list_id, number, f"rectificatif-{correction}", recipient.address
            )
            return f"<{number}.r{correction}.{digest}@{self.domain}>"
        return self.original_id(recipient)

    def original_id(self, recipient: Recipient) -> str:
        """The issue's own Message-ID for this subscriber; a correction replies to it: mail clients
        thread them together, and a bounce that quotes it names the issue and the subscriber."""
        digest = message_digest(self.secret, self.config.list_id, self.letter.number, recipient.address)
        return f"<{self.letter.number}.{digest}@{self.domain}>"

    def envelope(self, recipient: Recipient, address: str) -> str:
        """The bounce address, made personal (VERP) for a list send; without one, the sender's."""
        bounce = self.config.bounce_address
        if not bounce:
            return self.config.sender_address
        if self.test or recipient.id == TEST_ID:
            return bounce
        return verp_address(bounce, make_verp_token(self.secret, self.letter.number, recipient.id, address))

    def build(self, recipient: Recipient, action_url: str = "") -> Message:
        """The message of `recipient`; `action_url` fills the action mark of a service message."""
        address = _address(recipient.address, "l’adresse du destinataire")
        name = header_safe(recipient.name, "le nom du destinataire")
        token = self.token(recipient)
        url = self.unsubscribe_url(token)
        profile = self.profile_url(recipient)
        mailto = f"mailto:{self.mailto}?subject={quote('unsubscribe ' + token)}"
        greeting = f"Bonjour {name}," if name else self.generic_greeting
        values = _personal_values(greeting, url, profile, action_url)
        message_id = self.message_id(recipient)
        head = b"".join(
            (
                self.head,
                b"Date: ",
                format_datetime(self.clock()).encode("ascii"),
                b"\r\n",
                b"To: ",
                mailbox_header(name, address),
                b"\r\n",
                b"Message-ID: ",
                message_id.encode("ascii"),
                b"\r\n",
                self._thread(recipient),
                b"List-Unsubscribe: <",
                url.encode("ascii"),
                b">,\r\n <",
                mailto.encode("ascii"),
                b">\r\n",
            )
        )
        body = self.text_part.fill(values["text"]) + self.html_part.fill(values["html"]) + self.closing
        data = head + body
        envelope = self.envelope(recipient, address)
        return Message(address, message_id, self.signer.sign(data) if self.signer else data, envelope)

    def _thread(self, recipient: Recipient) -> bytes:
        if not self.letter.correction or self.preview or self.test:
            return b""
        original = self.original_id(recipient).encode("ascii")
        return b"In-Reply-To: " + original + b"\r\nReferences: " + original + b"\r\n"


PREVIEW_SECRET = "aperçu"  # signs nothing real: the preview's links must stay the same at every build


def preview_message(config: SendingConfig, letter: Letter) -> bytes:
    """The `.eml` preview of `newsletter build`: the message a subscriber without a name would get,
    addressed to the sender, dated at the publication instant so the build stays reproducible, its
    unsubscribe link without a token (as in the `.html` and `.txt` files beside it)."""
    factory = MessageFactory(config, letter, PREVIEW_SECRET, preview=True)
    return factory.build(Recipient(TEST_ID, config.sender_address)).data


def text_header(name: str, value: str) -> bytes:
    """An unstructured header value folded in lines of at most 78 characters, RFC 2047 encoded
    when it is not ASCII (the `email` package's own folder writes 76-character encoded-words)."""
    charset = "us-ascii" if value.isascii() else "utf-8"
    return Header(value, charset, maxlinelen=76, header_name=name).encode(linesep="\r\n").encode("ascii")


_ATOM_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]{1,60}")


def mailbox_header(name: str, address: str, header: str = "To") -> bytes:
    """`Name <address>` as a header value of ASCII lines of at most 78 characters.

    A plain short name is written as is; any other is RFC 2047 encoded in words of at most 75
    characters, folded over as many lines as it takes (a 200-emoji name gives a dozen short lines
    rather than one of 1,100 octets, which RFC 5322 forbids and strict servers refuse).
    """
    if not name:
        return address.encode("ascii")
    if _ATOM_NAME.fullmatch(name):
        return formataddr((name, address)).encode("ascii")
    words = Header(name, "utf-8", maxlinelen=76, header_name=header).encode(linesep="\r\n")
    return f"{words}\r\n <{address}>".encode("ascii")


_PERSONAL = (GREETING_MARK, UNSUBSCRIBE_MARK, PROFILE_MARK, ACTION_MARK)
_SPLIT = re.compile("(" + "|".join(re.escape(mark) for mark in _PERSONAL) + ")")
_MARKS = SimpleNamespace(html="\0".join(_PERSONAL), text="\0".join(_PERSONAL))


def _personal_values(greeting: str, url: str, profile: str = "", action: str = "") -> dict[str, dict[str, bytes]]:
    """The greeting and links as `personalize` writes them in each part, quoted-printable encoded."""
    html, text = personalize(_MARKS, greeting, url, profile, action)
    values = {}
    for kind, filled in (("html", html), ("text", text)):
        values[kind] = {mark: _qp_piece(value) for mark, value in zip(_PERSONAL, filled.split("\0"))}
    return values


class _EncodedPart:
    """One MIME part, quoted-printable encoded once, with slots for the personal values."""

    def __init__(self, subtype: str, content: str, opening: bytes):
        header = (
            f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
        ).encode("ascii")
        crlf = content.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
        pieces = _SPLIT.split(crlf)
        # pieces alternate: text, mark, text, mark, …, text
        self.pieces: list[bytes | str] = [opening + header]
        for index, piece in enumerate(pieces):
            self.pieces.append(piece if index % 2 else _qp_piece(piece))

    def fill(self, values: dict[str, bytes]) -> bytes:
        return b"".join(values[piece] if isinstance(piece, str) else piece for piece in self.pieces)


def _qp_piece(text: str) -> bytes:
    """`text` quoted-printable encoded so that anything may follow it on the same line.

    A piece that does not end a line ends with a soft line break (`=` CRLF), which decoders remove;
    the `X` appended before encoding keeps room for it within 76 characters and makes trailing
    spaces safe, and the final CRLF makes `binascii` use CRLF for its own soft breaks.
    """
    if not text:
        return b""
    if text.endswith("\r\n"):
        return binascii.b2a_qp(text.encode("utf-8"), istext=True)
    encoded = binascii.b2a_qp(text.encode("utf-8") + b"X\r\n", istext=True)[:-3]
    return encoded if encoded.endswith(b"=\r\n") else encoded + b"=\r\n"


def _address(value: str, what: str) -> str:
    header_safe(value, what)
    try:
        return normalize_address(value)
    except AddressError as error:
        raise MessageError(f"{what} : {error}") from None
