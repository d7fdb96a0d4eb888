"""```session blocks: parsed into the model, local to the project's timezone, refused at their line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import ROOT, issue_text

from newsletter.cli import cli
from newsletter.model.session import Status
from newsletter.parse.issue import parse_issue
from newsletter.parse.session import parse_duration, parse_session
from newsletter.project import load_project
from newsletter.settings import Settings

PARIS = ZoneInfo("Europe/Paris")


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def one(source: str, **options):
    return parse_session(source, Path("numero.md"), 10, PARIS, id_prefix="numero-001", issue=1, **options)


def with_sessions(*blocks: str, date: str = "2022-03-31", number: int = 1, extra: str = "") -> str:
    """An issue whose « À suivre » holds these session blocks (YAML without the fences)."""
    fenced = "\n\n".join(f"```session\n{block.strip()}\n```" for block in blocks)
    return issue_text(
        f"Bonjour,\n\n## À suivre\n\nLes rendez-vous.\n\n{fenced}\n", number=number, date=date, extra=extra
    )


# --- the sample issues ---------------------------------------------------------------------------


def test_the_sample_issues_carry_their_sessions() -> None:
    issues = {issue.number: issue for issue in load_project(ROOT).issues()}
    first = issues[1].sessions
    assert [s.id for s in first] == [
        "2022-04-07-sessions-entre-pairs",
        "2022-04-28-agora-sessions-entre-pairs",
        "2022-04-21-journee-generique-management-cooperatif",
        "2022-04-04-journee-thematique-alimentation",
    ]
    assert first[0].all_day and first[0].start == first[0].end == dt.date(2022, 4, 7)
    assert first[0].issue == 1 and first[0].published == dt.date(2022, 3, 31) and first[0].line == 115
    permanence = issues[2].sessions[0]
    assert permanence.start == dt.datetime(2022, 8, 2, 11, tzinfo=PARIS) and permanence.end == dt.datetime(
        2022, 8, 2, 13, tzinfo=PARIS
    )
    assert permanence.start.utcoffset() == dt.timedelta(hours=2)
    assert permanence.rrule == "FREQ=MONTHLY;BYDAY=1TU" and permanence.status is Status.CONFIRMED
    phase = issues[3].sessions[0]
    assert (phase.start, phase.end, phase.status) == (dt.date(2022, 9, 1), dt.date(2023, 1, 31), Status.TENTATIVE)


# --- reading the fields --------------------------------------------------------------------------


def test_a_timed_session_is_local_to_the_configured_timezone() -> None:
    session, problems = parse_session(
        "title: A\nstart: 2022-01-20 9:30\nend: 11h", Path("x.md"), 1, ZoneInfo("America/Montreal"), id_prefix="p"
    )
    assert problems == []
    assert session.start == dt.datetime(2022, 1, 20, 9, 30, tzinfo=ZoneInfo("America/Montreal"))
    assert session.start.astimezone(dt.UTC) == dt.datetime(2022, 1, 20, 14, 30, tzinfo=dt.UTC)
    assert session.end.hour == 11


def test_a_date_alone_is_an_all_day_session_ending_on_its_last_day() -> None:
    session, _ = one("title: Deux jours\nstart: 2022-11-26\nduration: 2 jours")
    assert session.all_day and session.start == dt.date(2022, 11, 26) and session.end == dt.date(2022, 11, 27)
    assert session.reminder == dt.timedelta(hours=15)  # 9 a.m. the day before


@pytest.mark.parametrize(
    "fields, start, end",
    [
        ("start: 2022-04-07 14:00\nend: 2022-04-07 16:00", (14, 0), (16, 0)),
        ("start: 2022-04-07 14h\nend: 16h", (14, 0), (16, 0)),
        ("start: 2022-04-07T14:30\nduration: 1h30", (14, 30), (16, 0)),
        ("start: 2022-04-07 14:00\nduration: 90 min", (14, 0), (15, 30)),
        ("start: 2022-04-07 14:00\nduration: 2 heures", (14, 0), (16, 0)),
        ("start: 2022-04-07 14:00\nduration: PT45M", (14, 0), (14, 45)),
    ],
)
def test_ends_and_durations(fields: str, start: tuple[int, int], end: tuple[int, int]) -> None:
    session, problems = one(f"title: A\n{fields}")
    assert problems == []
    assert (session.start.hour, session.start.minute) == start and (session.end.hour, session.end.minute) == end


@pytest.mark.parametrize(
    "text, minutes",
    [
        ("1h30", 90),
        ("1 h 30", 90),
        ("1h30min", 90),
        ("90 min", 90),
        ("45 minutes", 45),
        ("2h", 120),
        ("1 heure", 60),
        ("1 jour", 1440),
        ("PT1H30M", 90),
    ],
)
def test_parse_duration_reads_a_length_as_editors_write_it(text: str, minutes: int) -> None:
    """The parser of a session's `duration:` field (« 1h30 » is 90 minutes); no clock is read."""
    assert parse_duration(text) == dt.timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "beaucoup", "1h30 puis 2h", "h", "-1h"])
