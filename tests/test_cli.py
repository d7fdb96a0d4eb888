"""The command line itself: help texts, the entry points, the project option."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner
from conftest import MINIMAL_BODY, issue_text

from newsletter.cli import COMMANDS, cli


def test_help_lists_every_command_with_its_line() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    output = " ".join(result.output.split())
    for name, (_, line) in COMMANDS.items():
        assert f"{name} {line}" in output


def test_every_command_has_help_text() -> None:
    for name in COMMANDS:
        command = cli.get_command(None, name)
        assert command is not None, name
        assert command.help and command.help.strip(), f"{name} has no help"


def test_help_does_not_import_the_renderers() -> None:
    code = (
        "import sys\nfrom newsletter.cli import main\nsys.argv=['newsletter','--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('markdown', 'mjml', 'jinja2', 'babel', 'yaml', 'icalendar', 'feedparser') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in output


def test_python_dash_m_works_in_the_current_folder(make_project) -> None:
    root = make_project({"issues/001.md": issue_text(MINIMAL_BODY)})
    process = subprocess.run([sys.executable, "-m", "newsletter", "build"], cwd=root, capture_output=True, text=True)
    assert process.returncode == 0, process.stderr
    assert (root / "dist" / "email" / "001.html").exists()


def test_unknown_command_is_reported() -> None:
    result = CliRunner().invoke(cli, ["envoyer-tout"])
    assert result.exit_code == 2
    assert "envoyer-tout" in result.output


def test_the_project_option_works_before_and_after_the_command_name(make_project, tmp_path) -> None:
    root = make_project({"issues/001.md": issue_text(MINIMAL_BODY)})
    before = CliRunner().invoke(cli, ["-C", str(root), "build"])
    assert before.exit_code == 0, before.output
    assert (root / "dist" / "email" / "001.html").exists()
    after = CliRunner().invoke(cli, ["check", "-C", str(root)])
    assert after.exit_code == 0, after.output
    nested = CliRunner().invoke(cli, ["-C", str(root), "subscribers", "list"])
    assert nested.exit_code == 0, nested.output
    assert (root / "subscribers.sqlite3").exists()
    empty = tmp_path / "ailleurs"
    empty.mkdir()
    wins = CliRunner().invoke(cli, ["-C", str(empty), "check", "-C", str(root)])  # the command's own wins
    assert wins.exit_code == 0, wins.output
