"""A session cannot go astray: a misnamed or unnamed block that holds one is an error at its line,
and « séance » is the French name of a session block, all the way to the card and the calendar."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import issue_text

from newsletter.cli import cli
from newsletter.text import fenced_blocks

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


EXAMPLE = (
    "Pour annoncer une séance, écrivez :\n\n"
    "````markdown\n```session\ntitle: {title}\nstart: 2022-04-01 10:00\nend: 2022-04-01 11:00\nlocation: Ici\n```\n````\n\n"
)


def test_a_session_block_shown_as_an_example_inside_a_longer_fence_is_code(make_project) -> None:
    """Parser, email, text, page and checks read fences alike: the example is code, and the real
    session after it gets its card at its own place (the renderer used to take the example for a
    session, give it the real one's card, and leave a stash placeholder in the text)."""
    root = make_project(
        {"issues/001.md": body("```session").replace("Le jeudi", EXAMPLE.format(title="Exemple") + "Le jeudi")}
    )
    assert run("build", "-C", str(root)).exit_code == 0
    text = (root / "dist" / "email" / "001.txt").read_text(encoding="utf-8")
    assert "```session\ntitle: Exemple\n" in text and "wzxhzdk" not in text
    assert (
        text.index("title: Exemple")
        < text.index("Le jeudi 7 avril")
        < text.index("RENDEZ-VOUS\u00a0: Atelier mobilité")
    )
    for page in (root / "dist" / "email" / "001.html", root / "dist" / "numeros" / "001" / "index.html"):
        html = page.read_text(encoding="utf-8")
        code = re.search(r"<pre[^>]*>.*?</pre>", html, re.S)
        assert code and "title: Exemple" in code.group(0), page
        assert html.count("Exemple") == 1, page  # in the code only
        assert code.end() < html.index("Le jeudi 7 avril") < html.index("Ajouter à mon agenda"), page
    assert [path.name for path in (root / "dist" / "calendars" / "sessions").glob("*.ics")] == [
        "numero-001-atelier-mobilite.ics"
    ]


def test_a_stub_shown_as_an_example_is_not_a_session_to_complete(make_project) -> None:
    root = make_project(
        {"issues/001.md": body("```session").replace("Le jeudi", EXAMPLE.format(title="À COMPLÉTER") + "Le jeudi")}
    )
    result = run("check", "-C", str(root))
    assert result.exit_code == 0, result.output
    assert "à compléter" not in result.output


def test_fenced_blocks_run_to_their_closing_line() -> None:
    lines = ["a", "````md", "```session", "x", "```", "````", "b", "~~~", "```", "~~~~", "c", "```", "open"]
    read = [(index, block and (block.opening.marker, block.end)) for index, block in fenced_blocks(lines)]
    assert read == [(0, None), (1, ("````", 5)), (6, None), (7, ("~~~", 9)), (10, None), (11, ("```", None))]
    blocks = [block for _, block in fenced_blocks(lines) if block]
    assert blocks[0].body(lines) == ["```session", "x", "```"] and blocks[-1].body(lines) == ["open"]
