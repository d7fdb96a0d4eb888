"""What comes back after a send: VERP envelope senders, bounces, complaints, mailto unsubscriptions.

Messages are really sent (outbox, or aiosmtpd on loopback), then real-world bounce shapes
(`tests/data/bounces/`) are filled in with what was sent and written into real mbox and Maildir files.
"""

from __future__ import annotations

import dataclasses
import email
import re
from email import policy

import pytest
from support.bounces import sample, write_maildir, write_mbox
from support.imap import Dovecot
from support.smtp import FaultyHandler, SMTPServer, free_port, self_signed
from support.smtp_helpers import SECRET, address, make_config, make_letter, populate
from test_send_cli import invoke, make_sending_project, subscribe

from newsletter.cli.bounces import bounces
from newsletter.cli.send import send, status
from newsletter.cli.subscribers import subscribers
from newsletter.errors import SourceError
from newsletter.send import new_sender
from newsletter.send.config import sending_config
from newsletter.send.feedback import FeedbackReader, read_message
from newsletter.send.mailboxes import Item
from newsletter.send.tokens import make_token, verify_verp_token, verp_token_in
from newsletter.settings import Settings

BOUNCES = "bounces@example.org"


def list_config(tmp_path, port: int = 2525):
    return dataclasses.replace(make_config(tmp_path, port), bounce_address=BOUNCES, unsubscribe_mailto=BOUNCES)


def send_issue(config, store, number: int, kind: str = "outbox"):
    sender = new_sender(config, store, make_letter(number), kind)
    sender.prepare()
    return sender.run()


def sent(config, number: int, n: int) -> bytes:
    """Our message of issue `number` to subscriber n, as the outbox kept it."""
    [path] = (config.outbox / f"{number:03d}").glob(f"*-{address(n)}.eml")
    return path.read_bytes()


def process(config, store, messages: list[bytes], **options):
    items = [Item(f"boîte, message {n}", data) for n, data in enumerate(messages, 1)]
    return FeedbackReader(store, config, SECRET).process(items, **options)


def states(root) -> dict[str, str]:
    """Each address and its state, as `subscribers list` shows them."""
    lines = invoke(subscribers, "list", "-C", root).output.splitlines()
    return {line.split("\t")[0]: line.split("\t")[-1] for line in lines if "\t" in line}


def status_of(store, n: int) -> str:
    return store.get(address(n)).status


# The envelope sender ------------------------------------------------------------------------------


def test_each_list_message_goes_out_with_its_own_verp_mail_from_and_a_test_with_the_bare_one(tmp_path):
    handler = FaultyHandler()
    with SMTPServer(handler) as server:
        config = list_config(tmp_path, server.port)
        store = populate(tmp_path / "subscribers.sqlite3", 3)
        assert send_issue(config, store, 7, "smtp").complete
        from newsletter.send import MessageFactory, Recipient, send_test, transports

        factory = MessageFactory(config, make_letter(7), SECRET, test=True)
        send_test(factory, transports(config, "smtp", tmp_path)(), [Recipient(0, "moi@example.net")])
    envelopes = dict(handler.envelopes)
    for n in range(3):
        subscriber = store.get(address(n))
        token = verp_token_in(envelopes[address(n)], BOUNCES)
        assert re.fullmatch(r"7-\d+-[a-z2-7]{16}", token), envelopes[address(n)]
        assert verify_verp_token(SECRET, token.upper(), subscriber.address)  # an MTA may change the case
        assert not verify_verp_token(SECRET, token, address((n + 1) % 3))
    assert envelopes["moi@example.net"] == BOUNCES
    received = email.message_from_bytes(handler.accepted[0][1], policy=policy.default)
    assert "Return-Path" not in received  # the receiving server adds it, not us (RFC 5321 4.4)


def test_without_a_bounce_address_the_envelope_sender_is_the_from_address_as_before(tmp_path):
    handler = FaultyHandler()
    with SMTPServer(handler) as server:
        config = make_config(tmp_path, server.port)
        assert send_issue(config, populate(tmp_path / "s.sqlite3", 2), 1, "smtp").complete
    assert {sender for _, sender in handler.envelopes} == {"lettre@example.org"}
    send_issue(config, populate(tmp_path / "o.sqlite3", 1), 2)
    assert not sent(config, 2, 0).startswith(b"Return-Path")


