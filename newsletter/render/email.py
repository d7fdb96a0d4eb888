"""Issue → MJML (Jinja2) → responsive HTML (MRML), plus the plain-text alternative.

Rendered once per issue; per-subscriber details are marks (see `personalize`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from newsletter.model.issue import Block, Issue
from newsletter.render import markdown as md
from newsletter.render.dates import french_date
from newsletter.render.fences import fence_handlers
from newsletter.render.personalize import GREETING_MARK, UNSUBSCRIBE_MARK
from newsletter.render.templates import environment
from newsletter.settings import Settings

GMAIL_CLIP_BYTES = 102 * 1024
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-ÖØ-Þ«“\"])")


class RenderError(Exception):
    """MRML refused the MJML (most often a broken custom template)."""


@dataclass(frozen=True)
class EmailParts:
    subject: str
    preheader: str
    mjml: str
    html: str
    text: str

    @property
    def html_bytes(self) -> int:
        return len(self.html.encode("utf-8"))


def subject_of(settings: Settings, issue: Issue) -> str:
    return issue.subject or f"{settings.name} n°{issue.number} – {issue.title}"


def preheader_of(issue: Issue) -> str:
    """The front matter's preheader, else the first sentence of the édito (or of the intro)."""
    if issue.preheader:
        return issue.preheader
    edito = issue.section("edito")
    for block in ((edito.body if edito else None), issue.intro):
        if block:
            first = md.inline_text(block.markdown.split("\n\n", 1)[0])
            sentence = _SENTENCE_END.split(first, maxsplit=1)[0]
            return sentence if len(sentence) <= 200 else sentence[:199].rsplit(" ", 1)[0] + "…"
    return issue.title


def render_email(settings: Settings, issue: Issue, root: Path | None = None) -> EmailParts:
    context = _context(settings, issue)
    env = environment(root)
    source = env.get_template("email.mjml").render(context)
    return EmailParts(
        subject=subject_of(settings, issue),
        preheader=context["preheader"],
        mjml=source,
        html=mjml_to_html(source),
        text=_normalise_text(env.get_template("email.txt").render(_text_context(settings, issue, context))),
    )


def mjml_to_html(source: str) -> str:
    from mjml import mjml2html

    try:
        return mjml2html(source)
    except Exception as error:  # MRML raises its own untyped errors
        raise RenderError(f"MJML invalide : {error}") from error


def _context(settings: Settings, issue: Issue) -> dict:
    handlers = fence_handlers(settings, issue, "email")
    return {
        "settings": settings,
        "issue": issue,
        "date_fr": french_date(issue.date, locale=settings.locale),
        "preheader": preheader_of(issue),
        "greeting": GREETING_MARK,
        "intro": _html(issue.intro, handlers),
        "sections": [
            {
                "key": section.rubric.key,
                "emoji": section.rubric.emoji,
                "title": section.rubric.title,
                "own_title": section.own_title,
                "tagline": section.rubric.tagline,
                "byline": _html(Block(section.byline, section.line), handlers, inline=True),
                "body": _html(section.body, handlers),
            }
            for section in issue.sections
        ],
        "signoff": _html(issue.signoff, handlers),
        "web_url": settings.issue_url(issue.slug),
        "unsubscribe_url": UNSUBSCRIBE_MARK,
    }


def _text_context(settings: Settings, issue: Issue, context: dict) -> dict:
    handlers = fence_handlers(settings, issue, "text")
    sections = []
    for section, data in zip(issue.sections, context["sections"]):
        heading = f"{section.rubric.label}" + (f" : {section.own_title}" if section.own_title else "")
        sections.append(
            {
                **data,
                "heading": heading,
                "rule": "=" * min(len(heading), 72),
                "byline": md.inline_text(section.byline) if section.byline else "",
                "tagline": md.to_text(section.rubric.tagline) if section.rubric.tagline else "",
                "body": md.to_text(section.body.markdown, handlers),
            }
        )
    return {
        **context,
        "intro": md.to_text(issue.intro.markdown, handlers),
        "sections": sections,
        "signoff": md.to_text(issue.signoff.markdown, handlers),
    }


def _html(block: Block, handlers: dict, inline: bool = False) -> str:
    from markupsafe import Markup

    if not block:
        return Markup("")
    rendered = md.to_email_html(block.markdown, handlers)
    if inline:
        rendered = re.sub(r"^<p[^>]*>|</p>$", "", rendered.strip())
    return Markup(rendered)


def _normalise_text(text: str) -> str:
    """At most one blank line in a row, and a final newline."""
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"
