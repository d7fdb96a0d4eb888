#!/usr/bin/env python3
"""Benchmark of `newsletter serve`: sign-ups per second and latency on loopback, and the server's memory.

    python scripts/bench_serve.py [--requests 10000] [--clients 8] [--no-write]

A project in `.bench-serve/` beside the repository (on its disk, removed afterwards) is served by
`newsletter serve` (waitress, 4 threads, outbox transport) in its own process. `--clients` threads
of a keep-alive HTTP client post sign-ups as the archive's form does (each a new address, so each
one is a database transaction and a confirmation email written to the outbox). Reported: requests
per second, median and p99 latency, and the server's resident memory (VmRSS) after each quarter of
the requests, which must stay flat. Target: at least 300 sign-ups/s on 2 cores. The table is added,
with the machine and the date, to the « Readers' service » section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Readers' service"
ORIGIN = "https://example.org"
TARGET = 300


def start_server(project: Path) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "serve", "-C", str(project), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stderr.readline()
    match = re.search(r":(\d+)/", line)
    if not match:
        process.kill()
        raise SystemExit(f"the server did not start: {line}")
    threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()  # drain the log
    return process, int(match.group(1))


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def client(port: int, numbers: range, latencies: list[float], errors: list[int]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": ORIGIN}
    for n in numbers:
        body = urlencode({"adresse": f"lecteur{n}@example.org", "nom": f"Lecteur {n}", "consentement": "oui"})
        started = time.perf_counter()
        connection.request("POST", "/service/inscription", body, headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            errors.append(response.status)
    connection.close()


def run(requests: int, clients: int) -> dict:
    project = ROOT / ".bench-serve"
    shutil.rmtree(project, ignore_errors=True)
    (project / "issues").mkdir(parents=True)
    (project / "newsletter.toml").write_text(
        '[newsletter]\nbase_url = "https://example.org/lettre"\n'
        '[serve]\npublic_url = "https://example.org/service"\nper_client = 10000000\n',
        encoding="utf-8",
    )
    process, port = start_server(project)
    try:
        latencies: list[float] = []
        errors: list[int] = []
        memory = [("at start", rss_kb(process.pid))]
        quarter = requests // 4
        elapsed = 0.0
        for step in range(4):
            first = step * quarter
            shares = [range(first + c, first + quarter, clients) for c in range(clients)]
            threads = [threading.Thread(target=client, args=(port, share, latencies, errors)) for share in shares]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed += time.perf_counter() - started
            memory.append((f"after {first + quarter:,} requests", rss_kb(process.pid)))
        written = len(list((project / "outbox" / "service").glob("*.eml")))
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(project, ignore_errors=True)
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "memory": memory,
        "emails": written,
        "clients": clients,
    }


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )


def table(result: dict) -> str:
    status = "ok" if result["rate"] >= TARGET else "under target"
    lines = [
        f"### {dt.date.today().isoformat()}",
        "",
        f"Machine: {machine()}. `newsletter serve` (waitress, 4 threads, outbox transport) in its own process; "
        f"{result['clients']} keep-alive clients on loopback, each sign-up a new address "
        f"({result['emails']:,} confirmation emails written, {result['errors']} errors); the clients share the "
        "same 2 cores.",
        "",
        "| measure | value | target | |",
        "| --- | ---: | ---: | --- |",
        f"| sign-ups per second | {result['rate']:.0f} | {TARGET} | {status} |",
        f"| latency, median | {result['p50']:.1f} ms | | |",
        f"| latency, p99 | {result['p99']:.1f} ms | | |",
    ]
    lines += [f"| server memory (VmRSS) {label} | {kb / 1024:.1f} MB | flat | |" for label, kb in result["memory"]]
    return "\n".join(lines) + "\n"


def write(text: str) -> None:
    content = BENCHMARKS.read_text(encoding="utf-8")
    if SECTION not in content:
        content = content.rstrip("\n") + f"\n\n{SECTION}\n\nWritten by `scripts/bench_serve.py`, newest last.\n"
    BENCHMARKS.write_text(content.rstrip("\n") + "\n\n" + text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    text = table(run(args.requests, args.clients))
    print(text)
    if not args.no_write:
        write(text)


if __name__ == "__main__":
    main()
