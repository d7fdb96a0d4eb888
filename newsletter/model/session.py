"""A session: one dated event that subscribers can add to their agenda.

Sessions are announced in issues (```session blocks) or described in `calendars/` (the slots of a
programme, or standalone sessions). Dates are already resolved by the parser: a timed session has
timezone-aware datetimes in the project's timezone, an all-day session has plain dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

SESSION_FENCES = ("session", "séance")  # the info strings of a session block (« séance »: the French)


class Status(StrEnum):
    """The iCalendar STATUS of an event, as the team writes it in a session block."""

    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Correction:
    """A correction (« rectificatif ») sent about a session: the day, and each change as before → after."""

    day: dt.date
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Session:
    """One event of the agenda.

    `id` is the stable key the calendars derive the UID from: the block's explicit `id`, else one
    made from the issue number and the title (so it never changes between builds). For an all-day
    session `start` and `end` are dates and `end` is the last day, inclusive (as the team writes it);
    for a timed one they are aware datetimes and `end` is the instant it ends.
    """

    id: str
    title: str
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime
    location: str = ""
    online: str = ""  # the visio link (http or https)
    description: str = ""
    status: Status = Status.CONFIRMED
    rrule: str = ""  # an RFC 5545 recurrence rule without its « RRULE: », e.g. FREQ=MONTHLY;BYDAY=1TU
    exdates: tuple[dt.date | dt.datetime, ...] = ()  # occurrences the rule skips (EXDATE): dates, or aware starts
    reminder: dt.timedelta | None = None  # how long before the start the agenda reminds; None: none
    url: str = ""  # a page about the session (registration, programme)
    published: dt.date | None = None  # when it was published (issue or programme date): DTSTAMP
    issue: int | None = None  # the number of the issue that announces it
    programme: str = ""  # the id of the programme it belongs to
    corrections: tuple[Correction, ...] = ()  # sent since its issue was (calendars/rectificatifs.json), oldest first
    path: Path | None = None
    line: int = 0

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, dt.datetime)

    @property
    def cancelled(self) -> bool:
        return self.status is Status.CANCELLED

    @property
    def first_day(self) -> dt.date:
        return self.start.date() if isinstance(self.start, dt.datetime) else self.start

    @property
    def last_day(self) -> dt.date:
        """The day the session ends (for a timed session ending at midnight, the day before)."""
        if isinstance(self.end, dt.datetime):
            end = self.end - dt.timedelta(microseconds=1) if self.end > self.start else self.end
            return end.date()
        return self.end
