"""Atomic file output: a reader never sees half a file, and unchanged files keep their bytes."""

from __future__ import annotations

import hashlib
import itertools
import os
from pathlib import Path

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_serial = itertools.count()  # with the pid, a temporary name no other writer is using


def write_atomic(path: Path, data: bytes | str) -> bool:
    """Write `data` to `path` through a temporary file and a rename.

    Returns False (and touches nothing) when the file already holds exactly these bytes, so a
    rebuild that changes nothing leaves every file, and its modification time, alone. A build
    writes thousands of files, so this costs one `stat` for a new or resized file, and reads the
    old bytes only when the size is the same.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if _holds(path, payload):
        return False
    fd, tmp = _create(path)
    try:
        view = memoryview(payload)
        try:
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


def listed(root: Path, *folders: str) -> set[str]:
    """The names in `folders` of `root`, as "folder/name": one listing per folder, where a build
    would otherwise ask the disk about thousands of files one by one (a missing folder: none)."""
    names: set[str] = set()
    for folder in folders:
        try:
            names.update(f"{folder}/{name}" for name in os.listdir(root / folder))
        except OSError:
            pass
    return names


class AtomicFile:
    """A file written piece by piece that appears at `path` whole, or not at all: for an output too
    large to hold in memory at once (the agenda of every issue). Nothing reaches `path` until
    `commit`; leaving the `with` block without it (an error, or `discard`) removes what was written.
    """

    def __init__(self, path: Path):
        self.path = path
        fd, self._tmp = _create(path)
        self._file = os.fdopen(fd, "wb")
        self._digest = hashlib.sha256()
        self._size = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._digest.update(data)
        self._size += len(data)

    def commit(self) -> bool:
        """Put the file in place; like `write_atomic`, touches nothing (returns False) when the file
        there already holds exactly these bytes."""
        self._file.close()
        if self._holds_the_same():
            self._tmp.unlink(missing_ok=True)
            return False
        os.replace(self._tmp, self.path)
        return True

    def discard(self) -> None:
        self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._file.closed or self._tmp.exists():
            self.discard()

    def _holds_the_same(self) -> bool:
        try:
            if os.stat(self.path).st_size != self._size:
                return False
            with open(self.path, "rb") as old:
                return hashlib.file_digest(old, "sha256").digest() == self._digest.digest()
        except OSError:
            return False


def _holds(path: Path, payload: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(payload):
            return False
        return path.read_bytes() == payload
    except OSError:
        return False


def _create(path: Path) -> tuple[int, Path]:
    """A new temporary file beside `path`, mode 0666 less the umask like any other output (its
    folder made if missing; a name left by a killed writer with the same pid is skipped)."""
    while True:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{next(_serial)}.tmp")
        try:
            return os.open(tmp, _FLAGS, 0o666), tmp
        except FileExistsError:
            continue
        except (FileNotFoundError, NotADirectoryError):  # the folder is missing, or a file stands in its way
            path.parent.mkdir(parents=True, exist_ok=True)  # an error here names the folder, not our temporary file
            return os.open(tmp, _FLAGS, 0o666), tmp
