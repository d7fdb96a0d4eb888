"""A reader signs up from a built archive page in headless Chromium (375 px wide), then follows the
confirmation link read from the outbox `.eml`; the archive is served over HTTP on loopback."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest
from conftest import MINIMAL_BODY, issue_text
from support.service import SECRET, bound_socket, link_in, outbox_messages, start
from test_browser import require_chromium

from newsletter.desk.browser import Browser
from newsletter.pipeline import build
from newsletter.project import load_project
from newsletter.subscribers import SubscriberStore, open_database

PHONE = 375


@pytest.fixture
def archive(tmp_path):
    """dist/ served by a static server, its origin being the letter's base_url."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "dist"))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_reader_signs_up_from_an_archive_page_on_a_phone_and_confirms_from_the_email(tmp_path, archive):
    require_chromium()
    bound = bound_socket()
    (tmp_path / "issues").mkdir()
    (tmp_path / "issues" / "001.md").write_text(issue_text(MINIMAL_BODY), encoding="utf-8")
    (tmp_path / "newsletter.toml").write_text(
        f'[newsletter]\nbase_url = "{archive}"\n[serve]\npublic_url = "{bound[1]}"\n[sending]\nsecret = "{SECRET}"\n',
        encoding="utf-8",
    )
    build(load_project(tmp_path), tmp_path / "dist")
    running = start(tmp_path, base_url=archive, bound=bound)
    try:
        with Browser() as browser:
            browser.open(f"{archive}/numeros/001/index.html", PHONE)
            assert browser.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
            browser.navigate_by(
                "document.querySelector('#signup-address').value = 'lea@example.org';"
                "document.querySelector('#signup-name').value = 'Léa';"
                "document.querySelector('input[name=consentement]').checked = true;"
                "document.querySelector('#inscription button').click()"
            )
            assert "Vérifiez votre boîte mail" in browser.evaluate("document.body.innerText")
            [message] = outbox_messages(tmp_path, "confirm")
            browser.open(link_in(message, "confirmation"), PHONE)
            browser.navigate_by("document.querySelector('form button').click()")
            assert "Inscription confirmée" in browser.evaluate("document.body.innerText")
    finally:
        running.close()
    store = SubscriberStore(open_database(tmp_path / "subscribers.sqlite3"))
    lea = store.get("lea@example.org")
    assert (lea.status, lea.name, lea.consent_source) == ("subscribed", "Léa", "formulaire")
