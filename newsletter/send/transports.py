"""Where messages go: an outbox folder of `.eml` files, or an SMTP server.

A transport's `send()` answers with an `Outcome` saying what the journal must record:

- `sent`: the server accepted the message (its reply is kept);
- `deferred`: a temporary refusal (4xx), or the connection failed before the message was handed
  over: nothing was delivered, the message may be sent again later;
- `failed`: a permanent refusal (5xx);
- `unknown`: the connection broke after the whole message was handed over and before the server
  answered: it may or may not have been delivered.

A problem that stops every message (no server, login refused) raises `TransportError`.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from newsletter.errors import NewsletterError, os_reason
from newsletter.fsutil import write_atomic
from newsletter.send.config import SmtpConfig

SENT, DEFERRED, FAILED, UNKNOWN = "sent", "deferred", "failed", "unknown"


class TransportError(NewsletterError):
    """Nothing can be sent through this transport (French message).

    `temporary`: the server may take messages later (a 421 greeting, a refused connection, a
    time-out): the run backs off and tries again, then leaves the messages waiting for the next run.
    Otherwise (a refused login, a TLS failure, an outbox that cannot be written) only a person can
    mend it.
    """

    def __init__(self, message: str, *, temporary: bool = False):
        super().__init__(message)
        self.temporary = temporary


@dataclass(frozen=True)
class Outcome:
    status: str
    reply: str


class Transport(Protocol):
    def connect(self) -> None: ...
    def send(self, sender: str, recipient: str, data: bytes, name: str) -> Outcome: ...
    def close(self) -> None: ...


class OutboxTransport:
    """Writes each message as `<folder>/<name>.eml`, atomically: the default, needing no server.

    With `return_path`, the envelope sender is written first as `Return-Path:`, as the receiving
    server would, so that the outbox shows where bounces would go.
    """

    def __init__(self, folder: Path, return_path: bool = False):
        self.folder, self.return_path = folder, return_path

    def connect(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise TransportError(f"{self.folder}: impossible de créer la boîte d’envoi ({os_reason(error)})") from None

    def send(self, sender: str, recipient: str, data: bytes, name: str) -> Outcome:
        path = self.folder / f"{_safe(name)}.eml"
        if self.return_path:
            data = b"Return-Path: <" + sender.encode("ascii") + b">\r\n" + data
        try:
            write_atomic(path, data)
        except OSError as error:
            raise TransportError(f"{path}: écriture impossible ({os_reason(error)})") from None
        return Outcome(SENT, f"écrit dans {path}")

    def close(self) -> None:
        pass


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._+-]", "_", name)


class SmtpTransport:
    """One SMTP connection, opened on first use and reused for every message until it breaks."""

    def __init__(self, config: SmtpConfig):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    @property
    def where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def connect(self) -> None:
        """Open, secure and log in if not already done; TransportError if it cannot be done."""
        if self.smtp is not None:
            return
        config = self.config
        password = config.password()
        if config.username and not password:
            raise TransportError(
                f"mot de passe SMTP absent : définissez la variable d’environnement {config.password_env}"
            )
        try:
            smtp = self._open()
            try:
                if config.username and password:  # a username without a password was refused above
                    smtp.login(config.username, password)
            except BaseException:
                _quietly_close(smtp)
                raise
        except smtplib.SMTPAuthenticationError as error:
            raise TransportError(
                f"le serveur SMTP {self.where} a refusé l’identification de « {config.username} » : {_reply(error)}"
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            raise TransportError(f"le serveur SMTP {self.where} ne le permet pas : {error}") from None
        except smtplib.SMTPResponseException as error:
            raise TransportError(
                f"le serveur SMTP {self.where} refuse la connexion : {_reply(error)}",
                temporary=400 <= error.smtp_code < 500,
            ) from None
        except (ssl.SSLError, ssl.CertificateError) as error:
            raise TransportError(f"échec TLS avec le serveur SMTP {self.where} : {error}") from None
        except (OSError, smtplib.SMTPException) as error:
            raise TransportError(
                f"impossible de joindre le serveur SMTP {self.where} : {_why(error)}", temporary=True
            ) from None
        self.smtp = smtp

    def _open(self) -> smtplib.SMTP:
        config = self.config
        context = ssl.create_default_context(cafile=config.cafile or None)
        # Given the host, the constructors connect at once (and keep it for TLS's name check).
        smtp: smtplib.SMTP
        if config.security == "tls":
            smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        try:
            smtp.ehlo()
            if config.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError('pas de STARTTLS (réglez security = "none" ou "tls")')
                smtp.starttls(context=context)
                smtp.ehlo()
        except BaseException:
            _quietly_close(smtp)
            raise
        return smtp

    def send(self, sender: str, recipient: str, data: bytes, name: str = "") -> Outcome:
        """Send one message on the open connection (call `connect` first)."""
        smtp = self.smtp
        assert smtp is not None, "connect() first"
        try:
            for command, argument in (("mail", sender), ("rcpt", recipient)):
                code, reply = getattr(smtp, command)(argument)
                if code != 250 and not (command == "rcpt" and code == 251):
                    return self._refused(code, reply)
            code, reply = smtp.docmd("data")
            if code != 354:
                return self._refused(code, reply)
            payload = _dot_stuffed(data)
            smtp.send(payload + (b"" if payload.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        except (OSError, smtplib.SMTPException) as error:
            self.drop()
            return Outcome(DEFERRED, f"connexion perdue avant la remise du message : {_why(error)}")
        try:
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as error:
            self.drop()
            return Outcome(
                UNKNOWN, f"connexion perdue après la remise du message, sans réponse du serveur : {_why(error)}"
            )
        if code == 250:
            return Outcome(SENT, _text(code, reply))
        return self._refused(code, reply)

    def _refused(self, code: int, reply: bytes) -> Outcome:
        text = _text(code, reply)
        if code == 421 or code < 0:  # the server is closing the connection
            self.drop()
        elif self.smtp is not None:
            try:
                self.smtp.rset()
            except (OSError, smtplib.SMTPException):
                self.drop()
        return Outcome(FAILED if 500 <= code < 600 else DEFERRED, text)

    def drop(self) -> None:
        if self.smtp is not None:
            _quietly_close(self.smtp)
            self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.drop()


def _dot_stuffed(data: bytes) -> bytes:
    """RFC 5321 transparency: a line that starts with a dot gets a second one (bytes.replace is
    ~15 times faster than smtplib's regular expression on a 80 KB message)."""
    stuffed = data.replace(b"\n.", b"\n..")
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


def _quietly_close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.close()
    except OSError:
        pass


def _text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"


def _reply(error: smtplib.SMTPResponseException) -> str:
    return _text(error.smtp_code, error.smtp_error)


def _why(error: BaseException) -> str:
    if isinstance(error, socket.timeout):
        return "délai dépassé"
    if isinstance(error, ConnectionRefusedError):
        return "connexion refusée (aucun serveur n’écoute à cette adresse)"
    if isinstance(error, socket.gaierror):
        return "nom d’hôte inconnu"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "le serveur a fermé la connexion"
    if isinstance(error, OSError) and error.strerror:
        return os_reason(error)
    return str(error) or type(error).__name__
