"""`newsletter check`: every problem of every issue, without writing anything.

The same checks guard `newsletter send`: an issue with any error here is never sent to the list.
"""

from __future__ import annotations

from newsletter.build import clip_warning
from newsletter.calendars import check_calendars
from newsletter.desk.stubs import stub_problems
from newsletter.errors import ERROR, Problem, SourceError
from newsletter.parse.source import read_source
from newsletter.project import Project
from newsletter.render.email import GMAIL_CLIP_BYTES, RenderError, render_email


def check(project: Project, only: int | None = None) -> list[Problem]:
    """Every problem of every issue, or only those located in issue number `only`'s file."""
    problems: list[Problem] = []
    issues = []
    parsed_all = project.parse_all()  # all of them: a duplicate number is only seen among them all
    if only is not None:
        parsed_all = [parsed for parsed in parsed_all if project.is_issue(parsed, only)]
        if not parsed_all:
            raise SourceError(project.issues_dir, None, f"aucun numéro {only} dans ce dossier")
    for parsed in parsed_all:
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
        if parts.html_bytes > GMAIL_CLIP_BYTES:  # clipped, the email loses its unsubscribe link
            problems.append(clip_warning(parsed.path, parts, ERROR))
    calendar_problems = check_calendars(project, issues)  # calendars/, and the dates written in each issue
    if only is not None:
        paths = {parsed.path for parsed in parsed_all}
        calendar_problems = [problem for problem in calendar_problems if problem.path in paths]
    return sorted(problems + calendar_problems)
