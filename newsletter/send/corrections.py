"""Corrections (« rectificatifs ») in the subscribers' database: what was told, and who is told again.

When an issue goes to the list, each of its sessions is recorded as the subscribers read it (a
snapshot: a JSON object the caller makes, see `newsletter.corrections.snapshot_of`), once: a resumed
send keeps the first. `told` starts as that snapshot and becomes what a correction told, once every
row of that correction is settled; `original` never changes.

A correction of an issue is a numbered round: its message is composed once and kept (`letter`), with
the snapshots it tells (`target`), so that a round resumed after a crash sends every remaining
subscriber the same message even if the sources changed meanwhile (the next round will tell that).
Its journal is `correction_deliveries`, keyed by (issue, round), queued for the subscribers whose
delivery of the issue is `sent` and who are still subscribed; every other step is `Journal`'s.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import sqlite3
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from newsletter.send.journal import Journal, _now, _Transaction
from newsletter.send.message import Attachment, Letter

SNAPSHOTS_SCHEMA = 6  # the schema version that has these tables


@dataclass(frozen=True)
class Round:
    issue: int
    round: int
    letter: Letter
    target: dict[str, dict | None]  # session id → what the round tells (None: removed and cancelled)
    created_at: str
    settled_at: str | None


class CorrectionJournal(Journal):
    """The rows of one round of corrections of an issue."""

    table = "correction_deliveries"
    key_columns = ("issue", "round")

    def __init__(self, connection: sqlite3.Connection, issue: int, round_: int, **options):
        super().__init__(connection, issue, **options)
        self.key = (issue, round_)

    def audience(self) -> tuple[str, tuple]:
        """Those who were sent the issue and are still subscribed."""
        return (
            "SELECT s.id AS id, s.address AS address FROM subscribers s JOIN deliveries d ON d.subscriber_id = s.id "
            "WHERE d.issue = ? AND d.status = 'sent' AND s.status = 'subscribed'",
            (self.issue,),
        )


def record_snapshots(db: sqlite3.Connection, issue: int, snapshots: dict[str, tuple[dict, int]]) -> None:
    """When an issue goes to the list: each session (id → (snapshot, sequence published)). Once
    someone was sent the issue, what the first run announced is kept (a resumed send does not
    forget it); until then a run replaces it, since nobody has read it (a send to an empty list,
    then the issue edited, then sent for real, must not leave the edit to a rectificatif)."""
    now = _now()
    with _Transaction(db):
        if not was_sent(db, issue):
            db.execute("DELETE FROM session_snapshots WHERE issue = ?", (issue,))
        for session_id, (snapshot, sequence) in snapshots.items():
            text = _dumps(snapshot)
            db.execute(
                "INSERT OR IGNORE INTO session_snapshots (issue, session_id, original, told, sequence, sent_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (issue, session_id, text, text, sequence, now),
            )


def told(db: sqlite3.Connection, issue: int) -> dict[str, dict]:
    """What the subscribers of `issue` were last told of each session (empty: never sent)."""
    rows = db.execute("SELECT session_id, told FROM session_snapshots WHERE issue = ? ORDER BY session_id", (issue,))
    return {session_id: json.loads(text) for session_id, text in rows}


def was_sent(db: sqlite3.Connection, issue: int) -> bool:
    return (
        db.execute("SELECT 1 FROM deliveries WHERE issue = ? AND status = 'sent' LIMIT 1", (issue,)).fetchone()
        is not None
    )


def read_told(path: Path) -> dict[int, dict[str, dict]]:
    """For `newsletter check`: every issue's told snapshots, from the database opened read-only.

    A database that is missing, older than the snapshots or unreadable tells nothing: `check` never
    creates nor migrates it (that is `send`'s business)."""
    if not Path(path).is_file():
        return {}
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return {}
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] < SNAPSHOTS_SCHEMA:
            return {}
        found: dict[int, dict[str, dict]] = {}
        sent = (
            "SELECT DISTINCT issue FROM deliveries WHERE status = 'sent'"  # what nobody received needs no rectificatif
        )
        rows = db.execute(f"SELECT issue, session_id, told FROM session_snapshots WHERE issue IN ({sent})")
        for issue, session_id, text in rows:
            found.setdefault(issue, {})[session_id] = json.loads(text)
        return found
    except (sqlite3.Error, ValueError):
        return {}
    finally:
        db.close()


