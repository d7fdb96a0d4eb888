"""« Ajouter à mon agenda »: the session's .ics on the web archive, Google Calendar, Outlook.

Google and Outlook get the same instants as the .ics, in UTC (`…Z`), so no agenda has to guess a
timezone; an all-day session gets dates, its end exclusive for Google as in iCalendar.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from urllib.parse import quote, urlencode

from newsletter.model.session import Session
from newsletter.render import calendar as ical
from newsletter.render.typography import typeset_session, typeset_settings
from newsletter.settings import Settings

GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK = "https://outlook.office.com/calendar/0/deeplink/compose"  # Microsoft 365, as most local authorities use
LABELS = {"ics": "Fichier .ics", "google": "Google Agenda", "outlook": "Outlook"}
# What assistive technology says of each link: the session's name (a card holds three links, an
# issue several cards), and the visible label inside it, so that a voice command naming it works.
NAMES = {
    "ics": "Ajouter « {} » à mon agenda : fichier .ics",
    "google": "Ajouter « {} » à Google Agenda",
    "outlook": "Ajouter « {} » à Outlook",
}
_DETAILS_LENGTH = 300  # the full description is in the .ics; these links stay short in the email


def link_name(kind: str, title: str) -> str:
    """The accessible name of a link of `kind` for the session `title` (its visible label else)."""
    return NAMES[kind].format(title) if kind in NAMES else LABELS.get(kind, kind)


def ics_url(settings: Settings, session: Session) -> str:
    return f"{settings.base_url}/{ical.session_path(session)}"


def google_url(settings: Settings, session: Session) -> str:
    if session.all_day:
        dates = f"{session.start:%Y%m%d}/{session.end + dt.timedelta(days=1):%Y%m%d}"
    else:
        dates = f"{_utc(session.start):%Y%m%dT%H%M%SZ}/{_utc(session.end):%Y%m%dT%H%M%SZ}"
    query = {"action": "TEMPLATE", "text": ical.summary(session), "dates": dates}
    query["details"] = _details(settings, session)
    if where := ical.location(session):
        query["location"] = where
    if session.rrule:
        query["recur"] = f"RRULE:{session.rrule}"
    return f"{GOOGLE}?{urlencode(query, quote_via=quote)}"


def outlook_url(settings: Settings, session: Session) -> str:
    if session.all_day:
        start, end = session.start.isoformat(), (session.end + dt.timedelta(days=1)).isoformat()
    else:
        start, end = f"{_utc(session.start):%Y-%m-%dT%H:%M:%SZ}", f"{_utc(session.end):%Y-%m-%dT%H:%M:%SZ}"
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": ical.summary(session),
        "startdt": start,
        "enddt": end,
        "allday": "true" if session.all_day else "false",
        "body": _details(settings, session),
    }
    if where := ical.location(session):
        query["location"] = where
    return f"{OUTLOOK}?{urlencode(query, quote_via=quote)}"


def session_links(settings: Settings, session: Session) -> dict[str, str]:
    """kind → URL, in the order the card shows them (the web archive reads this too); the texts
    they carry into the agenda typeset."""
    return dict(_links(typeset_settings(settings), typeset_session(settings, session)))


@lru_cache(maxsize=256)
def _links(settings: Settings, session: Session) -> tuple[tuple[str, str], ...]:
    """Computed once for the card's HTML, its text and the web page (settings and sessions are
    frozen; typesetting is idempotent, so settings or a session typeset or not are the same key:
    the email's cards get them as written, the web page typeset)."""
    return tuple(
        {
            "ics": ics_url(settings, session),
            "google": google_url(settings, session),
            "outlook": outlook_url(settings, session),
        }.items()
    )


def _utc(moment: dt.date | dt.datetime) -> dt.datetime:
    assert isinstance(moment, dt.datetime)  # a timed session's start or end: all-day ones never get here
    return moment.astimezone(dt.UTC)


def _details(settings: Settings, session: Session) -> str:
    text = ical.description(settings, session)
    return text if len(text) <= _DETAILS_LENGTH else text[: _DETAILS_LENGTH - 1].rsplit(" ", 1)[0] + "…"
