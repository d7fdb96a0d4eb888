"""Where feedback is read from: an mbox file, a Maildir folder, or an IMAP mailbox (imaps:// or imap://
with STARTTLS: a password never travels in clear).

`open_mailbox` checks the source at once (the file exists and is an mbox, the folder is a Maildir,
the server answers and accepts the login, the IMAP folder exists), so that a bad source is one
`MailboxError` before anything is read; then the mailbox yields each message's bytes with where it
comes from. Nothing is changed in the mailbox: messages already read are recognised by their key in
the database, so an IMAP folder is opened read-only and nothing is deleted.
"""

from __future__ import annotations

import imaplib
import mailbox
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from newsletter.errors import NewsletterError, os_reason
from newsletter.send.config import BouncesConfig
from newsletter.send.transports import _why as why

IMAP_PORTS = {"imaps": 993, "imap": 143}
FETCH_BATCH = 200


class MailboxError(NewsletterError):
    """A mailbox that cannot be read (French message)."""


@dataclass(frozen=True)
class Item:
    where: str  # « bounces.mbox, message 3 »: where a person finds it
    data: bytes


class Mailbox:
    where: str

    def __iter__(self) -> Iterator[Item]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Mailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_mailbox(source: str, config: BouncesConfig) -> Mailbox:
    """The mailbox `source` names, checked and ready to read."""
    if re.match(r"^imaps?://", source, re.IGNORECASE):
        return ImapMailbox(source, config)
    path = Path(source)
    if not path.exists():
        raise MailboxError(f"{path}: boîte introuvable (ni fichier mbox, ni dossier Maildir)")
    if path.is_dir():
        return MaildirMailbox(path)
    return MboxMailbox(path)


class MboxMailbox(Mailbox):
    def __init__(self, path: Path):
        self.where = str(path)
        try:
            with open(path, "rb") as file:
                start = file.read(5)
        except OSError as error:
            raise MailboxError(f"{path}: lecture impossible ({os_reason(error)})") from None
        if start and start != b"From ":
            raise MailboxError(
                f"{path}: ce n’est ni une boîte mbox (elle commencerait par une ligne « From »), ni un dossier Maildir"
            )
        self.box = mailbox.mbox(path, factory=None, create=False)

    def __iter__(self) -> Iterator[Item]:
        try:
            for number, key in enumerate(self.box.iterkeys(), 1):
                yield Item(f"{self.where}, message {number}", self.box.get_bytes(key))
        except OSError as error:
            raise MailboxError(f"{self.where}: lecture impossible ({os_reason(error)})") from None

    def close(self) -> None:
        self.box.close()


class MaildirMailbox(Mailbox):
    def __init__(self, path: Path):
        self.where = str(path)
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            raise MailboxError(f"{path}: ce dossier n’est pas un Maildir (il lui manque cur/ et new/)")
        self.box = mailbox.Maildir(path, factory=None, create=False)

    def __iter__(self) -> Iterator[Item]:
        try:
            keys = sorted(self.box.iterkeys())
        except OSError as error:
            raise MailboxError(f"{self.where}: lecture impossible ({os_reason(error)})") from None
        for key in keys:
            try:
                data = self.box.get_bytes(key)
            except (KeyError, FileNotFoundError):  # taken away meanwhile by a mail client
                continue
            yield Item(f"{self.where}, {key}", data)


class ImapMailbox(Mailbox):
    def __init__(self, source: str, config: BouncesConfig):
        url = urlsplit(source)
        self.scheme = url.scheme.lower()
        self.user = unquote(url.username or "")
        self.folder = unquote(url.path.lstrip("/")) or "INBOX"
        try:
            self.host, self.port = url.hostname or "", url.port or IMAP_PORTS[self.scheme]
        except ValueError:
            raise MailboxError(f"{source}: port IMAP invalide") from None
        self.where = f"{self.scheme}://{self.host}:{self.port}/{self.folder}"
        if not self.host or not self.user:
            raise MailboxError(f"{source}: adresse IMAP incomplète (attendu imaps://utilisateur@serveur/INBOX)")
        password = config.password()
        if not password:
            raise MailboxError(
                f"mot de passe IMAP absent : définissez la variable d’environnement {config.password_env}"
            )
        self.imap = self._connect(config)
        self._login(password)

    def _connect(self, config: BouncesConfig) -> imaplib.IMAP4:
        context = ssl.create_default_context(cafile=config.cafile or None)
        try:
            if self.scheme == "imaps":
                return imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context, timeout=config.timeout)
            imap = imaplib.IMAP4(self.host, self.port, timeout=config.timeout)
            try:
                imap.starttls(ssl_context=context)
            except imaplib.IMAP4.error as error:
                imap.shutdown()
                raise MailboxError(
                    f"le serveur IMAP {self.host}:{self.port} ne propose pas STARTTLS ({_text(error)}) : "
                    "utilisez imaps://"
                ) from None
            return imap
        except (ssl.SSLError, ssl.CertificateError) as error:
            raise MailboxError(f"échec TLS avec le serveur IMAP {self.host}:{self.port} : {error}") from None
        except (OSError, imaplib.IMAP4.error) as error:
            raise MailboxError(
                f"impossible de joindre le serveur IMAP {self.host}:{self.port} : {why(error)}"
            ) from None

    def _login(self, password: str) -> None:
        try:
            self.imap.login(self.user, password)
        except imaplib.IMAP4.error as error:
            self.close()
            raise MailboxError(
                f"le serveur IMAP {self.host}:{self.port} a refusé l’identification de « {self.user} » : {_text(error)}"
            ) from None
        except OSError as error:
            self.close()
            raise MailboxError(f"connexion au serveur IMAP {self.host}:{self.port} perdue : {why(error)}") from None
        status, reply = self._call(self.imap.select, _quoted(self.folder), readonly=True)
        if status != "OK":
            self.close()
            raise MailboxError(
                f"dossier IMAP « {self.folder} » introuvable sur {self.host}:{self.port} : {_text(reply)}"
            )

    def __iter__(self) -> Iterator[Item]:
        status, reply = self._call(self.imap.uid, "SEARCH", "ALL")
        uids = reply[0].split() if status == "OK" and reply and reply[0] else []
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            status, reply = self._call(self.imap.uid, "FETCH", b",".join(batch).decode(), "(UID BODY.PEEK[])")
            if status != "OK":
                raise MailboxError(f"{self.where}: le serveur refuse de donner les messages : {_text(reply)}")
            for head, data in (part for part in reply if isinstance(part, tuple)):
                uid = re.search(rb"UID (\d+)", head)
                yield Item(f"{self.where}, UID {uid.group(1).decode() if uid else '?'}", data)

    def _call(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except (OSError, imaplib.IMAP4.abort) as error:
            raise MailboxError(f"connexion au serveur IMAP {self.host}:{self.port} perdue : {why(error)}") from None
        except imaplib.IMAP4.error as error:
            return "NO", [_text(error).encode()]

    def close(self) -> None:
        try:
            if self.imap.state == "SELECTED":
                self.imap.close()
            self.imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(reply: object) -> str:
    if isinstance(reply, BaseException) and reply.args:
        reply = reply.args[0]
    if isinstance(reply, list):
        reply = b" ".join(part for part in reply if isinstance(part, bytes))
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(str(reply).split())
