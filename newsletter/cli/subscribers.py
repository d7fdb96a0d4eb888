"""`newsletter subscribers import|add|remove|list|export|purge-pending`."""

from __future__ import annotations

import datetime as dt
import io
from contextlib import contextmanager
from pathlib import Path

import click

from newsletter.cli.common import open_project, project_option, reports_errors

STATUS_CHOICE = click.Choice(["subscribed", "pending", "unsubscribed", "bounced"])


@contextmanager
def _store(project_dir: Path):
    from newsletter.send.config import sending_config
    from newsletter.subscribers import SubscriberStore, open_database

    project = open_project(project_dir)
    connection = open_database(sending_config(project.settings, project.root).database)
    try:
        yield SubscriberStore(connection)
    finally:
        connection.close()


@click.group(subcommand_metavar="COMMANDE [ARGUMENTS]...")
def subscribers() -> None:
    """Gère les abonnés : import CSV, ajout, retrait, liste, export."""


@subscribers.command("import")
@project_option
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--encoding",
    default="utf-8",
    show_default=True,
    help="Encodage du fichier (cp1252 pour un CSV d’Excel sous Windows).",
)
@click.option("--source", help="Origine du consentement à noter (par défaut : « import FICHIER »).")
@reports_errors
def import_command(project_dir: Path, csv_file: Path, encoding: str, source: str | None) -> None:
    """Importe les abonnés d’un fichier CSV (colonne email obligatoire ; name, territory, role, status,
    consent_date, consent_source facultatives ; séparateur , ou ;).

    Chaque ligne fautive est signalée avec son numéro et ignorée ; les bonnes sont importées. Réimporter
    le même fichier ne change rien, et ne réabonne jamais quelqu’un qui s’est désabonné.
    """
    from newsletter.subscribers.csvio import import_csv

    with _store(project_dir) as store:
        report = import_csv(store, csv_file, encoding=encoding, source=source)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    if report.ignored_columns:
        click.echo(f"colonnes ignorées : {', '.join(report.ignored_columns)}", err=True)
    click.echo(
        f"{report.added} ajouté(s), {report.completed} complété(s), {report.unchanged} déjà présent(s), "
        f"{len(report.problems)} ligne(s) ignorée(s)."
    )
    if report.problems:
        raise SystemExit(1)


@subscribers.command()
@project_option
@click.argument("address")
@click.option("--name", default="", help="Nom, pour la salutation (« Bonjour Léa, »).")
@click.option("--territory", default="", help="Territoire.")
@click.option("--role", default="", help="Rôle ou fonction.")
@click.option("--source", default="ajout manuel", show_default=True, help="Origine du consentement.")
@click.option("--consent-date", help="Date du consentement (AAAA-MM-JJ ; par défaut aujourd’hui).")
@reports_errors
def add(
    project_dir: Path, address: str, name: str, territory: str, role: str, source: str, consent_date: str | None
) -> None:
    """Abonne ADDRESS (ou la réabonne, si elle s’était désabonnée)."""
    from newsletter.subscribers.store import Entry

    entry = Entry(
        address,
        name=name,
        territory=territory,
        role=role,
        consent_source=source,
        consent_date=consent_date or dt.date.today().isoformat(),
    )
    with _store(project_dir) as store:
        before = store.get(entry.address)
        subscriber, created = store.add(entry)
    if created:
        click.echo(f"abonné : {subscriber.address}")
    elif before.status != "subscribed":
        click.echo(f"réabonné : {subscriber.address}")
    else:
        click.echo(f"déjà abonné, mis à jour : {subscriber.address}")


@subscribers.command()
@project_option
@click.argument("address")
@click.option(
    "--purge",
    is_flag=True,
    help="Effacer l’adresse et son historique d’envoi (droit à l’effacement) au lieu de la garder comme désabonnée.",
)
@reports_errors
def remove(project_dir: Path, address: str, purge: bool) -> None:
    """Désabonne ADDRESS (gardée comme désabonnée, pour qu’un import ne la réabonne pas)."""
    with _store(project_dir) as store:
        subscriber = store.remove(address, purge=purge)
    click.echo(f"{'effacé' if purge else 'désabonné'} : {subscriber.address}")


