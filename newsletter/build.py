"""`newsletter build`: the whole pipeline, as straight-line code.

    load settings → read and parse every issue → render what changed → write atomically → record

Incremental: `dist/.build-manifest.json` remembers, for each issue file, the digest of its bytes
together with the settings and templates it was rendered with. An issue whose digest is unchanged
and whose outputs are all present is not rendered again (its parsed model comes from a cache), so a
rebuild that changes nothing is quick and writes nothing.

Outputs come in two kinds, each a list below that later features extend:
- per issue (`ISSUE_OUTPUTS`): rendered only for issues that changed;
- per project (`PROJECT_OUTPUTS`): given every published issue at each build (agenda, feed, index);
  they must stay cheap and write through `write_atomic`, which leaves unchanged files alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from contextlib import contextmanager
from typing import Callable, Iterator

from newsletter import code_version
from newsletter.calendars import write_calendars
from newsletter.errors import ERROR, WARNING, NewsletterError, Problem, SourceError
from newsletter.fsutil import write_atomic
from newsletter.model.issue import Issue
from newsletter.parse.issue import parse_issue
from newsletter.project import Project, flag_duplicate_numbers
from newsletter.render.blocks import IssueBlocks
from newsletter.render.dates import publication_time
from newsletter.render.email import GMAIL_CLIP_BYTES, EmailParts, RenderError, render_email
from newsletter.render.personalize import FALLBACK_GREETING, personalize
from newsletter.render.templates import fingerprint
from newsletter.render.web import archive_entry_files, write_archive, write_archive_entry
from newsletter.send.config import profile_page, sending_config
from newsletter.send.message import Letter, preview_message

MANIFEST = ".build-manifest.json"
MODEL_CACHE = ".build-models.pickle"
EMAIL_DIR = "email"
EMAIL_SUFFIXES = (".mjml", ".html", ".txt", ".eml")
PARALLEL_FROM = 16  # below this many issues to render, a process pool costs more than it saves


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(problem.is_error for problem in self.problems)


@dataclass(frozen=True)
class IssueOutput:
    """One kind of per-issue output: how to write it, and which files prove it is there."""

    write: Callable[[Project, Issue, Path, IssueBlocks], list[Problem]]
    files: Callable[[Path, str], list[Path]]


@dataclass(frozen=True)
class ProjectOutput:
    """One kind of project-wide output, written from every published issue at each build.

    `from_models`: it needs the parsed issues only, not their rendered outputs, so a parallel build
    writes it while the issues render.
    """

    write: Callable[[Project, list[Issue], Path], list[Problem]]
    from_models: bool = False


def build(project: Project, dist: Path, force: bool = False) -> BuildReport:
    report = BuildReport()
    manifest, models = _read_manifest(dist), _read_models(dist)
    context = _context_digest(project)
    paths = project.issue_paths()
    # keyed by file name: the project may be named `.` in one build and by its absolute path in the next
    digests = {path.name: hashlib.sha256(context.encode() + path.read_bytes()).hexdigest() for path in paths}

    fresh: dict[str, Issue] = {}
    for path in paths:
        entry, model = manifest.get(path.name), models.get(path.name)
        if not force and entry and model and entry["digest"] == digests[path.name] and _outputs_exist(dist, entry["slug"]):
            fresh[path.name] = dataclasses.replace(model, path=path)  # as this build names it
    parsed = [parse_issue(path, project.settings) for path in paths if path.name not in fresh]
    numbers = [(issue.path, issue.number) for issue in fresh.values()]
    flag_duplicate_numbers(numbers + [(p.path, p.issue.number) for p in parsed if p.issue], parsed)

    to_render, failed = [], []
    for item in parsed:
        report.problems.extend(item.problems)
        if item.errors or item.issue is None:
            failed.append(item.path)
        else:
            to_render.append(item.issue)
    rendered = []
    with _workers(len(to_render)) as pool:
        # Outputs that need only the models start now, on the issues as they will be if every
        # render succeeds; they are written again in the rare case where a render fails.
        early = _start_early_outputs(project, [*fresh.values(), *to_render, *_last_good(failed, models, manifest).values()], dist, pool)
        for issue, problems in _render_all(project, to_render, dist, pool):
            report.problems.extend(problems)
            if any(problem.is_error for problem in problems):
                failed.append(issue.path)
            else:
                rendered.append(issue)
                report.built.append(issue.slug)

        # An issue that now fails keeps its last good version in the archive, feeds and agenda (its
        # old outputs are untouched), until it is fixed: one typo must not unpublish a past issue.
        kept = _last_good(failed, models, manifest)
        issues = sorted([*fresh.values(), *rendered, *kept.values()], key=lambda issue: issue.number)
        report.unchanged = sorted(issue.slug for issue in fresh.values())
        published = _published(issues)
        if len(rendered) < len(to_render):  # a render failed: the early outputs saw an issue that is not there
            for job in early.values():
                job.result()  # let them finish before they are written again
            early = {}
        report.problems.extend(_write_project_outputs(project, published, dist, pool, early))

    new_manifest = {i.path.name: {"digest": digests[i.path.name], "slug": i.slug, "number": i.number} for i in issues}
    new_manifest.update({name: manifest[name] for name in kept})  # the old digest: parsed again next time
    _remove_stale(dist, manifest, new_manifest)
    write_atomic(dist / MODEL_CACHE, pickle.dumps({i.path.name: i for i in issues}, protocol=5))
    write_atomic(dist / MANIFEST, json.dumps(new_manifest, indent=1, sort_keys=True) + "\n")
    return report


@contextmanager
def _workers(renders: int) -> Iterator[ProcessPoolExecutor | None]:
    """A process pool over every core when there are enough issues to render to pay for it."""
    if renders < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        yield None
        return
    with ProcessPoolExecutor() as pool:
        yield pool


def _last_good(failed: list[Path], models: dict[str, Issue], manifest: dict) -> dict[str, Issue]:
    """The last built version of each failing issue, when there is one."""
    return {path.name: models[path.name] for path in failed if path.name in models and path.name in manifest}


def _published(issues: list[Issue]) -> list[Issue]:
    return sorted((issue for issue in issues if not issue.draft), key=lambda issue: issue.number)


def _start_early_outputs(project: Project, issues: list[Issue], dist: Path, pool: ProcessPoolExecutor | None) -> dict:
    """Submit the `from_models` outputs to the pool, to run while the issues render."""
    if pool is None:
        return {}
    published = _published(issues)
    return {index: pool.submit(output.write, project, published, dist) for index, output in enumerate(PROJECT_OUTPUTS) if output.from_models}


def _write_project_outputs(
    project: Project, issues: list[Issue], dist: Path, pool: ProcessPoolExecutor | None, early: dict
) -> list[Problem]:
    """The project-wide outputs are independent of each other: with a pool, written side by side."""
    if pool is None:
        return [problem for output in PROJECT_OUTPUTS for problem in output.write(project, issues, dist)]
    jobs = [early.get(index) or pool.submit(output.write, project, issues, dist) for index, output in enumerate(PROJECT_OUTPUTS)]
    return [problem for job in jobs for problem in job.result()]


def _render_all(project: Project, issues: list[Issue], dist: Path, pool: ProcessPoolExecutor | None):
    """Render each issue's outputs, on every core when there is a pool."""
    if pool is None:
        return [(issue, _render_one(project, issue, dist)) for issue in issues]
    chunks = max(1, len(issues) // (16 * (os.cpu_count() or 1)))  # small chunks keep both cores busy to the end
    problems = pool.map(_render_one, [project] * len(issues), issues, [dist] * len(issues), chunksize=chunks)
    return list(zip(issues, problems))


def _render_one(project: Project, issue: Issue, dist: Path) -> list[Problem]:
    problems: list[Problem] = []
    blocks = IssueBlocks(project.settings, issue)  # each Markdown block converted once, for all outputs
    for output in ISSUE_OUTPUTS:
        problems.extend(output.write(project, issue, dist, blocks))
        if any(problem.is_error for problem in problems):
            break
    return problems


# --- the email of each issue -------------------------------------------------------------------


def write_email(project: Project, issue: Issue, dist: Path, blocks: IssueBlocks | None = None) -> list[Problem]:
    """The four files of an issue's email; the .eml is a preview with generic personal details."""
    settings = project.settings
    try:
        parts = render_email(settings, issue, project.root, blocks)
        preview = preview_message(sending_config(settings, project.root), letter_of(project, issue, parts))
    except RenderError as error:
        return [Problem(issue.path, 1, ERROR, str(error))]
    except SourceError as error:  # a bad [sending] setting
        return [Problem.from_error(error)]
    except NewsletterError as error:  # a sender address that cannot be written in a header
        return [Problem(settings.path or project.root, 1, ERROR, str(error))]
    html, text = personalize(parts, parts.greeting or FALLBACK_GREETING, settings.unsubscribe_url, profile_page(settings))
    base = dist / EMAIL_DIR / issue.slug
    write_atomic(base.with_suffix(".mjml"), parts.mjml)
    write_atomic(base.with_suffix(".html"), html)
    write_atomic(base.with_suffix(".txt"), text)
    write_atomic(base.with_suffix(".eml"), preview)
    return [clip_warning(issue.path, parts)] if parts.html_bytes > GMAIL_CLIP_BYTES else []


def letter_of(project: Project, issue: Issue, parts: EmailParts) -> Letter:
    """What sending needs of a rendered issue (the same for the preview and the real thing)."""
    return Letter(
        number=issue.number,
        date=publication_time(issue.date, project.settings.tz),
        subject=parts.subject,
        html=parts.html,
        text=parts.text,
        greeting=parts.greeting,  # typeset
    )


def email_files(dist: Path, slug: str) -> list[Path]:
    return [(dist / EMAIL_DIR / slug).with_suffix(suffix) for suffix in EMAIL_SUFFIXES]


def clip_warning(path: Path, parts: EmailParts, severity: str = WARNING) -> Problem:
    """A warning for the build (the files are still written); `check` and `send` make it an error."""
    size = parts.html_bytes / 1024
    return Problem(path, 1, severity, f"l’email fait {size:.0f} Ko de HTML : Gmail le coupera au-delà de 102 Ko")


ISSUE_OUTPUTS: list[IssueOutput] = [
    IssueOutput(write_email, email_files),
    IssueOutput(write_archive_entry, archive_entry_files),  # the web archive and feeds, step 1
]
PROJECT_OUTPUTS: list[ProjectOutput] = [
    ProjectOutput(write_archive),  # pages, index.html, feed.xml, feeds/<rubric>.xml
    ProjectOutput(write_calendars, from_models=True),  # calendars/agenda.ics, one .ics per programme and per session
]


# --- bookkeeping -------------------------------------------------------------------------------


def _context_digest(project: Project) -> str:
    settings_file = project.root / "newsletter.toml"
    settings = settings_file.read_bytes() if settings_file.exists() else b""
    return hashlib.sha256(code_version().encode() + settings + fingerprint(project.root).encode()).hexdigest()


def _outputs_exist(dist: Path, slug: str) -> bool:
    return all(path.exists() for output in ISSUE_OUTPUTS for path in output.files(dist, slug))


def _read_manifest(dist: Path) -> dict:
    try:
        data = json.loads((dist / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _read_models(dist: Path) -> dict[str, Issue]:
    """Parsed issues of the last build (our own file in dist/); anything unreadable means none."""
    try:
        data = pickle.loads((dist / MODEL_CACHE).read_bytes())
    except Exception:  # a cache from another version, truncated, or absent: parse again
        return {}
    return data if isinstance(data, dict) else {}


def _remove_stale(dist: Path, old: dict, new: dict) -> None:
    """Per-issue outputs of an issue file that is gone (or renumbered) go too."""
    kept = {entry["slug"] for entry in new.values()}
    for name, entry in old.items():
        if name not in new and entry.get("slug") not in kept:
            for output in ISSUE_OUTPUTS:
                for path in output.files(dist, entry["slug"]):
                    path.unlink(missing_ok=True)
