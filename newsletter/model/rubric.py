from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rubric:
    """One entry of the rubric catalogue: what a `##` heading of an issue may name.

    The tagline (« Une rubrique pour… ») lives here so that editors never retype it.
    """

    key: str
    title: str
    emoji: str = ""
    tagline: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.emoji} {self.title}".strip()
