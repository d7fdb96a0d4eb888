"""Shared fixtures: small projects written from dicts into temporary folders, and the repo's own."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SEED_ISSUE_TEXT = DATA / "seeds" / "000_962585268f068bc6.txt"


def issue_text(
    body: str = "", number: int = 1, date: str = "2022-03-31", title: str = "Un titre", extra: str = ""
) -> str:
    """An issue file: front matter, then `body` (dedented)."""
    return f'---\nnumber: {number}\ndate: {date}\ntitle: "{title}"\n{extra}---\n\n' + textwrap.dedent(body).lstrip("\n")


MINIMAL_BODY = """
    Bonjour à toutes et à tous,

    Une introduction.

    ## 🗣️ Édito : Un titre d’édito

    *Léa Tramontin - <lea@example.org>*

    Première phrase de l’édito. Deuxième phrase.

    ## À suivre

    Une date à retenir.

    ---

    À bientôt !
    """


@pytest.fixture
def make_project(tmp_path: Path):
    """Write a project: {"issues/001.md": text, "newsletter.toml": text, …} → its folder."""

    def make(files: dict[str, str | bytes] | None = None, name: str = "project") -> Path:
        root = tmp_path / name
        (root / "issues").mkdir(parents=True)
        for relative, content in (files or {}).items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return make


@pytest.fixture(scope="session")
def repo_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's own sample issues built once into a temporary dist/ (read-only for tests)."""
    from newsletter.pipeline import build
    from newsletter.project import load_project

    dist = tmp_path_factory.mktemp("repo-dist")
    report = build(load_project(ROOT), dist)
    assert not report.failed, [str(p) for p in report.problems]
    return dist


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the tests that look at a page as a person would (one per test module)."""
    from test_browser import require_chromium

    from newsletter.desk.browser import Browser

    require_chromium()
    with Browser(block_remote=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def axe_browser(browser):
    """The same Chromium, with axe-core installed for the accessibility checks."""
    from support import axe

    axe.install()
    return browser
