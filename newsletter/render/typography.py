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

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
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
_BREAKABLE_RUN = re.compile(f"[{BREAKABLE}]+")
_PROTECTED = re.compile(
    r"\x02amp\x03#?\w+;"  # Markdown's obfuscated characters (an autolinked e-mail address)
    r"|\x02[^\x03]*\x03"  # Markdown's placeholders: raw HTML, entities, escaped characters
    r"|(?:https?|ftp|mailto|webcal|tel|file):[^\s<>\"«»]*[^\s<>\"«».,;:!?)\]'’]"
    r"|www\.[^\s<>\"«»]*[^\s<>\"«».,;:!?)\]'’]"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
)
_MAY_PROTECT = ("\x02", ":", "@", "www.")
_TRIGGERS = re.compile("[;:!?«»\"'“”\\d]")
_QUOTES = re.compile("[\"'«»“”]")
_OPENS_AFTER = frozenset("([{«“‘—–-/’'") | frozenset(" \t\n\r\f\v\u00a0\u202f\u2009")
_NOT_BEFORE_SIGN = r"(?<=[^\s(\[{«“‘;:!?])"  # a sign takes a space after a word, not after ( or ?
_AFTER_SIGN = r"(?:[\s)\]}»”\"'’.,;:!?…]|$)"

_SKIP = frozenset({"code", "pre", "kbd", "samp", "var", "script", "style", "math", "svg"})
_BLOCKS = frozenset(
    {"p", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "div", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
     "h1", "h2", "h3", "h4", "h5", "h6", "hr", "figure", "figcaption", "details", "summary", "section", "article"}
)


def words(text: str) -> list[str]:
    """The words of a text for wrapping it: a no-break space joins two words into one."""
    stripped = text.strip(BREAKABLE)
    return _BREAKABLE_RUN.split(stripped) if stripped else []


def squeeze(text: str) -> str:
    """Runs of breakable whitespace as one space, ends trimmed; no-break spaces stay where they are."""
    return _BREAKABLE_RUN.sub(" ", text).strip(BREAKABLE)


@dataclass(frozen=True)
class Typography:
    french: bool = True
    smart_quotes: bool = True
    narrow_spaces: bool = True

    @classmethod
    def of(cls, settings: "Settings") -> "Typography":
        """French rules for a letter in French; any other language is left as written."""
        french = settings.language.lower().split("-")[0].split("_")[0] == "fr"
        return cls(french, settings.smart_quotes, settings.narrow_spaces)

    def text(self, text: str) -> str:
        """One run of prose with nothing around it (a title, a line of a card)."""
        return _Run(self).feed(text) if self.french and text else text

    def tree(self, root: ET.Element) -> None:
        """Every text node of an element tree, in place; the context runs across inline elements
        (« *adaptée* » gets its spaces) and starts again with each block."""
        if self.french:
            self._element(root, _Run(self))

    def _element(self, element: ET.Element, run: "_Run") -> None:
        if element.tag in _SKIP or _is_mail_link(element):
            run.skipped("".join(element.itertext()))
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

    @property
    def _rules(self) -> tuple[tuple[re.Pattern[str], str], ...]:
        return _NARROW_RULES if self.narrow_spaces else _WIDE_RULES


