"""HTML and text made safe for the email, the web archive, the feed and the `inspiration` command (nh3).

Markdown lets an issue carry raw HTML; on the way to the web and the feed it goes through nh3
(the Rust sanitiser ammonia): scripts, event handlers (`onerror=`), styles, frames and links to
anything but http(s), mailto and tel are removed. The same pass makes every link and image URL
absolute, because a feed reader has no page to resolve a relative one against. In the email
(`email_html`), a block that holds raw HTML goes through the same allow-list, its inline styles and
classes kept: the email's look is made of them.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import urlsplit

import nh3

from newsletter.render.typography import squeeze

SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
TAGS = frozenset(nh3.ALLOWED_TAGS - {"area", "map", "center"})
ATTRIBUTES = {
    **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
    "a": {"href", "hreflang", "title", "aria-label"},  # a session card's calendar links name their session
    "span": {*nh3.ALLOWED_ATTRIBUTES.get("span", ()), "aria-hidden"},  # emoji hidden from screen readers
    "img": {"src", "alt", "width", "height", "title"},
    "abbr": {"title"},
    "time": {"datetime"},
}

# Characters XML 1.0 forbids (C0 controls but tab, LF, CR; surrogates; U+FFFE/U+FFFF).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Control characters and the invisible marks that reorder text (bidi overrides), for plain text.
_TEXT_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]")


def absolute_url(value: str, site: str, page: str) -> str | None:
    """`value` resolved for a reader who has no page around it; None when it is not a safe URL.

    `#part` and `?query` belong to the issue's own page; `/path` and `path` to the site (its base
    URL may have a path of its own, e.g. `https://example.org/territoires-pilotes`); `//host/…`
    to https. Anything with a scheme keeps it, if the scheme is safe.
    """
    value = value.strip()
    if value.startswith("//"):
        value = "https:" + value
    try:
        scheme = urlsplit(value).scheme.lower()
    except ValueError:
        return None
    if scheme:
        return value if scheme in SAFE_SCHEMES else None
    if value.startswith(("#", "?")) or not value:
        return page + value
    return site.rstrip("/") + "/" + value.lstrip("/")


@lru_cache(maxsize=64)
def _cleaner(site: str, page: str) -> nh3.Cleaner:
    """One sanitiser per page, made once for all its blocks (making one costs most of a clean)."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute in URL_ATTRIBUTES:
            return absolute_url(value, site, page)
        return value

    return nh3.Cleaner(
        tags=set(TAGS), attributes=ATTRIBUTES, url_schemes=set(SAFE_SCHEMES), attribute_filter=keep, link_rel=None
    )


_TEXT_ONLY = nh3.Cleaner(tags=set(), attributes={}, strip_comments=True)
_EMAIL = nh3.Cleaner(
    tags=set(TAGS),
    attributes={tag: {*ATTRIBUTES.get(tag, ()), "style", "class"} for tag in TAGS},
    url_schemes=set(SAFE_SCHEMES),
    link_rel=None,
)
# An HTML tag or comment written in Markdown (an autolink, « <https://…> » or « <a@b.org> », is not one).
_RAW_HTML = re.compile(r"<(?:/?[A-Za-z][A-Za-z0-9-]*(?:\s|/?>)|!--)")


def text_only(fragment: str) -> str:
    """`fragment` without its tags, comments, and the content of `script` and `style` (entities
    kept as they are: the caller decodes them once)."""
    return _TEXT_ONLY.clean(fragment)


def has_raw_html(markdown: str) -> bool:
    return _RAW_HTML.search(markdown) is not None


def email_html(fragment: str) -> str:
    """The email's HTML of a block with raw HTML in it, through the web's allow-list but with its
    inline styles and classes: no script, event handler, `javascript:` link or MJML tag, and every
    element closed (an unclosed `<div>` would break the email's MJML)."""
    return _EMAIL.clean(xml_safe(fragment))


def clean_html(fragment: str, site: str, page: str) -> str:
    """Sanitised HTML with absolute URLs: `site` is the base URL, `page` the URL of the page."""
    return _cleaner(site, page).clean(xml_safe(fragment))


def text_of(fragment: str) -> str:
    """Plain text of an HTML (or text) fragment: no tag, no script content, no control character,
    entities decoded, whitespace collapsed to single spaces (no-break spaces kept: typography)."""
    stripped = _TEXT_ONLY.clean(fragment)
    return squeeze(_TEXT_CONTROLS.sub(" ", html.unescape(stripped)))


def xml_safe(text: str) -> str:
    """`text` without the characters that XML 1.0 cannot carry at all, even escaped."""
    return _XML_ILLEGAL.sub("", text)


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary, with « … » when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" \u00a0\u202f,;:.–-")
    return (cut or text[: limit - 1]) + "…"
