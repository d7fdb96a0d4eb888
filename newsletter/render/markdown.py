"""Markdown of the model → email HTML (styles inlined) or plain text, from one parse.

Gmail drops `<style>` blocks in many contexts, so the email's look for headings, quotes, lists and
links is set as `style=""` on each element while the Markdown is converted. The plain text is
written from the same element tree Python-Markdown builds, never scraped back from HTML.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from functools import cache

import markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from newsletter.render.sanitize import email_html, has_raw_html, text_only
from newsletter.render.typography import NBSP, NNBSP, NO_BREAK, Typography, glue, squeeze, unglue
from newsletter.text import fenced_blocks

FenceHandler = Callable[[str], tuple[str, str]]
"""Renders the content of a fenced block with a given info string (e.g. « session ») as (html, text)."""

_WRAP = "overflow-wrap:anywhere;word-break:break-word;"  # a long URL or word breaks rather than widen the email

EMAIL_STYLES: Mapping[str, str] = {
    "p": "margin:0 0 16px 0;",
    "h3": "margin:24px 0 12px 0;font-size:19px;line-height:1.3;font-weight:bold;color:#12355b;",
    "h4": "margin:20px 0 10px 0;font-size:17px;line-height:1.3;font-weight:bold;color:#12355b;",
    "blockquote": "margin:0 0 16px 0;padding:4px 0 4px 14px;border-left:4px solid #9bc5b5;"
    "color:#33434f;font-style:italic;",
    "ul": "margin:0 0 16px 0;padding:0 0 0 22px;",
    "ol": "margin:0 0 16px 0;padding:0 0 0 22px;",
    "li": "margin:0 0 8px 0;",
    "a": "color:#0b6e4f;text-decoration:underline;word-break:break-word;",
    # With images blocked, the alt text shows in the image's box: in the email's font, readable.
    "img": "display:block;max-width:100%;height:auto;border:0;margin:0 auto;"
    "font-family:Helvetica,Arial,sans-serif;font-size:15px;line-height:1.4;color:#33434f;font-style:italic;",
    "hr": "border:0;border-top:1px solid #d6dde3;margin:24px 0;",
    "code": "font-family:Menlo,Consolas,monospace;font-size:14px;background:#f1f4f6;padding:1px 4px;" + _WRAP,
    "pre": "margin:0 0 16px 0;padding:8px 12px;background:#f1f4f6;white-space:pre-wrap;"
    "font-family:Menlo,Consolas,monospace;font-size:14px;line-height:1.45;" + _WRAP,
    "pre code": "font-family:Menlo,Consolas,monospace;font-size:14px;"
    + _WRAP,  # a code block's code: no padding of its own
    "table": "border-collapse:collapse;width:100%;margin:0 0 16px 0;",
    "td": "border:1px solid #d6dde3;padding:6px;" + _WRAP,
    "th": "border:1px solid #d6dde3;padding:6px;text-align:left;" + _WRAP,
}

_STASHED_IMG = re.compile(r"<img\b(?![^>]*\bstyle=)([^>]*?)(\s*/?)>", re.I)
_STASHED_PRE = re.compile(r"^<pre\b(?![^>]*\bstyle=)([^>]*)>(?:<code\b(?![^>]*\bstyle=)([^>]*)>)?")

EMAIL_CLASSES: Mapping[str, str] = {
    "h3": "tp-heading",
    "h4": "tp-heading",
    "blockquote": "tp-quote",
    "a": "tp-link",
    "img": "tp-img",
    "hr": "tp-rule",
    "code": "tp-code",
    "pre": "tp-code",
    "td": "tp-cell",
    "th": "tp-cell",
}
"""Classes the email template's dark mode rules use to beat the inline colours (with !important)."""

_STASH = re.compile("\x02wzxhzdk:(\\d+)\x03")
_FIRST_TAG = re.compile(r"\s*<([a-zA-Z][a-zA-Z0-9]*)")
_HIDDEN_OPENING = re.compile(r"<(script|style)\b")  # raw HTML whose content is no text to read
_AMP = "\x02amp\x03"
_TEXT_WIDTH = 72
_HARD_BREAK = "\ue000"  # a <br>: kept through wrapping, unlike the soft line breaks of a paragraph


