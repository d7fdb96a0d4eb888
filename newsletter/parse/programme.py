"""A file of `calendars/` → `Programme`: a multi-day event written the way its programme reads.

    ---
    title: Journées des Territoires
    location: Halle Pajol, 20 esplanade Nathalie Sarraute, 75018 Paris
    year: 2018
    ---

    Ce qui précède le premier jour décrit l’événement.

    ## Lundi 26 novembre : Rencontre des territoires      ← a day (its weekday is checked)
    ### 10h00 – Ouverture                                 ← a slot: it ends when the next one starts
    ### 13h45 – Ateliers
    #### La coopération entre collectivités…              ← a parallel workshop of that slot
    ### 15h15–15h30 – Transitions et dynamiques…          ← a slot that says when it ends
    ### 17h15 – Fin des travaux                           ← « Fin… » ends the slot before it

Lines under a heading describe it. ```session blocks may add standalone sessions. The first error
stops the file: it is raised as a `SourceError` at its line.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from newsletter.errors import Problem, SourceError
from newsletter.model.programme import Programme, ProgrammeDay, Slot, Workshop
from newsletter.model.session import Session, Status
from newsletter.parse.french_dates import match_time_range, parse_day
from newsletter.parse.frontmatter import split_front_matter
from newsletter.parse.session import (
    ID_LENGTH,
    SESSION_FENCES,
    STATUSES,
    Field,
    link_problem,
    local_datetime,
    parse_duration,
    parse_session,
    read_fields,
)
from newsletter.parse.source import read_source
from newsletter.text import fenced_blocks, french_hour, slug

FRONT_FIELDS = ("id", "title", "location", "online", "description", "url", "status", "year", "date", "reminder")
RESERVED_IDS = ("agenda", "sessions")
LAST_SLOT = dt.timedelta(hours=1)  # the length of a day's last slot when nothing says when it ends

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_OWN_ID = re.compile(r"\s*\{#([^}\s]+)\}\s*$")
_SEPARATOR = re.compile(r"^[\s:–—-]+")
_END_MARK = re.compile(r"^fin\b", re.IGNORECASE)


def is_calendar_source(path: Path) -> bool:
    return (
        path.suffix == ".md"
        and path.is_file()
        and not path.name.startswith((".", "_"))
        and path.stem.lower() != "readme"
    )


def parse_programme(path: Path, tz: dt.tzinfo) -> tuple[Programme, list[Problem]]:
    """The programme of one file and its warnings; its first error raised as SourceError."""
    return _ProgrammeParser(path, tz).parse(read_source(path))


class _Slot:
    """A slot while its day is read: its end is known only when the next slot comes."""

    def __init__(self, title: str, own_id: str, start: dt.time, end: dt.time | None, line: int):
        self.title, self.own_id, self.start, self.end, self.line = title, own_id, start, end, line
        self.closed = False  # a « 17h15 Fin des travaux » line gave its end
        self.lines: list[str] = []
        self.workshops: list[tuple[str, int, list[str]]] = []


class _Day:
    def __init__(self, date: dt.date, title: str, line: int):
        self.date, self.title, self.line = date, title, line
        self.lines: list[str] = []
        self.slots: list[_Slot] = []
        self.latest: dt.time | None = None  # the time of the last slot or « Fin » line


class _ProgrammeParser:
    def __init__(self, path: Path, tz: dt.tzinfo):
        self.path, self.tz = path, tz
        self.problems: list[Problem] = []

    def fail(self, line: int | None, message: str) -> SourceError:
        return SourceError(self.path, line, message)

    def parse(self, text: str) -> tuple[Programme, list[Problem]]:
        source, body, body_line = split_front_matter(self.path, text)
        front, problems = read_fields(source, self.path, 2, "en-tête")
        if front is None or problems:
            raise self.fail(problems[0].line if problems else 1, problems[0].message if problems else "en-tête vide")
        self.front = front
        self.check_front()
        self.id = slug(self.text("id") or self.path.stem, ID_LENGTH)
        if not self.id or self.id in RESERVED_IDS:
            raise self.fail(self.line_of("id"), f"id « {self.id} » réservé ou vide : choisissez-en un autre")
        year_text = self.text("year")
        self.year = int(year_text) if year_text.isdigit() and 1900 <= int(year_text) <= 2200 else None
        if year_text and self.year is None:
            raise self.fail(self.line_of("year"), f"année illisible « {year_text} » : écrivez-la en quatre chiffres")
        intro, days, blocks = self.read_body(body.split("\n"), body_line)
        published = self.published(days)
        sessions = self.sessions(blocks, published)
        return (
            Programme(
                id=self.id,
                title=" ".join(self.text("title").split()),
                path=self.path,
                location=" ".join(self.text("location").split()),
                online=self.link("online"),
                description=self.text("description") or _text(intro),
                url=self.link("url"),
                status=self.status(),
                published=published,
                reminder=self.reminder(),
                days=tuple(self.finish(day) for day in days),
                sessions=sessions,
            ),
            self.problems,
        )

    # --- front matter --------------------------------------------------------------------------

    def text(self, name: str) -> str:
        field = self.front.get(name)
        return field.value if field else ""

    def line_of(self, name: str) -> int:
        field: Field | None = self.front.get(name)
        return field.line if field else 1

    def check_front(self) -> None:
        for name, field in self.front.items():
            if name not in FRONT_FIELDS:
                raise self.fail(field.line, f"champ d’en-tête inconnu « {name} » (connus : {', '.join(FRONT_FIELDS)})")
        if not self.text("title"):
            raise self.fail(1, "en-tête incomplet : il manque « title »")

    def link(self, name: str) -> str:
        written = self.text(name)
        if problem := link_problem(name, written):
            raise self.fail(self.line_of(name), problem)
        return written

    def status(self) -> Status:
        written = self.text("status").lower() or "confirmed"
        if written not in STATUSES:
            raise self.fail(self.line_of("status"), f"statut inconnu « {written} » : confirmed, tentative ou cancelled")
        return STATUSES[written]

    def reminder(self) -> dt.timedelta | None:
        written = self.text("reminder")
        if not written:
            return dt.timedelta(days=1)
        if written.lower() in ("aucun", "aucune", "non", "none"):
            return None
        length = parse_duration(written)
        if length is None:
            raise self.fail(
                self.line_of("reminder"),
                f"rappel illisible « {written} » : écrivez par exemple « 1 jour » ou « aucun »",
            )
        return length

    def published(self, days: list[_Day]) -> dt.date | None:
        written = self.text("date")
        if not written:
            return days[0].date if days else None
        try:
            return dt.date.fromisoformat(written)
        except ValueError as error:
            raise self.fail(self.line_of("date"), f"date illisible « {written} » : écrivez « AAAA-MM-JJ »") from error

    # --- body ----------------------------------------------------------------------------------

    def read_body(self, lines: list[str], base: int) -> tuple[list[str], list[_Day], list[tuple[int, str]]]:
        intro: list[str] = []
        days: list[_Day] = []
        blocks: list[tuple[int, str]] = []
        target = intro
        for index, block in fenced_blocks(lines):
            number = base + index
            if block is not None:
                if block.opening.info not in SESSION_FENCES:
                    raise self.fail(number, "seuls les blocs « ```session » (ou « ```séance ») sont permis ici")
                if block.end is None:
                    marker = block.opening.marker
                    raise self.fail(
                        number, f"bloc « {marker} » ouvert ici et jamais fermé (ajoutez une ligne « {marker} »)"
                    )
                blocks.append((number, "\n".join(block.body(lines))))
                continue
            line = lines[index]
            heading = _HEADING.match(line)
            if heading is None:
                target.append(line)
                continue
            level, title = len(heading.group(1)), heading.group(2)
            if level == 2:
                days.append(self.day(title, number, days))
                target = days[-1].lines
            elif level == 3:
                target = self.slot(title, number, days)
            elif level == 4:
                target = self.workshop(title, number, days)
            else:
                raise self.fail(
                    number,
                    "titre de ce niveau inconnu : « ## » pour un jour, « ### » pour un créneau, « #### » pour un atelier",
                )
        return intro, days, blocks

    def day(self, heading: str, line: int, days: list[_Day]) -> _Day:
        parsed = parse_day(heading, self.year)
        if isinstance(parsed, str):
            raise self.fail(line, parsed)
        date, rest = parsed
        if days and date <= days[-1].date:
            raise self.fail(
                line,
                f"jour {date.isoformat()} après le {days[-1].date.isoformat()} (ligne {days[-1].line}) : mettez les jours dans l’ordre",
            )
        return _Day(date, _SEPARATOR.sub("", rest).strip(), line)

    def slot(self, heading: str, line: int, days: list[_Day]) -> list[str]:
        if not days:
            raise self.fail(line, "créneau avant le premier jour : ajoutez d’abord un titre « ## lundi 26 novembre »")
        day = days[-1]
        own_id = ""
        if found := _OWN_ID.search(heading):
            own_id, heading = found.group(1), heading[: found.start()]
        matched = match_time_range(heading)
        if matched is None:
            raise self.fail(
                line, f"créneau sans heure « {heading} » : commencez par l’heure, « ### 10h00 – Ouverture »"
            )
        times, rest = matched
        title = _SEPARATOR.sub("", rest).strip()
        if not title:
            raise self.fail(line, "créneau sans titre : écrivez-le après l’heure, « ### 10h00 – Ouverture »")
        previous = day.slots[-1] if day.slots else None
        if day.latest is not None and times.start < day.latest:
            raise self.fail(
                line,
                f"créneau de {french_hour(times.start, minutes=True)} avant le précédent : mettez-les dans l’ordre",
            )
        if _END_MARK.match(title) and times.end is None:
            if previous is None or previous.closed:
                raise self.fail(line, f"« {title} » sans créneau à terminer avant lui")
            previous.end = previous.end or times.start
            previous.closed = True
            day.latest = times.start
            return day.lines
        if previous and times.start == previous.start:
            raise self.fail(
                line,
                f"deux créneaux à {french_hour(times.start, minutes=True)} : des ateliers en parallèle s’écrivent « #### » sous un même créneau",
            )
        day.latest = times.start
        day.slots.append(_Slot(title, own_id, times.start, times.end, line))
        return day.slots[-1].lines

    def workshop(self, heading: str, line: int, days: list[_Day]) -> list[str]:
        if not days or not days[-1].slots or days[-1].slots[-1].closed:
            raise self.fail(line, "atelier hors d’un créneau : placez « #### » sous le « ### » de son créneau")
        slot = days[-1].slots[-1]
        slot.workshops.append((heading.strip(), line, []))
        return slot.workshops[-1][2]

    def finish(self, day: _Day) -> ProgrammeDay:
        slots: list[Slot] = []
        seen: dict[str, int] = {}
        for index, slot in enumerate(day.slots):
            following = day.slots[index + 1].start if index + 1 < len(day.slots) else None
            start = self.local(day.date, slot.start, slot.line)
            if slot.end is not None:
                end = self.local(day.date, slot.end, slot.line)
            elif following is not None:
                end = self.local(day.date, following, slot.line)
            else:
                end = start + LAST_SLOT
            if end <= start:
                raise self.fail(
                    slot.line, f"le créneau de {french_hour(slot.start, minutes=True)} finit avant de commencer"
                )
            slot_id = (
                slug(slot.own_id, ID_LENGTH)
                if slot.own_id
                else f"{self.id}-{day.date.isoformat()}-{slug(slot.title, 40)}"
            )
            if slot_id in seen:
                raise self.fail(
                    slot.line,
                    f"deux créneaux du même titre ce jour-là (ligne {seen[slot_id]}) : donnez à l’un un id, « ### 10h00 – Titre {{#mon-id}} »",
                )
            seen[slot_id] = slot.line
            workshops = tuple(Workshop(title, _text(lines), line) for title, line, lines in slot.workshops)
            slots.append(Slot(slot_id, slot.title, start, end, _text(slot.lines), workshops, line=slot.line))
        return ProgrammeDay(day.date, day.title, _text(day.lines), tuple(slots), day.line)

    def local(self, date: dt.date, time: dt.time, line: int) -> dt.datetime:
        moment = local_datetime(date, time, self.tz)
        if moment is None:
            raise self.fail(
                line, f"{french_hour(time, minutes=True)} n’existe pas le {date.isoformat()} (changement d’heure)"
            )
        return moment

    def sessions(self, blocks: list[tuple[int, str]], published: dt.date | None) -> tuple[Session, ...]:
        sessions: list[Session] = []
        for line, source in blocks:
            session, problems = parse_session(source, self.path, line, self.tz, id_prefix=self.id, published=published)
            errors = [problem for problem in problems if problem.is_error]
            if errors:
                raise self.fail(errors[0].line, errors[0].message)
            assert session is not None  # parse_session gives a session whenever it reports no error
            self.problems.extend(problems)
            sessions.append(session)
        return tuple(sessions)


def _text(lines: list[str]) -> str:
    """Description lines as plain text: paragraphs kept, comments and Markdown's bold marks taken off."""
    text = re.sub(r"<!--.*?-->", "", "\n".join(line.rstrip() for line in lines), flags=re.S).strip("\n")
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.replace("**", "").replace("__", "")
