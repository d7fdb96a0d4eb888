#!/usr/bin/env python3
"""Benchmarks of `newsletter`, on a synthetic archive made from the seed issue.

    python scripts/bench.py [--issues 1000] [--no-write]

Prints a table and appends it, with the machine and the date, to docs/benchmarks.md. Each section
is a function registered in SECTIONS that receives the synthetic project and returns rows
(what, measured seconds, target seconds or None). Timings belong here, never in the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_ISSUE = ROOT / "issues" / "001-comprendre-reflechir-agir.md"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"

Row = tuple  # (what, value, target or None[, unit: "s" unless given])


def make_archive(root: Path, count: int) -> Path:
    """`count` issues made from the seed issue's text, each with its own number, date and ids."""
    (root / "issues").mkdir(parents=True)
    text = SEED_ISSUE.read_text(encoding="utf-8")
    body = text.split("\n---\n", 1)[1]
    first = dt.date(2010, 1, 7)
    for number in range(1, count + 1):
        day = first + dt.timedelta(days=7 * (number - 1))
        unique = re.sub(r"^id: (.+)$", rf"id: \1-{number}", body, flags=re.M)
        front = f'---\nnumber: {number}\ndate: {day.isoformat()}\ntitle: "Numéro {number}"\n'
        (root / "issues" / f"{number:04d}.md").write_text(front + "---\n" + unique, encoding="utf-8")
    shutil.copy(ROOT / "newsletter.toml", root / "newsletter.toml")
    return root


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


# --- the build against the floor, each in a child process -----------------------------------------
#
# A child runs one thing and prints {"wall", "cpu"} of that thing alone (its own CPU and its pool
# workers'), after the imports; the parent samples the resident memory of the child and of its
# workers together every 10 ms: the peak of that sum is the figure given.

_CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
kind, project_dir, dist = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
from newsletter.project import load_project
from newsletter.pipeline import build
from newsletter.render import markdown as md
from newsletter.render.email import mjml_to_html
def cpu():
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
if kind == "floor":  # Python-Markdown over each issue's text, MRML over its MJML: nothing else
    texts = [p.read_text(encoding="utf-8") for p in sorted((project_dir / "issues").glob("*.md"))]
    mjml = [p.read_text(encoding="utf-8") for p in sorted((dist / "email").glob("*.mjml"))]
    start, used = time.perf_counter(), cpu()
    for text, source in zip(texts, mjml):
        md.to_email_html_and_text(text.split("\n---\n", 1)[1], {})
        mjml_to_html(source)
else:
    if kind == "serial":  # the same build without the process pool: the work, without two processes sharing the cores
        sys.modules["newsletter.pipeline.build"].PARALLEL_FROM = 10**9
    project = load_project(project_dir)
    start, used = time.perf_counter(), cpu()
    report = build(project, dist)
    assert not report.failed, [str(p) for p in report.problems][:3]
print(json.dumps({"wall": time.perf_counter() - start, "cpu": cpu() - used}))
"""


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and its children (the build's pool workers)."""
    total = 0
    for task in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{task}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        found = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return found + [grand for child in found for grand in _children(child)]


def run_child(kind: str, project_dir: Path, dist: Path) -> dict[str, float]:
    import json

    process = subprocess.Popen(
        [sys.executable, "-c", _CHILD, kind, str(project_dir), str(dist)], stdout=subprocess.PIPE, text=True
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.01)
    output = process.stdout.read() if process.stdout else ""
    if process.returncode:
        raise SystemExit(f"{kind} failed")
    return {**json.loads(output.strip().splitlines()[-1]), "peak": peak / 1e6}


