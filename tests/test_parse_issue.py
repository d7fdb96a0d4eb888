"""The structure the parser finds in an issue file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import MINIMAL_BODY, ROOT, issue_text

from newsletter.parse.issue import parse_issue
from newsletter.settings import Settings

SEED = ROOT / "issues" / "001-comprendre-reflechir-agir.md"


def parse(tmp_path: Path, text: str):
    path = tmp_path / "001.md"
    path.write_text(text, encoding="utf-8")
    return parse_issue(path, Settings())


def test_seed_issue_has_every_part() -> None:
    parsed = parse_issue(SEED, Settings())
    assert parsed.errors == []
    issue = parsed.issue
    assert (issue.number, issue.date, issue.title) == (1, dt.date(2022, 3, 31), "Comprendre, réfléchir, agir")
    assert [s.rubric.key for s in issue.sections] == [
        "edito",
        "en-theorie",
        "en-pratique",
        "nouvelles",
        "en-chantier",
        "a-suivre",
        "inspiration",
    ]
    edito = issue.section("edito")
    assert edito.own_title == "Comprendre, réfléchir, agir"
    assert edito.byline == "Léa Tramontin - <lea@territoires-audacieux.fr>"
    assert issue.greeting == "Bonjour à toutes et à tous,"
    assert issue.intro.markdown.startswith("Si vous recevez cette newsletter")
    assert issue.signoff.markdown.startswith("N’hésitez pas à partager cette lettre")
    assert "N’hésitez pas" not in issue.section("inspiration").body.markdown


def test_lines_point_into_the_file(tmp_path: Path) -> None:
    text = issue_text(MINIMAL_BODY)
    issue = parse(tmp_path, text).issue
    lines = text.split("\n")
    edito = issue.section("edito")
    assert lines[edito.line - 1].startswith("## 🗣️ Édito")
    assert lines[edito.body.line - 1] == "Première phrase de l’édito. Deuxième phrase."
    assert lines[issue.signoff.line - 1] == "À bientôt !"


def test_headings_inside_fenced_blocks_are_not_rubrics(tmp_path: Path) -> None:
    body = """
        ## Édito

        ```
        ## Pas une rubrique
        ---
        ```

        Texte.
        """
    parsed = parse(tmp_path, issue_text(body))
    assert parsed.errors == []
    assert [s.rubric.key for s in parsed.issue.sections] == ["edito"]
    assert "## Pas une rubrique" in parsed.issue.section("edito").body.markdown


def test_without_signoff_the_last_rubric_keeps_everything(tmp_path: Path) -> None:
    parsed = parse(tmp_path, issue_text("## Édito\n\nA.\n\n## Inspiration\n\n- B\n"))
    assert not parsed.issue.signoff
    assert parsed.issue.section("inspiration").body.markdown == "- B"


def test_a_thematic_break_inside_a_rubric_then_signoff(tmp_path: Path) -> None:
    body = "## Édito\n\nA.\n\n***\n\nB.\n\n---\n\nFin.\n"
    issue = parse(tmp_path, issue_text(body)).issue
    assert issue.section("edito").body.markdown == "A.\n\n***\n\nB."
    assert issue.signoff.markdown == "Fin."


def test_rubric_may_be_left_out_and_greeting_is_optional(tmp_path: Path) -> None:
    issue = parse(tmp_path, issue_text("Une intro sans salutation.\n\n## Inspiration\n\n- x\n")).issue
    assert issue.greeting == ""
    assert issue.intro.markdown == "Une intro sans salutation."
    assert [s.rubric.key for s in issue.sections] == ["inspiration"]


def test_optional_front_matter_fields(tmp_path: Path) -> None:
    extra = 'subject: "Objet"\npreheader: "Aperçu"\ndraft: true\n'
    issue = parse(tmp_path, issue_text(MINIMAL_BODY, extra=extra)).issue
    assert (issue.subject, issue.preheader, issue.draft) == ("Objet", "Aperçu", True)


def test_an_issue_saved_as_windows_unicode_text_is_read_like_utf8(tmp_path: Path) -> None:
    text = issue_text(MINIMAL_BODY)
    reference = parse(tmp_path, text).issue
    for encoded in (
        text.replace("\n", "\r\n").encode("utf-16"),
        text.encode("utf-16-le"),
        b"\xef\xbb\xbf" + text.encode("utf-8"),
    ):
        path = tmp_path / "windows.md"
        path.write_bytes(encoded)
        parsed = parse_issue(path, Settings())
        assert parsed.errors == []
        assert parsed.issue.sections == reference.sections and parsed.issue.title == reference.title


def test_a_broken_utf16_file_is_one_line_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "casse.md"
    path.write_bytes(
        "---\nnumber: 1\n".encode("utf-16") + b"\x00\xd8" + "suite\n".encode("utf-16-le")
    )  # a lone surrogate
    (problem,) = parse_issue(path, Settings()).problems
    assert (problem.line, problem.message) == (
        3,
        "texte UTF-16 illisible à cet endroit (réenregistrez le fichier en UTF-8)",
    )


@pytest.mark.parametrize(
    ("written", "programmes"),
    [
        ("programme: journees-2018", ("journees-2018",)),
        ("programme: [journees-2018, agora-2019]", ("journees-2018", "agora-2019")),
        ("programme:\n  - journees-2018\n  - agora-2019", ("journees-2018", "agora-2019")),
    ],
)
def test_the_programmes_an_issue_announces_one_or_a_list(tmp_path: Path, written: str, programmes) -> None:
    parsed = parse(tmp_path, issue_text(MINIMAL_BODY, extra=written + "\n"))
    assert not parsed.errors
    assert parsed.issue.programmes == programmes and parsed.issue.programme_line == 5


@pytest.mark.parametrize("written", ["programme: 3", 'programme: [journees-2018, ""]', "programme: {a: b}"])
def test_a_programme_that_is_not_an_id_is_an_error_at_its_line(tmp_path: Path, written: str) -> None:
    parsed = parse(tmp_path, issue_text(MINIMAL_BODY, extra=written + "\n"))
    assert [(p.line, p.message) for p in parsed.problems if p.is_error] == [
        (5, "« programme » doit être l’id d’un programme de calendars/, ou une liste d’ids")
    ]
