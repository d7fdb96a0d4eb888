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
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
SEED_ISSUE = ROOT / "issues" / "001-comprendre-reflechir-agir.md"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"

Row = tuple[str, float, float | None]


def make_archive(root: Path, count: int) -> Path:
    """`count` issues made from the seed issue's text, each with its own number, date and ids."""
    (root / "issues").mkdir(parents=True)
    text = SEED_ISSUE.read_text(encoding="utf-8")
    body = text.split("\n---\n", 1)[1]
    first = dt.date(2010, 1, 7)
    for number in range(1, count + 1):
        day = first + dt.timedelta(days=7 * (number - 1))
        unique = re.sub(r"^id: (.+)$", rf"id: \1-{number}", body, flags=re.M)
        front = f"---\nnumber: {number}\ndate: {day.isoformat()}\ntitle: \"Numéro {number}\"\n"
        (root / "issues" / f"{number:04d}.md").write_text(front + "---\n" + unique, encoding="utf-8")
    shutil.copy(ROOT / "newsletter.toml", root / "newsletter.toml")
    return root


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def bench_build(project_root: Path, count: int) -> list[Row]:
    from newsletter.build import build
    from newsletter.project import load_project

    project = load_project(project_root)
    dist = project_root / "dist"
    full = timed(lambda: build(project, dist))
    noop = timed(lambda: build(project, dist))
    changed = project_root / "issues" / "0001.md"
    changed.write_text(changed.read_text(encoding="utf-8").replace("Numéro 1\"", "Numéro un\""), encoding="utf-8")
    one = timed(lambda: build(project, dist))
    emails_only = project_root.parent / "emails-only"
    emails = timed(lambda: _build_emails_only(project, emails_only))
    return [
        (f"full build, {count} issues: emails, web archive, feeds, calendars ({_sessions(project)} sessions)", full, 15.0 * count / 1000),
        (f"full build, {count} issues, emails only (archive and calendars left out)", emails, 15.0 * count / 1000),
        (f"no-op rebuild, {count} issues", noop, 1.0),
        (f"rebuild after one issue changed, {count} issues", one, None),
    ]


def _build_emails_only(project, dist: Path) -> None:
    from newsletter import build as pipeline

    saved = pipeline.ISSUE_OUTPUTS[:], pipeline.PROJECT_OUTPUTS[:]
    pipeline.ISSUE_OUTPUTS[:] = [output for output in saved[0] if output.write is pipeline.write_email]
    pipeline.PROJECT_OUTPUTS[:] = []
    try:
        pipeline.build(project, dist)
    finally:
        pipeline.ISSUE_OUTPUTS[:], pipeline.PROJECT_OUTPUTS[:] = saved


def _sessions(project) -> int:
    return sum(len(issue.sessions) for issue in project.issues())


def bench_help(project_root: Path, count: int) -> list[Row]:
    command = [sys.executable, "-m", "newsletter", "--help"]
    runs = [timed(lambda: subprocess.run(command, check=True, capture_output=True)) for _ in range(7)]
    return [("`newsletter --help`, median of 7", statistics.median(runs), 0.3)]


