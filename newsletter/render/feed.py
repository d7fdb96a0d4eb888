"""RSS 2.0 feeds of the archive: the whole letter (`feed.xml`) and one per rubric (`feeds/<key>.xml`).

Each feed carries its latest items in full; older ones are on archive pages (RFC 5005, « Feed
Paging and Archiving »): fixed pages of `size` items, oldest first, linked by `prev-archive` and
`next-archive`, each pointing back to the feed with `current`. A page holds the same items forever,
so readers and caches may keep it forever.

Written by hand rather than through an XML library so that every byte is ours: the order of
elements and attributes never changes between builds, and the full HTML of an issue is escaped
text in `content:encoded` (never a CDATA section, so `]]>` inside it cannot end anything).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import format_datetime
from xml.sax.saxutils import quoteattr

from markupsafe import escape

from newsletter.render.sanitize import xml_safe

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"


@dataclass(frozen=True)
class FeedItem:
    title: str
    link: str
    published: dt.datetime  # timezone-aware
    summary: str  # plain text
    content_html: str  # absolute URLs only
    categories: tuple[str, ...] = ()
    updated: dt.datetime | None = None  # when a correction changed it (atom:updated); the guid stays

    @property
    def last_change(self) -> dt.datetime:
        return max(self.published, self.updated or self.published)


@dataclass(frozen=True)
class Channel:
    title: str
    link: str  # the web archive
    description: str
    self_url: str  # where this feed is published
    language: str = "fr"
    links: tuple[tuple[str, str], ...] = ()  # (rel, href) of RFC 5005: prev-archive, next-archive, current
    archive: bool = False  # an archive page (`<fh:archive/>`), not the current feed


@dataclass(frozen=True)
class FeedPage:
    """Which page of a feed: the current one (`number` None), or archive page `number` (1 = oldest)."""

    number: int | None
    archives: int  # how many archive pages the feed has


def paginate(count: int, size: int) -> tuple[int, list[tuple[int, int]]]:
    """(archive pages, the [start, end) of each, oldest first) for `count` items, oldest first.

    A page is archived once all of its `size` items are older than the latest `size`: the current
    feed then holds between `size` and 2 × `size` − 1 items, and every item is on exactly one page.
    """
    pages = max(0, (count - size) // size)
    return pages, [(index * size, (index + 1) * size) for index in range(pages)]


def rfc822(moment: dt.datetime) -> str:
    """« Thu, 25 Aug 2022 08:00:00 +0200 »: RFC 822 with a four-digit year, as RSS 2.0 asks."""
    if moment.tzinfo is None:
        raise ValueError("a feed date needs a time zone")
    return format_datetime(moment)


def render_feed(channel: Channel, items: list[FeedItem]) -> bytes:
    """The feed's XML document (UTF-8); `items` in the order given (newest first is the caller's job).

    `lastBuildDate` is the newest item's date (or the day a correction changed it), never the clock, so that the same issues give
    the same bytes; an empty feed has none. The document is made of small pieces encoded one by
    one: tens of megabytes of text holding emoji are never copied into one string.
    """
    history = f' xmlns:fh="{HISTORY_NS}"' if channel.archive else ""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n',
        f'<rss version="2.0" xmlns:atom="{ATOM_NS}" xmlns:content="{CONTENT_NS}"{history}>\n',
        "<channel>\n",
        *_element("title", channel.title),
        *_element("link", channel.link),
        *_element("description", channel.description),
        *_element("language", channel.language),
    ]
    if items:
        parts += _element("lastBuildDate", rfc822(max(item.last_change for item in items)))
    parts.append(f'<atom:link href={quoteattr(channel.self_url)} rel="self" type="application/rss+xml"/>\n')
    for rel, href in channel.links:
        parts.append(f'<atom:link href={quoteattr(href)} rel="{rel}" type="application/rss+xml"/>\n')
    if channel.archive:
        parts.append("<fh:archive/>\n")
    for item in items:
        parts += _item(item)
    parts.append("</channel>\n</rss>\n")
    return b"".join(part.encode("utf-8") for part in parts)


def _item(item: FeedItem) -> list[str]:
    parts = [
        "<item>\n",
        *_element("title", item.title),
        *_element("link", item.link),
        *_element("guid", item.link, ' isPermaLink="true"'),
        *_element("pubDate", rfc822(item.published)),
        *(_element("atom:updated", item.updated.isoformat()) if item.updated else ()),
        *_element("description", item.summary),
        *_html("content:encoded", item.content_html),
    ]
    for category in item.categories:
        parts += _element("category", category)
    parts.append("</item>\n")
    return parts


def _element(name: str, text: str, attributes: str = "") -> tuple[str, str, str]:
    """Plain text, with `&` `<` `>` as hexadecimal references, as the RSS Advisory Board's profile
    asks, so that no reader can take the text for HTML."""
    return f"<{name}{attributes}>", xml_safe(text).translate(_PLAIN), f"</{name}>\n"


def _html(name: str, html: str) -> tuple[str, str, str]:
    """HTML as escaped character data (markupsafe's C escaper: much faster on large text)."""
    return f"<{name}>", escape(xml_safe(html)), f"</{name}>\n"  # a Markup is a str: no copy


_PLAIN = str.maketrans({"&": "&#x26;", "<": "&#x3C;", ">": "&#x3E;"})