def test_the_outbox_shows_the_envelope_sender_as_return_path(tmp_path):
    config = list_config(tmp_path)
    send_issue(config, populate(tmp_path / "s.sqlite3", 2), 3)
    message = email.message_from_bytes(sent(config, 3, 1), policy=policy.default)
    token = verp_token_in(message["Return-Path"], BOUNCES)
    assert token and verify_verp_token(SECRET, token, address(1))
    assert f"mailto:{BOUNCES}?subject=unsubscribe" in message["List-Unsubscribe"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("bounces+x@example.org", "ne peut pas contenir « \\+ »"),
        ("pas une adresse", "bounce_address"),
    ],
)
def test_a_bad_bounce_address_is_one_error_on_its_line(tmp_path, value, message):
    (tmp_path / "newsletter.toml").write_text(f'[sending]\nbounce_address = "{value}"\n', encoding="utf-8")
    settings = Settings(path=tmp_path / "newsletter.toml", tables={"sending": {"bounce_address": value}})
    with pytest.raises(SourceError, match=message) as error:
        sending_config(settings, tmp_path)
    assert error.value.line == 2


def test_an_imap_password_in_the_settings_is_refused(tmp_path):
    settings = Settings(path=tmp_path / "newsletter.toml", tables={"bounces": {"password": "x"}})
    with pytest.raises(SourceError, match="NEWSLETTER_IMAP_PASSWORD"):
        sending_config(settings, tmp_path)


# Reading each real-world shape ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "severity"),
    [
        ("postfix.eml", "bounce", "hard"),
        ("exim.eml", "bounce", "hard"),
        ("office365.eml", "bounce", "hard"),
        ("gmail.eml", "bounce", "hard"),
        ("gmail_full.eml", "bounce", "soft"),
        ("orange.eml", "bounce", "hard"),
        ("postfix_delay.eml", "ignored", None),
        ("autoreply.eml", "ignored", None),
        ("arf.eml", "complaint", None),
    ],
)
def test_each_real_world_shape_is_recognised_and_names_the_subscriber(tmp_path, name, kind, severity):
    config = list_config(tmp_path)
    store = populate(tmp_path / "s.sqlite3", 3)
    send_issue(config, store, 4)
    reading = read_message(sample(name, sent(config, 4, 2)), config)
    assert reading.kind == kind, reading.why
    if severity:
        assert [f.kind for f in reading.failures] == [severity]
    events, _ = FeedbackReader(store, config, SECRET).events(reading)
    if kind == "ignored":
        assert not events
    else:
        assert [(e.subscriber.address, e.issue) for e in events] == [(address(2), 4)]


def test_a_vague_notice_to_a_verp_address_still_names_its_subscriber(tmp_path):
    """Orange's French notice has no failed address flufl.bounce can find: the VERP token names them."""
    config = list_config(tmp_path)
    store = populate(tmp_path / "s.sqlite3", 2)
    send_issue(config, store, 4)
    reading = read_message(sample("orange.eml", sent(config, 4, 1)), config)
    assert reading.failures[0].address == ""
    report = process(config, store, [sample("orange.eml", sent(config, 4, 1))])
    assert [c.address for c in report.changes] == [address(1)] and status_of(store, 1) == "bounced"


def test_without_verp_the_failed_address_and_our_message_id_name_subscriber_and_issue(tmp_path):
    config = make_config(tmp_path)  # no bounce address: bounces come back to the From address
    store = populate(tmp_path / "s.sqlite3", 3)
    send_issue(config, store, 5)
    send_issue(config, store, 6)
    report = process(config, store, [sample("postfix.eml", sent(config, 5, 1)), sample("exim.eml", sent(config, 5, 2))])
    assert report.counts["hard"] == 2 and status_of(store, 1) == status_of(store, 2) == "bounced"
    assert store.feedback_counts(5)["hard"] == 2 and store.feedback_counts(6)["hard"] == 0


# Effects ---------------------------------------------------------------------------------------------


def test_a_hard_bounce_marks_the_subscriber_bounced_and_the_next_send_skips_them(tmp_path):
    config = list_config(tmp_path)
    store = populate(tmp_path / "s.sqlite3", 3)
    send_issue(config, store, 1)
    report = process(config, store, [sample("gmail.eml", sent(config, 1, 0))])
    assert [(c.address, c.before, c.after, c.issue) for c in report.changes] == [
        (address(0), "subscribed", "bounced", 1)
    ]
    assert store.get(address(0)).status == "bounced"  # kept, for the record
    send_issue(config, store, 2)
    assert sorted(p.name.split("-", 1)[1] for p in (config.outbox / "002").glob("*.eml")) == [
        f"{address(n)}.eml" for n in (1, 2)
    ]


