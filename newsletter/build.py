"""`newsletter build`: the whole pipeline, as straight-line code.

load settings → read and parse every issue → render what changed → write atomically → record.

Incremental: `dist/.build-manifest.json` remembers, for each issue file, the digest of its bytes
together with the settings and templates it was rendered with. An issue whose digest is unchanged
and whose outputs are all present is neither parsed nor rendered again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from email.headerregistry import Address
from pathlib import Path

from newsletter import __version__
from newsletter.errors import WARNING, Problem
from newsletter.fsutil import write_atomic
from newsletter.model.issue import Issue
from newsletter.parse.issue import parse_issue
from newsletter.project import Project, flag_duplicate_numbers
from newsletter.render import eml
from newsletter.render.email import GMAIL_CLIP_BYTES, EmailParts, RenderError, render_email
from newsletter.render.personalize import personalize
from newsletter.render.templates import fingerprint

MANIFEST = ".build-manifest.json"
EMAIL_DIR = "email"
EMAIL_SUFFIXES = (".mjml", ".html", ".txt", ".eml")
PREVIEW_GREETING = "Bonjour,"


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(problem.is_error for problem in self.problems)


def build(project: Project, dist: Path, force: bool = False) -> BuildReport:
    report = BuildReport()
    manifest = _read_manifest(dist)
    context = _context_digest(project)
    sources = {path: path.read_bytes() for path in project.issue_paths()}
    digests = {path: hashlib.sha256(context.encode() + data).hexdigest() for path, data in sources.items()}

    fresh, numbers, to_parse = {}, [], []
    for path in sources:
        entry = manifest.get(path.name)
        if not force and entry and entry["digest"] == digests[path] and _outputs_exist(dist, entry["slug"]):
            fresh[path.name] = entry
            numbers.append((path, entry["number"]))
        else:
            to_parse.append(path)

    parsed = [parse_issue(path, project.settings) for path in to_parse]
    # Unchanged issues keep their numbers; a changed issue that takes one of them is the one in error.
    numbers += [(p.path, p.issue.number) for p in parsed if p.issue]
    flag_duplicate_numbers(numbers, parsed)

    new_manifest = dict(fresh)
    report.unchanged = sorted(entry["slug"] for entry in fresh.values())
    for item in parsed:
        report.problems.extend(item.problems)
        if item.errors or item.issue is None:
            continue
        issue = item.issue
        try:
            parts = render_email(project.settings, issue, project.root)
        except RenderError as error:
            report.problems.append(Problem(issue.path, 1, "erreur", str(error)))
            continue
        if parts.html_bytes > GMAIL_CLIP_BYTES:
            report.problems.append(clip_warning(issue.path, parts))
        write_email(project, issue, parts, dist)
        report.built.append(issue.slug)
        new_manifest[issue.path.name] = {"digest": digests[issue.path], "slug": issue.slug, "number": issue.number}

    _remove_stale(dist, manifest, new_manifest)
    write_atomic(dist / MANIFEST, json.dumps(new_manifest, indent=1, sort_keys=True) + "\n")
    return report


def write_email(project: Project, issue: Issue, parts: EmailParts, dist: Path) -> None:
    """The four files of an issue's email; the .eml is a preview with generic personal details."""
    settings = project.settings
    html, text = personalize(parts, issue.greeting or PREVIEW_GREETING, settings.unsubscribe_url)
    sender = Address(settings.sender_name, addr_spec=settings.sender_address)
    message = eml.compose(
        subject=parts.subject,
        sender=sender,
        to=sender,
        reply_to=Address(addr_spec=settings.reply_to) if settings.reply_to else None,
        html=html,
        text=text,
        date=publication_time(issue, settings.tz),
        message_id=f"<{issue.slug}.preview@{sender.domain}>",
    )
    base = dist / EMAIL_DIR / issue.slug
    write_atomic(base.with_suffix(".mjml"), parts.mjml)
    write_atomic(base.with_suffix(".html"), html)
    write_atomic(base.with_suffix(".txt"), text)
    write_atomic(base.with_suffix(".eml"), eml.to_bytes(message))


def publication_time(issue: Issue, tz: dt.tzinfo) -> dt.datetime:
    """The issue's date at 8 a.m. local time: a fixed instant, never the clock."""
    return dt.datetime.combine(issue.date, dt.time(8, 0), tzinfo=tz)


def clip_warning(path: Path, parts: EmailParts) -> Problem:
    size = parts.html_bytes / 1024
    return Problem(path, 1, WARNING, f"l’email fait {size:.0f} Ko de HTML : Gmail le coupera au-delà de 102 Ko")


def _context_digest(project: Project) -> str:
    settings_file = project.root / "newsletter.toml"
    settings = settings_file.read_bytes() if settings_file.exists() else b""
    return hashlib.sha256(__version__.encode() + settings + fingerprint(project.root).encode()).hexdigest()


def _outputs_exist(dist: Path, slug: str) -> bool:
    base = dist / EMAIL_DIR / slug
    return all(base.with_suffix(suffix).exists() for suffix in EMAIL_SUFFIXES)


def _read_manifest(dist: Path) -> dict:
    try:
        data = json.loads((dist / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remove_stale(dist: Path, old: dict, new: dict) -> None:
    """Outputs of an issue file that is gone (or renumbered) go too."""
    kept = {entry["slug"] for entry in new.values()}
    for name, entry in old.items():
        if name not in new and entry.get("slug") not in kept:
            for suffix in EMAIL_SUFFIXES:
                (dist / EMAIL_DIR / entry["slug"]).with_suffix(suffix).unlink(missing_ok=True)
