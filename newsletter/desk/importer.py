"""`newsletter import`: a plain-text export of an old issue (like seed 000) → a Markdown issue.

The export has one paragraph per line and has lost its formatting. The structure comes back from
what each line looks like, never from guessing at words:

- a rubric heading is a line that names a rubric of the catalogue (through the same matcher as `##`
  headings) and starts with that rubric's emoji, or with no emoji at all; its tagline, when it is the
  catalogue's, is dropped (the email prints it from the catalogue);
- the édito's own title is the text after « : » on its heading line; its byline is the first line
  when it is a name (and an email address);
- a line wholly between quotation marks is a quote; a short line right after quotes is their caption;
- « Name Surname, role : » followed by a paragraph is a testimony (the paragraph becomes a quote);
- two or more short lines after a line ending in « : » are a list, as are lines starting with the
  same bullet, and the items of the Inspiration rubric;
- a short line without final punctuation (or a question) followed by text is a sub-heading;
- what follows the last list of the last rubric is the sign-off.

Every dated mention of « À suivre » gets a session block to complete right after its paragraph (see
`stubs`). Every sentence of the input is kept; Markdown's own characters are escaped.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.desk.new import (
    check_number_free,
    file_name,
    front_matter,
    next_number,
    require_issues_dir,
    session_stub,
    write_new,
)
from newsletter.errors import SourceError
from newsletter.model.rubric import Rubric
from newsletter.parse.french_dates import DateMention, find_dates, find_numeric_dates
from newsletter.parse.issue import parse_issue
from newsletter.parse.rubrics import RubricMatcher, UnknownRubric, normalise
from newsletter.parse.source import read_source
from newsletter.project import Project
from newsletter.settings import Settings
from newsletter.stubs import STUB_MARK

LIST_ITEM_MAX = 220  # longer lines are paragraphs, not list items
SHORT_LINE = 100  # sub-headings, captions, bylines and speakers are at most this long
HEADING_MAX = 150

_LINK = re.compile(
    r"(?P<url>https?://[^\s<>«»“”\"]*[^\s<>«»“”\".,;:!?)\]])|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,})"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_NAME = r"[A-ZÀ-ÖØ-Þ][\w’'.-]+"
_BYLINE = re.compile(rf"(?:[Pp]ar\s+)?{_NAME}(?:\s+{_NAME}){{1,3}}")
_SPEAKER = re.compile(rf"{_NAME}(?:\s+{_NAME})+\s*,\s*.{{1,80}}\s:$")
_ASCII_BULLET = re.compile(r"^[-*•·▪►–—→]\s+")
_OPENING_QUOTES = '“«"„'
_CLOSING_QUOTES = '”»"'
_FINAL_PUNCTUATION = '.,;:!…»”")'
_SPACES = re.compile(r"\s+")
_NO_BREAK = "\u00a0\u202f\u2007"  # no-break, narrow no-break and figure spaces: French typography's
_VARIATION = dict.fromkeys(map(ord, "\ufe0e\ufe0f\u200d"), None)


@dataclass(frozen=True)
class Mention:
    """A date written in the text: « jeudi 07 avril », « 28 avril », « 07/04/2022 »."""

    text: str
    day: int
    month: int
    year: int | None
    weekday: int | None  # 0 = lundi


@dataclass(frozen=True)
class Imported:
    """The Markdown issue made from a text, and what was inferred on the way."""

    text: str
    number: int
    date: dt.date
    date_inferred: bool
    title: str
    rubrics: tuple[str, ...]  # keys, in the order found
    sessions: tuple[dt.date, ...]  # the session stubs written, one per dated mention of « À suivre »


@dataclass
class _Part:
    rubric: Rubric | None  # None: the intro
    own_title: str = ""
    units: list[str] = field(default_factory=list)


# --- the command's work ----------------------------------------------------------------------------


def import_file(
    project: Project,
    source: Path,
    output: Path | None = None,
    number: int | None = None,
    date: dt.date | None = None,
    title: str | None = None,
    today: dt.date | None = None,
) -> tuple[Path, Imported]:
    """Read `source`, write the Markdown issue (never over an existing file), return both."""
    text = _read(source)
    if output is None:
        require_issues_dir(project)
    if number is None:
        number = next_number(project) if project.issues_dir.is_dir() else 1
    if project.issues_dir.is_dir():
        check_number_free(project, number)
    imported = convert(text, project.settings, source, number, date, title, today or dt.date.today())
    path = output or project.issues_dir / file_name(number, imported.title)
    parsed = parse_issue(path, project.settings, imported.text)
    if parsed.errors:
        first = parsed.errors[0]
        raise SourceError(source, None, f"l’import a produit un numéro invalide (ligne {first.line} : {first.message})")
    write_new(path, imported.text)
    return path, imported


def convert(
    text: str,
    settings: Settings,
    source: Path,
    number: int,
    date: dt.date | None = None,
    title: str | None = None,
    today: dt.date | None = None,
) -> Imported:
    """The Markdown issue for a plain text; SourceError when the text names no rubric."""
    today = today or dt.date.today()
    parts = split_parts(text, settings.rubrics, source)
    if len(parts) == 1:
        names = ", ".join(f"« {rubric.label} »" for rubric in settings.rubrics[:3])
        raise SourceError(
            source, None, f"aucune rubrique reconnue : chaque titre de rubrique ({names}…) doit être seul sur sa ligne"
        )
    signoff = _take_signoff(parts[-1])
    mentions = [m for part in parts for unit in part.units for m in mentions_in(unit)]
    year = infer_year(mentions, date.year if date else today.year)
    agenda = [m for part in parts if _key(part) == "a-suivre" for unit in part.units for m in mentions_in(unit)]
    date_inferred = date is None
    if date is None:
        upcoming = sorted(filter(None, (resolve(m, year or today.year) for m in agenda)))
        date = upcoming[0] - dt.timedelta(days=1) if upcoming and year else today
    year = year or date.year
    edito = next((p for p in parts if _key(p) == "edito"), None)
    title = (title or "").strip() or (edito.own_title if edito else "") or STUB_MARK
    writer = _Writer(year, date)
    blocks = writer.part(parts[0])
    sections = [(part, part.rubric) for part in parts[1:] if part.rubric is not None]  # all but the intro
    for part, rubric in sections:
        heading = f"## {rubric.label}" + (f" : {inline(part.own_title)}" if part.own_title else "")
        blocks += [heading, *writer.part(part)]
    if signoff:
        blocks += ["---", *(paragraph(unit) for unit in signoff)]
    comments = ("date estimée d’après « À suivre » : vérifiez-la",) if date_inferred else ()
    head = front_matter(number, date, title, comments=comments)
    return Imported(
        text="\n\n".join([head, *blocks]) + "\n",
        number=number,
        date=date,
        date_inferred=date_inferred,
        title=title,
        rubrics=tuple(rubric.key for _, rubric in sections),
        sessions=tuple(writer.sessions),
    )


def _read(source: Path) -> str:
    """The text of the export; a file in Latin-1 is named as such (it is the usual old export)."""
    if not source.is_file():
        raise SourceError(source, None, "fichier introuvable")
    try:
        return read_source(source)
    except SourceError as error:
        if "pas encodé en UTF-8" in error.message and _looks_latin1(source.read_bytes()):
            raise SourceError(
                source, error.line, "fichier en Latin-1 (Windows-1252), pas en UTF-8 : réenregistrez-le en UTF-8"
            ) from None
        raise


def _looks_latin1(data: bytes) -> bool:
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return any(char in text for char in "éèêàâçôùûîïëÉÈÀÇœ’«»")


# --- structure: rubrics, sign-off -----------------------------------------------------------------


def split_parts(text: str, rubrics: tuple[Rubric, ...], source: Path) -> list[_Part]:
    """The intro, then one part per rubric heading line, each with its lines (taglines dropped).

    A line that misses a rubric's name by a letter is an error at its line: read as text, it would
    merge a whole rubric into the previous one.
    """
    matcher = RubricMatcher(rubrics)
    parts = [_Part(None)]
    seen: set[str] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        unit = _unit(line)
        if not unit:
            continue
        found = _rubric_heading(unit, matcher)
        if found and found[0].key not in seen:
            seen.add(found[0].key)
            parts.append(_Part(found[0], found[1]))
            continue
        if not found and (near := _near_rubric(unit, matcher)) and near.key not in seen:
            raise SourceError(
                source,
                number,
                f"« {unit} » n’est pas tout à fait le titre de la rubrique « {near.label} » : corrigez la ligne, puis relancez l’import",
            )
        part = parts[-1]
        if part.rubric and not part.units and part.rubric.tagline and normalise(unit) == normalise(part.rubric.tagline):
            continue
        part.units.append(unit)
    return parts


def _unit(line: str) -> str:
    """A line with each run of spaces made one: a no-break one where the text had one (« 3 000 », « : »)."""
    return _SPACES.sub(lambda run: next((c for c in run.group() if c in _NO_BREAK), " "), line.strip())


def _rubric_heading(unit: str, matcher: RubricMatcher) -> tuple[Rubric, str] | None:
    """A line naming a rubric exactly, after any emoji or none (« 📚 En théorie… », « En théorie… »)."""
    if not _may_be_heading(unit):
        return None
    try:
        match = matcher.match(unit)
    except UnknownRubric:
        return None
    return match.rubric, match.own_title


def _near_rubric(unit: str, matcher: RubricMatcher) -> Rubric | None:
    return matcher.near(unit) if _may_be_heading(unit) else None


def _may_be_heading(unit: str) -> bool:
    return len(unit) <= HEADING_MAX and (unit[0].isalpha() or unicodedata.category(unit[0]) == "So")


def _take_signoff(part: _Part) -> list[str]:
    """What follows the last list of the last rubric is the letter's sign-off."""
    items = [
        index
        for index, unit in enumerate(part.units)
        if _is_bullet(unit) or (_key(part) == "inspiration" and _is_title_like(unit))
    ]
    if not items or items[-1] == len(part.units) - 1:
        return []
    signoff = part.units[items[-1] + 1 :]
    del part.units[items[-1] + 1 :]
    return signoff


