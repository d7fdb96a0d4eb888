"""The web archive and the feeds: one page per published issue, an index, `feed.xml`, `feeds/<rubric>.xml`.

Two steps, so that a build with one new issue does not convert a thousand issues' Markdown again:

1. per issue (an `IssueOutput`, run only for issues that changed): its Markdown → sanitised HTML
   with absolute URLs, kept as an *archive entry* in `dist/.archive/<slug>.json`;
2. per project (a `ProjectOutput`, run at each build with every published issue): the entries →
   pages (Jinja2 templates `web/*.html`, which a project may override), index and feeds. Every
   output is rendered in memory before any is written; when nothing that they depend on changed
   since the last build, nothing is rendered at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import jinja2

from newsletter import code_version
from newsletter.errors import ERROR, Problem
from newsletter.fsutil import write_atomic
from newsletter.model.issue import Block, Issue
from newsletter.project import Project
from newsletter.render.dates import french_date, publication_time
from newsletter.render.email import preheader_of
from newsletter.render.feed import Channel, FeedItem, render_feed
from newsletter.render.blocks import IssueBlocks
from newsletter.render.sanitize import clean_html, shorten, text_of
from newsletter.render.templates import environment, fingerprint
from newsletter.render.typography import Typography, typeset_issue, typeset_settings
from newsletter.settings import Settings

ENTRY_DIR = ".archive"
STATE_FILE = "state.json"
ISSUES_DIR = "numeros"
FEEDS_DIR = "feeds"
FEED_FILE = "feed.xml"
INDEX_FILE = "index.html"
STYLE_FILE = "style.css"
AGENDA_PATH = "calendars/agenda.ics"
SUMMARY_LENGTH = 280


@dataclass(frozen=True)
class ArchiveEntry:
    """What the archive needs of one issue, rendered once: HTML is sanitised, URLs absolute."""

    number: int
    slug: str
    date: str  # ISO 8601
    date_fr: str
    title: str
    heading: str  # « n°3 – Le titre »
    url: str
    summary: str
    greeting: str
    intro: str
    sections: tuple[dict[str, str], ...]
    signoff: str
    sessions: tuple[dict[str, Any], ...] = ()
    content: str = ""  # the whole issue as HTML (template web/content.html): page body and feed item
    source_hash: str = ""

    @property
    def day(self) -> dt.date:
        return dt.date.fromisoformat(self.date)

    def to_json(self) -> str:
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}  # asdict() would deep-copy
        return json.dumps(fields, ensure_ascii=False, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "ArchiveEntry":
        data = json.loads(text)
        data["sections"] = tuple(data["sections"])
        data["sessions"] = tuple(data.get("sessions", ()))
        return cls(**data)


# --- step 1: one issue → its archive entry ------------------------------------------------------


def archive_entry(
    settings: Settings, issue: Issue, root: Path | None = None, blocks: IssueBlocks | None = None
) -> ArchiveEntry:
    """The entry, its rubrics and whole content rendered with the templates of the project `root`.

    `blocks` shares the Markdown conversions with the email; the sanitiser drops their inline styles.
    """
    settings, issue = typeset_settings(settings), typeset_issue(settings, issue)
    page = settings.issue_url(issue.slug)
    blocks = blocks or IssueBlocks(settings, issue)

    def html(block: Block) -> str:
        return clean_html(blocks.convert(block)[0], settings.base_url, page) if block else ""

    sections = []
    for section in issue.sections:
        rubric = section.rubric
        body = html(section.body)
        sections.append(
            {
                "key": rubric.key,
                "emoji": rubric.emoji,
                "title": rubric.title,
                "own_title": section.own_title,
                "tagline": rubric.tagline,
                "byline": _unwrap(html(Block(section.byline, section.line))),
                "body": body,
                "summary": _summary(body),
            }
        )
    entry = ArchiveEntry(
        number=issue.number,
        slug=issue.slug,
        date=issue.date.isoformat(),
        date_fr=french_date(issue.date, locale=settings.locale),
        title=issue.title,
        heading=f"n°{issue.number} – {issue.title}",
        url=page,
        summary=shorten(preheader_of(issue, blocks.typography), SUMMARY_LENGTH),
        greeting=issue.greeting,
        intro=html(issue.intro),
        sections=tuple(sections),
        signoff=html(issue.signoff),
        sessions=tuple(session_links(settings, issue)),
        source_hash=issue.source_hash,
    )
    env = environment(root)
    section_template = env.get_template("web/section.html")
    for section in sections:
        section["html"] = section_template.render(settings=settings, entry=entry, section=section).strip()
    content = env.get_template("web/content.html").render(settings=settings, entry=entry).strip()
    return replace(entry, content=content)


def session_links(settings: Settings, issue: Issue) -> list[dict[str, Any]]:
    """The issue's sessions with their calendar links, once sessions exist in the model.

    Reads `issue.sessions` and `newsletter.render.calendar_links` if they are there, and gives
    nothing otherwise, so the archive works before and after the calendars land.
    """
    sessions = getattr(issue, "sessions", ()) or ()
    if not sessions:
        return []
    try:
        from newsletter.render import calendar_links  # type: ignore[attr-defined]
    except ImportError:
        calendar_links = None
    found = []
    for session in sessions:
        title = str(getattr(session, "title", ""))
        links = [{**link, "name": calendar_links.link_name(link["kind"], title)} for link in _links_of(calendar_links, settings, session)]
        if getattr(session, "cancelled", False):  # as on the email's card: nothing to add any more
            title, links = f"ANNULÉ – {title}", []
        found.append({"title": title, "when": _when(settings, session), "links": links})
    return found


def _links_of(module: Any, settings: Settings, session: Any) -> list[dict[str, str]]:
    """`calendar_links.session_links(settings, session)`: a mapping (or dataclass, or pairs) of
    kind → URL, e.g. {"ics": …, "google": …, "outlook": …}."""
    function = getattr(module, "session_links", None) or getattr(module, "links", None)
    if function is None:
        return []
    value = function(settings, session)
    if hasattr(value, "__dataclass_fields__"):
        value = asdict(value)
    pairs = value.items() if isinstance(value, dict) else value
    labels = {"ics": "Fichier .ics", "google": "Google Agenda", "outlook": "Outlook"}
    return [{"kind": str(kind), "label": labels.get(str(kind), str(kind)), "url": str(url)} for kind, url in pairs if url]


def _when(settings: Settings, session: Any) -> str:
    """« jeudi 7 avril 2022, 14h–16h », « jeudi 7 avril 2022 », or « du … au … » over several days."""
    start, end = getattr(session, "start", None), getattr(session, "end", None)
    if not isinstance(start, dt.date):
        return ""
    first = start.date() if isinstance(start, dt.datetime) else start
    day = french_date(first, weekday=True, locale=settings.locale)
    if isinstance(start, dt.datetime):
        if isinstance(end, dt.datetime) and end.date() != first and end > start:
            return f"du {day}, {_hour(start)} au {french_date(end.date(), weekday=True, locale=settings.locale)}, {_hour(end)}"
        hours = _hour(start)
        if isinstance(end, dt.datetime) and end > start:
            hours += f"–{_hour(end)}"
        return f"{day}, {hours}"
    if isinstance(end, dt.date) and not isinstance(end, dt.datetime) and end > start:
        return f"du {day} au {french_date(end, weekday=True, locale=settings.locale)}"
    return day


def _hour(moment: dt.datetime) -> str:
    return f"{moment.hour}h{moment.minute:02d}" if moment.minute else f"{moment.hour}h"


def _summary(fragment: str) -> str:
    """The start of a fragment's text; only its beginning is read, which is enough most times."""
    text = text_of(fragment[: SUMMARY_LENGTH * 8])
    if len(text) <= SUMMARY_LENGTH and len(fragment) > SUMMARY_LENGTH * 8:
        text = text_of(fragment)
    return shorten(text, SUMMARY_LENGTH)


