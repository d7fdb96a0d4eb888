"""Recurrences written in French (`répétition :`): the RRULE and EXDATE of the .ics, the occurrences
Mozilla's ical.js expands from them (Paris local times, summer and winter), the card's words, and
the error at its line for a phrase that cannot be read.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from click.testing import CliRunner
from conftest import ROOT, issue_text
from support import icaljs

from newsletter.cli import cli
from newsletter.parse.recurrence import parse_recurrence
from newsletter.render.calendar import recurrence_text

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC

# id → (start, end, phrase, RRULE in the .ics, EXDATE in the .ics (Paris local time, or a date), words of the card)
SESSIONS = {
    "premier-mardi": (
        "2022-08-02 11:00",
        "13:00",
        "chaque premier mardi du mois, jusqu’au 6 décembre 2022, sauf le 4 octobre 2022",
        "FREQ=MONTHLY;UNTIL=20221206T225959Z;BYDAY=1TU",
        ["2022-10-04 11:00"],
        "chaque premier mardi du mois, de 11h à 13h, jusqu’au 6 décembre 2022, sauf le 4 octobre 2022",
    ),
    "semaines": (
        "2022-10-20 18:30",
        "20:00",
        "toutes les semaines",
        "FREQ=WEEKLY",
        [],
        "chaque semaine, de 18h30 à 20h",
    ),
    "quinzaine": (
        "2022-10-18 09:00",
        "10:00",
        "tous les 15 jours sauf les 1er et 29 novembre",
        "FREQ=WEEKLY;INTERVAL=2",
        ["2022-11-01 09:00", "2022-11-29 09:00"],
        "tous les 15 jours, de 9h à 10h, sauf le 1er novembre 2022 et le 29 novembre 2022",
    ),
    "mensuel": (
        "2022-09-20 14:00",
        "16:00",
        "chaque mois jusqu’au 20 décembre 2022",
        "FREQ=MONTHLY;UNTIL=20221220T225959Z",
        [],
        "chaque mois, de 14h à 16h, jusqu’au 20 décembre 2022",
    ),
    "lundi-jeudi": (
        "2022-10-24 08:00",
        "09:00",
        "chaque lundi et jeudi, 4 fois",
        "FREQ=WEEKLY;COUNT=4;BYDAY=MO,TH",
        [],
        "chaque lundi et jeudi, de 8h à 9h, 4 fois",
    ),
    "dernier-vendredi": (
        "2022-10-28 17:00",
        "18:00",
        "Chaque dernier vendredi du mois.",
        "FREQ=MONTHLY;BYDAY=-1FR",
        [],
        "chaque dernier vendredi du mois, de 17h à 18h",
    ),
    "sans-accent": (
        "2022-10-05 10:00",
        "11:00",
        "un mercredi sur deux",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
        [],
        "un mercredi sur 2, de 10h à 11h",
    ),
    "journee": (
        "2022-10-03",
        "",
        "chaque jour jusqu’au 7 octobre 2022, sauf le 5 octobre",
        "FREQ=DAILY;UNTIL=20221007",
        ["2022-10-05"],
        "chaque jour, jusqu’au 7 octobre 2022, sauf le 5 octobre 2022",
    ),
    "regle": (
        "2022-08-02 11:00",
        "13:00",
        None,
        "FREQ=MONTHLY;UNTIL=20230131T225959Z;BYDAY=1TU",
        [],
        "chaque premier mardi du mois, de 11h à 13h, jusqu’au 31 janvier 2023",
    ),
}


def block(key: str) -> str:
    start, end, phrase, *_ = SESSIONS[key]
    lines = [f"id: {key}", f"title: Séance {key}", f"start: {start}"] + ([f"end: {end}"] if end else [])
    if key == "sans-accent":
        lines.append(f"repetition: {phrase}")
    elif phrase is None:
        lines.append("rrule: FREQ=MONTHLY;BYDAY=1TU;UNTIL=20230131")  # a bare date on a timed session
    else:
        lines.append(f"répétition : {phrase}")
    return "```session\n" + "\n".join(lines) + "\n```"


PHRASES = [
    ("chaque premier mardi du mois", "FREQ=MONTHLY;BYDAY=1TU"),
    ("le premier mardi de chaque mois", "FREQ=MONTHLY;BYDAY=1TU"),
    ("chaque premier mardi", "FREQ=MONTHLY;BYDAY=1TU"),
    ("chaque premier et troisième jeudi du mois", "FREQ=MONTHLY;BYDAY=1TH,3TH"),
    ("chaque avant-dernier lundi du mois", "FREQ=MONTHLY;BYDAY=-2MO"),
    ("le 15 de chaque mois", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("chaque mois le 1er", "FREQ=MONTHLY;BYMONTHDAY=1"),
    ("chaque mardi", "FREQ=WEEKLY;BYDAY=TU"),
    ("tous les lundis, mercredis et vendredis", "FREQ=WEEKLY;BYDAY=MO,WE,FR"),
    ("toutes les deux semaines, le mardi", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
    ("chaque jour", "FREQ=DAILY"),
    ("tous les jours", "FREQ=DAILY"),
    ("tous les 10 jours", "FREQ=DAILY;INTERVAL=10"),
    ("tous les 8 jours", "FREQ=WEEKLY"),
    ("tous les quinze jours", "FREQ=WEEKLY;INTERVAL=2"),
    ("une semaine sur deux", "FREQ=WEEKLY;INTERVAL=2"),
    ("toutes les 3 semaines", "FREQ=WEEKLY;INTERVAL=3"),
    ("tous les 3 mois, 6 fois", "FREQ=MONTHLY;INTERVAL=3;COUNT=6"),
    ("chaque année", "FREQ=YEARLY"),
    ("tous les ans jusqu'au 2 août 2030", "FREQ=YEARLY;UNTIL=20300802"),
    ("chaque semaine jusqu’au 2 août", "FREQ=WEEKLY;UNTIL=20220802"),  # no year: the first on or after the start
    ("chaque semaine jusqu’au 1er août", "FREQ=WEEKLY;UNTIL=20230801"),
]


@pytest.mark.parametrize("phrase, rule", PHRASES)
def test_the_grammar_reads_each_frequency_and_the_card_words_read_back_the_same(phrase: str, rule: str) -> None:
    start = dt.date(2022, 8, 2)
    assert parse_recurrence(phrase, start).rule == rule
    words = recurrence_text(rule)
    assert words != "régulièrement" and parse_recurrence(words, start).rule == rule, words


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("recurrence")
    (root / "issues").mkdir()
    fenced = "\n\n".join(block(key) for key in SESSIONS)
    (root / "issues" / "001.md").write_text(
        issue_text(f"## À suivre\n\nDes rendez-vous.\n\n{fenced}\n", date="2022-07-28"), encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["build", "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return root / "dist"


def vevent(built: Path, key: str) -> icalendar.Event:
    (event,) = icalendar.Calendar.from_ical((built / "calendars" / "sessions" / f"{key}.ics").read_bytes()).walk(
        "VEVENT"
    )
    return event


@pytest.mark.parametrize("key", SESSIONS)
def test_each_phrase_becomes_the_rrule_and_exdates_of_the_ics(key: str, built: Path) -> None:
    _, _, _, rule, exdates, _ = SESSIONS[key]
    event = vevent(built, key)
    assert event["rrule"].to_ical().decode() == rule
    properties = event.get("exdate", [])
    found = [
        moment.dt for prop in (properties if isinstance(properties, list) else [properties]) for moment in prop.dts
    ]
    assert [
        f"{d.astimezone(PARIS):%Y-%m-%d %H:%M}" if isinstance(d, dt.datetime) else d.isoformat() for d in found
    ] == exdates
    assert all(d.tzinfo == PARIS for d in found if isinstance(d, dt.datetime))  # TZID=Europe/Paris, like DTSTART


def test_an_end_date_is_a_utc_until_for_a_timed_session_and_a_date_for_an_all_day_one(built: Path) -> None:
    until = vevent(built, "mensuel")["rrule"]["UNTIL"][0]
    assert until == dt.datetime(2022, 12, 20, 22, 59, 59, tzinfo=UTC)  # the end of 20 December in Paris
    assert vevent(built, "regle")["rrule"]["UNTIL"][0] == dt.datetime(2023, 1, 31, 22, 59, 59, tzinfo=UTC)
    day = vevent(built, "journee")
    assert day["rrule"]["UNTIL"][0] == dt.date(2022, 10, 7) and day.decoded("dtstart") == dt.date(2022, 10, 3)


@pytest.mark.parametrize("key", SESSIONS)
def test_the_card_says_what_the_ics_says(key: str, built: Path) -> None:
    words = SESSIONS[key][-1]
    html = (built / "email" / "001.html").read_text(encoding="utf-8")
    text = " ".join((built / "email" / "001.txt").read_text(encoding="utf-8").split())
    assert f'<span aria-hidden="true">🔁 </span>puis {words}</div>' in html
    assert f"Puis {words}" in text


@pytest.fixture(scope="module")
def expanded(built: Path) -> dict[str, list[str]]:
    icaljs.install()
    (agenda,) = icaljs.read([built / "calendars" / "agenda.ics"])
    return {
        e["uid"].split("@")[0]: [
            f"{dt.datetime.fromisoformat(o.replace('Z', '+00:00')).astimezone(PARIS):%Y-%m-%d %H:%M}"
            for o in e["occurrences"]
        ]
        for e in agenda["events"]
    }


def test_ical_js_expands_the_first_tuesdays_in_paris_time_without_the_exception_and_with_the_last_day(expanded) -> None:
    # 11h in Paris in summer (UTC+2) and in winter (UTC+1); 4 October skipped; 6 December, the UNTIL day, included
    assert expanded["premier-mardi"] == ["2022-08-02 11:00", "2022-09-06 11:00", "2022-11-01 11:00", "2022-12-06 11:00"]


def test_ical_js_expands_the_other_phrases(expanded) -> None:
    assert expanded["semaines"][:3] == [
        "2022-10-20 18:30",
        "2022-10-27 18:30",
        "2022-11-03 18:30",
    ]  # across the clock change
    assert expanded["quinzaine"][:4] == ["2022-10-18 09:00", "2022-11-15 09:00", "2022-12-13 09:00", "2022-12-27 09:00"]
    assert expanded["mensuel"] == ["2022-09-20 14:00", "2022-10-20 14:00", "2022-11-20 14:00", "2022-12-20 14:00"]
    assert expanded["lundi-jeudi"] == ["2022-10-24 08:00", "2022-10-27 08:00", "2022-10-31 08:00", "2022-11-03 08:00"]
    assert expanded["dernier-vendredi"][:3] == ["2022-10-28 17:00", "2022-11-25 17:00", "2022-12-30 17:00"]
    assert expanded["sans-accent"][:3] == ["2022-10-05 10:00", "2022-10-19 10:00", "2022-11-02 10:00"]
    assert expanded["regle"][-2:] == ["2022-12-06 11:00", "2023-01-03 11:00"]


def test_ical_js_expands_an_all_day_recurrence_with_its_exception_and_last_day(built: Path) -> None:
    icaljs.install()
    (agenda,) = icaljs.read([built / "calendars" / "sessions" / "journee.ics"])
    (event,) = agenda["events"]
    # a date is midnight in Node's own timezone (see support/icaljs.py): read back there
    node = ZoneInfo(icaljs.FAR_AWAY)
    days = [
        dt.datetime.fromisoformat(o.replace("Z", "+00:00")).astimezone(node).date().isoformat()
        for o in event["occurrences"]
    ]
    assert days == ["2022-10-03", "2022-10-04", "2022-10-06", "2022-10-07"]


UNREADABLE = [
    (
        "répétition : quand ça nous chante",
        "répétition « quand ça nous chante » illisible : commencez par la fréquence, par exemple « chaque premier mardi du mois »",
    ),
    (
        "répétition : tous les mardis soirs",
        "répétition « tous les mardis soirs » : « soirs » n’est pas compris ; écrivez par exemple « chaque premier mardi du mois »",
    ),
    (
        "répétition : chaque mardi jusqu’au 31 avril",
        "répétition « chaque mardi jusqu’au 31 avril » : date impossible « 31 avril »",
    ),
    (
        "répétition : chaque mardi jusqu’au mercredi 20 décembre 2022",
        "le 20 décembre 2022 est un mardi, pas un mercredi",
    ),
    (
        "répétition : chaque jeudi jusqu’au mercredi 1er décembre 2022",  # the day written as the letter writes it
        "le 1er décembre 2022 est un jeudi, pas un mercredi",
    ),
    ("répétition : chaque mois jusqu’au 20 décembre 2022, 6 fois", "une seule fin, « jusqu’au … » ou « N fois »"),
    (
        "répétition : chaque mois jusqu’au 1er juillet 2022",
        "répétition « chaque mois jusqu’au 1er juillet 2022 » : elle ne donne aucune date après le début",
    ),
    ("répétition : chaque mois\nrrule: FREQ=MONTHLY", "donnez « répétition » ou « rrule », pas les deux"),
]


@pytest.mark.parametrize("field, message", UNREADABLE)
def test_an_unreadable_phrase_is_an_error_at_its_line_with_an_example(field: str, message: str, make_project) -> None:
    fenced = f"```session\ntitle: Permanence\nstart: 2022-08-02 11:00\nend: 13:00\n{field}\n```"
    root = make_project(
        {"issues/001.md": issue_text(f"## À suivre\n\nLa permanence.\n\n{fenced}\n", date="2022-07-28")}
    )
    result = CliRunner().invoke(cli, ["check", "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 1
    path = root / "issues" / "001.md"
    line = 15 if "rrule" not in field else 16  # the front matter takes 5 lines, the intro 4, the block starts at 11
    errors = [row for row in result.output.splitlines() if ": erreur : " in row]
    assert len(errors) == 1 and errors[0].startswith(f"{path}:{line}: erreur : séance : ") and message in errors[0], (
        result.output
    )


def test_an_exception_on_a_day_without_session_is_a_warning(make_project) -> None:
    fenced = "```session\ntitle: Permanence\nstart: 2022-08-02 11:00\nend: 13:00\nrépétition : chaque premier mardi du mois, sauf le 4 janvier 2023\n```"
    root = make_project(
        {"issues/001.md": issue_text(f"## À suivre\n\nLa permanence.\n\n{fenced}\n", date="2022-07-28")}
    )
    result = CliRunner().invoke(cli, ["check", "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 0
    assert (
        "001.md:15: attention : « sauf le 4 janvier 2023 » : aucune séance ce jour-là, l’exception ne change rien"
        in result.output
    )


def test_a_date_announced_on_an_excepted_day_has_no_session(make_project) -> None:
    fenced = "```session\ntitle: Permanence\nstart: 2022-08-02 11:00\nend: 13:00\nrépétition : chaque premier mardi du mois, sauf le 4 octobre\n```"
    body = f"## À suivre\n\nLes permanences continuent, le mardi 6 septembre et le mardi 4 octobre.\n\n{fenced}\n"
    root = make_project({"issues/001.md": issue_text(body, date="2022-07-28")})
    output = CliRunner().invoke(cli, ["check", "-C", str(root)], catch_exceptions=False).output
    assert "« mardi 4 octobre » (4 octobre 2022) n’a pas de bloc" in output and "6 septembre" not in output


def test_the_sample_permanences_are_written_in_french() -> None:
    text = (ROOT / "issues" / "002-faire-equipe-a-quatre.md").read_text(encoding="utf-8")
    assert "répétition : chaque premier mardi du mois" in text and "rrule:" not in text