def _key(part: _Part) -> str:
    return part.rubric.key if part.rubric else ""


# --- blocks ---------------------------------------------------------------------------------------


class _Writer:
    """Turns the lines of one part into Markdown blocks, with session stubs in « À suivre »."""

    def __init__(self, year: int, issue_date: dt.date):
        self.year = year
        self.issue_date = issue_date
        self.sessions: list[dt.date] = []

    def part(self, part: _Part) -> list[str]:
        units, key = part.units, _key(part)
        blocks: list[str] = []
        index = 0
        if key == "edito" and units and _is_byline(units[0]):
            blocks.append(f"*{inline(units[0])}*")
            index = 1
        while index < len(units):
            consumed, made = self._next(units, index, key)
            blocks += made
            if key == "a-suivre":
                blocks += self._stubs(units[index : index + consumed])
            index += consumed
        return blocks

    def _next(self, units: list[str], index: int, key: str) -> tuple[int, list[str]]:
        unit = units[index]
        rest = units[index:]
        if key == "inspiration":
            items = _run(rest, lambda u: _is_bullet(u) or _is_title_like(u))
            if items:
                return len(items), [bullet_list(items)]
        bullets = _run(rest, lambda u: _is_bullet(u) and _bullet_mark(u) == _bullet_mark(unit))
        if len(bullets) >= 2:
            return len(bullets), [bullet_list(bullets)]
        if _is_quote(unit):
            quotes = _run(rest, _is_quote)
            made = [quote(q) for q in quotes]
            after = index + len(quotes)
            if after < len(units) and _is_caption(units[after]):
                made.append(caption(units[after]))
                return len(quotes) + 1, made
            return len(quotes), made
        if unit.endswith(":"):
            items = _run(rest[1:], _is_list_item)
            if len(items) >= 2:
                return 1 + len(items), [paragraph(unit), bullet_list(items)]
            if _SPEAKER.fullmatch(unit) and len(rest) > 1 and not _is_special(rest[1]):
                return 2, [f"**{inline(unit)}**", quote(rest[1])]
        if _is_title_like(unit):
            titles = _run(rest, _is_title_like)
            if len(titles) >= 2 and not any(t.endswith("?") for t in titles):
                return len(titles), [bullet_list(titles)]
            if len(rest) > 1:
                return 1, [f"### {inline(unit)}"]
        return 1, [paragraph(unit)]

    def _stubs(self, units: list[str]) -> list[str]:
        stubs = []
        for unit in units:
            for mention in mentions_in(unit):
                start = resolve(mention, self.year, self.issue_date)
                if start is None:
                    continue
                self.sessions.append(start)
                comment = f"annoncé : « {_sentence_around(unit, mention.text)} »"
                stubs.append(session_stub(start, f"{STUB_MARK} – {mention.text}", comment))
        return stubs


