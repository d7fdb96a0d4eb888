"""The editor's desk: `newsletter new`, `import`, `preview` and `snapshot`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from newsletter.cli.common import open_project, project_option, reports_errors


def _date(value: str | None) -> dt.date | None:
    from newsletter.desk.new import parse_date

    return parse_date(value) if value is not None else None


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@click.command()
@project_option
@click.option("--title", "-t", help="Titre du numéro (sinon « À COMPLÉTER »).")
@click.option("--date", "-d", "date_text", metavar="AAAA-MM-JJ", help="Date de parution (par défaut : aujourd’hui).")
@click.option("--number", "-n", type=click.IntRange(min=1), help="Numéro (par défaut : le suivant).")
@reports_errors
def new(project_dir: Path, title: str | None, date_text: str | None, number: int | None) -> None:
    """Commence le numéro suivant dans issues/ : numéro, date, titre, chaque rubrique du catalogue
    avec une indication, et une séance « À suivre » à compléter. N’écrase jamais un fichier."""
    from newsletter.desk.new import new_issue

    date = _date(date_text) or dt.date.today()
    created = new_issue(open_project(project_dir), date, title, number)
    click.echo(f"{_relative(created.path)} créé : numéro {created.number} du {created.date.isoformat()} (brouillon)")


@click.command("import")
@project_option
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Fichier à écrire (par défaut : issues/NNN-titre.md).")
@click.option("--title", "-t", help="Titre du numéro (sinon le titre de l’édito).")
@click.option("--date", "-d", "date_text", metavar="AAAA-MM-JJ", help="Date de parution (sinon estimée d’après « À suivre »).")
@click.option("--number", "-n", type=click.IntRange(min=1), help="Numéro (par défaut : le suivant).")
@reports_errors
def import_issue(
    project_dir: Path, source: Path, output: Path | None, title: str | None, date_text: str | None, number: int | None
) -> None:
    """Transforme un ancien numéro exporté en texte brut (SOURCE) en numéro Markdown : rubriques,
    signature, citations, listes, et une séance à compléter pour chaque date de « À suivre »."""
    from newsletter.desk.importer import import_file

    path, imported = import_file(open_project(project_dir), source, output, number, _date(date_text), title)
    date_note = " (estimée : vérifiez-la)" if imported.date_inferred else ""
    click.echo(
        f"{_relative(path)} créé : numéro {imported.number} du {imported.date.isoformat()}{date_note}, "
        f"{len(imported.rubrics)} rubrique(s)"
    )
    if imported.sessions:
        click.echo(f"{len(imported.sessions)} séance(s) à compléter : « newsletter check » les signale jusqu’à ce qu’elles le soient")
