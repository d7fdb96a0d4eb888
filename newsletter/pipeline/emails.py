"""The email of each issue in dist/email/: `<slug>.mjml`, `.html`, `.txt` and a `.eml` preview."""

from __future__ import annotations

from pathlib import Path

from newsletter.errors import ERROR, WARNING, NewsletterError, Problem, SourceError
from newsletter.fsutil import write_atomic
from newsletter.model.issue import Issue
from newsletter.project import Project
from newsletter.render.blocks import IssueBlocks
from newsletter.render.dates import publication_time
from newsletter.render.email import GMAIL_CLIP_BYTES, EmailParts, RenderError, render_email
from newsletter.render.personalize import FALLBACK_GREETING, personalize
from newsletter.send.config import profile_page, sending_config
from newsletter.send.message import Letter, preview_message

EMAIL_DIR = "email"
EMAIL_SUFFIXES = (".mjml", ".html", ".txt", ".eml")


def email_files(dist: Path, slug: str) -> list[Path]:
    return [(dist / EMAIL_DIR / slug).with_suffix(suffix) for suffix in EMAIL_SUFFIXES]


def email_outputs(
    project: Project, issue: Issue, blocks: IssueBlocks | None = None
) -> tuple[EmailParts | None, list[bytes | str], list[Problem]]:
    """(the parts, the bytes of each file of `email_files`, problems); no parts on an error."""
    settings = project.settings
    try:
        parts = render_email(settings, issue, project.root, blocks)
        preview = preview_message(sending_config(settings, project.root), letter_of(project, issue, parts))
    except RenderError as error:
        return None, [], [Problem(issue.path, 1, ERROR, str(error))]
    except SourceError as error:  # a bad [sending] setting
        return None, [], [Problem.from_error(error)]
    except NewsletterError as error:  # a sender address that cannot be written in a header
        return None, [], [Problem(settings.path or project.root, 1, ERROR, str(error))]
    html, text = personalize(
        parts, parts.greeting or FALLBACK_GREETING, settings.unsubscribe_url, profile_page(settings)
    )
    return parts, [parts.mjml, html, text, preview], []


def write_email(project: Project, issue: Issue, dist: Path, blocks: IssueBlocks | None = None) -> list[Problem]:
    """The four files of an issue's email; the .eml is a preview with generic personal details."""
    parts, files, problems = email_outputs(project, issue, blocks)
    if parts is None:
        return problems
    for path, data in zip(email_files(dist, issue.slug), files):
        write_atomic(path, data)
    return [clip_warning(issue.path, parts.html_bytes)] if parts.html_bytes > GMAIL_CLIP_BYTES else []


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


def clip_warning(path: Path, html_bytes: int, severity: str = WARNING) -> Problem:
    """A warning for the build (the files are still written); `check` and `send` make it an error."""
    return Problem(
        path, 1, severity, f"l’email fait {html_bytes / 1024:.0f} Ko de HTML : Gmail le coupera au-delà de 102 Ko"
    )


def clipped(path: Path, html_bytes: int, severity: str = WARNING) -> list[Problem]:
    return [clip_warning(path, html_bytes, severity)] if html_bytes > GMAIL_CLIP_BYTES else []
