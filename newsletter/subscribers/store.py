"""The subscriber store: a thin, typed layer over the `subscribers` table, and what came back.

What came back (bounces, complaints, unsubscriptions by email, 5xx refusals at send time) is kept in
`feedback`, one row per event with its issue, and changes the subscriber's status here only:
a hard bounce → bounced; soft bounces → bounced once the last `soft_limit` issues sent to them all
soft-bounced (an issue in between that did not bounce breaks the run: bounces arrive after the next
send, so counting « since the last accepted message » would never reach the limit); a complaint or
a mailto request → unsubscribed. Someone already unsubscribed or bounced keeps their status.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, fields

from newsletter.errors import NewsletterError
from newsletter.subscribers.addresses import normalize_address

SUBSCRIBED, UNSUBSCRIBED, BOUNCED, PENDING = "subscribed", "unsubscribed", "bounced", "pending"
ERASED = "erased"  # not a row's status: an erased subscriber leaves only a tombstone
STATUSES = (SUBSCRIBED, UNSUBSCRIBED, BOUNCED, PENDING)
STATUS_LABELS = {SUBSCRIBED: "abonné", UNSUBSCRIBED: "désabonné", BOUNCED: "en erreur", PENDING: "en attente"}
FORM_SOURCE = "formulaire"
USED = "-"  # prefix of a pending_nonce whose confirmation link has served
MAX_TEXT = 200
HARD, SOFT, COMPLAINT, UNSUBSCRIBE = "hard", "soft", "complaint", "unsubscribe"
FEEDBACK_KINDS = (HARD, SOFT, COMPLAINT, UNSUBSCRIBE)
_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_BASIC = re.compile(r"^\s*([245])(\d\d)(?!\d)")


class SubscriberError(NewsletterError):
    """A subscriber that cannot be stored or found (message in French)."""


@dataclass(frozen=True)
class Subscriber:
    id: int
    address: str
    name: str = ""
    territory: str = ""
    role: str = ""
    status: str = SUBSCRIBED
    consent_date: str | None = None
    consent_source: str = ""
    soft_bounces: int = 0  # issues in a row that soft-bounced, at the last bounce

    consent_version: str = ""
    pending_nonce: str = ""
    requested_at: str | None = None
    created_at: str = ""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Subscriber:
        return cls(**{f.name: row[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Entry:
    """What a person or a CSV row says about a subscriber, before it is stored."""

    address: str
    name: str = ""
    territory: str = ""
    role: str = ""
    status: str = SUBSCRIBED
    consent_date: str | None = None
    consent_source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", normalize_address(self.address))
        for name in ("name", "territory", "role", "consent_source"):
            object.__setattr__(self, name, clean_text(getattr(self, name), name))
        if self.status not in STATUSES:
            raise SubscriberError(f"statut inconnu « {self.status} » (attendus : {', '.join(STATUSES)})")
        if self.consent_date is not None:
            object.__setattr__(self, "consent_date", parse_day(self.consent_date))


_FIELD_LABELS = {"name": "nom", "territory": "territoire", "role": "rôle", "consent_source": "source"}


def clean_text(value: str, field: str = "name") -> str:
    """A one-line attribute: surrounding spaces removed, line breaks and control characters refused."""
    value = (value or "").strip()
    label = _FIELD_LABELS.get(field, field)
    if any(not c.isprintable() for c in value):
        raise SubscriberError(f"{label} invalide : retour à la ligne ou caractère de contrôle interdit")
    if len(value) > MAX_TEXT:
        raise SubscriberError(f"{label} trop long ({len(value)} caractères, {MAX_TEXT} au plus)")
    return value


def parse_day(value: str) -> str | None:
    """An ISO date (2024-03-01) or a French one (01/03/2024) as ISO; empty means unknown."""
    value = value.strip()
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date().isoformat()
        except ValueError:
            continue
    raise SubscriberError(f"date de consentement invalide « {value} » (attendu AAAA-MM-JJ ou JJ/MM/AAAA)")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Change:
    """A subscriber whose status a piece of feedback changed."""

    address: str
    before: str
    after: str
    kind: str
    issue: int | None
    detail: str


def bounce_kind(text: str, default: str = HARD) -> str:
    """HARD when an SMTP status in `text` says the address itself is dead, SOFT for any other status.

    Dead: enhanced codes 5.1.x (no such mailbox or domain), 5.2.1 (mailbox disabled), 5.4.4
    (no route to the domain); without an enhanced code, 550, 551 or 553 (not about relaying).
    Soft: 4.x.x, 5.2.2 (mailbox full), policy and content refusals (5.7.x, 5.3.4…). `default` when
    `text` has no status at all.
    """
    codes = _ENHANCED.findall(text)
    if codes:  # the most precise one: « Status: 5.0.0 » then « 550 5.1.1 … » means 5.1.1
        klass, subject, detail = next((code for code in codes if code[1:] != ("0", "0")), codes[0])
        dead = klass == "5" and (subject == "1" or (subject, detail) in {("2", "1"), ("4", "4")})
        return HARD if dead else SOFT
    basic = _BASIC.match(text)
    if basic:
        dead = basic.group(1) == "5" and basic.group(2) in ("50", "51", "53") and "relay" not in text.lower()
        return HARD if dead else SOFT
    return default


def record_refusal(connection: sqlite3.Connection, issue: int, subscriber_id: int, reply: str) -> None:
    """A 5xx refusal at send time that says the address is dead bounces the subscriber, as a bounce would.

    Other refusals (policy, size, a relay refusing us) say more about the sending than about the
    address: the journal keeps them as `failed` and the subscriber is left alone.
    """
    if not reply.lstrip().startswith("5") or not _BASIC.match(reply) or bounce_kind(reply) != HARD:
        return
    store, key = SubscriberStore(connection), f"smtp:{issue}:{subscriber_id}"
    subscriber = store.get_by_id(subscriber_id)
    if subscriber is None or store.feedback_read(key):
        return
    connection.execute("SAVEPOINT refusal")  # inside the caller's transaction if there is one
    store.mark_read(key)
    store.record_feedback(key, HARD, subscriber, issue, reply)
    connection.execute("RELEASE refusal")


class SubscriberStore:
    """Subscribers in an open database (see `open_database`)."""

    def __init__(self, connection: sqlite3.Connection):
        self.db = connection

    def get(self, address: str) -> Subscriber | None:
        row = self.db.execute("SELECT * FROM subscribers WHERE address = ?", (normalize_address(address),)).fetchone()
        return Subscriber.from_row(row) if row else None

    def get_by_id(self, subscriber_id: int) -> Subscriber | None:
        row = self.db.execute("SELECT * FROM subscribers WHERE id = ?", (subscriber_id,)).fetchone()
        return Subscriber.from_row(row) if row else None

    def add(self, entry: Entry) -> tuple[Subscriber, bool]:
        """Store a person who asked to subscribe: a new row, or an existing one updated and resubscribed.

        Returns the subscriber and whether the address was new.
        """
        existing = self.get(entry.address)
        if existing is None:
            return self._insert(entry), True
        self.db.execute(
            "UPDATE subscribers SET name = ?, territory = ?, role = ?, status = ?, consent_date = ?,"
            " consent_source = ?, updated_at = ?, soft_bounces = 0 WHERE id = ?",
            (
                entry.name or existing.name,
                entry.territory or existing.territory,
                entry.role or existing.role,
                entry.status,
                entry.consent_date or existing.consent_date,
                entry.consent_source or existing.consent_source,
                _now(),
                existing.id,
            ),
        )
        return self._reread(existing.id), False

    def merge(self, entry: Entry) -> str:
        """Import one entry without losing what is stored: "added", "completed" or "unchanged".

        An address already stored keeps its status (an import never resubscribes someone who left)
        and its values; only its empty attributes are filled in.
        """
        existing = self.get(entry.address)
        if existing is None:
            if self.was_erased(entry.address):
                raise SubscriberError(f"{entry.address} a demandé l’effacement de ses données : adresse non réimportée")
            self._insert(entry)
            return "added"
        filled = {
            name: getattr(entry, name)
            for name in ("name", "territory", "role", "consent_date", "consent_source")
            if not getattr(existing, name) and getattr(entry, name)
        }
        if not filled:
            return "unchanged"
        assignments = ", ".join(f"{name} = ?" for name in filled)
        self.db.execute(
            f"UPDATE subscribers SET {assignments}, updated_at = ? WHERE id = ?",
            (*filled.values(), _now(), existing.id),
        )
        return "completed"

    def _insert(self, entry: Entry) -> Subscriber:
        now = _now()
        cursor = self.db.execute(
            "INSERT INTO subscribers (address, name, territory, role, status, consent_date, consent_source,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.address,
                entry.name,
                entry.territory,
                entry.role,
                entry.status,
                entry.consent_date,
                entry.consent_source,
                now,
                now,
            ),
        )
        return self._reread(cursor.lastrowid)

    def _reread(self, subscriber_id: int | None) -> Subscriber:
        """The row of a subscriber this connection has just written (so it exists)."""
        subscriber = None if subscriber_id is None else self.get_by_id(subscriber_id)
        assert subscriber is not None, subscriber_id
        return subscriber

    def set_status(self, subscriber_id: int, status: str) -> bool:
        """Change a subscriber's status; False when there is no such subscriber."""
        if status not in STATUSES:
            raise SubscriberError(f"statut inconnu « {status} »")
        cursor = self.db.execute(
            "UPDATE subscribers SET status = ?, updated_at = ? WHERE id = ?", (status, _now(), subscriber_id)
        )
        return cursor.rowcount == 1

    def remove(self, address: str, *, purge: bool = False) -> Subscriber:
        """Unsubscribe `address` (kept, so that a later import does not bring them back), or with
        `purge` erase them and their delivery journal, leaving a tombstone."""
        subscriber = self.get(address)
        if subscriber is None:
            raise SubscriberError(f"aucun abonné à l’adresse {normalize_address(address)}")
        if purge:
            self.erase(subscriber)
        else:
            self.set_status(subscriber.id, UNSUBSCRIBED)
        return subscriber

    def all(self, status: str | None = None, territory: str | None = None) -> Iterator[Subscriber]:
        """Subscribers in id order, read lazily."""
        clauses, values = [], []
        if status:
            clauses.append("status = ?")
            values.append(status)
        if territory:
            clauses.append("territory = ?")
            values.append(territory)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        for row in self.db.execute(f"SELECT * FROM subscribers {where} ORDER BY id", values):
            yield Subscriber.from_row(row)

    def counts(self) -> dict[str, int]:
        """Rows per status, and ERASED: the tombstones of erased subscribers."""
        counts = dict.fromkeys((*STATUSES, ERASED), 0)
        for status, count in self.db.execute("SELECT status, count(*) FROM subscribers GROUP BY status"):
            counts[status] = count
        counts[ERASED] = self.db.execute("SELECT count(*) FROM tombstones").fetchone()[0]
        return counts

    # What came back ---------------------------------------------------------------------------

    def feedback_read(self, key: str) -> bool:
        """Whether the message with this key (Message-ID, or digest of its bytes) was read before."""
        return self.db.execute("SELECT 1 FROM feedback_messages WHERE key = ?", (key,)).fetchone() is not None

    def mark_read(self, key: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO feedback_messages (key, read_at) VALUES (?, ?)", (key, _now()))

    def record_feedback(
        self, key: str, kind: str, subscriber: Subscriber, issue: int | None, detail: str, soft_limit: int = 3
    ) -> Change | None:
        """Keep one event and apply its effect; the change of status it caused, if any."""
        self.db.execute(
            "INSERT INTO feedback (message_key, kind, subscriber_id, issue, detail, received_at) VALUES (?, ?, ?, ?, ?, ?)",
            (key, kind, subscriber.id, issue, detail[:500], _now()),
        )
        after = self._status_after(kind, subscriber, issue, soft_limit)
        if after == subscriber.status:
            return None
        self.set_status(subscriber.id, after)
        return Change(subscriber.address, subscriber.status, after, kind, issue, detail)

    def _status_after(self, kind: str, subscriber: Subscriber, issue: int | None, soft_limit: int) -> str:
        run = 0
        if kind == SOFT:
            run = self.soft_run(subscriber.id)
            self.db.execute("UPDATE subscribers SET soft_bounces = ? WHERE id = ?", (run, subscriber.id))
        if subscriber.status != SUBSCRIBED:
            return subscriber.status
        if kind in (COMPLAINT, UNSUBSCRIBE):
            return UNSUBSCRIBED
        return BOUNCED if kind == HARD or run >= soft_limit else SUBSCRIBED

    def soft_run(self, subscriber_id: int) -> int:
        """How many issues in a row soft-bounced for this subscriber, up to the last one that did.

        The issues are those sent to them (journal) or that bounced; one that was sent and did not
        bounce ends the run. Issues sent after the last bounce do not: their bounces may be on their
        way, and bounces may be read in any order. With no issue in the journal, every soft bounce
        counts.
        """
        bounced = {
            row[0]
            for row in self.db.execute(
                "SELECT DISTINCT issue FROM feedback WHERE subscriber_id = ? AND kind = 'soft'", (subscriber_id,)
            )
        }
        sent = {
            row[0]
            for row in self.db.execute(
                "SELECT issue FROM deliveries WHERE subscriber_id = ? AND status = 'sent'", (subscriber_id,)
            )
        }
        if not sent:
            return (
                self.db.execute(
                    "SELECT count(DISTINCT issue) + sum(issue IS NULL) FROM feedback WHERE subscriber_id = ? AND kind = 'soft'",
                    (subscriber_id,),
                ).fetchone()[0]
                or 0
            )
        bounced.discard(None)
        last = max(bounced, default=0)
        run = 0
        for number in sorted((n for n in sent | bounced if n <= last), reverse=True):
            if number not in bounced:
                break
            run += 1
        return run

    def latest_issue_sent(self, subscriber_id: int) -> int | None:
        """The last issue the journal says was sent to them: the likely subject of a bounce that names none."""
        return self.db.execute(
            "SELECT max(issue) FROM deliveries WHERE subscriber_id = ? AND status IN ('sent', 'unknown')",
            (subscriber_id,),
        ).fetchone()[0]

    def subscriber_of_message(self, issue: int, message_id: str) -> Subscriber | None:
        """Who received our message `message_id` of `issue` (the journal keeps each Message-ID)."""
        row = self.db.execute(
            "SELECT s.* FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id "
            "WHERE d.issue = ? AND d.message_id = ?",
            (issue, message_id),
        ).fetchone()
        return Subscriber.from_row(row) if row else None

    def feedback_counts(self, issue: int) -> dict[str, int]:
        """Subscribers per kind of feedback about `issue`."""
        counts = dict.fromkeys(FEEDBACK_KINDS, 0)
        for kind, count in self.db.execute(
            "SELECT kind, count(DISTINCT subscriber_id) FROM feedback WHERE issue = ? GROUP BY kind", (issue,)
        ):
            counts[kind] = count
        return counts

    def sources(self) -> dict[str, int]:
        """Subscribed addresses per consent source (« formulaire », « import liste.csv »…)."""
        rows = self.db.execute(
            "SELECT consent_source, count(*) FROM subscribers WHERE status = 'subscribed'"
            " GROUP BY consent_source ORDER BY count(*) DESC, consent_source"
        )
        return {source or "(inconnue)": count for source, count in rows}

    # --- sign-up through the form (newsletter.serve) ------------------------------------------

    def request_signup(self, address: str, name: str) -> tuple[Subscriber, bool]:
        """Record a sign-up awaiting confirmation; returns the subscriber and whether a confirmation
        should be sent (not for an address already subscribed). A new address is `pending`; a known
        one keeps its status until it confirms. The nonce binds the confirmation link: it is kept
        while the request waits, so every link sent for it stays good until confirmed."""
        entry = Entry(address, name=name, status=PENDING)
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            existing = self.get(entry.address)
            if existing is None:
                subscriber = self._insert(entry)
            elif existing.status == SUBSCRIBED:
                return existing, False
            else:
                subscriber = existing
            waiting = subscriber.pending_nonce and not subscriber.pending_nonce.startswith(USED)
            nonce = subscriber.pending_nonce if waiting else secrets.token_hex(12)
            self.db.execute(
                "UPDATE subscribers SET pending_nonce = ?, requested_at = ?, name = CASE WHEN ? != '' THEN ? ELSE name END,"
                " updated_at = ? WHERE id = ?",
                (nonce, subscriber.requested_at if waiting else _now(), entry.name, entry.name, _now(), subscriber.id),
            )
        return self._reread(subscriber.id), True

    def confirm(self, subscriber_id: int, nonce: str, version: str, today: str) -> bool:
        """Subscribe with a consent record (date, form version, source « formulaire »); False when
        the nonce is no longer the subscriber's (already confirmed, or purged). The nonce is kept,
        marked used (USED prefix), so that a replayed link is told apart from a forged one."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            row = self.db.execute(
                "SELECT address FROM subscribers WHERE id = ? AND pending_nonce = ? AND pending_nonce != ''",
                (subscriber_id, nonce),
            ).fetchone()
            if row is None:
                return False
            self.db.execute(
                "UPDATE subscribers SET status = 'subscribed', consent_date = ?, consent_source = ?, consent_version = ?,"
                " pending_nonce = ? || pending_nonce, requested_at = NULL, updated_at = ? WHERE id = ?",
                (today, FORM_SOURCE, version, USED, _now(), subscriber_id),
            )
            self.db.execute("DELETE FROM tombstones WHERE digest = ?", (self.tombstone(row[0]),))
        return True

    def set_name(self, subscriber_id: int, name: str) -> None:
        self.db.execute(
            "UPDATE subscribers SET name = ?, updated_at = ? WHERE id = ?", (clean_text(name), _now(), subscriber_id)
        )

    def erase(self, subscriber: Subscriber) -> None:
        """Delete the subscriber and their journal rows; keep a tombstone so a stale CSV cannot
        bring the address back (`merge` refuses it)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT OR REPLACE INTO tombstones (digest, subscriber_id, erased_at) VALUES (?, ?, ?)",
                (self.tombstone(subscriber.address), subscriber.id, _now()),
            )
            self.db.execute("DELETE FROM deliveries WHERE subscriber_id = ?", (subscriber.id,))
            self.db.execute("DELETE FROM subscribers WHERE id = ?", (subscriber.id,))

    def tombstone(self, address: str) -> str:
        """A keyed hash of the address: enough to recognise it, not to read it back."""
        key = self.signing_secret().encode()
        return hmac.new(key, f"tombstone:{normalize_address(address)}".encode(), hashlib.sha256).hexdigest()

    def was_erased(self, address: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM tombstones WHERE digest = ?", (self.tombstone(address),)).fetchone()
            is not None
        )

    def erased_id(self, subscriber_id: int) -> bool:
        """Whether this id belonged to a subscriber who was erased (and none holds it now)."""
        return (
            self.db.execute("SELECT 1 FROM tombstones WHERE subscriber_id = ?", (subscriber_id,)).fetchone() is not None
        )

    def purge_pending(self, before: dt.datetime) -> int:
        """Remove sign-ups never confirmed, requested before `before`; clear stale requests of others."""
        cutoff = before.astimezone(dt.UTC).isoformat(timespec="seconds")
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            removed = self.db.execute(
                "DELETE FROM subscribers WHERE status = 'pending' AND coalesce(requested_at, created_at) < ?", (cutoff,)
            ).rowcount
            self.db.execute(
                "UPDATE subscribers SET pending_nonce = '', requested_at = NULL WHERE requested_at < ?", (cutoff,)
            )
        return removed

    def deliveries(self, subscriber_id: int) -> list[dict[str, str]]:
        """The issues of the journal for one subscriber, for their personal page."""
        rows = self.db.execute(
            "SELECT issue, status, updated_at FROM deliveries WHERE subscriber_id = ? ORDER BY issue", (subscriber_id,)
        )
        return [{"numero": row[0], "etat": row[1], "date": row[2]} for row in rows]

    def record_form(self, version: str, text: str) -> None:
        """Keep the wording of a consent form by its version, the first time it is used."""
        self.db.execute(
            "INSERT OR IGNORE INTO consent_forms (version, text, first_used) VALUES (?, ?, ?)", (version, text, _now())
        )

    def form_text(self, version: str) -> str | None:
        row = self.db.execute("SELECT text FROM consent_forms WHERE version = ?", (version,)).fetchone()
        return row[0] if row else None

    def signing_secret(self) -> str:
        """The secret that signs unsubscribe tokens when none is configured: made once, kept here."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'signing_secret'").fetchone()
        if row:
            return row[0]
        self.db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('signing_secret', ?)", (secrets.token_urlsafe(32),)
        )
        return self.db.execute("SELECT value FROM meta WHERE key = 'signing_secret'").fetchone()[0]
