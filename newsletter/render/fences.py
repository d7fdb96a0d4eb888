"""Fenced blocks with a meaning of their own (```session) inside an issue's Markdown.

A session block becomes a card: its title, its date in French (« jeudi 7 avril 2022, 14h–16h »),
its place or visio link, and « Ajouter à mon agenda » links (.ics, Google, Outlook). The HTML goes
inside an MJML `mj-text`: `div`s with inline styles and no MJML tag. The same HTML goes to the web
archive, which takes the styles off, so it is no layout table: Outlook's Word engine drops the
card's padding and rounded corners, and keeps its text, background and borders.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable

from newsletter.model.issue import Block, Issue
from newsletter.model.session import SESSION_FENCES, Session, Status
from newsletter.render import calendar as ical
from newsletter.render.calendar_links import LABELS, link_name, session_links
from newsletter.render.dates import french_date
from newsletter.render.markdown import _HARD_BREAK as LINE_BREAK  # a line break the text wrapper keeps
from newsletter.render.typography import Typography, typeset_session
from newsletter.settings import Settings
from newsletter.text import french_hour

ACCENT = "#0b6e4f"
CANCELLED = "#a32020"
_CARD = (
    "margin:0 0 16px 0;padding:12px 16px;background-color:#f2f7f5;border:1px solid #cfe3da;"
    "border-left:4px solid {accent};border-radius:4px;font-size:15px;line-height:1.5;color:#1f2d3a;"
)
_KIND = (
    "margin:0 0 4px 0;font-size:14px;font-weight:bold;letter-spacing:0.05em;text-transform:uppercase;color:{accent};"
)
_TITLE = "margin:0 0 4px 0;font-size:17px;line-height:1.35;font-weight:bold;color:#12355b;"
_LINE = "margin:0 0 2px 0;"
_LINKS = "margin:8px 0 0 0;font-size:14px;"
_NOTE = "margin:0 0 8px 0;padding:4px 8px;background-color:#fff4d6;border-radius:3px;font-size:14px;line-height:1.4;color:#5c4400;"
_LINK = f"color:{ACCENT};text-decoration:underline;word-break:break-word;"


def fence_handlers(settings: Settings, issue: Issue, block: Block) -> dict[str, Callable[[str], tuple[str, str]]]:
    """Handlers for the fenced blocks of one Block of `issue`, rendered in the order of the file.

    The issue's sessions were parsed with it: the blocks of this Block are its sessions whose line
    falls inside it, in order, so nothing is parsed twice. A block the parser refused has no
    session: the issue is then not built, and a preview shows nothing in its place.
    """
    last_line = block.line + block.markdown.count("\n")
    inside = iter([s for s in issue.sessions if block.line <= s.line <= last_line])

    def session(source: str) -> tuple[str, str]:
        parsed = next(inside, None)
        return session_card(settings, parsed) if parsed else ("", "")

    return dict.fromkeys(SESSION_FENCES, session)


def session_card(settings: Settings, session: Session) -> tuple[str, str]:
    """(HTML, plain text) of a session's card, typeset (its fields, and the card's own words)."""
    session, typography = typeset_session(settings, session), Typography.of(settings)
    return _card_html(settings, session), LINE_BREAK.join(map(typography.text, _card_text(settings, session)))


def when_text(session: Session, locale: str = "fr_FR") -> str:
    """« jeudi 7 avril 2022, 14h–16h », « jeudi 7 avril 2022 », « du … au … »."""
    first, last = session.first_day, session.last_day
    if session.all_day:
        if first == last:
            return french_date(first, weekday=True, locale=locale)
        return (
            f"du {french_date(first, weekday=True, locale=locale)} au {french_date(last, weekday=True, locale=locale)}"
        )
    start, end = session.start, session.end
    assert isinstance(start, dt.datetime) and isinstance(end, dt.datetime)
    if first == last:
        return f"{french_date(first, weekday=True, locale=locale)}, {french_hour(start)}–{french_hour(end)}"
    return f"du {french_date(first, weekday=True, locale=locale)}, {french_hour(start)} au {french_date(last, weekday=True, locale=locale)}, {french_hour(end)}"


def repetition_text(session: Session, locale: str = "fr_FR", tz: dt.tzinfo | None = None) -> str:
    """The recurrence as the .ics has it (RRULE, EXDATE): « chaque premier mardi du mois, de 11h à 13h,
    jusqu’au 20 décembre 2022, sauf le 3 janvier 2023 »."""
    frequency, end = ical.recurrence_parts(session.rrule, locale, tz)
    hours = ""
    if (
        isinstance(session.start, dt.datetime)
        and isinstance(session.end, dt.datetime)
        and session.first_day == session.last_day
    ):
        hours = f", de {french_hour(session.start)} à {french_hour(session.end)}"
    days = [moment.date() if isinstance(moment, dt.datetime) else moment for moment in session.exdates]
    exceptions = ", sauf " + ical.join_words([f"le {french_date(day, locale=locale)}" for day in days]) if days else ""
    return frequency + hours + end + exceptions


def _kind(session: Session) -> str:
    if session.cancelled:
        return "Rendez-vous annulé"
    return "Rendez-vous à confirmer" if session.status is Status.TENTATIVE else "Rendez-vous"


def correction_notes(session: Session, locale: str = "fr_FR") -> list[str]:
    """« Modifié le 12 avril 2022 : jeudi 28 avril 2022 → vendredi 29 avril 2022 ; lieu : Paris → Lyon »,
    one per correction sent about the session (`calendars/rectificatifs.json`), oldest first."""
    return [f"Modifié le {french_date(c.day, locale=locale)} : {' ; '.join(c.lines)}" for c in session.corrections]


def _card_html(settings: Settings, session: Session) -> str:
    accent = CANCELLED if session.cancelled else ACCENT
    esc = html.escape
    when = esc(when_text(session, settings.locale))
    notes = [Typography.of(settings).text(note) for note in correction_notes(session, settings.locale)]
    rows = [f'<div class="tp-card-note" style="{_NOTE}">✏️ {esc(note)}</div>' for note in notes] + [
        f'<div class="tp-card-kind" style="{_KIND.format(accent=accent)}">{esc(_kind(session))}</div>',
        f'<div class="tp-card-title" style="{_TITLE}">{esc(ical.summary(session))}</div>',
        f'<div style="{_LINE}">{_icon("📅")}{f"<s>{when}</s>" if session.cancelled else when}</div>',
    ]
    if session.rrule:
        rows.append(
            f'<div style="{_LINE}">{_icon("🔁")}puis {esc(repetition_text(session, settings.locale, settings.tz))}</div>'
        )
    if session.location:
        rows.append(f'<div style="{_LINE}">{_icon("📍")}{esc(session.location)}</div>')
    if session.online:
        rows.append(
            f'<div style="{_LINE}">{_icon("💻")}<a href="{esc(session.online)}" class="tp-link" style="{_LINK}">Rejoindre la visio</a></div>'
        )
    if not session.cancelled:
        title = ical.summary(session)
        links = " · ".join(
            f'<a href="{esc(url)}" aria-label="{esc(link_name(kind, title))}" class="tp-link" style="{_LINK}">{esc(LABELS[kind])}</a>'
            for kind, url in session_links(settings, session).items()
        )
        rows.append(f'<div style="{_LINKS}"><strong>Ajouter à mon agenda&nbsp;:</strong> {links}</div>')
    classes = "tp-card tp-card-cancelled" if session.cancelled else "tp-card"
    return f'<div class="{classes}" style="{_CARD.format(accent=accent)}">{"".join(rows)}</div>'


def _icon(emoji: str) -> str:
    """A card's emoji is decoration: hidden from screen readers, which read the words after it."""
    return f'<span aria-hidden="true">{emoji} </span>'


def _card_text(settings: Settings, session: Session) -> list[str]:
    lines = [f"✏️ {note}" for note in correction_notes(session, settings.locale)]
    lines += [f"📅 {_kind(session).upper()} : {ical.summary(session)}", when_text(session, settings.locale)]
    if session.rrule:
        lines.append(f"Puis {repetition_text(session, settings.locale, settings.tz)}")
    if session.location:
        lines.append(f"Lieu : {session.location}")
    if session.online:
        lines.append(f"Visio : {session.online}")
    if not session.cancelled:
        lines.append("Ajouter à mon agenda :")
        lines.extend(f"- {LABELS[kind]} : {url}" for kind, url in session_links(settings, session).items())
    return lines