class _FencePreprocessor(Preprocessor):
    """Hands ```name blocks with a registered name to their handler, before fenced_code sees them."""

    md: _Converter

    handlers: Mapping[str, FenceHandler] = {}

    def run(self, lines: list[str]) -> list[str]:
        output: list[str] = []
        for index, block in fenced_blocks(lines):
            if block is None:
                output.append(lines[index])
                continue
            handler = self.handlers.get(block.opening.info) if block.opening.alone else None
            if handler is None or block.end is None:
                output.extend(lines[block.start : block.stop])
                continue
            rendered_html, rendered_text = handler("\n".join(block.body(lines)))
            placeholder = self.md.htmlStash.store(rendered_html)
            self.md.fence_texts[placeholder] = rendered_text
            output.extend(["", placeholder, ""])
        return output


class _ListIndentPreprocessor(Preprocessor):
    """Lists as editors type them → the Markdown Python-Markdown reads the same way.

    Python-Markdown nests only what is indented by its tab length (4), and starts a list only after
    a blank line; editors, GitHub and CommonMark nest a sub-item indented by 2 and let a list follow
    its paragraph's « : » line. Neither `tab_length=2` nor mdx_truly_sane_lists reads 3 or 4 spaces,
    or a paragraph inside an item, right; so the indentation is re-expressed here, by one rule: a line
    indented at least 2 spaces past an open item's marker belongs to that item. It runs after fenced
    code and raw HTML are stashed, so their lines are never touched, and outside a list nothing
    changes (an indented code block stays one).
    """

    _ITEM = re.compile(r"^( *)([-*+]|\d{1,9}\.)( +)(\S.*)$")
    _BREAK = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
    _STARTS_LIST = re.compile(r"^ {0,3}(?:[-*+]|1\.) +\S")  # what may interrupt a paragraph (CommonMark)

    def run(self, lines: list[str]) -> list[str]:
        self.open: list[tuple[int, int]] = []  # the items a line may belong to: (marker's indent, level)
        self.loose = False  # a blank line inside the list: its items are paragraphs
        self.depth = 0  # how deep the last line of the list was: an item's level, its text's level + 1
        output: list[str] = []
        previous = ""
        for line in lines:
            output.extend(self._line(line, previous))
            previous = line
        return output

    def _line(self, line: str, previous: str) -> list[str]:
        after_blank = not previous.strip()
        indent = len(line) - len(line.lstrip(" "))
        item = None if self._BREAK.match(line) else self._ITEM.match(line)
        if not line.strip():
            self.loose = self.loose or bool(self.open)
            return [line]
        if item and (self.open or indent <= 3):
            return self._item(item, indent, after_blank)
        if self.open and indent and (not after_blank or indent >= self.open[0][0] + 2):
            level = self._enclosing(indent) if after_blank else self.open[-1][1]
            self.depth = level + 1
            return [" " * (4 * (level + 1)) + line.lstrip(" ")]
        if after_blank:
            self.open, self.loose = [], False
        return [line]

    def _item(self, item: re.Match[str], indent: int, after_blank: bool) -> list[str]:
        starting, deeper = not self.open, self.depth
        level = self._enclosing(indent) + 1
        self.open.append((indent, level))
        self.depth = level
        written = " " * (4 * level) + item.group(2) + " " + item.group(4)
        # A blank line first: before a list that follows its paragraph, and before an item that
        # leaves a sub-list or a paragraph of a loose list (Python-Markdown would take it into them).
        if not after_blank and ((starting and self._STARTS_LIST.match(written)) or (self.loose and level < deeper)):
            return ["", written]
        return [written]

    def _enclosing(self, indent: int) -> int:
        """Closes the items a line at `indent` is not inside; the level of the one it is inside (-1: none)."""
        while self.open and indent < self.open[-1][0] + 2:
            self.open.pop()
        return self.open[-1][1] if self.open else -1


