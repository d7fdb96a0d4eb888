"""Sessions → iCalendar (RFC 5545, with the RFC 7986 calendar properties), with `icalendar`.

Each event is serialised once (`event_ical`) and the same bytes go into every calendar that holds
it: the session's own file, the agenda and its programme's calendar (`calendar_ical`). Nothing here
reads the clock: DTSTAMP is the date the session was published (its issue's date, or its
programme's), at 8 a.m. local time like the issue's email.

Every TZID used gets a VTIMEZONE (Outlook shows times an hour off without one), made from the
timezone database: a yearly rule where the zone follows one (Europe/Paris: the last Sundays of
March and October), so that it stays right for a recurring session years ahead.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Component, Event, Timezone, TimezoneDaylight, TimezoneStandard
from icalendar.parser import Contentline
from icalendar.prop import vCalAddress, vRecur, vUri

from newsletter.model.session import Session
from newsletter.render.dates import french_date, publication_time
from newsletter.render.typography import Typography, typeset_session
from newsletter.settings import Settings
from newsletter.text import WEEKDAYS

CALENDARS_DIR = "calendars"
SESSIONS_DIR = f"{CALENDARS_DIR}/sessions"
AGENDA_PATH = f"{CALENDARS_DIR}/agenda.ics"
REFRESH = dt.timedelta(hours=12)
CANCELLED_PREFIX = "ANNULÉ – "
CALENDAR_END = b"END:VCALENDAR\r\n"
FOLD_AT = 75  # RFC 5545: a content line longer than 75 octets is folded (icalendar folds from 75 on)
_ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_ORDINALS = {
    1: "premier",
    2: "deuxième",
    3: "troisième",
    4: "quatrième",
    5: "cinquième",
    -1: "dernier",
    -2: "avant-dernier",
}


def session_path(session: Session) -> str:
    """Where a session's own .ics lives, relative to dist/ and to the site's base URL."""
    return f"{SESSIONS_DIR}/{session.id}.ics"


def programme_path(programme_id: str) -> str:
    return f"{CALENDARS_DIR}/{programme_id}.ics"


def uid(settings: Settings, session: Session) -> str:
    """The session's UID: its stable id at the site's host. Changing `base_url` changes every UID,
    so set it before the first publication."""
    return f"{session.id}@{urlparse(settings.base_url).hostname or 'newsletter'}"


def page_url(settings: Settings, session: Session) -> str:
    """The page that tells about the session: its own `url`, else its issue's page on the archive."""
    if session.url:
        return session.url
    return settings.issue_url(f"{session.issue:03d}") if session.issue is not None else ""


def summary(session: Session) -> str:
    return (CANCELLED_PREFIX if session.cancelled else "") + session.title


def location(session: Session) -> str:
    """The place, and the visio link (clickable in every agenda); either alone when there is one."""
    return " – ".join(part for part in (session.location, session.online) if part)


def description(settings: Settings, session: Session) -> str:
    parts = []
    if session.cancelled:
        parts.append("Cette séance est annulée.")
    if session.description:
        parts.append(session.description)
    if session.online:
        parts.append(f"Visio : {session.online}")
    page = page_url(settings, session)
    if page and session.issue is not None and not session.url:
        parts.append(f"Annoncée dans {settings.name} n°{session.issue} : {page}")
    elif page:
        parts.append(f"Plus d’informations : {page}")
    return Typography.of(settings).text("\n\n".join(parts))


def stamp(settings: Settings, session: Session) -> dt.datetime:
    """DTSTAMP, from the sources: the publication date at 8 a.m. local time, in UTC."""
    day = session.published or session.first_day
    return publication_time(day, settings.tz).astimezone(dt.UTC)


