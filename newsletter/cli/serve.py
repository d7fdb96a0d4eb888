"""`newsletter serve` (and its old name `serve-unsubscribe`): the readers' service under waitress."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.common import Failure, open_project, project_option, reports_errors
from newsletter.errors import os_reason


@click.command()
@project_option
@click.option("--host", help="Adresse d’écoute (par défaut [serve] host, sinon 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port d’écoute (par défaut [serve] port, sinon 8080).")
@reports_errors
def serve(project_dir: Path, host: str | None, port: int | None) -> None:
    """Sert l’inscription (double confirmation), la page « mes données » et la désinscription en un clic,
    derrière le proxy HTTPS du site."""
    from newsletter.send import open_store, sending_config
    from newsletter.serve import make_app, serve_config
    from newsletter.serve.mail import Mailer
    from newsletter.serve.server import create, port_of

    project = open_project(project_dir)
    sending = sending_config(project.settings, project.root)
    config = serve_config(project.settings)
    store = open_store(sending)  # create and migrate the database now, not at the first request
    store.db.close()
    service = make_app(project.settings, project.root, sending, config)
    service.mailer = Mailer(
        project.settings, project.root, sending, service.secret, config.confirm_days, latest=_latest(project)
    )
    host, port = host or config.host, config.port if port is None else port
    try:
        server = create(service, host, port, config.threads)
    except OSError as error:
        raise Failure(f"impossible d’écouter sur {host}:{port} : {os_reason(error)}") from error
    click.echo(f"Service en écoute sur http://{host}:{port_of(server)}/ (Ctrl-C pour arrêter)", err=True)
    if not config.public_url:
        click.echo(
            "[serve] public_url n’est pas réglé : les liens des emails et le formulaire des archives en ont besoin.",
            err=True,
        )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _latest(project) -> str:
    """The page of the latest published issue, for the welcome email (the archive's home if none)."""
    from newsletter.errors import NewsletterError

    try:
        issues = [issue for issue in project.issues() if not issue.draft]
    except NewsletterError:
        issues = []
    if not issues:
        return project.settings.base_url + "/"
    return project.settings.issue_url(max(issues, key=lambda issue: issue.number).slug)
