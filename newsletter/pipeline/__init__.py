"""The pipeline: the one package that reads sources through `parse/`, decides what is stale, runs
the renderers of `render/` and writes dist/ atomically, with its caches.

    state.py      what the last build knew (per issue a small record) and the keys of staleness
    issues.py     one issue: parsed once, its stale outputs rendered once (email, archive entry, notes)
    emails.py     the email files of an issue
    archive.py    the web archive's pages, index, feeds and feed archives
    calendars.py  the agenda and the .ics files, and calendars/published.json
    build.py      `build()` and `check()`, as the stages
"""

from newsletter.pipeline.build import BuildReport, IssueView, build, check

__all__ = ["BuildReport", "IssueView", "build", "check"]
