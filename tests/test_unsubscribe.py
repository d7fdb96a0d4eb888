"""The one-click unsubscribe route of `newsletter serve`, under waitress on loopback."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest
from support.service import start
from support.smtp import FaultyHandler, SMTPServer
from support.smtp_helpers import SECRET, address, make_config, make_letter, populate

from newsletter.send import new_sender
from newsletter.send.tokens import TEST_ID, make_token


@pytest.fixture
def store(tmp_path):
    return populate(tmp_path / "subscribers.sqlite3", 3)


@pytest.fixture
def endpoint(tmp_path, store):
    running = start(tmp_path)
    yield f"{running.url}/desinscription/"
    running.close()


def request(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


ONE_CLICK = b"List-Unsubscribe=One-Click"


def test_a_one_click_post_from_a_received_message_unsubscribes(tmp_path, store, endpoint):
    handler = FaultyHandler()
    with SMTPServer(handler) as server:
        sender = new_sender(make_config(tmp_path, server.port), store, make_letter(), "smtp")
        sender.prepare()
        sender.run()
    [message] = [m for rcpt, m in handler.messages() if rcpt == address(1)]
    https = re.search(r"<(https://[^>]+)>", message["List-Unsubscribe"]).group(1)
    local = endpoint + https[https.index("?") :]
    status, page = request(local, "POST", ONE_CLICK)
    assert status == 200 and "Désinscription enregistrée" in page and address(1) in page
    assert store.get(address(1)).status == "unsubscribed"
    assert store.get(address(0)).status == store.get(address(2)).status == "subscribed"
    assert request(local, "POST", ONE_CLICK)[0] == 200  # twice is fine


def test_get_shows_a_french_page_with_a_button_and_changes_nothing(store, endpoint):
    token = make_token(SECRET, 1, address(0))
    status, page = request(f"{endpoint}?token={token}")
    assert status == 200 and '<html lang="fr">' in page
    assert "Me désinscrire" in page and f'action="?token={token}"' in page and 'method="post"' in page
    assert store.get(address(0)).status == "subscribed"
    # the button posts the form back to the same URL
    assert request(f"{endpoint}?token={token}", "POST", b"")[0] == 200
    assert store.get(address(0)).status == "unsubscribed"
    assert "Déjà désinscrit" in request(f"{endpoint}?token={token}")[1]


@pytest.mark.parametrize(
    "token",
    [
        make_token("un-autre-secret", 1, address(0)),
        make_token(SECRET, 1, address(1)),  # Bob's MAC on Alice's id
        make_token(SECRET, 99, address(0)),  # nobody has id 99
        "1.",
        "abc",
        "",
    ],
)
def test_an_invalid_or_forged_token_gets_400_and_changes_nothing(store, endpoint, token):
    for method, body in (("GET", None), ("POST", ONE_CLICK)):
        status, page = request(f"{endpoint}?token={token}", method, body)
        assert status == 400 and "Lien invalide" in page
    assert store.counts() == {"subscribed": 3, "unsubscribed": 0, "bounced": 0, "pending": 0, "erased": 0}


def test_a_test_token_unsubscribes_no_one(store, endpoint):
    status, page = request(f"{endpoint}?token={make_token(SECRET, TEST_ID, '')}", "POST", ONE_CLICK)
    assert status == 200 and "envoi de test" in page
    assert store.counts()["subscribed"] == 3


def test_other_methods_are_refused(endpoint):
    status, _ = request(f"{endpoint}?token=1.x", "PUT", b"")
    assert status == 405


@pytest.mark.parametrize("command", ["serve", "serve-unsubscribe"])
def test_serve_and_its_old_name_listen_on_loopback_and_flip_the_status(tmp_path, command):
    import subprocess
    import sys

    root = tmp_path / "projet"
    (root / "issues").mkdir(parents=True)
    (root / "newsletter.toml").write_text(f'[sending]\nsecret = "{SECRET}"\n', encoding="utf-8")
    store = populate(root / "subscribers.sqlite3", 2)
    process = subprocess.Popen(
        [sys.executable, "-m", "newsletter", command, "-C", str(root), "--port", "0"], stderr=subprocess.PIPE, text=True
    )
    try:
        line = process.stderr.readline()
        match = re.match(r"Service en écoute sur http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        url = f"http://127.0.0.1:{match.group(1)}/desinscription/?token={make_token(SECRET, 2, address(1))}"
        assert request(url, "POST", ONE_CLICK)[0] == 200
        assert store.get(address(1)).status == "unsubscribed"
        assert store.get(address(0)).status == "subscribed"
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "token=" not in process.stderr.read()  # personal tokens stay out of the log
