"""An issue file → `Issue`: front matter, intro, one section per `##` rubric heading, sign-off.

Structure is found line by line (outside fenced blocks) so that every problem carries the line of
the file where it is; the Markdown of each part is kept as written for the renderers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.errors import ERROR, WARNING, Problem, SourceError
from newsletter.model.issue import Block, Issue, RubricSection
from newsletter.model.session import Session
from newsletter.parse.frontmatter import parse_front_matter
from newsletter.parse.readable import readability_problems
from newsletter.parse.rubrics import RubricMatcher, UnknownRubric
from newsletter.parse.session import SESSION_FENCES, astray_session, parse_session
from newsletter.parse.source import read_source
from newsletter.settings import Settings
from newsletter.text import FencedBlock, fenced_blocks

_H2 = re.compile(r"^ {0,3}##(?!#)\s*(.*?)\s*#*\s*$")
_H1 = re.compile(r"^ {0,3}#(?!#)\s+\S")
_BREAK = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
_BYLINE = re.compile(r"^\s*([*_])(?!\1)(.+?)\1\s*$")
_GREETING = re.compile(r"^(bonjour|bonsoir|salut|cher|chère|chers|chères|madame|monsieur)\b.{0,80},$", re.I)

_LINTS = (
    (re.compile(r"!\[\s*\]\("), "image sans texte alternatif : écrivez-le entre les crochets ![…](…)"),
    (re.compile(r"<img\b(?![^>]*\balt\s*=\s*[\"'][^\"']+)[^>]*>", re.I), "image HTML sans attribut alt"),
    (re.compile(r"(?<!!)\[[^\]]+\]\(\s*#?\s*\)"), "lien sans adresse : ajoutez-la entre les parenthèses"),
    (re.compile(r"<script\b", re.I), "HTML brut <script> : il sera retiré"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "HTML brut avec gestionnaire d’événement (on…=) : il sera retiré"),
    (re.compile(r"javascript:", re.I), "lien javascript: : il sera retiré"),
)


@dataclass
class ParsedIssue:
    """What parsing one file yields: the issue (None when an error stops it) and every problem."""

    path: Path
    issue: Issue | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]


def parse_issue(path: Path, settings: Settings, text: str | None = None) -> ParsedIssue:
    try:
        text = read_source(path) if text is None else text
        return _IssueParser(path, settings).parse(text)
    except SourceError as error:
        return ParsedIssue(path, None, [Problem.from_error(error)])


def load_issue(path: Path, settings: Settings) -> Issue:
    """The issue, or its first error raised as SourceError."""
    parsed = parse_issue(path, settings)
    if parsed.errors or parsed.issue is None:
        first = parsed.errors[0]
        raise SourceError(first.path, first.line or None, first.message)
    return parsed.issue


class _IssueParser:
    def __init__(self, path: Path, settings: Settings):
        self.path = path
        self.matcher = RubricMatcher.of(settings.rubrics)
        self.order = {rubric.key: index for index, rubric in enumerate(settings.rubrics)}
        self.problems: list[Problem] = []
        self.tz = settings.tz
        self.session_blocks: list[tuple[int, str]] = []  # (line of the opening fence, YAML)
        self.prose: list[tuple[int, str]] = []  # (line, text) of every line outside fenced blocks

    def parse(self, text: str) -> ParsedIssue:
        front, body = parse_front_matter(self.path, text)
        for key, line in front.unknown:
            self._warn(line, f"champ d’en-tête inconnu « {key} » (ignoré)")
        lines = body.split("\n")
        headings, breaks = self._scan(lines, front.body_line)
        first = headings[0][0] if headings else len(lines)
        end = next((b for b in reversed(breaks) if headings and b > headings[-1][0]), len(lines))
        intro_lines = lines[:first] if headings else lines[: (breaks[-1] if breaks else len(lines))]
        greeting, intro = _split_greeting(_block(intro_lines, front.body_line))
        sections = self._sections(lines, headings, end, front.body_line)
        signoff_start = end + 1 if end < len(lines) else len(lines)
        if not headings and breaks:
            signoff_start = breaks[-1] + 1
        signoff = _block(lines[signoff_start:], front.body_line + signoff_start)
        sessions = self._sessions_of(front.number, front.date)
        if self._has_errors():
            return ParsedIssue(self.path, None, self.problems)
        issue = Issue(
            path=self.path,
            number=front.number,
            date=front.date,
            title=front.title,
            intro=intro,
            sections=tuple(sections),
            signoff=signoff,
            subject=front.subject,
            preheader=front.preheader,
            draft=front.draft,
            greeting=greeting,
            sessions=sessions,
            programmes=front.programmes,
            programme_line=front.programme_line,
            source_hash=hashlib.sha256(text.encode()).hexdigest(),
        )
        return ParsedIssue(self.path, issue, self.problems)

    def _scan(self, lines: list[str], base: int) -> tuple[list[tuple[int, str]], list[int]]:
        """Rubric headings and thematic breaks outside fenced blocks; lints every other line."""
        headings: list[tuple[int, str]] = []
        breaks: list[int] = []
        for index, block in fenced_blocks(lines):
            if block is not None:
                self._fenced_block(base + index, block, lines)
                continue
            line = lines[index]
            if heading := _H2.match(line):
                headings.append((index, heading.group(1)))
            elif _BREAK.match(line) and (index == 0 or not lines[index - 1].strip()):
                breaks.append(index)
            elif _H1.match(line):
                self._warn(base + index, "titre de niveau 1 dans le texte : utilisez « ### » pour un intertitre")
            self._lint(line, base + index)
        for at, message in readability_problems(self.prose):
            self._warn(at, message)
        return headings, breaks

    def _fenced_block(self, line: int, block: FencedBlock, lines: list[str]) -> None:
        """A session block is kept for `_sessions_of`; a block that looks meant as one is an error."""
        if block.end is None:
            marker = block.opening.marker
            self._error(line, f"bloc « {marker} » ouvert ici et jamais fermé (ajoutez une ligne « {marker} »)")
            return
        info, source = block.opening.info, "\n".join(block.body(lines))
        if info in SESSION_FENCES:
            self.session_blocks.append((line, source))
        elif reason := astray_session(info, source):
            self._error(line, reason)

    def _sections(self, lines: list[str], headings: list[tuple[int, str]], end: int, base: int) -> list[RubricSection]:
        sections: list[RubricSection] = []
        seen: dict[str, int] = {}
        for position, (index, heading) in enumerate(headings):
            line = base + index
            stop = headings[position + 1][0] if position + 1 < len(headings) else end
            try:
                match = self.matcher.match(heading)
            except UnknownRubric as unknown:
                self._error(line, f"rubrique inconnue « {unknown.name or heading} »{unknown.hint}")
                continue
            key = match.rubric.key
            if key in seen:
                self._error(line, f"rubrique « {match.rubric.title} » donnée deux fois (déjà ligne {seen[key]})")
                continue
            if sections and self.order[key] < self.order[sections[-1].rubric.key]:
                self._warn(line, f"rubrique « {match.rubric.title} » hors de l’ordre du catalogue")
            seen[key] = line
            byline, body = _split_byline(_block(lines[index + 1 : stop], line + 1))
            if not body and not byline:
                self._warn(line, f"rubrique « {match.rubric.title} » vide")
            sections.append(RubricSection(match.rubric, body, line, match.own_title, byline))
        return sections

    def _sessions_of(self, number: int, date: dt.date) -> tuple[Session, ...]:
        """The session blocks as sessions; an id given twice in one issue is an error."""
        sessions: list[Session] = []
        seen: dict[str, int] = {}
        for line, source in self.session_blocks:
            session, problems = parse_session(
                source, self.path, line, self.tz, id_prefix=f"numero-{number:03d}", issue=number, published=date
            )
            self.problems.extend(problems)
            if session is None:
                continue
            if session.id in seen:
                self._error(
                    line,
                    f"séance : id « {session.id} » déjà pris par la séance de la ligne {seen[session.id]} (donnez-lui un « id: » à elle)",
                )
                continue
            seen[session.id] = line
            sessions.append(session)
        return tuple(sessions)

    def _lint(self, line: str, number: int) -> None:
        self.prose.append((number, line))
        for pattern, message in _LINTS:
            if pattern.search(line):
                self._warn(number, message)

    def _error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, ERROR, message))

    def _warn(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, WARNING, message))

    def _has_errors(self) -> bool:
        return any(problem.is_error for problem in self.problems)


def _block(lines: list[str], first_line: int) -> Block:
    """Lines as a Block, blank lines at either end trimmed but the start line kept exact."""
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    stop = len(lines)
    while stop > start and not lines[stop - 1].strip():
        stop -= 1
    return Block("\n".join(lines[start:stop]), first_line + start)


def _first_paragraph(block: Block) -> tuple[list[str], Block]:
    lines = block.markdown.split("\n")
    size = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    return lines[:size], _block(lines[size:], block.line + size)


def _split_byline(block: Block) -> tuple[str, Block]:
    """A rubric's first paragraph, if it is one line wholly in emphasis, is its byline."""
    first, rest = _first_paragraph(block)
    if len(first) == 1 and (match := _BYLINE.match(first[0])):
        return match.group(2).strip(), rest
    return "", block


def _split_greeting(block: Block) -> tuple[str, Block]:
    """« Bonjour à toutes et à tous, » opening the intro becomes the greeting, personal when sent."""
    first, rest = _first_paragraph(block)
    if len(first) == 1 and _GREETING.match(first[0].strip()):
        return first[0].strip(), rest
    return "", block
