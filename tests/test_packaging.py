"""What the package tells the tools around it: one version, and type information in the wheel."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from click.testing import CliRunner

import newsletter
from newsletter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_the_version_of_pyproject_is_the_one_the_package_and_the_command_give() -> None:
    assert newsletter.__version__ == VERSION
    assert newsletter.code_version().startswith(f"{VERSION}+")
    result = CliRunner().invoke(cli, ["--version"], prog_name="newsletter")
    assert result.exit_code == 0 and result.output == f"newsletter {VERSION}\n"


def test_a_checkout_that_is_not_installed_reads_its_version_from_pyproject(tmp_path: Path) -> None:
    """`PYTHONPATH=. python -m newsletter` in a fresh clone: no metadata, the same version."""
    shutil.copytree(ROOT / "newsletter", tmp_path / "newsletter", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import newsletter; print(newsletter.code_version())"
    # -S: no site-packages, so not the editable install's metadata either
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{VERSION}+")


def test_no_version_string_is_written_in_the_code() -> None:
    literal = re.compile(rf"""["']{re.escape(VERSION)}["']""")
    for path in sorted((ROOT / "newsletter").rglob("*.py")):
        assert not literal.search(path.read_text(encoding="utf-8")), path


def test_the_wheel_ships_the_typing_marker_and_the_templates(tmp_path: Path) -> None:
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("newsletter-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"newsletter-{VERSION}.dist-info/METADATA").decode()
    assert "newsletter/py.typed" in names
    assert "newsletter/templates/email.mjml" in names and "newsletter/templates/web/base.html" in names
    assert f"\nVersion: {VERSION}\n" in metadata
