#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run them.
#   bash scripts/test.sh [pytest arguments]
# Before pytest: ruff (lint and format) and mypy, at zero findings.
# Used as is by CI (.ci/run). Installs: a virtual environment with the package and its test
# dependencies; the Node packages of the calendar cross-check (ical.js) and of the accessibility
# checks (axe-core); Debian's Chromium for the browser
# checks and Dovecot for the IMAP source of `newsletter bounces` (with apt-get, when missing and
# when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

# Node and npm for the independent calendar parser (Mozilla's ical.js) used by the tests.
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "Node.js manque : installez les paquets Debian « nodejs » et « npm » (relecture des agendas par ical.js)." >&2
  fi
fi

for folder in tests/support/*/; do
  if [ -f "$folder/package.json" ]; then
    (cd "$folder" && if [ -f package-lock.json ]; then npm ci --silent --no-audit --no-fund; else npm install --silent --no-audit --no-fund; fi)
  fi
done

# Chromium for the browser checks; the emoji font so that the pictures show the rubrics' emoji.
if ! command -v chromium >/dev/null 2>&1 || [ ! -d /usr/share/fonts/truetype/noto ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
  else
    echo "Chromium manque : installez les paquets Debian « chromium » et « fonts-noto-color-emoji »." >&2
  fi
fi

# Dovecot: the real IMAP server that tests/support/imap.py starts on loopback (never as a service).
if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null
  else
    echo "Dovecot manque : installez le paquet Debian « dovecot-imapd » (lecture IMAP des rebonds)." >&2
  fi
fi

# Lint, format and types before the tests (configured in pyproject.toml): any finding fails the run.
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy

exec .venv/bin/python -m pytest "$@"
