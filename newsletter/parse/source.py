"""Reading a source file as text, refusing what is not text before anything else looks at it."""

from __future__ import annotations

import re
from pathlib import Path

from newsletter.errors import SourceError

# Invisible control characters (a vertical tab pasted from a word processor…) that no output wants
# and that break MJML's parser; tab and newline are kept.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

MAX_SOURCE_BYTES = 1_000_000


def read_source(path: Path, max_bytes: int = MAX_SOURCE_BYTES) -> str:
    """The file's text, or a SourceError that says why it cannot be one.

    The size cap answers at once for a file that could never make an email (Gmail clips at 102 KB)
    rather than spending seconds rendering it.
    """
    try:
        size = path.stat().st_size
        if size > max_bytes:
            megabytes = f"{size / 1e6:.1f}".replace(".", ",")
            raise SourceError(path, None, f"fichier trop volumineux ({megabytes} Mo ; au plus {max_bytes / 1e6:.0f} Mo)")
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(path, None, f"lecture impossible ({error.strerror})")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise SourceError(path, line, "fichier binaire : ce n’est pas un texte")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SourceError(path, line, "le fichier n’est pas encodé en UTF-8 (réenregistrez-le en UTF-8)")
    text = _CONTROL.sub("", text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise SourceError(path, 1, "fichier vide")
    return text
