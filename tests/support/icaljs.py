"""Mozilla's ical.js under Node: an independent reading of the calendars the tests build.

`install()` runs `npm ci` in tests/support/icaljs when its node_modules is missing (the lockfile pins
ical.js from the npm registry); `read(paths)` returns what ical.js read in each file (see events.mjs).
Node runs with TZ set far from Paris, so that a time read without its VTIMEZONE (a floating time)
cannot pass for the right one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "icaljs"
SCRIPT = FOLDER / "events.mjs"
FAR_AWAY = "Pacific/Kiritimati"  # UTC+14


class NodeMissing(RuntimeError):
    pass


def install() -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise NodeMissing(
            "Node.js et npm sont nécessaires pour relire les agendas avec ical.js (paquets Debian nodejs et npm)"
        )
    if (FOLDER / "node_modules" / "ical.js" / "package.json").exists():
        return
    command = "ci" if (FOLDER / "package-lock.json").exists() else "install"
    subprocess.run([npm, command, "--no-audit", "--no-fund", "--silent"], cwd=FOLDER, check=True, timeout=600)


def read(paths: list[Path]) -> list[dict]:
    """What ical.js reads in each file: its name, VTIMEZONEs and events (UTC instants)."""
    result = subprocess.run(
        ["node", str(SCRIPT), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TZ": FAR_AWAY},
    )
    if result.returncode != 0:
        raise AssertionError(f"ical.js refused the calendars:\n{result.stderr}")
    return json.loads(result.stdout)
