"""Matching a `##` heading to the rubric catalogue, forgiving what editors really type.

« ## A suivre », « ## 🔜 À SUIVRE… », « ## Nouvelles » and « ## Édito : Comprendre » all name a
rubric: emoji, case, accents, ellipsis and punctuation do not count, and aliases are accepted.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from newsletter.model.rubric import Rubric

_OWN_TITLE = re.compile(r"\s+:\s+|\s*:\s+(?=\S)")


def normalise(text: str) -> str:
    """Lower-case letters and digits only, accents removed, words separated by one space."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":
            continue
        kept.append(char.lower() if category[0] in "LN" else " ")
    return " ".join("".join(kept).split())


@dataclass(frozen=True)
class HeadingMatch:
    rubric: Rubric
    own_title: str


class UnknownRubric(LookupError):
    """A heading that names no rubric; `suggestion` is the nearest one, if any is near."""

    def __init__(self, name: str, suggestion: Rubric | None):
        self.name = name
        self.suggestion = suggestion
        super().__init__(name)


class RubricMatcher:
    def __init__(self, catalogue: tuple[Rubric, ...]):
        self.catalogue = catalogue
        self._names: dict[str, Rubric] = {}
        for rubric in catalogue:
            for name in (rubric.title, rubric.key, *rubric.aliases):
                self._names.setdefault(normalise(name), rubric)

    def match(self, heading: str) -> HeadingMatch:
        """The rubric a heading names, and the issue's own title for it (text after « : »)."""
        name, own_title = split_heading(heading)
        key = normalise(name)
        rubric = self._names.get(key) or self._by_prefix(key)
        if rubric is None:
            raise UnknownRubric(name.strip(), self._nearest(key))
        return HeadingMatch(rubric, own_title)

    def _by_prefix(self, key: str) -> Rubric | None:
        """« ## Les nouvelles des terr… » or « ## Inspiration par TA »: a unique word-prefix match."""
        if not key:
            return None
        found = {
            rubric.key: rubric
            for name, rubric in self._names.items()
            if name.startswith(key + " ") or key.startswith(name + " ")
        }
        return next(iter(found.values())) if len(found) == 1 else None

    def _nearest(self, key: str) -> Rubric | None:
        close = difflib.get_close_matches(key, list(self._names), n=1, cutoff=0.5)
        return self._names[close[0]] if close else None


def split_heading(heading: str) -> tuple[str, str]:
    parts = _OWN_TITLE.split(heading.strip(), maxsplit=1)
    own_title = parts[1].strip() if len(parts) == 2 else ""
    return parts[0], own_title