def event_ical(
    settings: Settings, session: Session, sequence: int = 0, organizer: tuple[str, str] | None = None
) -> bytes:
    """One VEVENT, serialised (folded at 75 octets, escaped) by `icalendar`; its texts typeset.
    `organizer` (name, address) only for a scheduling message (iTIP METHOD:CANCEL requires one)."""
    session = typeset_session(settings, session)
    event = Event()
    event.add("uid", uid(settings, session))
    event.add("dtstamp", stamp(settings, session))
    event.add("sequence", sequence)
    if organizer is not None:
        event.add(
            "organizer", vCalAddress(f"mailto:{organizer[1]}"), parameters={"CN": organizer[0]} if organizer[0] else {}
        )
    if session.all_day:
        event.add("dtstart", session.start)
        event.add("dtend", session.end + dt.timedelta(days=1))  # DTEND of a day is exclusive
    else:
        event.add("dtstart", session.start)
        event.add("dtend", session.end)
    if session.rrule:
        event.add("rrule", vRecur.from_ical(session.rrule))
    if session.rrule and session.exdates:
        event.add("exdate", list(session.exdates))  # TZID and local times, like DTSTART
    event.add("summary", summary(session))
    text = description(settings, session)
    if text:
        event.add("description", text)
    if where := location(session):
        event.add("location", where)
    if url := session.online or page_url(settings, session):
        event.add("url", vUri(url))
    if session.online:
        event.add("conference", vUri(session.online), parameters={"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": "Visio"})
    event.add("status", session.status.name)
    event.add("class", "PUBLIC")
    event.add("transp", "TRANSPARENT" if session.all_day else "OPAQUE")
    if session.reminder is not None and not session.cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Rappel\u00a0: {session.title}")
        alarm.add("trigger", -session.reminder)
        event.add_component(alarm)
    return serialised(event)


def serialised(component: Component) -> bytes:
    """`component.to_ical()`, the same bytes, without icalendar's fold for the lines that need none.

    icalendar folds every content line character by character; most lines of an event are shorter
    than 75 octets and come out unchanged, and that fold was 40% of the cost of an event.
    """
    return b"".join(_folded(line) for line in component.content_lines() if line)


def _folded(line: Contentline) -> bytes:
    data = line.encode()
    return (data if len(data) < FOLD_AT else line.to_ical()) + b"\r\n"


def calendar_ical(
    settings: Settings,
    *,
    name: str,
    description: str = "",
    source: str = "",
    events: list[tuple[Session, bytes]],
    method: str = "PUBLISH",
) -> bytes:
    """A VCALENDAR (METHOD:PUBLISH unless told) of events serialised by `event_ical`, with their VTIMEZONEs."""
    start = calendar_start(
        settings, name=name, description=description, source=source, method=method, sessions=(s for s, _ in events)
    )
    return b"".join([start, *(data for _, data in events), CALENDAR_END])


def calendar_start(
    settings: Settings,
    *,
    name: str,
    description: str = "",
    source: str = "",
    method: str = "PUBLISH",
    sessions: Iterable[Session],
) -> bytes:
    """A VCALENDAR up to its events: its properties, and the VTIMEZONE its timed `sessions` need.
    What follows is each event's `event_ical`, then `CALENDAR_END`: so that a calendar too large
    to hold in memory (the agenda of every issue) can be written event by event."""
    typography = Typography.of(settings)
    name, description = typography.text(name), typography.text(description)
    names = Calendar()
    names.add("name", name)
    names.add("x-wr-calname", name)
    parts = [
        _calendar_head(settings, description, source, method),
        serialised(names)[len(b"BEGIN:VCALENDAR\r\n") : -len(CALENDAR_END)],
    ]
    first_year = min((session.start.year for session in sessions if not session.all_day), default=None)
    if first_year is not None:
        parts.append(vtimezone(settings.timezone, first_year))
    return b"".join(parts)