def _run(units: list[str], test) -> list[str]:
    run = []
    for unit in units:
        if not test(unit):
            break
        run.append(unit)
    return run


def _is_bullet(unit: str) -> bool:
    return bool(_ASCII_BULLET.match(unit)) or (
        len(unit) > 2 and unicodedata.category(unit[0]) == "So" and unit[1:].translate(_VARIATION)[:1] == " "
    )


def _bullet_mark(unit: str) -> str:
    return unit.split(" ", 1)[0].translate(_VARIATION)


def _is_quote(unit: str) -> bool:
    return len(unit) > 2 and unit[0] in _OPENING_QUOTES and unit[-1] in _CLOSING_QUOTES


def _is_caption(unit: str) -> bool:
    return len(unit) <= 60 and not _is_quote(unit) and unit[-1] not in _FINAL_PUNCTUATION + "?"


def _is_title_like(unit: str) -> bool:
    """Short, and not ending like a sentence (a question is allowed)."""
    return (
        len(unit) <= SHORT_LINE
        and unit[-1] not in _FINAL_PUNCTUATION
        and unit[0] not in _OPENING_QUOTES
        and any(char.isalpha() for char in unit)
    )


def _is_list_item(unit: str) -> bool:
    return len(unit) <= LIST_ITEM_MAX and not unit.endswith(":") and not _is_quote(unit)


