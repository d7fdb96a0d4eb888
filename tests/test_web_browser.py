"""The archive's pages in a real browser (Debian's headless Chromium): no horizontal scrolling at 375 px.

Chromium's window cannot be narrower than 500 px, so each page is laid out in a 375 px wide
iframe of a small harness page, which writes what it measured into its title (`--dump-dom`).
Without Chromium the test skips, except in CI (the CI variable set), where it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import issue_text

from newsletter.pipeline import build
from newsletter.project import load_project

PHONE = 375
WIDE_BODY = """
    Bonjour à toutes et à tous,

    Une introduction.

    ## Édito

    Unmotbeaucouptroplongpourtenirsurunécrandetéléphonesansêtrecoupéquelquepartaumilieuvraiment et
    [https://example.org/une/adresse/tres/longue/qui/ne/contient/aucun/espace/ni/tiret/du/tout](https://example.org/x).

    <img src="https://example.org/grande.png" alt="Grande image" width="2000" height="400">

    | colonne un | colonne deux | colonne trois | colonne quatre | colonne cinq | colonne six |
    | --- | --- | --- | --- | --- | --- |
    | une cellule bien remplie | une autre cellule | encore une | et une autre | presque fini | la dernière |

    ```
    du code préformaté dont la ligne est bien plus longue que la largeur d’un téléphone, sans retour
    ```

    ---

    À bientôt !
    """
HARNESS = """<!DOCTYPE html><html><head><title>…</title></head><body style="margin:0">
<script>
// Each frame's load handler is set before its address: a frame made in the page's HTML could load
// before a script after it ran, and its page would never be counted.
var pages = {pages}, results = {{}}, pending = pages.length;
pages.forEach(function (page) {{
  var frame = document.createElement("iframe");
  frame.style.cssText = "width:{phone}px;height:700px;border:0";
  frame.onload = function () {{
    var root = frame.contentDocument.documentElement;
    results[page.name] = [root.scrollWidth, root.clientWidth];
    if (--pending === 0) document.title = JSON.stringify(results);
  }};
  frame.src = page.src;
  document.body.appendChild(frame);
}});
</script>
</body></html>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "Chromium is missing: install Debian's package (apt-get install chromium) for the browser checks"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def widths(dist: Path, pages: list[str], folder: Path) -> dict[str, list[int]]:
    """{page: [scrollWidth, clientWidth]} of each page laid out 375 px wide."""
    listed = json.dumps([{"name": page, "src": (dist / page).as_uri()} for page in pages])
    folder.mkdir(parents=True, exist_ok=True)
    harness = folder / "harness.html"
    harness.write_text(HARNESS.format(pages=listed, phone=PHONE), encoding="utf-8")
    command = [
        chromium(),
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--allow-file-access-from-files",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=10000",
        "--window-size=1200,900",
        f"--user-data-dir={folder / 'profile'}",
        "--dump-dom",
        harness.as_uri(),
    ]
    output = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
    title = re.search(r"<title>(.*?)</title>", output, re.S)
    assert title and title.group(1).startswith("{"), output[-2000:]
    return json.loads(title.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def test_no_page_scrolls_sideways_on_a_phone(repo_build: Path, make_project, tmp_path: Path) -> None:
    chromium()
    root = make_project({"issues/001.md": issue_text(WIDE_BODY)})
    report = build(load_project(root), root / "dist")
    assert not report.failed, [str(p) for p in report.problems]
    measured = widths(
        repo_build,
        ["index.html", "numeros/001/index.html", "numeros/002/index.html", "numeros/003/index.html"],
        tmp_path,
    )
    measured |= {
        f"wide:{page}": value
        for page, value in widths(root / "dist", ["numeros/001/index.html"], tmp_path / "wide").items()
    }
    assert len(measured) == 5
    for page, (scroll, client) in measured.items():
        assert client <= PHONE and scroll <= client, (page, scroll, client)