@lru_cache(maxsize=64)
def _calendar_head(settings: Settings, description: str, source: str, method: str = "PUBLISH") -> bytes:
    """The calendar's properties but its name, which changes with every session's file."""
    cal = Calendar()
    cal.add("prodid", f"-//{settings.name}//newsletter//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    if description:
        cal.add("description", description)
        cal.add("x-wr-caldesc", description)
    cal.add("x-wr-timezone", settings.timezone)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", _duration_text(REFRESH))
    if source:
        cal.add("source", vUri(source), parameters={"VALUE": "URI"})
        cal.add("url", vUri(source))
    return cal.to_ical()[: -len(CALENDAR_END)]


def correction_calendar(
    settings: Settings, session: Session, sequence: int, organizer: tuple[str, str]
) -> tuple[str, bytes]:
    """(method, bytes) of the .ics a correction carries: the same UID at a higher SEQUENCE.

    A cancelled session goes as METHOD:CANCEL with its ORGANIZER (RFC 5546), which Apple Calendar,
    Outlook and Thunderbird take as « remove this event »; any other change as METHOD:PUBLISH, the
    method of every calendar of the build: REQUEST would make it a meeting invitation asking each
    reader to accept or decline, with replies to the letter's address.
    """
    method = "CANCEL" if session.cancelled else "PUBLISH"
    event = event_ical(settings, session, sequence, organizer if session.cancelled else None)
    return method, calendar_ical(
        settings, name=summary(session), description=settings.name, events=[(session, event)], method=method
    )


# --- VTIMEZONE ----------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def vtimezone(tzid: str, first_year: int) -> bytes:
    """A VTIMEZONE for `tzid`, right from the start of `first_year - 1` on.

    Transitions are read from the timezone database over a few years; each kind of transition
    (e.g. CET → CEST) that falls every year on the same weekday of the same month at the same local
    time becomes a yearly RRULE without end, as every agenda expects; any other becomes a list of
    RDATEs. A zone without transitions gets one STANDARD observance.
    """
    zone = ZoneInfo(tzid)
    start = dt.datetime(first_year - 1, 1, 1, tzinfo=dt.UTC)
    transitions = _transitions(zone, start, dt.datetime(first_year + 3, 1, 1, tzinfo=dt.UTC))
    component = Timezone()
    component.add("tzid", tzid)
    if not transitions:
        local = start.astimezone(zone)
        only = TimezoneStandard()
        only.add("dtstart", dt.datetime(1970, 1, 1))
        only.add("tzoffsetfrom", local.utcoffset())
        only.add("tzoffsetto", local.utcoffset())
        only.add("tzname", local.tzname() or tzid)
        component.add_component(only)
        return component.to_ical()
    groups: dict[tuple, list[dt.datetime]] = {}
    for instant, before, after in transitions:
        offset = before.utcoffset()
        assert offset is not None  # a local time of a ZoneInfo always has one
        key = (offset, after.utcoffset(), after.tzname(), bool(after.dst()))
        groups.setdefault(key, []).append((instant + offset).replace(tzinfo=None))
    for (offset_from, offset_to, name, daylight), onsets in groups.items():
        observance = TimezoneDaylight() if daylight else TimezoneStandard()
        observance.add("dtstart", onsets[0])
        observance.add("tzoffsetfrom", offset_from)
        observance.add("tzoffsetto", offset_to)
        observance.add("tzname", name or tzid)
        rule = _yearly_rule(onsets)
        if rule is not None:
            observance.add("rrule", rule)
        elif len(onsets) > 1:
            observance.add("rdate", onsets[1:])
        component.add_component(observance)
    return component.to_ical()


def _transitions(
    zone: ZoneInfo, start: dt.datetime, stop: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, dt.datetime]]:
    """(UTC instant, local time just before, local time at) of each change of offset or name."""
    found = []
    step = dt.timedelta(days=1)
    moment = start
    state = _state(moment.astimezone(zone))
    while moment < stop:
        following = moment + step
        if _state(following.astimezone(zone)) != state:
            low, high = moment, following  # the change happens in (low, high]
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                if _state(middle.astimezone(zone)) == state:
                    low = middle
                else:
                    high = middle
            high = high.replace(second=0, microsecond=0)
            found.append((high, (high - dt.timedelta(minutes=1)).astimezone(zone), high.astimezone(zone)))
            state = _state(following.astimezone(zone))
        moment = following
    return found


def _state(local: dt.datetime) -> tuple:
    return local.utcoffset(), local.tzname(), local.dst()


