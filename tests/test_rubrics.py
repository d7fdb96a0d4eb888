"""Rubric headings as editors really type them, and what each must match."""

from __future__ import annotations

import pytest

from newsletter.parse.rubrics import RubricMatcher, UnknownRubric, normalise
from newsletter.settings import DEFAULT_RUBRICS

MATCHER = RubricMatcher(DEFAULT_RUBRICS)


@pytest.mark.parametrize(
    ("heading", "key", "own_title"),
    [
        ("A suivre", "a-suivre", ""),
        ("🔜 À suivre…", "a-suivre", ""),
        ("À SUIVRE...", "a-suivre", ""),
        ("a suivre", "a-suivre", ""),
        ("Agenda", "a-suivre", ""),
        ("🔎 Nouvelles", "nouvelles", ""),
        ("Les nouvelles des territoires…", "nouvelles", ""),
        ("Les nouvelles des territoires", "nouvelles", ""),
        ("Édito : Comprendre, réfléchir, agir", "edito", "Comprendre, réfléchir, agir"),
        ("🗣️ Édito : Comprendre, réfléchir, agir", "edito", "Comprendre, réfléchir, agir"),
        ("Edito: Sans espace avant", "edito", "Sans espace avant"),
        ("EDITO", "edito", ""),
        ("📖 En théorie…", "en-theorie", ""),
        ("En theorie...", "en-theorie", ""),
        ("Théorie", "en-theorie", ""),
        ("📝En pratique…", "en-pratique", ""),
        ("📍En chantier…", "en-chantier", ""),
        ("Chantiers", "en-chantier", ""),
        ("👉Inspiration par Territoires Audacieux…", "inspiration", ""),
        ("👉 Inspiration", "inspiration", ""),
        ("💡 Inspiration : des idées", "inspiration", "des idées"),
        ("Inspiration par Territoires", "inspiration", ""),
    ],
)
def test_heading_matches_rubric(heading: str, key: str, own_title: str) -> None:
    match = MATCHER.match(heading)
    assert (match.rubric.key, match.own_title) == (key, own_title)


@pytest.mark.parametrize(
    ("heading", "suggested"),
    [
        ("Editto", "edito"),
        ("Nouvelle des teritoires", "nouvelles"),
        ("A suivree", "a-suivre"),
        ("Recettes de cuisine", None),
    ],
)
def test_unknown_heading_suggests_nearest(heading: str, suggested: str | None) -> None:
    with pytest.raises(UnknownRubric) as raised:
        MATCHER.match(heading)
    assert (raised.value.suggestion.key if raised.value.suggestion else None) == suggested


def test_ambiguous_prefix_is_not_a_match() -> None:
    # « En » starts three rubrics: refusing beats guessing.
    with pytest.raises(UnknownRubric):
        MATCHER.match("En")


def test_normalise_drops_emoji_accents_case_and_ellipsis() -> None:
    assert normalise("🔜 À SUIVRE…") == "a suivre"
    assert normalise("L’Édito") == "l edito"
