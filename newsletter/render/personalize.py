"""Per-subscriber details filled into an email rendered once.

MJML is rendered once per issue; the greeting and the unsubscribe link are marks in the rendered
HTML and text, replaced by plain string substitution for each subscriber (cheap for 100,000).
"""

from __future__ import annotations

import html
from typing import Protocol

GREETING_MARK = "%%GREETING%%"
UNSUBSCRIBE_MARK = "%%UNSUBSCRIBE_URL%%"
PROFILE_MARK = "%%PROFILE_URL%%"  # the subscriber's personal page, present once `[serve] public_url` is set
ACTION_MARK = "%%ACTION_URL%%"  # the link of a service message (a sign-up's confirmation)
FALLBACK_GREETING = "Bonjour,"  # for an issue that opens with no greeting of its own


class _Parts(Protocol):
    @property
    def html(self) -> str: ...

    @property
    def text(self) -> str: ...


def personalize(
    parts: _Parts, greeting: str, unsubscribe_url: str, profile_url: str = "", action_url: str = ""
) -> tuple[str, str]:
    """Return (html, text) with the marks replaced; the HTML side is escaped."""
    page = (
        parts.html.replace(GREETING_MARK, html.escape(greeting, quote=False))
        .replace(UNSUBSCRIBE_MARK, html.escape(unsubscribe_url, quote=True))
        .replace(PROFILE_MARK, html.escape(profile_url, quote=True))
        .replace(ACTION_MARK, html.escape(action_url, quote=True))
    )
    text = parts.text.replace(GREETING_MARK, greeting).replace(UNSUBSCRIBE_MARK, unsubscribe_url)
    return page, text.replace(PROFILE_MARK, profile_url).replace(ACTION_MARK, action_url)
