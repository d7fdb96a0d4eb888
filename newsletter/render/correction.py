"""A correction (« rectificatif ») of an issue → MJML (Jinja2) → HTML (MRML), and its plain text.

The same look as the issue's email (`email.mjml`), shorter: each change as before → after, then
the session's card as it is now (updated « Ajouter à mon agenda » links, or « annulé »). Rendered
once per correction; the greeting and the unsubscribe link are the same marks as the issue's
(`personalize`), filled per subscriber by `send/message.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from markupsafe import Markup

from newsletter.model.issue import Issue
from newsletter.render.dates import french_date
from newsletter.render.email import EmailParts, _normalise_text, mjml_to_html
from newsletter.render.fences import session_card
from newsletter.render.markdown import _HARD_BREAK as LINE_BREAK
from newsletter.render.personalize import GREETING_MARK, PROFILE_MARK, UNSUBSCRIBE_MARK
from newsletter.render.templates import environment
from newsletter.render.typography import Typography, typeset_issue, typeset_settings
from newsletter.settings import Settings


def correction_subject(issue: Issue) -> str:
    return f"Rectificatif – n°{issue.number} : {issue.title}"


def render_correction(settings: Settings, issue: Issue, changes: Iterable, root: Path | None = None) -> EmailParts:
    """The email telling `changes` (`newsletter.corrections.Change`, each with its session) of `issue`;
    every text a reader reads typeset, as in the issue's email."""
    settings, issue, typography = typeset_settings(settings), typeset_issue(settings, issue), Typography.of(settings)
    items = []
    for change in changes:
        # the card as it is now; the changes listed above it are the news, not its past notes
        html, text = session_card(settings, dataclasses.replace(change.session, corrections=()))
        items.append(
            {
                "title": typography.text(change.title),
                "lines": [typography.text(line) for line in change.lines],
                "card": Markup(html),
                "card_text": text.replace(LINE_BREAK, "\n"),
                "cancelled": change.session.cancelled,
            }
        )
    first = items[0]
    preheader = f"{first['title']} : {' ; '.join(first['lines'])}"
    context = {
        "settings": settings,
        "issue": issue,
        "date_fr": french_date(issue.date, locale=settings.locale),
        "preheader": preheader,
        "greeting": GREETING_MARK,
        "web_url": settings.issue_url(issue.slug),
        "unsubscribe_url": UNSUBSCRIBE_MARK,
        "profile_url": PROFILE_MARK if settings.service_url else "",
        "changes": items,
    }
    env = environment(root)
    source = env.get_template("rectificatif.mjml").render(context)
    return EmailParts(
        subject=typography.text(correction_subject(issue)),
        preheader=preheader,
        mjml=source,
        html=mjml_to_html(source),
        text=_normalise_text(env.get_template("rectificatif.txt").render(context)),
        greeting=issue.greeting,
    )
