"""Dates in French, the way the letter writes them (« 1er avril 2022 », « jeudi 7 avril 2022 »)."""

from __future__ import annotations

import datetime as dt
from functools import cache

from newsletter.text import french_day

PUBLICATION_HOUR = dt.time(8, 0)


def publication_time(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The instant an issue (or a programme) dated `day` is published: 8 a.m. local time.

    One fixed instant, never the clock, shared by the email's Date, the feed's pubDate and the
    calendars' DTSTAMP, so that every output says the same.
    """
    return dt.datetime.combine(day, PUBLICATION_HOUR, tzinfo=tz)


@cache
def _babel_format_date():
    from babel.dates import format_date

    return format_date


def french_date(day: dt.date, weekday: bool = False, year: bool = True, locale: str = "fr_FR") -> str:
    """« 7 avril 2022 », or « jeudi 7 avril 2022 »: `text.french_day` in French, Babel's names in
    another locale (« 1er » is ours in every locale the letter has been written in)."""
    if locale.lower().replace("-", "_").split("_")[0] == "fr":
        return french_day(day, weekday, year)
    pattern = ("EEEE " if weekday else "") + "d MMMM" + (" y" if year else "")
    text = _babel_format_date()(day, pattern, locale=locale)
    if day.day == 1:
        text = text.replace(" 1 ", " 1er ", 1) if weekday else text.replace("1 ", "1er ", 1)
    return text
