"""The web archive's project-wide files: pages, index, style sheet, feeds and their archive pages.

Each file is a `Target`: its path in dist/, its key (a digest of what it shows: the web templates
and settings, the entries' digests, its neighbours' links) and how to render it. A target whose key
is the one recorded at the last build, and whose file is there, is not rendered; the others are
rendered one at a time and written at once, reading from dist/.archive/ only the entries they show.
When the build runs a process pool, the targets are rendered in two shares, a worker's and the
main process's: each walks every target for its key and renders every other one.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from newsletter.errors import Problem
from newsletter.fsutil import write_atomic
from newsletter.pipeline.issues import template_problem
from newsletter.pipeline.state import IssueRecord, digest, use_compiled_templates
from newsletter.project import Project
from newsletter.render import web
from newsletter.render.feed import FeedPage, paginate
from newsletter.render.templates import environment

WEB_TEMPLATES = ("web/base.html", "web/issue.html", "web/index.html")


@dataclass(frozen=True)
class Target:
    path: str  # relative to dist/
    key: str
    render: Callable[[], str | bytes]


def write_archive(
    project: Project,
    published: list[IssueRecord],
    dist: Path,
    context: str,
    recorded: dict[str, str],
    entry_of: Callable[[IssueRecord], web.ArchiveEntry],
    share: tuple[int, int] = (0, 1),
) -> tuple[dict[str, str] | None, list[Problem], int]:
    """Render and write the stale targets of `share` (its index, how many shares); (the key of every
    target, problems, how many rendered).

    On a broken page template, nothing is written and the keys are None: the last archive stays.
    The templates are compiled only when a target is stale (a build that changed nothing does not).
    """
    env = environment(project.root)
    # a feed page's entries at once (an entry holds its page's HTML: some tens of KB)
    load = lru_cache(maxsize=project.settings.feed_items + 4)(lambda name: entry_of(by_name[name]))
    by_name = {record.name: record for record in published}
    keys: dict[str, str] = {}
    rendered = 0
    try:
        for index, target in enumerate(targets(project, env, published, context, lambda record: load(record.name))):
            keys[target.path] = target.key
            mine = index % share[1] == share[0]
            if mine and (recorded.get(target.path) != target.key or not os.path.isfile(f"{dist}/{target.path}")):
                if not rendered:  # every template compiles before the first file is written
                    for name in WEB_TEMPLATES:
                        env.get_template(name)
                write_atomic(dist / target.path, target.render())
                rendered += 1
    except jinja2.TemplateError as error:
        return None, [template_problem(project, error)], rendered
    return keys, [], rendered


class UnreadableEntry(LookupError):
    """An entry of dist/.archive/ missing or damaged, met by a share that cannot make it again."""


def write_share(
    project: Project, published: list[IssueRecord], dist: Path, context: str, recorded: dict[str, str], share
) -> tuple[dict[str, str] | None, list[Problem], int] | None:
    """`write_archive` of one share in a worker process; None if an entry could not be read (the
    main process, which can make it again, then renders this share itself)."""
    from newsletter.pipeline.issues import read_entry

    def entry_of(record: IssueRecord) -> web.ArchiveEntry:
        entry = read_entry(dist, record.slug)
        if entry is None:
            raise UnreadableEntry(record.slug)
        return entry

    use_compiled_templates(project)
    try:
        return write_archive(project, published, dist, context, recorded, entry_of, share)
    except UnreadableEntry:
        return None


def targets(
    project: Project,
    env: jinja2.Environment,
    published: list[IssueRecord],
    context: str,
    entry: Callable[[IssueRecord], web.ArchiveEntry],
) -> Iterator[Target]:
    """Every file of the archive; `published` in any order."""
    settings = project.settings
    newest = sorted(published, key=lambda record: (record.date, record.number), reverse=True)
    cards = [record.card for record in newest if record.card is not None]  # every published record has one
    for index, record in enumerate(newest):
        newer = newest[index - 1] if index > 0 else None
        older = newest[index + 1] if index + 1 < len(newest) else None
        key = digest("page", context, record.entry_hash, *(_link(other) for other in (newer, older)))
        yield Target(
            web.page_path(record.slug),
            key,
            functools.partial(_render_page, env, settings, entry, record, newer, older),
        )
    yield Target(web.INDEX_FILE, digest("index", context, repr(cards)), lambda: web.render_index(env, settings, cards))
    yield Target(web.STYLE_FILE, digest("style", context), lambda: web.render_style(env))
    oldest = newest[::-1]
    position = {record.name: index for index, record in enumerate(oldest)}
    whole = lambda page, records: web.issue_feed(env, settings, [entry(r) for r in records[::-1]], page)  # noqa: E731
    feeds = list(_feed_targets(context, oldest, None, whole, settings.feed_items))
    for rubric in settings.rubrics:
        having = [record for record in oldest if record.card and rubric.key in record.card.rubrics]

        def render(page: FeedPage, records: list[IssueRecord], rubric=rubric) -> bytes:
            items = [(e, s) for e in (entry(r) for r in records[::-1]) for s in e.sections if s["key"] == rubric.key]
            return web.rubric_feed(settings, rubric, items, page)

        feeds += _feed_targets(context, having, rubric.key, render, settings.feed_items)
    # Feed pages in the order of their newest issue: the pages of every feed that show the same
    # issues come one after the other, and each entry is read from disk about once.
    yield from (target for _, target in sorted(feeds, key=lambda item: position[item[0].name] if item[0] else -1))


def _render_page(
    env, settings, entry: Callable, record: IssueRecord, newer: IssueRecord | None, older: IssueRecord | None
) -> str:
    return web.render_page(env, settings, entry(record), newer.card if newer else None, older.card if older else None)


def _feed_targets(
    context: str, oldest: list[IssueRecord], rubric: str | None, render: Callable, size: int
) -> Iterator[tuple[IssueRecord | None, Target]]:
    """The archive pages and the current feed (`oldest`: the feed's issues, oldest first), each
    with its newest issue."""
    archives, bounds = paginate(len(oldest), size)
    for number, (start, end) in enumerate(bounds, 1):
        records = oldest[start:end]
        page = FeedPage(number, archives)
        key = digest("feed", context, repr((rubric, number, size)), *(r.entry_hash for r in records))
        yield records[-1], Target(web.feed_archive_path(number, rubric), key, functools.partial(render, page, records))
    current = oldest[archives * size :]
    page = FeedPage(None, archives)
    key = digest("feed", context, repr((rubric, None, archives)), *(r.entry_hash for r in current))
    yield (
        (current[-1] if current else None),
        Target(web.rubric_feed_path(rubric) if rubric else web.FEED_FILE, key, lambda: render(page, current)),
    )


def _link(record: IssueRecord | None) -> str:
    return repr((record.slug, record.number, record.title)) if record else ""


def remove_stale(dist: Path, before: dict[str, str], now: dict[str, str]) -> None:
    """Files of the last archive that this one no longer has (an issue gone or now a draft, a rubric
    removed, fewer archive pages)."""
    for relative in before.keys() - now.keys():
        path = dist / relative
        path.unlink(missing_ok=True)
        if path.parent != dist and path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()
