"""`newsletter send` and `newsletter status`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from newsletter.cli import french
from newsletter.cli.common import Failure, open_project, project_option, reports_errors

PROBLEM_STATUSES = ("failed", "unknown", "deferred")
SHOWN_PER_STATUS = 20


def sending_options(function):
    """What every command that sends to the list takes: a test (`--to`), the transport, the
    uncertain messages, and the confirmation (shared by `send` and `rectificatif`)."""
    for option in reversed(
        (
            click.option(
                "--to",
                "test_to",
                multiple=True,
                metavar="ADRESSE",
                help="Envoyer un test à cette adresse (répétable) : sujet marqué [TEST], rien n’est journalisé.",
            ),
            click.option(
                "--transport",
                type=click.Choice(["outbox", "smtp"]),
                help="outbox (fichiers .eml) ou smtp ; par défaut le réglage [sending] transport, sinon outbox.",
            ),
            click.option(
                "--resend-unknown",
                is_flag=True,
                help="Renvoyer aussi les messages incertains (connexion coupée après leur remise au serveur).",
            ),
            click.option("-y", "--yes", is_flag=True, help="Envoyer par SMTP sans demander de confirmation."),
        )
    ):
        function = option(function)
    return function


@click.command()
@project_option
@click.argument("issue", type=int)
@sending_options
@reports_errors
def send(
    project_dir: Path, issue: int, test_to: tuple[str, ...], transport: str | None, resend_unknown: bool, yes: bool
) -> None:
    """Envoie le numéro ISSUE à chaque abonné (ou un test avec --to).

    Relancer la même commande reprend un envoi interrompu : personne ne reçoit deux fois un message
    que le serveur a accepté.
    """
    from newsletter.send import new_sender, open_store, sending_config

    project = open_project(project_dir)
    config = sending_config(project.settings, project.root)
    kind = transport or config.transport
    warnings = [] if test_to else _gate(project, issue)
    letter, the_issue, parts = _letter(project, issue)
    store = open_store(config)
    try:
        if test_to:
            _send_test(config, store, letter, kind, test_to)
            return
        if the_issue.draft:
            raise Failure(
                f"le numéro {issue} est un brouillon (draft: true) : envoyez-vous un test avec --to, "
                "ou retirez « draft » pour l’envoyer aux abonnés"
            )
        _record_sessions(project, store, the_issue)
        sender = new_sender(config, store, letter, kind, resend_unknown=resend_unknown)
        total = prepare(sender)
        if total:
            _describe(config, sender, total, kind, len(warnings), parts.preheader)
        if total and kind == "smtp" and not yes:
            _confirm(f"Envoyer le numéro {issue} à {total} adresse(s) ?")
        summary = _run_with_progress(sender, total, kind)
        _report(store, issue, summary, config.unknown, project.settings.tz)
        if not summary.total and not sum(summary.counts.values()):
            click.echo("Aucun abonné : importez-les avec « newsletter subscribers import FICHIER.csv ».")
        elif not summary.total:
            click.echo(
                "Rien à envoyer maintenant : chaque abonné a reçu ce numéro ou attend son tour (voir newsletter status)."
            )
    finally:
        store.db.close()


def _record_sessions(project, store, issue) -> None:
    """What subscribers are about to read of each session, kept for `check` and `rectificatif`."""
    from newsletter.corrections import snapshot_of
    from newsletter.pipeline.calendars import STATE_FILE, PublishedState
    from newsletter.pipeline.corrections import announced
    from newsletter.send.corrections import record_snapshots

    state = PublishedState.read(project.calendars_dir / STATE_FILE)
    sessions, _ = announced(project, issue)  # an unknown programme is an error of the gate
    sequences = {session.id: state.entries.get(session.id, (0, ""))[0] for session in sessions}
    record_snapshots(
        store.db, issue.number, {s.id: (snapshot_of(s, sequences[s.id]), sequences[s.id]) for s in sessions}
    )


def prepare(sender) -> int:
    """Queue the run, say what a previous run left uncertain; how many messages go now."""
    total = sender.prepare()
    if sender.summary.recovered:
        click.echo(
            f"{sender.summary.recovered} message(s) étaient en cours d’envoi quand l’envoi précédent "
            "s’est arrêté : marqués incertains.",
            err=True,
        )
    return total


def _gate(project, number: int) -> list:
    """The checks of `newsletter check` on this issue: any error refuses the send; returns the warnings."""
    from newsletter.pipeline import check

    problems = check(project, only=number)
    for problem in problems:
        click.echo(str(problem), err=True)
    errors = sum(1 for problem in problems if problem.is_error)
    if errors:
        raise Failure(
            f"envoi refusé : {errors} erreur(s) dans le numéro {number} (voir ci-dessus, "
            "ou « newsletter check »). Corrigez-les, puis relancez l’envoi."
        )
    return problems


def _describe(config, sender, total: int, kind: str, warnings: int, preheader: str) -> None:
    """What the subscribers will see, before they see it."""
    html = sender.factory.letter.html
    size = len(sender.factory.build(sender.factory.sample_recipient()).data)
    where = f"SMTP {config.smtp.host}:{config.smtp.port}" if kind == "smtp" else f"boîte d’envoi {config.outbox}"
    shown = {
        "Sujet": sender.factory.subject,
        "Accroche": preheader,
        "Expéditeur": f"{config.sender_name} <{config.sender_address}>",
        "Destinataires": str(total),
        "Taille": f"{size / 1024:.0f} Ko par message ({len(html.encode()) / 1024:.0f} Ko de HTML)",
        "Transport": where,
        "Avertissements": str(warnings),
    }
    lines = [f"{label:<14} : {value}" for label, value in shown.items()]
    click.echo("\n".join(lines), err=True)


def _letter(project, number: int):
    from newsletter.pipeline.emails import letter_of
    from newsletter.render.email import RenderError, render_email

    issue = project.issue(number)
    try:
        parts = render_email(project.settings, issue, project.root)
    except RenderError as error:
        raise Failure(f"{issue.path}: {error}") from error
    return letter_of(project, issue, parts), issue, parts


def _send_test(config, store, letter, kind: str, addresses: tuple[str, ...]) -> None:
    from newsletter.send import MessageFactory, Recipient, new_signer, send_test, signing_secret, transports
    from newsletter.send.tokens import TEST_ID
    from newsletter.subscribers import normalize_address

    recipients = []
    for raw in addresses:
        address = normalize_address(raw)
        known = store.get(address)
        recipients.append(Recipient(TEST_ID, address, known.name if known else ""))
    factory = MessageFactory(config, letter, signing_secret(config, store), test=True, signer=new_signer(config))
    folder = config.outbox / f"{letter.number:03d}" / "test"
    outcomes = send_test(factory, transports(config, kind, folder)(), recipients)
    for recipient, outcome in zip(recipients, outcomes):
        click.echo(
            f"test {'envoyé' if outcome.status == 'sent' else 'NON envoyé'} à {recipient.address} : {outcome.reply}"
        )
    if any(outcome.status != "sent" for outcome in outcomes):
        raise Failure("au moins un test n’a pas été accepté par le serveur")


def _confirm(question: str) -> None:
    if not sys.stdin.isatty():
        raise Failure("envoi SMTP sans terminal pour confirmer : ajoutez --yes")
    if not french.confirm(question):
        raise Failure("envoi annulé")


def _run_with_progress(sender, total: int, kind: str):
    if not total:
        return sender.run()
    started = time.monotonic()
    label = f"Envoi ({kind})"
    with click.progressbar(
        length=total, label=label, show_pos=True, show_eta=True, file=sys.stderr, item_show_func=lambda rate: rate
    ) as bar:

        def progress(status: str) -> None:
            if status != "retry":
                done = bar.pos + 1
                rate = done / max(time.monotonic() - started, 1e-6)
                bar.update(1, f"{rate:.0f} msg/s")

        return sender.run(progress)


TEMPFAIL = 75  # EX_TEMPFAIL (sysexits.h): messages wait for a later attempt; a scheduled rerun settles them


def _report(store, issue: int, summary, unknown_policy: str, tz, journal=None, what: str = "") -> None:
    """The summary line, the problem rows, and the exit status a scheduler reads (docs/redaction.md)."""
    from newsletter.send import Journal
    from newsletter.send.journal import LABELS

    outcomes, counts = summary.outcomes, summary.counts
    rate = outcomes["sent"] / summary.elapsed if summary.elapsed > 0 else 0
    parts = [f"{outcomes[status]} {LABELS[status]}" for status in ("sent", "failed")]
    parts += [f"{counts.get(status, 0)} {LABELS[status]}" for status in ("deferred", "unknown")]
    click.echo(f"{what or f'Numéro {issue}'} : {', '.join(parts)} en {summary.elapsed:.0f} s ({rate:.0f} messages/s).")
    _print_problems(journal or Journal(store.db, issue))
    if summary.error and not summary.temporary:
        raise Failure(f"envoi arrêté : {summary.error}. Relancez la même commande pour reprendre.")
    if summary.interrupted:
        raise Failure(
            f"envoi interrompu : {summary.waiting} message(s) en attente. Relancez la même commande pour reprendre."
        )
    if summary.error:
        raise _Later(
            f"envoi suspendu : {summary.error}. {summary.waiting} message(s) attendent : relancez la même "
            "commande plus tard (ou laissez le minuteur le faire)."
        )
    if counts.get("deferred"):
        when = summary.next_due.astimezone(tz).strftime("%d/%m à %H:%M") if summary.next_due else "bientôt"
        raise _Later(
            f"{counts['deferred']} message(s) différés par le serveur (4xx) : nouvel essai possible le {when}. "
            "Relancez la même commande à partir de là (ou laissez le minuteur le faire)."
        )
    if counts.get("unknown") and unknown_policy == "hold":
        click.echo(
            f"{counts['unknown']} message(s) incertains, gardés de côté : le serveur les a peut-être reçus. "
            'Pour les renvoyer : --resend-unknown (ou [sending] unknown = "resend").',
            err=True,
        )


class _Later(Failure):
    """Messages wait for a later attempt: the exit status says so to a scheduler."""

    exit_code = TEMPFAIL


def _print_problems(journal) -> None:
    from newsletter.send.journal import LABELS

    for status in PROBLEM_STATUSES:
        rows = journal.rows((status,), limit=SHOWN_PER_STATUS + 1)
        for row in rows[:SHOWN_PER_STATUS]:
            click.echo(f"  {LABELS[status]:<10} {row.address}  ({row.attempts} essai(s)) {row.reply}")
        if len(rows) > SHOWN_PER_STATUS:
            click.echo(f"  … et d’autres {LABELS[status]} (newsletter status --all)")


@click.command()
@project_option
@click.argument("issue", type=int)
@click.option("--all", "show_all", is_flag=True, help="Lister chaque adresse refusée, différée ou incertaine.")
@reports_errors
def status(project_dir: Path, issue: int, show_all: bool) -> None:
    """Affiche le journal d’envoi du numéro ISSUE : envoyés, refusés, différés, incertains, en attente."""
    from newsletter.send import Journal, open_store, sending_config
    from newsletter.send.journal import LABELS

    project = open_project(project_dir)
    store = open_store(sending_config(project.settings, project.root))
    try:
        journal = Journal(store.db, issue)
        counts = journal.counts()
        total = sum(counts.values())
        if not total:
            click.echo(f"Numéro {issue} : pas encore envoyé.")
            return
        click.echo(f"Numéro {issue} : {total} destinataire(s) au journal")
        for name in ("sent", "failed", "deferred", "unknown", "queued", "sending"):
            if counts[name] or name in ("sent", "queued"):
                click.echo(f"  {LABELS[name]:<11}{counts[name]:>8}")
        _print_feedback(store, issue)
        _print_corrections(store, issue)
        if show_all:
            for row in journal.rows(PROBLEM_STATUSES):
                click.echo(f"  {LABELS[row.status]:<10} {row.address}  ({row.attempts} essai(s)) {row.reply}")
        else:
            _print_problems(journal)
    finally:
        store.db.close()


def _print_corrections(store, issue: int) -> None:
    """One line per rectificatif of this issue: its journal's counts, and whether it is settled."""
    from newsletter.send.corrections import CorrectionJournal, rounds
    from newsletter.send.journal import LABELS

    for found in rounds(store.db, issue):
        counts = CorrectionJournal(store.db, issue, found.round).counts()
        shown = ", ".join(f"{counts[name]} {LABELS[name]}" for name in counts if counts[name])
        state = "terminé" if found.settled_at else "en cours"
        click.echo(f"Rectificatif {found.round} ({state}) : {shown or 'aucun destinataire'}")


def _print_feedback(store, issue: int) -> None:
    """What came back about this issue (`newsletter bounces` and 5xx refusals), in subscribers."""
    feedback = store.feedback_counts(issue)
    click.echo(
        f"Retours : {feedback['hard']} rebond(s) définitif(s), {feedback['soft']} rebond(s) temporaire(s), "
        f"{feedback['complaint']} plainte(s), {feedback['unsubscribe']} désinscription(s) par email"
    )
