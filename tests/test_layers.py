"""The boundaries docs/architecture.md states, read from the imports (ast): data flows one way, and
no top-level package of newsletter/ imports one that imports it back."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "newsletter"


def imports_of(path: Path, submodules: bool = False) -> set[str]:
    """Every module `path` imports, at its top or inside a function; with `submodules`, also
    `a.b` for `from a import b` (b may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if submodules:
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def test_model_uses_the_standard_library_only() -> None:
    for path in modules("model"):
        for name in imports_of(path):
            top = name.split(".")[0]
            assert top in {"__future__", "dataclasses", "datetime", "pathlib", "typing", "enum", "newsletter"}, (
                path,
                name,
            )
            if top == "newsletter":
                assert name.startswith("newsletter.model"), (path, name)


def test_parsers_know_no_renderer_sender_or_cli() -> None:
    assert modules("parse")
    for path in modules("parse"):
        for name in imports_of(path):
            assert not name.startswith(("newsletter.render", "newsletter.send", "newsletter.cli", "click", "mjml")), (
                path,
                name,
            )


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
    forbidden = (
        "newsletter.parse",
        "newsletter.project",
        "newsletter.pipeline",
        "newsletter.fsutil",
        "newsletter.send",
    )
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


def test_serve_sits_above_render_and_send_and_only_the_cli_starts_it() -> None:
    """serve/ is a front end like the CLI: the library below never imports it."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] in ("serve", "cli"):
            continue
        assert not any(name.startswith("newsletter.serve") for name in imports_of(path)), path


def test_only_the_cli_turns_errors_into_an_exit_status() -> None:
    """The library raises NewsletterError; the CLI alone decides what the process exits with."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] in ("cli", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("exit", "_exit"):
                assert not (isinstance(node.value, ast.Name) and node.value.id in ("sys", "os")), (path, node.lineno)
            if isinstance(node, ast.Name):
                assert node.id != "SystemExit", (path, node.lineno)


def package_graph() -> dict[str, set[str]]:
    """Top-level package (or module) of newsletter/ → those it imports, lazy imports included."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        unit = path.relative_to(PACKAGE).with_suffix("").parts[0]
        if unit == "__init__":
            continue  # the package's own __init__: the version, imported by everyone
        targets = graph.setdefault(unit, set())
        for name in imports_of(path, submodules=True):
            parts = name.split(".")
            if parts[0] == "newsletter" and len(parts) > 1 and parts[1] != unit and _is_unit(parts[1]):
                targets.add(parts[1])
    return graph


def _is_unit(name: str) -> bool:
    return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph (its nodes, the first repeated at the end), or [] when there is none."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str]:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return []
        for target in sorted(graph.get(node, ())):
            if cycle := visit(target, [*path, node]):
                return cycle
        done.add(node)
        return []

    for node in sorted(graph):
        if cycle := visit(node, []):
            return cycle
    return []


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_no_import_cycle_between_the_top_level_packages() -> None:
    graph = package_graph()
    assert {"model", "parse", "render", "cli"} <= graph.keys() and "model" in graph["parse"]
    assert find_cycle(graph) == []
