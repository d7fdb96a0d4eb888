"""Nothing scrolls sideways, whatever the content: every sample issue and a torture issue (long URL,
long word, wide code block, table, images, nested lists, French punctuation, a session card with a
long place) in headless Chromium at 320, 375 and 640 px, the email and the web page alike."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DATA, ROOT

from newsletter.desk.browser import Browser
from newsletter.pipeline import build
from newsletter.project import load_project

WIDTHS = (320, 375, 640)
TORTURE = DATA / "torture" / "001-torture.md"
SAMPLES = sorted(p.name.split("-", 1)[0] for p in (ROOT / "issues").glob("*.md"))


@pytest.fixture(scope="module")
def torture_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("torture")
    (root / "issues").mkdir()
    shutil.copy(TORTURE, root / "issues" / TORTURE.name)
    report = build(load_project(root), root / "dist")
    assert not report.failed, [str(p) for p in report.problems]
    return root / "dist"


def widths_of(browser: Browser, page: Path) -> dict[int, int]:
    """{viewport width: the document's scroll width} for each width."""
    measured = {}
    for width in WIDTHS:
        browser.open(page.resolve().as_uri(), width)
        layout = browser.measure()
        assert layout.viewport == width
        measured[width] = layout.scroll_width
    return measured


@pytest.mark.parametrize("page", ["email/{slug}.html", "numeros/{slug}/index.html"])
@pytest.mark.parametrize("slug", SAMPLES)
def test_no_sample_issue_scrolls_sideways(browser: Browser, repo_build: Path, slug: str, page: str) -> None:
    measured = widths_of(browser, repo_build / page.format(slug=slug))
    assert {width: scroll for width, scroll in measured.items() if scroll > width} == {}


@pytest.mark.parametrize("page", ["email/001.html", "numeros/001/index.html"])
def test_the_torture_issue_does_not_scroll_sideways(browser: Browser, torture_build: Path, page: str) -> None:
    html = (torture_build / page).read_text(encoding="utf-8")
    for piece in (
        "000000000000000000000",
        "Motinterminabledanslapremièrecellule",
        "Sallepolyvalentedelacommunauté",
        "<table",
        "<img",
    ):
        assert piece in html, piece  # the torture is really in the page
    measured = widths_of(browser, torture_build / page)
    assert {width: scroll for width, scroll in measured.items() if scroll > width} == {}


def test_code_blocks_wrap_in_the_email_styles_and_the_web_style_sheet(torture_build: Path) -> None:
    """The inline styles are what Gmail keeps: a code block carries its wrapping itself."""
    email = (torture_build / "email" / "001.html").read_text(encoding="utf-8")
    pre = email.split("<pre", 1)[1].split(">", 1)[0]
    assert "white-space:pre-wrap" in pre and "overflow-wrap:anywhere" in pre and "word-break:break-word" in pre
    css = (torture_build / "style.css").read_text(encoding="utf-8")
    rule = css.split("pre, code {", 1)[1].split("}", 1)[0]
    assert "overflow-wrap: anywhere" in rule and "word-break: break-word" in rule
