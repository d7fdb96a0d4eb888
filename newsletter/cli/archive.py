"""`newsletter inspiration`: a partner's feed as Markdown bullets for the « Inspiration » rubric."""

from __future__ import annotations

import datetime as dt

import click

from newsletter.cli.common import Failure, reports_errors
from newsletter.inspiration import DEFAULT_TIMEOUT, markdown_line, parse_feed, read_feed, recent


@click.command()
@click.argument("feed", metavar="FLUX")
@click.option("--since", metavar="AAAA-MM-JJ", help="Seulement les articles publiés ce jour-là ou après.")
@click.option(
    "-n", "--limit", type=click.IntRange(min=1), default=10, show_default=True, help="Nombre d’articles au plus."
)
@click.option("--summary", is_flag=True, help="Ajouter à chaque ligne le début du résumé de l’article.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Délai d’attente du serveur, en secondes.",
)
@reports_errors
def inspiration(feed: str, since: str | None, limit: int, summary: bool, timeout: float) -> None:
    """Les derniers articles d’un flux RSS ou Atom (adresse http(s) ou fichier), en lignes
    « - ➡️ [Titre](lien) » à coller sous la rubrique Inspiration."""
    day = _date(since) if since else None
    parsed = parse_feed(read_feed(feed, timeout=timeout), feed)
    items = recent(parsed.items, since=day, limit=limit)
    for item in items:
        click.echo(markdown_line(item, summary=summary))
    if parsed.skipped:
        click.echo(f"{parsed.skipped} article(s) sans lien http(s) valable ignoré(s)", err=True)
    if not items:
        click.echo(
            "aucun article" + (f" publié depuis le {day.isoformat()}" if day else "") + " dans ce flux", err=True
        )


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise Failure(f"--since : date attendue au format AAAA-MM-JJ, pas « {text} »") from None
