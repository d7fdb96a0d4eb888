"""The emails in a real browser (Debian's headless Chromium), and `newsletter snapshot`.

For every sample issue of issues/: at 375 px no horizontal scrolling, every image with alt text, no
text under 14 px; at 640 px the content column centred and at most 600 px wide. A picture of each is
kept in dist/snapshots/ (not committed) for people to look at.

Without Chromium these tests skip, except in CI (the CI variable set), where they fail: a browser
check that silently does not run is worse than none.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MINIMAL_BODY, ROOT, issue_text

from newsletter.cli import cli
from newsletter.desk.browser import DESKTOP_WIDTH, PHONE_WIDTH, Browser, find_chromium, snapshot

SAMPLES = sorted(p.name for p in (ROOT / "issues").glob("*.md"))
PICTURES = ROOT / "dist" / "snapshots"


def require_chromium() -> None:
    if find_chromium():
        return
    message = "Chromium is missing: install Debian's package (apt-get install chromium) for the browser checks"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_issue_in_the_browser(name: str, browser: Browser, repo_build: Path) -> None:
    slug = name.split("-", 1)[0]
    html = repo_build / "email" / f"{slug}.html"
    phone, desktop = snapshot(browser, html, PICTURES, slug)

    assert phone.layout.viewport == PHONE_WIDTH
    assert phone.layout.scroll_width <= phone.layout.viewport
    assert phone.layout.text_nodes > 20
    assert phone.problems == ()

    assert desktop.layout.viewport == DESKTOP_WIDTH
    assert desktop.layout.columns, "no content column found"
    assert desktop.problems == ()

    assert png_size(phone.picture)[0] == PHONE_WIDTH and png_size(desktop.picture)[0] == DESKTOP_WIDTH
    assert png_size(phone.picture)[1] > 2000  # the whole email, not only the first screen


BROKEN = """<!doctype html><html lang="fr"><head><meta charset="utf-8"></head>
<body style="margin:0">
<div style="width:700px;margin:0"><p style="font-size:16px">Une colonne trop large et collée à gauche.</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="20" height="20">
<p style="font-size:12px">Un texte trop petit.</p></div>
<div style="display:none;font-size:1px">Un aperçu caché ne compte pas.</div>
</body></html>
"""


def test_the_checks_catch_a_broken_email(browser: Browser, tmp_path: Path) -> None:
    page = tmp_path / "casse.html"
    page.write_text(BROKEN, encoding="utf-8")
    phone, desktop = snapshot(browser, page, tmp_path, "casse")
    problems = "\n".join(phone.problems)
    assert "défilement horizontal à 375 px : la page fait 700 px de large" in problems
    assert "image sans texte alternatif" in problems
    assert "texte de 12 px (au moins 14 px) : « Un texte trop petit. »" in problems
    assert "caché" not in problems
    assert "à 640 px, 2 texte(s) occupent toute la largeur, hors de la colonne" in desktop.problems

    page.write_text(
        '<html><body style="margin:0"><div style="width:620px"><p>Une colonne à gauche.</p></div></body></html>'
    )
    (desktop,) = snapshot(browser, page, tmp_path, "casse", (DESKTOP_WIDTH,))
    assert desktop.problems == (
        "à 640 px, colonne de 620 px (au plus 600 px)",
        "à 640 px, colonne non centrée (marges 0 px et 20 px)",
    )


def test_snapshot_saves_pictures_at_phone_and_desktop_widths(make_project) -> None:
    require_chromium()
    root = make_project({"issues/001-premier.md": issue_text(MINIMAL_BODY)})
    result = CliRunner().invoke(cli, ["snapshot", "-C", str(root), "1"])
    assert result.exit_code == 0, result.output
    for width in (PHONE_WIDTH, DESKTOP_WIDTH):
        picture = root / "dist" / "snapshots" / f"001-{width}px.png"
        assert picture.name in result.output
        assert png_size(picture)[0] == width
    assert "attention" not in result.output


def test_snapshot_without_chromium_is_one_line(make_project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_CHROMIUM", "/nonexistent/chromium")
    root = make_project({"issues/001-premier.md": issue_text(MINIMAL_BODY)})
    result = CliRunner().invoke(cli, ["snapshot", "-C", str(root), "1"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Chromium introuvable : installez le paquet Debian « chromium » (apt-get install chromium) "
        "ou indiquez son chemin dans NEWSLETTER_CHROMIUM"
    ]
    assert not (root / "dist").exists()


def test_snapshot_of_an_unknown_issue_is_one_line(make_project) -> None:
    root = make_project({"issues/001-premier.md": issue_text(MINIMAL_BODY)})
    result = CliRunner().invoke(cli, ["snapshot", "-C", str(root), "9"])
    assert result.exit_code == 1 and "aucun numéro 9" in result.output
