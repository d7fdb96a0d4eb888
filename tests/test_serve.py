"""`newsletter serve`: sign-up with double opt-in, the personal page, and every bad request, under
waitress on a loopback port with a real HTTP client; the emails read from the outbox."""

from __future__ import annotations

import json
import re
import threading

import pytest
from support.service import SECRET, Client, hidden, link_in, outbox_messages, start

from newsletter.send.tokens import CONFIRM, make_token
from newsletter.subscribers import SubscriberStore, open_database
from newsletter.subscribers.csvio import import_csv

ARCHIVE = "https://example.org"


@pytest.fixture
def running(tmp_path):
    running = start(tmp_path)
    yield running
    running.close()


@pytest.fixture
def store(tmp_path, running):
    store = SubscriberStore(open_database(tmp_path / "subscribers.sqlite3"))
    yield store
    store.db.close()


def sign_up(running, address="lea@example.org", name="Léa", **extra) -> tuple[int, str]:
    """What the archive's form sends: no CSRF value, the archive's origin."""
    form = {"adresse": address, "nom": name, "consentement": "oui", "site_url": "", **extra}
    status, page, _ = Client().request(f"{running.url}/inscription", "POST", form, headers={"Origin": ARCHIVE})
    return status, page


def confirm(link: str) -> tuple[int, str]:
    client = Client()
    status, page, _ = client.request(link)
    if status != 200:
        return status, page
    return client.request(link, "POST", {"csrf": hidden(page, "csrf")})[:2]


def test_a_sign_up_is_pending_until_the_emailed_link_is_followed(tmp_path, running, store):
    status, page = sign_up(running)
    assert status == 200 and "Vérifiez votre boîte mail" in page and "Merci\u202f!" in page  # French typography
    assert store.get("lea@example.org").status == "pending"
    [message] = outbox_messages(tmp_path, "confirm")
    assert message["To"] == "Léa <lea@example.org>" and "Confirmez votre inscription" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    html = message.get_body(("html",)).get_content()
    assert '<html lang="fr"' in html and "Confirmer mon inscription" in html and "Bonjour Léa," in html
    assert "dans les 7 jours\u00a0:" in message.get_body(("plain",)).get_content()
    status, page = confirm(link_in(message, "confirmation"))
    assert status == 200 and "Inscription confirmée" in page
    lea = store.get("lea@example.org")
    assert (lea.status, lea.consent_source, lea.consent_version) == (
        "subscribed",
        "formulaire",
        running.service.serve.form_version,
    )
    assert lea.consent_date
    [welcome] = outbox_messages(tmp_path, "welcome")
    text = welcome.get_body(("plain",)).get_content()
    assert "webcal://example.org/lettre/calendars/agenda.ics" in text and "https://example.org/lettre/feed.xml" in text
    assert "/mes-donnees?jeton=" in text


def test_the_answer_is_the_same_whatever_the_address_s_state(tmp_path, running, store):
    store.db.execute(
        "INSERT INTO subscribers (address, status, created_at, updated_at) VALUES "
        "('deja@example.org', 'subscribed', 'x', 'x'), ('parti@example.org', 'unsubscribed', 'x', 'x')"
    )
    pages = {
        address: sign_up(running, address, "")[1]
        for address in ("deja@example.org", "parti@example.org", "neuf@example.org")
    }
    assert len(set(pages.values())) == 1
    assert store.get("parti@example.org").status == "unsubscribed"  # until the link is followed
    assert len(outbox_messages(tmp_path, "confirm")) == 2  # none to the subscribed address


def test_the_honeypot_and_the_per_address_limit_send_nothing_more(tmp_path, running, store):
    assert sign_up(running, "robot@example.org", site_url="http://spam.example")[0] == 200
    assert store.get("robot@example.org") is None
    for _ in range(5):
        assert sign_up(running, "cible@example.org", "")[0] == 200
    assert len(outbox_messages(tmp_path, "confirm")) == 3  # [serve] per_address


def test_the_per_client_limit_answers_429_and_holds_across_a_restart(tmp_path):
    running = start(tmp_path, serve={"per_client": 2})
    try:
        assert [sign_up(running, f"a{n}@example.org")[0] for n in range(3)] == [200, 200, 429]
    finally:
        running.close()
    again = start(tmp_path, serve={"per_client": 2})
    try:
        status, page = sign_up(again, "b@example.org")
        assert status == 429 and "Trop de demandes" in page
    finally:
        again.close()


