"""The subscribers database: one SQLite file, WAL mode, versioned migrations.

The schema's version is SQLite's `PRAGMA user_version`; `MIGRATIONS[n]` takes a database from
version n to n + 1, inside one transaction, so a database is always at a known version. The
delivery journal (`newsletter.send.journal`) lives in the same file so that a subscriber and what was
sent to them are committed together; so does what came back (`feedback`: bounces, complaints,
mailto unsubscriptions, each with its issue when known; `feedback_messages`: the key of every
message `newsletter bounces` has read, so that reading it again changes nothing).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from newsletter.errors import NewsletterError, os_reason

MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: subscribers, and a small key/value table (the generated signing secret lives there).
    """
    CREATE TABLE subscribers (
        id INTEGER PRIMARY KEY,
        address TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        territory TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'subscribed'
            CHECK (status IN ('subscribed', 'unsubscribed', 'bounced')),
        consent_date TEXT,
        consent_source TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX subscribers_status ON subscribers (status, id);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 1 -> 2: the delivery journal, one row per issue and subscriber.
    """
    CREATE TABLE deliveries (
        issue INTEGER NOT NULL,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        address TEXT NOT NULL,
        status TEXT NOT NULL
            CHECK (status IN ('queued', 'sending', 'sent', 'deferred', 'failed', 'unknown')),
        attempts INTEGER NOT NULL DEFAULT 0,
        reply TEXT NOT NULL DEFAULT '',
        message_id TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (issue, subscriber_id)
    );
    CREATE INDEX deliveries_status ON deliveries (issue, status, subscriber_id);
    """,
    # 2 -> 3: when a deferred row may be tried again (UTC, ISO 8601), so that a rerun retries what is due.
    """
    ALTER TABLE deliveries ADD COLUMN next_attempt TEXT;
    """,
    # 3 -> 4: what came back (bounces, complaints, mailto unsubscriptions) and the messages read.
    """
    ALTER TABLE subscribers ADD COLUMN soft_bounces INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE feedback_messages (
        key TEXT PRIMARY KEY,
        read_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        message_key TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint', 'unsubscribe')),
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        issue INTEGER,
        detail TEXT NOT NULL DEFAULT '',
        received_at TEXT NOT NULL
    );
    CREATE INDEX feedback_issue ON feedback (issue, kind, subscriber_id);
    CREATE INDEX feedback_subscriber ON feedback (subscriber_id, kind, issue);
    CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id, status, issue);
    """,
    # 4 -> 5: readers sign up themselves. A CHECK constraint cannot be altered in SQLite, so the
    # subscribers table is rebuilt (SQLite's documented procedure: new table, copy, drop, rename; the
    # foreign keys are off meanwhile, see `migrate`) with `pending` among the statuses, the form
    # version consented to, and the nonce of a pending sign-up (its confirmation link is bound to
    # it). Erased subscribers leave a tombstone (a keyed hash of the address, no personal data);
    # the consent forms' wording is kept by version; rate limits count per key and window.
    """
    CREATE TABLE subscribers_new (
        id INTEGER PRIMARY KEY,
        address TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        territory TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'subscribed'
            CHECK (status IN ('pending', 'subscribed', 'unsubscribed', 'bounced')),
        consent_date TEXT,
        consent_source TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        consent_version TEXT NOT NULL DEFAULT '',
        pending_nonce TEXT NOT NULL DEFAULT '',
        requested_at TEXT,
        soft_bounces INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO subscribers_new (id, address, name, territory, role, status, consent_date, consent_source,
        created_at, updated_at, soft_bounces)
        SELECT id, address, name, territory, role, status, consent_date, consent_source, created_at, updated_at,
            soft_bounces
        FROM subscribers;
    DROP TABLE subscribers;
    ALTER TABLE subscribers_new RENAME TO subscribers;
    CREATE INDEX subscribers_status ON subscribers (status, id);
    CREATE TABLE tombstones (
        digest TEXT PRIMARY KEY,
        subscriber_id INTEGER NOT NULL,
        erased_at TEXT NOT NULL
    );
    CREATE INDEX tombstones_id ON tombstones (subscriber_id);
    CREATE TABLE consent_forms (version TEXT PRIMARY KEY, text TEXT NOT NULL, first_used TEXT NOT NULL);
    CREATE TABLE rate_limits (
        key TEXT NOT NULL,
        window INTEGER NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (key, window)
    ) WITHOUT ROWID;
    """,
    # 5 -> 6: corrections (« rectificatifs »). What each session of a sent issue looked like when it
    # was sent (`original`) and when subscribers were last told (`told`); each correction of an issue
    # (`round`), its message composed once and the state it tells; its own delivery journal.
    """
    CREATE TABLE session_snapshots (
        issue INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        original TEXT NOT NULL,
        told TEXT NOT NULL,
        sequence INTEGER NOT NULL DEFAULT 0,
        sent_at TEXT NOT NULL,
        PRIMARY KEY (issue, session_id)
    ) WITHOUT ROWID;
    CREATE TABLE corrections (
        issue INTEGER NOT NULL,
        round INTEGER NOT NULL,
        letter TEXT NOT NULL,
        target TEXT NOT NULL,
        created_at TEXT NOT NULL,
        settled_at TEXT,
        PRIMARY KEY (issue, round)
    );
    CREATE TABLE correction_deliveries (
        issue INTEGER NOT NULL,
        round INTEGER NOT NULL,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
        address TEXT NOT NULL,
        status TEXT NOT NULL
            CHECK (status IN ('queued', 'sending', 'sent', 'deferred', 'failed', 'unknown')),
        attempts INTEGER NOT NULL DEFAULT 0,
        reply TEXT NOT NULL DEFAULT '',
        message_id TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        next_attempt TEXT,
        PRIMARY KEY (issue, round, subscriber_id)
    );
    CREATE INDEX correction_deliveries_status ON correction_deliveries (issue, round, status, subscriber_id);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


class DatabaseError(NewsletterError):
    """The database file cannot be opened or is not ours (message in French)."""


def open_database(path: Path, *, durable: bool = True) -> sqlite3.Connection:
    """Open (creating it if needed) and migrate the database at `path`.

    The connection is in autocommit mode: every statement outside an explicit `with connection`
    block is committed at once, which is what the delivery journal relies on. `durable` keeps
    `synchronous=FULL`, so that a commit survives a power cut, not only a crash of this process.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        connection.execute("PRAGMA foreign_keys = ON")
        migrate(connection, path)
    except sqlite3.DatabaseError as error:
        raise DatabaseError(f"{path}: base d’abonnés illisible ({error})") from None
    except OSError as error:
        raise DatabaseError(f"{path}: impossible d’ouvrir la base d’abonnés ({os_reason(error)})") from None
    return connection


def migrate(connection: sqlite3.Connection, path: Path) -> int:
    """Apply the missing migrations; return the version the database is now at."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{path}: base créée par une version plus récente de newsletter (schéma {version}, "
            f"celle-ci connaît le schéma {SCHEMA_VERSION})"
        )
    if version == SCHEMA_VERSION:
        return version
    # A table rebuild drops the old table: with foreign keys on, that would cascade into the journal.
    # The pragma is a no-op inside a transaction, so it is switched around them, and every
    # migration is checked with foreign_key_check before it commits.
    connection.execute("PRAGMA foreign_keys = OFF")
    try:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            _migrate_to(connection, target)
    finally:
        connection.execute("PRAGMA foreign_keys = ON")
    return SCHEMA_VERSION


def _migrate_to(connection: sqlite3.Connection, target: int) -> None:
    # executescript() would commit on its own; run each statement inside one transaction.
    connection.execute("BEGIN IMMEDIATE")
    try:
        current = connection.execute("PRAGMA user_version").fetchone()[0]
        if current < target:  # another process may have migrated meanwhile
            for statement in _statements(MIGRATIONS[target - 1]):
                connection.execute(statement)
            if connection.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise sqlite3.DatabaseError(f"migration {target} : clés étrangères incohérentes")
            connection.execute(f"PRAGMA user_version = {target}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