def test_parse_duration_refuses_what_is_not_a_length(text: str) -> None:
    """Text that names no length gives None, which the session parser turns into a French error."""
    assert parse_duration(text) is None


def test_a_timed_session_without_end_lasts_an_hour_with_a_warning() -> None:
    session, problems = one("title: A\nstart: 2022-04-07 14:00")
    assert session.end == dt.datetime(2022, 4, 7, 15, tzinfo=PARIS)
    assert [(p.line, p.severity) for p in problems] == [(12, "attention")] and "1 h" in problems[0].message


def test_status_in_english_or_french() -> None:
    assert one("title: A\nstart: 2022-04-07\nstatus: annulée")[0].status is Status.CANCELLED
    assert one("title: A\nstart: 2022-04-07\nstatus: tentative")[0].status is Status.TENTATIVE
    assert one("title: A\nstart: 2022-04-07")[0].status is Status.CONFIRMED


def test_the_recurrence_rule_is_kept_in_its_normal_form_and_checked_against_the_start() -> None:
    session, problems = one("title: A\nstart: 2022-08-02 11:00\nend: 13:00\nrrule: rrule:freq=monthly; byday=1tu")
    assert session.rrule == "FREQ=MONTHLY;BYDAY=1TU" and problems == []
    _, problems = one("title: A\nstart: 2022-08-03 11:00\nend: 13:00\nrrule: FREQ=MONTHLY;BYDAY=1TU")
    assert [(p.line, p.severity) for p in problems] == [(14, "attention")] and "ne suit pas la règle" in problems[
        0
    ].message


def test_ids_are_explicit_or_made_from_the_issue_and_the_title() -> None:
    assert one("id: Permanences Alliance\ntitle: A\nstart: 2022-04-07")[0].id == "permanences-alliance"
    assert (
        one('title: "« Journée » thématique : l’alimentation"\nstart: 2022-04-07')[0].id
        == "numero-001-journee-thematique-l-alimentation"
    )
    assert one(f"id: {'É' * 300}\ntitle: A\nstart: 2022-04-07")[0].id == "e" * 80
    assert one("title: Les  titres\n   sur deux lignes\nstart: 2022-04-07")[0].title == "Les titres sur deux lignes"


def test_values_stay_what_was_written_yaml_converts_nothing() -> None:
    session, problems = one(
        'title: 2022\nstart: "2022-04-07 14:00:00"\nend: 2022-04-07 15:00\nlocation: yes\ndescription: null'
    )
    assert problems == [] and session.title == "2022" and session.location == "yes" and session.description == ""
    assert session.start == dt.datetime(2022, 4, 7, 14, tzinfo=PARIS)


# --- refusals, each at its line -------------------------------------------------------------------

