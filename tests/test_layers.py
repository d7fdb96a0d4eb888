"""Data flows one way: the model and the parsers never import renderers, senders or the CLI."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "newsletter"


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def test_model_uses_the_standard_library_only() -> None:
    for path in modules("model"):
        for name in imports_of(path):
            top = name.split(".")[0]
            assert top in {"__future__", "dataclasses", "datetime", "pathlib", "typing", "enum", "newsletter"}, (path, name)
            if top == "newsletter":
                assert name.startswith("newsletter.model"), (path, name)


def test_parsers_know_no_renderer_sender_or_cli() -> None:
    assert modules("parse")
    for path in modules("parse"):
        for name in imports_of(path):
            assert not name.startswith(("newsletter.render", "newsletter.send", "newsletter.cli", "click", "mjml")), (path, name)


def test_only_the_cli_imports_click() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        assert "click" not in {name.split(".")[0] for name in imports_of(path)}, path


def test_sending_takes_finished_messages_and_knows_no_renderer() -> None:
    """send/ fills the per-subscriber marks of an email rendered once; it never renders MJML itself."""
    for folder in ("send", "subscribers"):
        assert modules(folder)
        for path in modules(folder):
            for name in imports_of(path):
                if name.startswith("newsletter.render"):
                    assert name == "newsletter.render.personalize", (path, name)
                assert not name.startswith(("newsletter.cli", "click", "mjml", "jinja2")), (path, name)


def test_renderers_read_no_source_and_write_no_file() -> None:
    """render/ turns the model into text: parsing, projects, caches and files are the pipeline's."""
    assert modules("render")
    forbidden = ("newsletter.parse", "newsletter.project", "newsletter.pipeline", "newsletter.fsutil", "newsletter.send")
    for path in modules("render"):
        for name in imports_of(path):
            assert not name.startswith(forbidden), (path, name)
        source = path.read_text(encoding="utf-8")
        assert "write_atomic" not in source and not re.search(r"open\([^)]*['\"][wax]b?['\"]", source), path
        assert not re.search(r"\.write_(text|bytes)\(", source), path


def test_only_the_pipeline_and_the_editors_tools_write_into_dist() -> None:
    """Outside pipeline/, nothing imports the pipeline's writers but the CLI and the desk."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if parts[0] in ("pipeline", "cli", "desk"):
            continue
        for name in imports_of(path):
            assert not name.startswith("newsletter.pipeline"), (path, name)