@subscribers.command("list")
@project_option
@click.option("--status", type=STATUS_CHOICE, help="Seulement ce statut.")
@click.option("--territory", help="Seulement ce territoire.")
@reports_errors
def list_command(project_dir: Path, status: str | None, territory: str | None) -> None:
    """Liste les abonnés : adresse, nom, territoire, rôle, état (séparés par des tabulations).

    L’état est abonné, en attente (inscrit par le formulaire, pas encore confirmé), désabonné ou en
    erreur (adresse qui rebondit : plus rien ne lui est envoyé),
    avec le nombre de numéros de suite en rebond temporaire s’il y en a.
    """
    from newsletter.subscribers.store import STATUS_LABELS

    shown = 0
    with _store(project_dir) as store:
        for s in store.all(status=status, territory=territory):
            state = STATUS_LABELS[s.status]
            if s.soft_bounces:
                state += f" ({s.soft_bounces} rebond(s) temporaire(s) de suite)"
            click.echo("\t".join((s.address, s.name, s.territory, s.role, state)))
            shown += 1
        summary = _summary(store)
    click.echo(f"{shown} affiché(s) ; {summary}", err=True)


def _summary(store) -> str:
    """Counts per state, then the subscribed addresses per consent source, for the editors."""
    counts = store.counts()
    states = (
        f"en tout {counts['subscribed']} abonné(s), {counts['pending']} en attente de confirmation, "
        f"{counts['unsubscribed']} désabonné(s), {counts['bounced']} en erreur, {counts['erased']} effacé(s)."
    )
    sources = store.sources()
    if not sources:
        return states
    return states + "\nAbonnés par origine du consentement : " + ", ".join(f"{k} {v}" for k, v in sources.items()) + "."


@subscribers.command()
@project_option
@click.argument("output", required=False, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--status", type=STATUS_CHOICE, help="Seulement ce statut.")
@reports_errors
def export(project_dir: Path, output: Path | None, status: str | None) -> None:
    """Exporte les abonnés en CSV UTF-8 (vers OUTPUT, ou la sortie standard), relisible par import."""
    from newsletter.fsutil import write_atomic
    from newsletter.subscribers.csvio import export_csv

    buffer = io.StringIO()
    with _store(project_dir) as store:
        count = export_csv(store, buffer, status=status)
        summary = _summary(store)
    if output is None or str(output) == "-":
        click.echo(buffer.getvalue(), nl=False)
    else:
        write_atomic(output, buffer.getvalue())
        click.echo(f"{count} abonné(s) exporté(s) dans {output}", err=True)
    click.echo(summary, err=True)


@subscribers.command("purge-pending")
@project_option
@click.option(
    "--older-than",
    "older_than",
    default="30d",
    show_default=True,
    help="Âge des inscriptions jamais confirmées à effacer : 30d (jours) ou 48h (heures).",
)
@reports_errors
def purge_pending(project_dir: Path, older_than: str) -> None:
    """Efface les inscriptions par formulaire jamais confirmées, plus anciennes que --older-than."""
    age = _age(older_than)
    with _store(project_dir) as store:
        removed = store.purge_pending(dt.datetime.now(dt.UTC) - age)
    click.echo(f"{removed} inscription(s) non confirmée(s) effacée(s) (demandées il y a plus de {older_than}).")


def _age(text: str) -> dt.timedelta:
    import re

    from newsletter.cli.common import Failure

    match = re.fullmatch(r"\s*(\d{1,5})\s*([dhj])\s*", text)
    if not match:
        raise Failure(f"durée invalide « {text} » : écrivez par exemple 30d (jours) ou 48h (heures)")
    number, unit = int(match.group(1)), match.group(2)
    return dt.timedelta(hours=number) if unit == "h" else dt.timedelta(days=number)
