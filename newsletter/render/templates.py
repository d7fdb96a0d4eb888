"""The Jinja2 environment: a project's own `templates/` first, the shipped defaults behind it."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup


def builtin_templates() -> Path:
    """Defaults: inside the wheel as `newsletter/templates`, at the top of a source checkout."""
    packaged = Path(__file__).resolve().parent.parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "templates"


def search_path(root: Path | None) -> list[Path]:
    folders = [root / "templates"] if root is not None and (root / "templates").is_dir() else []
    builtin = builtin_templates()
    return folders + ([builtin] if builtin not in folders else [])


@lru_cache(maxsize=8)
def environment(root: Path | None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search_path(root)]),
        autoescape=jinja2.select_autoescape(["html", "mjml", "xml"], default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["css_prefixed"] = css_prefixed
    return env


_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def css_prefixed(css: str, *prefixes: str) -> Markup:
    """Flat CSS rules again, every selector under each prefix: `.a, .b {…}` → `[x] .a, [x] .b {…}`.

    Outlook.com darkens an email itself and marks what it changed with attributes; the email's own
    dark rules reach it only under those attribute selectors.
    """

    def prefix(rule: re.Match[str]) -> str:
        selectors = [s.strip() for s in rule.group(1).split(",") if s.strip()]
        return ", ".join(f"{p} {s}" for s in selectors for p in prefixes) + " {" + rule.group(2) + "}\n"

    return Markup("".join(prefix(rule) for rule in _CSS_RULE.finditer(str(css))))


WEB = "web"  # the templates of the web archive; every other one is the email's


def fingerprint(root: Path | None, web: bool | None = None) -> str:
    """A digest of the templates that could be used: the web archive's (`web=True`), the email's
    (`web=False`), or all; so that editing a page's template re-renders no email, and the reverse."""
    digest = hashlib.sha256()
    for folder in search_path(root):
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder).as_posix()
            if path.is_file() and (web is None or relative.startswith(WEB + "/") == web):
                digest.update(relative.encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()
