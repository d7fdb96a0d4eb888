"""`newsletter rectificatif N`: tell those who received issue N what changed in its sessions, once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from newsletter.cli.common import Failure, open_project, project_option, reports_errors
from newsletter.cli.send import (
    _confirm,
    _describe,
    _gate,
    _report,
    _run_with_progress,
    _send_test,
    prepare,
    sending_options,
)


@click.command()
@project_option
@click.argument("issue", type=int)
@sending_options
@click.option(
    "--cancel-removed", is_flag=True, help="Annoncer annulées les séances retirées du numéro depuis son envoi."
)
@reports_errors
def rectificatif(
    project_dir: Path,
    issue: int,
    test_to: tuple[str, ...],
    transport: str | None,
    cancel_removed: bool,
    resend_unknown: bool,
    yes: bool,
) -> None:
    """Envoie un rectificatif du numéro ISSUE : ce qui a changé dans ses séances depuis son envoi,
    avec le fichier .ics mis à jour, à chaque abonné qui l’a reçu et l’est encore (ou un test avec --to).

    Relancer la même commande reprend un envoi interrompu ; sans nouveau changement, elle n’envoie rien.
    """
    from newsletter.send import corrections as store_corrections
    from newsletter.send import open_store, sending_config

    project = open_project(project_dir)
    config = sending_config(project.settings, project.root)
    kind = transport or config.transport
    the_issue = project.issue(issue)
    store = open_store(config)
    try:
        if not store_corrections.was_sent(store.db, issue):
            raise Failure(
                f"le numéro {issue} n’a pas été envoyé aux abonnés : il n’y a rien à rectifier "
                f"(modifiez-le simplement, puis « newsletter send {issue} »)"
            )
        warnings = [] if test_to else _gate(project, issue)
        found = None if test_to else store_corrections.open_round(store.db, issue)
        if found is None and resend_unknown and not test_to:
            found = store_corrections.round_with_unknown(store.db, issue)
        if found is not None:
            click.echo(
                f"Reprise du rectificatif {found.round} du numéro {issue}, commencé le "
                f"{dt.datetime.fromisoformat(found.created_at).astimezone(project.settings.tz):%d/%m à %H:%M}.",
                err=True,
            )
        else:
            composition = _compose(project, store, config, the_issue, cancel_removed)
            if composition is None:
                return
            if test_to:
                _send_test(config, store, composition.letter, kind, test_to)
                return
            found = _start(project, store, composition, issue)
        _send(project, config, store, found, kind, resend_unknown, yes, len(warnings))
    finally:
        store.db.close()


def _compose(project, store, config, issue, cancel_removed: bool):
    """The correction to send now, or None (said why) when there is nothing new to tell."""
    from newsletter.corrections import changes, keep_id
    from newsletter.pipeline.corrections import announced, compose
    from newsletter.send import corrections as store_corrections

    told = store_corrections.told(store.db, issue.number)
    sessions, problems = announced(project, issue)
    if problems:
        raise Failure(str(problems[0]))
    found = changes(issue, told, project.settings.tz, project.settings.locale, sessions)
    renamed = [change for change in found if change.kind == "renamed"]
    if renamed:
        first = renamed[0]
        where = f"{first.session.path or issue.path}:{first.session.line}" if first.session else f"{issue.path}"
        raise Failure(
            f"{where}: séance « {first.title} » : son id a "
            f"changé depuis l’envoi ({first.session_id} → {first.new_id}) ; {keep_id(first)}, puis relancez"
        )
    removed = [change for change in found if change.kind == "removed"]
    if removed and not cancel_removed:
        for change in removed:
            click.echo(
                f"séance « {change.title} » retirée du numéro : non annoncée (ajoutez --cancel-removed pour "
                "l’annoncer annulée)",
                err=True,
            )
    told_changes = [
        change for change in found if change.kind == "changed" or (cancel_removed and change.kind == "removed")
    ]
    if not told_changes:
        click.echo(
            f"Rien de nouveau à dire aux abonnés du numéro {issue.number} : ses séances sont telles qu’ils les "
            "connaissent. Aucun message envoyé."
        )
        return None
    return compose(project, issue, told, told_changes, (config.sender_name, config.sender_address))


def _start(project, store, composition, issue: int):
    """A new round: the build's files first (idempotent), then the round in the database."""
    from newsletter.pipeline.corrections import publish
    from newsletter.send import corrections as store_corrections

    number = store_corrections.next_round(store.db, issue)
    publish(project, composition, issue, number, dt.datetime.now(project.settings.tz).date())
    return store_corrections.start_round(store.db, issue, number, composition.letter, composition.target)


def _send(project, config, store, found, kind: str, resend_unknown: bool, yes: bool, warnings: int) -> None:
    from newsletter.send import corrections as store_corrections
    from newsletter.send import new_sender

    sender = new_sender(config, store, found.letter, kind, resend_unknown=resend_unknown)
    total = prepare(sender)
    if total:
        titles = ", ".join(
            snapshot["title"] if snapshot else f"{key} (annulée)" for key, snapshot in found.target.items()
        )
        _describe(config, sender, total, kind, warnings, f"séances : {titles}")
    if total and kind == "smtp" and not yes:
        _confirm(f"Envoyer le rectificatif du numéro {found.issue} à {total} adresse(s) ?")
    summary = _run_with_progress(sender, total, kind)
    settled = summary.complete and not (
        summary.counts.get("unknown") and (resend_unknown or config.unknown == "resend")
    )
    settled = settled and found.settled_at is None
    if settled:
        store_corrections.settle(store.db, found)
    what = f"Rectificatif {found.round} du numéro {found.issue}"
    _report(store, found.issue, summary, config.unknown, project.settings.tz, sender.journal, what)
    if settled:
        click.echo(f"{what} : terminé ; « newsletter check » ne signale plus ces changements.")
