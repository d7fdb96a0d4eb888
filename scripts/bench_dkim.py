#!/usr/bin/env python3
"""Benchmark of DKIM signing: what `[sending.dkim]` adds to each message of a send.

    python scripts/bench_dkim.py [--messages 200] [--bits 1024 2048] [--no-write]

The repository's first sample issue is rendered once; `MessageFactory.build` makes the same number of
personal messages without and with a `Signer` (dkimpy, rsa-sha256, relaxed/relaxed), for a key of each
size made by the `openssl` command. Signing's share is the difference, in µs per message; the RSA
operation alone (dkimpy's pure-Python RSA over one digest) is timed too, to show where the time goes.
The table is added, with the machine and the date, to the « DKIM signing » section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_send import ISSUE, ROOT, machine, write_report

SECTION = "## DKIM signing"
SETTINGS = '\n[sending]\nsecret = "bench"\n\n[sending.dkim]\nselector = "bench"\ndomain = "example.org"\nprivate_key = "dkim.pem"\n'


def make_project(folder: Path, bits: int) -> Path:
    (folder / "issues").mkdir(parents=True)
    shutil.copy(ISSUE, folder / "issues")
    (folder / "newsletter.toml").write_text(
        (ROOT / "newsletter.toml").read_text(encoding="utf-8") + SETTINGS, encoding="utf-8"
    )
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            f"rsa_keygen_bits:{bits}",
            "-out",
            str(folder / "dkim.pem"),
        ],
        check=True,
        capture_output=True,
    )
    return folder


def per_message(function, count: int) -> float:
    """Microseconds per call, best of three rounds of `count` calls."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for n in range(count):
            function(n)
        best = min(best, time.perf_counter() - start)
    return best / count * 1e6


def measure(project_dir: Path, count: int) -> dict:
    from dkim.crypto import RSASSA_PKCS1_v1_5_sign, parse_pem_private_key

    from newsletter.cli.send import _letter
    from newsletter.project import load_project
    from newsletter.send import MessageFactory, Recipient, new_signer, sending_config

    project = load_project(project_dir)
    config = sending_config(project.settings, project.root)
    letter, _ = _letter(project, 1)
    plain = MessageFactory(config, letter, "bench")
    signed = MessageFactory(config, letter, "bench", signer=new_signer(config))

    def recipient(n: int) -> Recipient:
        return Recipient(n + 1, f"abonne{n:06d}@example.org", f"Abonné {n}" if n % 2 else "")

    key = parse_pem_private_key(config.dkim.private_key.read_bytes())
    digest = hashlib.sha256(b"bench")
    return {
        "size": len(plain.build(recipient(0)).data),
        "unsigned": per_message(lambda n: plain.build(recipient(n)), count),
        "signed": per_message(lambda n: signed.build(recipient(n)), count),
        "rsa": per_message(lambda n: RSASSA_PKCS1_v1_5_sign(digest, key), count),
    }


def table(rows: list[tuple[int, dict]], count: int) -> str:
    size = rows[0][1]["size"]
    lines = [
        f"Machine: {machine()}. Issue 1 ({size / 1024:.0f} KB a message, quoted-printable), {count} personal "
        "messages, best of three rounds; dkimpy, rsa-sha256, relaxed/relaxed.",
        "",
        "| key | build, unsigned | build and sign | of which signing | of which the RSA operation | signed messages/s on one core |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for bits, row in rows:
        lines.append(
            f"| RSA {bits} | {row['unsigned']:,.0f} µs | {row['signed']:,.0f} µs | {row['signed'] - row['unsigned']:,.0f} µs | "
            f"{row['rsa']:,.0f} µs | {1e6 / row['signed']:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--bits", type=int, nargs="+", default=[1024, 2048])
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    if shutil.which("openssl") is None:
        sys.exit("openssl introuvable : installez le paquet Debian « openssl »")
    rows = []
    with tempfile.TemporaryDirectory(prefix="newsletter-bench-dkim-") as folder:
        for bits in args.bits:
            rows.append((bits, measure(make_project(Path(folder) / f"rsa{bits}", bits), args.messages)))
            print(bits, rows[-1], flush=True)
    report = table(rows, args.messages)
    print(report)
    if not args.no_write:
        write_report(report, SECTION, "scripts/bench_dkim.py")


if __name__ == "__main__":
    main()