class _StyleTreeprocessor(Treeprocessor):
    def __init__(self, md: markdown.Markdown, styles: Mapping[str, str]):
        super().__init__(md)
        self.styles = styles

    def run(self, root: ET.Element) -> None:
        in_pre = {id(code) for pre in root.iter("pre") for code in pre.iter("code")}
        for element in root.iter():
            if self._holds_stashed_block(element):
                continue  # a styled <p> would no longer be unwrapped: <p><div>…</div></p>, invalid
            style = self.styles.get("pre code" if id(element) in in_pre else element.tag)
            if style:
                element.set("style", style + element.get("style", ""))
            if element.tag in EMAIL_CLASSES:
                element.set("class", " ".join(filter(None, (element.get("class"), EMAIL_CLASSES[element.tag]))))
            if element.tag == "img":
                _fluid_image(element)
        stash = self.md.htmlStash.rawHtmlBlocks
        for index, raw in enumerate(stash):  # fenced code was stashed as HTML before the tree existed
            if isinstance(raw, str):
                stash[index] = _STASHED_IMG.sub(self._styled_img, _STASHED_PRE.sub(self._styled_pre, raw, count=1))

    def _styled_img(self, match: re.Match[str]) -> str:
        """An <img> written in HTML gets the look of a Markdown one, so its alt text too when blocked."""
        width = re.search(r"\bwidth\s*=\s*[\"']?(\d+)", match.group(1), re.I)
        style = self.styles["img"] + _fluid(width.group(1) if width else "")
        return f'<img style="{style}"{_with_class(match.group(1), "img")}{match.group(2)}>'

    def _holds_stashed_block(self, element: ET.Element) -> bool:
        """A paragraph made only of a stashed block (a session card, fenced code): Python-Markdown
        puts the block in its place, but only while the paragraph is a bare <p>."""
        match = _STASH.fullmatch((element.text or "").strip()) if element.tag == "p" and not len(element) else None
        raw = self.md.htmlStash.rawHtmlBlocks[int(match.group(1))] if match else None
        tag = _FIRST_TAG.match(raw) if isinstance(raw, str) else None
        return bool(tag and self.md.is_block_level(tag.group(1)))

    def _styled_pre(self, match: re.Match[str]) -> str:
        code = (
            f'<code style="{self.styles["pre code"]}"{_with_class(match.group(2), "code")}>'
            if match.group(2) is not None
            else ""
        )
        return f'<pre style="{self.styles["pre"]}"{_with_class(match.group(1), "pre")}>{code}'


def _fluid_image(image: ET.Element) -> None:
    if not image.get("alt"):
        image.set("alt", "")
    if image.get("style"):
        image.set("style", image.get("style", "") + _fluid(image.get("width", "")))


def _fluid(width: str) -> str:
    """An image with a width keeps it in Outlook (the attribute) and shrinks on a phone (the style).

    `max-width:100%` alone does not do: a blocked image, drawn as its alt text, is as wide as its
    width attribute inside MJML's tables, and the email scrolls sideways.
    """
    width = width.strip().removesuffix("px")
    return f"width:100%;max-width:{width}px;" if width.isdigit() else ""


def _with_class(attributes: str, tag: str) -> str:
    """A stashed element's attributes with the email class of its tag added to any it has."""
    name = EMAIL_CLASSES[tag]
    if 'class="' in attributes:
        return attributes.replace('class="', f'class="{name} ', 1)
    return f'{attributes} class="{name}"'


class _TypographyTreeprocessor(Treeprocessor):
    """French typography on the text nodes, after the inline patterns made links and code of them:
    so both the HTML and the plain text get it, and no URL, code or attribute is touched."""

    typography: Typography | None = None

    def run(self, root: ET.Element) -> None:
        if self.typography is None or not self.typography.french:
            return
        for element in root.iter():
            element.text = self._entities(element.text)
            element.tail = self._entities(element.tail)
        self.typography.tree(root)

    def _entities(self, text: str | None) -> str | None:
        """`&nbsp;` typed by the editor: its placeholder becomes the space itself, so that the
        typography sees the space and does not add a second one."""
        if not text or "\x02" not in text:
            return text
        return _STASH.sub(self._space_entity, text)

    def _space_entity(self, match: re.Match[str]) -> str:
        raw = self.md.htmlStash.rawHtmlBlocks[int(match.group(1))]
        decoded = html.unescape(raw) if isinstance(raw, str) and raw.startswith("&") else ""
        return decoded if decoded and decoded in NO_BREAK else match.group(0)


class _CaptureTreeprocessor(Treeprocessor):
    md: _Converter

    def run(self, root: ET.Element) -> None:
        self.md.captured_tree = root


class _Extension(Extension):
    def __init__(self, styles: Mapping[str, str] | None):
        super().__init__()
        self.styles = styles

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        assert isinstance(md, _Converter)  # its processors share the converter's state
        md.fence_texts = {}
        md.fences = _FencePreprocessor(md)
        md.preprocessors.register(md.fences, "named_fences", 30)
        md.preprocessors.register(_ListIndentPreprocessor(md), "list_indent", 15)  # after fenced code and HTML
        md.typography = _TypographyTreeprocessor(md)
        # after attr_list (8): an image's { width="552" } is read as attributes, not typeset as text
        md.treeprocessors.register(md.typography, "typography", 7)
        if self.styles:
            md.treeprocessors.register(_StyleTreeprocessor(md, self.styles), "email_styles", 5)
        md.treeprocessors.register(_CaptureTreeprocessor(md), "capture", 1)


class _Converter(markdown.Markdown):
    """Python-Markdown with what our processors share during one conversion."""

    fence_texts: dict[str, str]  # placeholder of a fence's stashed HTML → the fence's text lines
    captured_tree: ET.Element  # the element tree, for the text writer
    fences: _FencePreprocessor
    typography: _TypographyTreeprocessor


