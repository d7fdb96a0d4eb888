"""`newsletter new`: the next issue, with every rubric in place, that builds at once and never overwrites."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MINIMAL_BODY, issue_text

from newsletter.cli import cli
from newsletter.desk.new import write_new
from newsletter.errors import SourceError
from newsletter.parse.issue import parse_issue
from newsletter.settings import DEFAULT_RUBRICS, Settings, load_settings


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


def test_new_then_build_works_on_an_empty_project(make_project) -> None:
    root = make_project()
    result = run("new", "-C", str(root), "--date", "2022-09-29", "--title", "Faire équipe à quatre")
    assert result.exit_code == 0, result.output
    path = root / "issues" / "001-faire-equipe-a-quatre.md"
    assert path.name in result.output
    text = path.read_text(encoding="utf-8")
    assert text.startswith('---\nnumber: 1\ndate: 2022-09-29\ntitle: "Faire équipe à quatre"\ndraft: true')

    parsed = parse_issue(path, Settings())
    assert not parsed.errors, parsed.problems
    issue = parsed.issue
    assert [s.rubric.key for s in issue.sections] == [r.key for r in DEFAULT_RUBRICS]
    assert issue.greeting == "Bonjour à toutes et à tous,"
    for section in issue.sections:  # a one-line hint under every heading
        hint = section.body.markdown.split("\n")[0]
        assert re.fullmatch(r"<!-- À écrire : .+ -->", hint), (section.rubric.key, hint)
    a_suivre = issue.section("a-suivre").body.markdown
    assert "```session\n" in a_suivre and 'title: "À COMPLÉTER"' in a_suivre and "start: 2022-09-29" in a_suivre

    built = run("build", "-C", str(root))
    assert built.exit_code == 0, built.output
    email = (root / "dist" / "email" / "001.html").read_text(encoding="utf-8")
    text_part = (root / "dist" / "email" / "001.txt").read_text(encoding="utf-8")
    assert "Faire équipe à quatre" in email and "Faire équipe à quatre" in text_part
    visible = re.sub(r"<!--.*?-->", "", email, flags=re.S)
    assert "À écrire" not in visible and "À écrire" not in text_part  # hints never reach a reader
    for rubric in DEFAULT_RUBRICS:
        assert rubric.title in text_part


def test_the_next_number_and_today_by_default(make_project) -> None:
    root = make_project({"issues/001-premier.md": issue_text(MINIMAL_BODY)})
    before = dt.date.today()
    result = run("new", "-C", str(root))
    assert result.exit_code == 0, result.output
    path = root / "issues" / "002.md"
    issue = parse_issue(path, Settings()).issue
    assert issue.number == 2
    assert before <= issue.date <= dt.date.today()
    assert issue.title == "À COMPLÉTER"


def test_check_flags_what_is_left_to_complete_until_it_is(make_project) -> None:
    root = make_project()
    assert run("new", "-C", str(root), "--date", "2022-09-29").exit_code == 0
    path = root / "issues" / "001.md"
    check = run("check", "-C", str(root))
    assert check.exit_code == 1
    assert re.search(r"001\.md:4: erreur : titre du numéro à compléter", check.output)
    assert re.search(r"001\.md:\d+: erreur : séance à compléter", check.output)
    assert "rubrique « Édito » encore à écrire" in check.output

    text = path.read_text(encoding="utf-8")
    text = text.replace('title: "À COMPLÉTER"\ndraft', 'title: "Un vrai titre"\ndraft', 1)
    text = text.replace('title: "À COMPLÉTER"', 'title: "Atelier sur l’eau"')
    path.write_text(text, encoding="utf-8")
    check = run("check", "-C", str(root))
    assert check.exit_code == 0, check.output
    assert ": erreur :" not in check.output


def test_a_catalogue_of_its_own_gets_its_own_headings_and_taglines_as_hints(make_project) -> None:
    settings = (
        '[[rubrics]]\nkey = "une"\ntitle = "À la une"\nemoji = "📰"\ntagline = "Ce qui compte cette semaine."\n\n'
        '[[rubrics]]\nkey = "agenda"\ntitle = "Agenda"\n'
    )
    root = make_project({"newsletter.toml": settings})
    assert run("new", "-C", str(root), "-d", "2023-01-05", "-t", "Janvier").exit_code == 0
    text = (root / "issues" / "001-janvier.md").read_text(encoding="utf-8")
    assert "## 📰 À la une\n\n<!-- À écrire : Ce qui compte cette semaine. -->" in text
    assert "## Agenda\n\n<!-- À écrire : le contenu de la rubrique « Agenda ». -->" in text
    issue = parse_issue(root / "issues" / "001-janvier.md", load_settings(root)).issue
    assert [s.rubric.key for s in issue.sections] == ["une", "agenda"]


def test_a_number_that_exists_is_refused_and_nothing_is_written(make_project) -> None:
    root = make_project({"issues/001-premier.md": issue_text(MINIMAL_BODY)})
    before = sorted(p.name for p in (root / "issues").iterdir())
    result = run("new", "-C", str(root), "--number", "1", "--date", "2022-09-29")
    assert result.exit_code == 1
    assert "le numéro 1 existe déjà" in one_line(result.output)
    assert sorted(p.name for p in (root / "issues").iterdir()) == before


def test_a_file_name_taken_by_a_broken_issue_is_a_taken_number(make_project) -> None:
    root = make_project({"issues/001-casse.md": "pas d’en-tête"})
    result = run("new", "-C", str(root), "-n", "1", "-d", "2022-09-29")
    assert result.exit_code == 1 and "existe déjà" in one_line(result.output)
    assert (root / "issues" / "001-casse.md").read_text(encoding="utf-8") == "pas d’en-tête"
    assert run("new", "-C", str(root), "-d", "2022-09-29").exit_code == 0
    assert (root / "issues" / "002.md").exists()


@pytest.mark.parametrize("date", ["2022-02-30", "demain", "29/09/2022"])
def test_a_date_that_is_not_a_date_is_one_line(make_project, date: str) -> None:
    root = make_project()
    result = run("new", "-C", str(root), "--date", date)
    assert result.exit_code == 1
    assert f"« {date} » n’est pas une date" in one_line(result.output)
    assert not list((root / "issues").iterdir())


def test_a_folder_without_issues_is_one_line(tmp_path: Path) -> None:
    result = run("new", "-C", str(tmp_path), "--date", "2022-09-29")
    assert result.exit_code == 1
    assert "pas de dossier issues/" in one_line(result.output)
    assert not list(tmp_path.iterdir())


def test_writing_never_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "004.md"
    path.write_text("le texte de l’équipe", encoding="utf-8")
    with pytest.raises(SourceError, match="existe déjà"):
        write_new(path, "autre chose")
    assert path.read_text(encoding="utf-8") == "le texte de l’équipe"
    assert [p.name for p in tmp_path.iterdir()] == ["004.md"]  # no temporary file left behind