def test_soft_bounces_on_three_issues_in_a_row_bounce_and_an_issue_without_one_breaks_the_run(tmp_path):
    config = list_config(tmp_path)
    store = populate(tmp_path / "s.sqlite3", 2)
    for number in (1, 2, 3, 4, 5):
        send_issue(config, store, number)
    # Subscriber 0: issues 1, 2 soft-bounce, 3 goes through, 4 and 5 soft-bounce: never 3 in a row.
    # Subscriber 1: issues 3, 4, 5 soft-bounce, read in any order: bounced.
    messages = [sample("gmail_full.eml", sent(config, n, 0)) for n in (1, 2, 4, 5)]
    messages += [sample("gmail_full.eml", sent(config, n, 1)) for n in (5, 3, 4)]
    report = process(config, store, messages)
    assert report.counts["soft"] == 7
    assert status_of(store, 0) == "subscribed" and store.get(address(0)).soft_bounces == 2
    assert status_of(store, 1) == "bounced" and [c.address for c in report.changes] == [address(1)]


def test_a_delay_warning_then_the_failure_of_the_same_issue_count_once(tmp_path):
    config = dataclasses.replace(
        list_config(tmp_path), bounces=dataclasses.replace(list_config(tmp_path).bounces, soft_limit=2)
    )
    store = populate(tmp_path / "s.sqlite3", 1)
    send_issue(config, store, 1)
    message = sent(config, 1, 0)
    report = process(
        config,
        store,
        [sample("postfix_delay.eml", message), sample("gmail_full.eml", message), sample("gmail_full.eml", message)],
    )
    assert report.counts["ignored"] == 1 and report.counts["soft"] == 2
    assert status_of(store, 0) == "subscribed" and store.get(address(0)).soft_bounces == 1


def test_a_complaint_unsubscribes_even_when_the_report_hides_the_recipient(tmp_path):
    config = list_config(tmp_path)
    store = populate(tmp_path / "s.sqlite3", 3)
    send_issue(config, store, 2)
    redacted = re.sub(rb"(?m)^To: .*$", b"To: redacted@example.net", sent(config, 2, 1))
    report = sample("arf.eml", redacted)
    report = re.sub(rb"(?m)^Original-Mail-From: .*\n", b"", report)
    report = re.sub(rb"(?m)^Return-Path: .*\n", b"", report)
    by_token = process(config, store, [report])
    assert status_of(store, 1) == "unsubscribed" and by_token.counts["complaint"] == 1
    # Only our Message-ID left: the journal knows who received it.
    only_id = re.sub(
        rb"(?m)^List-Unsubscribe: .*\n .*\n",
        b"",
        sample("arf.eml", redacted.replace(address(1).encode(), address(2).encode()).replace(b"Return-Path", b"X-Old")),
        flags=0,
    )
    only_id = re.sub(rb"(?m)^Original-Mail-From: .*\n", b"", only_id).replace(b"notice.", b"other.")
    message_id = email.message_from_bytes(sent(config, 2, 2))["Message-ID"].encode()
    only_id = re.sub(rb"(?m)^Message-ID: <2\..*$", b"Message-ID: " + message_id, only_id)
    process(config, store, [only_id])
    assert status_of(store, 2) == "unsubscribed" and status_of(store, 0) == "subscribed"
    assert store.feedback_counts(2)["complaint"] == 2


def test_a_mailto_request_with_our_token_unsubscribes_the_subscriber_it_names(tmp_path):
    config = list_config(tmp_path)
    store = populate(tmp_path / "s.sqlite3", 3)
    subscriber = store.get(address(1))
    token = make_token(SECRET, subscriber.id, subscriber.address)
    # Sent from another address of theirs: the token decides, not the From.
    report = process(config, store, [sample("mailto.eml", rcpt="perso@example.net", token=token)])
    assert report.counts["unsubscribe"] == 1 and status_of(store, 1) == "unsubscribed"


def test_a_mailto_request_without_a_valid_token_unsubscribes_only_a_subscribed_from_address(tmp_path):
    config = list_config(tmp_path)
    store = populate(tmp_path / "s.sqlite3", 3)
    forged = make_token("autre-secret", store.get(address(0)).id, address(0))
    report = process(
        config,
        store,
        [
            sample("mailto.eml", rcpt=address(2), token=forged),  # From a subscriber: unsubscribed
            sample("mailto.eml", rcpt="inconnu@example.net", token=""),  # nobody
            sample("mailto.eml", rcpt=address(1), mailto="ailleurs@example.net"),  # not sent to our mailto
        ],
    )
    assert [status_of(store, n) for n in range(3)] == ["subscribed", "subscribed", "unsubscribed"]
    assert report.counts["unsubscribe"] == 1 and report.counts["ignored"] == 2


