"""A session cannot go astray: a misnamed or unnamed block that holds one is an error at its line,
and « séance » is the French name of a session block, all the way to the card and the calendar."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import issue_text

from newsletter.cli import cli

SESSION_YAML = "title: Atelier mobilité\nstart: 2022-04-07 14:00\nend: 2022-04-07 16:00\nlocation: Lille"


def body(opening: str, content: str = SESSION_YAML) -> str:
    """An issue whose À suivre holds one fenced block, opened on line 13 of the file."""
    return issue_text(
        "Bonjour,\n\n## À suivre\n\nLe jeudi 7 avril 2022 :\n\n" + opening + "\n" + content + "\n```\n\nFin.\n"
    )


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    "opening", ["```sesion", "```sessions", "```Session", "```SESSION", "```seance", "```séances", "~~~sesssion"]
)
def test_a_misspelt_session_fence_is_an_error_at_its_line(make_project, opening: str) -> None:
    root = make_project(
        {"issues/001.md": body(opening).replace("\n```\n", "\n~~~\n") if opening.startswith("~") else body(opening)}
    )
    result = run("check", "-C", str(root))
    assert result.exit_code == 1
    path = root / "issues" / "001.md"
    info = opening.lstrip("`~")
    assert (
        f"{path}:13: erreur : bloc « {info} » : une séance s’écrit dans un bloc « ```session » (ou « ```séance »)"
        in result.output
    )
    assert run("build", "-C", str(root)).exit_code == 1
    assert not (root / "dist" / "email" / "001.html").exists()


def test_a_plain_fence_around_a_session_is_an_error_at_its_line(make_project) -> None:
    root = make_project({"issues/001.md": body("```")})
    result = run("check", "-C", str(root))
    assert result.exit_code == 1
    assert (
        f"{root / 'issues' / '001.md'}:13: erreur : ce bloc décrit une séance (title, start) : "
        "ouvrez-le par « ```session » (ou « ```séance ») pour qu’elle aille à l’agenda"
    ) in result.output


@pytest.mark.parametrize(
    ("opening", "content"),
    [
        ("```", "title: Un titre sans date\nlocation: Lille"),  # not a session: no start
        ("```", "du code, pas du YAML : [ouvert"),
        ("```yaml", SESSION_YAML),  # named for what it is: shown as code
        ("```python", "print('session')"),
        ("```lesson", "un mot proche mais pas assez"),
    ],
)
def test_other_code_blocks_are_left_alone(make_project, opening: str, content: str) -> None:
    root = make_project({"issues/001.md": body(opening, content)})
    result = run("check", "-C", str(root))
    assert ": erreur :" not in result.output, result.output


@pytest.mark.parametrize("name", ["session", "séance"])
def test_seance_is_the_french_name_of_a_session_block(make_project, name: str) -> None:
    root = make_project({"issues/001.md": body("```" + name)})
    assert run("build", "-C", str(root)).exit_code == 0
    html = (root / "dist" / "email" / "001.html").read_text(encoding="utf-8")
    assert "Atelier mobilité" in html and "Ajouter à mon agenda" in html and "title:" not in html
    text = (root / "dist" / "email" / "001.txt").read_text(encoding="utf-8")
    assert "RENDEZ-VOUS\u00a0: Atelier mobilité" in text
    ics = (root / "dist" / "calendars" / "sessions" / "numero-001-atelier-mobilite.ics").read_text(encoding="utf-8")
    assert "SUMMARY:Atelier mobilité" in ics