def _is_byline(unit: str) -> bool:
    if len(unit) > SHORT_LINE or unit[-1] in ".!?:;":
        return False
    return bool(_EMAIL.search(unit)) or bool(_BYLINE.fullmatch(unit))


def _is_special(unit: str) -> bool:
    return _is_quote(unit) or _is_bullet(unit) or unit.endswith(":")


# --- Markdown -------------------------------------------------------------------------------------


def paragraph(unit: str) -> str:
    return inline(unit)


def quote(unit: str) -> str:
    return f"> {inline(unit)}"


def caption(unit: str) -> str:
    text = inline(unit)
    return f"*{text}*" if unit[0] in "—–-" else f"*— {text}*"


def bullet_list(units: list[str]) -> str:
    return "\n".join(f"- {inline(_ASCII_BULLET.sub('', unit))}" for unit in units)


def inline(text: str) -> str:
    """Text as Markdown that shows exactly this text: specials escaped, addresses made links."""
    pieces, position = [], 0
    for match in _LINK.finditer(text):
        pieces.append(_escape(text[position : match.start()]))
        pieces.append(f"<{match.group(0)}>")
        position = match.end()
    pieces.append(_escape(text[position:]))
    return _escape_start("".join(pieces))


def _escape(text: str) -> str:
    for char in "\\`*_[]":
        text = text.replace(char, "\\" + char)
    return text.replace("<", "&lt;")


