"""RSS 2.0 feeds of the archive: the whole letter (`feed.xml`) and one per rubric (`feeds/<key>.xml`).

Written by hand rather than through an XML library so that every byte is ours: the order of
elements and attributes never changes between builds, and the full HTML of an issue is escaped
text in `content:encoded` (never a CDATA section, so `]]>` inside it cannot end anything).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from newsletter.render.sanitize import xml_safe

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class FeedItem:
    title: str
    link: str
    published: dt.datetime  # timezone-aware
    summary: str  # plain text
    content_html: str  # absolute URLs only
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Channel:
    title: str
    link: str  # the web archive
    description: str
    self_url: str  # where this feed is published
    language: str = "fr"


def rfc822(moment: dt.datetime) -> str:
    """« Thu, 25 Aug 2022 08:00:00 +0200 »: RFC 822 with a four-digit year, as RSS 2.0 asks."""
    if moment.tzinfo is None:
        raise ValueError("a feed date needs a time zone")
    return format_datetime(moment)


def render_feed(channel: Channel, items: list[FeedItem]) -> str:
    """The feed's XML; `items` in the order given (newest first is the caller's job).

    `lastBuildDate` is the newest item's date, never the clock, so that the same issues give
    the same bytes; an empty feed has none.
    """
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<rss version="2.0" xmlns:atom="{ATOM_NS}" xmlns:content="{CONTENT_NS}">',
        "<channel>",
        _element("title", channel.title),
        _element("link", channel.link),
        _element("description", channel.description),
        _element("language", channel.language),
    ]
    if items:
        lines.append(_element("lastBuildDate", rfc822(max(item.published for item in items))))
    lines.append(f'<atom:link href={quoteattr(channel.self_url)} rel="self" type="application/rss+xml"/>')
    for item in items:
        lines.extend(_item(item))
    lines += ["</channel>", "</rss>", ""]
    return "\n".join(lines)


def _item(item: FeedItem) -> list[str]:
    lines = [
        "<item>",
        _element("title", item.title),
        _element("link", item.link),
        f'<guid isPermaLink="true">{_text(item.link)}</guid>',
        _element("pubDate", rfc822(item.published)),
        _element("description", item.summary),
        _element("content:encoded", item.content_html),
    ]
    lines += [_element("category", category) for category in item.categories]
    lines.append("</item>")
    return lines


def _element(name: str, text: str) -> str:
    return f"<{name}>{_text(text)}</{name}>"


def _text(text: str) -> str:
    return escape(xml_safe(text))
