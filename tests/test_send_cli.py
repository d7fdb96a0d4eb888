"""`newsletter send`, `status` end to end: the repository's sample issue, a real SMTP server, SIGKILL."""

from __future__ import annotations

import datetime as dt
import email
import shutil
import signal
import subprocess
import sys
from email import policy
from pathlib import Path

from click.testing import CliRunner
from support.kill import KillAtMessage
from support.smtp import FaultyHandler, SMTPServer, free_port

from newsletter.cli import cli
from newsletter.cli.send import send, status
from newsletter.cli.subscribers import subscribers
from newsletter.send import Journal
from newsletter.subscribers import open_database

ROOT = Path(__file__).resolve().parent.parent


def make_sending_project(tmp_path: Path, smtp: str = "", sending: str = "") -> Path:
    """A copy of the repository's settings and first sample issue, with sending tables."""
    root = tmp_path / "projet"
    (root / "issues").mkdir(parents=True)
    shutil.copy(ROOT / "issues" / "001-comprendre-reflechir-agir.md", root / "issues")
    settings = (ROOT / "newsletter.toml").read_text(encoding="utf-8")
    settings += f'\n[sending]\nsecret = "s3cret"\nbackoff = 0.01\nreconnect_delay = 0.01\n{sending}\n[smtp]\nhost = "127.0.0.1"\nsecurity = "none"\ntimeout = 5\n{smtp}\n'
    (root / "newsletter.toml").write_text(settings, encoding="utf-8")
    return root


