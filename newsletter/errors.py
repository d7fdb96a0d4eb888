"""The one error type that crosses layers, and the diagnostics of `check`.

Library code raises `SourceError` for anything wrong in what the team wrote; only the CLI turns it
into a message and an exit status, so the library stays usable from tests and other programs.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path


class NewsletterError(Exception):
    """Base of every error meant for a person (its message is French)."""


class SourceError(NewsletterError):
    """Something wrong in a source file, located at a line when the line is known."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        return _locate(self.path, self.line, self.message)


ERROR = "erreur"
WARNING = "attention"


@dataclass(frozen=True, order=True)
class Problem:
    """One diagnostic of `newsletter check`, ordered by file then line."""

    path: Path
    line: int
    severity: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def __str__(self) -> str:
        return _locate(self.path, self.line or None, f"{self.severity} : {self.message}")

    @classmethod
    def from_error(cls, error: SourceError) -> Problem:
        return cls(error.path, error.line or 0, ERROR, error.message)


def _locate(path: Path, line: int | None, message: str) -> str:
    where = f"{path}:{line}" if line else f"{path}"
    return f"{where}: {message}"


# What the system says, in French, for the errors a person can meet with files, folders and sockets.
_REASONS = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.ENOTDIR: "un fichier est sur le chemin, là où il faut un dossier",
    errno.EISDIR: "c’est un dossier, pas un fichier",
    errno.ELOOP: "liens symboliques en boucle",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.EEXIST: "existe déjà",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.ENOSPC: "disque plein",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.EADDRINUSE: "adresse déjà utilisée",
    errno.ECONNREFUSED: "connexion refusée",
    errno.ECONNRESET: "connexion interrompue",
    errno.ETIMEDOUT: "délai dépassé",
    errno.EHOSTUNREACH: "hôte injoignable",
    errno.ENETUNREACH: "réseau injoignable",
}


def os_reason(error: OSError) -> str:
    """Why an OS call failed, in French (messages to people are French); the system's own words
    for an error not in the table above."""
    return _REASONS.get(error.errno or 0) or error.strerror or str(error) or type(error).__name__
