"""Click's own words in French: help screens, command-line mistakes, and the confirmation that
guards a send, answered « oui » in a real terminal (a pseudo-terminal)."""

from __future__ import annotations

import ast
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from support.smtp import FaultyHandler, SMTPServer
from test_send_cli import make_sending_project, subscribe

from newsletter.cli import cli
from newsletter.cli.french import MESSAGES, MODULES, PLURALS

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str):
    return CliRunner().invoke(cli, list(args), prog_name="newsletter")


def test_help_is_in_french() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert result.output.startswith("Utilisation : newsletter [OPTIONS] COMMANDE [ARGUMENTS]...")
    assert "Affiche cette aide et s’arrête." in result.output and "Affiche la version" in result.output
    assert "\nOptions :\n" in result.output and "\nCommandes :\n" in result.output
    for english in ("Usage", "Show this message", "Show the version", "COMMAND [ARGS]"):
        assert english not in result.output
    send = run("send", "--help").output
    assert send.startswith("Utilisation : newsletter send [OPTIONS] ISSUE") and "Show this" not in send


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["nope"], "Essayez « newsletter --help » pour l’aide.\n\nErreur : commande inconnue « nope »."),
        (["build", "--forc"], "Erreur : option inconnue « --forc ». Vouliez-vous dire '--force' ?"),
        (["send"], "Erreur : argument manquant 'ISSUE'."),
        (["send", "un"], "Erreur : valeur invalide pour 'ISSUE' : « un » n’est pas un nombre valide."),
        (["send", "1", "--transport", "pigeon"], "« pigeon » n’est pas parmi 'outbox', 'smtp'."),
        (["build", "--force", "en trop"], "Erreur : argument en trop (en trop)"),
        (["send", "1", "--to"], "Erreur : l’option « --to » demande une valeur."),
    ],
)
def test_command_line_mistakes_are_told_in_french(args: list[str], said: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert said in result.output, result.output
    assert "Error" not in result.output and "Usage" not in result.output and "Try '" not in result.output


def _click_strings() -> set[str]:
    """Every string literal of the Click modules the catalogue covers."""
    found: set[str] = set()
    for name in MODULES:
        module = sys.modules[name]
        tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
        found.update(
            node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
        )
    return found


def test_every_entry_of_the_catalogue_is_a_message_of_the_installed_click() -> None:
    """A Click upgrade that rewords a message would bring its English back: this lists which."""
    strings = _click_strings()
    stale = [msgid for msgid in MESSAGES if msgid not in strings]
    stale += [pair for pair in PLURALS if pair[0] not in strings or pair[1] not in strings]
    assert not stale, f"Click {click.__version__}: {stale}"


def test_translations_keep_the_placeholders_of_their_message() -> None:
    def fields(text: str) -> set[str]:
        import string

        return {name.split("!")[0] for _, name, _, _ in string.Formatter().parse(text) if name}

    for msgid, french in MESSAGES.items():
        assert fields(french) <= fields(msgid), msgid
    for (singular, plural), (one, many) in PLURALS.items():
        assert fields(one) <= fields(singular) | fields(plural) and fields(many) <= fields(plural), singular


def _in_a_terminal(args: list[str], answers: list[str], cwd: Path) -> tuple[int, str]:
    """Run `newsletter` with a pseudo-terminal for its input and output; write each answer once
    its question (« [o/N] ») has been printed. Returns the exit status and all that was printed."""
    main, secondary = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "newsletter", *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )
    os.close(secondary)
    output, asked, deadline = b"", 0, time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # the terminal closes with the process
                    break
                if not chunk:
                    break
                output += chunk
            if asked < len(answers) and output.count(b"[o/N]") > asked:
                os.write(main, answers[asked].encode() + b"\n")
                asked += 1
            if not ready and process.poll() is not None:
                break
        return process.wait(timeout=30), output.decode("utf-8", "replace").replace("\r\n", "\n")
    finally:
        process.kill()
        os.close(main)


def test_a_send_asks_in_french_and_understands_oui(tmp_path: Path) -> None:
    handler = FaultyHandler()
    with SMTPServer(handler) as server:
        root = make_sending_project(tmp_path, smtp=f"port = {server.port}")
        subscribe(root, 3)
        args = ["-C", str(root), "send", "1", "--transport", "smtp"]
        status, output = _in_a_terminal(args, ["peut-être", "non"], tmp_path)
        assert status == 1, output
        assert "Envoyer le numéro 1 à 3 adresse(s) ? [o/N]" in output
        assert "Erreur : répondez « o » (oui) ou « n » (non)" in output
        assert "envoi annulé" in output
        assert handler.counts() == {}
        status, output = _in_a_terminal(args, ["oui"], tmp_path)
        assert status == 0, output
        assert "3 envoyés" in output
    assert sorted(handler.counts().values()) == [1, 1, 1]