def invoke(command, *args: str):
    result = CliRunner().invoke(command, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def subscribe(root: Path, count: int, unsubscribed: tuple[int, ...] = ()) -> list[str]:
    rows = ["email,name,status"]
    addresses = []
    for n in range(count):
        addresses.append(f"lecteur{n:03d}@example.org")
        rows.append(f"{addresses[-1]},{'Léa' if n == 0 else ''},{'désabonné' if n in unsubscribed else 'abonné'}")
    csv = root / "abonnes.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = invoke(subscribers, "import", "-C", root, csv)
    assert result.exit_code == 0, result.output
    return addresses


def parse(data: bytes):
    return email.message_from_bytes(data, policy=policy.default)


def test_send_to_the_outbox_then_status_then_nothing_twice(tmp_path):
    root = make_sending_project(tmp_path)
    nobody = invoke(send, "-C", root, "1")
    assert nobody.exit_code == 0 and "Aucun abonné" in nobody.output
    addresses = subscribe(root, 5, unsubscribed=(4,))
    result = invoke(send, "-C", root, "1")
    assert result.exit_code == 0, result.output
    assert "Numéro 1 : 4 envoyés, 0 refusés, 0 différés, 0 incertains" in result.output
    files = sorted((root / "outbox" / "001").glob("*.eml"))
    assert len(files) == 4
    lea = parse(next(f for f in files if addresses[0] in f.name).read_bytes())
    text = lea.get_body(("plain",)).get_content()
    html = lea.get_body(("html",)).get_content()
    assert "Bonjour Léa," in text and "Bonjour Léa," in html
    assert "%%" not in text + html and lea["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    other = parse(next(f for f in files if addresses[1] in f.name).read_bytes())
    assert "Bonjour à toutes et à tous," in other.get_body(("plain",)).get_content()
    assert other["Subject"] == "Territoires Pilotes n°1 – Comprendre, réfléchir, agir"
    # the issue is dated 2022, the message is dated when it was handed over
    assert abs(other["Date"].datetime - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=10)
    report = invoke(status, "-C", root, "1")
    assert report.exit_code == 0 and "4 destinataire(s)" in report.output and "envoyés" in report.output
    again = invoke(send, "-C", root, "1")
    assert again.exit_code == 0 and "Rien à envoyer" in again.output
    assert len(list((root / "outbox" / "001").glob("*.eml"))) == 4


def test_send_over_smtp_reports_a_refused_address(tmp_path):
    handler = FaultyHandler(defer_every=3, reject={"lecteur002@example.org"})
    with SMTPServer(handler) as server:
        root = make_sending_project(tmp_path, smtp=f"port = {server.port}\nconnections = 2")
        subscribe(root, 8)
        result = invoke(send, "-C", root, "1", "--transport", "smtp", "--yes")
        assert result.exit_code == 0, result.output
        assert "7 envoyés, 1 refusés" in result.output
        assert "lecteur002@example.org  (1 essai(s)) 550 5.1.1 Boîte inconnue" in result.output
    assert sorted(handler.counts().values()) == [1] * 7
    report = invoke(status, "-C", root, "1")
    assert "refusés" in report.output and "lecteur002@example.org" in report.output


def test_a_test_send_is_marked_and_leaves_the_journal_alone(tmp_path):
    handler = FaultyHandler()
    with SMTPServer(handler) as server:
        root = make_sending_project(tmp_path, smtp=f"port = {server.port}")
        subscribe(root, 2)
        result = invoke(send, "-C", root, "1", "--transport", "smtp", "--to", "Moi@Example.org")
        assert result.exit_code == 0, result.output
    [(rcpt, message)] = handler.messages()
    assert rcpt == "moi@example.org" and message["Subject"].startswith("[TEST] ")
    assert invoke(status, "-C", root, "1").output.startswith("Numéro 1 : pas encore envoyé.")


def test_smtp_without_a_terminal_asks_for_yes(tmp_path):
    root = make_sending_project(tmp_path, smtp=f"port = {free_port()}")
    subscribe(root, 1)
    result = invoke(send, "-C", root, "1", "--transport", "smtp")
    assert result.exit_code == 1 and "ajoutez --yes" in result.output


def test_bad_input_is_one_line_and_exit_1(tmp_path):
    root = make_sending_project(tmp_path)
    missing = invoke(send, "-C", root, "9")
    assert missing.exit_code == 1 and "aucun numéro 9" in missing.output
    bad_to = invoke(send, "-C", root, "1", "--to", "pas une adresse")
    assert bad_to.exit_code == 1 and "adresse invalide" in bad_to.output
    text = (root / "issues" / "001-comprendre-reflechir-agir.md").read_text(encoding="utf-8")
    (root / "issues" / "001-comprendre-reflechir-agir.md").write_text(
        text.replace("---\n\n", "draft: true\n---\n\n", 1), encoding="utf-8"
    )
    draft = invoke(send, "-C", root, "1")
    assert draft.exit_code == 1 and "brouillon" in draft.output
    settings = root / "newsletter.toml"
    settings.write_text(settings.read_text(encoding="utf-8") + 'password = "x"\n', encoding="utf-8")
    secret = invoke(send, "-C", root, "1")
    assert secret.exit_code == 1 and "newsletter.toml:" in secret.output and "mot de passe" in secret.output


SENDER_SCRIPT = "import sys; from newsletter.cli.send import send; send.main(sys.argv[1:], prog_name='newsletter send')"


def test_a_send_killed_mid_way_resumes_without_sending_twice(tmp_path):
    """Killed inside a group (its outcomes committed, the group not yet synced): nothing is lost."""
    count, kill_at = 40, 17
    killer = KillAtMessage(kill_at)
    handler = FaultyHandler(on_data=killer)
    with SMTPServer(handler) as server:
        root = make_sending_project(tmp_path, smtp=f"port = {server.port}")
        addresses = subscribe(root, count)
        args = [sys.executable, "-c", SENDER_SCRIPT, "-C", str(root), "1", "--transport", "smtp", "--yes"]
        killer.start(args, ROOT).communicate(timeout=180)
        assert killer.killed.is_set() and killer.process.returncode == -signal.SIGKILL
        accepted_before = handler.counts()
        assert len(accepted_before) == kill_at - 1

        rerun = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=180)
        # settled (exit 0), the one cut before the server's answer held aside, not sent again
        assert rerun.returncode == 0 and "1 message(s) incertains, gardés de côté" in rerun.stderr, rerun.stderr
        assert "Traceback" not in rerun.stderr + rerun.stdout
        received = handler.counts()
        assert set(received.values()) == {1}  # nobody got the issue twice
        assert set(received) == set(addresses) - {killer.uncertain}

        last = subprocess.run([*args, "--resend-unknown"], cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert last.returncode == 0, last.stderr
    assert handler.counts() == {address: 1 for address in addresses}
    journal = Journal(open_database(root / "subscribers.sqlite3"), 1)
    assert journal.counts()["sent"] == count


# The gate, and what the editor is shown before the list gets it ----------------------------------


def test_the_imported_seed_letter_is_refused_with_each_error_at_its_line(tmp_path):
    """`import` leaves « À COMPLÉTER » session stubs: `check` calls them errors, so `send` refuses."""
    root = make_sending_project(tmp_path)
    (root / "issues" / "001-comprendre-reflechir-agir.md").unlink()
    seed = ROOT / "tests" / "data" / "seeds" / "000_962585268f068bc6.txt"
    imported = invoke(cli, "import", "-C", root, seed, "--number", "1")
    assert imported.exit_code == 0, imported.output
    subscribe(root, 3)
    checked = invoke(cli, "check", "-C", root)
    assert checked.exit_code == 1
    errors = [line for line in checked.output.splitlines() if ": erreur : " in line]
    result = invoke(send, "-C", root, "1", "-y")
    assert result.exit_code == 1
    assert "envoi refusé : " in result.output and f"{len(errors)} erreur(s)" in result.output
    for line in errors:  # each error as `newsletter check` words it, with its file and line
        assert line in result.output
    assert not (root / "outbox").exists()
    assert invoke(status, "-C", root, "1").output.startswith("Numéro 1 : pas encore envoyé.")
    test = invoke(send, "-C", root, "1", "--to", "moi@example.org")  # a test send is how one looks at it
    assert test.exit_code == 0, test.output


def test_a_date_that_contradicts_its_weekday_blocks_the_send_but_not_the_other_issues(tmp_path):
    root = make_sending_project(tmp_path)
    sample = root / "issues" / "001-comprendre-reflechir-agir.md"
    broken = root / "issues" / "002-autre.md"
    text = sample.read_text(encoding="utf-8").replace("number: 1", "number: 2", 1)
    broken.write_text(text.replace("jeudi 07 avril", "mardi 07 avril", 1), encoding="utf-8")
    subscribe(root, 2)
    refused = invoke(send, "-C", root, "2")
    assert refused.exit_code == 1 and f"{broken}:" in refused.output and "mardi" in refused.output
    assert "envoi refusé : 1 erreur(s) dans le numéro 2" in refused.output
    sent = invoke(send, "-C", root, "1")  # issue 2's error does not concern issue 1
    assert sent.exit_code == 0, sent.output
    assert "2 envoyés" in sent.output


def test_the_editor_sees_subject_preheader_sender_recipients_and_size_before_sending(tmp_path):
    root = make_sending_project(tmp_path)
    subscribe(root, 3)
    result = invoke(send, "-C", root, "1")
    assert result.exit_code == 0, result.output
    described = [
        line for line in result.output.splitlines() if " : " in line and not line.startswith(str(root))
    ]  # after the warnings
    shown = dict(line.split(" : ", 1) for line in described[:7])
    shown = {key.strip(): value for key, value in shown.items()}
    assert shown["Sujet"] == "Territoires Pilotes n°1 – Comprendre, réfléchir, agir"
    assert shown["Expéditeur"] == "Territoires Audacieux <lettre@example.org>"
    assert shown["Destinataires"] == "3"
    built = [f for f in (root / "outbox" / "001").glob("*.eml")]
    size = round(built[0].stat().st_size / 1024)
    assert abs(int(shown["Taille"].split()[0]) - size) <= 1
    assert shown["Accroche"] and shown["Avertissements"].strip().isdigit()
