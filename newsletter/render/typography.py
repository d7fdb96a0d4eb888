"""French typography for everything a reader reads: no-break spaces and typographic quotes.

The editors type plain spaces, or none, before « ; : ! ? » and inside guillemets; a phone must
never start a line with « ! » or « » ». So every text a reader sees goes through `Typography`:
the text nodes of the Markdown element tree (`tree`, once per node, never code, never an
attribute), and the plain-text fields of the model (`text`: titles, taglines, the session card,
the calendars).

The convention (modern French digital typography, after the Imprimerie nationale):
- U+202F narrow no-break space before ; ! ? and », after «, and between groups of three digits
  that the editor separated with a space (3 000);
- U+00A0 no-break space before :, between a number and h, %, ‰, €, £, $ (10 h 30, 15 %);
- ' becomes ’, and "…" becomes « … » (“ … ” inside guillemets), when `smart_quotes` is on.
Helvetica and Arial have no U+202F glyph: mail apps and browsers take it from another font (a
narrow space, measured in Chromium: half a word space, same line height). `narrow_spaces = false`
puts U+00A0 everywhere, for readers whose old apps would show a box instead.

Never touched: URLs, e-mail addresses, Markdown's placeholders (raw HTML, entities, escaped
characters), code. Applying it twice gives the same text: spaces already where they belong are
replaced by the same character, never added to.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsletter.model.issue import Issue
    from newsletter.model.rubric import Rubric
    from newsletter.model.session import Session
    from newsletter.settings import Settings

NBSP = "\u00a0"
NNBSP = "\u202f"
NO_BREAK = NBSP + NNBSP
BREAKABLE = " \t\n\r\f\v"
"""The spaces a line may break at: ASCII whitespace only, never a no-break space."""

_SPACE = "[ \t\n\r\f\v\u00a0\u202f\u2009]"  # any space the editor may have typed around a sign
_SPACES = frozenset(" \t\n\r\f\v\u00a0\u202f\u2009")
_BREAKABLE_RUN = re.compile(f"[{BREAKABLE}]+")
_PROTECTED = re.compile(
    r"\x02amp\x03#?\w+;"  # Markdown's obfuscated characters (an autolinked e-mail address)
    r"|\x02[^\x03]*\x03"  # Markdown's placeholders: raw HTML, entities, escaped characters
    r"|(?:https?|ftp|mailto|webcal|tel|file):[^\s<>\"«»]*[^\s<>\"«».,;:!?)\]'’]"
    r"|www\.[^\s<>\"«»]*[^\s<>\"«».,;:!?)\]'’]"
    r"|[\w.+'-]+@[\w-]+(?:\.[\w-]+)+"
)
_SIGNS = re.compile('[;:!?«»"“”]')
_NO_SPACE_AFTER = frozenset("([{«“‘;:!?\n")  # no space between these and a sign: « (? », « ?! »
_ENDS_SIGN = frozenset(")]}»”\"'’.,;:!?…")  # a ; ! ? is a sign when a space, one of these or the end follows
_ENDS_COLON = frozenset(")]}»”\"'’")  # a : when a space, one of these or the end follows (not 14:30)
_OPENS_AFTER = frozenset("([{«“‘—–-/’'") | _SPACES
# Numbers: groups of three digits, times (10 h 30), units; only where the editor typed a space.
# (Scanning a text with a pattern costs ~30 ns a character: cheap substring tests come first.)
_LETTER = "[0-9A-Za-zÀ-ÖØ-öø-ÿ]"
_NUMBER_SPACE = re.compile(f"(?a)\\d{_SPACE}")
_THOUSANDS = re.compile(f"(?a)\\d{{1,3}}(?:{_SPACE}\\d{{3}})+(?!\\d)")
_HOURS = re.compile(f"(?a)(\\d){_SPACE}+h(?:{_SPACE}+(\\d\\d)(?!\\d))?(?!{_LETTER})")
_UNITS = re.compile(f"(?a)(\\d){_SPACE}+([%‰€£$])(?!{_LETTER})")

_SKIP = frozenset({"code", "pre", "kbd", "samp", "var", "script", "style", "math", "svg"})
_BLOCKS = frozenset(
    {
        "p",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "div",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "figure",
        "figcaption",
        "details",
        "summary",
        "section",
        "article",
    }
)


def glue(text: str) -> str:
    """No-break spaces as private characters that `str.split()` does not split at (it splits at
    every Unicode space); `unglue` gives them back. Much faster than splitting with a pattern."""
    return text.replace(NBSP, "\ue001").replace(NNBSP, "\ue002")


def unglue(text: str) -> str:
    return text.replace("\ue001", NBSP).replace("\ue002", NNBSP)


def squeeze(text: str) -> str:
    """Runs of breakable whitespace as one space, ends trimmed; no-break spaces stay where they are."""
    return _BREAKABLE_RUN.sub(" ", text).strip(BREAKABLE)


@dataclass(frozen=True)
class Typography:
    french: bool = True
    smart_quotes: bool = True
    narrow_spaces: bool = True

    @classmethod
    def of(cls, settings: Settings) -> Typography:
        """French rules for a letter in French; any other language is left as written."""
        french = settings.language.lower().split("-")[0].split("_")[0] == "fr"
        return cls(french, settings.smart_quotes, settings.narrow_spaces)

    @property
    def narrow(self) -> str:
        return NNBSP if self.narrow_spaces else NBSP

    def text(self, text: str) -> str:
        """One run of prose with nothing around it (a title, a line of a card)."""
        return _typeset(self, text) if self.french and text else text

    def tree(self, root: ET.Element) -> None:
        """Every text node of an element tree, in place; the context runs across inline elements
        (« *adaptée* » gets its spaces) and starts again with each block."""
        if self.french:
            self._element(root, _Run(self))

    def _element(self, element: ET.Element, run: _Run) -> None:
        if element.tag in _SKIP or _is_mail_link(element):
            run.skipped(html.unescape("".join(element.itertext()).replace("\x02amp\x03", "&")))
            return
        if element.tag == "br":
            run.last = "\n"
        if element.text:
            element.text = run.feed(element.text)
        for child in element:
            block = child.tag in _BLOCKS
            self._element(child, _Run(self) if block else run)
            if block:
                run = _Run(self)
            if child.tail:
                child.tail = run.feed(child.tail)


class _Run:
    """A stretch of text read in order (one block): the character before, the quotes still open."""

    def __init__(self, typography: Typography):
        self.typography = typography
        self.last = ""
        self.open_quotes: list[str] = []

    def feed(self, text: str) -> str:
        if not _may_protect(text):
            return self._prose(text)
        parts, position = [], 0
        for match in _PROTECTED.finditer(text):
            if match.start() > position:
                parts.append(self._prose(text[position : match.start()]))
            parts.append(match.group(0))
            self.last = match.group(0)[-1]
            position = match.end()
        if position < len(text):
            parts.append(self._prose(text[position:]))
        return "".join(parts)

    def skipped(self, text: str) -> None:
        """Text left as it is (code): it still is the character before what follows."""
        if text:
            self.last = text[-1]

    def _prose(self, text: str) -> str:
        if self.last and self.last in NO_BREAK:
            text = text.lstrip(BREAKABLE)  # the space is already there, ours: no second one
        if not text:
            return text
        if self.typography.smart_quotes and "'" in text:
            text = text.replace("'", "’")
        marked = (self.last or "\n") + text  # the character before, never changed: index 0
        if _SIGNS.search(marked, 1):
            marked = self._signs(marked)
        if any(digit in marked for digit in "0123456789") and _NUMBER_SPACE.search(marked):
            marked = _numbers(marked, self.typography.narrow)
        self.last = marked[-1]
        return marked[1:]

    def _signs(self, marked: str) -> str:
        """One pass over the signs: quotes first made typographic, then the spaces around each
        sign replaced by the one it wants (or one added), in the order of the text."""
        narrow = self.typography.narrow
        out, position, before_out = [marked[0]], 1, marked[0]
        for match in _SIGNS.finditer(marked, 1):
            index = match.start()
            if index < position:
                continue
            sign = self._quote(marked, index)
            if sign == "«":
                end = index + 1
                while end < len(marked) and marked[end] in _SPACES:
                    end += 1
                out += (marked[position:index], "«" + narrow)
                position, before_out = end, narrow
                continue
            start = index
            while start > position and marked[start - 1] in _SPACES:
                start -= 1
            before = marked[start - 1] if start > position else before_out
            after = marked[index + 1] if index + 1 < len(marked) else ""
            space = _space_before(sign, before, after, narrow)
            if space:
                out += (marked[position:start], space, sign)
            else:
                out += (marked[position:index], sign)
            position, before_out = index + 1, sign
        out.append(marked[position:])
        return "".join(out)

    def _quote(self, text: str, index: int) -> str:
        """The sign at `index`, a typed " made « or » (“ or ” inside guillemets); the quotes open."""
        sign = text[index]
        if sign in "«“":
            self.open_quotes.append(sign)
        elif sign in "»”":
            if self.open_quotes and self.open_quotes[-1] == ("«" if sign == "»" else "“"):
                self.open_quotes.pop()
        elif sign == '"' and self.typography.smart_quotes:
            return self._straight(text, index)
        return sign

    def _straight(self, text: str, index: int) -> str:
        """A typed ": opening after a space or a bracket, closing after a word; when both sides
        are spaces (« " mot " »), it closes a quote that is open."""
        after = text[index + 1] if index + 1 < len(text) else ""
        opening = text[index - 1] in _OPENS_AFTER
        if opening and (not after or after.isspace()):
            opening = not self.open_quotes
        if not opening and not self.open_quotes:
            opening = True
        if opening:
            sign = "“" if self.open_quotes and self.open_quotes[-1] == "«" else "«"
            self.open_quotes.append(sign)
            return sign
        return "”" if self.open_quotes.pop() == "“" else "»"


