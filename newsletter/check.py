"""`newsletter check`: every problem of every issue, without writing anything."""

from __future__ import annotations

from newsletter.build import clip_warning
from newsletter.calendars import check_calendars
from newsletter.desk.stubs import stub_problems
from newsletter.errors import ERROR, Problem
from newsletter.parse.source import read_source
from newsletter.project import Project
from newsletter.render.email import GMAIL_CLIP_BYTES, RenderError, render_email


def check(project: Project) -> list[Problem]:
    problems: list[Problem] = []
    issues = []
    for parsed in project.parse_all():
        problems.extend(parsed.problems)
        if parsed.issue is None or parsed.errors:
            continue
        issues.append(parsed.issue)
        problems.extend(stub_problems(parsed.issue, read_source(parsed.path)))
        try:
            parts = render_email(project.settings, parsed.issue, project.root)
        except RenderError as error:
            problems.append(Problem(parsed.path, 1, ERROR, str(error)))
            continue
        if parts.html_bytes > GMAIL_CLIP_BYTES:
            problems.append(clip_warning(parsed.path, parts))
    problems.extend(check_calendars(project, issues))  # calendars/, and the dates written in each issue
    return sorted(problems)