def test_the_service_s_own_form_carries_a_csrf_token_bound_to_its_cookie(tmp_path, running, store):
    client = Client()
    status, page, headers = client.request(f"{running.url}/inscription")
    assert status == 200 and 'name="csrf"' in page and "nl_csrf=" in headers["Set-Cookie"]
    form = {"adresse": "paul@example.org", "consentement": "oui", "csrf": hidden(page, "csrf")}
    assert client.request(f"{running.url}/inscription", "POST", form)[0] == 200
    assert store.get("paul@example.org").status == "pending"
    assert Client().request(f"{running.url}/inscription", "POST", form)[0] == 403  # another browser, no cookie


def test_the_personal_page_shows_changes_downloads_and_erases(tmp_path, running, store):
    sign_up(running)
    confirm(link_in(outbox_messages(tmp_path, "confirm")[0], "confirmation"))
    profile = link_in(outbox_messages(tmp_path, "welcome")[0], "mes-donnees")
    client = Client()
    status, page, _ = client.request(profile)
    assert status == 200 and "lea@example.org" in page and "formulaire" in page and "abonné" in page
    csrf = hidden(page, "csrf")
    status, page, _ = client.request(profile, "POST", {"csrf": csrf, "action": "nom", "nom": "Léa Martin"})
    assert status == 200 and "Nom enregistré" in page and store.get("lea@example.org").name == "Léa Martin"
    status, body, headers = client.request(profile.replace("/mes-donnees?", "/mes-donnees.json?"))
    data = json.loads(body)
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    assert data["adresse"] == "lea@example.org" and data["consentement"]["source"] == "formulaire"
    assert data["consentement"]["texte_formulaire"].startswith("J’accepte")
    assert client.request(profile, "POST", {"csrf": csrf, "action": "desinscrire"})[0] == 200
    assert store.get("lea@example.org").status == "unsubscribed"
    status, page, _ = client.request(profile, "POST", {"csrf": csrf, "action": "effacer"})
    assert status == 200 and "effacé" in page
    assert store.get("lea@example.org") is None and store.counts()["erased"] == 1
    assert "lea@example.org" not in str(list(store.db.execute("SELECT * FROM tombstones")))
    assert client.request(profile)[0] == 410  # a token for an erased subscriber
    csv = tmp_path / "ancien.csv"
    csv.write_text("email\nlea@example.org\nautre@example.org\n", encoding="utf-8")
    report = import_csv(store, csv)
    assert report.added == 1 and "effacement" in str(report.problems[0])


def test_a_confirmation_token_is_bound_to_its_purpose_its_nonce_and_its_time(tmp_path, running, store):
    sign_up(running)
    link = link_in(outbox_messages(tmp_path, "confirm")[0], "confirmation")
    token = link.partition("jeton=")[2]
    lea = store.get("lea@example.org")
    assert Client().request(f"{running.url}/desinscription?token={token}", "POST", body=b"")[0] == 400
    assert Client().request(f"{running.url}/mes-donnees?jeton={token}")[0] == 400
    unsubscribe = make_token(SECRET, lea.id, lea.address)
    assert Client().request(f"{running.url}/mes-donnees?jeton={unsubscribe}")[0] == 400
    expired = make_token(SECRET, lea.id, lea.address, CONFIRM, expires=1_000_000, bound=lea.pending_nonce)
    assert confirm(f"{running.url}/confirmation?jeton={expired}")[0] == 410
    assert confirm(link)[0] == 200
    status, page = confirm(link)  # replayed
    assert status == 410 and "déjà servi" in page


BAD = [
    ("malformed address", {"adresse": "pas-une-adresse"}, 400),
    ("CR/LF", {"adresse": "lea@example.org\r\nBcc: x@example.org"}, 400),
    ("2,000 characters", {"adresse": "a" * 1990 + "@example.org"}, 400),
    ("no consent", {"consentement": ""}, 400),
    ("a name of 201 characters", {"nom": "L" * 201}, 400),
    ("a name with a tab", {"nom": "Léa\tMartin"}, 400),
]


