"""The editor's desk: `newsletter new`, `import`, `preview` and `snapshot`."""

from __future__ import annotations

import datetime as dt
import signal
from pathlib import Path

import click

from newsletter.cli.common import Failure, open_project, project_option, reports_errors


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
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fichier à écrire (par défaut : issues/NNN-titre.md).",
)
@click.option("--title", "-t", help="Titre du numéro (sinon le titre de l’édito).")
@click.option(
    "--date", "-d", "date_text", metavar="AAAA-MM-JJ", help="Date de parution (sinon estimée d’après « À suivre »)."
)
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
        click.echo(
            f"{len(imported.sessions)} séance(s) à compléter : « newsletter check » les signale jusqu’à ce qu’elles le soient"
        )


@click.command()
@project_option
@click.option("-p", "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port du serveur.")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Adresse d’écoute (127.0.0.1 : cet ordinateur seulement)."
)
@click.option("--open", "open_browser", is_flag=True, help="Ouvrir l’aperçu dans le navigateur.")
@reports_errors
def preview(project_dir: Path, port: int, host: str, open_browser: bool) -> None:
    """Sert un aperçu local : la liste des numéros, et pour chacun l’email à 375 px et 640 px, la
    version texte, la page web et les problèmes de « check ». Se met à jour à chaque modification."""
    from newsletter.desk.preview import Preview

    open_project(project_dir)  # a missing folder or broken settings: say so before serving

    def report(state) -> None:
        errors = sum(entry.errors for entry in state.issues) + len(state.problems)
        click.echo(f"compilation n°{state.generation} : {len(state.issues)} numéro(s), {errors} erreur(s)", err=True)

    server = Preview(project_dir, host=host, port=port, on_build=report).start()
    signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly when killed politely, as on Ctrl-C
    click.echo(f"Aperçu sur {server.url} (Ctrl-C pour arrêter)")
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        click.echo("Aperçu arrêté.")


@click.command()
@project_option
@click.argument("issue")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Dossier des images (par défaut : dist/snapshots/).",
)
@click.option(
    "--width",
    "-w",
    "widths",
    type=click.IntRange(200, 3000),
    multiple=True,
    help="Largeur en pixels (répétable ; par défaut 375 et 640).",
)
@click.option("--dark", is_flag=True, help="Aussi en mode sombre (images …-dark.png).")
@reports_errors
def snapshot(project_dir: Path, issue: str, output: Path | None, widths: tuple[int, ...], dark: bool) -> None:
    """Enregistre des images PNG de l’email du numéro ISSUE (son numéro ou son fichier) au format
    téléphone et ordinateur, prises avec Chromium sans interface, et signale les défauts de mise en page."""
    import tempfile

    from newsletter.desk.browser import WIDTHS, Browser
    from newsletter.desk.browser import snapshot as take
    from newsletter.pipeline.emails import write_email

    project = open_project(project_dir)
    the_issue = _find_issue(project, issue)
    folder = output or project.root / "dist" / "snapshots"
    with tempfile.TemporaryDirectory(prefix="newsletter-snapshot-") as scratch:
        problems = [p for p in write_email(project, the_issue, Path(scratch)) if p.is_error]
        if problems:
            raise Failure(str(problems[0]))
        html = Path(scratch) / "email" / f"{the_issue.slug}.html"
        with Browser() as browser:
            shots = [
                shot
                for scheme in (("light", "dark") if dark else ("light",))
                for shot in take(browser, html, folder, the_issue.slug, widths or WIDTHS, scheme)
            ]
    for shot in shots:
        click.echo(f"{_relative(shot.picture)} ({shot.width} px{', mode sombre' if shot.scheme == 'dark' else ''})")
        for problem in shot.problems:
            click.echo(f"attention : {problem}", err=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _find_issue(project, issue: str):
    from newsletter.errors import SourceError
    from newsletter.parse.issue import load_issue

    if issue.isdigit():
        return project.issue(int(issue))
    path = Path(issue)
    if not path.is_file():
        raise SourceError(path, None, "ni un numéro ni un fichier de numéro")
    return load_issue(path, project.settings)
