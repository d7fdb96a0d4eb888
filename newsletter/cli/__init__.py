"""The `newsletter` command: a Click group whose commands load lazily.

`newsletter --help` must answer in well under 0.3 s, so no command module (and none of Markdown,
MRML, Jinja2, Babel…) is imported until its command runs.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import click

from newsletter.cli import french

french.install()  # before the commands below: their decorators translate as they apply

# name -> ("module:attribute", one-line help shown by `newsletter --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "build": ("newsletter.cli.build:build", "Compile les numéros (email, texte, .eml) dans dist/."),
    "check": ("newsletter.cli.build:check", "Vérifie les numéros et signale chaque problème."),
    "new": ("newsletter.cli.desk:new", "Commence le numéro suivant, avec chaque rubrique en place."),
    "import": ("newsletter.cli.desk:import_issue", "Transforme un ancien numéro en texte brut en numéro Markdown."),
    "preview": (
        "newsletter.cli.desk:preview",
        "Aperçu local (téléphone et ordinateur), rechargé à chaque modification.",
    ),
    "snapshot": ("newsletter.cli.desk:snapshot", "Enregistre des images PNG de l’email, prises avec Chromium."),
    "inspiration": (
        "newsletter.cli.archive:inspiration",
        "Propose en Markdown les derniers articles d’un flux RSS ou Atom.",
    ),
    "send": ("newsletter.cli.send:send", "Envoie un numéro aux abonnés (ou un test avec --to)."),
    "rectificatif": (
        "newsletter.cli.rectificatif:rectificatif",
        "Dit aux abonnés d’un numéro ce qui a changé dans ses séances.",
    ),
    "status": ("newsletter.cli.send:status", "Affiche le journal d’envoi d’un numéro."),
    "bounces": ("newsletter.cli.bounces:bounces", "Lit les rebonds, plaintes et désinscriptions d’une boîte mail."),
    "serve": (
        "newsletter.cli.serve:serve",
        "Sert l’inscription, la page « mes données » et la désinscription (waitress).",
    ),
    "serve-unsubscribe": ("newsletter.cli.serve:serve", "Ancien nom de « serve »."),
    "subscribers": (
        "newsletter.cli.subscribers:subscribers",
        "Gère les abonnés : import CSV, ajout, retrait, liste, export.",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name][0].split(":")
        command = getattr(importlib.import_module(module), attribute)
        self.add_command(command, name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commandes"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    subcommand_metavar="COMMANDE [ARGUMENTS]...",
)
@click.version_option(package_name="newsletter", message="%(prog)s %(version)s")
@click.option(
    "-C",
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Dossier du projet, pour toutes les commandes (aussi accepté après le nom de la commande).",
)
@click.pass_context
def cli(ctx: click.Context, project_dir: Path | None) -> None:
    """Transforme les numéros de la lettre, écrits en Markdown, en emails, agendas et archives."""
    ctx.obj = {"project_dir": project_dir}


def main() -> None:
    """Entry point: our errors are one French line; an unexpected failure is not a traceback."""
    try:
        cli.main(prog_name="newsletter", standalone_mode=True)
    except Exception as error:  # pragma: no cover - last resort, tested through a subprocess
        if os.environ.get("NEWSLETTER_DEBUG"):
            raise
        click.echo(f"erreur interne : {error} (NEWSLETTER_DEBUG=1 pour le détail)", err=True)
        sys.exit(2)
