"""The email in light and dark mode, measured in headless Chromium with `prefers-color-scheme` emulated.

Every visible text of every sample issue must reach WCAG AA (4.5:1) against the background it is
drawn on, in both modes; in dark mode the page must really be dark. The figures (the lowest ratio
of each kind of text) are printed: `pytest -s tests/test_dark_mode.py` shows them.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA, issue_text
from support.contrast import BODY_TEXT, KINDS, Text, luminance, measure
from test_browser import SAMPLES

from newsletter.cli import cli
from newsletter.desk.browser import Browser
from newsletter.pipeline import build
from newsletter.project import load_project

AA = 4.5
WIDTHS = (375, 640)


def lowest_by_kind(texts: list[Text]) -> dict[str, Text]:
    lowest: dict[str, Text] = {}
    for text in texts:
        if text.kind not in lowest or text.ratio < lowest[text.kind].ratio:
            lowest[text.kind] = text
    return lowest


def report(name: str, scheme: str, width: int, texts: list[Text]) -> str:
    lines = [f"{name} {scheme} {width}px: lowest contrast of each kind of text"]
    for kind, text in sorted(lowest_by_kind(texts).items()):
        lines.append(f"  {kind:24} {text.ratio:5.2f}:1  « {text.text} »")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", SAMPLES)
def test_every_text_of_the_sample_issues_reaches_wcag_aa_in_light_and_dark_mode(
    name: str, scheme: str, browser: Browser, repo_build: Path
) -> None:
    html = repo_build / "email" / f"{name.split('-', 1)[0]}.html"
    for width in WIDTHS:
        browser.open(html.resolve().as_uri(), width, scheme=scheme)
        texts, body = measure(browser)
        figures = report(name, scheme, width, texts)
        print(figures)
        assert {BODY_TEXT, "liens", "titres de rubrique", "en-tête", "pied de page"} <= {t.kind for t in texts}, figures
        too_low = [f"{t.kind} {t.ratio:.2f}:1 « {t.text} »" for t in texts if t.ratio < AA]
        assert not too_low, f"{figures}\nunder {AA}:1:\n" + "\n".join(too_low)
        if scheme == "dark":
            assert luminance(body) < 0.2, body
            assert max(luminance(t.background) for t in texts if t.kind == BODY_TEXT) < 0.2, figures


def test_code_tables_quotes_and_lists_of_the_torture_issue_reach_wcag_aa_in_both_modes(
    browser: Browser, tmp_path: Path
) -> None:
    root = tmp_path / "torture"
    (root / "issues").mkdir(parents=True)
    shutil.copy(DATA / "torture" / "001-torture.md", root / "issues")
    assert not build(load_project(root), root / "dist").failed
    for scheme in ("light", "dark"):
        browser.open((root / "dist" / "email" / "001.html").resolve().as_uri(), 375, scheme=scheme)
        texts, _ = measure(browser)
        figures = report("torture", scheme, 375, texts)
        print(figures)
        assert {"code", "tableaux", "citations", "cartes de séance"} <= {t.kind for t in texts}, figures
        assert min(t.ratio for t in texts) >= AA, figures


def test_session_cards_and_taglines_are_measured_in_both_modes(browser: Browser, repo_build: Path) -> None:
    """Issue 002 holds a session card and rubric taglines: measured, not skipped."""
    html = repo_build / "email" / "002.html"
    for scheme in ("light", "dark"):
        browser.open(html.resolve().as_uri(), 375, scheme=scheme)
        lowest = lowest_by_kind(measure(browser)[0])
        print(report("002", scheme, 375, [lowest[k] for k in lowest]))
        assert lowest["cartes de séance"].ratio >= AA and lowest["accroches de rubrique"].ratio >= AA, lowest


def test_dark_mode_changes_the_colours_of_every_kind_of_text(browser: Browser, repo_build: Path) -> None:
    """Not the light email on a dark page: each kind of text is drawn in another colour on another background."""
    html = repo_build / "email" / "002.html"
    seen = {}
    for scheme in ("light", "dark"):
        browser.open(html.resolve().as_uri(), 375, scheme=scheme)
        seen[scheme] = {(t.kind, t.text): t for t in measure(browser)[0]}
    assert seen["light"].keys() == seen["dark"].keys()
    kinds = {kind for kind, _ in seen["light"]}
    assert kinds >= {k for k, _ in KINDS} - {"citations", "titres", "code", "tableaux"}  # not all in issue 002
    for key, light in seen["light"].items():
        dark = seen["dark"][key]
        assert luminance(dark.background) < luminance(light.background), key
        assert luminance(dark.colour) > luminance(dark.background), key
        assert dark.colour != light.colour or key[0] == "en-tête", key  # white on the header's blue stays white


def test_outlook_com_marks_bring_the_same_dark_palette(browser: Browser, repo_build: Path) -> None:
    """Outlook.com darkens an email itself and marks it with data-ogsc / data-ogsb: our rules then apply."""
    html = repo_build / "email" / "001.html"
    browser.open(html.resolve().as_uri(), 375, scheme="dark")
    dark = {(t.kind, t.text): (t.colour, t.background) for t in measure(browser)[0]}
    browser.open(html.resolve().as_uri(), 375, scheme="light")
    browser.evaluate("document.body.setAttribute('data-ogsc', ''), document.body.setAttribute('data-ogsb', '')")
    marked = {(t.kind, t.text): (t.colour, t.background) for t in measure(browser)[0]}
    assert marked == dark


# a 2×2 PNG, black and fully transparent: invisible on a dark page without a backdrop
TRANSPARENT_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAEklEQVR4nGNgYGD4z8DAwMDAAAAMAAEkGWctAAAAAElFTkSuQmCC"
)


def test_an_image_gets_a_light_backdrop_in_dark_mode_only(browser: Browser, make_project) -> None:
    body = "Bonjour,\n\n## Édito\n\n![Un schéma aux traits noirs sur fond transparent](schema.png)\n"
    root = make_project({"issues/001.md": issue_text(body)})
    assert CliRunner().invoke(cli, ["build", "-C", str(root)], catch_exceptions=False).exit_code == 0
    (root / "dist" / "email" / "schema.png").write_bytes(TRANSPARENT_PNG)
    page = (root / "dist" / "email" / "001.html").resolve().as_uri()
    measured = {}
    for scheme in ("light", "dark"):
        browser.open(page, 375, scheme=scheme)
        measured[scheme] = browser.evaluate(
            "(() => { const s = getComputedStyle(document.querySelector('img')); return [s.backgroundColor, s.paddingTop,"
            " document.querySelector('img').getBoundingClientRect().right <= document.documentElement.clientWidth]; })()"
        )
    assert measured["light"][:2] == ["rgba(0, 0, 0, 0)", "0px"]
    colour, padding, inside = measured["dark"]
    assert luminance(tuple(float(n) for n in colour[4:-1].split(","))) > 0.8 and padding == "8px" and inside, measured
