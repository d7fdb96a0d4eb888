"""`newsletter new`: the next issue, numbered and dated, with every rubric of the catalogue in place.

Each rubric heading comes with a one-line hint (an HTML comment, invisible in every output), the
« À suivre » rubric with a session block to complete, and the front matter says `draft: true` so that
the issue stays out of the archive and cannot be sent to subscribers before the editor says so.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import NewsletterError, SourceError
from newsletter.model.rubric import Rubric
from newsletter.project import ISSUES_DIR, Project
from newsletter.stubs import STUB_MARK, hint
from newsletter.text import ascii_only, slug

GREETING = "Bonjour à toutes et à tous,"
SIGNOFF = (
    "N’hésitez pas à partager cette lettre aux membres de votre collectivité pour les associer aux "
    "réflexions et à la démarche !"
)

# What goes in each rubric of the default catalogue, for the editor (a rubric of another catalogue
# gets its tagline, or a generic line).
HINTS = {
    "edito": "un titre propre à l’édito après « : » dans le titre de rubrique, la signature en italique sur une ligne "
    "(*Prénom Nom - adresse*), puis le texte.",
    "en-theorie": "ce que les territoires ont appris (journées génériques, apports, ressources).",
    "en-pratique": "les temps de travail et d’action des territoires, avec les citations des participants.",
    "nouvelles": "des nouvelles des territoires, les questions en intertitres ###, les témoignages en citations.",
    "en-chantier": "les chantiers des alliés et des territoires (appels, publications, conseils).",
    "a-suivre": "les prochaines échéances ; un bloc session par rendez-vous, juste après le paragraphe qui l’annonce.",
    "inspiration": "une liste d’articles de Territoires Audacieux, une ligne « - ➡️ … » par article.",
}


class DeskError(NewsletterError):
    """A request of the editor that cannot be done (its message is one French line)."""


@dataclass(frozen=True)
class NewIssue:
    path: Path
    number: int
    date: dt.date
    title: str


def parse_date(text: str) -> dt.date:
    """An ISO date (AAAA-MM-JJ), or a SourceError in French."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise DeskError(f"« {text} » n’est pas une date : écrivez-la AAAA-MM-JJ, par exemple 2022-09-29") from None


def taken_numbers(project: Project) -> dict[int, Path]:
    """Numbers already used, from the front matter of readable issues and from every file name."""
    taken: dict[int, Path] = {}
    for parsed in project.parse_all():
        if parsed.issue is not None:
            taken.setdefault(parsed.issue.number, parsed.path)
        head = parsed.path.stem.split("-", 1)[0]
        if head.isdigit():
            taken.setdefault(int(head), parsed.path)
    return taken


def next_number(project: Project) -> int:
    return max(taken_numbers(project), default=0) + 1


def require_issues_dir(project: Project) -> Path:
    folder = project.issues_dir
    if not folder.is_dir():
        raise DeskError(
            f"pas de dossier {ISSUES_DIR}/ dans {project.root.resolve()} : "
            "lancez la commande dans le dossier du projet (ou avec -C DOSSIER)"
        )
    return folder


def check_number_free(project: Project, number: int) -> None:
    owner = taken_numbers(project).get(number)
    if owner is not None:
        raise SourceError(owner, None, f"le numéro {number} existe déjà : choisissez-en un autre (--number)")


def file_name(number: int, title: str) -> str:
    made = (
        slug(ascii_only(title.replace("’", "'")), 60, whole_words=True)
        if title and not title.startswith(STUB_MARK)
        else ""
    )
    return f"{number:03d}-{made}.md" if made else f"{number:03d}.md"


def new_issue(project: Project, date: dt.date, title: str | None = None, number: int | None = None) -> NewIssue:
    """Write the next issue into issues/; never overwrites anything."""
    folder = require_issues_dir(project)
    number = number if number is not None else next_number(project)
    check_number_free(project, number)
    title = (title or "").strip() or STUB_MARK
    path = folder / file_name(number, title)
    write_new(path, issue_text(project.settings.rubrics, number, date, title))
    return NewIssue(path, number, date, title)


def issue_text(rubrics: tuple[Rubric, ...], number: int, date: dt.date, title: str) -> str:
    parts = [
        front_matter(number, date, title, draft=True),
        GREETING,
        hint("l’introduction, en quelques phrases, avant la première rubrique."),
    ]
    for rubric in rubrics:
        parts.append(f"## {rubric.label}")
        parts.append(hint(HINTS.get(rubric.key) or rubric.tagline or f"le contenu de la rubrique « {rubric.title} »."))
        if rubric.key == "a-suivre":
            parts.append(session_stub(date))
    parts += ["---", SIGNOFF]
    return "\n\n".join(parts) + "\n"


def front_matter(number: int, date: dt.date, title: str, draft: bool = False, comments: tuple[str, ...] = ()) -> str:
    lines = ["---", f"number: {number}", f"date: {date.isoformat()}", f"title: {yaml_string(title)}"]
    if draft:
        lines.append("draft: true  # brouillon : retirez cette ligne quand le numéro est prêt à partir")
    lines += [f"# {comment}" for comment in comments]
    return "\n".join([*lines, "---"])


def session_stub(start: dt.date, title: str = STUB_MARK, comment: str = "") -> str:
    """A session block for the editor to complete (or delete); `check` reports it until then."""
    lines = ["```session"]
    if comment:
        lines.append(f"# {comment}")
    lines += [
        f"# {STUB_MARK} : un vrai titre, l’horaire, la durée, le lieu ou le lien de la visio ; ou supprimez ce bloc.",
        f"title: {yaml_string(title)}",
        f"start: {start.isoformat()}",
        "# duration: 1h30   (ou end: AAAA-MM-JJ HH:MM)",
        "# location: le lieu   (ou online: l’adresse de la visio)",
        "# description: une phrase sur le rendez-vous",
        "```",
    ]
    return "\n".join(lines)


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar (backslashes and quotes escaped, on one line)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + " ".join(escaped.split()) + '"'


def write_new(path: Path, text: str) -> None:
    """Write a new file whole, or fail if the path exists: never overwrite, never half-write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, path)  # atomic, and refuses an existing path
        except FileExistsError:
            raise SourceError(path, None, "ce fichier existe déjà : rien n’a été écrit") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
