"""The delivery journal: one row per issue and subscriber, in the subscribers' database.

    queued ──claim──▶ sending ──▶ sent | deferred | failed | unknown
                                    (deferred rows are claimed again, up to the retry limit)

Every change is committed at once (the connection is in autocommit mode, `synchronous=FULL`): a row
is `sent` only once the server has accepted the message, and a row left `sending` by a process
that died is turned into `unknown` by the next run, since nobody can tell whether the server got it.
Claiming is one guarded UPDATE: a row is claimed only if it is still waiting and its subscriber is
still subscribed, so two runs at once, or an unsubscription during a run, never cause a send.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from dataclasses import dataclass

from newsletter.send.transports import Outcome

QUEUED, SENDING = "queued", "sending"
STATUSES = ("queued", "sending", "sent", "deferred", "failed", "unknown")
LABELS = {
    "queued": "en attente",
    "sending": "en cours",
    "sent": "envoyés",
    "deferred": "différés",
    "failed": "refusés",
    "unknown": "incertains",
}
INTERRUPTED = "envoi interrompu : impossible de savoir si le serveur a reçu le message"


@dataclass(frozen=True)
class Pending:
    subscriber_id: int
    address: str
    name: str
    status: str


@dataclass(frozen=True)
class Row:
    address: str
    status: str
    attempts: int
    reply: str


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Journal:
    """The rows of one issue. Safe to share between threads (writes are serialised)."""

    def __init__(self, connection: sqlite3.Connection, issue: int):
        self.db, self.issue = connection, issue
        self.lock = threading.Lock()

    def prepare(self) -> int:
        """Start or resume a run: recover rows of a dead run, queue every subscribed address.

        Returns how many rows were found left `sending` (now `unknown`).
        """
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                recovered = self.db.execute(
                    "UPDATE deliveries SET status = 'unknown', reply = ?, updated_at = ? "
                    "WHERE issue = ? AND status = 'sending'",
                    (INTERRUPTED, _now(), self.issue),
                ).rowcount
                # Waiting rows of people who left since: never sent, so nothing to remember.
                self.db.execute(
                    "DELETE FROM deliveries WHERE issue = ? AND status IN ('queued', 'deferred') AND "
                    "subscriber_id IN (SELECT id FROM subscribers WHERE status != 'subscribed')",
                    (self.issue,),
                )
                self.db.execute(
                    "INSERT OR IGNORE INTO deliveries (issue, subscriber_id, address, status, updated_at) "
                    "SELECT ?, id, address, 'queued', ? FROM subscribers WHERE status = 'subscribed'",
                    (self.issue, _now()),
                )
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        return recovered

    def pending(self, statuses: tuple[str, ...], after: int = 0, limit: int = 500) -> list[Pending]:
        """Rows waiting in `statuses` whose subscriber is subscribed, by id, after id `after`."""
        marks = ", ".join("?" * len(statuses))
        with self.lock:
            rows = self.db.execute(
                f"SELECT d.subscriber_id, s.address, s.name, d.status FROM deliveries d "
                f"JOIN subscribers s ON s.id = d.subscriber_id "
                f"WHERE d.issue = ? AND d.status IN ({marks}) AND s.status = 'subscribed' AND d.subscriber_id > ? "
                f"ORDER BY d.subscriber_id LIMIT ?",
                (self.issue, *statuses, after, limit),
            ).fetchall()
        return [Pending(*row) for row in rows]

    def count_pending(self, statuses: tuple[str, ...]) -> int:
        marks = ", ".join("?" * len(statuses))
        return self.db.execute(
            f"SELECT count(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id "
            f"WHERE d.issue = ? AND d.status IN ({marks}) AND s.status = 'subscribed'",
            (self.issue, *statuses),
        ).fetchone()[0]

    def claim(self, item: Pending, message_id: str) -> bool:
        """Mark the row `sending` just before the message goes out; False if it must not go out.

        This commit is not flushed to the disk on its own (`synchronous=NORMAL`): it survives a crash
        of this process, and the `fsync` of the outcome that follows makes it durable with it. Only a
        power cut at the very instant of a send could forget the claim of the messages in flight.
        """
        with self.lock:
            self.db.execute("PRAGMA synchronous = NORMAL")
            cursor = self.db.execute(
                "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, address = ?, message_id = ?,"
                " updated_at = ? WHERE issue = ? AND subscriber_id = ? AND status = ? AND EXISTS"
                " (SELECT 1 FROM subscribers WHERE id = ? AND status = 'subscribed')",
                (item.address, message_id, _now(), self.issue, item.subscriber_id, item.status, item.subscriber_id),
            )
            self.db.execute("PRAGMA synchronous = FULL")
        return cursor.rowcount == 1

    def record(self, subscriber_id: int, outcome: Outcome) -> None:
        with self.lock:
            self.db.execute(
                "UPDATE deliveries SET status = ?, reply = ?, updated_at = ? WHERE issue = ? AND subscriber_id = ?",
                (outcome.status, outcome.reply[:500], _now(), self.issue, subscriber_id),
            )

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for status, count in self.db.execute(
            "SELECT status, count(*) FROM deliveries WHERE issue = ? GROUP BY status", (self.issue,)
        ):
            counts[status] = count
        return counts

    def rows(self, statuses: tuple[str, ...], limit: int | None = None) -> list[Row]:
        marks = ", ".join("?" * len(statuses))
        return [
            Row(*row)
            for row in self.db.execute(
                f"SELECT address, status, attempts, reply FROM deliveries WHERE issue = ? AND status IN ({marks}) "
                f"ORDER BY status, address LIMIT ?",
                (self.issue, *statuses, -1 if limit is None else limit),
            )
        ]
