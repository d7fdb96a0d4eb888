"""newsletter: Markdown issues in, responsive emails, calendars and an archive out."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

__version__ = "0.1.0"


@lru_cache(maxsize=1)
def code_version() -> str:
    """The version plus a digest of the package's own code.

    Build caches are keyed on it, so that a change of the code (a working copy between releases,
    an editable install) never reuses outputs or models made by other code.
    """
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:16]}"
