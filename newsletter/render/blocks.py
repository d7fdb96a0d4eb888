"""Each Markdown block of an issue converted once, for every output that shows it.

The email needs each block as styled HTML and as plain text; the web archive and the feed need its
HTML too (their sanitiser takes the inline styles off). Converting Markdown is the costliest step
of a build, so one `IssueBlocks` per issue serves them all.
"""

from __future__ import annotations

from newsletter.model.issue import Block, Issue
from newsletter.render import markdown as md
from newsletter.render.fences import fence_handlers
from newsletter.render.typography import Typography
from newsletter.settings import Settings


class IssueBlocks:
    def __init__(self, settings: Settings, issue: Issue):
        self.settings = settings
        self.issue = issue
        self.typography = Typography.of(settings)
        self._done: dict[tuple[int, str], tuple[str, str]] = {}

    def convert(self, block: Block) -> tuple[str, str]:
        """(HTML with inline styles, plain text) of `block`; empty strings for an empty block."""
        if not block:
            return "", ""
        key = (block.line, block.markdown)
        if key not in self._done:
            handlers = fence_handlers(self.settings, self.issue, block)
            self._done[key] = md.to_email_html_and_text(block.markdown, handlers, self.typography)
        return self._done[key]