@cache
def _instance(styled: bool) -> _Converter:
    """One converter per flavour, reused: building one costs more than converting a paragraph."""
    return _Converter(
        extensions=[_Extension(EMAIL_STYLES if styled else None), "attr_list", "fenced_code", "sane_lists", "tables"],
        output_format="xhtml",
    )


def _convert(
    source: str, handlers: Mapping[str, FenceHandler] | None, styled: bool, typography: Typography | None = None
) -> tuple[_Converter, str]:
    md = _instance(styled)
    md.reset()
    md.fence_texts = {}
    md.captured_tree = ET.Element("div")  # Python-Markdown skips the tree processors for a blank source
    md.fences.handlers = handlers or {}
    md.typography.typography = typography
    return md, md.convert(source)


def to_html(
    source: str, handlers: Mapping[str, FenceHandler] | None = None, typography: Typography | None = None
) -> str:
    """Plain HTML (no inline styles), for pages that have a style sheet."""
    return _convert(source, handlers, styled=False, typography=typography)[1]


def to_text(
    source: str,
    handlers: Mapping[str, FenceHandler] | None = None,
    width: int = _TEXT_WIDTH,
    typography: Typography | None = None,
) -> str:
    """Plain text: paragraphs wrapped, lists and quotes marked, links written out in full."""
    md, _ = _convert(source, handlers, styled=False, typography=typography)
    return _TextWriter(md, width).blocks(md.captured_tree).strip("\n")


def to_email_html_and_text(
    source: str, handlers: Mapping[str, FenceHandler] | None = None, typography: Typography | None = None
) -> tuple[str, str]:
    """Both sides of the email from one parse (the text writer ignores the inline styles); the HTML
    of a block with raw HTML in it sanitised, as the web archive's is."""
    md, page = _convert(source, handlers, styled=True, typography=typography)
    if has_raw_html(source):
        page = email_html(page)
    return page, _TextWriter(md, _TEXT_WIDTH).blocks(md.captured_tree).strip("\n")


def inline_text(source: str, typography: Typography | None = None) -> str:
    """One line of Markdown as text without markup (for a preheader or a subject)."""
    return squeeze(to_text(source, width=10_000, typography=typography))