def _yearly_rule(onsets: list[dt.datetime]) -> dict | None:
    """FREQ=YEARLY;BYMONTH=m;BYDAY=-1SU (or 2SU…) if every onset, one a year, follows it."""
    if len(onsets) < 2 or [o.year for o in onsets] != list(range(onsets[0].year, onsets[0].year + len(onsets))):
        return None
    first = onsets[0]
    if any((o.month, o.weekday(), o.time()) != (first.month, first.weekday(), first.time()) for o in onsets):
        return None
    day = _ICAL_DAYS[first.weekday()]
    if all(o.day + 7 > _calendar.monthrange(o.year, o.month)[1] for o in onsets):
        return {"FREQ": "YEARLY", "BYMONTH": first.month, "BYDAY": f"-1{day}"}
    nth = {(o.day - 1) // 7 + 1 for o in onsets}
    if len(nth) == 1:
        return {"FREQ": "YEARLY", "BYMONTH": first.month, "BYDAY": f"{nth.pop()}{day}"}
    return None


def _duration_text(length: dt.timedelta) -> str:
    hours, rest = divmod(int(length.total_seconds()), 3600)
    return f"PT{hours}H" + (f"{rest // 60}M" if rest else "")


# --- recurrences in French ----------------------------------------------------------------------


def recurrence_text(rule: str, locale: str = "fr_FR", tz: dt.tzinfo | None = None) -> str:
    """« chaque premier mardi du mois », « tous les 15 jours, 6 fois »… ; « régulièrement » otherwise."""
    frequency, end = recurrence_parts(rule, locale, tz)
    return frequency + end


def recurrence_parts(rule: str, locale: str = "fr_FR", tz: dt.tzinfo | None = None) -> tuple[str, str]:
    """(« chaque premier mardi du mois », « , jusqu’au 20 décembre 2022 »): how often, and until when
    (« » without an end). A UTC UNTIL is told as its day in `tz`, the session's timezone."""
    parts = dict(part.split("=", 1) for part in rule.split(";") if "=" in part)
    return _frequency_text(parts), _end_text(parts, locale, tz)


def _frequency_text(parts: dict[str, str]) -> str:
    freq, interval = parts.get("FREQ", ""), int(parts.get("INTERVAL", "1") or 1)
    days = [d for d in parts.get("BYDAY", "").split(",") if d]
    if freq == "WEEKLY" and days and all(d in _ICAL_DAYS for d in days):
        names = join_words([WEEKDAYS[_ICAL_DAYS.index(d)] for d in days])
        return (
            f"chaque {names}"
            if interval == 1
            else f"un {names} sur {interval}"
            if interval == 2
            else f"toutes les {interval} semaines, le {names}"
        )
    if freq == "MONTHLY" and days and interval == 1:
        ordinals = [_ORDINALS.get(int(d[:-2])) if d[:-2].lstrip("+-").isdigit() else None for d in days]
        weekdays = {d[-2:] for d in days}
        if None not in ordinals and len(weekdays) == 1 and weekdays <= set(_ICAL_DAYS):
            return f"chaque {join_words(ordinals)} {WEEKDAYS[_ICAL_DAYS.index(weekdays.pop())]} du mois"  # type: ignore[arg-type]
        return "régulièrement"
    if freq == "MONTHLY" and parts.get("BYMONTHDAY", "").isdigit() and interval == 1:
        day = int(parts["BYMONTHDAY"])
        return f"le {'1er' if day == 1 else day} de chaque mois"
    if days or len(parts) > len({"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"} & parts.keys()):
        return "régulièrement"  # BYHOUR, BYSETPOS…: the agendas know, the card says little
    if freq == "WEEKLY" and interval == 2:
        return "tous les 15 jours"
    every = {"DAILY": ("chaque jour", "tous les {} jours"), "WEEKLY": ("chaque semaine", "toutes les {} semaines"),
             "MONTHLY": ("chaque mois", "tous les {} mois"), "YEARLY": ("chaque année", "tous les {} ans")}  # fmt: skip
    if freq not in every:
        return "régulièrement"
    return every[freq][0] if interval == 1 else every[freq][1].format(interval)


def _end_text(parts: dict[str, str], locale: str, tz: dt.tzinfo | None) -> str:
    if parts.get("COUNT", "").isdigit():
        return f", {parts['COUNT']} fois"
    until = parts.get("UNTIL", "")
    try:
        last = dt.date(int(until[:4]), int(until[4:6]), int(until[6:8]))
        if until.endswith("Z") and tz is not None:
            last = dt.datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC).astimezone(tz).date()
    except ValueError:
        return ""
    return f", jusqu’au {french_date(last, locale=locale)}"


def join_words(words: list[str]) -> str:
    """« a », « a et b », « a, b et c »."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " et " + words[-1]
