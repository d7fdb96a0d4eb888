"""`newsletter bounces`: what came back after a send (bounces, complaints, mailto unsubscriptions)."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.common import Failure, open_project, project_option, reports_errors

SHOWN = 30
KIND_LABELS = {
    "hard": "rebond définitif",
    "soft": "rebond temporaire",
    "complaint": "plainte",
    "unsubscribe": "désinscription par email",
}

PLURALS = {
    "hard": "rebonds définitifs",
    "soft": "rebonds temporaires",
    "complaint": "plaintes",
    "unsubscribe": "désinscriptions par email",
}


@click.command()
@project_option
@click.argument("source", required=False)
@click.option("--dry-run", is_flag=True, help="Lire et dire ce qui changerait, sans rien modifier.")
@reports_errors
def bounces(project_dir: Path, source: str | None, dry_run: bool) -> None:
    """Lit les retours d’envoi de SOURCE et met à jour les abonnés.

    SOURCE est un fichier mbox, un dossier Maildir ou imaps://utilisateur@serveur/INBOX (mot de passe
    dans la variable NEWSLETTER_IMAP_PASSWORD) ; par défaut le réglage [bounces] source. Un rebond
    définitif ou plusieurs rebonds temporaires de suite mettent l’adresse en erreur ; une plainte ou
    une demande de désinscription la désabonne. Relire la même boîte ne change rien.
    """
    from newsletter.send import open_store, sending_config, signing_secret
    from newsletter.send.feedback import FeedbackReader
    from newsletter.send.mailboxes import open_mailbox

    project = open_project(project_dir)
    config = sending_config(project.settings, project.root)
    source = source or config.bounces.source
    if not source:
        raise Failure(
            "indiquez la boîte à lire (fichier mbox, dossier Maildir ou imaps://…), "
            "ou le réglage « source » de [bounces]"
        )
    with open_mailbox(source, config.bounces) as mailbox:
        store = open_store(config)
        try:
            report = FeedbackReader(store, config, signing_secret(config, store)).process(mailbox, dry_run=dry_run)
        finally:
            store.db.close()
    _summary(mailbox.where, report, dry_run)


def _summary(where: str, report, dry_run: bool) -> None:
    counts = report.counts
    click.echo(f"{where} : {report.read} message(s) lu(s)")
    rows = [(PLURALS[kind], counts[kind]) for kind in KIND_LABELS]
    rows += [("ignorés", counts["ignored"]), ("déjà traités", counts["already"])]
    for label, count in rows:
        click.echo(f"  {label:<28}{count:>7}")
    for where_, why in report.ignored[:SHOWN]:
        click.echo(f"  ignoré : {where_} : {why}")
    if len(report.ignored) > SHOWN:
        click.echo(f"  … et {len(report.ignored) - SHOWN} autre(s) message(s) ignoré(s)")
    _changes(report.changes, dry_run)


def _changes(changes, dry_run: bool) -> None:
    from newsletter.subscribers.store import STATUS_LABELS

    verb = "changerait" if dry_run else "change"
    if not changes:
        click.echo(f"Aucun abonné ne {verb} d’état." + (" (simulation : rien n’a été modifié)" if dry_run else ""))
        return
    click.echo(f"{len(changes)} abonné(s) {verb}nt d’état :" if len(changes) > 1 else f"1 abonné {verb} d’état :")
    for change in changes[:SHOWN]:
        issue = f", numéro {change.issue}" if change.issue is not None else ""
        detail = f" : {change.detail}" if change.detail else ""
        click.echo(
            f"  {change.address} : {STATUS_LABELS[change.before]} → {STATUS_LABELS[change.after]} "
            f"({KIND_LABELS[change.kind]}{issue}{detail})"
        )
    if len(changes) > SHOWN:
        click.echo(f"  … et {len(changes) - SHOWN} autre(s) (newsletter subscribers list --status bounced)")
    if dry_run:
        click.echo("Simulation (--dry-run) : rien n’a été modifié.")