class _TextWriter:
    """Walks Python-Markdown's element tree and writes text the way a careful person would."""

    def __init__(self, md: _Converter, width: int):
        self.md = md
        self.width = width

    def blocks(self, element: ET.Element, width: int | None = None) -> str:
        width = width or self.width
        parts: list[str] = []
        if element.text and element.text.strip():
            parts.append(self._wrap(self._unstash(element.text), width))
        for child in element:
            rendered = self.block(child, width)
            if rendered:
                parts.append(rendered)
            if child.tail and child.tail.strip():
                parts.append(self._wrap(self._unstash(child.tail), width))
        return "\n\n".join(part for part in parts if part.strip())

    def block(self, element: ET.Element, width: int) -> str:
        tag = element.tag
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            title = self.inline(element).strip()
            return f"{title}\n{'-' * min(len(title), width)}"
        if tag == "blockquote":
            inner = self.blocks(element, width - 2)
            return "\n".join(f"> {line}".rstrip() for line in inner.split("\n"))
        if tag in ("ul", "ol"):
            return self._list(element, width)
        if tag == "pre":
            return "".join(element.itertext()).rstrip("\n")
        if tag == "hr":
            return "* * *"
        if tag == "table":
            return self._table(element)
        if tag == "div":
            return self.blocks(element, width)
        if (code := self._stashed_code(element)) is not None:
            return code
        return self._wrap(self.inline(element), width)

    def _stashed_code(self, element: ET.Element) -> str | None:
        """A fenced code block (stashed as raw HTML by fenced_code) keeps its lines, unwrapped."""
        match = _STASH.fullmatch((element.text or "").strip()) if element.tag == "p" and not len(element) else None
        if match is None or match.group(0) in self.md.fence_texts:
            return None
        raw = self.md.htmlStash.rawHtmlBlocks[int(match.group(1))]
        return _strip_tags(raw).rstrip("\n") if isinstance(raw, str) and raw.startswith("<pre") else None

    def _list(self, element: ET.Element, width: int) -> str:
        items = []
        start = int(element.get("start", "1"))
        for number, item in enumerate((c for c in element if c.tag == "li"), start=start):
            marker = f"{number}. " if element.tag == "ol" else "- "
            indent = " " * len(marker)
            lines = self._item(item, width - len(marker)).split("\n")
            items.append("\n".join([marker + lines[0]] + [(indent + line).rstrip() for line in lines[1:]]))
        return "\n".join(items)

    def _item(self, item: ET.Element, width: int) -> str:
        """A loose item's paragraphs apart; a tight item's text with its sub-lists right under it."""
        if any(child.tag in ("p", "blockquote", "pre", "table", "div") for child in item):
            return self.blocks(item, width)
        sublists = [child for child in item if child.tag in ("ul", "ol")]
        text = ET.Element(item.tag)
        text.text = item.text
        text.extend(child for child in item if child.tag not in ("ul", "ol"))
        parts = [self._wrap(self.inline(text), width)]
        for sub in sublists:
            parts.append(self._list(sub, width))
            if sub.tail and sub.tail.strip():
                parts.append(self._wrap(self._unstash(sub.tail), width))
        return "\n".join(parts)

    def _table(self, element: ET.Element) -> str:
        rows = []
        for row in element.iter("tr"):
            rows.append(" | ".join(self.inline(cell).strip() for cell in row))
        return "\n".join(rows)

    def inline(self, element: ET.Element) -> str:
        parts = [self._unstash(element.text or "")]
        for child in element:
            parts.append(self._inline_child(child))
            parts.append(self._unstash(child.tail or ""))
        return "".join(parts)

    def _inline_child(self, element: ET.Element) -> str:
        if element.tag == "br":
            return _HARD_BREAK
        if element.tag == "img":
            alt = element.get("alt", "").strip()
            return f"[Image\u00a0: {alt}]" if alt else "[Image]"
        if element.tag in ("ul", "ol", "p", "blockquote"):
            return "\n" + self.block(element, self.width)
        text = self.inline(element)
        if element.tag == "a":
            return _link_text(text, _decode(element.get("href", "")))
        return text

    def _unstash(self, text: str) -> str:
        text = self._without_hidden(text)

        def replace(match: re.Match[str]) -> str:
            if match.group(0) in self.md.fence_texts:
                return self.md.fence_texts[match.group(0)]
            raw = self.md.htmlStash.rawHtmlBlocks[int(match.group(1))]
            return _strip_tags(raw) if isinstance(raw, str) else "".join(raw.itertext())

        return _decode(_STASH.sub(replace, text))

    def _without_hidden(self, text: str) -> str:
        """`text` without what an inline `<script>` or `<style>` holds: Python-Markdown stashes the
        opening and closing tags one by one, and leaves what lies between them as text."""
        if "\x02" not in text:
            return text
        kept, position, closing = [], 0, ""
        for match in _STASH.finditer(text):
            raw = self.md.htmlStash.rawHtmlBlocks[int(match.group(1))]
            raw = raw.lower().strip() if isinstance(raw, str) else ""
            if closing and raw.startswith(closing):
                position, closing = match.end(), ""
            elif not closing and (opened := _HIDDEN_OPENING.match(raw)) and f"</{opened.group(1)}" not in raw:
                kept.append(text[position : match.start()])
                closing = f"</{opened.group(1)}"
        return "".join(kept) + text[position:] if closing == "" else "".join(kept)

    @staticmethod
    def _wrap(text: str, width: int) -> str:
        lines = []
        for line in text.replace("\n", " ").split(_HARD_BREAK):
            lines.extend(fill(line, max(width, 20)))
        return "\n".join(lines)


def fill(text: str, width: int) -> list[str]:
    """Greedy word wrap: words are never cut (a long URL stands alone on its line), and a line never
    breaks at a no-break space (« adaptée » stays whole, « ! » never starts a line).

    textwrap.fill does the same with break_long_words and break_on_hyphens off, several times slower,
    and wrapping is a fifth of rendering an issue.
    """
    glued = NBSP in text or NNBSP in text
    if glued:
        text = glue(text)
    lines: list[str] = []
    current: list[str] = []
    size = -1
    for word in text.split():
        if current and size + 1 + len(word) > width:
            lines.append(" ".join(current))
            current, size = [], -1
        current.append(word)
        size += 1 + len(word)
    if current:
        lines.append(" ".join(current))
    return [unglue(line) for line in lines] if glued else lines


def _decode(text: str) -> str:
    return html.unescape(text.replace(_AMP, "&"))


def _link_text(text: str, href: str) -> str:
    target = href.removeprefix("mailto:")
    if not href or text.strip() == target or text.strip() == href:
        return text
    return f"{text} ({target if href.startswith('mailto:') else href})"


def _strip_tags(raw: str) -> str:
    """The text of raw HTML: its tags gone, and the content of `script` and `style` with them."""
    return html.unescape(text_only(raw))
