"""The web archive and the feeds: one page per published issue, an index, `feed.xml`, `feeds/<rubric>.xml`.

Pure functions, in two steps, so that a build with one new issue does not convert a thousand
issues' Markdown again (`newsletter.pipeline.archive` decides what to render and writes it):

1. per issue: its Markdown → sanitised HTML with absolute URLs, an `ArchiveEntry`; its `EntryCard`
   is the little the index and the neighbours' pages need of it;
2. per output: entries → a page (Jinja2 templates `web/*.html`, which a project may override), the
   index (from cards), a feed page (the latest issues in full, or one archive page of RFC 5005).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2

from newsletter.model.issue import Block, Issue
from newsletter.model.rubric import Rubric
from newsletter.render import calendar_links
from newsletter.render.blocks import IssueBlocks
from newsletter.render.dates import french_date, publication_time
from newsletter.render.email import preheader_of
from newsletter.render.feed import Channel, FeedItem, FeedPage, render_feed
from newsletter.render.fences import when_text
from newsletter.render.sanitize import clean_html, shorten, text_of
from newsletter.render.templates import environment
from newsletter.render.typography import Typography, typeset_issue, typeset_settings
from newsletter.settings import Settings

ISSUES_DIR = "numeros"
FEEDS_DIR = "feeds"
FEED_FILE = "feed.xml"
FEED_ARCHIVE_DIR = "feeds/archive"  # RFC 5005 archive pages: <n>.xml of feed.xml, <rubric>/<n>.xml
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
    source_hash: str = ""
    updated: str = ""  # ISO 8601: the day of the last correction sent about its sessions, else its date
    # The whole issue as HTML (web/content.html): page body and feed item. Not stored: it is the
    # sections' HTML again, so `with_content` renders it when a page or a feed item shows it.
    content: str = field(default="", compare=False)

    @property
    def day(self) -> dt.date:
        return dt.date.fromisoformat(self.date)

    def to_json(self) -> str:
        # asdict() would deep-copy
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "content"}
        return json.dumps(fields, ensure_ascii=False, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ArchiveEntry:
        data = json.loads(text)
        data["sections"] = tuple(data["sections"])
        data["sessions"] = tuple(data.get("sessions", ()))
        return cls(**data)

    @property
    def card(self) -> EntryCard:
        rubrics = tuple(section["key"] for section in self.sections)
        return EntryCard(
            self.number, self.slug, self.date, self.date_fr, self.title, self.heading, self.url, self.summary, rubrics
        )


@dataclass(frozen=True, slots=True)
class EntryCard:
    """What the index and the neighbouring pages show of an issue: a few lines, kept in memory."""

    number: int
    slug: str
    date: str
    date_fr: str
    title: str
    heading: str
    url: str
    summary: str
    rubrics: tuple[str, ...] = ()  # the keys of its sections, in order

    @property
    def day(self) -> dt.date:
        return dt.date.fromisoformat(self.date)


# --- step 1: one issue → its archive entry ------------------------------------------------------


def archive_entry(
    settings: Settings, issue: Issue, root: Path | None = None, blocks: IssueBlocks | None = None
) -> ArchiveEntry:
    """The entry, its rubrics rendered with the templates of the project `root` (web/section.html).

    `blocks` shares the Markdown conversions with the email; the sanitiser drops their inline styles.
    A section's `body` is for web/section.html only: the entry keeps each section's HTML once.
    """
    settings, issue = typeset_settings(settings), typeset_issue(settings, issue)
    page = settings.issue_url(issue.slug)
    blocks = blocks or IssueBlocks(settings, issue)

    def html(block: Block) -> str:
        return clean_html(blocks.convert(block)[0], settings.base_url, page) if block else ""

    sections: list[dict[str, Any]] = []
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
        updated=max((c.day for s in issue.sessions for c in s.corrections), default=issue.date).isoformat(),
    )
    env = environment(root)
    section_template = env.get_template("web/section.html")
    for fields in sections:
        fields["html"] = section_template.render(settings=settings, entry=entry, section=fields).strip()
        del fields["body"]
    return entry


def with_content(env: jinja2.Environment, settings: Settings, entry: ArchiveEntry) -> ArchiveEntry:
    """`entry` with its `content` rendered (web/content.html, from its sections' HTML)."""
    content = env.get_template("web/content.html").render(settings=typeset_settings(settings), entry=entry).strip()
    return replace(entry, content=content)


def session_links(settings: Settings, issue: Issue) -> list[dict[str, Any]]:
    """The issue's sessions for its page: each one's title, when, and its add-to-calendar links
    (the same as its card in the email; none for a cancelled session, « ANNULÉ – » before its title)."""
    found = []
    for session in issue.sessions:
        title = session.title
        links = [
            {
                "kind": kind,
                "label": calendar_links.LABELS.get(kind, kind),
                "url": url,
                "name": calendar_links.link_name(kind, title),
            }
            for kind, url in calendar_links.session_links(settings, session).items()
        ]
        if session.cancelled:
            title, links = f"ANNULÉ – {title}", []
        found.append({"title": title, "when": when_text(session, settings.locale), "links": links})
    return found


def _summary(fragment: str) -> str:
    """The start of a fragment's text; only its beginning is read, which is enough most times."""
    text = text_of(fragment[: SUMMARY_LENGTH * 8])
    if len(text) <= SUMMARY_LENGTH and len(fragment) > SUMMARY_LENGTH * 8:
        text = text_of(fragment)
    return shorten(text, SUMMARY_LENGTH)


def _unwrap(fragment: str) -> str:
    return re.sub(r"^<p>|</p>$", "", fragment.strip())


# --- step 2: entries → pages and feeds ---------------------------------------------------------


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


def entry_time(entry: ArchiveEntry | EntryCard, settings: Settings) -> dt.datetime:
    return publication_time(entry.day, settings.tz)


def entry_updated(entry: ArchiveEntry, settings: Settings) -> dt.datetime | None:
    """When a correction last changed the issue (its day at the publication hour), if one did."""
    if not entry.updated or entry.updated == entry.date:
        return None
    return publication_time(dt.date.fromisoformat(entry.updated), settings.tz)


def page_path(slug: str) -> str:
    return f"{ISSUES_DIR}/{slug}/{INDEX_FILE}"


def rubric_feed_path(key: str) -> str:
    return f"{FEEDS_DIR}/{key}.xml"


def feed_archive_path(number: int, rubric: str | None = None) -> str:
    """Archive page `number` (1 = the oldest issues) of feed.xml, or of a rubric's feed."""
    return f"{FEED_ARCHIVE_DIR}/{rubric}/{number}.xml" if rubric else f"{FEED_ARCHIVE_DIR}/{number}.xml"


def render_page(
    env: jinja2.Environment, settings: Settings, entry: ArchiveEntry, newer: EntryCard | None, older: EntryCard | None
) -> str:
    entry, settings = with_content(env, settings, entry), typeset_settings(settings)
    common = {"settings": settings, "site": Site(settings)}
    return env.get_template("web/issue.html").render(common, entry=entry, newer=newer, older=older, root="../../")


def render_index(env: jinja2.Environment, settings: Settings, cards: list[EntryCard]) -> str:
    """The index, from the cards newest first."""
    settings = typeset_settings(settings)
    return env.get_template("web/index.html").render(
        {"settings": settings, "site": Site(settings)}, entries=cards, root=""
    )


def render_style(env: jinja2.Environment) -> str:
    return env.loader.get_source(env, f"web/{STYLE_FILE}")[0]  # type: ignore[union-attr]


def issue_feed(env: jinja2.Environment, settings: Settings, entries: list[ArchiveEntry], page: FeedPage) -> bytes:
    """feed.xml, or one of its archive pages: `entries` newest first."""
    settings = typeset_settings(settings)
    site = Site(settings)
    channel = Channel(settings.name, site.home, settings.description, site.feed, settings.language)
    items = [_issue_item(settings, with_content(env, settings, entry)) for entry in entries]
    return render_feed(_paged(settings, channel, page, None), items)


def rubric_feed(settings: Settings, rubric: Rubric, items: list[tuple[ArchiveEntry, dict]], page: FeedPage) -> bytes:
    """A rubric's feed, or one of its archive pages: (entry, section) newest first."""
    typography = Typography.of(settings)
    settings = typeset_settings(settings)
    site = Site(settings)
    description = typography.text(
        f"La rubrique « {rubric.label} » de la lettre {settings.name}. {rubric.tagline}".strip()
    )
    channel = Channel(
        f"{settings.name} – {rubric.title}", site.home, description, site.rubric_feed(rubric.key), settings.language
    )
    return render_feed(
        _paged(settings, channel, page, rubric.key),
        [_section_item(settings, entry, section) for entry, section in items],
    )


def _paged(settings: Settings, channel: Channel, page: FeedPage, rubric: str | None) -> Channel:
    """The channel of the current feed (self, and its newest archive page) or of an archive page
    (self, current, and both neighbours: the next one is linked before it exists, so that a page
    never changes once written)."""
    url = lambda number: f"{settings.base_url}/{feed_archive_path(number, rubric)}"  # noqa: E731
    links: tuple[tuple[str, str], ...]
    if page.number is None:
        links = (("prev-archive", url(page.archives)),) if page.archives else ()
        return replace(channel, links=links)
    links = (("current", channel.self_url),)
    if page.number > 1:
        links += (("prev-archive", url(page.number - 1)),)
    links += (("next-archive", url(page.number + 1)),)
    return replace(channel, self_url=url(page.number), links=links, archive=True)


def _issue_item(settings: Settings, entry: ArchiveEntry) -> FeedItem:
    titles = {rubric.key: rubric.title for rubric in settings.rubrics}
    return FeedItem(
        title=entry.heading,
        link=entry.url,
        published=entry_time(entry, settings),
        updated=entry_updated(entry, settings),
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
        updated=entry_updated(entry, settings),
        summary=section["summary"] or entry.summary,
        content_html=section["html"],
        categories=(section["title"],),
    )
