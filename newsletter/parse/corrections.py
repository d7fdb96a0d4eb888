"""`calendars/rectificatifs.json`: the corrections sent, as the archive tells them.

`newsletter rectificatif` appends one entry per correction sent (its day, the issue, the round, and
each session's change lines); the project commits it with the issues. The build reads it, never the
subscribers' database nor the clock, so that the same sources give the same pages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from newsletter.model.issue import Issue
from newsletter.model.session import Correction
from newsletter.parse.source import read_committed_json

CORRECTIONS_FILE = "rectificatifs.json"


@dataclass(frozen=True)
class Record:
    """One correction sent: the day, the issue, its round, and per session id its change lines."""

    day: dt.date
    issue: int
    round: int
    sessions: dict[str, tuple[str, ...]]

    def as_json(self) -> dict:
        return {
            "date": self.day.isoformat(),
            "issue": self.issue,
            "round": self.round,
            "sessions": {key: list(lines) for key, lines in sorted(self.sessions.items())},
        }


def read_records(path: Path) -> list[Record]:
    """The corrections listed in `path` (none when it is missing); a damaged file is a SourceError."""
    records = read_committed_json(
        path,
        "liste des rectificatifs",
        lambda data: [
            Record(
                dt.date.fromisoformat(entry["date"]),
                int(entry["issue"]),
                int(entry["round"]),
                {str(key): tuple(str(line) for line in lines) for key, lines in entry["sessions"].items()},
            )
            for entry in data["rectificatifs"]
        ],
        "gardez les rectificatifs des deux côtés, dans l’ordre de leur date",
    )
    return records or []


def with_corrections(issue: Issue, records: list[Record]) -> Issue:
    """`issue` whose sessions carry the corrections sent about them, oldest first."""
    found: dict[str, tuple[Correction, ...]] = {}
    for record in sorted(records, key=lambda record: (record.day, record.round)):
        if record.issue == issue.number:
            for key, lines in record.sessions.items():
                found[key] = (*found.get(key, ()), Correction(record.day, lines))
    if not found:
        return issue
    sessions = tuple(dataclasses.replace(s, corrections=found.get(s.id, ())) for s in issue.sessions)
    return dataclasses.replace(issue, sessions=sessions)
