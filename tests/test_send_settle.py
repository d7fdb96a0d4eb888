"""Runs that settle on their own: back-off on an unreachable relay, deferred rows retried by a later
run once due, exit statuses a scheduler can read, the `unknown` setting, and pacing per domain."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest
from click.testing import CliRunner
from support.smtp import FaultyHandler, RefusingThenServing, SMTPServer, free_port
from support.smtp_helpers import make_config, make_letter, populate
from test_send_cli import make_sending_project, subscribe

from newsletter.cli.send import send
from newsletter.errors import SourceError
from newsletter.send import new_sender
from newsletter.send.config import sending_config
from newsletter.send.ratelimit import parse_rate
from newsletter.settings import Settings
from newsletter.subscribers import open_database
from newsletter.subscribers.store import Entry


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "subscribers.sqlite3"


def run(config, store, **options):
    sender = new_sender(config, store, make_letter(), "smtp", **options)
    sender.prepare()
    return sender.run()


def cli(root, *args):
    result = CliRunner().invoke(send, ["-C", str(root), "1", "--transport", "smtp", "--yes", *args])
    assert "Traceback" not in result.output
    return result


# An unreachable relay ---------------------------------------------------------------------------


def test_a_421_greeting_backs_off_and_the_run_goes_on_when_the_relay_takes_mail_again(tmp_path, db_path):
    store = populate(db_path, 6)
    handler = FaultyHandler()
    with RefusingThenServing(handler, refusals=2) as relay:
        config = make_config(tmp_path, relay.port)
        config = dataclasses.replace(config, reconnect=5, reconnect_delay=0.2)
        summary = run(config, store)
    assert relay.greeted == 2
    assert summary.error is None and summary.complete, summary
    assert handler.counts() == {entry: 1 for entry in handler.counts()} and len(handler.counts()) == 6


def test_a_relay_still_unreachable_after_the_retries_leaves_the_rows_waiting_with_status_75(tmp_path):
    port = free_port()
    root = make_sending_project(tmp_path, smtp=f"port = {port}", sending="reconnect = 2")
    subscribe(root, 3)
    result = cli(root)
    assert result.exit_code == 75, result.output
    assert "envoi suspendu : impossible de joindre le serveur SMTP 127.0.0.1:" in result.output
    assert "3 message(s) attendent" in result.output
    handler = FaultyHandler()
    with SMTPServer(handler, port=port):
        again = cli(root)
    assert again.exit_code == 0, again.output
    assert len(handler.counts()) == 3


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_refused_login_is_an_error_for_a_person_with_status_1(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "mauvais")
    handler = FaultyHandler()
    with SMTPServer(handler, users={"lettre": "bon"}) as server:
        root = make_sending_project(tmp_path, smtp=f'port = {server.port}\nusername = "lettre"')
        subscribe(root, 2)
        result = cli(root)
    assert result.exit_code == 1 and "a refusé l’identification" in result.output
    assert not handler.counts()


# Deferred rows: retried by a later run, once due -------------------------------------------------


def test_deferred_rows_keep_their_next_attempt_and_a_later_run_retries_those_due(tmp_path):
    handler = FaultyHandler(defer_every=2)  # each address refused once at most
    with SMTPServer(handler) as server:
        root = make_sending_project(tmp_path, smtp=f"port = {server.port}", sending="wait = 0")
        settings = root / "newsletter.toml"
        settings.write_text(
            settings.read_text(encoding="utf-8").replace("backoff = 0.01", "backoff = 60"), encoding="utf-8"
        )
        subscribe(root, 6)
        first = cli(root)
        assert first.exit_code == 75, first.output  # deferred, to be tried again by a later run
        assert "3 message(s) différés par le serveur (4xx) : nouvel essai possible le " in first.output
        too_soon = cli(root)  # nothing due yet: nothing sent, still waiting
        assert too_soon.exit_code == 75 and "Numéro 1 : 0 envoyés, 0 refusés, 3 différés" in too_soon.output
        assert len(handler.counts()) == 3
        with open_database(root / "subscribers.sqlite3") as db:  # as if the minute of back-off had passed
            db.execute("UPDATE deliveries SET next_attempt = '2000-01-01T00:00:00+00:00' WHERE status = 'deferred'")
        later = cli(root)
        assert later.exit_code == 0, later.output
    assert handler.counts() == {address: 1 for address in handler.counts()} and len(handler.counts()) == 6


def test_the_next_attempt_doubles_with_each_deferral(tmp_path, db_path):
    store = populate(db_path, 1)
    handler = FaultyHandler(defer={"abonne0000@example.org"})
    with SMTPServer(handler) as server:
        config = dataclasses.replace(make_config(tmp_path, server.port), backoff=600, wait=0, retries=5)
        before = dt.datetime.now(dt.UTC).replace(microsecond=0)
        summary = run(config, store)
        first = summary.next_due
        store.db.execute("UPDATE deliveries SET next_attempt = NULL")  # as if ten minutes had passed
        second = run(config, store).next_due
    assert dt.timedelta(seconds=599) <= first - before <= dt.timedelta(seconds=610)
    assert dt.timedelta(seconds=1199) <= second - before <= dt.timedelta(seconds=1210)


# Messages that may have been delivered ----------------------------------------------------------


def test_unknown_rows_are_held_by_default_and_the_run_still_settles_with_status_0(tmp_path):
    handler = FaultyHandler(drop_data={"lecteur001@example.org"})
    with SMTPServer(handler) as server:
        root = make_sending_project(tmp_path, smtp=f"port = {server.port}")
        subscribe(root, 3)
        first = cli(root)
        assert first.exit_code == 0, first.output
        assert "1 message(s) incertains, gardés de côté" in first.output
        again = cli(root)
        assert again.exit_code == 0 and "Rien à envoyer" in again.output
    # the cut one (maybe delivered: this server drops it) is not sent again
    assert handler.counts() == {"lecteur000@example.org": 1, "lecteur002@example.org": 1}


def test_unknown_resend_sends_them_again_without_being_asked(tmp_path):
    handler = FaultyHandler(drop_data={"lecteur001@example.org"})
    with SMTPServer(handler) as server:
        root = make_sending_project(tmp_path, smtp=f"port = {server.port}", sending='unknown = "resend"')
        subscribe(root, 3)
        assert cli(root).exit_code == 0
        again = cli(root)
        assert again.exit_code == 0, again.output
    # the editor chose a possible duplicate over a possible loss: the second run sent it again
    assert handler.counts()["lecteur001@example.org"] == 1 and "lecteur001@example.org" in handler.dropped


# Pacing per recipient domain --------------------------------------------------------------------


def test_a_paced_domain_is_spaced_out_without_slowing_the_other_domains(tmp_path, db_path):
    store = populate(db_path, 0)
    store.db.execute("BEGIN")
    for n in range(20):  # interleaved in the journal's order: orange, example, orange, example…
        store.merge(Entry(f"o{n:02d}@orange.fr" if n % 4 == 0 else f"e{n:02d}@example.org"))
    store.db.execute("COMMIT")
    handler = FaultyHandler()
    with SMTPServer(handler) as server:
        config = dataclasses.replace(make_config(tmp_path, server.port, connections=2), domains={"orange.fr": 1.0})
        summary = run(config, store)
    assert summary.complete and len(handler.counts()) == 20
    order = [address for address, _ in handler.arrivals]
    orange = [moment for address, moment in handler.arrivals if address.endswith("@orange.fr")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(orange)]
    # one a second at most, give or take the time on the wire of a loaded machine
    assert len(gaps) == 4 and min(gaps) >= 0.7 and orange[-1] - orange[0] >= 3.6, gaps
    last_example = max(i for i, address in enumerate(order) if address.endswith("@example.org"))
    third_orange = [i for i, address in enumerate(order) if address.endswith("@orange.fr")][2]
    assert last_example < third_orange  # the other domains (2 s of work at most) did not wait for orange.fr


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("30/min", 0.5), ("2/s", 2.0), ("3600/h", 1.0), ("86400/jour", 1.0), (4, 4.0), ("1,5/s", 1.5)],
)
def test_rates_are_written_per_second_minute_hour_or_day(text, per_second):
    assert parse_rate(text) == pytest.approx(per_second)


def test_a_domain_rate_that_cannot_be_read_is_one_french_line_at_its_line(tmp_path):
    settings_file = tmp_path / "newsletter.toml"
    settings_file.write_text('[sending.domains."orange.fr"]\nrate = "vite"\n', encoding="utf-8")
    settings = Settings(path=settings_file, tables={"sending": {"domains": {"orange.fr": {"rate": "vite"}}}})
    with pytest.raises(SourceError) as raised:
        sending_config(settings, tmp_path)
    assert str(raised.value) == (
        f'{settings_file}:2: [sending.domains."orange.fr"] débit illisible « vite » : '
        'écrivez par exemple "30/min", "2/s" ou "500/h"'
    )
