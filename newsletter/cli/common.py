"""What every command shares: the project option and the one place errors become messages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from newsletter.errors import NewsletterError, os_reason


class Failure(click.ClickException):
    """Shown as the bare French message on stderr, exit status 1 (no « Error: » prefix)."""

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), err=True)


def project_option(function: Callable) -> Callable:
    """`-C/--project DIR`: the project folder, like `git -C`; given after the command, or before it
    (`newsletter -C DIR build`), else the current folder."""
    return click.option(
        "-C",
        "--project",
        "project_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        callback=_inherited_project,
        show_default="dossier courant",
        help="Dossier du projet.",
    )(function)


def _inherited_project(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    if value is not None:
        return value
    context: click.Context | None = ctx.parent
    while context is not None:
        given = (context.obj or {}).get("project_dir") if isinstance(context.obj, dict) else None
        if given is not None:
            return given
        context = context.parent
    return Path(".")


def reports_errors(function: Callable) -> Callable:
    """Turn our errors (and the OS's) into one French line and exit status 1."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except NewsletterError as error:
            raise Failure(str(error)) from error
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            raise Failure(f"{where}{os_reason(error)}") from error

    return wrapper


def open_project(project_dir: Path):
    from newsletter.project import load_project

    return load_project(project_dir)
