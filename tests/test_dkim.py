"""DKIM signing: messages built, sent over SMTP and through the CLI verify against the published key.

dkimpy verifies what the server received; only its DNS look-up is replaced by the TXT record an
editor would publish (`support/dkim_keys.py`).
"""

from __future__ import annotations

import dataclasses
import email
from email import policy
from pathlib import Path

import dkim
import pytest
from support.dkim_keys import dns, rsa_key
from support.smtp import FaultyHandler, SMTPServer
from support.smtp_helpers import SECRET, make_config, make_letter, populate
from test_send_cli import invoke, make_sending_project, subscribe

from newsletter.cli.send import send
from newsletter.errors import SourceError
from newsletter.send import MessageFactory, Recipient, new_sender, new_signer, sending_config
from newsletter.send.config import DKIM_HEADERS, DkimConfig
from newsletter.settings import load_settings

SELECTOR, DOMAIN = "lettre2025", "example.org"
DKIM_TABLE = f'[sending.dkim]\nselector = "{SELECTOR}"\ndomain = "{DOMAIN}"\nprivate_key = "cles/dkim.pem"\n'


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> tuple[Path, str]:
    return rsa_key(tmp_path_factory.mktemp("dkim"))


def signed_config(root: Path, key_path: Path, port: int = 2525, **dkim_table):
    """The sending tests' settings, with `[sending.dkim]`."""
    config = make_config(root, port)
    headers = dkim_table.get("headers", DKIM_HEADERS)
    dkim_config = DkimConfig(SELECTOR, DOMAIN, key_path, root / "newsletter.toml", None, tuple(headers))
    return dataclasses.replace(config, dkim=dkim_config)


def signature_tags(data: bytes) -> dict[str, str]:
    header = email.message_from_bytes(data, policy=policy.SMTP)["DKIM-Signature"]
    value = "".join(str(header).split())
    return dict(tag.split("=", 1) for tag in value.split(";") if tag)


def test_a_built_message_is_signed_first_and_verifies_against_the_published_key(tmp_path, key):
    key_path, public = key
    config = signed_config(tmp_path, key_path)
    factory = MessageFactory(config, make_letter(), SECRET, signer=new_signer(config))
    unsigned_factory = MessageFactory(config, make_letter(), SECRET)
    sent_at = factory.clock()
    factory.clock = unsigned_factory.clock = lambda: sent_at  # the same Date: on both sides of a second
    data = factory.build(Recipient(7, "lea@example.org", "Léa")).data
    assert data.startswith(b"DKIM-Signature: ")
    assert dkim.verify(data, dnsfunc=dns(SELECTOR, DOMAIN, public))
    tags = signature_tags(data)
    assert (tags["a"], tags["c"], tags["d"], tags["s"]) == ("rsa-sha256", "relaxed/relaxed", DOMAIN, SELECTOR)
    assert tags["h"].split(":") == [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "mime-version",
        "content-type",
        "reply-to",
    ]
    unsigned = unsigned_factory.build(Recipient(7, "lea@example.org", "Léa")).data
    assert data.endswith(unsigned)  # the signature is prepended; nothing else changes


def test_a_message_altered_after_signing_or_checked_against_another_key_fails(tmp_path, key):
    key_path, public = key
    config = signed_config(tmp_path, key_path)
    data = (
        MessageFactory(config, make_letter(), SECRET, signer=new_signer(config))
        .build(Recipient(7, "lea@example.org", "Léa"))
        .data
    )
    lookup = dns(SELECTOR, DOMAIN, public)
    assert dkim.verify(data, dnsfunc=lookup)

    def altered(old: bytes, new: bytes) -> bytes:
        assert old in data
        return data.replace(old, new, 1)

    assert not dkim.verify(altered(b"avancent", b"reculent"), dnsfunc=lookup)  # body
    assert not dkim.verify(altered(b"\r\nSubject: ", b"\r\nSubject: Re: "), dnsfunc=lookup)
    assert not dkim.verify(altered(b"List-Unsubscribe: <https:", b"List-Unsubscribe: <http:"), dnsfunc=lookup)
    _, other_public = rsa_key(tmp_path / "autre")
    assert not dkim.verify(data, dnsfunc=dns(SELECTOR, DOMAIN, other_public))
    assert not dkim.verify(data, dnsfunc=dns("autre", DOMAIN, public))


