"""Deque's axe-core run inside the page open in headless Chromium (`newsletter.desk.browser`).

`install()` runs `npm ci` in tests/support/axe when its node_modules is missing (the lockfile pins
axe-core from the npm registry); `violations(browser, disabled)` injects axe.min.js into the page
through the DevTools protocol and returns what axe found, one line per rule and element.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from newsletter.desk.browser import Browser

FOLDER = Path(__file__).resolve().parent / "axe"
SCRIPT = FOLDER / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
TAGS = (*WCAG_21_AA, "best-practice")


class AxeMissing(RuntimeError):
    pass


def install() -> None:
    if SCRIPT.exists():
        return
    npm = shutil.which("npm")
    if not npm:
        raise AxeMissing("npm est nécessaire pour installer axe-core (paquets Debian nodejs et npm)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=FOLDER, check=True, timeout=600)


@lru_cache(maxsize=1)
def _source() -> str:
    return SCRIPT.read_text(encoding="utf-8")


def version() -> str:
    return json.loads((FOLDER / "node_modules" / "axe-core" / "package.json").read_text())["version"]


def violations(browser: Browser, disabled: tuple[str, ...] = ()) -> list[str]:
    """« rule (impact): target – help » for each element of each rule axe found violated."""
    if not browser.evaluate("typeof window.axe !== 'undefined'"):
        browser.evaluate(_source() + "\n;true")
    options = {
        "runOnly": {"type": "tag", "values": list(TAGS)},
        "rules": {rule: {"enabled": False} for rule in disabled},
        "resultTypes": ["violations"],
    }
    raw = browser.evaluate(
        f"axe.run(document, {json.dumps(options)}).then((r) => JSON.stringify(r.violations.map((v) => "
        "({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' '))}))))"
    )
    found = []
    for rule in json.loads(raw):
        found.extend(f"{rule['id']} ({rule['impact']}): {target} – {rule['help']}" for target in rule["targets"])
    return found