@lru_cache(maxsize=4096)
def _typeset(typography: Typography, text: str) -> str:
    """Cached: the same titles, taglines and card lines come back in every issue of an archive."""
    return _Run(typography).feed(text)


def _space_before(sign: str, before: str, after: str, narrow: str) -> str:
    """The no-break space `sign` wants after `before` (the last character that is not a space),
    or "" when it wants none: a sign opening a line, ?! together, 14:30, a ? inside a word."""
    if before.isspace() or not before:
        return ""
    if sign == "»":
        return "" if before in "«“" else narrow
    if sign not in ";:!?" or before in _NO_SPACE_AFTER:
        return ""
    if sign == ":":
        return NBSP if not after or after.isspace() or after in _ENDS_COLON else ""
    return narrow if not after or after.isspace() or after in _ENDS_SIGN else ""


def _may_protect(text: str) -> bool:
    """Whether `_PROTECTED` may find something: substring tests are much faster than the pattern."""
    return "\x02" in text or "@" in text or "www." in text or "://" in text or "mailto:" in text or "tel:" in text


def _numbers(text: str, narrow: str) -> str:
    def thousands(match: re.Match[str]) -> str:
        before = match.string[match.start() - 1] if match.start() else ""
        if before.isalnum() or before in "_.,":  # inside a word or a longer number, after a decimal point
            return match.group(0)
        return re.sub(_SPACE, narrow, match.group(0))

    text = _THOUSANDS.sub(thousands, text)
    text = _HOURS.sub(
        lambda match: f"{match.group(1)}\u00a0h" + (f"\u00a0{match.group(2)}" if match.group(2) else ""), text
    )
    return _UNITS.sub(lambda match: f"{match.group(1)}\u00a0{match.group(2)}", text)


