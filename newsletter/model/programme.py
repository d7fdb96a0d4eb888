"""A programme: a multi-day event with timed slots (the *Journées des Territoires* of seed 002).

A programme gives the agenda one all-day event for the whole (its first to its last day) and one
event per slot; parallel workshops belong to their slot (they share its time) and are listed in its
description rather than given events of their own, so that a subscriber's agenda shows one line per
moment of the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from newsletter.model.session import Session, Status


@dataclass(frozen=True)
class Workshop:
    """One of the parallel workshops of a slot."""

    title: str
    description: str = ""
    line: int = 0


@dataclass(frozen=True)
class Slot:
    """A timed moment of a day: « 13h45 – Ateliers »; it ends when the next one starts unless it says otherwise."""

    id: str
    title: str
    start: dt.datetime
    end: dt.datetime
    description: str = ""
    workshops: tuple[Workshop, ...] = ()
    location: str = ""
    line: int = 0


@dataclass(frozen=True)
class ProgrammeDay:
    date: dt.date
    title: str = ""
    description: str = ""
    slots: tuple[Slot, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Programme:
    """A file of `calendars/`: a programme (days and slots) and/or standalone sessions."""

    id: str
    title: str
    path: Path
    location: str = ""
    online: str = ""
    description: str = ""
    url: str = ""
    status: Status = Status.CONFIRMED
    published: dt.date | None = None
    reminder: dt.timedelta | None = None
    days: tuple[ProgrammeDay, ...] = ()
    sessions: tuple[Session, ...] = ()  # standalone ```session blocks of the file
    line: int = 1

    @property
    def slots(self) -> tuple[Slot, ...]:
        return tuple(slot for day in self.days for slot in day.slots)

    def events(self) -> list[Session]:
        """The whole event (all-day, first to last day), then one per slot, then the standalone sessions."""
        events: list[Session] = []
        if self.days:
            events.append(
                Session(
                    id=self.id,
                    title=self.title,
                    start=self.days[0].date,
                    end=self.days[-1].date,
                    location=self.location,
                    online=self.online,
                    description=self.description,
                    status=self.status,
                    reminder=self.reminder,
                    url=self.url,
                    published=self.published,
                    programme=self.id,
                    path=self.path,
                    line=self.line,
                )
            )
        for slot in self.slots:
            events.append(
                Session(
                    id=slot.id,
                    title=f"{self.title} : {slot.title}",
                    start=slot.start,
                    end=slot.end,
                    location=slot.location or self.location,
                    online=self.online,
                    description=_slot_description(slot),
                    status=self.status,
                    reminder=None,  # one reminder for the whole event is enough
                    url=self.url,
                    published=self.published,
                    programme=self.id,
                    path=self.path,
                    line=slot.line,
                )
            )
        events.extend(replace(session, programme=self.id) for session in self.sessions)
        return events


def _slot_description(slot: Slot) -> str:
    parts = [slot.description] if slot.description else []
    if slot.workshops:
        parts.append("Ateliers en parallèle :")
        for workshop in slot.workshops:
            parts.append(f"– {workshop.title}" + (f"\n{workshop.description}" if workshop.description else ""))
    return "\n\n".join(parts)
