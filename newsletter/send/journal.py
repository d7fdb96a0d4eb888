"""The delivery journal: one row per issue and subscriber, in the subscribers' database.

    queued ──claim──▶ sending ──▶ sent | deferred | failed | unknown
                                    (a deferred row is claimed again once its next attempt is due,
                                     up to `retries` times; then it fails)

A row is `sent` only once the server has accepted the message, and a row left `sending` by a
process that died is turned into `unknown` by the next run, since nobody can tell whether the server
got it. Claiming is one guarded UPDATE: a row is claimed only if it is still waiting and its
subscriber is still subscribed, so two runs at once, or an unsubscription during a run, never cause
a send.

Durability, grouped: one commit per message, into SQLite's write-ahead log without an `fsync` of its
own (`synchronous=NORMAL`): a message's claim, written with the outcomes recorded since the
previous claim. A committed row survives a crash of this process (SIGKILL, a bug) since it is in
the kernel's hands. The log is flushed to the disk (`fsync`) by the sending loop's own thread every
`GROUP_SECONDS`, at the end of each round and when the run stops, so no connection waits for the
disk. After a crash of the process an accepted message is `sent`, or `sending` (→ `unknown`) for
the last one of each connection whose outcome was not written yet; after a power cut, the rows of
the last group may go back to their state before it (a `sending` claim becomes `unknown`; a claim
lost with its outcome leaves the row `queued`, the window the per-message claims always had). One
`fsync` per message capped the sending rate at half of what the server takes on an ordinary disk.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import time
from dataclasses import dataclass

from newsletter.send.transports import DEFERRED, FAILED, Outcome
from newsletter.subscribers.store import record_refusal

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
GROUP_SECONDS = 0.5


@dataclass(frozen=True)
class Pending:
    subscriber_id: int
    address: str
    name: str
    status: str
    attempts: int = 0


@dataclass(frozen=True)
class Row:
    address: str
    status: str
    attempts: int
    reply: str


def _now() -> str:
    return _iso(dt.datetime.now(dt.UTC))


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="microseconds")  # one fixed width, so text order is time order


class Journal:
    """The rows of one issue. Safe to share between threads (writes are serialised).

    A journal is one table and a key within it: `deliveries` keyed by issue here; a correction's
    journal (`newsletter.send.corrections`) reuses every step with its own table, key and audience.
    """

    table = "deliveries"
    key_columns: tuple[str, ...] = ("issue",)

    def __init__(self, connection: sqlite3.Connection, issue: int, *, retries: int = 5, backoff: float = 300.0):
        self.db, self.issue = connection, issue
        self.key: tuple = (issue,)
        self.retries, self.backoff = retries, backoff
        self.lock = threading.Lock()
        self.outcomes: list[tuple[int, Outcome, int]] = []  # recorded, written with the next claim
        self.unsynced = 0  # outcomes committed since the last fsync
        self.synced_at = time.monotonic()
        self.database_file = next(row[2] for row in connection.execute("PRAGMA database_list") if row[1] == "main")

    def prepare(self) -> int:
        """Start or resume a run: recover rows of a dead run, queue every subscribed address.

        Returns how many rows were found left `sending` (now `unknown`).
        """
        with self.lock, self._transaction():
            recovered = self.db.execute(
                f"UPDATE {self.table} SET status = 'unknown', reply = ?, updated_at = ? "
                f"WHERE {self._where()} AND status = 'sending'",
                (INTERRUPTED, _now(), *self.key),
            ).rowcount
            # Waiting rows of people who left since: never sent, so nothing to remember.
            self.db.execute(
                f"DELETE FROM {self.table} WHERE {self._where()} AND status IN ('queued', 'deferred') AND "
                "subscriber_id IN (SELECT id FROM subscribers WHERE status != 'subscribed')",
                self.key,
            )
            query, values = self.audience()
            columns = ", ".join(self.key_columns)
            marks = ", ".join("?" * len(self.key_columns))
            self.db.execute(
                f"INSERT OR IGNORE INTO {self.table} ({columns}, subscriber_id, address, status, updated_at) "
                f"SELECT {marks}, id, address, 'queued', ? FROM ({query})",
                (*self.key, _now(), *values),
            )
        return recovered

    def _transaction(self):
        return _Transaction(self.db)

    def _where(self, alias: str = "") -> str:
        """The condition on this journal's key (`issue = ?`), its columns prefixed by `alias`."""
        return " AND ".join(f"{alias}{column} = ?" for column in self.key_columns)

    def audience(self) -> tuple[str, tuple]:
        """The query of (id, address) of everyone to queue, and its values: every subscribed address."""
        return "SELECT id, address FROM subscribers WHERE status = 'subscribed'", ()

    def _due(self, statuses: tuple[str, ...]) -> tuple[str, list[str]]:
        """The WHERE clause of rows waiting in `statuses` that may go now (a deferred row once due)."""
        marks = ", ".join("?" * len(statuses))
        clause = f"{self._where('d.')} AND d.status IN ({marks}) AND (d.next_attempt IS NULL OR d.next_attempt <= ?)"
        return clause, [*self.key, *statuses, _now()]

    def pending(self, statuses: tuple[str, ...], after: int = 0, limit: int = 500) -> list[Pending]:
        """Rows waiting in `statuses`, due now, whose subscriber is subscribed, by id after `after`."""
        clause, values = self._due(statuses)
        with self.lock:
            rows = self.db.execute(
                f"SELECT d.subscriber_id, s.address, s.name, d.status, d.attempts FROM {self.table} d "
                f"JOIN subscribers s ON s.id = d.subscriber_id "
                f"WHERE {clause} AND s.status = 'subscribed' AND d.subscriber_id > ? "
                f"ORDER BY d.subscriber_id LIMIT ?",
                (*values, after, limit),
            ).fetchall()
        return [Pending(*row) for row in rows]

    def count_pending(self, statuses: tuple[str, ...]) -> int:
        clause, values = self._due(statuses)
        return self.db.execute(
            f"SELECT count(*) FROM {self.table} d JOIN subscribers s ON s.id = d.subscriber_id "
            f"WHERE {clause} AND s.status = 'subscribed'",
            values,
        ).fetchone()[0]

    def next_due(self) -> dt.datetime | None:
        """When the earliest deferred row may be tried again (None when none is deferred)."""
        value = self.db.execute(
            f"SELECT min(coalesce(next_attempt, '')) FROM {self.table} WHERE {self._where()} AND status = 'deferred'",
            self.key,
        ).fetchone()[0]
        if value is None:
            return None
        return dt.datetime.fromisoformat(value) if value else dt.datetime.now(dt.UTC)

    def claim(self, item: Pending, message_id: str) -> bool:
        """Mark the row `sending` just before the message goes out; False if it must not go out.

        The outcomes recorded since the last claim are written in the same transaction: one commit
        per message, and an outcome is never left unwritten longer than the next claim.
        """
        with self.lock, _Transaction(self.db):
            self._write_outcomes()
            cursor = self.db.execute(
                f"UPDATE {self.table} SET status = 'sending', attempts = attempts + 1, address = ?, message_id = ?,"
                f" updated_at = ? WHERE {self._where()} AND subscriber_id = ? AND status = ? AND EXISTS"
                " (SELECT 1 FROM subscribers WHERE id = ? AND status = 'subscribed')",
                (item.address, message_id, _now(), *self.key, item.subscriber_id, item.status, item.subscriber_id),
            )
        return cursor.rowcount == 1

    def record(self, subscriber_id: int, outcome: Outcome, attempts: int = 1) -> None:
        """Remember the outcome of a claimed row: written with the next claim, or by `flush`."""
        with self.lock:
            self.outcomes.append((subscriber_id, outcome, attempts))

    def _write_outcomes(self) -> None:
        now = dt.datetime.now(dt.UTC)
        for subscriber_id, outcome, attempts in self.outcomes:
            self.db.execute(
                f"UPDATE {self.table} SET status = ?, reply = ?, next_attempt = ?, updated_at = ? "
                f"WHERE {self._where()} AND subscriber_id = ?",
                self._row(subscriber_id, outcome, attempts, now),
            )
            if outcome.status == FAILED:  # a 5xx saying the address is dead: bounced, as by a bounce
                record_refusal(self.db, self.issue, subscriber_id, outcome.reply)
        self.unsynced += len(self.outcomes)
        self.outcomes.clear()

    def flush(self) -> None:
        """Write the outcomes still held and make every commit durable (end of a round, end of a run)."""
        with self.lock:
            if self.outcomes:
                with _Transaction(self.db):
                    self._write_outcomes()
        if self.unsynced:
            self._sync()

    def flush_if_due(self) -> None:
        """From the sending loop's thread, never a connection's: the fsync does not hold up a send."""
        if time.monotonic() - self.synced_at >= GROUP_SECONDS and (self.unsynced or self.outcomes):
            self.flush()

    def start(self) -> None:
        """From here on, commits go to the log without an fsync each; `finish` puts it back."""
        with self.lock:
            self.db.execute("PRAGMA synchronous = NORMAL")

    def finish(self) -> None:
        """Write and sync what is left and give the connection back its `synchronous=FULL`."""
        self.flush()
        with self.lock:
            self.db.execute("PRAGMA synchronous = FULL")

    def _sync(self) -> None:
        """fsync the write-ahead log, outside the lock: every transaction committed into it is then
        on the disk, while the connections go on claiming and sending."""
        self.unsynced, self.synced_at = 0, time.monotonic()
        wal = self.database_file + "-wal"
        try:
            descriptor = os.open(wal, os.O_RDONLY)
        except FileNotFoundError:  # checkpointed and truncated meanwhile: nothing left to flush
            return
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def _row(self, subscriber_id: int, outcome: Outcome, attempts: int, now: dt.datetime) -> tuple:
        status, reply, retry_at = outcome.status, outcome.reply[:500], None
        if status == DEFERRED:
            if attempts > self.retries:
                status, reply = FAILED, f"abandonné après {attempts} essais : {reply}"[:500]
            else:
                retry_at = _iso(now + dt.timedelta(seconds=self.backoff * 2 ** (attempts - 1)))
        return (status, reply, retry_at, _iso(now), *self.key, subscriber_id)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for status, count in self.db.execute(
            f"SELECT status, count(*) FROM {self.table} WHERE {self._where()} GROUP BY status", self.key
        ):
            counts[status] = count
        return counts

    def rows(self, statuses: tuple[str, ...], limit: int | None = None) -> list[Row]:
        marks = ", ".join("?" * len(statuses))
        return [
            Row(*row)
            for row in self.db.execute(
                f"SELECT address, status, attempts, reply FROM {self.table} WHERE {self._where()} AND status IN ({marks}) "
                f"ORDER BY status, address LIMIT ?",
                (*self.key, *statuses, -1 if limit is None else limit),
            )
        ]


class _Transaction:
    """`BEGIN IMMEDIATE` … `COMMIT`, or `ROLLBACK` on any exception (the connection is in autocommit)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, error, trace) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")