# The block's opening fence is line 10 of the file; its YAML starts at line 11.
REFUSALS = [
    ("start: 2022-04-07", 10, "il manque le titre"),
    ("title: A", 10, "il manque le début"),
    ("title: A\nstart: 2022-02-30", 12, "date impossible « 2022-02-30 »"),
    ("title: A\nstart: 2022-13-01", 12, "date impossible"),
    ("title: A\nstart: 7 avril 2022", 12, "« start: 7 avril 2022 » illisible"),
    ("title: A\nstart: 2022-04-07 25:00", 12, "heure impossible « 25:00 »"),
    ("title: A\nstart: 2022-03-27 02:30\nend: 04:00", 12, "02:30 n’existe pas le 2022-03-27 (changement d’heure)"),
    ("title: A\nstart: 2022-04-07 14:00\nend: 2022-04-07 13:00", 13, "la fin (2022-04-07 13:00) est avant le début"),
    ("title: A\nstart: 2022-04-07 14:00\nend: 14:00", 13, "est avant le début"),
    ("title: A\nstart: 2022-04-08\nend: 2022-04-07", 13, "la fin (2022-04-07) est avant le début"),
    ("title: A\nstart: 2022-04-07 14:00\nend: 2022-04-08", 13, "donnez aussi une heure de fin"),
    ("title: A\nstart: 2022-04-07\nend: 2022-04-07 16:00", 13, "donnez une fin sans heure"),
    ("title: A\nstart: 2022-04-07 14:00\nend: 15:00\nduration: 1h", 14, "« end » ou « duration », pas les deux"),
    ("title: A\nstart: 2022-04-07 14:00\nduration: longtemps", 13, "durée illisible « longtemps »"),
    ("title: A\nstart: 2022-04-07\nduration: 2h", 13, "en heures pour une séance sans heure"),
    ("title: A\nstart: 2022-04-07\nstatus: peut-être", 13, "statut inconnu « peut-être »"),
    ("title: A\nstart: 2022-04-07\nrrule: FREQ=SOUVENT", 13, "règle de récurrence « FREQ=SOUVENT » invalide"),
    ("title: A\nstart: 2022-04-07\nrrule: BYDAY=1TU", 13, "il manque FREQ"),
    ("title: A\nstart: 2022-04-07\nrrule: FREQ=DAILY;UNTIL=20200101", 13, "aucune date après le début"),
    ("title: A\nstart: 2022-04-07\nreminder: bientôt", 13, "rappel illisible « bientôt »"),
    ("title: A\nstart: 2022-04-07\nonline: visio.example.org/x", 13, "« online » doit être une adresse web complète"),
    (
        'title: A\nstart: 2022-04-07\nurl: https://x.org/a"onmouseover=b',
        13,
        '« url » : le caractère « " » n’a pas sa place dans une adresse web',
    ),
    ("title: A\nstart: 2022-04-07\nonline: https://x.org/<visio>", 13, "le caractère « < » n’a pas sa place"),
    ("title: A\nstart: 2022-04-07\nlocaton: Paris", 13, "champ inconnu « locaton » ; vouliez-vous dire « location » ?"),
    ("title: A\ntitle: B\nstart: 2022-04-07", 12, "champ « title » donné deux fois (déjà ligne 11)"),
    ("title: [A, B]\nstart: 2022-04-07", 11, "« title » doit être un texte sur une ligne"),
    (
        "title: Atelier : la suite\nstart: 2022-04-07",
        11,
        "YAML invalide (un « : » dans une valeur : mettez la valeur entre guillemets)",
    ),
    ("- title: A\n- start: 2022-04-07", 11, "écrivez une ligne « nom: valeur » par champ"),
    ("", 10, "séance vide"),
]


@pytest.mark.parametrize("source, line, message", REFUSALS)
def test_an_invalid_block_gives_one_error_at_its_line(source: str, line: int, message: str) -> None:
    session, problems = one(source)
    errors = [p for p in problems if p.is_error]
    assert session is None
    assert len(errors) == 1, [str(p) for p in problems]
    assert (errors[0].path, errors[0].line) == (Path("numero.md"), line)
    assert message in errors[0].message, errors[0].message


def test_check_and_build_refuse_an_invalid_session_with_one_line_and_write_no_calendar(make_project) -> None:
    good = "id: agora\ntitle: Agora\nstart: 2022-04-28"
    root = make_project({"issues/001.md": with_sessions(good, "title: Cassé\nstart: 2022-04-31")})
    path = root / "issues" / "001.md"
    text = path.read_text(encoding="utf-8").split("\n")
    line = text.index("start: 2022-04-31") + 1

    check = run("check", "-C", str(root))
    assert check.exit_code == 1
    assert [line for line in check.output.splitlines() if ": erreur :" in line] == [
        f"{path}:{line}: erreur : séance : date impossible « 2022-04-31 » : ce jour n’existe pas"
    ]
    build = run("build", "-C", str(root))
    assert build.exit_code == 1
    assert "Traceback" not in build.output
    assert not (root / "dist" / "calendars").exists()
    assert not (root / "calendars" / "published.json").exists()


def test_an_id_given_twice_in_one_issue_is_refused_on_the_second_block(make_project) -> None:
    root = make_project(
        {"issues/001.md": with_sessions("id: x\ntitle: A\nstart: 2022-04-07", "id: x\ntitle: B\nstart: 2022-04-08")}
    )
    parsed = parse_issue(root / "issues" / "001.md", Settings())
    assert parsed.issue is None
    (error,) = parsed.errors
    assert error.line == 19 and "id « x » déjà pris par la séance de la ligne 13" in error.message


def test_two_sessions_of_the_same_title_need_an_id(make_project) -> None:
    root = make_project(
        {"issues/001.md": with_sessions("title: Atelier\nstart: 2022-04-07", "title: Atelier\nstart: 2022-04-08")}
    )
    (error,) = parse_issue(root / "issues" / "001.md", Settings()).errors
    assert "id « numero-001-atelier » déjà pris" in error.message


def test_a_stub_of_new_or_import_is_a_valid_session(make_project) -> None:
    from newsletter.desk.new import session_stub

    root = make_project(
        {"issues/001.md": issue_text(f"## À suivre\n\nUn rendez-vous.\n\n{session_stub(dt.date(2022, 9, 29))}\n")}
    )
    parsed = parse_issue(root / "issues" / "001.md", Settings())
    assert not parsed.errors and parsed.issue.sessions[0].start == dt.date(2022, 9, 29)
