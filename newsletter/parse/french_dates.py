"""A small grammar of the dates and times the team writes in French.

    jeudi 07 avril · le 1er avril 2022 · 26 & 27 novembre · le 10 et 24 mars · du 26 au 28 novembre
    07/04/2022 · 07/04/22 · 07/04 (`find_numeric_dates`, for the texts `import` reads)
    lundi 4 et mardi 5 avril · 10h00 · 14h · 14h30 · 14h–16h · de 11h à 13h · entre 11h et 13h

General-purpose date parsers are wrong for this job: dateparser ignores a weekday that contradicts
the date (the very mistake `check` must catch) and reads « 26 & 27 novembre » as the year 2027. This
grammar keeps each weekday next to the day it names and never guesses a year from a day number.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from newsletter.text import MONTHS, WEEKDAYS, french_day

_MONTH_NUMBERS = {name: number for number, name in enumerate(MONTHS, start=1)}
_MONTH_NUMBERS.update({"fevrier": 2, "aout": 8, "decembre": 12})

_WEEKDAY = rf"(?:{'|'.join(WEEKDAYS)})"
_MONTH = r"(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[ûu]t|septembre|octobre|novembre|d[ée]cembre)"
_DAY_ITEM = rf"(?:{_WEEKDAY}\s+)?(?:1er|[0-3]?\d)(?![\d:h])"
_DAY_SEPARATOR = r"\s*(?:,|&|\bet\b|\bau\b|\bà\b|-|–|—)\s*"
_TIME = r"(?:(?:[01]?\d|2[0-3])\s?h\s?(?:[0-5]\d)?|(?:[01]?\d|2[0-3]):[0-5]\d)(?![\w:])"
_TIME_RANGE = rf"(?:{_TIME})(?:\s*(?:–|—|-|\bà\b|\bet\b)\s*(?:{_TIME}))?"
_ATTACHED_TIME = rf"(?:\s*,\s*|\s+)(?:(?:à|de|dès|entre)\s+)?(?P<times>{_TIME_RANGE})"

_DATE = re.compile(
    rf"(?<![\w])(?P<days>{_DAY_ITEM}(?:{_DAY_SEPARATOR}{_DAY_ITEM})*)\s+(?P<month>{_MONTH})"
    rf"(?:\s+(?P<year>\d{{4}}))?(?![\w])(?:{_ATTACHED_TIME})?",
    re.IGNORECASE,
)
_ONE_DAY = re.compile(rf"(?:(?P<weekday>{_WEEKDAY})\s+)?(?P<day>1er|[0-3]?\d)", re.IGNORECASE)
_ONE_TIME = re.compile(r"(?P<hour>\d{1,2})\s?(?:h|:)\s?(?P<minute>\d{2})?", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"\b(?P<day>\d{1,2})/(?P<month>\d{1,2})(?:/(?P<year>\d{4}|\d{2}))?\b")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_RECALL_DAYS = 120  # how far back a date without a year is read; the rest of the year is ahead


@dataclass(frozen=True)
class DayMention:
    """One day of a date mention, with the weekday written before it (if any)."""

    day: int
    weekday: int | None  # 0 = lundi, as `date.weekday()`
    text: str  # « jeudi 07 »


@dataclass(frozen=True)
class TimeRange:
    start: dt.time
    end: dt.time | None = None


@dataclass(frozen=True)
class DateMention:
    """A date written in prose: one or more days of one month, an optional year and times."""

    text: str
    start: int  # offsets in the text it was found in
    end: int
    days: tuple[DayMention, ...]
    month: int
    year: int | None = None
    span: bool = False  # « du 26 au 28 novembre »: every day between the first and the last
    times: TimeRange | None = None
    month_text: str = ""  # the month as written (« Avril »)
    date_text: str = ""  # `text` without its times (« jeudi 07 avril 2022 »)

    def year_near(self, reference: dt.date) -> int:
        """The written year, else the likeliest one around `reference` (see `likely_year`)."""
        return self.year or likely_year(self.days[0].day, self.month, reference)

    def dates(self, reference: dt.date) -> list[dt.date]:
        """The days it names; ValueError for a day the month does not have (« 31 avril »)."""
        return self._dates(self.year_near(reference))

    def named_dates(self, reference: dt.date) -> list[dt.date]:
        """The days as written (« du 26 au 28 »: the 26th and the 28th); ValueError as `dates`."""
        return self._dates(self.year_near(reference), span=False)

    def weekdays_fit(self, reference: dt.date) -> bool:
        """Whether every written weekday is right, in the written year or in a year the text may mean.

        Without a year, « lundi 04 avril » is right if 4 April is a Monday in some year within
        six months before or nine months after `reference` (an issue's date).
        """
        if all(item.weekday is None for item in self.days):
            return True
        years = [self.year] if self.year else [reference.year - 1, reference.year, reference.year + 1]
        for year in years:
            try:
                days = self._dates(year, span=False)
            except ValueError:
                continue
            if not self.year and not -183 <= (days[0] - reference).days <= 274:
                continue
            if all(item.weekday in (None, day.weekday()) for item, day in zip(self.days, days)):
                return True
        return False

    def _dates(self, year: int, span: bool = True) -> list[dt.date]:
        named = [dt.date(year, self.month, item.day) for item in self.days]
        if span and self.span and len(named) == 2:
            return [named[0] + dt.timedelta(days=n) for n in range((named[1] - named[0]).days + 1)]
        return named


def find_dates(text: str) -> list[DateMention]:
    """Every date with a day and a month in `text`, in order."""
    return [_mention(match) for match in _DATE.finditer(text)]


def find_numeric_dates(text: str) -> list[tuple[int, str, int, int, int | None]]:
    """(offset, text, day, month, year) of every « 07/04/2022 », « 07/04/22 » or « 07/04 » in `text`
    that can be a day of a month; a two-digit year is of this century."""
    found = []
    for match in _NUMERIC_DATE.finditer(text):
        written_year = match.group("year")
        year = None if written_year is None else int(written_year) + (2000 if len(written_year) == 2 else 0)
        day, month = int(match.group("day")), int(match.group("month"))
        if 1 <= month <= 12 and 1 <= day <= 31:
            found.append((match.start(), match.group(0), day, month, year))
    return found


def likely_year(day: int, month: int, reference: dt.date) -> int:
    """The year that puts day/month within four months before or eight months after `reference`.

    A letter recalls what happened lately and announces what comes: an issue of December that
    announces « mardi 3 janvier » means the next January, one of April that announces « 26 & 27
    novembre » means the coming November. A day no year has (« 31 avril ») gets the reference's year,
    and `DateMention.dates` refuses it.
    """
    for year in (reference.year, reference.year + 1, reference.year - 1):
        try:
            distance = (dt.date(year, month, day) - reference).days
        except ValueError:
            continue
        if -_RECALL_DAYS <= distance < 365 - _RECALL_DAYS:
            return year
    return reference.year


def parse_time(text: str) -> dt.time | None:
    """« 14h », « 10h00 », « 14h30 », « 14 h 30 », « 14:30 » → a time; None if it is not one."""
    match = _ONE_TIME.fullmatch(text.strip())
    if not match:
        return None
    hour, minute = int(match.group("hour")), int(match.group("minute") or 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def parse_time_range(text: str) -> TimeRange | None:
    """« 14h », « 14h–16h », « 11h à 13h », « 11h et 13h » → a TimeRange; None if it is not one."""
    parts = re.split(r"\s*(?:–|—|-|\bà\b|\bet\b)\s*", text.strip(), maxsplit=1)
    start = parse_time(parts[0])
    if start is None:
        return None
    if len(parts) == 1:
        return TimeRange(start)
    end = parse_time(parts[1])
    return TimeRange(start, end) if end else None


def match_time_range(text: str) -> tuple[TimeRange, str] | None:
    """A time or time range at the start of `text` and what follows it: « 10h00 – Ouverture »."""
    match = re.match(rf"\s*(?P<times>{_TIME_RANGE})", text, re.IGNORECASE)
    if not match:
        return None
    times = parse_time_range(match.group("times"))
    return (times, text[match.end() :]) if times else None


def match_date(text: str) -> tuple[DateMention, str] | None:
    """A date at the start of `text` (« 3 janvier 2023 », « les 3 et 17 janvier ») and what follows it."""
    match = _DATE.match(text.lstrip())
    if match is None:
        return None
    return _mention(match), text.lstrip()[match.end() :]


def parse_day(text: str, default_year: int | None = None) -> tuple[dt.date, str] | str:
    """A day heading of a programme, « lundi 26 novembre 2018 : titre » or « 2018-11-26 – titre ».

    Returns (date, the rest of the text), or a French message saying what is wrong.
    """
    text = text.strip()
    if iso := _ISO_DATE.match(text):
        try:
            return dt.date(*map(int, iso.groups())), text[iso.end() :]
        except ValueError:
            return f"date impossible « {iso.group(0)} »"
    match = _DATE.match(text)
    if match is None:
        return "jour illisible : écrivez-le « lundi 26 novembre 2018 » ou « 2018-11-26 »"
    mention = _mention(match)
    if len(mention.days) != 1:
        return "un seul jour par titre « ## » : donnez chaque jour sous son propre titre"
    year = mention.year or default_year
    if year is None:
        return f"année manquante pour « {mention.text} » : ajoutez-la, ou « year: » dans l’en-tête"
    try:
        day = dt.date(year, mention.month, mention.days[0].day)
    except ValueError:
        return f"date impossible « {mention.text} » : ce jour n’existe pas"
    weekday = mention.days[0].weekday
    if weekday is not None and weekday != day.weekday():
        return f"« {mention.text.strip()} » : le {french_day(day)} est un {WEEKDAYS[day.weekday()]}"
    rest = text[match.start("times") :] if match.group("times") else text[match.end() :]
    return day, rest


def _mention(match: re.Match[str]) -> DateMention:
    days_text = match.group("days")
    days = tuple(
        DayMention(
            day=1 if item.group("day").lower() == "1er" else int(item.group("day")),
            weekday=WEEKDAYS.index(item.group("weekday").lower()) if item.group("weekday") else None,
            text=item.group(0),
        )
        for item in _ONE_DAY.finditer(days_text)
    )
    span = len(days) == 2 and re.search(r"\bau\b", days_text, re.IGNORECASE) is not None
    times = parse_time_range(match.group("times")) if match.group("times") else None
    return DateMention(
        text=match.group(0),
        start=match.start(),
        end=match.end(),
        days=days,
        month=_month_number(match.group("month")),
        year=int(match.group("year")) if match.group("year") else None,
        span=span,
        times=times,
        month_text=match.group("month"),
        date_text=match.string[match.start() : match.end("year") if match.group("year") else match.end("month")],
    )


def _month_number(word: str) -> int:
    """« février » and « fevrier » alike (the accents a keyboard sometimes drops)."""
    word = word.lower()
    plain = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
    return _MONTH_NUMBERS.get(word) or _MONTH_NUMBERS[plain]
