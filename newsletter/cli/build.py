"""`newsletter build` and `newsletter check`."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.common import Failure, open_project, project_option, reports_errors


@click.command()
@project_option
@click.option(
    "-o",
    "--dist",
    "dist_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Dossier de sortie (par défaut : dist/ dans le projet).",
)
@click.option("--force", is_flag=True, help="Tout recompiler, même ce qui n’a pas changé.")
@reports_errors
def build(project_dir: Path, dist_dir: Path | None, force: bool) -> None:
    """Compile chaque numéro de issues/ en MJML, HTML, texte et .eml."""
    from newsletter.pipeline import build as run_build

    project = open_project(project_dir)
    dist = dist_dir or project.root / "dist"
    report = run_build(project, dist, force=force)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(report.built)} numéro(s) compilé(s), {len(report.unchanged)} inchangé(s) → {dist}")
    if report.failed:
        errors = sum(1 for p in report.problems if p.is_error)
        raise Failure(f"{errors} erreur(s) : les numéros concernés n’ont pas été compilés")


@click.command()
@project_option
@reports_errors
def check(project_dir: Path) -> None:
    """Signale les erreurs et avertissements de chaque numéro, au format fichier:ligne: message."""
    from newsletter.pipeline import check as run_check

    problems = run_check(open_project(project_dir))
    for problem in problems:
        click.echo(str(problem))
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    click.echo(f"{errors} erreur(s), {warnings} avertissement(s)", err=True)
    if errors:
        raise SystemExit(1)
