"""Fenced blocks with a meaning of their own (```session) inside an issue's Markdown.

Until sessions have their model and cards, a session block shows as one plain line.
"""

from __future__ import annotations

import html
from typing import Callable

import yaml

from newsletter.model.issue import Issue
from newsletter.settings import Settings


def fence_handlers(settings: Settings, issue: Issue) -> dict[str, Callable[[str], tuple[str, str]]]:
    def session(source: str) -> tuple[str, str]:
        try:
            data = yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:
            data = None
        if not isinstance(data, dict):
            return "", ""
        line = f"📅 {data.get('title', '')} — {data.get('start', '')}"
        return f'<div style="margin:0 0 16px 0;font-weight:bold;">{html.escape(line)}</div>', line

    return {"session": session}