def _rules(narrow: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """(pattern, replacement) in order; no pattern can match at index 0, the context character."""
    return (
        (re.compile(f"(?<=[\\s\\S])«{_SPACE}*"), "«" + narrow),
        (re.compile(f"(?<=[^\\s«“]){_SPACE}*»"), narrow + "»"),
        (re.compile(f"{_NOT_BEFORE_SIGN}{_SPACE}*(?=[;!?]{_AFTER_SIGN})"), narrow),
        (re.compile(f"{_NOT_BEFORE_SIGN}{_SPACE}*(?=:(?:[\\s)\\]}}»”\"'’]|$))"), NBSP),
        (re.compile(f"(?<=\\d){_SPACE}+(?=h(?:{_SPACE}*\\d{{2}}(?!\\d))?(?!\\w))"), NBSP),
        (re.compile(f"(?<=\\d\u00a0h){_SPACE}+(?=\\d{{2}}(?!\\d))"), NBSP),
        (re.compile(f"(?<=\\d){_SPACE}+(?=[%‰€£$](?!\\w))"), NBSP),
    )


_NARROW_RULES = _rules(NNBSP)
_WIDE_RULES = _rules(NBSP)
_THOUSANDS = re.compile(f"(?<![\\w.,])\\d{{1,3}}(?:{_SPACE}\\d{{3}})+(?!\\d)")
_THOUSANDS_SPACE = re.compile(_SPACE)


class _Run:
    """A stretch of text read in order (one block): the character before, the quotes still open."""

    def __init__(self, typography: Typography):
        self.typography = typography
        self.last = ""
        self.open_quotes: list[str] = []

    def feed(self, text: str) -> str:
        if not any(mark in text for mark in _MAY_PROTECT):
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
        if not text or not _TRIGGERS.search(text):
            self.last = text[-1] if text else self.last
            return text
        typography = self.typography
        marked = (self.last or "\n") + text
        if typography.smart_quotes or "«" in text or "»" in text or "“" in text or "”" in text:
            marked = _QUOTES.sub(self._quote, marked)
        for pattern, replacement in typography._rules:
            marked = pattern.sub(replacement, marked)
        thin = NNBSP if typography.narrow_spaces else NBSP
        marked = _THOUSANDS.sub(lambda match: _THOUSANDS_SPACE.sub(thin, match.group(0)), marked)
        self.last = marked[-1]
        return marked[1:]

    def _quote(self, match: re.Match[str]) -> str:
        sign, index, text = match.group(0), match.start(), match.string
        if index == 0:  # the context character: already done
            return sign
        smart = self.typography.smart_quotes
        if sign == "'":
            return "’" if smart else sign
        if sign in "«“":
            self.open_quotes.append(sign)
        elif sign in "»”":
            if self.open_quotes and self.open_quotes[-1] == ("«" if sign == "»" else "“"):
                self.open_quotes.pop()
        elif smart:
            return self._straight(text, index)
        return sign

    def _straight(self, text: str, index: int) -> str:
        """A typed ": opening after a space or a bracket, closing after a word; when both sides
        are spaces (« " mot " »), it closes a quote that is open."""
        before = text[index - 1]
        after = text[index + 1] if index + 1 < len(text) else ""
        opening = before in _OPENS_AFTER
        if opening and (not after or after.isspace()):
            opening = not self.open_quotes
        if not opening and not self.open_quotes:
            opening = True
        if opening:
            sign = "“" if self.open_quotes and self.open_quotes[-1] == "«" else "«"
            self.open_quotes.append(sign)
            return sign
        return "”" if self.open_quotes.pop() == "“" else "»"


def _is_mail_link(element: ET.Element) -> bool:
    """An autolinked address: Markdown wrote its text as character references, left alone."""
    return element.tag == "a" and element.get("href", "").startswith(("mailto:", "\x02amp\x03"))


# --- the model's plain-text fields -----------------------------------------------------------------


def typeset_settings(settings: "Settings") -> "Settings":
    """The letter's name, description and rubric titles and taglines, as readers see them."""
    typography = Typography.of(settings)
    if not typography.french:
        return settings
    return replace(
        settings,
        name=typography.text(settings.name),
        description=typography.text(settings.description),
        rubrics=tuple(_rubric(typography, rubric) for rubric in settings.rubrics),
    )


def typeset_issue(settings: "Settings", issue: "Issue") -> "Issue":
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


def typeset_session(settings: "Settings", session: "Session") -> "Session":
    typography = Typography.of(settings)
    if not typography.french:
        return session
    text = typography.text
    return replace(session, title=text(session.title), location=text(session.location), description=text(session.description))


def _rubric(typography: Typography, rubric: "Rubric") -> "Rubric":
    return replace(rubric, title=typography.text(rubric.title), tagline=typography.text(rubric.tagline))
