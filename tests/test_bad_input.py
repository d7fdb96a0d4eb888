"""The bad-input corpus: one French line naming file and line, exit 1, nothing written, no traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA, MINIMAL_BODY, issue_text

from newsletter.cli import cli

BAD = DATA / "bad"

# file -> (line, what the message must say)
EXPECTED = {
    "latin1.md": (9, "n’est pas encodé en UTF-8"),
    "no_front_matter.md": (1, "en-tête YAML absent"),
    "unclosed_front_matter.md": (1, "en-tête YAML non fermé"),
    "broken_yaml.md": (4, "en-tête YAML invalide"),
    "yaml_colon.md": (4, "un « : » dans une valeur : mettez la valeur entre guillemets"),
    "impossible_date.md": (3, "« date » n’est pas une date valide"),
    "not_a_date.md": (4, "« date » n’est pas une date valide"),
    "number_not_integer.md": (2, "« number » doit être un nombre entier"),
    "no_title.md": (1, "il manque « title »"),
    "empty_title.md": (4, "« title » est vide"),
    "unknown_rubric.md": (11, "rubrique inconnue « Recettes de cuisine »"),
    "misspelt_rubric.md": (7, "rubrique inconnue « Editto » ; vouliez-vous dire « 🗣️ Édito » ?"),
    "rubric_twice.md": (15, "rubrique « À suivre… » donnée deux fois (déjà ligne 11)"),
    "empty.md": (1, "fichier vide"),
    "blank.md": (1, "fichier vide"),
    "binary.md": (3, "fichier binaire"),
    "front_matter_list.md": (2, "attendu des lignes « clé: valeur »"),
    "unclosed_fence.md": (9, "bloc « ``` » ouvert ici et jamais fermé"),
}


def test_the_corpus_and_the_table_agree() -> None:
    assert sorted(p.name for p in BAD.glob("*.md") if p.name != "README.md") == sorted(EXPECTED)


def project_with(make_project, bad: Path | None = None, name: str = "bad.md") -> Path:
    root = make_project({"issues/001-bon.md": issue_text(MINIMAL_BODY)})
    if bad is not None:
        shutil.copy(bad, root / "issues" / name)
    return root


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("command", ["build", "check"])
def test_bad_issue_is_refused_with_one_located_line(make_project, name: str, command: str) -> None:
    root = project_with(make_project, BAD / name, name)
    result = CliRunner().invoke(cli, [command, "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 1
    line, fragment = EXPECTED[name]
    output = result.output.splitlines()
    about = [entry for entry in output if entry.startswith(str(root / "issues" / name))]
    assert about == [f"{root / 'issues' / name}:{line}: erreur : {fragment}"] or (
        len(about) == 1 and about[0].startswith(f"{root / 'issues' / name}:{line}: erreur : ") and fragment in about[0]
    ), output
    if command == "build":
        built = sorted(p.name for p in (root / "dist" / "email").iterdir())
        assert built == ["001.eml", "001.html", "001.mjml", "001.txt"]
        assert not list((root / "dist").rglob("*.tmp"))


def test_duplicate_numbers_are_an_error_on_the_later_file(make_project) -> None:
    root = make_project(
        {"issues/001-a.md": issue_text(MINIMAL_BODY), "issues/002-b.md": issue_text(MINIMAL_BODY, title="Autre")}
    )
    result = CliRunner().invoke(cli, ["build", "-C", str(root)])
    assert result.exit_code == 1
    assert f"{root / 'issues' / '002-b.md'}:2: erreur : numéro 1 déjà utilisé par 001-a.md" in result.output
    # The first claimant still builds.
    assert (root / "dist" / "email" / "001.html").exists()


def test_duplicate_number_against_an_unchanged_issue_is_still_caught(make_project) -> None:
    root = make_project({"issues/001-a.md": issue_text(MINIMAL_BODY)})
    assert CliRunner().invoke(cli, ["build", "-C", str(root)]).exit_code == 0
    (root / "issues" / "002-b.md").write_text(issue_text(MINIMAL_BODY, title="Autre"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "-C", str(root)])
    assert result.exit_code == 1
    assert "numéro 1 déjà utilisé par 001-a.md" in result.output


def test_several_megabyte_file_is_refused_at_once(make_project) -> None:
    root = project_with(make_project)
    huge = root / "issues" / "002-enorme.md"
    huge.write_text(issue_text("## Édito\n\n" + "Une phrase qui se répète. " * 200_000, number=2), encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 1
    assert f"{huge}: erreur : fichier trop volumineux (5,6 Mo ; au plus 1 Mo)" in result.output
    assert not (root / "dist" / "email" / "002.html").exists()


def test_a_bad_settings_file_is_one_line_too(make_project) -> None:
    root = project_with(make_project)
    (root / "newsletter.toml").write_text("[newsletter]\nname = 12\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output == f"{root / 'newsletter.toml'}:2: « name » doit être un texte\n"


def test_a_missing_project_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "-C", str(tmp_path / "absent")], catch_exceptions=False)
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_through_the_real_entry_point_there_is_no_traceback(make_project) -> None:
    root = project_with(make_project, BAD / "latin1.md", "latin1.md")
    process = subprocess.run(
        [sys.executable, "-m", "newsletter", "build", "-C", str(root)], capture_output=True, text=True
    )
    assert process.returncode == 1
    assert "Traceback" not in process.stderr
    assert f"{root / 'issues' / 'latin1.md'}:9: erreur : le fichier n’est pas encodé en UTF-8" in process.stderr


def test_invisible_control_characters_are_dropped_not_fatal(make_project) -> None:
    body = MINIMAL_BODY.replace("Une introduction.", "Une intro\x0bduction\x0c pastée.")
    root = make_project({"issues/001.md": issue_text(body)})
    result = CliRunner().invoke(cli, ["build", "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = (root / "dist" / "email" / "001.txt").read_text(encoding="utf-8")
    assert "Une introduction pastée." in text


def test_an_output_folder_behind_a_file_is_one_french_line_naming_the_folder(make_project) -> None:
    """The system's « Not a directory » is told in French, at the folder the build could not make,
    not at the temporary file it was about to write."""
    root = make_project({"issues/001.md": issue_text(MINIMAL_BODY)})
    (root / "un-fichier").write_text("", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "-C", str(root), "--dist", str(root / "un-fichier" / "dist")])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        f"{root / 'un-fichier' / 'dist' / 'email'}: un fichier est sur le chemin, là où il faut un dossier"
    ]


def test_the_reasons_of_the_system_are_told_in_french() -> None:
    import errno
    import os

    from newsletter.errors import os_reason

    assert os_reason(PermissionError(errno.EACCES, os.strerror(errno.EACCES), "x")) == "permission refusée"
    assert os_reason(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))) == "disque plein"
    assert os_reason(OSError(errno.EXDEV, os.strerror(errno.EXDEV))) == os.strerror(errno.EXDEV)  # not in the table
    assert os_reason(OSError("sans numéro")) == "sans numéro"


def test_a_link_to_nowhere_in_issues_is_an_error_not_an_issue_lost_unseen(make_project) -> None:
    """A symbolic link named like an issue whose target is gone (or that loops) was skipped without
    a word: the issue it stood for was missing from the archive and nobody was told."""
    root = make_project({"issues/001.md": issue_text(MINIMAL_BODY)})
    (root / "issues" / "002-partage.md").symlink_to(root / "ailleurs" / "002.md")
    (root / "issues" / "003-a.md").symlink_to(root / "issues" / "003-b.md")
    (root / "issues" / "003-b.md").symlink_to(root / "issues" / "003-a.md")
    result = CliRunner().invoke(cli, ["build", "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 1
    issues = root / "issues"
    assert f"{issues / '002-partage.md'}: erreur : lecture impossible (fichier ou dossier introuvable)" in result.output
    assert f"{issues / '003-a.md'}: erreur : lecture impossible (liens symboliques en boucle)" in result.output
    assert (root / "dist" / "email" / "001.html").is_file()  # the readable issue is built all the same
