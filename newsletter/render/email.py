"""Issue → MJML (Jinja2) → responsive HTML (MRML), plus the plain-text alternative.

Rendered once per issue; per-subscriber details are marks (see `personalize`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from newsletter.model.issue import Block, Issue
from newsletter.render import markdown as md
from newsletter.render.blocks import IssueBlocks
from newsletter.render.dates import french_date
from newsletter.render.personalize import GREETING_MARK, PROFILE_MARK, UNSUBSCRIBE_MARK
from newsletter.render.templates import environment
from newsletter.render.typography import Typography, typeset_issue, typeset_settings
from newsletter.settings import Settings

GMAIL_CLIP_BYTES = 102 * 1024
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-ÖØ-Þ«“\"])")
_TEXT_RULE_WIDTH = 72


class RenderError(Exception):
    """MRML refused the MJML (most often a broken custom template)."""


@dataclass(frozen=True)
class EmailParts:
    subject: str
    preheader: str
    mjml: str
    html: str
    text: str
    greeting: str = ""  # the issue's own greeting, typeset, for the subscribers who have no name

    @property
    def html_bytes(self) -> int:
        return len(self.html.encode("utf-8"))


def subject_of(settings: Settings, issue: Issue) -> str:
    return issue.subject or f"{settings.name} n°{issue.number} – {issue.title}"


@lru_cache(maxsize=16)
def preheader_of(issue: Issue, typography: Typography | None = None) -> str:
    """The front matter's preheader, else the first sentence of the édito (or of the intro).

    Kept for the issue's other outputs: the email and the web archive both show it."""
    if issue.preheader:
        return issue.preheader
    edito = issue.section("edito")
    for block in ((edito.body if edito else None), issue.intro):
        if block:
            first = md.inline_text(block.markdown.split("\n\n", 1)[0], typography)
            sentence = _SENTENCE_END.split(first, maxsplit=1)[0]
            return sentence if len(sentence) <= 200 else sentence[:199].rsplit(" ", 1)[0] + "…"
    return issue.title


def render_email(
    settings: Settings, issue: Issue, root: Path | None = None, blocks: IssueBlocks | None = None
) -> EmailParts:
    """The email of `issue`, with the templates of the project `root`; `blocks` shares conversions.

    Every text a reader reads is typeset: the model's fields here, the Markdown blocks in `blocks`."""
    settings, issue = typeset_settings(settings), typeset_issue(settings, issue)
    html_context, text_context = _contexts(settings, issue, blocks or IssueBlocks(settings, issue))
    env = environment(root)
    source = env.get_template("email.mjml").render(html_context)
    return EmailParts(
        subject=subject_of(settings, issue),
        preheader=html_context["preheader"],
        mjml=source,
        html=mjml_to_html(source),
        text=_normalise_text(env.get_template("email.txt").render(text_context)),
        greeting=issue.greeting,
    )


def mjml_to_html(source: str) -> str:
    from mjml import mjml2html

    try:
        return mjml2html(source).rstrip("\n") + "\n"
    except Exception as error:  # MRML raises its own untyped errors
        raise RenderError(f"MJML invalide : {error}") from error


def _contexts(settings: Settings, issue: Issue, blocks: IssueBlocks) -> tuple[dict, dict]:
    """The template contexts of the HTML and of the text, from one Markdown pass per block."""

    def both(block: Block) -> tuple[Markup, str]:
        page, text = blocks.convert(block)
        return Markup(page), text

    common = {
        "settings": settings,
        "issue": issue,
        "date_fr": french_date(issue.date, locale=settings.locale),
        "preheader": preheader_of(issue, blocks.typography),
        "greeting": GREETING_MARK,
        "web_url": settings.issue_url(issue.slug),
        "unsubscribe_url": UNSUBSCRIBE_MARK,
        "profile_url": PROFILE_MARK if settings.service_url else "",
    }
    intro, signoff = both(issue.intro), both(issue.signoff)
    html_sections, text_sections = [], []
    for section in issue.sections:
        body = both(section.body)
        byline = both(Block(section.byline, section.line))
        rubric = section.rubric
        shared = {"key": rubric.key, "emoji": rubric.emoji, "title": rubric.title, "own_title": section.own_title}
        html_sections.append({**shared, "tagline": rubric.tagline, "byline": _unwrap(byline[0]), "body": body[0]})
        heading = blocks.typography.text(rubric.label + (f" : {section.own_title}" if section.own_title else ""))
        text_sections.append(
            {
                **shared,
                "heading": heading,
                "rule": "=" * min(len(heading), _TEXT_RULE_WIDTH),
                "tagline": rubric.tagline,
                "byline": byline[1],
                "body": body[1],
            }
        )
    html_context = {**common, "intro": intro[0], "sections": html_sections, "signoff": signoff[0]}
    text_context = {**common, "intro": intro[1], "sections": text_sections, "signoff": signoff[1]}
    return html_context, text_context


def _unwrap(paragraph: Markup) -> Markup:
    """A one-paragraph rendering without its <p>, for a line that the template wraps itself."""
    return Markup(re.sub(r"^<p[^>]*>|</p>$", "", str(paragraph).strip()))


def _normalise_text(text: str) -> str:
    """At most one blank line in a row, and a final newline."""
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"
