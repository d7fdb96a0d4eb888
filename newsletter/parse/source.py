"""Reading a source file as text, refusing what is not text before anything else looks at it."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from newsletter.errors import SourceError, os_reason

T = TypeVar("T")

# Invisible control characters (a vertical tab pasted from a word processor…) that no output wants
# and that break MJML's parser; tab and newline are kept.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

MAX_SOURCE_BYTES = 1_000_000

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def read_source(path: Path, max_bytes: int = MAX_SOURCE_BYTES) -> str:
    """The file's text, or a SourceError that says why it cannot be one.

    The size cap answers at once for a file that could never make an email (Gmail clips at 102 KB)
    rather than spending seconds rendering it.
    """
    try:
        size = path.stat().st_size
        if size > max_bytes:
            megabytes = f"{size / 1e6:.1f}".replace(".", ",")
            raise SourceError(
                path, None, f"fichier trop volumineux ({megabytes} Mo ; au plus {max_bytes / 1e6:.0f} Mo)"
            )
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(path, None, f"lecture impossible ({os_reason(error)})") from error
    text = _decode(path, data)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise SourceError(path, 1, "fichier vide")
    return text


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM), or UTF-16 (Windows « Unicode » text: by its BOM or its NUL bytes)."""
    encoding, start = next(((name, len(bom)) for bom, name in _BOMS if data.startswith(bom)), (_utf16_order(data), 0))
    if encoding is None and b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise SourceError(path, line, "fichier binaire : ce n’est pas un texte")
    encoding = encoding or "utf-8"
    try:
        return data[start:].decode(encoding)
    except UnicodeDecodeError as error:
        line = data[start : start + error.start].decode(encoding, errors="replace").count("\n") + 1
        if encoding == "utf-8":
            raise SourceError(path, line, "le fichier n’est pas encodé en UTF-8 (réenregistrez-le en UTF-8)") from None
        raise SourceError(
            path, line, "texte UTF-16 illisible à cet endroit (réenregistrez le fichier en UTF-8)"
        ) from None


def _utf16_order(data: bytes) -> str | None:
    """UTF-16 without BOM: French text has a NUL as the high byte of almost every character."""
    if len(data) < 2 or len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    half = len(data) // 2
    if odd >= half * 0.5 and even <= half * 0.05:
        return "utf-16-le"
    if even >= half * 0.5 and odd <= half * 0.05:
        return "utf-16-be"
    return None


_CONFLICT = re.compile(r"^(<<<<<<<|=======|>>>>>>>)", re.M)


def read_committed_json(path: Path, what: str, convert: Callable[[Any], T], conflict: str) -> T | None:
    """A JSON file the build keeps in the project and the team commits (`calendars/published.json`,
    `calendars/rectificatifs.json`), made into what `convert` returns; None when it is missing.

    `what` names it in French (« état des agendas »); `conflict` says how to resolve a merge
    conflict in it, reported at the line of its first marker. Any other damage is one line that
    sends the editor back to the repository's version."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SourceError(path, None, f"{what} illisible ({os_reason(error)})") from error
    except UnicodeDecodeError as error:
        raise SourceError(path, None, f"{what} illisible (pas en UTF-8)") from error
    if marker := _CONFLICT.search(text):
        raise SourceError(path, text.count("\n", 0, marker.start()) + 1, f"conflit de fusion : {conflict}")
    try:
        return convert(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise SourceError(
            path, getattr(error, "lineno", None), f"{what} illisible : reprenez la version du dépôt (git checkout)"
        ) from error
