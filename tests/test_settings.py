from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ROOT, SEED_ISSUE_TEXT

from newsletter.errors import SourceError
from newsletter.settings import DEFAULT_RUBRICS, Settings, load_settings


def test_folder_without_settings_gets_every_default(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings == Settings()
    assert settings.language == "fr" and settings.timezone == "Europe/Paris"
    assert [r.key for r in settings.rubrics] == [
        "edito",
        "en-theorie",
        "en-pratique",
        "nouvelles",
        "en-chantier",
        "a-suivre",
        "inspiration",
    ]


def test_repository_settings_restate_the_defaults() -> None:
    """newsletter.toml documents the defaults; it must not drift from them."""
    settings = load_settings(ROOT)
    assert settings.rubrics == DEFAULT_RUBRICS
    assert settings.timezone == Settings.timezone and settings.language == Settings.language
    assert settings.smart_quotes is settings.narrow_spaces is True
    assert replace(settings, path=None) == Settings()  # every key, the [typography] table too
    assert settings.feed_items == Settings.feed_items == 20


def test_default_taglines_come_from_the_seed_issue() -> None:
    seed = " ".join(SEED_ISSUE_TEXT.read_text(encoding="utf-8").split())
    for rubric in DEFAULT_RUBRICS:
        assert " ".join(rubric.tagline.split()) in seed


def loaded(folder: Path, content: str) -> Settings:
    """The settings of a project whose newsletter.toml is `content`."""
    (folder / "newsletter.toml").write_text(content, encoding="utf-8")
    return load_settings(folder)


def test_settings_override_defaults(tmp_path: Path) -> None:
    settings = loaded(
        tmp_path,
        '[newsletter]\nname = "Autre lettre"\nbase_url = "https://x.org/lettre/"\n'
        '[[rubrics]]\nkey = "une"\ntitle = "Une"\n[smtp]\nhost = "mail.x.org"\n',
    )
    assert settings.name == "Autre lettre"
    assert settings.base_url == "https://x.org/lettre"
    assert settings.issue_url("001") == "https://x.org/lettre/numeros/001/"
    assert [r.key for r in settings.rubrics] == ["une"]
    assert settings.table("smtp")["host"] == "mail.x.org"
    assert dict(settings.table("absent")) == {}


@pytest.mark.parametrize(
    ("content", "line", "fragment"),
    [
        ('[newsletter]\nname = "x\n', 2, "syntaxe TOML"),
        ("[newsletter]\nname = 3\n", 2, "« name » doit être un texte"),
        ('[newsletter]\n\ntimezone = "Europe/Pariss"\n', 3, "fuseau horaire inconnu"),
        ('[newsletter]\nnmae = "x"\n', 2, "réglage inconnu « nmae »"),
        ('[[rubrics]]\nkey = "a"\ntitle = "A"\n[[rubrics]]\nkey = "a"\ntitle = "B"\n', 5, "déclarée deux fois"),
        ('[[rubrics]]\nkey = "a"\n', 1, "n’a pas de « title »"),
        ('[newsletter]\nname = "Territoires\\nPilotes"\n', 2, "« name » doit tenir sur une ligne"),
        ('[newsletter]\nlanguage = ""\n', 2, "langue illisible «  » : écrivez"),
        ('[newsletter]\nlanguage = "@b"\n', 2, "langue illisible « @b »"),
        ('[newsletter]\nlanguage = "xx"\n', 2, "langue inconnue « xx » : écrivez un code de langue comme « fr »"),
        (
            '[sender]\n\naddress = "lettre@example.org\\r\\nBcc: x@example.org"\n',
            3,
            "« address » doit tenir sur une ligne",
        ),
        ('[[rubrics]]\nkey = "a"\ntitle = "A\\u2028B"\n', 3, "« title » doit tenir sur une ligne"),
        ('rubrics = ["edito"]\n', 1, "chacune une table"),
        (
            '[[rubrics]]\nkey = "a"\ntitle = "A"\n[[rubrics]]\nkey = 3\ntitle = "B"\n',
            5,
            "« key » dans [[rubrics]] doit être un texte",
        ),
        (
            '[[rubrics]]\nkey = "a"\ntitle = "A"\n\n[[rubrics]]\ntitle = "B"\ncolor = "x"\n',
            7,
            "réglage inconnu « color » dans [[rubrics]]",
        ),
        ('[[rubrics]]\nkey = "a"\ntitle = "A"\naliases = ["x", 2]\n', 4, "« aliases » doit être une liste de textes"),
        ('[typography]\nsmart_quotes = "oui"\n', 2, "« smart_quotes » doit être vrai ou faux"),
        ("[newsletter]\nfeed_items = 0\n", 2, "au moins 1"),
        ('[newsletter]\nfeed_items = "20"\n', 2, "« feed_items » doit être un nombre entier"),
    ],
)
def test_bad_settings_name_file_and_line(tmp_path: Path, content: str, line: int, fragment: str) -> None:
    (tmp_path / "newsletter.toml").write_text(content, encoding="utf-8")
    with pytest.raises(SourceError) as raised:
        load_settings(tmp_path)
    assert raised.value.line == line
    assert fragment in raised.value.message
    assert str(raised.value).startswith(f"{tmp_path / 'newsletter.toml'}:{line}: ")


@pytest.mark.parametrize("language", ["fr", "fr_BE", "fr-CA", "en", "de_CH", "pt-BR"])
def test_languages_that_date_an_issue(tmp_path: Path, language: str) -> None:
    assert loaded(tmp_path, f'[newsletter]\nlanguage = "{language}"\n').language == language


def test_a_description_and_a_tagline_may_run_over_several_lines(tmp_path: Path) -> None:
    settings = loaded(
        tmp_path,
        '[newsletter]\ndescription = """Une lettre.\nSur deux lignes."""\n[[rubrics]]\nkey = "a"\ntitle = "A"\n'
        'tagline = "Un.\\nDeux."\n',
    )
    assert settings.description == "Une lettre.\nSur deux lignes." and settings.rubrics[0].tagline == "Un.\nDeux."


def test_repository_settings_parse_as_plain_toml() -> None:
    assert tomllib.loads((ROOT / "newsletter.toml").read_text(encoding="utf-8"))["newsletter"]["language"] == "fr"