@pytest.mark.parametrize("what, change, expected", BAD, ids=[b[0] for b in BAD])
def test_a_bad_sign_up_gets_a_french_page_and_changes_nothing(tmp_path, running, store, what, change, expected):
    status, page = sign_up(running, **{"address": change.pop("adresse", "lea@example.org")}, **change)
    assert status == expected and '<html lang="fr">' in page and 'name="adresse"' in page
    assert sum(store.counts().values()) == 0 and not outbox_messages(tmp_path, "confirm")


def test_bad_requests_get_their_status_and_the_server_keeps_serving(tmp_path, running, store):
    client = Client()
    form = {"adresse": "lea@example.org", "consentement": "oui"}
    cases = [
        (client.request(f"{running.url}/inscription", "POST", form), 403),  # no CSRF value, no origin
        (client.request(f"{running.url}/inscription", "POST", form, headers={"Origin": "https://evil.example"}), 403),
        (client.request(f"{running.url}/inscription", "POST", body=b"a" * 10_000_000), 413),
        (client.request(f"{running.url}/inscription", "PUT", body=b""), 405),
        (client.request(f"{running.url}/mes-donnees.json?jeton=1.x", "POST", body=b""), 405),
        (client.request(f"{running.url}/admin"), 404),
        (client.request(f"{running.url}/confirmation?jeton=1.abc.def"), 400),
        (client.request(f"{running.url}/mes-donnees?jeton=1.forged"), 400),
        (client.request(f"{running.url}/mes-donnees"), 400),
    ]
    for (status, page, headers), expected in cases:
        assert status == expected, (expected, page)
        assert '<html lang="fr">' in page and headers["X-Frame-Options"] == "DENY"
    assert sum(store.counts().values()) == 0
    assert sign_up(running)[0] == 200  # still serving
    assert "Traceback" not in running.log.getvalue()


