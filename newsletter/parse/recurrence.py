"""A recurrence written in French (`répétition :` in a session block) → an RRULE and excluded days.

    chaque premier mardi du mois · chaque dernier vendredi du mois · chaque premier et troisième jeudi du mois
    chaque mardi · tous les lundis et jeudis · un mercredi sur deux · le 15 de chaque mois
    chaque jour / semaine / mois / année · toutes les semaines · tous les 3 mois · tous les 15 jours
    … jusqu’au 20 décembre 2022 · … 6 fois · … sauf le 3 janvier 2023 · … sauf les 3 et 17 janvier 2023

One frequency first, then, in any order and separated by commas or spaces, at most one end
(« jusqu’au <date> » or « N fois ») and any number of « sauf » clauses. Dates are read by the grammar
of `french_dates`; a date without a year is the first one on or after the session's start.
« Tous les 15 jours » and « tous les 8 jours » mean what French means by them: every other week and
every week, on the start's weekday.

The RRULE's UNTIL is a DATE here; the session parser turns it into a UTC time when the session has
one, as RFC 5545 requires.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from newsletter.parse.french_dates import WEEKDAYS, DateMention, match_date
from newsletter.text import french_day

EXAMPLES = "« chaque premier mardi du mois », « toutes les semaines », « tous les 15 jours », « chaque mois jusqu’au 20 décembre 2022, sauf le 3 janvier 2023 »"
_ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_NUMBERS = {
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "douze": 12,
    "quinze": 15,
}
_ORDINALS = {
    "premier": 1, "1er": 1, "deuxieme": 2, "second": 2, "2e": 2, "2eme": 2, "troisieme": 3, "3e": 3, "3eme": 3,
    "quatrieme": 4, "4e": 4, "4eme": 4, "cinquieme": 5, "5e": 5, "5eme": 5, "dernier": -1, "avant-dernier": -2,
}  # fmt: skip
_UNITS = {"jour": "DAILY", "semaine": "WEEKLY", "mois": "MONTHLY", "an": "YEARLY", "annee": "YEARLY"}
_DAYS_AS_WEEKS = {15: 2, 14: 2, 8: 1, 7: 1}  # « tous les 15 jours »: every other week

_DAY = rf"(?:{'|'.join(WEEKDAYS)})s?\b"
_DAY_LIST = rf"{_DAY}(?:\s*(?:,|\bet\b)\s*{_DAY})*"
_ORDINAL = rf"(?:{'|'.join(sorted(_ORDINALS, key=len, reverse=True))})s?"  # the longest first: « 2eme » before « 2e »
_COUNT = rf"(?:\d+|{'|'.join(_NUMBERS)})"
_EVERY = r"(?:chaque|tous\s+les|toutes\s+les|les|le)"
_OF_MONTH = r"(?:du\s+mois|de\s+chaque\s+mois|de\s+tous\s+les\s+mois)"

_FREQUENCIES = (
    (
        "nth",
        re.compile(
            rf"{_EVERY}\s+(?P<ordinals>{_ORDINAL}(?:\s*(?:,|\bet\b)\s*{_ORDINAL})*)\s+(?P<day>{_DAY})(?:\s+{_OF_MONTH})?"
        ),
    ),
    ("monthday", re.compile(rf"(?:le\s+)?(?P<monthday>1er|\d{{1,2}})\s+{_OF_MONTH}")),
    ("monthday", re.compile(r"(?:chaque|tous\s+les)\s+mois,?\s+le\s+(?P<monthday>1er|\d{1,2})")),
    ("other", re.compile(rf"une?\s+(?P<day>{_DAY}|jour|semaine|mois|annee|an)\s+sur\s+(?P<count>{_COUNT})\b")),
    (
        "unit",
        re.compile(
            rf"{_EVERY}\s+(?:(?P<count>{_COUNT})\s+)?(?P<unit>jours?|semaines?|mois|annees?|ans?)\b(?:,?\s+le\s+(?P<days>{_DAY_LIST}))?"
        ),
    ),
    ("weekdays", re.compile(rf"{_EVERY}\s+(?P<days>{_DAY_LIST})")),
)
_UNTIL = re.compile(r"jusqu'?\s*(?:au|a|à)\s+(?:(?:le|la date du)\s+)?")
_TIMES = re.compile(rf"(?P<count>{_COUNT})\s+fois")
_EXCEPT = re.compile(r"sauf\s+")
_ARTICLE = re.compile(r"(?:le|les|du)\s+")
_JOINER = re.compile(r"\s*(?:,|\bet\b)?\s*")


class RecurrenceError(ValueError):
    """A phrase that cannot be read; the message is French and shows how to write it."""


@dataclass(frozen=True)
class Exclusion:
    """One date of a « sauf » clause: the days it names (every day of a span)."""

    days: tuple[dt.date, ...]
    span: bool = False  # « du 20 au 31 décembre »: only the sessions inside it are meant


@dataclass(frozen=True)
class Recurrence:
    rule: str  # an RRULE value, UNTIL as a DATE (YYYYMMDD)
    exclusions: tuple[Exclusion, ...] = ()  # days without the session (EXDATE)


def parse_recurrence(written: str, first_day: dt.date) -> Recurrence:
    """Read `written` for a session whose first day is `first_day`; RecurrenceError if it cannot be."""
    rule, rest = _frequency(_plain(written), written)
    exclusions: list[Exclusion] = []
    while rest:
        if match := _UNTIL.match(rest):
            _refuse_second_end(rule, written)
            day, rest = _one_day(rest[match.end() :], first_day, written)
            rule += f";UNTIL={day:%Y%m%d}"
        elif match := _TIMES.match(rest):
            _refuse_second_end(rule, written)
            rule += f";COUNT={_number(match.group('count'))}"
            rest = rest[match.end() :]
        elif match := _EXCEPT.match(rest):
            found, rest = _exclusions(rest[match.end() :], first_day, written)
            exclusions.extend(found)
        else:
            raise RecurrenceError(
                f"répétition « {written} » : « {_original(written, rest)} » n’est pas compris ; écrivez par exemple {EXAMPLES}"
            )
        rest = _after_joiner(rest)
    return Recurrence(rule, tuple(exclusions))


def _frequency(text: str, written: str) -> tuple[str, str]:
    for kind, pattern in _FREQUENCIES:
        match = pattern.match(text)
        if match:
            return _RULES[kind](match.groupdict(), written), _after_joiner(text[match.end() :])
    raise RecurrenceError(f"répétition « {written} » illisible : commencez par la fréquence, par exemple {EXAMPLES}")


def _nth_weekdays(groups: dict[str, str], written: str) -> str:
    """« chaque premier et troisième jeudi du mois »."""
    day = _ical_day(groups["day"])
    ordinals = re.split(r"\s*(?:,|\bet\b)\s*", groups["ordinals"])
    return "FREQ=MONTHLY;BYDAY=" + ",".join(f"{_ORDINALS[o.rstrip('s')]}{day}" for o in ordinals)


def _month_day(groups: dict[str, str], written: str) -> str:
    """« le 15 de chaque mois », « chaque mois le 1er »."""
    day = 1 if groups["monthday"] == "1er" else int(groups["monthday"])
    if not 1 <= day <= 31:
        raise RecurrenceError(f"répétition « {written} » : il n’y a pas de {day} dans un mois")
    return f"FREQ=MONTHLY;BYMONTHDAY={day}"


def _one_in(groups: dict[str, str], written: str) -> str:
    """« un mardi sur deux », « une semaine sur deux »."""
    interval = _number(groups["count"])
    if groups["day"].rstrip("s") in WEEKDAYS:
        return f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={_ical_day(groups['day'])}"
    return _every(_UNITS[groups["day"]], interval)


def _units(groups: dict[str, str], written: str) -> str:
    """« chaque mois », « tous les 15 jours », « toutes les deux semaines, le mardi »."""
    unit = _UNITS["mois" if groups["unit"] == "mois" else groups["unit"].rstrip("s")]
    rule = _every(unit, _number(groups["count"]) if groups["count"] else 1)
    if not groups["days"]:
        return rule
    if not rule.startswith("FREQ=WEEKLY"):
        raise RecurrenceError(
            f"répétition « {written} » : un jour de la semaine va avec « chaque semaine », par exemple « toutes les deux semaines, le mardi »"
        )
    return rule + ";BYDAY=" + _day_list(groups["days"])


def _weekdays(groups: dict[str, str], written: str) -> str:
    """« chaque mardi », « tous les lundis et jeudis »."""
    return "FREQ=WEEKLY;BYDAY=" + _day_list(groups["days"])


_RULES = {"nth": _nth_weekdays, "monthday": _month_day, "other": _one_in, "unit": _units, "weekdays": _weekdays}


def _after_joiner(text: str) -> str:
    """`text` without the comma or « et » that joins it to the clause before."""
    return text[_JOINER.match(text).end() :]  # type: ignore[union-attr]  # it matches the empty string too


def _every(unit: str, interval: int) -> str:
    if interval < 1:
        raise RecurrenceError("répétition : l’intervalle doit être d’au moins 1")
    if unit == "DAILY" and interval in _DAYS_AS_WEEKS:
        unit, interval = "WEEKLY", _DAYS_AS_WEEKS[interval]
    return f"FREQ={unit}" + (f";INTERVAL={interval}" if interval > 1 else "")


def _day_list(text: str) -> str:
    days = [_ical_day(day) for day in re.split(r"\s*(?:,|\bet\b)\s*", text)]
    return ",".join(sorted(set(days), key=_ICAL_DAYS.index))


def _ical_day(word: str) -> str:
    return _ICAL_DAYS[WEEKDAYS.index(word.rstrip("s"))]


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word]


def _refuse_second_end(rule: str, written: str) -> None:
    if ";UNTIL=" in rule or ";COUNT=" in rule:
        raise RecurrenceError(f"répétition « {written} » : une seule fin, « jusqu’au … » ou « N fois »")


def _one_day(text: str, first_day: dt.date, written: str) -> tuple[dt.date, str]:
    mention, rest = _mention(text, written)
    days = _resolve(mention, first_day, written)
    if len(days) != 1:
        raise RecurrenceError(f"répétition « {written} » : « jusqu’au » prend un seul jour, pas « {mention.text} »")
    return days[0], rest


def _exclusions(text: str, first_day: dt.date, written: str) -> tuple[list[Exclusion], str]:
    """The dates of « sauf le 3 janvier 2023 », « sauf les 3 et 17 janvier », « sauf le 3 et le 17 janvier »."""
    found: list[Exclusion] = []
    rest = text
    while True:
        rest = _ARTICLE.sub("", rest, count=1)
        mention, rest = _mention(rest, written)
        found.append(Exclusion(tuple(_resolve(mention, first_day, written)), mention.span))
        following = re.match(r"\s*(?:,|\bet\b)\s*(?=(?:le|les|du)\s+\d|\d)", rest)
        if not following:
            return found, rest
        rest = rest[following.end() :]


def _mention(text: str, written: str) -> tuple[DateMention, str]:
    found = match_date(text)
    if found is None or found[0].times is not None:
        raise RecurrenceError(
            f"répétition « {written} » : date illisible « {_original(written, text)} » ; écrivez-la « 20 décembre 2022 »"
        )
    return found


def _resolve(mention: DateMention, first_day: dt.date, written: str) -> list[dt.date]:
    """The days named, a missing year being the first that puts them on or after `first_day`."""
    years = [mention.year] if mention.year else [first_day.year, first_day.year + 1]
    for year in years:
        dated = dataclasses.replace(mention, year=year)
        try:
            days = dated.dates(first_day)
        except ValueError:
            if year == years[-1]:
                raise RecurrenceError(
                    f"répétition « {written} » : date impossible « {mention.text.strip()} »"
                ) from None
            continue
        if mention.year or days[0] >= first_day or year == years[-1]:
            break
    if not dated.weekdays_fit(first_day):
        wrong, named = next(
            (item, item.weekday)
            for item, day in zip(dated.days, dated.named_dates(first_day))
            if item.weekday is not None and item.weekday != day.weekday()
        )
        day = dt.date(year, mention.month, wrong.day)
        raise RecurrenceError(
            f"répétition « {written} » : le {french_day(day)} est un {WEEKDAYS[day.weekday()]}, pas un {WEEKDAYS[named]}"
        )
    return days


def _plain(text: str) -> str:
    """Lower case, without accents, straight apostrophes, single spaces, no final full stop."""
    text = unicodedata.normalize("NFD", text.lower().replace("’", "'").replace("‘", "'"))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.split()).rstrip(". ")


def _original(written: str, rest: str) -> str:
    """The end of what the editor wrote that `rest` (its plain form) stands for."""
    words = written.split()
    count = len(rest.split())
    return " ".join(words[-count:]) if count else written
