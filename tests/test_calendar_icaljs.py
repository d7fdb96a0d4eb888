"""An independent reading: Mozilla's ical.js (under Node) reads every calendar as `icalendar` does.

ical.js converts TZID times with the VTIMEZONE of the file itself (it has no timezone database of
its own), and Node runs with TZ far from Paris: a missing or wrong VTIMEZONE gives a wrong instant.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import icalendar
import pytest
from click.testing import CliRunner
from conftest import issue_text
from support import icaljs

from newsletter.cli import cli

UTC = dt.UTC


@pytest.fixture(scope="session")
def ical_js() -> None:
    """ical.js from the npm registry, installed once (npm ci) when tests/support/icaljs/node_modules is missing."""
    icaljs.install()


def python_reading(path: Path) -> list[tuple[str, str, str]]:
    events = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    return [(str(e["uid"]), str(e["summary"]), _iso(e.decoded("dtstart"))) for e in events]


def js_reading(file: dict) -> list[tuple[str, str, str]]:
    return [
        (e["uid"], e["summary"], e["start"]["date"] if e["start"]["allDay"] else e["start"]["utc"])
        for e in file["events"]
    ]


def _iso(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return value.isoformat()


def test_ical_js_reads_every_calendar_of_the_repository_like_icalendar(ical_js, repo_build: Path) -> None:
    paths = sorted((repo_build / "calendars").rglob("*.ics"))
    assert len(paths) == 8
    for path, file in zip(paths, icaljs.read(paths)):
        assert file["method"] == "PUBLISH" and file["name"]
        assert js_reading(file) == python_reading(path), path
        for event in file["events"]:
            assert set(event["tzids"]) <= set(file["timezones"]), (path, event["uid"])
    agenda = icaljs.read([repo_build / "calendars" / "agenda.ics"])[0]
    slots = {e["summary"]: e for e in agenda["events"]}
    opening = slots["Journées des Territoires\u00a0: Ouverture"]
    assert (opening["start"]["utc"], opening["end"]["utc"]) == ("2018-11-26T09:00:00.000Z", "2018-11-26T09:30:00.000Z")
    whole = slots["Journées des Territoires"]
    assert (whole["start"]["date"], whole["end"]["date"]) == ("2018-11-26", "2018-11-28")


def test_ical_js_finds_the_right_instants_across_the_clock_changes(ical_js, make_project) -> None:
    blocks = {
        "hiver": ("2022-01-20 10:00", "2022-01-20T09:00:00.000Z"),
        "ete": ("2022-07-14 10:00", "2022-07-14T08:00:00.000Z"),
        "printemps": ("2022-03-27 10:00", "2022-03-27T08:00:00.000Z"),
        "automne": ("2022-10-30 10:00", "2022-10-30T09:00:00.000Z"),
    }
    fenced = "\n\n".join(
        f"```session\nid: {key}\ntitle: {key}\nstart: {start}\nduration: 1h\n```" for key, (start, _) in blocks.items()
    )
    permanence = "```session\nid: permanence\ntitle: Permanence\nstart: 2022-08-02 11:00\nend: 13:00\nrrule: FREQ=MONTHLY;BYDAY=1TU\n```"
    root = make_project(
        {"issues/001.md": issue_text(f"## À suivre\n\nDes dates.\n\n{fenced}\n\n{permanence}\n", date="2022-01-01")}
    )
    assert CliRunner().invoke(cli, ["build", "-C", str(root)], catch_exceptions=False).exit_code == 0
    agenda = icaljs.read([root / "dist" / "calendars" / "agenda.ics"])[0]
    events = {e["uid"].split("@")[0]: e for e in agenda["events"]}
    for key, (_, expected) in blocks.items():
        assert events[key]["start"]["utc"] == expected, key
        assert events[key]["start"]["tzid"] == "Europe/Paris"
    # 11h in Paris: 9h UTC in summer, 10h UTC once the clocks went back, years later too
    occurrences = events["permanence"]["occurrences"]
    assert occurrences[:5] == [
        "2022-08-02T09:00:00.000Z",
        "2022-09-06T09:00:00.000Z",
        "2022-10-04T09:00:00.000Z",
        "2022-11-01T10:00:00.000Z",
        "2022-12-06T10:00:00.000Z",
    ]
    assert events["permanence"]["alarms"] == ["-PT1H"]


def test_ical_js_reads_a_hostile_title_unchanged_but_for_its_typography(ical_js, make_project) -> None:
    title = 'Atelier, « citoyen » ; suite \\ "guillemets" 🎉👩‍👩‍👧 ' + "é" * 150
    typeset = "Atelier, «\u202fcitoyen\u202f»\u202f; suite \\ «\u202fguillemets\u202f» 🎉👩‍👩‍👧 " + "é" * 150
    block = f"```session\nid: h\ntitle: '{title}'\nstart: 2022-04-07 14:00\nduration: 1h\nstatus: cancelled\n```"
    root = make_project({"issues/001.md": issue_text(f"## À suivre\n\nUne date.\n\n{block}\n")})
    assert CliRunner().invoke(cli, ["build", "-C", str(root)], catch_exceptions=False).exit_code == 0
    (file,) = icaljs.read([root / "dist" / "calendars" / "sessions" / "h.ics"])
    (event,) = file["events"]
    assert event["summary"] == "ANNULÉ – " + typeset and event["status"] == "CANCELLED"
    assert file["name"] == "ANNULÉ – " + typeset


def test_without_its_vtimezone_ical_js_would_read_another_instant(ical_js, make_project, tmp_path: Path) -> None:
    """The check has teeth: the same event without VTIMEZONE is read as a floating time."""
    block = "```session\nid: s\ntitle: S\nstart: 2022-03-27 10:00\nduration: 1h\n```"
    root = make_project({"issues/001.md": issue_text(f"## À suivre\n\nUne date.\n\n{block}\n", date="2022-03-01")})
    assert CliRunner().invoke(cli, ["build", "-C", str(root)], catch_exceptions=False).exit_code == 0
    data = (root / "dist" / "calendars" / "sessions" / "s.ics").read_bytes()  # the session's own .ics
    whole, bare = tmp_path / "whole.ics", tmp_path / "bare.ics"
    whole.write_bytes(data)
    head, rest = data.split(b"BEGIN:VTIMEZONE", 1)
    bare.write_bytes(head + rest.split(b"END:VTIMEZONE\r\n", 1)[1])
    right, wrong = icaljs.read([whole, bare])
    assert right["events"][0]["start"]["utc"] == "2022-03-27T08:00:00.000Z"
    assert wrong["events"][0]["start"]["utc"] != "2022-03-27T08:00:00.000Z"