def test_messages_received_over_smtp_verify(tmp_path, key):
    key_path, public = key
    handler = FaultyHandler(defer_every=2)
    store = populate(tmp_path / "subscribers.sqlite3", 4)
    with SMTPServer(handler) as server:
        sender = new_sender(signed_config(tmp_path, key_path, server.port), store, make_letter(), "smtp")
        sender.prepare()
        summary = sender.run()
    assert summary.complete, summary.error
    lookup = dns(SELECTOR, DOMAIN, public)
    assert len(handler.accepted) == 4
    assert all(dkim.verify(data, dnsfunc=lookup) for _, data in handler.accepted)


def test_the_signed_headers_can_be_chosen(tmp_path, key):
    key_path, public = key
    config = signed_config(tmp_path, key_path, headers=["From", "Subject", "List-Unsubscribe"])
    data = (
        MessageFactory(config, make_letter(), SECRET, signer=new_signer(config))
        .build(Recipient(7, "lea@example.org"))
        .data
    )
    assert signature_tags(data)["h"] == "from:subject:list-unsubscribe"
    assert dkim.verify(data, dnsfunc=dns(SELECTOR, DOMAIN, public))


def test_send_through_the_cli_signs_the_list_and_the_test_messages(tmp_path, key):
    key_path, public = key
    handler = FaultyHandler()
    with SMTPServer(handler) as server:
        root = make_sending_project(tmp_path, smtp=f"port = {server.port}", sending=DKIM_TABLE)
        (root / "cles").mkdir()
        (root / "cles" / "dkim.pem").write_bytes(key_path.read_bytes())
        subscribe(root, 3)
        result = invoke(send, "-C", root, "1", "--transport", "smtp", "--yes")
        assert result.exit_code == 0, result.output
        test = invoke(send, "-C", root, "1", "--transport", "smtp", "--to", "moi@example.org")
        assert test.exit_code == 0, test.output
    lookup = dns(SELECTOR, DOMAIN, public)
    assert len(handler.accepted) == 4
    for _, data in handler.accepted:
        assert data.startswith(b"DKIM-Signature: ") and dkim.verify(data, dnsfunc=lookup)


def line_of(path: Path, start: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.startswith(start))


@pytest.mark.parametrize(
    "key_file, message",
    [
        (None, "clé privée DKIM introuvable : {key}"),
        (b"", "{key} n’est pas une clé privée RSA au format PEM sans mot de passe"),
        (
            b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n",
            "{key} est une clé publique : « private_key » doit nommer la clé privée",
        ),
        (
            b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n",
            "{key} n’est pas une clé privée RSA au format PEM sans mot de passe",
        ),
    ],
)
def test_a_bad_key_file_is_one_french_line_naming_the_settings_line(tmp_path, key_file, message):
    root = make_sending_project(tmp_path, sending=DKIM_TABLE)
    key = root / "cles" / "dkim.pem"
    if key_file is not None:
        key.parent.mkdir()
        key.write_bytes(key_file)
    subscribe(root, 1)
    result = invoke(send, "-C", root, "1")
    assert result.exit_code == 1
    settings = root / "newsletter.toml"
    [line] = [
        line for line in result.output.splitlines() if ": attention :" not in line
    ]  # issue 1's check warnings come first
    assert line.startswith(f"{settings}:{line_of(settings, 'private_key')}: {message.format(key=key)}")
    assert not (root / "outbox").exists()