def _is_mail_link(element: ET.Element) -> bool:
    """An autolinked address: Markdown wrote its text as character references, left alone."""
    return element.tag == "a" and element.get("href", "").startswith(("mailto:", "\x02amp\x03"))


# --- the model's plain-text fields -----------------------------------------------------------------


@lru_cache(maxsize=8)
def typeset_settings(settings: Settings) -> Settings:
    """The letter's name, description, rubric titles and taglines, and the sign-up form's consent
    sentence, as readers see them. Cached: every page, feed and card of a build asks; and since
    typesetting is idempotent, the settings typeset twice are equal to them typeset once."""
    typography = Typography.of(settings)
    if not typography.french:
        return settings
    return replace(
        settings,
        name=typography.text(settings.name),
        description=typography.text(settings.description),
        form_text=typography.text(settings.form_text),
        rubrics=tuple(_rubric(typography, rubric) for rubric in settings.rubrics),
    )


def typeset_issue(settings: Settings, issue: Issue) -> Issue:
    """The issue's plain-text fields (title, subject, preheader, greeting, rubric titles, sessions);
    its Markdown blocks are typeset when converted (`tree`)."""
    typography = Typography.of(settings)
    if not typography.french:
        return issue
    text = typography.text
    sections = tuple(
        replace(section, rubric=_rubric(typography, section.rubric), own_title=text(section.own_title))
        for section in issue.sections
    )
    return replace(
        issue,
        title=text(issue.title),
        subject=text(issue.subject),
        preheader=text(issue.preheader),
        greeting=text(issue.greeting),
        sections=sections,
        sessions=tuple(typeset_session(settings, session) for session in issue.sessions),
    )


def typeset_session(settings: Settings, session: Session) -> Session:
    typography = Typography.of(settings)
    if not typography.french:
        return session
    text = typography.text
    return replace(
        session, title=text(session.title), location=text(session.location), description=text(session.description)
    )


def _rubric(typography: Typography, rubric: Rubric) -> Rubric:
    return replace(rubric, title=typography.text(rubric.title), tagline=typography.text(rubric.tagline))
