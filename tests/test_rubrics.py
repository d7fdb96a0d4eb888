"""Rubric headings as editors really type them, and what each must match."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import issue_text

from newsletter.cli import cli
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
        ("📚 En théorie…", "en-theorie", ""),
        ("🔍 Les nouvelles des territoires…", "nouvelles", ""),
        ("Nouvelles : du front", "nouvelles", "du front"),
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


@pytest.mark.parametrize(
    ("heading", "rewrite"),
    [
        ("Nouvelles du front", "## Nouvelles : du front"),
        ("🔎 Nouvelles du front", "## 🔎 Nouvelles : du front"),
        ("Les nouvelles des territoires du Nord", "## Les nouvelles des territoires : du Nord"),
        ("Nouvelle du front", "## Nouvelles : du front"),
        ("Edito du mois : un titre", "## Edito : du mois : un titre"),
        ("Inspiration par Territoires", "## 👉 Inspiration par Territoires Audacieux…"),
        ("Editto : Un titre", "## 🗣️ Édito : Un titre"),
        ("Nouvelle des teritoires", "## 🔎 Les nouvelles des territoires…"),
    ],
)
def test_a_heading_with_more_words_than_a_rubric_is_refused_with_how_to_keep_them(heading: str, rewrite: str) -> None:
    with pytest.raises(UnknownRubric) as raised:
        MATCHER.match(heading)
    assert raised.value.rewrite == rewrite
    assert f"Écrivez « {rewrite} »" in raised.value.hint
    assert MATCHER.match(rewrite.removeprefix("## ")).rubric == raised.value.suggestion  # the rewrite is a rubric


def test_ambiguous_prefix_is_not_a_match() -> None:
    # « En » starts three rubrics: refusing beats guessing.
    with pytest.raises(UnknownRubric):
        MATCHER.match("En")


def test_normalise_drops_emoji_accents_case_and_ellipsis() -> None:
    assert normalise("🔜 À SUIVRE…") == "a suivre"
    assert normalise("L’Édito") == "l edito"


# --- on the outputs: `check`, `build` --------------------------------------------------------------

FRONT_BODY = """
    Bonjour,

    ## 📚 En théorie…

    Avec un autre emoji que celui du catalogue.

    ## Nouvelles du front

    Des nouvelles.

    ## À suivre

    Sans emoji.
    """


def test_no_word_of_a_heading_is_dropped_check_says_how_to_write_it_and_build_refuses(make_project) -> None:
    root = make_project({"issues/001.md": issue_text(FRONT_BODY)})
    path = root / "issues" / "001.md"
    result = CliRunner().invoke(cli, ["check", "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 1
    assert (
        f"{path}:13: erreur : rubrique inconnue « Nouvelles du front » ; vouliez-vous dire « 🔎 Les nouvelles "
        "des territoires… » ? Écrivez « ## Nouvelles : du front » (le nom de la rubrique, « : », puis votre titre)"
    ) in result.output
    assert "1 erreur(s), 0 avertissement(s)" in result.output
    assert CliRunner().invoke(cli, ["build", "-C", str(root)]).exit_code == 1
    assert not (root / "dist" / "email" / "001.html").exists()

    path.write_text(
        path.read_text(encoding="utf-8").replace("## Nouvelles du front", "## Nouvelles : du front"), encoding="utf-8"
    )
    assert CliRunner().invoke(cli, ["build", "-C", str(root)]).exit_code == 0
    text = (root / "dist" / "email" / "001.txt").read_text(encoding="utf-8")
    headings = re.findall(r"^(.+)\n=+$", text, re.M)
    assert headings == ["📖 En théorie…", "🔎 Les nouvelles des territoires…\u00a0: du front", "🔜 À suivre…"]
    html = (root / "dist" / "email" / "001.html").read_text(encoding="utf-8")
    assert "du front" in html and "📚" not in html  # any emoji names the rubric; the catalogue's is shown