def open_round(db: sqlite3.Connection, issue: int) -> Round | None:
    """The round of `issue` started and not yet settled, if any."""
    row = db.execute(
        "SELECT issue, round, letter, target, created_at, settled_at FROM corrections "
        "WHERE issue = ? AND settled_at IS NULL ORDER BY round DESC LIMIT 1",
        (issue,),
    ).fetchone()
    return _round(row) if row else None


def rounds(db: sqlite3.Connection, issue: int) -> list[Round]:
    rows = db.execute(
        "SELECT issue, round, letter, target, created_at, settled_at FROM corrections WHERE issue = ? ORDER BY round",
        (issue,),
    )
    return [_round(row) for row in rows]


def round_with_unknown(db: sqlite3.Connection, issue: int) -> Round | None:
    """The latest settled round with messages held as uncertain, for `--resend-unknown`."""
    row = db.execute(
        "SELECT c.issue, c.round, c.letter, c.target, c.created_at, c.settled_at FROM corrections c "
        "WHERE c.issue = ? AND EXISTS (SELECT 1 FROM correction_deliveries d WHERE d.issue = c.issue "
        "AND d.round = c.round AND d.status = 'unknown') ORDER BY c.round DESC LIMIT 1",
        (issue,),
    ).fetchone()
    return _round(row) if row else None


def next_round(db: sqlite3.Connection, issue: int) -> int:
    return db.execute("SELECT coalesce(max(round), 0) + 1 FROM corrections WHERE issue = ?", (issue,)).fetchone()[0]


def start_round(
    db: sqlite3.Connection, issue: int, number: int, letter: Letter, target: dict[str, dict | None]
) -> Round:
    """Round `number` (`next_round`), its message and what it tells kept for every run until it is settled."""
    with _Transaction(db):
        kept = replace(letter, correction=number)
        db.execute(
            "INSERT INTO corrections (issue, round, letter, target, created_at) VALUES (?, ?, ?, ?, ?)",
            (issue, number, _letter_json(kept), _dumps(target), _now()),
        )
    return open_round(db, issue)  # type: ignore[return-value]


def settle(db: sqlite3.Connection, found: Round) -> None:
    """Every row is settled: what the round told is now what subscribers know."""
    with _Transaction(db):
        for session_id, snapshot in found.target.items():
            if snapshot is None:
                db.execute(
                    "DELETE FROM session_snapshots WHERE issue = ? AND session_id = ?", (found.issue, session_id)
                )
            else:
                db.execute(
                    "UPDATE session_snapshots SET told = ? WHERE issue = ? AND session_id = ?",
                    (_dumps(snapshot), found.issue, session_id),
                )
        db.execute(
            "UPDATE corrections SET settled_at = ? WHERE issue = ? AND round = ?", (_now(), found.issue, found.round)
        )


def _round(row) -> Round:
    issue, number, letter, target, created_at, settled_at = tuple(row)
    return Round(issue, number, _letter_from_json(letter), json.loads(target), created_at, settled_at)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _letter_json(letter: Letter) -> str:
    data = asdict(letter)
    data["date"] = letter.date.isoformat()
    data["timezone"] = str(getattr(letter.date.tzinfo, "key", "") or "")
    data["attachments"] = [
        {"filename": a.filename, "content_type": a.content_type, "data": base64.b64encode(a.data).decode("ascii")}
        for a in letter.attachments
    ]
    return _dumps(data)


def _letter_from_json(text: str) -> Letter:
    data = json.loads(text)
    zone = data.pop("timezone", "")
    date = dt.datetime.fromisoformat(data.pop("date"))
    if zone:
        from zoneinfo import ZoneInfo

        date = date.astimezone(ZoneInfo(zone))
    attachments = tuple(
        Attachment(a["filename"], a["content_type"], base64.b64decode(a["data"])) for a in data.pop("attachments")
    )
    return Letter(date=date, attachments=attachments, **data)
