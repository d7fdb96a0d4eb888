"""A ```session block (YAML) → `Session`, every problem at the line of the file where it is.

    ```session
    id: 2022-08-02-permanences-alliance      # optional: the stable name of the session
    title: Permanence de l’Alliance (visio)
    start: 2022-08-02 11:00                  # a date (all-day) or a date and a time, local time
    end: 2022-08-02 13:00                    # or « end: 13:00 », or « duration: 2h » / « 90 min »
    location: En visio
    online: https://visio.example.org/alliance
    description: Un temps ouvert à toutes et à tous.
    status: confirmed                        # confirmed, tentative or cancelled
    répétition: chaque premier mardi du mois # or « repetition: », or « rrule: FREQ=MONTHLY;BYDAY=1TU »
    reminder: 1h                             # optional; « aucun » for none
    url: https://example.org/inscription     # optional: a page about the session
    ```

The YAML is composed, not constructed: every value stays the text the team wrote (YAML would turn
`2022-02-30` into an exception and `start: 2022-04-07 14:00` into a string but `…14:00:00` into a
datetime), and each node keeps its line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from dateutil import rrule as dateutil_rrule

from newsletter.errors import ERROR, WARNING, Problem
from newsletter.model.session import SESSION_FENCES, Session, Status
from newsletter.parse.recurrence import Exclusion, RecurrenceError, parse_recurrence
from newsletter.parse.rubrics import normalise
from newsletter.parse.yamltext import FAST_LOADER, yaml_reason
from newsletter.text import french_day, slug

FIELDS = (
    "id", "title", "start", "end", "duration", "location", "online", "description", "status", "répétition", "rrule", "reminder", "url",
)  # fmt: skip
DEFAULT_TIMED_DURATION = dt.timedelta(hours=1)
DEFAULT_REMINDER_TIMED = dt.timedelta(hours=1)  # an hour before it starts
DEFAULT_REMINDER_ALL_DAY = dt.timedelta(hours=15)  # 9 a.m. the day before
ID_LENGTH = 80

STATUSES = {  # as written (English, or French) → status
    "confirmed": Status.CONFIRMED,
    "confirmé": Status.CONFIRMED,
    "confirmée": Status.CONFIRMED,
    "tentative": Status.TENTATIVE,
    "provisoire": Status.TENTATIVE,
    "à confirmer": Status.TENTATIVE,
    "cancelled": Status.CANCELLED,
    "canceled": Status.CANCELLED,
    "annulé": Status.CANCELLED,
    "annulée": Status.CANCELLED,
}
_NO_REMINDER = {"aucun", "aucune", "non", "none", "no", "false", "0"}
_WHEN = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:\s+|T)(.+))?$")
_TIME = re.compile(r"^(\d{1,2})\s*(?::|h)\s*(\d{2})?(?::(\d{2}))?$", re.IGNORECASE)
_DURATION = re.compile(
    r"^(?:(?P<days>\d+)\s*(?:jours?|j)\s*)?"
    r"(?:(?P<hours>\d+)\s*(?:heures?|h)\s*(?:(?P<hour_minutes>\d{1,2})\s*(?:minutes?|min|mn)?)?\s*)?"
    r"(?:(?P<minutes>\d+)\s*(?:minutes?|min|mn)\s*)?$",
    re.IGNORECASE,
)
_UNTIL = re.compile(r"UNTIL=(\d{8})(T\d{6})?(Z)?")
_ISO_DURATION = re.compile(r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?$", re.IGNORECASE)


class _Invalid(Exception):
    """A field that cannot be read; the message is French, the line that of the field."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Field:
    value: str
    line: int


def astray_session(info: str, source: str) -> str | None:
    """Why a fenced block that is not a session block must have been meant as one (None: it is not).

    A session written in a block whose name is misspelt (« sesion », « Session », « seances ») or
    missing would show its YAML as code and stay out of every calendar: that is an error.
    """
    if info in SESSION_FENCES:
        return None
    if info and difflib.get_close_matches(
        normalise(info), [normalise(name) for name in SESSION_FENCES], n=1, cutoff=0.8
    ):
        return f"bloc « {info} » : une séance s’écrit dans un bloc « ```session » (ou « ```séance »), en minuscules"
    if not info and _has_title_and_start(source):
        return "ce bloc décrit une séance (title, start) : ouvrez-le par « ```session » (ou « ```séance ») pour qu’elle aille à l’agenda"
    return None


def _has_title_and_start(source: str) -> bool:
    try:
        node = yaml.compose(source, Loader=FAST_LOADER)
    except yaml.YAMLError:
        return False
    if not isinstance(node, yaml.MappingNode):
        return False
    keys = {str(key.value).strip().lower() for key, _ in node.value if isinstance(key, yaml.ScalarNode)}
    return {"title", "start"} <= keys


