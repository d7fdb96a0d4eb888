#!/usr/bin/env python3
"""Benchmark of `newsletter send` over loopback SMTP, against the limit of this machine.

    python scripts/bench_send.py [--counts 10000 100000] [--connections 1] [--no-write]

For each count, N generated subscribers receive the repository's first sample issue through the
SMTP transport, to Postfix's `smtp-sink` (a discarding server fast enough not to be the bottleneck:
Debian package `postfix`). The limit is a bare `smtplib` loop sending one pre-built message of the
same size, N times, over the same number of connections. Each measurement runs in its own process,
which reports its peak memory (ru_maxrss). Targets: at least 90% of the bare loop's messages per
second, and peak memory flat in N (at most 100 MB at 100,000). The database lives on the disk of
the repository (a folder `.bench-send/` beside it, removed afterwards), never on a tmpfs: there
every fsync is free and the journal's cost would not show. The table is added, with the machine
and the date, to the « Sending » section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ISSUE = ROOT / "issues" / "001-comprendre-reflechir-agir.md"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Sending"
SENDER, RECIPIENT = "lettre@example.org", "abonne@example.org"


# --- the two measurements, each run in a child process -------------------------------------------


def child_bare(count: int, connections: int, port: int, message_file: str) -> dict:
    data = Path(message_file).read_bytes()
    shares = [count // connections + (1 if n < count % connections else 0) for n in range(connections)]

    def loop(share: int) -> None:
        smtp = smtplib.SMTP("127.0.0.1", port)
        for _ in range(share):
            smtp.sendmail(SENDER, [RECIPIENT], data)
        smtp.quit()

    threads = [threading.Thread(target=loop, args=(share,)) for share in shares]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"elapsed": time.perf_counter() - start, "sent": count}


def child_ours(project_dir: str) -> dict:
    from newsletter.cli.send import _letter
    from newsletter.project import load_project
    from newsletter.send import new_sender, open_store, sending_config

    start = time.perf_counter()
    project = load_project(Path(project_dir))
    config = sending_config(project.settings, project.root)
    letter, _, _ = _letter(project, 1)
    store = open_store(config)
    sender = new_sender(config, store, letter, "smtp")
    total = sender.prepare()
    prepared = time.perf_counter()
    summary = sender.run()
    end = time.perf_counter()
    assert summary.complete and summary.outcomes["sent"] == total, (summary, total)
    return {"elapsed": end - start, "prepare": prepared - start, "sent": summary.outcomes["sent"]}


def child_main(argv: list[str]) -> None:
    kind = argv[0]
    result = child_bare(int(argv[1]), int(argv[2]), int(argv[3]), argv[4]) if kind == "bare" else child_ours(argv[1])
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def in_child(*args: object) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *map(str, args)], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


# --- set-up ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sink(port: int) -> subprocess.Popen:
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not Path(binary).exists():
        sys.exit("smtp-sink introuvable : installez le paquet Debian « postfix » (apt-get install postfix)")
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = subprocess.Popen([binary, *user, f"127.0.0.1:{port}", "1024"], stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return sink
        except OSError:
            time.sleep(0.05)
    sink.kill()
    sys.exit("smtp-sink ne répond pas")


def make_project(folder: Path, count: int, port: int, connections: int) -> Path:
    from newsletter.subscribers import open_database

    (folder / "issues").mkdir(parents=True)
    shutil.copy(ISSUE, folder / "issues")
    settings = (ROOT / "newsletter.toml").read_text(encoding="utf-8")
    settings += (
        f'\n[sending]\nsecret = "bench"\nretries = 0\n\n[smtp]\nhost = "127.0.0.1"\nport = {port}\n'
        f'security = "none"\nconnections = {connections}\n'
    )
    (folder / "newsletter.toml").write_text(settings, encoding="utf-8")
    db = open_database(folder / "subscribers.sqlite3")
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO subscribers (address, name, status, consent_source, created_at, updated_at) "
        "VALUES (?, ?, 'subscribed', 'bench', '2024-01-01', '2024-01-01')",
        ((f"abonne{n:06d}@example.org", f"Abonné {n}" if n % 2 else "") for n in range(count)),
    )
    db.execute("COMMIT")
    db.close()
    return folder


def reset_journal(project_dir: Path) -> None:
    """Forget the deliveries, so the next measurement sends to every subscriber again."""
    from newsletter.subscribers import open_database

    db = open_database(project_dir / "subscribers.sqlite3")
    db.execute("DELETE FROM deliveries")
    db.close()


def median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda run: run["elapsed"])[len(runs) // 2]


def one_message(project_dir: Path, message_file: Path) -> int:
    """A real message of the issue, as ours sends it, for the bare loop to send N times."""
    from newsletter.cli.send import _letter
    from newsletter.project import load_project
    from newsletter.send import MessageFactory, Recipient, sending_config

    project = load_project(project_dir)
    letter, _, _ = _letter(project, 1)
    factory = MessageFactory(sending_config(project.settings, project.root), letter, "bench")
    data = factory.build(Recipient(2, "abonne000001@example.org", "Abonné 1")).data
    message_file.write_bytes(data)
    return len(data)


# --- report ----------------------------------------------------------------------------------------


def machine() -> str:
    import platform

    cpu = platform.machine()
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )


def filesystem(path: Path) -> str:
    """The file system type under `path` (ext4, tmpfs…), from /proc/mounts: the longest mount point."""
    best, kind = "", "?"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            _, point, fstype = line.split()[:3]
            if str(path.resolve()).startswith(point) and len(point) > len(best):
                best, kind = point, fstype
    except OSError:
        pass
    return f"{kind} ({best or '?'})"


def table(rows: list[dict], connections: int, size: int, repeat: int) -> str:
    lines = [
        f"Medians of {repeat} alternating runs of each; load average at the end: {os.getloadavg()[0]:.1f}.",
        f"Machine: {machine()}. Server: Postfix `smtp-sink` on loopback; {connections} connection(s); "
        f"message of {size / 1024:.0f} KB (issue 1, quoted-printable); database on {filesystem(ROOT)}.",
        "",
        "| subscribers | bare smtplib loop | `newsletter send` | ratio (target ≥ 90%) | of which set-up (render, queueing) | peak memory (target ≤ 100 MB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        ratio = row["ours_rate"] / row["bare_rate"]
        lines.append(
            f"| {row['count']:,} | {row['bare_rate']:.0f} msg/s | {row['ours_rate']:.0f} msg/s | "
            f"{ratio:.0%} {'ok' if ratio >= 0.9 else '**under**'} (each pair: {', '.join(f'{r:.0%}' for r in row['ratios'])}) | {row['prepare']:.1f} s | "
            f"{row['ours_rss']:.0f} MB {'ok' if row['ours_rss'] <= 100 else '**over**'} (bare: {row['bare_rss']:.0f} MB) |"
        )
    return "\n".join(lines)


def write_report(report: str, section: str = SECTION, script: str = "scripts/bench_send.py") -> None:
    """Add `report` at the end of `section`, leaving the other sections as they are."""
    text = (
        BENCHMARKS.read_text(encoding="utf-8")
        if BENCHMARKS.exists()
        else ("# Benchmarks\n\nFigures appended by the scripts in `scripts/`, newest last.\n")
    )
    if section not in text.splitlines():
        text = text.rstrip("\n") + f"\n\n{section}\n\nWritten by `{script}`, newest last.\n"
    start = text.splitlines(keepends=True).index(section + "\n")
    lines = text.splitlines(keepends=True)
    end = next((n for n in range(start + 1, len(lines)) if lines[n].startswith("## ")), len(lines))
    before, after = "".join(lines[:end]).rstrip("\n"), "".join(lines[end:])
    new = f"{before}\n\n### {dt.date.today().isoformat()}\n\n{report}\n" + (f"\n{after}" if after else "")
    tmp = BENCHMARKS.with_suffix(".md.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, BENCHMARKS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=3, help="alternate the two measurements this many times (medians)"
    )
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    port = free_port()
    sink = start_sink(port)
    rows, size = [], 0
    try:
        with tempfile.TemporaryDirectory(prefix=".bench-send-", dir=ROOT) as folder:  # the ordinary disk
            for count in args.counts:
                project = make_project(Path(folder) / f"p{count}", count, port, args.connections)
                message = Path(folder) / f"message{count}.eml"
                size = one_message(project, message)
                bares, ourses = [], []
                for _ in range(args.repeat):  # alternating, so a burst of load on the machine hits both
                    bares.append(in_child("bare", count, args.connections, port, message))
                    ourses.append(in_child("ours", project))
                    reset_journal(project)
                bare, ours = median_run(bares), median_run(ourses)
                row = {
                    "count": count,
                    "bare_rate": bare["sent"] / bare["elapsed"],
                    "ours_rate": ours["sent"] / ours["elapsed"],
                    "prepare": ours["prepare"],
                    "ours_rss": max(run["maxrss_mb"] for run in ourses),
                    "bare_rss": max(run["maxrss_mb"] for run in bares),
                    "ratios": [o["sent"] / o["elapsed"] / (b["sent"] / b["elapsed"]) for b, o in zip(bares, ourses)],
                }
                rows.append(row)
                print(json.dumps({"bare": bare, "ours": ours}), flush=True)
    finally:
        sink.terminate()
        sink.wait()
    report = table(rows, args.connections, size, args.repeat)
    print(report)
    if not args.no_write:
        write_report(report)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        main()