def test_a_signing_domain_that_dmarc_cannot_align_with_the_sender_is_refused(tmp_path, key):
    key_path, _ = key
    root = make_sending_project(tmp_path, sending=DKIM_TABLE.replace(DOMAIN, "autre-domaine.fr"))
    (root / "cles").mkdir()
    (root / "cles" / "dkim.pem").write_bytes(key_path.read_bytes())
    result = invoke(send, "-C", root, "1")
    settings = root / "newsletter.toml"
    assert result.exit_code == 1
    assert result.output == (
        f"{settings}:{line_of(settings, 'domain')}: le domaine DKIM « autre-domaine.fr » n’est pas celui de "
        "l’expéditeur (example.org) ni un domaine parent : les destinataires (DMARC) ignoreraient la signature\n"
    )


@pytest.mark.parametrize(
    "sender, domain, accepted",
    [
        ("lettre@example.org", "Example.org.", True),
        ("lettre@lettres.example.org", "example.org", True),  # a parent: relaxed alignment
        ("lettre@example.org", "envoi.example.org", True),  # same organisational domain
        ("lettre@example.org", "notexample.org", False),
        ("lettre@example.org", "org", False),
    ],
)
def test_the_signing_domain_is_the_senders_or_a_parent(tmp_path, key, sender, domain, accepted):
    key_path, _ = key
    text = (
        f'[sender]\naddress = "{sender}"\n\n[sending.dkim]\nselector = "s1"\ndomain = "{domain}"\n'
        f'private_key = "{key_path}"\n'
    )
    (tmp_path / "newsletter.toml").write_text(text, encoding="utf-8")
    settings = load_settings(tmp_path)
    if accepted:
        assert sending_config(settings, tmp_path).dkim.domain == domain.lower().rstrip(".")
    else:
        with pytest.raises(SourceError) as caught:
            sending_config(settings, tmp_path)
        assert caught.value.line == 6 and "domaine" in caught.value.message


@pytest.mark.parametrize(
    "extra, line, message",
    [
        ('headers = ["Subject", "To"]', 7, "« headers » dans [sending.dkim] doit contenir « From » (RFC 6376)"),
        ('headers = ["From", "Received"]', 7, "en-têtes à ne pas signer dans [sending.dkim] : received"),
        ('headers = "From"', 7, "« headers » dans [sending.dkim] doit être une liste"),
        ('algorithm = "ed25519"', 7, "réglage inconnu « algorithm » dans [sending.dkim]"),
    ],
)
def test_bad_dkim_settings_are_refused_at_their_line(tmp_path, key, extra, line, message):
    key_path, _ = key
    text = f'[sender]\naddress = "lettre@example.org"\n\n[sending.dkim]\nselector = "s1"\ndomain = "example.org"\n{extra}\n'
    text += f'private_key = "{key_path}"\n'
    (tmp_path / "newsletter.toml").write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        sending_config(load_settings(tmp_path), tmp_path)
    assert caught.value.line == line and caught.value.message.startswith(message)


def test_a_missing_dkim_setting_is_reported_on_the_table(tmp_path):
    text = '[sender]\naddress = "lettre@example.org"\n\n[sending.dkim]\nselector = "s1"\ndomain = "example.org"\n'
    (tmp_path / "newsletter.toml").write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        sending_config(load_settings(tmp_path), tmp_path)
    assert (caught.value.line, caught.value.message) == (4, "« private_key » manque dans [sending.dkim]")


def test_a_key_too_short_to_be_trusted_is_refused_when_the_send_starts(tmp_path):
    short, _ = rsa_key(tmp_path, bits=512)
    text = f'[sender]\naddress = "lettre@example.org"\n\n[sending.dkim]\nselector = "s1"\ndomain = "example.org"\nprivate_key = "{short}"\n'
    (tmp_path / "newsletter.toml").write_text(text, encoding="utf-8")
    config = sending_config(load_settings(tmp_path), tmp_path)  # the settings alone do not read the key
    with pytest.raises(SourceError) as caught:
        new_signer(config)
    assert caught.value.line == 7
    assert caught.value.message == f"clé privée DKIM trop courte (512 bits, 1024 au moins, 2048 conseillés) : {short}"
