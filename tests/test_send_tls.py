"""SMTP with STARTTLS and with implicit TLS, login over TLS, and a certificate that is not trusted."""

from __future__ import annotations

import shutil

import pytest
from support.smtp import FaultyHandler, SMTPServer, self_signed
from support.smtp_helpers import make_config, make_letter, populate

from newsletter.send import new_sender

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command makes the certificate")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"))


def send_all(tmp_path, port, **smtp):
    store = populate(tmp_path / "subscribers.sqlite3", 3)
    sender = new_sender(make_config(tmp_path, port, **smtp), store, make_letter(), "smtp")
    sender.prepare()
    return sender.run()


def test_starttls_then_login(tmp_path, certificate, monkeypatch):
    cert, context = certificate
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "bon")
    handler = FaultyHandler()
    with SMTPServer(handler, users={"lettre": "bon"}, starttls=context) as server:
        summary = send_all(tmp_path, server.port, security="starttls", cafile=str(cert), username="lettre")
    assert summary.complete, summary.error
    assert len(handler.counts()) == 3


def test_implicit_tls(tmp_path, certificate):
    cert, context = certificate
    handler = FaultyHandler()
    with SMTPServer(handler, implicit_tls=context) as server:
        summary = send_all(tmp_path, server.port, security="tls", cafile=str(cert))
    assert summary.complete, summary.error
    assert len(handler.counts()) == 3


def test_an_untrusted_certificate_stops_before_anything_is_sent(tmp_path, certificate):
    _, context = certificate
    handler = FaultyHandler()
    with SMTPServer(handler, starttls=context) as server:
        summary = send_all(tmp_path, server.port, security="starttls")
    assert summary.error.startswith("échec TLS avec le serveur SMTP 127.0.0.1:")
    assert not handler.counts() and summary.waiting == 3


def test_starttls_asked_of_a_server_without_it_is_a_clear_error(tmp_path):
    with SMTPServer(FaultyHandler()) as server:
        summary = send_all(tmp_path, server.port, security="starttls")
    assert "pas de STARTTLS" in summary.error