def test_a_dry_run_changes_nothing_and_a_second_run_over_the_same_messages_changes_nothing(tmp_path):
    config = list_config(tmp_path)
    store = populate(tmp_path / "s.sqlite3", 3)
    send_issue(config, store, 1)
    messages = [
        sample("postfix.eml", sent(config, 1, 0)),
        sample("arf.eml", sent(config, 1, 1)),
        sample("autoreply.eml", sent(config, 1, 2)),
    ]
    dry = process(config, store, messages, dry_run=True)
    assert len(dry.changes) == 2 and [status_of(store, n) for n in range(3)] == ["subscribed"] * 3
    assert store.feedback_counts(1) == {"hard": 0, "soft": 0, "complaint": 0, "unsubscribe": 0}
    first = process(config, store, messages)
    assert len(first.changes) == 2 and first.counts["ignored"] == 1
    before = store.db.execute("SELECT * FROM feedback ORDER BY id").fetchall()
    second = process(config, store, messages)
    assert second.counts["already"] == 3 and not second.changes and second.counts["hard"] == 0
    assert store.db.execute("SELECT * FROM feedback ORDER BY id").fetchall() == before


def test_someone_who_left_stays_unsubscribed_when_their_address_later_bounces(tmp_path):
    config = list_config(tmp_path)
    store = populate(tmp_path / "s.sqlite3", 1)
    send_issue(config, store, 1)
    store.remove(address(0))
    report = process(config, store, [sample("postfix.eml", sent(config, 1, 0))])
    assert not report.changes and status_of(store, 0) == "unsubscribed" and store.feedback_counts(1)["hard"] == 1


def test_erasing_a_subscriber_erases_what_came_back_about_them(tmp_path):
    config = list_config(tmp_path)
    store = populate(tmp_path / "s.sqlite3", 2)
    send_issue(config, store, 1)
    process(config, store, [sample("gmail_full.eml", sent(config, 1, n)) for n in range(2)])
    store.remove(address(0), purge=True)
    assert store.feedback_counts(1)["soft"] == 1
    assert store.db.execute("SELECT count(*) FROM feedback").fetchone()[0] == 1


# 5xx refusals at send time ---------------------------------------------------------------------


def test_a_550_at_send_time_bounces_the_address_and_the_next_send_skips_it(tmp_path):
    handler = FaultyHandler(reject={address(1)})
    with SMTPServer(handler) as server:
        config = list_config(tmp_path, server.port)
        store = populate(tmp_path / "s.sqlite3", 3)
        first = send_issue(config, store, 1, "smtp")
        assert first.outcomes["failed"] == 1 and status_of(store, 1) == "bounced"
        assert store.feedback_counts(1)["hard"] == 1
        second = send_issue(config, store, 2, "smtp")
    assert second.total == 2 and second.outcomes["failed"] == 0
    assert [rcpt for rcpt, _ in handler.envelopes].count(address(1)) == 0


def test_a_policy_refusal_at_send_time_leaves_the_subscriber_alone(tmp_path):
    class Relay(FaultyHandler):
        async def handle_RCPT(self, server, session, envelope, address_, options):
            return "554 5.7.1 <x>: Relay access denied"

    with SMTPServer(Relay()) as server:
        config = list_config(tmp_path, server.port)
        store = populate(tmp_path / "s.sqlite3", 2)
        summary = send_issue(config, store, 1, "smtp")
    assert summary.outcomes["failed"] == 2
    assert [status_of(store, n) for n in range(2)] == ["subscribed", "subscribed"]


# The command ------------------------------------------------------------------------------------


@pytest.fixture
def sent_project(tmp_path):
    """The repository's issue 1 sent to four subscribers through the outbox, with a bounce address."""
    root = make_sending_project(tmp_path, sending=f'bounce_address = "{BOUNCES}"')
    addresses = subscribe(root, 4)
    assert invoke(send, "-C", root, "1").exit_code == 0
    messages = {a: next((root / "outbox" / "001").glob(f"*-{a}.eml")).read_bytes() for a in addresses}
    return root, addresses, messages