def _unwrap(fragment: str) -> str:
    return re.sub(r"^<p>|</p>$", "", fragment.strip())


# --- step 2: every entry → pages and feeds ------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """The absolute addresses the pages and feeds point to."""

    settings: Settings

    @property
    def home(self) -> str:
        return self.settings.base_url + "/"

    @property
    def feed(self) -> str:
        return f"{self.settings.base_url}/{FEED_FILE}"

    def rubric_feed(self, key: str) -> str:
        return f"{self.settings.base_url}/{FEEDS_DIR}/{key}.xml"

    @property
    def agenda(self) -> str:
        return f"{self.settings.base_url}/{AGENDA_PATH}"

    @property
    def webcal(self) -> str:
        return re.sub(r"^https?://", "webcal://", self.agenda)


def entry_time(entry: ArchiveEntry, settings: Settings) -> dt.datetime:
    return publication_time(entry.day, settings.tz)


def render_archive(env: jinja2.Environment, settings: Settings, entries: list[ArchiveEntry]) -> dict[str, str]:
    """Every output of the archive, by path relative to dist/; `entries` newest first."""
    typography = Typography.of(settings)
    settings = typeset_settings(settings)
    site = Site(settings)
    common = {"settings": settings, "site": site}
    outputs: dict[str, str] = {}
    page = env.get_template("web/issue.html")
    for index, entry in enumerate(entries):
        newer = entries[index - 1] if index > 0 else None
        older = entries[index + 1] if index + 1 < len(entries) else None
        outputs[f"{ISSUES_DIR}/{entry.slug}/{INDEX_FILE}"] = page.render(
            common, entry=entry, newer=newer, older=older, root="../../"
        )
    outputs[INDEX_FILE] = env.get_template("web/index.html").render(common, entries=entries, root="")
    outputs[STYLE_FILE] = env.loader.get_source(env, f"web/{STYLE_FILE}")[0]  # type: ignore[union-attr]
    outputs[FEED_FILE] = render_feed(
        Channel(settings.name, site.home, settings.description, site.feed, settings.language),
        [_issue_item(settings, entry) for entry in entries],
    )
    for rubric in settings.rubrics:
        items = [
            _section_item(settings, entry, section)
            for entry in entries
            for section in entry.sections
            if section["key"] == rubric.key
        ]
        description = typography.text(f"La rubrique « {rubric.label} » de la lettre {settings.name}. {rubric.tagline}".strip())
        channel = Channel(
            f"{settings.name} – {rubric.title}", site.home, description, site.rubric_feed(rubric.key), settings.language
        )
        outputs[f"{FEEDS_DIR}/{rubric.key}.xml"] = render_feed(channel, items)
    return outputs


