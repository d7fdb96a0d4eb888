"""Sending: messages per subscriber, transports, the delivery journal, the unsubscribe endpoint.

`send/` takes a letter already rendered (`Letter`: subject, HTML and text with the personal marks)
and knows no renderer; the CLI renders the issue once and hands it over.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.send.config import SendingConfig, sending_config
from newsletter.send.journal import Journal
from newsletter.send.message import Letter, MessageFactory, Recipient
from newsletter.send.sender import Sender, Summary, send_test
from newsletter.send.transports import OutboxTransport, SmtpTransport, Transport, TransportError
from newsletter.subscribers import SubscriberStore, open_database

if TYPE_CHECKING:
    from newsletter.send.dkim import Signer

__all__ = [
    "Journal",
    "Letter",
    "MessageFactory",
    "Recipient",
    "Sender",
    "SendingConfig",
    "Summary",
    "Transport",
    "TransportError",
    "new_sender",
    "new_signer",
    "open_store",
    "send_test",
    "sending_config",
    "transports",
]


def open_store(config: SendingConfig) -> SubscriberStore:
    return SubscriberStore(open_database(config.database))


def signing_secret(config: SendingConfig, store: SubscriberStore) -> str:
    """The configured secret (environment, then settings), else the one generated in the database."""
    return config.secret or store.signing_secret()


def new_signer(config: SendingConfig) -> Signer | None:
    """The DKIM signer of one send when `[sending.dkim]` is set, else None (dkimpy loaded only then)."""
    if config.dkim is None:
        return None
    from newsletter.send.dkim import Signer

    return Signer(config.dkim)


def transports(config: SendingConfig, kind: str, folder: Path) -> Callable[[], Transport]:
    """A maker of transports of `kind` ("outbox" writes into `folder`)."""
    if kind == "smtp":
        return lambda: SmtpTransport(config.smtp)
    return lambda: OutboxTransport(folder, return_path=bool(config.bounce_address))


def new_sender(
    config: SendingConfig, store: SubscriberStore, letter: Letter, kind: str, *, resend_unknown: bool = False
) -> Sender:
    """A sender of `letter` to every subscriber (a correction: to those who were sent its issue),
    through `kind` ("outbox" or "smtp")."""
    factory = MessageFactory(config, letter, signing_secret(config, store), signer=new_signer(config))
    folder = config.outbox / f"{letter.number:03d}"
    journal = Journal(store.db, letter.number, retries=config.retries, backoff=config.backoff)
    if letter.correction:
        from newsletter.send.corrections import CorrectionJournal

        folder = config.outbox / f"{letter.number:03d}-rectificatif-{letter.correction}"
        journal = CorrectionJournal(
            store.db, letter.number, letter.correction, retries=config.retries, backoff=config.backoff
        )
    smtp = kind == "smtp"
    return Sender(
        journal,
        factory,
        transports(config, kind, folder),
        connections=config.smtp.connections if smtp else 1,
        rate=config.smtp.rate if smtp else 0.0,
        domains=dict(config.domains) if smtp else {},
        wait=config.wait,
        reconnect=config.reconnect,
        reconnect_delay=config.reconnect_delay,
        resend_unknown=resend_unknown or config.unknown == "resend",
    )
