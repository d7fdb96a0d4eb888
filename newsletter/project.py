"""A project folder: its settings and its sources (`issues/`, later `calendars/`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import ERROR, Problem, SourceError
from newsletter.model.issue import Issue
from newsletter.parse.corrections import CORRECTIONS_FILE, read_records, with_corrections
from newsletter.parse.issue import ParsedIssue, parse_issue
from newsletter.settings import Settings, load_settings

ISSUES_DIR = "issues"
CALENDARS_DIR = "calendars"


@dataclass(frozen=True)
class Project:
    root: Path
    settings: Settings

    @property
    def issues_dir(self) -> Path:
        return self.root / ISSUES_DIR

    @property
    def calendars_dir(self) -> Path:
        """Programmes and standalone sessions (`*.md`), and the state of what was published."""
        return self.root / CALENDARS_DIR

    def issue_paths(self) -> list[Path]:
        if not self.issues_dir.is_dir():
            return []
        # a link to nowhere is kept: reading it says why, where skipping it would lose an issue unseen
        return sorted(
            p
            for p in self.issues_dir.glob("*.md")
            if (p.is_file() or (p.is_symlink() and not p.exists())) and not p.name.startswith(".")
        )

    def parse_all(self) -> list[ParsedIssue]:
        """Every issue file parsed, with duplicate numbers reported on the later files."""
        parsed = [parse_issue(path, self.settings) for path in self.issue_paths()]
        flag_duplicate_numbers([(p.path, p.issue.number) for p in parsed if p.issue], parsed)
        return self.with_corrections(parsed)

    def with_corrections(self, parsed: list[ParsedIssue]) -> list[ParsedIssue]:
        """Each issue's sessions with the corrections sent about them (`calendars/rectificatifs.json`)."""
        records = read_records(self.calendars_dir / CORRECTIONS_FILE)
        for item in parsed:
            if item.issue is not None and records:
                item.issue = with_corrections(item.issue, records)
        return parsed

    def issues(self) -> list[Issue]:
        """Every issue without errors, in number order."""
        return sorted((p.issue for p in self.parse_all() if p.issue and not p.errors), key=lambda i: i.number)

    @staticmethod
    def is_issue(parsed: ParsedIssue, number: int) -> bool:
        """Whether `parsed` is issue `number`: by its front matter, or by its file name when broken."""
        return Project.claims(parsed.path, parsed.issue.number if parsed.issue else None, number)

    @staticmethod
    def claims(path: Path, found: int | None, number: int) -> bool:
        """Whether the file at `path`, whose front matter gives `found`, is issue `number`."""
        return found == number or _names(path, number)

    def issue(self, number: int) -> Issue:
        """The issue with this number, or a SourceError saying why it cannot be had."""
        for parsed in self.parse_all():
            if self.is_issue(parsed, number):
                if parsed.errors:
                    first = parsed.errors[0]
                    raise SourceError(first.path, first.line or None, first.message)
                if parsed.issue:
                    return parsed.issue
        raise SourceError(self.issues_dir, None, f"aucun numéro {number} dans ce dossier")


def _names(path: Path, number: int) -> bool:
    head = path.stem.split("-", 1)[0]
    return head.isdigit() and int(head) == number


def flag_duplicate_numbers(numbers: list[tuple[Path, int]], parsed: list[ParsedIssue]) -> None:
    """Report a number taken twice on the file that comes later, among those in `parsed`.

    `numbers` lists the claims in order of precedence; files not in `parsed` (unchanged since the
    last build) can only be the first claimant.
    """
    first_seen: dict[int, Path] = {}
    by_path = {p.path: p for p in parsed}
    for path, number in numbers:
        owner = first_seen.setdefault(number, path)
        if owner != path and path in by_path:
            message = f"numéro {number} déjà utilisé par {owner.name}"
            by_path[path].problems.append(Problem(path, _number_line(path), ERROR, message))


def _number_line(path: Path) -> int:
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError):
        return 1
    return next((i for i, line in enumerate(lines[:50], 1) if line.startswith("number:")), 1)


def load_project(root: Path) -> Project:
    root = Path(root)
    if not root.is_dir():
        raise SourceError(root, None, "dossier de projet introuvable")
    return Project(root, load_settings(root))
