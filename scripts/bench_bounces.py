#!/usr/bin/env python3
"""Benchmark of `newsletter bounces` over an mbox of DSNs.

    python scripts/bench_bounces.py [--count 10000] [--no-write]

A project with N subscribers, each sent issue 1 (journal rows `sent`), and an mbox of N delivery
status notifications, one per subscriber, in the real-world shapes of `tests/data/bounces/`
(Postfix, Exim, Office 365, Gmail, Gmail over quota, Orange) filled in with the VERP envelope sender
and the headers of the message each subscriber was sent. `newsletter bounces` runs over it twice as
a command, in its own process: the first run applies every bounce, the second finds every message
already read. The database is on the ordinary disk (a temporary folder under /var/tmp), as in use.
The table is added, with the machine and the date, to the « Bounces » section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import mailbox
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from bench_send import machine, write_report  # noqa: E402

SAMPLES = ROOT / "tests" / "data" / "bounces"
SHAPES = ("postfix.eml", "exim.eml", "office365.eml", "gmail.eml", "gmail_full.eml", "orange.eml")
SECTION = "## Bounces"
BOUNCES = "bounces@example.org"


def make_project(folder: Path, count: int) -> Path:
    from newsletter.subscribers import open_database

    (folder / "issues").mkdir(parents=True)
    settings = (ROOT / "newsletter.toml").read_text(encoding="utf-8")
    settings += f'\n[sending]\nsecret = "bench"\nbounce_address = "{BOUNCES}"\n'
    (folder / "newsletter.toml").write_text(settings, encoding="utf-8")
    db = open_database(folder / "subscribers.sqlite3")
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO subscribers (id, address, status, consent_source, created_at, updated_at) "
        "VALUES (?, ?, 'subscribed', 'bench', '2024-01-01', '2024-01-01')",
        ((n, address(n)) for n in range(1, count + 1)),
    )
    db.execute(
        "INSERT INTO deliveries (issue, subscriber_id, address, status, updated_at) "
        "SELECT 1, id, address, 'sent', '2024-03-01' FROM subscribers"
    )
    db.execute("COMMIT")
    db.close()
    return folder


def address(n: int) -> str:
    return f"abonne{n:06d}@example.org"


def make_mbox(project: Path, path: Path, count: int) -> int:
    """One DSN per subscriber, about the message `MessageFactory` builds for them; the mbox's size."""
    from newsletter.project import load_project
    from newsletter.send import MessageFactory, Recipient, sending_config
    from newsletter.send.message import Letter

    project_ = load_project(project)
    config = sending_config(project_.settings, project_.root)
    letter = Letter(1, dt.datetime(2024, 3, 1, 8, tzinfo=dt.UTC), "Territoires Pilotes n°1", "<p>x</p>", "x")
    factory = MessageFactory(config, letter, "bench")
    templates = [(SAMPLES / name).read_bytes() for name in SHAPES]
    box = mailbox.mbox(path)
    box.lock()
    for n in range(1, count + 1):
        message = factory.build(Recipient(n, address(n)))
        head = message.data.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
        values = {
            b"%VERP%": message.envelope.encode(),
            b"%RCPT%": address(n).encode(),
            b"%HEADERS%": head,
            b"%INREPLYTO%": message.message_id.encode(),
            b"%ID%": f"dsn.{n}@mx.example.net".encode(),
        }
        data = templates[n % len(templates)]
        box.add(re.sub(rb"%[A-Z]+%", lambda m, values=values: values.get(m.group(0), m.group(0)), data))
    box.flush()
    box.unlock()
    box.close()
    return path.stat().st_size


def run_command(project: Path, source: Path) -> dict:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "newsletter", "bounces", "-C", str(project), str(source)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"newsletter bounces a échoué : {result.stderr or result.stdout}")
    counts = {
        label.strip(): int(number) for label, number in re.findall(r"^  ([^\d\n]+?) +(\d+)$", result.stdout, re.M)
    }
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"elapsed": elapsed, "counts": counts, "rss": rss}


def table(count: int, size: int, first: dict, second: dict) -> str:
    shapes = ", ".join(name.removesuffix(".eml") for name in SHAPES)
    counts = first["counts"]
    return "\n".join(
        [
            f"Machine: {machine()}. An mbox of {count:,} DSNs ({size / 1e6:.0f} MB; shapes in turn: {shapes}), "
            f"one per subscriber of {count:,}; database on the ordinary disk. Each run is the whole command "
            "(`python -m newsletter bounces`), interpreter start included.",
            "",
            "| run | time | messages/s | what it found | peak memory |",
            "| --- | ---: | ---: | --- | ---: |",
            f"| first: every bounce applied | {first['elapsed']:.1f} s | {count / first['elapsed']:,.0f} | "
            f"{counts.get('rebonds définitifs', 0):,} hard, {counts.get('rebonds temporaires', 0):,} soft, "
            f"{counts.get('ignorés', 0):,} ignored | {first['rss']:.0f} MB |",
            f"| second: nothing to do | {second['elapsed']:.1f} s | {count / second['elapsed']:,.0f} | "
            f"{second['counts'].get('déjà traités', 0):,} already read | {second['rss']:.0f} MB |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsletter-bench-bounces-", dir="/var/tmp") as folder:
        project = make_project(Path(folder) / "projet", args.count)
        source = Path(folder) / "retours.mbox"
        size = make_mbox(project, source, args.count)
        first = run_command(project, source)
        second = run_command(project, source)
    print(first, second, flush=True)
    report = table(args.count, size, first, second)
    print(report)
    if not args.no_write:
        write_report(report, SECTION, "scripts/bench_bounces.py")


if __name__ == "__main__":
    main()