def _issue_item(settings: Settings, entry: ArchiveEntry) -> FeedItem:
    titles = {rubric.key: rubric.title for rubric in settings.rubrics}
    return FeedItem(
        title=entry.heading,
        link=entry.url,
        published=entry_time(entry, settings),
        summary=entry.summary,
        content_html=entry.content,
        categories=tuple(titles.get(section["key"], section["title"]) for section in entry.sections),
    )


def _section_item(settings: Settings, entry: ArchiveEntry, section: dict) -> FeedItem:
    heading = section["title"] + (f"\u00a0: {section['own_title']}" if section["own_title"] else "")
    return FeedItem(
        title=f"n°{entry.number} – {heading}",
        link=f"{entry.url}#{section['key']}",
        published=entry_time(entry, settings),
        summary=section["summary"] or entry.summary,
        content_html=section["html"],
        categories=(section["title"],),
    )


# --- writing into dist/ (called by newsletter.build) --------------------------------------------


def archive_entry_files(dist: Path, slug: str) -> list[Path]:
    return [dist / ENTRY_DIR / f"{slug}.json"]


def write_archive_entry(project: Project, issue: Issue, dist: Path, blocks: IssueBlocks | None = None) -> list[Problem]:
    """IssueOutput: the issue's archive entry (drafts too: publishing one then needs no render)."""
    try:
        entry = archive_entry(project.settings, issue, project.root, blocks)
    except jinja2.TemplateError as error:
        return [_template_problem(project, error)]
    write_atomic(archive_entry_files(dist, issue.slug)[0], entry.to_json())
    return []