def read_fields(source: str, path: Path, first_line: int, what: str) -> tuple[dict[str, Field] | None, list[Problem]]:
    """The `key: value` pairs of a YAML mapping whose first line is `first_line` of `path`.

    Values are the written text (never converted by YAML); a list or mapping is refused.
    """
    try:
        node = yaml.compose(source, Loader=FAST_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = first_line + (mark.line if mark else 0)
        return None, [Problem(path, line, ERROR, f"{what} : YAML invalide ({yaml_reason(error)})")]
    if node is None:
        return None, [Problem(path, first_line - 1, ERROR, f"{what} vide : donnez au moins « title: » et « start: »")]
    if not isinstance(node, yaml.MappingNode):
        line = first_line + node.start_mark.line
        return None, [Problem(path, line, ERROR, f"{what} : écrivez une ligne « nom: valeur » par champ")]
    fields: dict[str, Field] = {}
    problems: list[Problem] = []
    for key, value in node.value:
        line = first_line + key.start_mark.line
        name = str(key.value).strip().lower() if isinstance(key, yaml.ScalarNode) else ""
        if name in fields:
            problems.append(
                Problem(
                    path, line, ERROR, f"{what} : champ « {name} » donné deux fois (déjà ligne {fields[name].line})"
                )
            )
            continue
        if not isinstance(value, yaml.ScalarNode):
            problems.append(
                Problem(path, line, ERROR, f"{what} : « {name} » doit être un texte sur une ligne, pas une liste")
            )
            continue
        text = value.value if value.tag != "tag:yaml.org,2002:null" else ""
        fields[name] = Field(str(text).strip(), line)
    return fields, problems


def parse_session(
    source: str,
    path: Path,
    line: int,
    tz: dt.tzinfo,
    *,
    id_prefix: str,
    issue: int | None = None,
    published: dt.date | None = None,
) -> tuple[Session | None, list[Problem]]:
    """Parse the YAML of a block whose opening fence is at `line` of `path`.

    `id_prefix` makes the id of a session without one (« numero-003 » + its title). Returns the
    session (None when an error stops it) and every problem found.
    """
    fields, problems = read_fields(source, path, line + 1, "séance")
    if fields is None or problems:
        return None, problems[:1]  # one line per invalid session
    try:
        session = _SessionReader(path, line, tz, fields, problems).session(id_prefix, issue, published)
    except _Invalid as invalid:
        problems.append(Problem(path, invalid.line, ERROR, f"séance : {invalid.message}"))
        return None, problems
    if any(problem.is_error for problem in problems):
        return None, problems
    return session, problems


class _SessionReader:
    def __init__(self, path: Path, line: int, tz: dt.tzinfo, fields: dict[str, Field], problems: list[Problem]):
        self.path, self.line, self.tz, self.problems = path, line, tz, problems
        self.fields = {
            ("répétition" if normalise(name) == "repetition" else name): field for name, field in fields.items()
        }
        if len(self.fields) < len(fields):
            raise _Invalid(self.fields["répétition"].line, "champ « répétition » donné deux fois")

    def session(self, id_prefix: str, issue: int | None, published: dt.date | None) -> Session:
        for name, field in self.fields.items():
            if name not in FIELDS:
                near = difflib.get_close_matches(name, FIELDS, n=1)
                hint = f" ; vouliez-vous dire « {near[0]} » ?" if near else f" (connus : {', '.join(FIELDS)})"
                raise _Invalid(field.line, f"champ inconnu « {name} »{hint}")
        title = " ".join(self.text("title").split())
        if not title:
            raise _Invalid(self._line("title"), "il manque le titre (« title: … »)")
        if "start" not in self.fields or not self.text("start"):
            raise _Invalid(
                self._line("start"), "il manque le début (« start: AAAA-MM-JJ » ou « start: AAAA-MM-JJ HH:MM »)"
            )
        start = self.when("start")
        end = self.end(start)
        rrule, exdates = self.recurrence(start)
        return Session(
            id=self.identifier(id_prefix, title),
            title=title,
            start=start,
            end=end,
            location=" ".join(self.text("location").split()),
            online=self.link("online"),
            description=self.text("description"),
            status=self.status(),
            rrule=rrule,
            exdates=exdates,
            reminder=self.reminder(start),
            url=self.link("url"),
            published=published,
            issue=issue,
            path=self.path,
            line=self.line,
        )

    def text(self, name: str) -> str:
        field = self.fields.get(name)
        return field.value if field else ""

    def _line(self, name: str) -> int:
        field = self.fields.get(name)
        return field.line if field else self.line

    def identifier(self, prefix: str, title: str) -> str:
        written = self.text("id")
        if written:
            made = slug(written, ID_LENGTH)
            if not made:
                raise _Invalid(self._line("id"), f"id « {written} » inutilisable : donnez des lettres ou des chiffres")
            return made
        return f"{prefix}-{slug(title, 60)}".strip("-")

    def when(self, name: str) -> dt.date | dt.datetime:
        line, written = self._line(name), self.text(name)
        match = _WHEN.match(written)
        if not match:
            raise _Invalid(line, f"« {name}: {written} » illisible : écrivez « AAAA-MM-JJ » ou « AAAA-MM-JJ HH:MM »")
        year, month, day = (int(part) for part in match.groups()[:3])
        try:
            date = dt.date(year, month, day)
        except ValueError as error:
            raise _Invalid(line, f"date impossible « {written.split()[0]} » : ce jour n’existe pas") from error
        if match.group(4) is None:
            return date
        return self.localize(date, self.time(match.group(4), line, name), line)

    def time(self, written: str, line: int, name: str) -> dt.time:
        match = _TIME.match(written.strip())
        if not match:
            raise _Invalid(
                line, f"heure illisible « {written.strip()} » dans « {name} » : écrivez « 14:00 » ou « 14h »"
            )
        hour, minute, second = int(match.group(1)), int(match.group(2) or 0), int(match.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise _Invalid(line, f"heure impossible « {written.strip()} » dans « {name} »")
        return dt.time(hour, minute, second)

    def localize(self, date: dt.date, time: dt.time, line: int) -> dt.datetime:
        local = local_datetime(date, time, self.tz)
        if local is None:
            raise _Invalid(
                line,
                f"{time:%H:%M} n’existe pas le {date.isoformat()} (changement d’heure) : choisissez une autre heure",
            )
        return local

    def end(self, start: dt.date | dt.datetime) -> dt.date | dt.datetime:
        timed = isinstance(start, dt.datetime)
        if "end" in self.fields and "duration" in self.fields:
            raise _Invalid(self._line("duration"), "donnez « end » ou « duration », pas les deux")
        if self.text("duration"):
            return self.end_from_duration(start)
        if not self.text("end"):
            if timed:
                self.problems.append(
                    Problem(
                        self.path,
                        self._line("start"),
                        WARNING,
                        "séance sans fin ni durée : les agendas la feront durer 1 h (ajoutez « end: » ou « duration: »)",
                    )
                )
                return start + DEFAULT_TIMED_DURATION
            return start
        line, written = self._line("end"), self.text("end")
        if isinstance(start, dt.datetime) and _TIME.match(written):
            end: dt.date | dt.datetime = self.localize(start.date(), self.time(written, line, "end"), line)
        else:
            end = self.when("end")
        if isinstance(end, dt.datetime) != timed:
            need = "aussi une heure de fin" if timed else "une fin sans heure (ou une heure au début)"
            raise _Invalid(line, f"le début {'a' if timed else 'n’a pas'} d’heure : donnez {need}")
        if end < start or (timed and end == start):
            raise _Invalid(line, f"la fin ({written}) est avant le début ({self.text('start')})")
        return end

    def end_from_duration(self, start: dt.date | dt.datetime) -> dt.date | dt.datetime:
        line, written = self._line("duration"), self.text("duration")
        length = parse_duration(written)
        if length is None or length <= dt.timedelta(0):
            raise _Invalid(
                line, f"durée illisible « {written} » : écrivez par exemple « 1h30 », « 90 min » ou « 2 jours »"
            )
        if isinstance(start, dt.datetime):  # elapsed time, even on the night the clocks change
            return (start.astimezone(dt.UTC) + length).astimezone(self.tz)
        if length % dt.timedelta(days=1):
            raise _Invalid(
                line,
                f"durée « {written} » en heures pour une séance sans heure : donnez une heure de début, ou des jours",
            )
        return start + length - dt.timedelta(days=1)

    def status(self) -> Status:
        written = self.text("status").lower()
        if not written:
            return Status.CONFIRMED
        if written not in STATUSES:
            raise _Invalid(
                self._line("status"), f"statut inconnu « {self.text('status')} » : confirmed, tentative ou cancelled"
            )
        return STATUSES[written]

    def recurrence(self, start: dt.date | dt.datetime) -> tuple[str, tuple[dt.date | dt.datetime, ...]]:
        """The RRULE (UNTIL as RFC 5545 wants it for this start) and the EXDATEs, from « répétition » or « rrule »."""
        if self.text("répétition") and self.text("rrule"):
            raise _Invalid(self._line("rrule"), "donnez « répétition » ou « rrule », pas les deux")
        name = "répétition" if self.text("répétition") else "rrule"
        written, line = self.text(name), self._line(name)
        if not written:
            return "", ()
        exclusions: tuple[Exclusion, ...] = ()
        if name == "répétition" and not re.match(r"\s*(?:rrule:|freq=)", written, re.IGNORECASE):
            try:
                parsed = parse_recurrence(written, start.date() if isinstance(start, dt.datetime) else start)
            except RecurrenceError as error:
                raise _Invalid(line, str(error)) from None
            rule, exclusions, shown = parsed.rule, parsed.exclusions, f"la répétition « {written} »"
        else:
            rule = re.sub(r"\s+", "", written).upper().removeprefix("RRULE:")
            shown = f"la règle « {rule} »"
        rule = until_for(rule, start)
        problem = rrule_problem(rule, start)
        if problem is not None:
            raise _Invalid(
                line,
                f"répétition « {written} » : {problem}"
                if exclusions or name == "répétition"
                else f"règle de récurrence « {written} » invalide : {problem}",
            )
        naive_start = (
            start.replace(tzinfo=None) if isinstance(start, dt.datetime) else dt.datetime.combine(start, dt.time())
        )
        if first_occurrence(rule, start) != naive_start:
            self.problems.append(
                Problem(
                    self.path,
                    line,
                    WARNING,
                    f"le début ({self.text('start')}) ne suit pas {shown} : les agendas le compteront en plus",
                )
            )
        return rule, self.exdates(rule, start, exclusions, line)

    def exdates(
        self, rule: str, start: dt.date | dt.datetime, exclusions: tuple[Exclusion, ...], line: int
    ) -> tuple[dt.date | dt.datetime, ...]:
        """The occurrences the « sauf » days remove; a day without one is a warning (the exception changes nothing)."""
        removed: set[dt.date | dt.datetime] = set()
        for exclusion in exclusions:
            found = {day: occurrence_on(rule, start, day) for day in exclusion.days}
            if exclusion.span and not any(found.values()):
                self.useless_exception(
                    line, f"du {french_day(exclusion.days[0])} au {french_day(exclusion.days[-1])}", "ces jours-là"
                )
            for day, occurrence in found.items():
                if occurrence is not None:
                    removed.add(
                        occurrence.replace(tzinfo=self.tz) if isinstance(start, dt.datetime) else occurrence.date()
                    )
                elif not exclusion.span:
                    self.useless_exception(line, f"le {french_day(day)}", "ce jour-là")
        return tuple(sorted(removed))  # type: ignore[type-var]  # all dates or all datetimes

    def useless_exception(self, line: int, days: str, there: str) -> None:
        self.problems.append(
            Problem(self.path, line, WARNING, f"« sauf {days} » : aucune séance {there}, l’exception ne change rien")
        )

    def reminder(self, start: dt.date | dt.datetime) -> dt.timedelta | None:
        written = self.text("reminder")
        if not written:
            return DEFAULT_REMINDER_TIMED if isinstance(start, dt.datetime) else DEFAULT_REMINDER_ALL_DAY
        if written.lower() in _NO_REMINDER:
            return None
        length = parse_duration(written)
        if length is None:
            raise _Invalid(
                self._line("reminder"),
                f"rappel illisible « {written} » : écrivez par exemple « 30 min », « 1h », « 1 jour » ou « aucun »",
            )
        return length

    def link(self, name: str) -> str:
        written = self.text(name)
        if problem := link_problem(name, written):
            raise _Invalid(self._line(name), problem)
        return written


_WEB_ADDRESS = re.compile(r"^https?://[^\s/]+\S*$")
_NOT_IN_ADDRESS = re.compile(r'["<>\\`]')  # never in an address a browser gives: it writes %22, %3C…


def link_problem(name: str, written: str) -> str | None:
    """Why `written` cannot be the web address `name` (`online`, `url`) of a session or a programme,
    or None. A quotation mark would end the card's link in the middle, and become a French
    quotation mark in the calendar's text."""
    if not written:
        return None
    if not _WEB_ADDRESS.match(written):
        return f"« {name} » doit être une adresse web complète (https://…), pas « {written} »"
    if found := _NOT_IN_ADDRESS.search(written):
        return (
            f"« {name} » : le caractère « {found.group(0)} » n’a pas sa place dans une adresse web "
            "(copiez l’adresse depuis la barre du navigateur)"
        )
    return None


def local_datetime(date: dt.date, time: dt.time, tz: dt.tzinfo) -> dt.datetime | None:
    """The local time in `tz`, or None for a time the clocks skip (2h30 on the last Sunday of March
    in Paris). A time they repeat (2h30 in late October) is the first of the two."""
    local = dt.datetime.combine(date, time, tzinfo=tz)
    if local.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return local


def parse_duration(text: str) -> dt.timedelta | None:
    """« 1h30 », « 1 h 30 », « 90 min », « 2 heures », « 1 jour », « PT1H30M » → a duration, else None."""
    text = text.strip()
    match = _DURATION.match(text) if text else None
    if not match or not any(match.groupdict().values()):
        match = _ISO_DURATION.match(text)
        if not match or not any(match.groupdict().values()):
            return None
    parts = {key: int(value) for key, value in match.groupdict().items() if value}
    minutes = parts.get("minutes", 0) + parts.get("hour_minutes", 0)
    return dt.timedelta(days=parts.get("days", 0), hours=parts.get("hours", 0), minutes=minutes)


def rrule_problem(rule: str, start: dt.date | dt.datetime) -> str | None:
    """Why an RRULE value is unusable (in French), or None."""
    if not rule.startswith("FREQ=") and ";FREQ=" not in f";{rule}":
        return "il manque FREQ (par exemple « FREQ=MONTHLY;BYDAY=1TU »)"
    try:
        first = first_occurrence(rule, start)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return "écrivez-la comme « FREQ=MONTHLY;BYDAY=1TU » (chaque premier mardi du mois)"
    if first is None:
        return "elle ne donne aucune date après le début"
    return None


def first_occurrence(rule: str, start: dt.date | dt.datetime) -> dt.datetime | None:
    """The first instance of the rule from `start` (naive local time); raises on a bad rule."""
    return next(iter(occurrences(rule, start)), None)


def occurrences(
    rule: str, start: dt.date | dt.datetime, exdates: tuple[dt.date | dt.datetime, ...] = ()
) -> dateutil_rrule.rrulebase:
    """The instances of an RRULE from `start` but the `exdates`, as naive local datetimes (lazily)."""
    naive = _naive(start)
    every = dateutil_rrule.rrulestr(f"RRULE:{_local_until(rule, start)}", dtstart=naive, ignoretz=True, forceset=True)
    for excluded in exdates:
        every.exdate(_naive(excluded))
    return every


def occurrence_on(
    rule: str, start: dt.date | dt.datetime, day: dt.date, exdates: tuple[dt.date | dt.datetime, ...] = ()
) -> dt.datetime | None:
    """The instance that falls on `day` (naive local time), if one does."""
    midnight = dt.datetime.combine(day, dt.time())
    found = occurrences(rule, start, exdates).after(midnight, inc=True)
    return found if found is not None and found < midnight + dt.timedelta(days=1) else None


def until_for(rule: str, start: dt.date | dt.datetime) -> str:
    """The rule with its UNTIL as RFC 5545 wants it: a UTC time for a timed session (the end of that
    day in the start's timezone, so the day's session is the last one), a date for an all-day one."""
    match = _UNTIL.search(rule)
    if match is None:
        return rule
    try:
        day = dt.datetime.strptime(match.group(1), "%Y%m%d").date()
        local = (
            dt.datetime.strptime(match.group(1) + match.group(2), "%Y%m%dT%H%M%S")
            if match.group(2)
            else dt.datetime.combine(day, dt.time(23, 59, 59))
        )
    except ValueError:
        return rule  # an impossible date: `rrule_problem` says so
    if not isinstance(start, dt.datetime):
        return rule.replace(match.group(0), f"UNTIL={day:%Y%m%d}")
    if match.group(3):
        return rule
    instant = local.replace(tzinfo=start.tzinfo).astimezone(dt.UTC)
    return rule.replace(match.group(0), f"UNTIL={instant:%Y%m%dT%H%M%SZ}")


def _local_until(rule: str, start: dt.date | dt.datetime) -> str:
    """A UTC UNTIL in the start's local time, for expanding the rule in naive local time."""
    match = _UNTIL.search(rule)
    if match is None or not match.group(3) or not isinstance(start, dt.datetime) or start.tzinfo is None:
        return rule
    instant = dt.datetime.strptime(match.group(1) + match.group(2), "%Y%m%dT%H%M%S").replace(tzinfo=dt.UTC)
    return rule.replace(match.group(0), f"UNTIL={instant.astimezone(start.tzinfo):%Y%m%dT%H%M%S}")


def _naive(moment: dt.date | dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=None) if isinstance(moment, dt.datetime) else dt.datetime.combine(moment, dt.time())