def test_the_command_reads_an_mbox_says_what_it_changed_and_status_and_list_show_it(sent_project, tmp_path):
    root, addresses, messages = sent_project
    box = write_mbox(
        tmp_path / "retours.mbox",
        [
            sample("office365.eml", messages[addresses[0]]),
            sample("gmail_full.eml", messages[addresses[1]]),
            sample("arf.eml", messages[addresses[2]]),
            sample("postfix.eml", rcpt="jamais@example.net"),
            sample("autoreply.eml", messages[addresses[3]]),
        ],
    )
    result = invoke(bounces, "-C", root, box)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{box} : 5 message(s) lu(s)"
    for label, count in (
        ("rebonds définitifs", 1),
        ("rebonds temporaires", 1),
        ("plaintes", 1),
        ("désinscriptions par email", 0),
        ("ignorés", 2),
        ("déjà traités", 0),
    ):
        assert re.search(rf"^  {label} +{count}$", result.output, re.M), (label, result.output)
    assert "rebond pour une adresse inconnue de la liste (jamais@example.net)" in result.output
    assert f"  {addresses[0]} : abonné → en erreur (rebond définitif, numéro 1 : 5.1.10" in result.output
    assert f"  {addresses[2]} : abonné → désabonné (plainte, numéro 1" in result.output
    report = invoke(status, "-C", root, "1")
    assert "Retours : 1 rebond(s) définitif(s), 1 rebond(s) temporaire(s), 1 plainte(s)" in report.output
    listing = invoke(subscribers, "list", "-C", root)
    assert states(root)[addresses[0]] == "en erreur"
    assert states(root)[addresses[1]] == "abonné (1 rebond(s) temporaire(s) de suite)"
    assert "1 en erreur" in listing.output
    again = invoke(bounces, "-C", root, box)
    assert re.search(r"^  déjà traités +5$", again.output, re.M) and "Aucun abonné ne change d’état." in again.output


def test_the_command_reads_a_maildir_and_a_dry_run_changes_nothing(sent_project, tmp_path):
    root, addresses, messages = sent_project
    folder = write_maildir(tmp_path / "Maildir", [sample("postfix.eml", messages[addresses[1]])])
    dry = invoke(bounces, "-C", root, folder, "--dry-run")
    assert dry.exit_code == 0 and "1 abonné change d’état" not in dry.output
    assert (
        "1 abonné changerait d’état :" in dry.output and "Simulation (--dry-run) : rien n’a été modifié." in dry.output
    )
    assert states(root)[addresses[1]] == "abonné"
    real = invoke(bounces, "-C", root, folder)
    assert "1 abonné change d’état :" in real.output
    assert states(root)[addresses[1]] == "en erreur"


# Bad input --------------------------------------------------------------------------------------


def test_garbage_and_truncated_messages_are_ignored_one_line_each_and_the_good_ones_count(sent_project, tmp_path):
    root, addresses, messages = sent_project
    good = sample("postfix.eml", messages[addresses[0]])
    truncated = sample("gmail.eml", messages[addresses[1]])[:700]  # cut inside the report
    garbage = bytes(range(256)) * 8 + b"\n\xff\xfe\x00 pas un message\n"
    path = write_mbox(tmp_path / "abime.mbox", [garbage, truncated, good])
    result = invoke(bounces, "-C", root, path)
    assert result.exit_code == 0, result.output
    assert re.search(r"^  rebonds définitifs +1$", result.output, re.M)
    assert f"ignoré : {path}, message 1 : ni un rebond, ni une plainte" in result.output
    # The truncated notice lost its status: its VERP address still names them, as a soft bounce.
    assert states(root)[addresses[1]] == "abonné (1 rebond(s) temporaire(s) de suite)"
    assert states(root)[addresses[0]] == "en erreur"
    assert [states(root)[a] for a in addresses[2:]] == ["abonné", "abonné"]


def test_an_mbox_cut_in_the_middle_of_the_last_message_reads_the_others(sent_project, tmp_path):
    root, addresses, messages = sent_project
    path = write_mbox(
        tmp_path / "coupe.mbox",
        [sample("exim.eml", messages[addresses[0]]), sample("postfix.eml", messages[addresses[1]])],
    )
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1500])
    result = invoke(bounces, "-C", root, path)
    assert result.exit_code == 0 and re.search(r"^  rebonds définitifs +[12]$", result.output, re.M), result.output
    assert states(root)[addresses[0]] == "en erreur"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "absente.mbox", "boîte introuvable"),
        (lambda tmp: (tmp / "texte.txt", (tmp / "texte.txt").write_text("Bonjour\n"))[0], "ce n’est ni une boîte mbox"),
        (lambda tmp: (tmp / "dossier", (tmp / "dossier").mkdir())[0], "ce dossier n’est pas un Maildir"),
    ],
)
def test_a_source_that_is_no_mailbox_is_one_french_line_and_exit_1(sent_project, tmp_path, make, message):
    root, addresses, _ = sent_project
    path = make(tmp_path)
    result = invoke(bounces, "-C", root, path)
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert result.output.startswith(f"{path}: {message}"), result.output
    assert invoke(subscribers, "list", "-C", root).output.count("\tabonné\n") == len(addresses)


