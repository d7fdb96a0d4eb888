"""One issue file through the pipeline: parsed once, then each of its stale outputs rendered once.

An issue's outputs are its email (`emails.py`), its archive entry (`dist/.archive/<slug>.json`, what
the pages and feeds are made of) and its notes (what `check` says beyond parsing). Each has a key in
the issue's `IssueRecord`; `Needs` says which are stale. The same function serves `build` (which
writes) and `check` (which writes nothing, `dist` None).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from newsletter.corrections import unknown_programmes
from newsletter.datecheck import date_problems
from newsletter.errors import ERROR, Problem, SourceError
from newsletter.fsutil import write_atomic
from newsletter.model.issue import Issue
from newsletter.model.session import Session
from newsletter.parse.issue import parse_issue
from newsletter.parse.source import read_source
from newsletter.pipeline.calendars import issue_events_file, write_issue_events
from newsletter.pipeline.emails import clipped, email_files, email_outputs
from newsletter.pipeline.state import IssueRecord, digest, use_compiled_templates
from newsletter.project import Project
from newsletter.render.blocks import IssueBlocks
from newsletter.render.web import ArchiveEntry, archive_entry
from newsletter.stubs import stub_problems

ENTRY_DIR = ".archive"


@dataclass(frozen=True)
class Keys:
    """The keys of an issue's outputs at this build."""

    source: str
    email: str
    entry: str
    notes: str


@dataclass(frozen=True)
class Needs:
    email: bool = True
    entry: bool = True
    notes: bool = True

    def __bool__(self) -> bool:
        return self.email or self.entry or self.notes


@dataclass
class Outcome:
    """What became of one issue: its new record, or None when it has an error."""

    path: Path
    number: int | None = None  # the number it claims, when its front matter says one
    record: IssueRecord | None = None
    problems: list[Problem] = field(default_factory=list)  # what `check` says too
    warnings: list[Problem] = field(default_factory=list)  # the build's own: an email Gmail will clip
    rendered: list[str] = field(default_factory=list)  # what was rendered: "email", "entry"
    unreadable: bool = False  # whether it failed before rendering: its source has an error


def entry_file(dist: Path, slug: str) -> Path:
    return dist / ENTRY_DIR / f"{slug}.json"


def issue_files(dist: Path, slug: str) -> list[Path]:
    """Every per-issue file in dist/ (they go when the issue does)."""
    return [*email_files(dist, slug), entry_file(dist, slug), issue_events_file(dist, slug)]


def read_entry(dist: Path, slug: str) -> ArchiveEntry | None:
    try:
        return ArchiveEntry.from_json(entry_file(dist, slug).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def process(
    project: Project,
    dist: Path | None,
    path: Path,
    keys: Keys,
    needs: Needs,
    others: tuple[Session, ...],
    previous: IssueRecord | None,
) -> Outcome:
    """Parse `path` and render what `needs` asks; `previous` gives what is not asked again."""
    use_compiled_templates(project)
    try:
        text = read_source(path)
    except SourceError as error:
        return Outcome(path, problems=[Problem.from_error(error)], unreadable=True)
    parsed = project.with_corrections([parse_issue(path, project.settings, text)])[0]
    outcome = Outcome(path, parsed.issue.number if parsed.issue else None, problems=list(parsed.problems))
    issue = parsed.issue
    if issue is None or parsed.errors:
        outcome.unreadable = True
        return outcome
    record = previous if previous and previous.slug == issue.slug else None
    record = _base(issue, keys, parsed.problems, record)
    blocks = IssueBlocks(project.settings, issue)  # each Markdown block converted once, for every output
    if needs.email or record.email_key != keys.email:
        record = _email(project, dist, issue, blocks, keys, record, outcome)
    if record and (needs.entry or record.entry_key != keys.entry):
        record = _entry(project, dist, issue, blocks, keys, record, outcome)
    if record and dist is not None and (previous is None or previous.source != keys.source):
        if issue.sessions:
            write_issue_events(dist, project.settings, issue.slug, issue.sessions, keys.source)
        else:
            issue_events_file(dist, issue.slug).unlink(missing_ok=True)
    if record and needs.notes:
        programmes = {session.programme for session in others if session.programme}
        notes = [*stub_problems(issue, text), *date_problems(issue, others), *unknown_programmes(issue, programmes)]
        record = dataclasses.replace(record, notes_key=keys.notes, notes=tuple(notes))
    outcome.record = record
    return outcome


def _base(issue: Issue, keys: Keys, problems: list[Problem], previous: IssueRecord | None) -> IssueRecord:
    fields: dict[str, Any] = dict(
        name=issue.path.name,
        source=keys.source,
        number=issue.number,
        slug=issue.slug,
        draft=issue.draft,
        title=issue.title,
        date=issue.date.isoformat(),
        sessions=issue.sessions,
        events=digest("events", issue.slug, repr(issue.sessions)),
        problems=tuple(problems),
    )
    return dataclasses.replace(previous, **fields) if previous else IssueRecord(**fields)


def _email(project, dist, issue, blocks, keys, record, outcome) -> IssueRecord | None:
    parts, files, problems = email_outputs(project, issue, blocks)
    outcome.problems += problems
    if parts is None:
        return None
    if dist is not None:
        for target, data in zip(email_files(dist, issue.slug), files):
            write_atomic(target, data)
    outcome.rendered.append("email")
    outcome.warnings += clipped(issue.path, parts.html_bytes)
    return dataclasses.replace(record, email_key=keys.email, html_bytes=parts.html_bytes)


def _entry(project, dist, issue, blocks, keys, record, outcome) -> IssueRecord | None:
    try:
        entry = archive_entry(project.settings, issue, project.root, blocks)
    except jinja2.TemplateError as error:
        outcome.problems.append(template_problem(project, error))
        return None
    text = entry.to_json()
    if dist is not None:
        write_atomic(entry_file(dist, issue.slug), text)
    outcome.rendered.append("entry")
    return dataclasses.replace(record, entry_key=keys.entry, entry_hash=digest(text), card=entry.card)


def template_problem(project: Project, error: jinja2.TemplateError) -> Problem:
    name = getattr(error, "filename", None) or getattr(error, "name", None) or "web"
    path = Path(name) if Path(str(name)).is_absolute() else project.root / "templates" / str(name)
    return Problem(
        path, getattr(error, "lineno", None) or 1, ERROR, f"modèle de page invalide : {error.message or error}"
    )
