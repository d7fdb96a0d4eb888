"""Matching a `##` heading to the rubric catalogue, forgiving what editors really type.

« ## A suivre », « ## 🔜 À SUIVRE… », « ## Nouvelles » and « ## Édito : Comprendre » all name a
rubric: emoji (any, or none), case, accents, ellipsis and punctuation do not count, and aliases are
accepted. Nothing else is guessed: a heading with more words than a rubric's name is an error that
says how to keep them (« ## Nouvelles : du front »).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from newsletter.model.rubric import Rubric

NEAR = 0.8  # difflib's ratio from which a name is a misspelling of another (« teritoires » for « territoires »: 0.95)
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
    """A heading that is not exactly a rubric; `suggestion` is the nearest one, if any is near, and
    `rewrite` the heading that names it and keeps every word written (« Nouvelles : du front »)."""

    def __init__(self, name: str, suggestion: Rubric | None, rewrite: str = ""):
        self.name = name
        self.suggestion = suggestion
        self.rewrite = rewrite
        super().__init__(name)

    @property
    def hint(self) -> str:
        """What to tell the editor after « rubrique inconnue « … » »: the nearest rubric, how to write it."""
        if self.suggestion is None:
            return ""
        hint = f" ; vouliez-vous dire « {self.suggestion.label} » ?"
        if self.rewrite:
            hint += f" Écrivez « {self.rewrite} »"
            if " : " in self.rewrite:
                hint += " (le nom de la rubrique, « : », puis votre titre)"
        return hint


class RubricMatcher:
    @classmethod
    @cache
    def of(cls, catalogue: tuple[Rubric, ...]) -> RubricMatcher:
        """One matcher per catalogue, for every issue of a build (making one normalises every name)."""
        return cls(catalogue)

    def __init__(self, catalogue: tuple[Rubric, ...]):
        self.catalogue = catalogue
        self._names: dict[str, Rubric] = {}
        self._spelled: dict[str, str] = {}  # a normalised name → as the catalogue writes it
        for rubric in catalogue:
            for name in (rubric.title, rubric.key, *rubric.aliases):
                self._names.setdefault(normalise(name), rubric)
                self._spelled.setdefault(normalise(name), name)

    def match(self, heading: str) -> HeadingMatch:
        """The rubric a heading names exactly, and the issue's own title for it (text after « : »).

        Only emoji, case, accents and punctuation are forgiven: « ## Nouvelles du front » names no
        rubric (« du front » would be lost), it must be « ## Nouvelles : du front ».
        """
        name, own_title = split_heading(heading)
        rubric = self._names.get(normalise(name))
        if rubric is None:
            raise self._unknown(name.strip(), own_title)
        return HeadingMatch(rubric, own_title)

    def near(self, heading: str) -> Rubric | None:
        """The rubric whose name a heading misses by a letter or two (« 📚 En théorei… »), if one does.

        One typing slip (a letter added, left out, changed, or two swapped) in a name of up to ten
        letters, two in a longer one: « En théorei » is near « En théorie », « Les chantiers » and
        « Ma théorie » are near nothing.
        """
        key = normalise(split_heading(heading)[0])
        for name, rubric in self._names.items():
            if key and _slips(key, name) <= (1 if len(name) <= 10 else 2):
                return rubric
        return None

    def _unknown(self, name: str, own_title: str) -> UnknownRubric:
        """The nearest rubric, and a heading for it that keeps every word the editor wrote."""
        words, key = name.split(), normalise(name)
        truncated = {r.key: r for n, r in self._names.items() if key and n.startswith(key + " ")}
        if len(truncated) == 1:  # « Inspiration par Territoires »: the beginning of a title
            rubric = next(iter(truncated.values()))
            return UnknownRubric(name, rubric, _heading(rubric.label, own_title))
        for size in range(len(words) - 1, 0, -1):  # « Nouvelles du front »: a rubric's name, then a title
            if named := self._names.get(normalise(" ".join(words[:size]))):
                return UnknownRubric(name, named, _heading(" ".join(words[:size]), " ".join(words[size:]), own_title))
        if close := self._close(key, NEAR):  # « Nouvelle des teritoires »
            return UnknownRubric(name, self._names[close], _heading(self._names[close].label, own_title))
        for size in range(len(words) - 1, 0, -1):  # « Nouvelle du front »: a misspelt name, then a title
            if close := self._close(normalise(" ".join(words[:size])), NEAR, size):
                written = self._spelled[close][:1].upper() + self._spelled[close][1:]
                return UnknownRubric(name, self._names[close], _heading(written, " ".join(words[size:]), own_title))
        close = self._close(key, 0.5)
        nearest = self._names[close] if close else None
        return UnknownRubric(name, nearest, _heading(nearest.label, own_title) if nearest else "")

    def _close(self, key: str, cutoff: float, words: int = 0) -> str | None:
        """The catalogue's name nearest to `key` (among those of `words` words, if given)."""
        names = [n for n in self._names if not words or n.count(" ") + 1 == words]
        found = difflib.get_close_matches(key, names, n=1, cutoff=cutoff) if key else []
        return found[0] if found else None


def _slips(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): typing slips from `a` to `b`."""
    if abs(len(a) - len(b)) > 2:
        return 3
    previous: list[int] = []
    current = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous, current = previous, current, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
    return current[-1]


def _heading(name: str, *titles: str) -> str:
    """« ## name : title » (the title's parts joined by « : »), or « ## name » without a title."""
    title = " : ".join(part for part in titles if part)
    return f"## {name} : {title}" if title else f"## {name}"


def split_heading(heading: str) -> tuple[str, str]:
    parts = _OWN_TITLE.split(heading.strip(), maxsplit=1)
    own_title = parts[1].strip() if len(parts) == 2 else ""
    return parts[0], own_title
