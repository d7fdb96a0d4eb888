"""`newsletter build` and `newsletter check`, as the pipeline's stages.

plan (digest each source, compare with the last build's keys) → process the stale issues (parse
once, render their stale outputs, on every core) → settle numbers taken twice → the archive's
pages and feeds → the calendars → record the state
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.errors import ERROR, NewsletterError, Problem, SourceError
from newsletter.fsutil import listed
from newsletter.model.session import Session
from newsletter.parse.issue import ParsedIssue
from newsletter.pipeline import archive
from newsletter.pipeline.calendars import calendar_paths, collect, read_programmes, write_calendars
from newsletter.pipeline.emails import EMAIL_DIR, EMAIL_SUFFIXES, clipped
from newsletter.pipeline.issues import ENTRY_DIR, Keys, Needs, Outcome, entry_file, issue_files, process, read_entry
from newsletter.pipeline.state import Context, IssueRecord, State, digest, use_compiled_templates
from newsletter.project import Project, flag_duplicate_numbers
from newsletter.render.web import ArchiveEntry

PARALLEL_FROM = 16  # below this many issues to process, a process pool costs more than it saves


@dataclass(frozen=True)
class IssueView:
    """One issue file as `check` sees it after a build: its record (None if it never built) and
    every problem found in it."""

    path: Path
    record: IssueRecord | None
    problems: tuple[Problem, ...]


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    issues: list[IssueView] = field(default_factory=list)
    emails: int = 0  # issues whose email was rendered
    entries: int = 0  # issues whose archive entry was rendered
    pages: int = 0  # files of the web archive rendered (pages, index, feeds)

    @property
    def failed(self) -> bool:
        return any(problem.is_error for problem in self.problems)


@dataclass
class _Run:
    """One pass over the issues: what was planned, and what came of it."""

    context: Context
    programmes: str  # digest of the programmes' sources
    plan: dict[Path, tuple[Keys, Needs]]
    outcomes: dict[Path, Outcome] = field(default_factory=dict)
    fresh: dict[Path, IssueRecord] = field(default_factory=dict)  # unchanged since the last build: not parsed at all

    def keys(self, path: Path) -> Keys:
        try:
            source = digest(self.context.parse, path.read_bytes())
        except OSError:
            source = ""
        return Keys(
            source,
            digest(source, self.context.email),
            digest(source, self.context.web),
            digest(source, self.programmes),
        )


def build(project: Project, dist: Path, force: bool = False, check: bool = False) -> BuildReport:
    """Bring dist/ up to date; with `check`, each issue's view in the report also has what
    `newsletter check` says of it (the preview shows it), kept until the issue changes."""
    report = BuildReport()
    context, paths = Context.of(project), project.issue_paths()
    use_compiled_templates(project)
    programmes, report.problems = read_programmes(project)
    with _Workers() as workers:
        if len(paths) >= PARALLEL_FROM and (force or State.made_with(dist) != context):
            workers.start()  # every issue is to be rendered: fork before the last state is read, not with it
        state = State.read(dist)
        recorded, state.context = state.outputs, context
        run = _issues(
            project,
            dist,
            paths,
            state,
            context,
            _events(programmes),
            _programmes_digest(project),
            force,
            check,
            workers,
        )
        records, failed = _records(run, state)
        _tell(report, run, records)
        _remove_issue_files(dist, state.issues, records)
        changed = bool(run.outcomes) or records.keys() != state.issues.keys()
        state.issues = records  # the last build's records are let go before the archive and calendars
        published = sorted((r for r in records.values() if not r.draft), key=lambda r: r.number)
        calendars = _calendars(workers, project, published, programmes, report, run, failed, dist)
        _archive(workers, project, dist, context, published, run, state, report)
        report.problems += calendars()
    if changed or state.outputs != recorded:
        state.write(dist)
    return report


def _tell(report: BuildReport, run: _Run, records: dict[str, IssueRecord]) -> None:
    """What the issues stage did, in the report."""
    report.problems += [p for o in run.outcomes.values() for p in (*o.problems, *o.warnings)]
    report.built = sorted(o.record.slug for o in run.outcomes.values() if o.record and o.rendered)
    report.emails = sum("email" in o.rendered for o in run.outcomes.values())
    report.entries = sum("entry" in o.rendered for o in run.outcomes.values())
    report.unchanged = sorted(record.slug for record in run.fresh.values())
    report.issues = _views(run, records)


def _archive(
    workers: _Workers,
    project: Project,
    dist: Path,
    context: Context,
    published: list,
    run: _Run,
    state: State,
    report: BuildReport,
) -> None:
    """The pages and feeds: half on a worker and half here when a pool is running."""
    remake = lambda record: _remake_entry(project, dist, context, record, run)  # noqa: E731
    args = (project, published, dist, context.web, state.outputs)
    if workers.pool is None:
        keys, problems, report.pages = archive.write_archive(*args, remake)
    else:
        light = [dataclasses.replace(record, sessions=(), problems=(), notes=()) for record in published]
        other = workers.submit(archive.write_share, project, light, *args[2:], (1, 2))  # pages need no sessions
        keys, problems, report.pages = archive.write_archive(*args, remake, (0, 2))
        done = other() or archive.write_archive(*args, remake, (1, 2))
        keys = keys if done[0] is not None else None
        problems += [problem for problem in done[1] if problem not in problems]
        report.pages += done[2]
    report.problems += problems
    if keys is not None:
        archive.remove_stale(dist, state.outputs, keys)
        state.outputs = keys


def _calendars(workers: _Workers, project, published, programmes, report: BuildReport, run: _Run, failed, dist: Path):
    """Start the calendars (on a worker, beside the archive, when a pool is running); returns how
    to wait for their problems."""
    if any(p.is_error for p in report.problems if p.path.parent == project.calendars_dir):
        return list
    sessions = [session for record in published for session in record.sessions]
    inputs = digest(*(f"{r.name}\0{r.events}" for r in published))  # an edit that leaves the sessions alone: nothing
    unreadable = any(run.outcomes[path].unreadable for path in failed)
    sources = {session.id: (record.slug, record.source) for record in published for session in record.sessions}
    return workers.submit(write_calendars, project, sessions, programmes, inputs, unreadable, dist, sources)


class _Workers:
    """A process pool over every core, started only when there are enough issues to pay for it."""

    def __init__(self) -> None:
        self.pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Fork the workers now, while this process is small: a worker forked later holds a copy
        of everything this process has read by then (the last build's state: 35 MB at 3,000
        issues), which it never reads."""
        if (os.cpu_count() or 1) >= 2:
            self.pool = self.pool or ProcessPoolExecutor()
            self.pool.submit(int)  # with fork, every process is started at the first task

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def map(self, function, args: list[tuple]) -> list:
        if len(args) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
            return [function(*arg) for arg in args]
        self.pool = self.pool or ProcessPoolExecutor()
        chunks = max(1, len(args) // (16 * (os.cpu_count() or 1)))  # small chunks keep every core busy to the end
        return list(self.pool.map(function, *zip(*args), chunksize=chunks))

    def submit(self, function, *args):
        if self.pool is None:
            result = function(*args)
            return lambda: result
        return self.pool.submit(function, *args).result


def check(project: Project, only: int | None = None) -> list[Problem]:
    """Every problem of every issue (or only of issue number `only`), writing nothing."""

    context = Context.of(project)
    programmes, problems = read_programmes(project)
    paths = project.issue_paths()
    run = _Run(context, "", {})
    run.plan = {path: (run.keys(path), Needs(email=only is None, entry=False)) for path in paths}
    with _Workers() as workers:
        run.outcomes = _process(project, None, run.plan, _events(programmes), {}, workers)
    _settle_duplicates(project, None, run)
    mine = set(paths)
    if only is not None:
        mine = {o.path for o in run.outcomes.values() if Project.claims(o.path, o.number, only)}
        if not mine:
            raise SourceError(project.issues_dir, None, f"aucun numéro {only} dans ce dossier")
        for path in mine:  # the email of this one only
            keys, _ = run.plan[path]
            outcome = run.outcomes[path]
            if outcome.record:
                run.outcomes[path] = _checked(project, path, keys, outcome, _events(programmes))
    good = sorted((o.record for o in run.outcomes.values() if o.record), key=lambda r: r.number)
    _, calendar_problems = collect([s for r in good for s in r.sessions], programmes)
    found = [p for view in _views(run, {r.name: r for r in good}) if view.path in mine for p in view.problems]
    found += [p for p in problems + calendar_problems if only is None or p.path in mine]
    found += _corrections(project, run, mine if only is not None else None)
    return sorted(set(found))


def _corrections(project: Project, run: _Run, only: set[Path] | None = None) -> list[Problem]:
    """What changed in the sessions of the sent issues (of the files `only`, when given) since their
    subscribers were told."""
    from newsletter.pipeline.corrections import correction_problems

    sent = {o.number: o.path for o in run.outcomes.values() if o.record and o.number is not None}
    return correction_problems(project, {n: path for n, path in sent.items() if only is None or path in only})


def _checked(project: Project, path: Path, keys: Keys, outcome: Outcome, others: tuple[Session, ...]) -> Outcome:
    again = process(project, None, path, keys, Needs(entry=False), others, None)
    again.problems = outcome.problems  # the numbers taken twice were settled on the first pass
    return again


# --- stages ------------------------------------------------------------------------------------


def _issues(
    project: Project,
    dist: Path,
    paths: list[Path],
    state: State,
    context: Context,
    others,
    programmes: str,
    force: bool,
    check: bool,
    workers: _Workers,
) -> _Run:
    """Plan, then process what is stale, then settle numbers taken twice."""
    run = _Run(context, programmes, {})
    present = listed(dist, EMAIL_DIR, ENTRY_DIR)
    for path in paths:
        keys = run.keys(path)
        previous = state.issues.get(path.name)
        needs = Needs(True, True, check) if force or previous is None else _needs(present, previous, keys, check)
        if needs:
            run.plan[path] = (keys, needs)
        else:
            run.fresh[path] = previous.at(path)  # type: ignore[union-attr]
    run.outcomes = _process(project, dist, run.plan, others, state.issues, workers)
    _settle_duplicates(project, dist, run, others, state.issues)
    return run


def _needs(present: set[str], record: IssueRecord, keys: Keys, check: bool) -> Needs:
    emails = (f"{EMAIL_DIR}/{record.slug}{suffix}" for suffix in EMAIL_SUFFIXES)
    email = record.email_key != keys.email or not all(name in present for name in emails)
    entry = record.entry_key != keys.entry or f"{ENTRY_DIR}/{record.slug}.json" not in present
    return Needs(email, entry, check and record.notes_key != keys.notes)


def _process(
    project: Project, dist: Path | None, plan: dict, others, previous: dict[str, IssueRecord], workers: _Workers
) -> dict[Path, Outcome]:
    """Each planned issue processed, on every core when there are enough of them."""
    args = [(project, dist, path, keys, needs, others, previous.get(path.name)) for path, (keys, needs) in plan.items()]
    return {outcome.path: outcome for outcome in workers.map(process, args)}


def _settle_duplicates(project: Project, dist: Path | None, run: _Run, others=(), previous: dict | None = None) -> None:
    """A number taken twice fails the later file; the earlier one's outputs, which the later one may
    have overwritten, are made again."""
    claims = [(path, record.number) for path, record in run.fresh.items()]
    claims += [(path, o.number) for path, o in sorted(run.outcomes.items()) if o.number is not None]
    wrappers = [ParsedIssue(path, None, o.problems) for path, o in run.outcomes.items()]
    before = {path: len(o.problems) for path, o in run.outcomes.items()}
    flag_duplicate_numbers(claims, wrappers)
    for path, outcome in list(run.outcomes.items()):
        if len(outcome.problems) > before[path] and outcome.record:
            outcome.record = None
            owner = next(p for p, number in claims if number == outcome.number)
            if dist is not None and outcome.rendered:
                redo = process(project, dist, owner, run.keys(owner), Needs(), others, (previous or {}).get(owner.name))
                run.outcomes[owner] = redo
                run.fresh.pop(owner, None)
            outcome.rendered = []


def _records(run: _Run, state: State) -> tuple[dict[str, IssueRecord], list[Path]]:
    """The record of every issue now; an issue that fails keeps its last good one (one typo must
    not unpublish a past issue) until it is fixed."""
    records = {path.name: record for path, record in run.fresh.items()}
    failed = []
    for path, outcome in run.outcomes.items():
        if outcome.record:
            records[path.name] = outcome.record
        else:
            failed.append(path)
            if path.name in state.issues:
                records[path.name] = state.issues[path.name]
    return records, failed


def _views(run: _Run, records: dict[str, IssueRecord]) -> list[IssueView]:
    views = []
    for path in sorted([*run.fresh, *run.outcomes]):
        outcome = run.outcomes.get(path)
        record = outcome.record if outcome else run.fresh[path]
        found = list(outcome.problems) if outcome else list(record.problems)  # type: ignore[union-attr]
        if record:
            found += [*record.notes, *clipped(path, record.html_bytes, ERROR)]  # clipped, it loses its unsubscribe link
        views.append(IssueView(path, record, tuple(sorted(set(found)))))
    return views


def _remake_entry(project: Project, dist: Path, context: Context, record: IssueRecord, run: _Run) -> ArchiveEntry:
    """An issue's entry from dist/.archive/, made again when it is missing or damaged."""
    entry = read_entry(dist, record.slug)
    if entry is None:
        path = project.issues_dir / record.name
        outcome = process(project, dist, path, run.keys(path), Needs(False, True, False), (), record)
        entry = read_entry(dist, record.slug)
        if entry is None:
            raise NewsletterError(
                f"{entry_file(dist, record.slug)} : entrée d’archive illisible ; relancez avec --force"
            )
        run.outcomes.setdefault(path, outcome)
    return entry


def _remove_issue_files(dist: Path, before: dict[str, IssueRecord], now: dict[str, IssueRecord]) -> None:
    """Per-issue files of an issue file that is gone (or renumbered)."""
    kept = {record.slug for record in now.values()}
    for record in before.values():
        if record.slug not in kept:
            for path in issue_files(dist, record.slug):
                path.unlink(missing_ok=True)


def _events(programmes) -> tuple[Session, ...]:
    return tuple(event for programme in programmes for event in programme.events())


def _programmes_digest(project: Project) -> str:
    """What the dates `check` reads in an issue depend on besides the issue: the programmes."""
    return digest(*(path.name.encode() + b"\0" + path.read_bytes() for path in calendar_paths(project)))
