"""The small French date grammar, and what `check` says about the dates written in an issue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import issue_text

from newsletter.cli import cli
from newsletter.datecheck import date_problems
from newsletter.parse.french_dates import (
    find_dates,
    likely_year,
    match_time_range,
    parse_day,
    parse_time,
    parse_time_range,
)
from newsletter.parse.issue import parse_issue
from newsletter.settings import Settings

# --- the grammar ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, days, weekdays, month, year, times",
    [
        ("le jeudi 07 avril en visio", [7], [3], 4, None, None),
        ("le 1er avril 2022", [1], [None], 4, 2022, None),
        ("Journées des Territoires – 26 & 27 novembre à Paris", [26, 27], [None, None], 11, None, None),
        ("le 10 et 24 mars, en visio", [10, 24], [None, None], 3, None, None),
        ("lundi 4 et mardi 5 avril", [4, 5], [0, 1], 4, None, None),
        ("du 26 au 28 novembre 2018", [26, 28], [None, None], 11, 2018, None),
        ("Jeudi 7 Avril 2022, 14h–16h", [7], [3], 4, 2022, ("14:00", "16:00")),
        ("mardi 2 août de 11h à 13h", [2], [1], 8, None, ("11:00", "13:00")),
        ("le 3 fevrier à 9h30", [3], [None], 2, None, ("09:30", None)),
        ("le 12 décembre, entre 10h00 et 12h", [12], [None], 12, None, ("10:00", "12:00")),
        ("samedi 1er octobre 2022 à 14:30", [1], [5], 10, 2022, ("14:30", None)),
    ],
)
def test_dates_in_prose(text, days, weekdays, month, year, times) -> None:
    (mention,) = find_dates(text)
    assert [d.day for d in mention.days] == days and [d.weekday for d in mention.days] == weekdays
    assert (mention.month, mention.year) == (month, year)
    found = (
        (f"{mention.times.start:%H:%M}", mention.times.end and f"{mention.times.end:%H:%M}") if mention.times else None
    )
    assert found == times


@pytest.mark.parametrize(
    "text",
    [
        "entre avril et septembre",
        "J’ai un travail à côté. 50h semaine. 30h pour la collectivité.",
        "les 4 fantastiques",
        "en 2022, plusieurs rendez-vous",
        "entre 11h et 13h, en visio",
        "le 3e Vice-Président",
    ],
)
def test_what_is_not_a_date(text: str) -> None:
    assert find_dates(text) == []


def test_a_span_names_every_day_between() -> None:
    first, second = find_dates("du 30 novembre au 2 décembre 2022")  # two months: two dates, not a span
    assert (first.month, first.year, first.span, second.month, second.year) == (11, None, False, 12, 2022)
    (span,) = find_dates("du 26 au 28 novembre 2018")
    assert span.dates(dt.date(2018, 1, 1)) == [dt.date(2018, 11, 26), dt.date(2018, 11, 27), dt.date(2018, 11, 28)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("14h", (14, 0)),
        ("10h00", (10, 0)),
        ("14h30", (14, 30)),
        ("14 h 30", (14, 30)),
        ("9:05", (9, 5)),
        ("25h", None),
        ("14h75", None),
        ("midi", None),
    ],
)
def test_times(text: str, expected) -> None:
    assert parse_time(text) == (dt.time(*expected) if expected else None)


def test_time_ranges_and_slot_headings() -> None:
    assert parse_time_range("14h–16h") == parse_time_range("14h - 16h") == parse_time_range("14h à 16h")
    assert parse_time_range("14h–16h").end == dt.time(16)
    times, rest = match_time_range("10h00 – Ouverture")
    assert (times.start, times.end, rest) == (dt.time(10), None, " – Ouverture")
    times, rest = match_time_range("15h15–15h30 Transitions")
    assert (times.start, times.end, rest) == (dt.time(15, 15), dt.time(15, 30), " Transitions")
    assert match_time_range("Ouverture") is None


@pytest.mark.parametrize(
    "reference, day, month, year",
    [
        ("2022-12-15", 3, 1, 2023),  # announced: next January
        ("2022-03-31", 26, 11, 2022),  # announced: the coming November
        ("2022-03-31", 10, 3, 2022),  # recalled: this March
        ("2022-03-31", 20, 12, 2021),  # recalled: last December
        ("2022-08-25", 1, 9, 2022),
    ],
)
def test_the_year_of_a_date_without_one(reference: str, day: int, month: int, year: int) -> None:
    assert likely_year(day, month, dt.date.fromisoformat(reference)) == year


def test_day_headings_of_a_programme() -> None:
    assert parse_day("Lundi 26 novembre : Rencontre", 2018) == (dt.date(2018, 11, 26), " : Rencontre")
    assert parse_day("lundi 26 novembre 2018") == (dt.date(2018, 11, 26), "")
    assert parse_day("2018-11-27 – Suite") == (dt.date(2018, 11, 27), " – Suite")
    assert parse_day("mardi 26 novembre 2018") == "« mardi 26 novembre 2018 » : le 26 novembre 2018 est un lundi"
    assert parse_day("jeudi 1er avril 2022") == "« jeudi 1er avril 2022 » : le 1er avril 2022 est un vendredi"
    assert parse_day("26 novembre").startswith("année manquante")


# --- check: a table of phrases, right and wrong -----------------------------------------------------


def problems_of(
    text: str, date: str = "2022-03-31", sessions: str = "", tmp_path: Path | None = None
) -> list[tuple[int, str, str]]:
    """(line counted from « ## À suivre », severity, message) of the date problems of an issue whose « À suivre » says `text`."""
    body = f"Bonjour,\n\n## À suivre\n\n{text}\n\n{sessions}\n"
    path = tmp_path / "001.md"
    path.write_text(issue_text(body, date=date), encoding="utf-8")
    parsed = parse_issue(path, Settings())
    assert not parsed.errors, [str(p) for p in parsed.problems]
    return [(p.line - 9, p.severity, p.message) for p in date_problems(parsed.issue)]


def block(start: str, title: str = "Séance", extra: str = "") -> str:
    return f"```session\ntitle: {title}\nstart: {start}\n{extra}```"


RIGHT = [
    ("Le jeudi 07 avril en visio.", "2022-03-31", block("2022-04-07")),
    ("Le lundi 4 et le mardi 5 avril.", "2022-03-31", block("2022-04-04", "A") + "\n\n" + block("2022-04-05", "B")),
    ("Jeudi 7 Avril 2022, 14h–16h.", "2022-03-31", block("2022-04-07 14:00", extra="end: 16:00\n")),
    ("Le vendredi 1er avril.", "2022-03-31", block("2022-04-01")),
    ("Les sessions du 10 et 24 mars ont eu lieu.", "2022-03-31", ""),  # past: no session needed
    ("Rendez-vous le mardi 3 janvier.", "2022-12-15", block("2023-01-03")),  # next year's January
    (
        "Chaque premier mardi du mois ; la prochaine le mardi 6 septembre.",
        "2022-08-25",
        block("2022-08-02 11:00", "Permanence", "end: 13:00\nrrule: FREQ=MONTHLY;BYDAY=1TU\n"),
    ),
    ("Les Journées, 26 & 27 novembre.", "2022-03-31", block("2022-11-26", extra="end: 2022-11-27\n")),
    ("Entre avril et septembre, des vidéos.", "2022-03-31", ""),
    ("<!-- À écrire : le jeudi 8 avril -->Une date.", "2022-03-31", ""),  # a hint is not prose
    ("Une date.", "2022-03-31", block("2022-04-07", extra="description: le mercredi 7 avril\n")),  # nor a block
    ("Exemple :\n\n```\nLe jeudi 8 avril 2022, le 31 avril.\n```", "2022-03-31", ""),  # nor code
    # a session block shown inside a longer fence, then a wrong date still inside that fence
    ("Exemple :\n\n````markdown\n```session\ntitle: x\n```\nLe lundi 31 avril.\n````", "2022-03-31", ""),
]


@pytest.mark.parametrize("text, date, sessions", RIGHT)
def test_right_dates_give_no_problem(text: str, date: str, sessions: str, tmp_path: Path) -> None:
    assert problems_of(text, date, sessions, tmp_path) == []


WRONG = [
    # (text, issue date, sessions, [(line, severity, message part)])
    (
        "Le jeudi 07 avril en visio.",
        "2023-03-30",
        block("2023-04-07"),
        [(2, "erreur", "« jeudi 07 » : le 7 avril 2023 est un vendredi, pas un jeudi")],
    ),
    (
        "Le mercredi 26 novembre 2018.",
        "2018-10-01",
        block("2018-11-26"),
        [(2, "erreur", "« mercredi 26 » : le 26 novembre 2018 est un lundi, pas un mercredi")],
    ),
    (
        "Le lundi 4 et le lundi 5 avril.",
        "2022-03-31",
        block("2022-04-04", "A") + "\n\n" + block("2022-04-05", "B"),
        [(2, "erreur", "« lundi 5 » : le 5 avril 2022 est un mardi, pas un lundi")],
    ),
    (
        "Rendez-vous le jeudi 3 janvier.",
        "2022-12-15",
        block("2023-01-03"),
        [(2, "erreur", "le 3 janvier 2023 est un mardi, pas un jeudi")],
    ),
    ("Le 31 avril, enfin.", "2022-03-31", "", [(2, "erreur", "date impossible « 31 avril »")]),
    (  # after a code block: the lines are still counted right
        "```\ndu code\n```\nLe 31 avril, enfin.",
        "2022-03-31",
        "",
        [(5, "erreur", "date impossible « 31 avril »")],
    ),
    (
        "L’Agora aura lieu le 28 avril à Paris.",
        "2022-03-31",
        "",
        [(2, "attention", "date annoncée sans séance : « 28 avril » (28 avril 2022) n’a pas de bloc ```session")],
    ),
    (
        "Les Journées, 26 & 27 novembre.",
        "2022-03-31",
        block("2022-11-26"),
        [(2, "attention", "« 26 & 27 novembre » (27 novembre 2022) n’a pas de bloc")],
    ),
    (
        "La prochaine le mardi 13 septembre.",
        "2022-08-25",
        block("2022-08-02 11:00", "Permanence", "end: 13:00\nrrule: FREQ=MONTHLY;BYDAY=1TU\n"),
        [(2, "attention", "« mardi 13 septembre » (13 septembre 2022) n’a pas de bloc")],
    ),
    (
        "Jeudi 7 avril, 14h.",
        "2022-03-31",
        block("2022-04-07 10:00", extra="end: 12:00\n"),
        [(2, "attention", "« Jeudi 7 avril, 14h » : la séance « Séance » commence à 10h00")],
    ),
    (
        "Jeudi 7 avril à 14h.",
        "2022-03-31",
        block("2022-04-07"),
        [(2, "attention", "donne une heure, mais la séance « Séance » n’en a pas")],
    ),
    (
        "Une séance passée.",
        "2022-03-31",
        block("2022-03-01"),
        [(4, "attention", "séance « Séance » déjà passée à la date du numéro (mardi 1er mars 2022)")],
    ),
    (
        "Une permanence finie.",
        "2022-08-25",
        block("2022-01-04 11:00", "Permanence", "end: 13:00\nrrule: FREQ=MONTHLY;BYDAY=1TU;COUNT=3\n"),
        [(4, "attention", "séance « Permanence » déjà passée")],
    ),
]


@pytest.mark.parametrize("text, date, sessions, expected", WRONG)
def test_wrong_dates_are_reported_at_their_line(text: str, date: str, sessions: str, expected, tmp_path: Path) -> None:
    found = problems_of(text, date, sessions, tmp_path)
    assert [(line, severity) for line, severity, _ in found] == [(line, severity) for line, severity, _ in expected], (
        found
    )
    for (_, _, message), (_, _, part) in zip(found, expected):
        assert part in message, message


def test_a_recurring_session_started_long_ago_is_not_past(tmp_path: Path) -> None:
    sessions = block("2022-01-04 11:00", "Permanence", "end: 13:00\nrrule: FREQ=MONTHLY;BYDAY=1TU\n")
    assert problems_of("Les permanences continuent.", "2022-08-25", sessions, tmp_path) == []


def test_check_reports_a_wrong_weekday_as_an_error_with_its_file_and_line(make_project) -> None:
    body = "Bonjour,\n\n## Édito\n\nNous nous verrons le jeudi\n07 avril, en visio.\n\n## À suivre\n\nRien.\n"  # a date across two lines
    root = make_project({"issues/001.md": issue_text(body, date="2023-03-30")})
    result = CliRunner().invoke(cli, ["check", "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 1
    path = root / "issues" / "001.md"
    assert (
        f"{path}:11: erreur : « jeudi 07 » : le 7 avril 2023 est un vendredi, pas un jeudi"
        in result.output.splitlines()
    )


def test_a_programme_covers_the_dates_an_issue_announces(make_project) -> None:
    body = "Bonjour,\n\n## À suivre\n\nLes Journées des Territoires, lundi 26 et mardi 27 novembre.\n"
    programme = "---\ntitle: Journées\nyear: 2018\n---\n\n## lundi 26 novembre\n\n### 10h – A\n\n## mardi 27 novembre\n\n### 9h – B\n"
    root = make_project({"issues/001.md": issue_text(body, date="2018-10-01"), "calendars/jt.md": programme})
    result = CliRunner().invoke(cli, ["check", "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 0 and "attention" not in result.output, result.output
