"""SIGKILL a sending process in the middle of a run, at a chosen message, before the server answers."""

from __future__ import annotations

import os
import signal
import subprocess
import threading


class KillAtMessage:
    """An `on_data` hook for `FaultyHandler`: kills `process` when the `at`-th message arrives (counted
    once a process is set), and drops that message's connection, so it was never accepted."""

    def __init__(self, at: int):
        self.at = at
        self.process: subprocess.Popen | None = None
        self.seen: list[str] = []
        self.killed = threading.Event()

    def start(self, args: list[str], cwd) -> subprocess.Popen:
        self.process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return self.process

    def __call__(self, address: str) -> str | None:
        if self.process is None:
            return None
        self.seen.append(address)
        if len(self.seen) == self.at and not self.killed.is_set():
            os.kill(self.process.pid, signal.SIGKILL)  # before the server answers 250
            self.process.wait()
            self.killed.set()
            return "drop"
        return None

    @property
    def uncertain(self) -> str:
        """The address whose message was cut: maybe delivered, as far as the sender knows."""
        return self.seen[self.at - 1]
