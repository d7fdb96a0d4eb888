"""newsletter: Markdown issues in, responsive emails, calendars and an archive out."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path


def __getattr__(name: str) -> str:
    """`__version__`, the one defined in pyproject.toml, read from the installed package's metadata.

    Read on first use: importlib.metadata costs about 35 ms, which every command would pay at start.
    """
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@lru_cache(maxsize=1)
def _version() -> str:
    """From the installed package's metadata; in a checkout run without installing it
    (`PYTHONPATH=. python -m newsletter`), from the pyproject.toml beside the package."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newsletter")
    except PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0+inconnue"


@lru_cache(maxsize=1)
def code_version() -> str:
    """The version plus a digest of the package's own code.

    Build caches are keyed on it, so that a change of the code (a working copy between releases,
    an editable install) never reuses outputs or models made by other code.
    """
    digest = hashlib.sha256(_version().encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return f"{_version()}+{digest.hexdigest()[:16]}"
