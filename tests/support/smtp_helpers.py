"""Hand-made values for the sending tests: settings, a letter with the personal marks, subscribers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from newsletter.render.personalize import GREETING_MARK, UNSUBSCRIBE_MARK
from newsletter.send.config import SendingConfig, sending_config
from newsletter.send.message import Letter
from newsletter.settings import Settings
from newsletter.subscribers import SubscriberStore, open_database
from newsletter.subscribers.store import Entry

SECRET = "secret-de-test"


def make_config(root: Path, port: int = 2525, **smtp) -> SendingConfig:
    tables = {
        "sending": {"secret": SECRET, "retries": 3, "backoff": 0.01, "reconnect_delay": 0.01},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5, **smtp},
    }
    settings = Settings(
        reply_to="redaction@example.org",
        base_url="https://example.org/lettre",
        path=root / "newsletter.toml",
        tables=tables,
    )
    return sending_config(settings, root)


def make_letter(number: int = 3, size: int = 200) -> Letter:
    html = (
        f'<!doctype html><html lang="fr"><body><p>{GREETING_MARK}</p>'
        + "<p>Les territoires pilotes avancent : écoles, énergie, mobilités.</p>\n" * size
        + f'<p><a href="{UNSUBSCRIBE_MARK}">Se désinscrire</a></p></body></html>\n'
    )
    text = (
        f"{GREETING_MARK}\n\n"
        + "Les territoires pilotes avancent.\n" * size
        + f"\nSe désinscrire : {UNSUBSCRIBE_MARK}\n"
    )
    return Letter(
        number=number,
        date=dt.datetime(2024, 3, 1, 8, 0, tzinfo=ZoneInfo("Europe/Paris")),
        subject=f"Territoires Pilotes n°{number} – Des balises pour la résilience",
        html=html,
        text=text,
        greeting="Bonjour à toutes et à tous,",
    )


def address(n: int) -> str:
    return f"abonne{n:04d}@example.org"


def populate(path: Path, count: int, unsubscribed: tuple[int, ...] = ()) -> SubscriberStore:
    store = SubscriberStore(open_database(path))
    store.db.execute("BEGIN")
    for n in range(count):
        status = "unsubscribed" if n in unsubscribed else "subscribed"
        store.merge(Entry(address(n), name=f"Abonné {n}" if n % 2 else "", status=status))
    store.db.execute("COMMIT")
    return store
