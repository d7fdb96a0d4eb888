"""Shapes of the editors' text that several layers recognise: fenced blocks (`fenced_blocks`, the
one scanner), the French names of days and months, an hour as French prose writes it, a slug.
Standard library only, so that parse/, render/ and the desk share one reading without importing
each other."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")  # as `date.weekday()`
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w-]*)(.*)$")


@dataclass(frozen=True)
class FenceOpening:
    marker: str  # « ``` » or « ~~~~ »: a closing line starts with it
    info: str  # the info string's first word (« session »), "" when there is none
    rest: str  # what follows that word on the line

    @property
    def alone(self) -> bool:
        """True when the info word stands alone on the line (« ```session »), as a named block needs."""
        return bool(self.info) and not self.rest.strip()


def _fence_opening(line: str) -> FenceOpening | None:
    """The opening of a fenced block (up to 3 spaces, 3 or more backticks or tildes), or None."""
    opened = _FENCE_OPEN.match(line)
    return FenceOpening(opened.group(1), opened.group(2), opened.group(3)) if opened else None


def _closes_fence(line: str, marker: str) -> bool:
    """True when `line` closes the block `marker` opened: the same character, at least as many."""
    stripped = line.strip()
    return stripped.startswith(marker) and not stripped.strip(marker[0])


@dataclass(frozen=True)
class FencedBlock:
    opening: FenceOpening
    start: int  # index of the opening line
    end: int | None  # index of the closing line; None when the text ends first

    @property
    def stop(self) -> int | None:
        """The index after the block's last line, for slicing (None: to the end of the text)."""
        return None if self.end is None else self.end + 1

    def body(self, lines: Sequence[str]) -> Sequence[str]:
        """The lines between the opening and the closing line."""
        return lines[self.start + 1 : self.end]


def fenced_blocks(lines: Sequence[str]) -> Iterator[tuple[int, FencedBlock | None]]:
    """Each line outside fenced blocks as (its index, None), and each block once as (the index of
    its opening line, the block), in the order of the text.

    The one reading of fences that the parser, the renderer, the date checks and the desk share: a
    block runs to the first line that closes it, and whatever it holds (« ```session » shown as an
    example inside a « ```` » block) is its text, never a block of its own.
    """
    index, count = 0, len(lines)
    while index < count:
        opened = _fence_opening(lines[index])
        if opened is None:
            yield index, None
            index += 1
            continue
        end = next((after for after in range(index + 1, count) if _closes_fence(lines[after], opened.marker)), None)
        yield index, FencedBlock(opened, index, end)
        index = count if end is None else end + 1


def french_hour(moment: dt.datetime | dt.time, minutes: bool = False) -> str:
    """« 14h », « 14h30 »: how the letter writes an hour; with `minutes`, « 14h00 » too, for messages
    that quote a time exactly as the editor must find it."""
    if moment.minute or minutes:
        return f"{moment.hour}h{moment.minute:02d}"
    return f"{moment.hour}h"


def french_day(day: dt.date, weekday: bool = False, year: bool = True) -> str:
    """« 1er avril 2022 », « jeudi 7 avril 2022 », « 7 avril »: a day as the letter and its messages
    write it (the one French day formatter; `render.dates.french_date` gives other locales to Babel)."""
    text = f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]}" + (f" {day.year}" if year else "")
    return f"{WEEKDAYS[day.weekday()]} {text}" if weekday else text


def slug(text: str, length: int | None = None, whole_words: bool = False) -> str:
    """« Permanence de l’Alliance (visio) » → « permanence-de-l-alliance-visio »: ids, file names,
    List-Id. Cut at `length` characters, or with `whole_words` after the last word that fits."""
    plain = "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))
    words = re.findall(r"[a-z0-9]+", plain.lower())
    if not whole_words:
        return "-".join(words)[:length].rstrip("-")
    made = ""
    for word in words:
        candidate = f"{made}-{word}" if made else word
        if length is not None and len(candidate) > length:
            break
        made = candidate
    return made


def ascii_only(text: str) -> str:
    """Accents taken off and every other letter outside ASCII dropped (« cœur » → « cur »): what file
    names and the List-Id were made from before `slug`, kept so that they do not change."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
