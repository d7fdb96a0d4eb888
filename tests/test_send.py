"""Sending against a real SMTP server on loopback (aiosmtpd), faults included; the outbox; messages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.utils
import re
from email import policy
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
from support.smtp import FaultyHandler, SMTPServer, free_port
from support.smtp_helpers import SECRET, address, make_config, make_letter, populate

from newsletter.errors import SourceError
from newsletter.render.personalize import GREETING_MARK, UNSUBSCRIBE_MARK, personalize
from newsletter.send import Journal, MessageFactory, Recipient, new_sender, send_test
from newsletter.send.config import sending_config
from newsletter.send.message import Attachment, MessageError
from newsletter.send.ratelimit import RateLimiter
from newsletter.send.tokens import make_token, verify_token
from newsletter.send.transports import OutboxTransport
from newsletter.settings import Settings
from newsletter.subscribers.store import Entry


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "subscribers.sqlite3"


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


def content(part) -> str:
    """A part's text with the wire's CRLF line ends as a mail client shows them."""
    return part.get_content().replace("\r\n", "\n")


def run(config, store, kind="smtp", letter=None, **options):
    sender = new_sender(config, store, letter or make_letter(), kind, **options)
    sender.prepare()
    return sender.run()


# Messages ---------------------------------------------------------------------------------------


def test_a_message_has_both_parts_the_rfc8058_headers_and_a_personal_greeting(tmp_path):
    config = make_config(tmp_path)
    factory = MessageFactory(config, make_letter(), SECRET)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    message = parse(factory.build(Recipient(7, "lea@example.org", "Léa")).data)
    after = dt.datetime.now(dt.UTC)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert not message.defects and not any(part.defects for part in message.walk())
    assert message["From"] == "Territoires Audacieux <lettre@example.org>"
    assert message["Reply-To"] == "redaction@example.org"
    assert message["To"] == "Léa <lea@example.org>"
    assert message["Subject"] == "Territoires Pilotes n°3 – Des balises pour la résilience"
    # handed over now, in the letter's time zone (Paris), not dated at the issue's publication
    assert before <= message["Date"].datetime <= after
    assert message["Date"].datetime.utcoffset() == ZoneInfo("Europe/Paris").utcoffset(after.replace(tzinfo=None))
    assert message["List-Id"] == "Territoires Pilotes <territoires-pilotes.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = make_token(SECRET, 7, "lea@example.org")
    https, mailto = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
    assert https == f"https://example.org/lettre/desinscription/?token={token}"
    assert mailto == f"mailto:lettre@example.org?subject=unsubscribe%20{token}"
    text, html = (content(part) for part in message.iter_parts())
    assert text.startswith("Bonjour Léa,\n") and f"Se désinscrire : {https}" in text
    assert "<p>Bonjour Léa,</p>" in html and f'href="{https}"' in html
    assert "%%" not in text + html


@pytest.mark.parametrize(
    "name",
    ["Léa", 'Jean-Édouard <&> "Dupont"', "Ōkubo Tōru " + "très long nom " * 12, "A. B.", "=?utf-8?q?x?="],
)
def test_each_part_decodes_to_exactly_what_personalize_gives(tmp_path, name):
    letter = make_letter()
    lines = "Ligne\n.\n.point\nFrom here\n" + "x" * 300 + " \n" + "é" * 100 + f"{GREETING_MARK}{UNSUBSCRIBE_MARK}"
    letter = dataclasses.replace(
        letter, text=letter.text + lines, html=letter.html.replace("</body>", f"{lines}\r\n</body>") + " fin ="
    )
    factory = MessageFactory(make_config(tmp_path), letter, SECRET)
    built = factory.build(Recipient(5, "lea@example.org", name))
    assert all(len(line) <= 76 for line in built.data.split(b"\r\n--", 1)[1].split(b"\r\n"))
    assert b"\n" not in built.data.replace(b"\r\n", b"")
    url = factory.unsubscribe_url(make_token(SECRET, 5, "lea@example.org"))
    html, text = personalize(letter, f"Bonjour {name},", url)
    message = parse(built.data)
    assert message.get_body(("plain",)).get_payload(decode=True) == text.replace("\n", "\r\n").encode()
    wire_html = html.replace("\r\n", "\n").replace("\n", "\r\n").encode()
    assert message.get_body(("html",)).get_payload(decode=True) == wire_html


def test_attachments_go_after_the_two_parts_which_still_decode_to_exactly_what_personalize_gives(tmp_path):
    letter = make_letter()
    calendar = ("BEGIN:VCALENDAR\r\nSUMMARY:Agora – « ANNULÉ »\r\n" + "X" * 300 + "\r\nEND:VCALENDAR\r\n").encode()
    letter = dataclasses.replace(
        letter,
        correction=2,
        attachments=(
            Attachment("agora.ics", 'text/calendar; charset="utf-8"; method=CANCEL', calendar),
            Attachment("b.ics", 'text/calendar; charset="utf-8"; method=PUBLISH', b"\x00\xff"),
        ),
    )
    factory = MessageFactory(make_config(tmp_path), letter, SECRET)
    built = factory.build(Recipient(5, "lea@example.org", "Léa"))
    assert all(len(line) <= 78 for line in built.data.split(b"\r\n\r\n", 1)[1].split(b"\r\n"))
    message = parse(built.data)
    assert not message.defects and not any(part.defects for part in message.walk())
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "text/calendar",
    ]
    html, text = personalize(letter, "Bonjour Léa,", factory.unsubscribe_url(make_token(SECRET, 5, "lea@example.org")))
    assert message.get_body(("plain",)).get_payload(decode=True) == text.replace("\n", "\r\n").encode()
    assert message.get_body(("html",)).get_payload(decode=True) == html.replace("\n", "\r\n").encode()
    ics, raw = message.iter_attachments()
    assert (ics.get_filename(), ics.get_param("method"), ics.get_payload(decode=True)) == (
        "agora.ics",
        "CANCEL",
        calendar,
    )
    assert raw.get_payload(decode=True) == b"\x00\xff"
    # its own Message-ID, in reply to the issue's message to the same subscriber
    issue_id = MessageFactory(make_config(tmp_path), make_letter(), SECRET).message_id(Recipient(5, "lea@example.org"))
    assert message["Message-ID"] != issue_id and message["In-Reply-To"] == message["References"] == issue_id


def test_a_name_of_200_emoji_is_folded_into_short_encoded_words_that_a_strict_server_accepts(tmp_path, db_path):
    """RFC 5322: no line over 998 octets (a MUST); RFC 2047: encoded-words of at most 75 characters."""
    name = "🌱" * 200
    letter = dataclasses.replace(make_letter(), subject="Territoires Pilotes n°3 – " + "Résilience 🌍 " * 30)
    store = populate(db_path, 0)
    store.add(Entry("long@example.org", name=name))
    handler = FaultyHandler()
    with SMTPServer(handler) as server:  # aiosmtpd answers « 500 Line too long » past 1,000 octets
        config = dataclasses.replace(
            make_config(tmp_path, server.port), sender_name="Rédaction 🌍 " * 12, list_name="Lettre d’été " * 10
        )
        summary = run(config, store, letter=letter)
    assert summary.counts["sent"] == 1, summary
    [(_, received)] = handler.accepted
    head = received.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    to = re.search(rb"\r\nTo: .*?\r\n(?=\S)", head, re.S).group(0)
    assert len(to.split(b"\r\n")) > 10 and max(len(line) for line in to.split(b"\r\n")) <= 78
    assert all(len(line) <= 78 for line in head.split(b"\r\n") if not line.startswith(b"List-Unsubscribe:"))
    words = re.findall(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=", head)
    assert words and max(len(word) for word in words) <= 75
    message = parse(received)
    assert not message.defects and message["To"].addresses[0].addr_spec == "long@example.org"
    raw = email.message_from_bytes(received, policy=policy.compat32)
    display, addr_spec = email.utils.parseaddr(raw["To"])
    assert str(make_header(decode_header(display))) == name and addr_spec == "long@example.org"
    assert str(make_header(decode_header(raw["Subject"]))) == letter.subject
    sender_name, _ = email.utils.parseaddr(raw["From"])
    assert str(make_header(decode_header(sender_name))).strip() == config.sender_name.strip()
    assert content(message.get_body(("plain",))).startswith(f"Bonjour {name},\n")


def test_without_a_name_the_issue_greeting_is_used(tmp_path):
    factory = MessageFactory(make_config(tmp_path), make_letter(), SECRET)
    text = content(parse(factory.build(Recipient(8, "paul@example.org")).data).get_body(("plain",)))
    assert text.startswith("Bonjour à toutes et à tous,\n")
    no_greeting = dataclasses.replace(make_letter(), greeting="")
    factory = MessageFactory(make_config(tmp_path), no_greeting, SECRET)
    assert content(parse(factory.build(Recipient(8, "paul@example.org")).data).get_body(("plain",))).startswith(
        "Bonjour,\n"
    )


def test_message_ids_are_stable_per_issue_and_subscriber(tmp_path):
    config = make_config(tmp_path)
    lea, paul = Recipient(7, "lea@example.org", "Léa"), Recipient(8, "paul@example.org")
    first = MessageFactory(config, make_letter(3), SECRET)
    again = MessageFactory(config, make_letter(3), SECRET)
    other_issue = MessageFactory(config, make_letter(4), SECRET)
    assert first.build(lea).message_id == again.build(lea).message_id
    assert first.build(lea).data == again.build(lea).data
    assert first.build(lea).message_id != first.build(paul).message_id
    assert first.build(lea).message_id != other_issue.build(lea).message_id
    assert re.fullmatch(r"<3\.[0-9a-f]{24}@example\.org>", first.build(lea).message_id)


@pytest.mark.parametrize(
    "change",
    [
        {"subject": "Sujet\r\nBcc: pirate@example.org"},
        {"subject": "Sujet\nX-Injected: 1"},
    ],
)
def test_a_subject_with_a_line_break_is_refused(tmp_path, change):
    with pytest.raises(MessageError, match="retour à la ligne"):
        MessageFactory(make_config(tmp_path), dataclasses.replace(make_letter(), **change), SECRET)


@pytest.mark.parametrize(
    "recipient",
    [
        Recipient(7, "lea@example.org", "Léa\r\nBcc: pirate@example.org"),
        Recipient(7, "lea@example.org\r\nBcc: x@y.org"),
    ],
)
def test_a_name_or_address_with_a_line_break_is_refused(tmp_path, recipient):
    factory = MessageFactory(make_config(tmp_path), make_letter(), SECRET)
    with pytest.raises(MessageError, match="retour à la ligne"):
        factory.build(recipient)


def test_a_sender_name_with_a_line_break_is_refused(tmp_path):
    config = dataclasses.replace(make_config(tmp_path), sender_name="Lettre\r\nBcc: pirate@example.org")
    with pytest.raises(MessageError):
        MessageFactory(config, make_letter(), SECRET)


def test_tokens_name_one_subscriber_and_cannot_be_forged():
    token = make_token(SECRET, 7, "lea@example.org")
    assert verify_token(SECRET, token, "lea@example.org")
    assert not verify_token(SECRET, token, "paul@example.org")
    assert not verify_token("autre-secret", token, "lea@example.org")
    assert not verify_token(SECRET, "8" + token[1:], "lea@example.org")
    assert not verify_token(SECRET, token[:-2] + "AA", "lea@example.org")
    for garbage in ("", "7", "7.", "x.abc", "７.abc", "-7.abc"):
        assert not verify_token(SECRET, garbage, "lea@example.org")


# Settings ---------------------------------------------------------------------------------------


def test_every_setting_has_a_default(tmp_path):
    config = sending_config(Settings(), tmp_path)
    assert config.transport == "outbox"
    assert config.database == tmp_path / "subscribers.sqlite3"
    assert config.outbox == tmp_path / "outbox"
    assert (config.smtp.host, config.smtp.port, config.smtp.security) == ("localhost", 587, "starttls")
    assert config.smtp.connections == 1 and config.smtp.rate == 0
    assert sending_config(Settings(tables={"smtp": {"security": "tls"}}), tmp_path).smtp.port == 465


@pytest.mark.parametrize(
    "tables, message",
    [
        ({"smtp": {"password": "hunter2"}}, "mot de passe SMTP ne s’écrit pas"),
        ({"smtp": {"security": "ssl"}}, "« security » inconnu"),
        ({"smtp": {"port": "25"}}, "doit être un nombre"),
        ({"smtp": {"connections": 0}}, "au moins 1"),
        ({"sending": {"transport": "pigeon"}}, "transport inconnu"),
        ({"sending": {"retry": 3}}, "réglage inconnu « retry »"),
    ],
)
def test_bad_settings_are_one_clear_error_on_their_line(tmp_path, tables, message):
    path = tmp_path / "newsletter.toml"
    key = next(iter(next(iter(tables.values()))))
    path.write_text(f"[x]\n{key} = 1\n")
    with pytest.raises(SourceError) as caught:
        sending_config(Settings(path=path, tables=tables), tmp_path)
    assert message in caught.value.message and caught.value.line == 2


def test_the_secret_from_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "du-environnement")
    settings = Settings(tables={"sending": {"secret": "des-reglages"}})
    assert sending_config(settings, tmp_path).secret == "du-environnement"


def test_the_rate_limit_spaces_messages():
    now, slept = [100.0], []

    def sleep(seconds):
        slept.append(seconds)

    limiter = RateLimiter(4, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.wait()
    assert slept == [0.25, 0.5, 0.75, 1.0]
    unlimited = RateLimiter(0, clock=lambda: now[0], sleep=sleep)
    unlimited.wait()
    assert len(slept) == 4


# The outbox -------------------------------------------------------------------------------------


def test_the_outbox_gets_one_file_per_subscribed_address_and_a_rerun_adds_none(tmp_path, db_path):
    store = populate(db_path, 12, unsubscribed=(3, 5))
    config = make_config(tmp_path)
    summary = run(config, store, "outbox")
    files = sorted((config.outbox / "003").glob("*.eml"))
    assert len(files) == 10 and summary.outcomes["sent"] == 10 and summary.complete
    recipients = {parse(path.read_bytes())["To"].addresses[0].addr_spec for path in files}
    assert recipients == {address(n) for n in range(12) if n not in (3, 5)}
    assert not list(config.outbox.rglob("*.tmp"))
    again = run(config, store, "outbox")
    assert again.total == 0 and not again.outcomes
    assert Journal(store.db, 3).counts()["sent"] == 10


def test_a_new_subscriber_gets_the_issue_on_the_next_run(tmp_path, db_path):
    store = populate(db_path, 3)
    config = make_config(tmp_path)
    run(config, store, "outbox")
    populate(db_path, 4)
    summary = run(config, store, "outbox")
    assert summary.total == 1 and summary.outcomes["sent"] == 1


# SMTP -------------------------------------------------------------------------------------------


def test_a_few_hundred_subscribers_each_get_exactly_one_message_despite_faults(tmp_path, db_path):
    count, unsubscribed, bad = 300, (10, 11, 12, 150), address(42)
    store = populate(db_path, count, unsubscribed)
    handler = FaultyHandler(defer_every=7, close_every=45, reject={bad})
    with SMTPServer(handler) as server:
        config = make_config(tmp_path, server.port, connections=3)
        summary = run(config, store)
    received = handler.counts()
    expected = {address(n) for n in range(count) if n not in unsubscribed} - {bad}
    assert set(received) == expected
    assert set(received.values()) == {1}
    assert handler.deferred and handler.deferred <= expected  # temporary refusals were retried
    counts = Journal(store.db, 3).counts()
    assert counts["sent"] == len(expected) and counts["failed"] == 1
    assert counts["queued"] == counts["deferred"] == counts["sending"] == counts["unknown"] == 0
    failed = Journal(store.db, 3).rows(("failed",))
    assert [(r.address, r.reply) for r in failed] == [(bad, "550 5.1.1 Boîte inconnue")]
    sent = store.db.execute("SELECT reply FROM deliveries WHERE status = 'sent' LIMIT 1").fetchone()[0]
    assert sent == "250 2.0.0 Ok: queued"
    assert summary.complete and summary.outcomes["sent"] == len(expected)


def test_messages_received_by_the_server_parse_and_carry_everything(tmp_path, db_path):
    store = populate(db_path, 4)
    handler = FaultyHandler()
    with SMTPServer(handler) as server:
        run(make_config(tmp_path, server.port), store)
    for rcpt, message in handler.messages():
        assert message["To"].addresses[0].addr_spec == rcpt
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        subscriber = store.get(rcpt)
        token = re.search(r"token=([^>]+)>", message["List-Unsubscribe"]).group(1)
        assert verify_token(SECRET, token, subscriber.address) and token.startswith(f"{subscriber.id}.")


def test_temporary_refusals_are_retried_then_given_up_past_the_retry_limit(tmp_path, db_path):
    store = populate(db_path, 5)
    handler = FaultyHandler(defer={address(2)})
    with SMTPServer(handler) as server:
        config = dataclasses.replace(make_config(tmp_path, server.port), retries=2)
        summary = run(config, store)
    assert not Journal(store.db, 3).rows(("deferred",))
    [row] = Journal(store.db, 3).rows(("failed",))
    assert (row.address, row.attempts) == (address(2), 3)  # the first try and two retries
    assert row.reply.startswith("abandonné après 3 essais : 451")
    assert summary.waiting == 0 and summary.complete
    assert len(handler.counts()) == 4


def test_a_connection_dropped_after_data_is_unknown_and_resent_only_when_asked(tmp_path, db_path):
    store = populate(db_path, 6)
    dropped = address(3)
    handler = FaultyHandler(drop_data={dropped})
    with SMTPServer(handler) as server:
        config = make_config(tmp_path, server.port)
        first = run(config, store)
        journal = Journal(store.db, 3)
        assert journal.rows(("unknown",))[0].address == dropped
        assert first.outcomes["unknown"] == 1 and first.outcomes["sent"] == 5
        second = run(config, store)
        assert second.total == 0 and journal.counts()["unknown"] == 1
        third = run(config, store, resend_unknown=True)
        assert third.total == 1 and third.outcomes["sent"] == 1
    assert handler.counts() == {address(n): 1 for n in range(6)}
    assert journal.counts()["sent"] == 6


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_refused_login_is_one_clear_error_and_sends_nothing(tmp_path, db_path, monkeypatch):
    store = populate(db_path, 3)
    handler = FaultyHandler()
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "mauvais")
    with SMTPServer(handler, users={"lettre": "bon"}) as server:
        config = make_config(tmp_path, server.port, username="lettre")
        summary = run(config, store)
        assert "a refusé l’identification de « lettre » : 535" in summary.error
        assert Journal(store.db, 3).counts()["queued"] == 3 and not handler.counts()
        monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "bon")
        assert run(config, store).complete
    assert len(handler.counts()) == 3


def test_a_missing_password_is_named(tmp_path, db_path, monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SMTP_PASSWORD", raising=False)
    store = populate(db_path, 1)
    summary = run(make_config(tmp_path, free_port(), username="lettre"), store)
    assert "NEWSLETTER_SMTP_PASSWORD" in summary.error


def test_no_server_at_all_is_one_clear_error_and_the_rows_wait(tmp_path, db_path):
    store = populate(db_path, 3)
    summary = run(make_config(tmp_path, free_port(), connections=2), store)
    assert summary.error.startswith("impossible de joindre le serveur SMTP 127.0.0.1:")
    assert "connexion refusée" in summary.error
    assert Journal(store.db, 3).counts()["queued"] == 3 and summary.waiting == 3


def test_an_unsubscription_after_queueing_prevents_the_send(tmp_path, db_path):
    store = populate(db_path, 4)
    handler = FaultyHandler()
    with SMTPServer(handler) as server:
        sender = new_sender(make_config(tmp_path, server.port), store, make_letter(), "smtp")
        sender.prepare()
        store.remove(address(1))
        sender.run()
    assert address(1) not in handler.counts() and len(handler.counts()) == 3


def test_a_row_left_sending_by_a_dead_run_becomes_unknown(tmp_path, db_path):
    store = populate(db_path, 2)
    journal = Journal(store.db, 3)
    journal.prepare()
    store.db.execute("UPDATE deliveries SET status = 'sending' WHERE subscriber_id = 1")
    sender = new_sender(make_config(tmp_path), store, make_letter(), "outbox")
    assert sender.prepare() == 1 and sender.summary.recovered == 1
    assert journal.rows(("unknown",))[0].reply.startswith("envoi interrompu")


def test_a_test_send_is_marked_and_not_journaled(tmp_path, db_path):
    store = populate(db_path, 2)
    handler = FaultyHandler()
    with SMTPServer(handler) as server:
        config = make_config(tmp_path, server.port)
        factory = MessageFactory(config, make_letter(), SECRET, test=True)
        from newsletter.send.transports import SmtpTransport

        outcomes = send_test(factory, SmtpTransport(config.smtp), [Recipient(0, "moi@example.org", "Moi")])
    assert [o.status for o in outcomes] == ["sent"]
    [(rcpt, message)] = handler.messages()
    assert rcpt == "moi@example.org" and message["Subject"].startswith("[TEST] Territoires Pilotes n°3")
    assert content(message.get_body(("plain",))).startswith("Bonjour Moi,\n")
    assert store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0


def test_the_outbox_writes_atomically(tmp_path):
    outbox = OutboxTransport(tmp_path / "outbox")
    outbox.connect()
    assert outbox.send("a@example.org", "b@example.org", b"x", "000001-b@example.org").status == "sent"
    assert (tmp_path / "outbox" / "000001-b@example.org.eml").read_bytes() == b"x"
    assert not list((tmp_path / "outbox").glob(".*"))