def _escape_start(text: str) -> str:
    """What would open a block (heading, quote, list, rule, fence) at the start of a line."""
    if re.match(r"[#>]", text) or re.match(r"[-+](\s|$)|[-=]+$", text):
        return "\\" + text
    if numbered := re.match(r"(\d{1,9})([.)])(\s|$)", text):
        return f"{numbered.group(1)}\\{numbered.group(2)}{text[numbered.end(2) :]}"
    if text.startswith("~~~"):
        return "&#126;" + text[1:]
    return text


# --- dates ----------------------------------------------------------------------------------------


def mentions_in(text: str) -> list[Mention]:
    """Every date with a day and a month written in `text`, in order."""
    numeric = find_numeric_dates(text)
    for start, written, *_ in numeric:  # « 12/3 à 1er mai »: the 3 is no day of May
        text = text[:start] + " " * len(written) + text[start + len(written) :]
    found = [(date.start, mention) for date in find_dates(text) for mention in _mentions_of(date)]
    found += [(start, Mention(written, day, month, year, None)) for start, written, day, month, year in numeric]
    return [mention for _, mention in sorted(found, key=lambda pair: pair[0])]


def _mentions_of(date: DateMention) -> list[Mention]:
    """One mention a day, named as the stub's title will say it (« jeudi 07 avril », « 27 novembre 2021 »)."""
    if len(date.days) == 1:
        return [Mention(date.date_text, date.days[0].day, date.month, date.year, date.days[0].weekday)]
    year = f" {date.year}" if date.year else ""
    return [
        Mention(f"{item.text} {date.month_text}{year if last else ''}", item.day, date.month, date.year, item.weekday)
        for last, item in ((position == len(date.days) - 1, item) for position, item in enumerate(date.days))
    ]


def infer_year(mentions: list[Mention], reference: int) -> int | None:
    """The year the text speaks of: written out, or the latest (up to next year) where the weekdays fit."""
    written = [m.year for m in mentions if m.year]
    if written:
        return max(set(written), key=lambda year: (written.count(year), year))
    dated = [m for m in mentions if m.weekday is not None]
    if not dated:
        return None
    fits = lambda year: sum(1 for m in dated if _weekday_of(m, year) == m.weekday)  # noqa: E731
    best = max(range(reference + 1, reference - 40, -1), key=lambda year: (fits(year), year))
    return best if fits(best) else None


def resolve(mention: Mention, year: int, issue_date: dt.date | None = None) -> dt.date | None:
    """The date a mention means: its own year, the year its weekday fits, or the one after the issue."""
    if mention.year:
        candidates = [mention.year]
    elif mention.weekday is not None:
        candidates = [year, year + 1, year - 1]
    else:
        candidates = [year, year + 1]
    dates = [d for y in candidates if (d := _date(y, mention.month, mention.day))]
    if mention.weekday is not None and not mention.year:
        dates = [d for d in dates if d.weekday() == mention.weekday] or dates[:1]
    if issue_date and not mention.year and mention.weekday is None:
        dates = [d for d in dates if d >= issue_date - dt.timedelta(days=90)] or dates[:1]
    return dates[0] if dates else None


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _weekday_of(mention: Mention, year: int) -> int | None:
    found = _date(year, mention.month, mention.day)
    return found.weekday() if found else None


def _sentence_around(text: str, fragment: str) -> str:
    for sentence in re.split(r"(?<=[.!?…])\s+", text):
        if fragment in sentence:
            return sentence
    return text