def write_archive(project: Project, issues: list[Issue], dist: Path) -> list[Problem]:
    """ProjectOutput: pages, index and feeds of the published `issues`."""
    try:
        texts = [_entry_text(project, issue, dist) for issue in issues]
        state = _state(project, texts)
        if state == _read(dist / ENTRY_DIR / STATE_FILE) and _outputs_present(project.settings, issues, dist):
            return []
        entries = [_entry(project, issue, dist, text) for issue, text in zip(issues, texts)]
        entries.sort(key=lambda entry: (entry.date, entry.number), reverse=True)
        outputs = render_archive(environment(project.root), project.settings, entries)
    except jinja2.TemplateError as error:
        return [_template_problem(project, error)]
    for relative, text in outputs.items():
        write_atomic(dist / relative, text)
    _remove_stale(project.settings, dist, outputs)
    write_atomic(dist / ENTRY_DIR / STATE_FILE, state)
    return []


def _entry_text(project: Project, issue: Issue, dist: Path) -> str:
    """The entry written by step 1, or a fresh one when it is missing or not this issue's."""
    text = _read(archive_entry_files(dist, issue.slug)[0])
    if text and f'"source_hash": "{issue.source_hash}"' in text:
        return text
    return _fresh_entry(project, issue, dist).to_json()


def _entry(project: Project, issue: Issue, dist: Path, text: str) -> ArchiveEntry:
    try:
        return ArchiveEntry.from_json(text)
    except (ValueError, TypeError, KeyError):  # our own file, damaged: make it again
        return _fresh_entry(project, issue, dist)


def _fresh_entry(project: Project, issue: Issue, dist: Path) -> ArchiveEntry:
    entry = archive_entry(project.settings, issue, project.root)
    write_atomic(archive_entry_files(dist, issue.slug)[0], entry.to_json())
    return entry


def _state(project: Project, texts: list[str]) -> str:
    digest = hashlib.sha256()
    for part in (code_version(), repr(project.settings), fingerprint(project.root), *texts):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return json.dumps({"digest": digest.hexdigest()}) + "\n"


def _outputs_present(settings: Settings, issues: list[Issue], dist: Path) -> bool:
    paths = [FEED_FILE, INDEX_FILE, STYLE_FILE, *(f"{FEEDS_DIR}/{rubric.key}.xml" for rubric in settings.rubrics)]
    paths += [f"{ISSUES_DIR}/{issue.slug}/{INDEX_FILE}" for issue in issues]
    return all((dist / path).is_file() for path in paths)


def _remove_stale(settings: Settings, dist: Path, outputs: dict[str, str]) -> None:
    """Pages of issues no longer published (now a draft, or deleted) and feeds of removed rubrics."""
    for page in (dist / ISSUES_DIR).glob(f"*/{INDEX_FILE}"):
        relative = page.relative_to(dist).as_posix()
        if page.parent.name.isdigit() and relative not in outputs:
            page.unlink()
            if not any(page.parent.iterdir()):
                page.parent.rmdir()
    for feed in (dist / FEEDS_DIR).glob("*.xml"):
        if feed.relative_to(dist).as_posix() not in outputs:
            feed.unlink()


def _template_problem(project: Project, error: jinja2.TemplateError) -> Problem:
    name = getattr(error, "filename", None) or getattr(error, "name", None) or "web"
    path = Path(name) if Path(str(name)).is_absolute() else project.root / "templates" / str(name)
    return Problem(path, getattr(error, "lineno", None) or 1, ERROR, f"modèle de page invalide : {error.message or error}")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
