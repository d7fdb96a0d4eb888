from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from newsletter.model.rubric import Rubric
from newsletter.model.session import Session


@dataclass(frozen=True)
class Block:
    """A piece of Markdown with the line of the source file where it starts.

    Keeping the Markdown (not HTML) in the model lets each renderer choose its own output: styled
    HTML for the email, plain text for the alternative part, sanitised HTML for the web.
    """

    markdown: str
    line: int

    def __bool__(self) -> bool:
        return bool(self.markdown.strip())


@dataclass(frozen=True)
class RubricSection:
    """A rubric as it appears in one issue."""

    rubric: Rubric
    body: Block
    line: int
    own_title: str = ""
    byline: str = ""

    @property
    def title(self) -> str:
        return self.own_title or self.rubric.title


@dataclass(frozen=True)
class Issue:
    """One issue of the letter, as the team wrote it."""

    path: Path
    number: int
    date: date
    title: str
    intro: Block
    sections: tuple[RubricSection, ...]
    signoff: Block
    subject: str = ""
    preheader: str = ""
    draft: bool = False
    greeting: str = ""
    sessions: tuple[Session, ...] = ()  # the ```session blocks, in the order of the file
    programmes: tuple[str, ...] = ()  # ids of the programmes of calendars/ it announces (front matter `programme`)
    programme_line: int = 0  # where the front matter names them
    source_hash: str = field(default="", compare=False)

    @property
    def slug(self) -> str:
        """The stable name of the issue's outputs and web page: its number, never its title."""
        return f"{self.number:03d}"

    def section(self, key: str) -> RubricSection | None:
        return next((s for s in self.sections if s.rubric.key == key), None)