def test_every_page_sends_strict_headers_and_the_log_holds_no_token_nor_address(tmp_path, running):
    sign_up(running)
    link = link_in(outbox_messages(tmp_path, "confirm")[0], "confirmation")
    confirm(link)
    _, page, headers = Client().request(link)
    csp = headers["Content-Security-Policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in page and "style=" not in page
    log = running.log.getvalue()
    assert "POST /inscription 200" in log and "GET /confirmation" in log
    assert "lea@example.org" not in log and link.partition("jeton=")[2] not in log and "jeton" not in log


def test_purge_pending_removes_stale_sign_ups_only(tmp_path, running, store):
    import datetime as dt

    sign_up(running, "vieux@example.org")
    store.db.execute("UPDATE subscribers SET requested_at = '2020-01-01T00:00:00+00:00'")
    sign_up(running, "recent@example.org")
    removed = store.purge_pending(dt.datetime.now(dt.UTC) - dt.timedelta(days=30))
    assert removed == 1 and store.get("vieux@example.org") is None
    assert store.get("recent@example.org").status == "pending"


def test_with_the_smtp_transport_the_confirmation_reaches_the_server(tmp_path):
    from support.smtp import FaultyHandler, SMTPServer

    handler = FaultyHandler()
    with SMTPServer(handler) as server:
        running = start(
            tmp_path,
            sending={"transport": "smtp"},
            smtp={"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": 5},
        )
        try:
            assert sign_up(running)[0] == 200
        finally:
            running.close()
    [(recipient, message)] = handler.messages()
    assert recipient == "lea@example.org" and "Confirmez votre inscription" in message["Subject"]
    assert not (tmp_path / "outbox").exists()
    assert link_in(message, "confirmation").startswith(f"{running.url}/confirmation?jeton=")
    assert message.get_body(("html",)).get_content().count("Confirmer mon inscription") >= 1


def test_an_archive_page_carries_the_form_only_once_the_public_url_is_set(tmp_path):
    from conftest import MINIMAL_BODY, issue_text

    from newsletter.pipeline import build
    from newsletter.project import load_project

    for public in ("", "https://lettre.example.org/service"):
        root = tmp_path / ((public and "avec") or "sans")
        (root / "issues").mkdir(parents=True)
        (root / "issues" / "001.md").write_text(issue_text(MINIMAL_BODY), encoding="utf-8")
        (root / "newsletter.toml").write_text(f'[serve]\npublic_url = "{public}"\n' if public else "", encoding="utf-8")
        build(load_project(root), root / "dist")
        for page in ("index.html", "numeros/001/index.html"):
            html = (root / "dist" / page).read_text(encoding="utf-8")
            if public:
                assert f'action="{public}/inscription"' in html and 'name="site_url"' in html
                assert "J’accepte de recevoir la lettre" in html and "à cet envoi\u202f; je peux" in html
            else:
                assert "inscription" not in html
        [text] = (root / "dist").rglob("001*.txt")
        assert (
            "Mes données (voir, modifier, effacer)\u00a0: https://lettre.example.org/service/mes-donnees"
            in text.read_text(encoding="utf-8")
        ) == bool(public)


def test_twenty_sign_ups_and_confirmations_in_parallel_with_a_send_running_lose_nothing(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from support.smtp_helpers import make_config, make_letter, populate

    from newsletter.send import new_sender

    store = populate(tmp_path / "subscribers.sqlite3", 3000)
    running = start(tmp_path)
    sender = new_sender(make_config(tmp_path), store, make_letter(size=20), "outbox")
    sender.prepare()
    results: dict = {}
    sending = threading.Thread(target=lambda: results.update(summary=sender.run()))

    def one(n: int) -> tuple[int, int]:
        address = f"lecteur{n}@example.org"
        status = sign_up(running, address, f"Lecteur {n}")[0]
        [message] = [m for m in outbox_messages(tmp_path, "confirm") if m["To"].addresses[0].addr_spec == address]
        return status, confirm(link_in(message, "confirmation"))[0]

    try:
        sending.start()
        with ThreadPoolExecutor(20) as pool:
            statuses = list(pool.map(one, range(20)))
        sending.join(timeout=300)
    finally:
        running.close()
    assert statuses == [(200, 200)] * 20
    assert store.sources()["formulaire"] == 20 and store.counts()["subscribed"] == 3020
    assert results["summary"].outcomes["sent"] == 3000 and not results["summary"].error
    assert "locked" not in running.log.getvalue() and "erreur interne" not in running.log.getvalue()


def test_every_issue_sent_links_to_the_personal_page_with_a_token_of_its_own(tmp_path, running, store):
    from support.smtp_helpers import make_letter

    from newsletter.render.personalize import PROFILE_MARK
    from newsletter.send import new_sender
    from newsletter.send.config import sending_config

    config = sending_config(running.service.settings, tmp_path)
    store.db.execute(
        "INSERT INTO subscribers (address, name, status, created_at, updated_at) "
        "VALUES ('lea@example.org', 'Léa', 'subscribed', 'x', 'x')"
    )
    letter = make_letter()
    letter = type(letter)(**{**letter.__dict__, "text": letter.text + f"Mes données : {PROFILE_MARK}\n"})
    sender = new_sender(config, store, letter, "outbox")
    sender.prepare()
    sender.run()
    [path] = (tmp_path / "outbox" / "003").glob("*.eml")
    from email import message_from_bytes, policy

    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    profile = link_in(message, "mes-donnees")
    unsubscribe = re.search(r"<(http[^>]+)>", message["List-Unsubscribe"]).group(1)
    assert profile.partition("jeton=")[2] != unsubscribe.partition("token=")[2]
    status, page, _ = Client().request(profile)
    assert status == 200 and "lea@example.org" in page


def test_a_failure_inside_a_request_is_a_french_500_page_and_the_server_keeps_serving(tmp_path, running):
    import sqlite3

    real = running.service.store

    def broken():
        raise sqlite3.OperationalError("disk I/O error")

    running.service.store = broken
    status, page = sign_up(running)
    assert status == 500 and "Réessayez dans quelques minutes" in page
    running.service.store = real
    assert sign_up(running)[0] == 200
    log = running.log.getvalue()
    assert "erreur interne sur /inscription : OperationalError" in log and "Traceback" not in log


def test_a_bad_serve_setting_is_one_french_line_at_its_line(tmp_path):
    from click.testing import CliRunner

    from newsletter.cli import cli

    (tmp_path / "newsletter.toml").write_text('[serve]\npublic_url = "lettre.example.org"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["serve", "-C", str(tmp_path), "--port", "0"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip() == (
        f"{tmp_path / 'newsletter.toml'}:2: adresse publique invalide « lettre.example.org » (attendu : https://…)"
    )