def test_no_source_at_all_is_explained(sent_project):
    root, _, _ = sent_project
    result = invoke(bounces, "-C", root)
    assert result.exit_code == 1 and "indiquez la boîte à lire" in result.output


# IMAP (Debian's Dovecot on loopback) ------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("imap-tls"))


@pytest.fixture
def dovecot(certificate, tmp_path):
    cert, _ = certificate
    key = cert.parent / "key.pem"
    with Dovecot(cert, key, {"retours": "s3cret-imap"}) as server:
        yield server


def with_imap_settings(root, cert) -> None:
    settings = root / "newsletter.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8") + f'\n[bounces]\ncafile = "{cert}"\ntimeout = 5\n', encoding="utf-8"
    )


def test_the_command_reads_an_imap_mailbox_over_tls_and_leaves_its_messages(
    sent_project, dovecot, certificate, monkeypatch
):
    root, addresses, messages = sent_project
    with_imap_settings(root, certificate[0])
    dovecot.append(
        "retours",
        [
            sample("postfix.eml", messages[addresses[0]]),
            sample("arf.eml", messages[addresses[1]]),
            sample("autoreply.eml", messages[addresses[2]]),
        ],
    )
    monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", "s3cret-imap")
    source = f"imaps://retours@127.0.0.1:{dovecot.port}/INBOX"
    result = invoke(bounces, "-C", root, source)
    assert result.exit_code == 0, result.output + dovecot.log()
    assert result.output.startswith(f"imaps://127.0.0.1:{dovecot.port}/INBOX : 3 message(s) lu(s)")
    assert f"ignoré : imaps://127.0.0.1:{dovecot.port}/INBOX, UID 3 :" in result.output
    assert [states(root)[a] for a in addresses[:3]] == ["en erreur", "désabonné", "abonné"]
    assert dovecot.count("retours") == 3  # read, not taken away
    starttls = invoke(bounces, "-C", root, f"imap://retours@127.0.0.1:{dovecot.starttls_port}/INBOX")
    assert starttls.exit_code == 0 and re.search(r"^  déjà traités +3$", starttls.output, re.M), starttls.output


@pytest.mark.parametrize(
    ("password", "folder", "message"),
    [
        (
            "mauvais",
            "INBOX",
            "le serveur IMAP 127.0.0.1:{port} a refusé l’identification de « retours » : "
            "[AUTHENTICATIONFAILED] Authentication failed.",
        ),
        ("", "INBOX", "mot de passe IMAP absent : définissez la variable d’environnement NEWSLETTER_IMAP_PASSWORD"),
        ("s3cret-imap", "Rebonds", "dossier IMAP « Rebonds » introuvable sur 127.0.0.1:{port} : "),
    ],
)
def test_an_imap_login_refused_or_a_missing_folder_is_one_line_and_changes_nothing(
    sent_project, dovecot, certificate, monkeypatch, password, folder, message
):
    root, addresses, messages = sent_project
    with_imap_settings(root, certificate[0])
    dovecot.append("retours", [sample("postfix.eml", messages[addresses[0]])])
    monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", password)
    result = invoke(bounces, "-C", root, f"imaps://retours@127.0.0.1:{dovecot.port}/{folder}")
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert result.output.startswith(message.format(port=dovecot.port)), result.output
    assert set(states(root).values()) == {"abonné"}


def test_an_imap_server_that_does_not_answer_is_one_line(sent_project, monkeypatch):
    root, _, _ = sent_project
    monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", "x")
    port = free_port()
    result = invoke(bounces, "-C", root, f"imaps://retours@127.0.0.1:{port}/INBOX")
    assert result.exit_code == 1
    assert result.output == (
        f"impossible de joindre le serveur IMAP 127.0.0.1:{port} : "
        "connexion refusée (aucun serveur n’écoute à cette adresse)\n"
    )
