"""What `check` says about the dates of an issue, read with the grammar of `parse.french_dates`.

- error: a weekday that does not match its date (« jeudi 07 avril » when 7 April is a Friday), or a
  day the month does not have (« 31 avril »), anywhere in the prose;
- warning: a date announced in « À suivre » (on or after the issue's date) that no session covers,
  so it would be missing from the agenda; a time written with it that its session does not have;
- warning: a session already over on the issue's date.

A date without a year is read in the year that puts it within four months before or eight after
the issue's date; its weekday is right if it fits any year six months before to nine after.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from newsletter.errors import ERROR, WARNING, Problem
from newsletter.model.issue import Block, Issue
from newsletter.model.session import Session
from newsletter.parse.french_dates import WEEKDAYS, DateMention, find_dates
from newsletter.parse.session import occurrence_on, occurrences
from newsletter.render.dates import french_date
from newsletter.text import fenced_blocks, french_hour

A_SUIVRE = "a-suivre"
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def date_problems(issue: Issue, others: Iterable[Session] = ()) -> list[Problem]:
    """The date problems of one issue; `others` are sessions from elsewhere (the programmes of
    `calendars/`) that may cover a date the issue announces."""
    problems: list[Problem] = []
    blocks = [issue.intro, *(section.body for section in issue.sections), issue.signoff]
    for block in blocks:
        for line, mention in mentions(block):
            problems.extend(_mention_problems(issue, line, mention))
    section = issue.section(A_SUIVRE)
    if section is not None:
        sessions = [*issue.sessions, *others]
        for line, mention in mentions(section.body):
            problems.extend(_announcement_problems(issue, line, mention, sessions))
    for session in issue.sessions:
        if _over(session, issue.date):
            when = french_date(session.last_day, weekday=True)
            problems.append(
                Problem(
                    issue.path,
                    session.line,
                    WARNING,
                    f"séance « {session.title} » déjà passée à la date du numéro ({when}) : vérifiez sa date",
                )
            )
    return problems


def mentions(block: Block) -> list[tuple[int, DateMention]]:
    """(line in the file, date) of every date of a block's prose, fenced blocks and comments left out."""
    text = _COMMENT.sub(_blank, _without_fences(block.markdown))
    return [(block.line + text[: mention.start].count("\n"), mention) for mention in find_dates(text)]


def _mention_problems(issue: Issue, line: int, mention: DateMention) -> list[Problem]:
    written = " ".join(mention.text.split())
    try:
        mention.dates(issue.date)
    except ValueError:
        return [Problem(issue.path, line, ERROR, f"date impossible « {written} » : ce jour n’existe pas")]
    if mention.weekdays_fit(issue.date):
        return []
    item, day, named = next(
        (item, day, item.weekday)
        for item, day in zip(mention.days, mention.named_dates(issue.date))
        if item.weekday is not None and item.weekday != day.weekday()
    )
    return [
        Problem(
            issue.path,
            line,
            ERROR,
            f"« {' '.join(item.text.split())} » : le {french_date(day)} est un {WEEKDAYS[day.weekday()]}, pas un {WEEKDAYS[named]}",
        )
    ]


def _announcement_problems(issue: Issue, line: int, mention: DateMention, sessions: list[Session]) -> list[Problem]:
    try:
        days = mention.dates(issue.date)
    except ValueError:
        return []  # already an error
    problems = []
    written = " ".join(mention.text.split())
    for day in days:
        if day < issue.date:
            continue
        covering = [session for session in sessions if _covers(session, day)]
        if not covering:
            problems.append(
                Problem(
                    issue.path,
                    line,
                    WARNING,
                    f"date annoncée sans séance : « {written} » ({french_date(day)}) n’a pas de bloc ```session pour l’agenda",
                )
            )
        elif mention.times and len(covering) == 1:
            problems.extend(_time_problems(issue, line, written, mention, covering[0]))
    return problems


def _time_problems(issue: Issue, line: int, written: str, mention: DateMention, session: Session) -> list[Problem]:
    assert mention.times is not None
    if not isinstance(session.start, dt.datetime):
        return [
            Problem(
                issue.path,
                line,
                WARNING,
                f"« {written} » donne une heure, mais la séance « {session.title} » n’en a pas (« start: AAAA-MM-JJ HH:MM »)",
            )
        ]
    if session.start.time() != mention.times.start:
        hour = french_hour(session.start, minutes=True)
        return [Problem(issue.path, line, WARNING, f"« {written} » : la séance « {session.title} » commence à {hour}")]
    return []


def _covers(session: Session, day: dt.date) -> bool:
    if session.first_day <= day <= session.last_day:
        return True
    if session.rrule and day > session.first_day:
        return occurrence_on(session.rrule, session.start, day, session.exdates) is not None
    return False


def _over(session: Session, day: dt.date) -> bool:
    if session.last_day >= day:
        return False
    if session.rrule:
        return (
            occurrences(session.rrule, session.start, session.exdates).after(
                dt.datetime.combine(day, dt.time()), inc=True
            )
            is None
        )
    return True


def _without_fences(markdown: str) -> str:
    """Each line of a closed fenced block blanked, fences read as the parser reads them."""
    lines = markdown.split("\n")
    closed = [block for _, block in fenced_blocks(lines) if block is not None and block.end is not None]
    for block in closed:
        lines[block.start : block.stop] = [" " * len(held) for held in lines[block.start : block.stop]]
    return "\n".join(lines)


def _blank(match: re.Match[str]) -> str:
    """The same number of characters and line breaks, so that offsets and lines stay right."""
    return re.sub(r"[^\n]", " ", match.group(0))
