"""What comes back after a send: bounces, complaints and unsubscription requests, read from a mailbox.

Each message is first *read* (`read_message`, no database): what kind it is and what it claims —
the VERP token of the address it was sent to (`bounces+<token>@…`), the failed addresses with their
status (flufl.bounce finds them in RFC 3464 reports and in the common non-standard shapes), our own
Message-IDs and unsubscribe tokens in the returned copy of our message. Then `FeedbackReader`
*matches* the claims with subscribers, trusting only what our secret signed or the store knows,
and applies each event through the store (`SubscriberStore.record_feedback`).

- Bounce: a failure whose status says the address is dead is hard (see `bounce_kind`), any other
  failure is soft; a non-delivery notice to a VERP address whose failed address cannot be found is
  soft. Delay warnings (« Action: delayed ») are ignored: the server is still trying, and a final
  failure comes later if it gives up. A VERP message that is no notice at all (an auto-reply) is
  ignored.
- Complaint: an ARF report (RFC 5965, multipart/report; report-type=feedback-report), except a
  « not-spam » or an authentication-failure report.
- Unsubscription: a message whose subject asks for it (« unsubscribe <token> », as our
  List-Unsubscribe mailto writes it). A valid token unsubscribes the subscriber it names; without
  one, the From address is unsubscribed if it is a subscriber and the message was sent to our
  unsubscribe address.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr

from newsletter.send.config import SendingConfig
from newsletter.send.mailboxes import Item
from newsletter.send.tokens import (
    message_digest,
    token_id,
    verify_token,
    verify_verp_token,
    verp_token_ids,
    verp_token_in,
)
from newsletter.subscribers.addresses import AddressError
from newsletter.subscribers.store import (
    COMPLAINT,
    HARD,
    SOFT,
    UNSUBSCRIBE,
    Change,
    Subscriber,
    SubscriberStore,
    bounce_kind,
)

BOUNCE, IGNORED = "bounce", "ignored"
BATCH = 200
ENVELOPE_HEADERS = ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "to", "cc")
_UNSUBSCRIBE_SUBJECT = re.compile(
    r"^\s*(?:re\s*:\s*)*(?:unsubscribe|d[ée]sinscri|d[ée]sabonn|se\s+d[ée]sabonner)", re.IGNORECASE
)
_SUBJECT_TOKEN = re.compile(r"unsubscribe\s+(\d{1,18}\.[A-Za-z0-9_-]{8,})", re.IGNORECASE)
_URL_TOKEN = re.compile(rb"[?&]token=(\d{1,18}\.[A-Za-z0-9_-]{8,})")
_NOTICE = re.compile(
    r"undeliver|undelivered|delivery (?:status|failure|has failed|notification)|returned mail|failure notice|"
    r"mail delivery failed|non remis|non distribu|[ée]chec de (?:la )?(?:remise|distribution)|"
    r"impossible de (?:remettre|distribuer)|message not delivered|rejected",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery (?:system|subsystem)", re.IGNORECASE)
_NOT_COMPLAINTS = {"not-spam", "auth-failure"}
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Failure:
    address: str  # as the report writes it ("" when none could be found)
    kind: str  # HARD or SOFT
    detail: str


@dataclass
class Reading:
    """What one message says, before it is matched with subscribers."""

    key: str  # its Message-ID, or a digest of its bytes
    kind: str = IGNORED  # BOUNCE, COMPLAINT, UNSUBSCRIBE or IGNORED
    why: str = ""  # for an ignored message, in French
    verp: str | None = None
    failures: list[Failure] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # our unsubscribe tokens found in it
    message_ids: list[tuple[int, str, str]] = field(default_factory=list)  # (issue, digest, Message-ID)
    addresses: list[str] = field(default_factory=list)  # a complaint's original recipient, a request's From
    detail: str = ""


# Reading ---------------------------------------------------------------------------------------


def read_message(data: bytes, config: SendingConfig) -> Reading:
    """Classify one message and gather what it claims (no database: see `FeedbackReader`)."""
    msg = message_from_bytes(data)
    reading = Reading(message_key(data))
    reading.verp = _verp(msg, config.bounce_address)
    reading.tokens = list(dict.fromkeys(token.decode() for token in _URL_TOKEN.findall(data)))
    reading.message_ids = _our_message_ids(data, config)
    if _is_feedback_report(msg):
        return _complaint(msg, reading, config.bounce_address)
    subject = _subject(msg)
    if _UNSUBSCRIBE_SUBJECT.match(subject) and not _is_report(msg):
        return _request(msg, subject, reading, config)
    return _bounce(msg, subject, reading)


def message_key(data: bytes) -> str:
    """The message's Message-ID, else a digest of its bytes: found without parsing the message, so
    that a mailbox read again costs little."""
    head = re.split(rb"\r?\n\r?\n", data, maxsplit=1)[0]
    found = _MESSAGE_ID.search(head)
    message_id = b" ".join(found.group(1).split()) if found else b""
    if message_id and len(message_id) <= 250 and message_id.isascii():
        return message_id.decode("ascii")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _header_addresses(msg: Message, names: Iterable[str]) -> list[str]:
    values = [str(value) for name in names for value in msg.get_all(name, [])]
    return [address for _, address in getaddresses(values) if "@" in address]


def _verp(msg: Message, bounce_address: str, headers: Iterable[str] = ENVELOPE_HEADERS) -> str | None:
    if not bounce_address:
        return None
    for address in _header_addresses(msg, headers):
        token = verp_token_in(address, bounce_address)
        if token:
            return token
    return None


def _our_message_ids(data: bytes, config: SendingConfig) -> list[tuple[int, str, str]]:
    domain = config.sender_address.rpartition("@")[2].lower().encode()
    pattern = re.compile(rb"<(\d{1,9})\.([0-9a-f]{24})@" + re.escape(domain) + rb">", re.IGNORECASE)
    found = {(int(m.group(1)), m.group(2).decode().lower(), m.group(0).decode()) for m in pattern.finditer(data)}
    return sorted(found)


def _subject(msg: Message) -> str:
    raw = msg.get("subject", "")
    try:
        return " ".join(str(make_header(decode_header(str(raw)))).split())
    except (UnicodeError, LookupError, ValueError):
        return " ".join(str(raw).split())


def _is_report(msg: Message) -> bool:
    return msg.get_content_type() == "multipart/report"


def _is_feedback_report(msg: Message) -> bool:
    if _is_report(msg) and str(msg.get_param("report-type", "")).lower() == "feedback-report":
        return True
    return any(part.get_content_type() == "message/feedback-report" for part in msg.walk())


def _complaint(msg: Message, reading: Reading, bounce_address: str) -> Reading:
    fields = _feedback_fields(msg)
    feedback_type = str(fields.get("feedback-type", "abuse")).strip().lower()
    if feedback_type in _NOT_COMPLAINTS:
        reading.why = f"rapport ARF de type « {feedback_type} », pas une plainte"
        return reading
    reading.kind, reading.detail = COMPLAINT, f"plainte ({feedback_type})"
    original = _returned_headers(msg) or Message()
    reading.verp = (
        reading.verp
        or _verp(fields, bounce_address, ("original-mail-from",))
        or _verp(original, bounce_address, ("return-path",))
    )
    reading.addresses = _header_addresses(fields, ("original-rcpt-to", "removal-recipient"))
    reading.addresses += _header_addresses(original, ("to",))
    return reading


def _feedback_fields(msg: Message) -> Message:
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            inner = _inner(part)
            return inner[0] if inner else message_from_bytes(_decoded(part))
    return Message()


def _inner(part: Message) -> list[Message]:
    """The messages a message/* part holds, once the parser has read them (else none)."""
    payload = part.get_payload()
    return [item for item in payload if isinstance(item, Message)] if isinstance(payload, list) else []


def _decoded(part: Message) -> bytes:
    """A leaf part's bytes, transfer encoding undone (a multipart part has none)."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _returned_headers(msg: Message) -> Message | None:
    """The headers of our message as a report returns it (message/rfc822 or text/rfc822-headers)."""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global") and (inner := _inner(part)):
            return inner[0]
        if kind in ("text/rfc822-headers", "message/rfc822-headers"):
            return message_from_bytes(_decoded(part))
    return None


def _request(msg: Message, subject: str, reading: Reading, config: SendingConfig) -> Reading:
    reading.kind, reading.detail = UNSUBSCRIBE, "demande de désinscription par email"
    token = _SUBJECT_TOKEN.search(subject) or _SUBJECT_TOKEN.search(_first_text(msg))
    reading.tokens = [token.group(1)] if token else []
    sent_to_us = config.unsubscribe_mailto.lower() in (a.lower() for a in _header_addresses(msg, ENVELOPE_HEADERS))
    sender = parseaddr(str(msg.get("from", "")))[1]
    reading.addresses = [sender] if sender and sent_to_us else []
    return reading


def _first_text(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            return _decoded(part)[:2000].decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def _bounce(msg: Message, subject: str, reading: Reading) -> Reading:
    try:
        from flufl.bounce import all_failures

        delayed, failed = all_failures(msg)
    except Exception:  # a detector choking on a malformed message: nothing found
        delayed, failed = frozenset(), frozenset()
    statuses = _dsn_statuses(msg)
    text = _first_text(msg)
    for raw in sorted(failed):
        address = raw.decode("ascii", "replace")
        status = statuses.get(address.lower(), "")
        kind = bounce_kind(status, default=bounce_kind(text, default=HARD))
        reading.failures.append(Failure(address, kind, status or _diagnostic(text)))
    if reading.failures:
        reading.kind = BOUNCE
    elif delayed:
        reading.why = "avis de retard : le serveur réessaie encore"
    elif reading.verp and (_is_report(msg) or _NOTICE.search(subject) or _DAEMON.search(str(msg.get("from", "")))):
        reading.kind = BOUNCE
        diagnostic = _diagnostic(text)
        reading.failures.append(
            Failure(
                "",
                bounce_kind(diagnostic, default=SOFT),
                diagnostic or f"avis de non-remise sans adresse reconnue : {subject[:100]}",
            )
        )
    else:
        reading.why = "ni un rebond, ni une plainte, ni une demande de désinscription"
    return reading


def _dsn_statuses(msg: Message) -> dict[str, str]:
    """Each failed recipient of an RFC 3464 report → its status and diagnostic, as one line."""
    statuses = {}
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _inner(part)[1:]:
            recipient = str(block.get("final-recipient") or block.get("original-recipient") or "")
            address = recipient.partition(";")[2].strip().strip("<>").lower()
            details = " ".join(str(block.get(name, "")) for name in ("status", "diagnostic-code"))
            if address:
                statuses[address] = " ".join(details.split())
    return statuses


def _diagnostic(text: str) -> str:
    line = next((line for line in text.splitlines() if re.search(r"\b[45]\d\d\b|[45]\.\d+\.\d+", line)), "")
    return " ".join(line.split())[:300]


# Matching and applying ------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    kind: str
    subscriber: Subscriber
    issue: int | None
    detail: str


@dataclass
class Report:
    """What a run over a mailbox found and changed."""

    read: int = 0
    counts: Counter = field(default_factory=Counter)  # events by kind, plus "ignored" and "already"
    changes: list[Change] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (where, why)


class FeedbackReader:
    """Matches what messages claim with subscribers, and applies the events through the store."""

    def __init__(self, store: SubscriberStore, config: SendingConfig, secret: str):
        self.store, self.config, self.secret = store, config, secret

    def process(self, items: Iterable[Item], *, dry_run: bool = False) -> Report:
        """Read every message; commit every `BATCH` messages, or nothing at all for a dry run."""
        report, db = Report(), self.store.db
        if dry_run:
            db.execute("BEGIN IMMEDIATE")
        try:
            for batch in _batches(iter(items), BATCH):
                if not dry_run:
                    db.execute("BEGIN IMMEDIATE")
                for item in batch:
                    self.one(item, report)
                if not dry_run:
                    db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        if dry_run:
            db.execute("ROLLBACK")
        return report

    def one(self, item: Item, report: Report) -> None:
        report.read += 1
        key = message_key(item.data)
        if self.store.feedback_read(key):
            report.counts["already"] += 1
            return
        self.store.mark_read(key)
        try:
            reading = read_message(item.data, self.config)
        except Exception as error:  # the email package or a detector choking on a mangled message
            report.counts["ignored"] += 1
            report.ignored.append((item.where, f"message illisible ({type(error).__name__})"))
            return
        events, why = self.events(reading)
        if not events:
            report.counts["ignored"] += 1
            report.ignored.append((item.where, why))
            return
        for event in events:
            report.counts[event.kind] += 1
            change = self.store.record_feedback(
                reading.key, event.kind, event.subscriber, event.issue, event.detail, self.config.bounces.soft_limit
            )
            if change:
                report.changes.append(change)

    def events(self, reading: Reading) -> tuple[list[Event], str]:
        """The events a reading makes, or none and why it is ignored."""
        if reading.kind == IGNORED:
            return [], reading.why
        if reading.kind == BOUNCE:
            return self._bounce_events(reading)
        subscriber, issue = self._named(reading)
        if subscriber is None and reading.kind == UNSUBSCRIBE:
            subscriber = next(filter(None, map(self._by_address, reading.addresses)), None)
        if subscriber is None:
            return [], f"{reading.detail} : aucun abonné reconnu"
        return [
            Event(
                reading.kind,
                subscriber,
                issue if issue is not None else self._issue(reading, subscriber),
                reading.detail,
            )
        ], ""

    def _bounce_events(self, reading: Reading) -> tuple[list[Event], str]:
        kind = HARD if any(f.kind == HARD for f in reading.failures) else SOFT
        detail = "; ".join(dict.fromkeys(f.detail for f in reading.failures if f.detail))
        subscriber, issue = self._named(reading)
        if subscriber is not None:  # VERP or our token: one subscriber, whatever address failed
            issue = issue if issue is not None else self._issue(reading, subscriber)
            return [Event(kind, subscriber, issue, detail)], ""
        events, unknown = [], []
        for failure in reading.failures:
            found = self._by_address(failure.address)
            if found is None:
                unknown.append(failure.address or "?")
            else:
                events.append(Event(failure.kind, found, self._issue(reading, found), failure.detail))
        return events, f"rebond pour une adresse inconnue de la liste ({', '.join(unknown)})"

    def _named(self, reading: Reading) -> tuple[Subscriber | None, int | None]:
        """The subscriber (and issue) that our signed tokens or Message-IDs name, if any."""
        if reading.verp:
            ids = verp_token_ids(reading.verp)
            subscriber = self.store.get_by_id(ids[1]) if ids else None
            if ids and subscriber and verify_verp_token(self.secret, reading.verp, subscriber.address):
                return subscriber, ids[0]
        for token in reading.tokens:
            number = token_id(token)
            subscriber = self.store.get_by_id(number) if number else None
            if subscriber and verify_token(self.secret, token, subscriber.address):
                return subscriber, None
        if reading.kind != UNSUBSCRIBE:
            for issue, _, message_id in reading.message_ids:
                subscriber = self.store.subscriber_of_message(issue, message_id)
                if subscriber:
                    return subscriber, issue
        return None, None

    def _by_address(self, address: str) -> Subscriber | None:
        try:
            return self.store.get(address) if address else None
        except AddressError:
            return None

    def _issue(self, reading: Reading, subscriber: Subscriber) -> int | None:
        """The issue a message is about: our Message-ID for this subscriber in it, else their last one."""
        for issue, digest, _ in reading.message_ids:
            if digest == message_digest(self.secret, self.config.list_id, issue, subscriber.address):
                return issue
        return self.store.latest_issue_sent(subscriber.id)


def _batches(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    while batch := list(itertools.islice(items, size)):
        yield batch