def bench_build(project_root: Path, count: int, repeat: int = 3) -> list[Row]:
    """Floor, full build and the same build in one process, alternating (medians of `repeat`), then
    the incremental cases."""
    fulls, floors, serials = [], [], []
    dist = project_root / "dist"
    run_child("build", project_root, dist)  # warms the file cache and gives the floor its MJML
    for _ in range(repeat):
        floors.append(run_child("floor", project_root, dist))
        shutil.rmtree(dist)
        fulls.append(run_child("build", project_root, dist))
        shutil.rmtree(dist)
        serials.append(run_child("serial", project_root, dist))
    median = lambda runs, key: statistics.median(run[key] for run in runs)  # noqa: E731
    full, floor, serial = ({k: median(runs, k) for k in ("wall", "cpu", "peak")} for runs in (fulls, floors, serials))
    noops = [run_child("build", project_root, dist) for _ in range(repeat)]
    noop = {k: median(noops, k) for k in ("wall", "peak")}
    issue = project_root / "issues" / "0001.md"
    text, ones = issue.read_text(encoding="utf-8"), []
    for attempt in range(repeat):  # a new title each time: its page, its neighbours', the index, the feeds
        issue.write_text(text.replace('Numéro 1"', f'Numéro un ({attempt})"'), encoding="utf-8")
        ones.append(run_child("build", project_root, dist))
    one = {k: median(ones, k) for k in ("wall", "peak")}
    templates = project_root / "templates" / "web"
    templates.mkdir(parents=True, exist_ok=True)
    base = (ROOT / "templates" / "web" / "base.html").read_text(encoding="utf-8")
    (templates / "base.html").write_text(base.replace("</body>", "<!-- bench -->\n</body>"), encoding="utf-8")
    web = run_child("build", project_root, dist)
    settings = project_root / "newsletter.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            'name = "Territoires Pilotes"', 'name = "Territoires Pilotes !"', 1
        ),
        encoding="utf-8",
    )
    toml = run_child("build", project_root, dist)
    n = f"{count} issues"
    return [
        (f"{n}: full build, wall (median of {repeat}, alternating with the floor)", full["wall"], 5.0 * count / 1000),
        (f"{n}: the floor, wall (Markdown + MRML of each issue, one process)", floor["wall"], None),
        (f"{n}: full build, CPU", full["cpu"], 1.5 * floor["cpu"]),
        (f"{n}: the floor, CPU", floor["cpu"], None),
        (f"{n}: ratio build/floor, wall", full["wall"] / floor["wall"], None, "×"),
        (f"{n}: ratio build/floor, CPU", full["cpu"] / floor["cpu"], 1.5, "×"),
        (f"{n}: the same build in one process (no pool), CPU", serial["cpu"], None),
        (f"{n}: ratio build in one process/floor, CPU", serial["cpu"] / floor["cpu"], None, "×"),
        (f"{n}: full build, peak memory of the process tree", full["peak"], 300.0, "MB"),
        (f"{n}: the floor, peak memory", floor["peak"], None, "MB"),
        (f"{n}: nothing changed (median of {repeat})", noop["wall"], 0.2),
        (f"{n}: one issue changed (median of {repeat})", one["wall"], 0.5),
        (f"{n}: a web template changed (no email rendered)", web["wall"], full["wall"]),
        (f"{n}: newsletter.toml changed (everything)", toml["wall"], full["wall"]),
        (f"{n}: peak memory of those incremental builds", max(r["peak"] for r in (noop, one, web, toml)), 300.0, "MB"),
    ]


def bench_help(project_root: Path, count: int) -> list[Row]:
    command = [sys.executable, "-m", "newsletter", "--help"]
    runs = [timed(lambda: subprocess.run(command, check=True, capture_output=True)) for _ in range(7)]
    return [("`newsletter --help`, median of 7", statistics.median(runs), 0.3)]


# Each section: (name, function). Later features add theirs here.
SECTIONS: list[tuple[str, Callable[[Path, int], list[Row]]]] = [
    ("build", bench_build),
    ("cli", bench_help),
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )


def table(rows: list[Row]) -> str:
    lines = ["| what | measured | target | |", "| --- | ---: | ---: | --- |"]
    for what, value, target, *unit in rows:
        unit_text = unit[0] if unit else "s"
        verdict = "" if target is None else ("ok" if value <= target else "**over**")
        target_text = "" if target is None else f"{target:.2f} {unit_text}"
        lines.append(f"| {what} | {value:.3f} {unit_text} | {target_text} | {verdict} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, action="append", help="archive sizes (repeatable; by default 1000)")
    parser.add_argument("--only", action="append", help="run only these sections")
    parser.add_argument("--repeat", type=int, default=3, help="full builds and floors, alternating (medians)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    rows: list[Row] = []
    for count in args.issues or [1000]:
        with tempfile.TemporaryDirectory(prefix="newsletter-bench-") as folder:
            project_root = make_archive(Path(folder) / "project", count)
            for name, section in SECTIONS:
                if args.only and name not in args.only:
                    continue
                rows_of = section(project_root, count, args.repeat) if name == "build" else section(project_root, count)
                for row in rows_of:
                    rows.append(row)
                    print(table([row]).splitlines()[-1], flush=True)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    report = f"\n## `scripts/bench.py` — {dt.date.today().isoformat()}\n\nMachine: {machine()}; load average at the end {load}.\n\n{table(rows)}\n"
    print(report)
    if not args.no_write:
        if not BENCHMARKS.exists():
            BENCHMARKS.write_text(
                "# Benchmarks\n\nFigures appended by the scripts in `scripts/`, newest last.\n", encoding="utf-8"
            )
        with BENCHMARKS.open("a", encoding="utf-8") as handle:
            handle.write(report)


if __name__ == "__main__":
    main()