def bench_archive(project_root: Path, count: int) -> list[Row]:
    """A 1,000-issue archive's feed and pages: every issue's archive entry (Markdown → sanitised
    HTML, on every core as `build` does), then the pages, index and feeds; then that last step
    alone, as each build after a change pays it, and as a build that changes nothing pays it."""
    from concurrent.futures import ProcessPoolExecutor

    from newsletter.project import load_project
    from newsletter.render.web import ENTRY_DIR, STATE_FILE, write_archive, write_archive_entry

    project = load_project(project_root)
    issues = [issue for issue in project.issues() if not issue.draft]
    dist = project_root / "dist-archive"

    def entries() -> None:
        with ProcessPoolExecutor() as pool:
            chunks = max(1, len(issues) // (4 * (os.cpu_count() or 1)))
            list(pool.map(write_archive_entry, [project] * len(issues), issues, [dist] * len(issues), chunksize=chunks))

    first = timed(entries)
    pages = timed(lambda: write_archive(project, issues, dist))
    (dist / ENTRY_DIR / STATE_FILE).unlink()
    again = timed(lambda: write_archive(project, issues, dist))
    noop = timed(lambda: write_archive(project, issues, dist))

    # Inside `build`, the Markdown of each block is converted once for the email and the archive
    # (IssueBlocks): the archive's own share is the sanitised entries (on every core, as in `build`)
    # and the pages.
    from newsletter.render.blocks import IssueBlocks

    shared = [IssueBlocks(project.settings, issue) for issue in issues]
    for blocks in shared:
        for block in (blocks.issue.intro, blocks.issue.signoff, *(s.body for s in blocks.issue.sections)):
            blocks.convert(block)
    own_dist = project_root / "dist-archive-share"

    def shared_entries() -> None:
        with ProcessPoolExecutor() as pool:
            chunks = max(1, len(shared) // (4 * (os.cpu_count() or 1)))
            args = ([project] * len(shared), [b.issue for b in shared], [own_dist] * len(shared), shared)
            list(pool.map(write_archive_entry, *args, chunksize=chunks))

    share = timed(shared_entries) + timed(lambda: write_archive(project, issues, own_dist))
    return [
        (f"archive of {count} issues within a build: entries from the shared Markdown, then feeds and pages", share, 5.0 * count / 1000),
        (f"archive of {count} issues alone from scratch: feeds and pages, Markdown included", first + pages, None),
        ("  of which each issue's entry (Markdown → sanitised HTML, on every core)", first, None),
        ("  of which the feeds and pages, written for the first time", pages, None),
        (f"archive: feeds and pages again from {count} entries (each build after a change)", again, None),
        (f"archive: nothing changed, {count} issues", noop, None),
    ]


def bench_calendar(project_root: Path, count: int) -> list[Row]:
    """1,000 sessions (250 issues of the seed issue's four) into agenda.ics and one .ics each, as a
    build writes them: from scratch; everything rendered again with no file to change; nothing to do."""
    from newsletter.calendars import BUILD_RECORD, write_calendars
    from newsletter.project import load_project

    project = load_project(make_archive(project_root.parent / "calendar-project", 250))
    issues = project.issues()
    sessions = sum(len(issue.sessions) for issue in issues)
    dist = project.root / "dist"
    full = timed(lambda: write_calendars(project, issues, dist))
    (dist / BUILD_RECORD).unlink()
    again = timed(lambda: write_calendars(project, issues, dist))
    noop = timed(lambda: write_calendars(project, issues, dist))
    return [
        (f"calendars: {sessions} sessions into agenda.ics and one .ics each, from scratch", full, 2.0),
        (f"calendars: {sessions} sessions rendered again, no file changed", again, None),
        (f"calendars: {sessions} sessions, nothing changed", noop, None),
    ]


# Each section: (name, function). Later features add theirs here.
SECTIONS: list[tuple[str, Callable[[Path, int], list[Row]]]] = [
    ("build", bench_build),
    ("cli", bench_help),
    ("archive", bench_archive),
    ("calendar", bench_calendar),
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
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def table(rows: list[Row]) -> str:
    lines = ["| what | measured | target | |", "| --- | ---: | ---: | --- |"]
    for what, seconds, target in rows:
        verdict = "" if target is None else ("ok" if seconds <= target else "**over**")
        target_text = "" if target is None else f"{target:.2f} s"
        lines.append(f"| {what} | {seconds:.3f} s | {target_text} | {verdict} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--only", action="append", help="run only these sections")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="newsletter-bench-") as folder:
        project_root = make_archive(Path(folder) / "project", args.issues)
        for name, section in SECTIONS:
            if args.only and name not in args.only:
                continue
            rows += section(project_root, args.issues)
            print(table(rows).splitlines()[-1], flush=True)
    report = f"\n## `scripts/bench.py` — {dt.date.today().isoformat()}\n\nMachine: {machine()}.\n\n{table(rows)}\n"
    print(report)
    if not args.no_write:
        if not BENCHMARKS.exists():
            BENCHMARKS.write_text("# Benchmarks\n\nFigures appended by the scripts in `scripts/`, newest last.\n", encoding="utf-8")
        with BENCHMARKS.open("a", encoding="utf-8") as handle:
            handle.write(report)


if __name__ == "__main__":
    main()
