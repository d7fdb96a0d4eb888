"""`newsletter check`: every problem as file:line: message; warnings keep exit status 0."""

from __future__ import annotations

from click.testing import CliRunner
from conftest import MINIMAL_BODY, ROOT, issue_text

from newsletter.cli import cli

WARNINGS_BODY = """
    Bonjour,

    ## Édito

    ![](https://example.org/photo.jpg)

    Un [lien sans adresse]() et une <img src="x.png"> sans alt.

    <script>alert(1)</script>

    <p onclick="x()">clic</p>

    [Piège](javascript:alert(1))

    ## En théorie

    ## À suivre

    # Un titre de niveau 1

    Texte.
    """


def run_check(root):
    return CliRunner().invoke(cli, ["check", "-C", str(root)], catch_exceptions=False)


def test_the_repository_issues_pass_check() -> None:
    result = run_check(ROOT)
    assert result.exit_code == 0, result.output


def test_warnings_are_reported_with_lines_and_exit_zero(make_project) -> None:
    root = make_project({"issues/001.md": issue_text(WARNINGS_BODY)})
    result = run_check(root)
    assert result.exit_code == 0
    path = root / "issues" / "001.md"
    lines = [line for line in result.output.splitlines() if line.startswith(str(path))]
    assert lines == [
        f'{path}:11: attention : image sans largeur : donnez-la en pixels après l’image, ![…](…){{ width="552" }} (Outlook l’affiche sinon à sa taille réelle)',
        f"{path}:11: attention : image sans texte alternatif : écrivez-le entre les crochets ![…](…)",
        f"{path}:13: attention : image HTML sans attribut alt",
        f'{path}:13: attention : image sans largeur : donnez-la en pixels après l’image, ![…](…){{ width="552" }} (Outlook l’affiche sinon à sa taille réelle)',
        f"{path}:13: attention : lien sans adresse : ajoutez-la entre les parenthèses",
        f"{path}:15: attention : HTML brut <script> : il sera retiré",
        f"{path}:17: attention : HTML brut avec gestionnaire d’événement (on…=) : il sera retiré",
        f"{path}:19: attention : lien javascript: : il sera retiré",
        f"{path}:21: attention : rubrique « En théorie… » vide",
        f"{path}:25: attention : titre de niveau 1 dans le texte : utilisez « ### » pour un intertitre",
    ]
    assert "0 erreur(s), 10 avertissement(s)" in result.output


def test_errors_and_warnings_of_several_files_together(make_project) -> None:
    root = make_project(
        {
            "issues/001.md": issue_text(MINIMAL_BODY),
            "issues/002.md": issue_text("## Edito\n\nA.\n\n## Recettes\n\nB.\n\n## Édito\n\nC.\n", number=2),
            "issues/003.md": issue_text(
                "## Inspiration\n\n- x\n\n## Édito\n\n![](y.png)\n", number=3, extra="auteur: moi\n"
            ),
        }
    )
    result = run_check(root)
    assert result.exit_code == 1
    issue2, issue3 = root / "issues" / "002.md", root / "issues" / "003.md"
    out = result.output
    assert f"{issue2}:11: erreur : rubrique inconnue « Recettes »" in out
    assert f"{issue2}:15: erreur : rubrique « Édito » donnée deux fois (déjà ligne 7)" in out
    assert f"{issue3}:5: attention : champ d’en-tête inconnu « auteur » (ignoré)" in out
    assert f"{issue3}:12: attention : rubrique « Édito » hors de l’ordre du catalogue" in out
    assert f"{issue3}:14: attention : image sans texte alternatif" in out
    assert f"{issue3}:14: attention : image sans largeur" in out
    assert "2 erreur(s), 4 avertissement(s)" in out


def test_an_email_over_gmail_clipping_is_an_error_for_check_and_a_warning_for_build(make_project) -> None:
    """Clipped, the email loses its end and its unsubscribe link: never sent, but still previewable."""
    paragraphs = "\n\n".join(f"Paragraphe {n} " + "avec un peu de texte " * 30 for n in range(250))
    root = make_project({"issues/001.md": issue_text("## Édito\n\n" + paragraphs)})
    result = run_check(root)
    assert result.exit_code == 1
    assert "erreur : l’email fait" in result.output and "Gmail le coupera au-delà de 102 Ko" in result.output
    built = CliRunner().invoke(cli, ["build", "-C", str(root)])
    assert built.exit_code == 0 and "attention : l’email fait" in built.output
