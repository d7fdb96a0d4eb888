"""Bounce samples filled in for a message we really sent, and real mbox and Maildir files of them."""

from __future__ import annotations

import email
import itertools
import mailbox
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "bounces"
_serial = itertools.count(1)


def sample(
    name: str,
    sent: bytes = b"",
    *,
    rcpt: str = "",
    token: str = "",
    mailto: str = "bounces@example.org",
    ident: str = "",
) -> bytes:
    """The sample `name` about our message `sent` (its envelope sender, headers, Message-ID)."""
    head = sent.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n") if sent else b""
    parsed = email.message_from_bytes(head + b"\n\n") if sent else None
    verp = parsed["Return-Path"].strip("<>") if parsed and parsed["Return-Path"] else "lettre@example.org"
    values = {
        "%VERP%": verp,
        "%RCPT%": rcpt or (parsed and email.utils.parseaddr(parsed["To"])[1]) or "personne@example.net",
        "%HEADERS%": head.decode("ascii"),
        "%TOKEN%": token,
        "%MAILTO%": mailto,
        "%INREPLYTO%": parsed["Message-ID"] if parsed else "<autre@example.net>",
        "%ID%": ident or f"notice.{next(_serial)}@mx.example.net",
    }
    data = (DATA / name).read_bytes()
    for mark, value in values.items():
        data = data.replace(mark.encode(), value.encode("ascii"))
    return data


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.mbox(path)
    for data in messages:
        box.add(data)
    box.close()
    return path


def write_maildir(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.Maildir(path, create=True)
    for data in messages:
        box.add(data)
    box.close()
    return path
