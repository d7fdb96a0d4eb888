"""The subscriber store: a thin, typed layer over the `subscribers` table."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from dataclasses import dataclass, fields
from typing import Iterator

from newsletter.errors import NewsletterError
from newsletter.subscribers.addresses import normalize_address

SUBSCRIBED, UNSUBSCRIBED, BOUNCED = "subscribed", "unsubscribed", "bounced"
STATUSES = (SUBSCRIBED, UNSUBSCRIBED, BOUNCED)
STATUS_LABELS = {SUBSCRIBED: "abonné", UNSUBSCRIBED: "désabonné", BOUNCED: "en erreur"}
MAX_TEXT = 200


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

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Subscriber":
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
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


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
            " consent_source = ?, updated_at = ? WHERE id = ?",
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
        return self.get_by_id(existing.id), False

    def merge(self, entry: Entry) -> str:
        """Import one entry without losing what is stored: "added", "completed" or "unchanged".

        An address already stored keeps its status (an import never resubscribes someone who left)
        and its values; only its empty attributes are filled in.
        """
        existing = self.get(entry.address)
        if existing is None:
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
            (entry.address, entry.name, entry.territory, entry.role, entry.status, entry.consent_date,
             entry.consent_source, now, now),
        )
        return self.get_by_id(cursor.lastrowid)

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
        `purge` erase them and their delivery journal."""
        subscriber = self.get(address)
        if subscriber is None:
            raise SubscriberError(f"aucun abonné à l’adresse {normalize_address(address)}")
        if purge:
            self.db.execute("DELETE FROM subscribers WHERE id = ?", (subscriber.id,))
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
        counts = dict.fromkeys(STATUSES, 0)
        for status, count in self.db.execute("SELECT status, count(*) FROM subscribers GROUP BY status"):
            counts[status] = count
        return counts

    def signing_secret(self) -> str:
        """The secret that signs unsubscribe tokens when none is configured: made once, kept here."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'signing_secret'").fetchone()
        if row:
            return row[0]
        self.db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('signing_secret', ?)", (secrets.token_urlsafe(32),)
        )
        return self.db.execute("SELECT value FROM meta WHERE key = 'signing_secret'").fetchone()[0]
