"""The calendars: RFC 5545 files that parse, with the right instants, stable UIDs and SEQUENCE."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
from click.testing import CliRunner
from conftest import ROOT, issue_text

from newsletter.cli import cli
from newsletter.model.session import Session, Status
from newsletter.render.calendar import recurrence_text, vtimezone
from newsletter.render.calendar_links import google_url, outlook_url, session_links
from newsletter.render.fences import session_card, when_text
from newsletter.settings import Settings

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC
BASE = "https://example.org/territoires-pilotes"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def with_sessions(*blocks: str, date: str = "2022-03-01", number: int = 1, extra: str = "") -> str:
    fenced = "\n\n".join(f"```session\n{block.strip()}\n```" for block in blocks)
    return issue_text(
        f"Bonjour,\n\n## À suivre\n\nLes rendez-vous.\n\n{fenced}\n", number=number, date=date, extra=extra
    )


def build(root: Path) -> Path:
    result = run("build", "-C", str(root))
    assert result.exit_code == 0, result.output
    return root / "dist" / "calendars"


def read(path: Path) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(path.read_bytes())


def event(path: Path, uid_start: str = "") -> icalendar.Event:
    events = [e for e in read(path).walk("VEVENT") if str(e["uid"]).startswith(uid_start)]
    assert len(events) == 1, [str(e["uid"]) for e in events]
    return events[0]


def utc(component: icalendar.Event, name: str = "dtstart") -> dt.datetime:
    return component.decoded(name).astimezone(UTC)


def session(**fields) -> Session:
    values = {"id": "s", "title": "Séance", "start": dt.date(2022, 4, 7), "end": dt.date(2022, 4, 7), "issue": 1}
    values.update(fields)
    return Session(**values)


# --- every file of the repository's build ---------------------------------------------------------


def all_calendars(dist: Path) -> list[Path]:
    files = sorted((dist / "calendars").rglob("*.ics"))
    assert len(files) == 8, files  # the agenda, the programme, six sessions
    return files


def test_every_calendar_parses_and_has_what_agendas_need(repo_build: Path) -> None:
    for path in all_calendars(repo_build):
        data = path.read_bytes()
        calendar = icalendar.Calendar.from_ical(data)
        assert calendar.errors == [] and all(not c.errors for c in calendar.walk())
        assert str(calendar["method"]) == "PUBLISH" and str(calendar["version"]) == "2.0"
        assert str(calendar["prodid"]) == "-//Territoires Pilotes//newsletter//FR"
        assert str(calendar["name"]) == str(calendar["x-wr-calname"]) != ""
        assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT12H\r\n" in data and b"\r\nX-PUBLISHED-TTL:PT12H\r\n" in data
        tzids = set(re.findall(rb";TZID=([^;:]+)[;:]", data))
        defined = {str(tz["tzid"]).encode() for tz in calendar.walk("VTIMEZONE")}
        assert tzids <= defined, path
        assert calendar.get_missing_tzids() == set()
        for component in calendar.walk("VEVENT"):
            for name in ("uid", "dtstamp", "dtstart", "dtend", "summary", "sequence", "status"):
                assert name in component, (path, name)


def test_the_agenda_has_every_session_of_every_issue_and_programme(repo_build: Path) -> None:
    uids = [str(e["uid"]) for e in read(repo_build / "calendars" / "agenda.ics").walk("VEVENT")]
    assert len(uids) == len(set(uids)) == 6 + 1 + 13
    assert "2022-08-02-permanences-alliance@example.org" in uids
    assert "journees-des-territoires-2018@example.org" in uids
    sessions = {p.stem for p in (repo_build / "calendars" / "sessions").glob("*.ics")}
    assert {f"{s}@example.org" for s in sessions} <= set(uids)


def test_the_email_card_links_to_the_session_file_google_and_outlook(repo_build: Path) -> None:
    html = (repo_build / "email" / "002.html").read_text(encoding="utf-8")
    text = (repo_build / "email" / "002.txt").read_text(encoding="utf-8")
    ics = f"{BASE}/calendars/sessions/2022-08-02-permanences-alliance.ics"
    for output in (html, text):
        assert "mardi 2 août 2022, 11h–13h" in output and "chaque premier mardi du mois" in output
        assert ics in output and "https://calendar.google.com/calendar/render?action=TEMPLATE" in output
        assert "https://outlook.office.com/calendar/0/deeplink/compose?" in output
    assert "Ajouter à mon agenda" in html and "Ajouter à mon agenda\u00a0:\n- Fichier .ics\u00a0:" in text
    assert (repo_build / ics.removeprefix(BASE + "/")).is_file()  # the link's target is built
    assert "jeudi 7 avril 2022" in (repo_build / "email" / "001.txt").read_text(encoding="utf-8")


# --- properties of one event ---------------------------------------------------------------------


def test_uid_dtstamp_visio_alarm_of_a_session(make_project) -> None:
    block = (
        "id: permanence\ntitle: Permanence\nstart: 2022-08-02 11:00\nend: 13:00\nlocation: En visio\n"
        "online: https://visio.example.org/salle?id=1&x=2\ndescription: Un temps ouvert.\nrrule: FREQ=MONTHLY;BYDAY=1TU"
    )
    root = make_project({"issues/001.md": with_sessions(block, date="2022-07-28")})
    calendars = build(root)
    one = event(calendars / "sessions" / "permanence.ics")
    assert str(one["uid"]) == "permanence@example.org"
    assert one.decoded("dtstamp") == dt.datetime(2022, 7, 28, 6, 0, tzinfo=UTC)  # the issue's date, 8 a.m. in Paris
    visio = "https://visio.example.org/salle?id=1&x=2"
    assert str(one["location"]) == f"En visio – {visio}"
    assert (
        str(one["url"]) == visio and visio in str(one["description"]) and "Un temps ouvert." in str(one["description"])
    )
    conference = one["conference"]
    assert str(conference) == visio and conference.params["VALUE"] == "URI" and conference.params["FEATURE"] == "VIDEO"
    assert one["rrule"].to_ical() == b"FREQ=MONTHLY;BYDAY=1TU"
    (alarm,) = one.walk("VALARM")
    assert str(alarm["action"]) == "DISPLAY" and alarm.decoded("trigger") == -dt.timedelta(hours=1)
    assert str(one["status"]) == "CONFIRMED" and str(one["transp"]) == "OPAQUE"


def test_an_all_day_session_has_dates_and_a_reminder_the_day_before(make_project) -> None:
    root = make_project(
        {
            "issues/001.md": with_sessions(
                "id: j\ntitle: Journée\nstart: 2022-04-07\nlocation: Paris",
                "id: k\ntitle: K\nstart: 2022-04-08\nreminder: aucun",
            )
        }
    )
    calendars = build(root)
    one = event(calendars / "sessions" / "j.ics")
    assert one.decoded("dtstart") == dt.date(2022, 4, 7) and one.decoded("dtend") == dt.date(2022, 4, 8)
    assert b"DTSTART;VALUE=DATE:20220407" in (calendars / "sessions" / "j.ics").read_bytes()
    assert one.walk("VALARM")[0].decoded("trigger") == -dt.timedelta(hours=15)
    assert str(one["transp"]) == "TRANSPARENT" and str(one["url"]) == f"{BASE}/numeros/001/"
    assert event(calendars / "sessions" / "k.ics").walk("VALARM") == []
    assert b"BEGIN:VTIMEZONE" not in (calendars / "sessions" / "j.ics").read_bytes()  # no TZID, none needed


@pytest.mark.parametrize(
    "start, expected",
    [
        ("2022-01-20 10:00", dt.datetime(2022, 1, 20, 9, tzinfo=UTC)),  # winter: UTC+1
        ("2022-07-14 10:00", dt.datetime(2022, 7, 14, 8, tzinfo=UTC)),  # summer: UTC+2
        ("2022-03-27 10:00", dt.datetime(2022, 3, 27, 8, tzinfo=UTC)),  # the clocks went forward at 2h
        ("2022-10-30 10:00", dt.datetime(2022, 10, 30, 9, tzinfo=UTC)),  # the clocks went back at 3h
        ("2022-03-27 01:30", dt.datetime(2022, 3, 27, 0, 30, tzinfo=UTC)),  # before the change, that night
        ("2022-10-30 03:30", dt.datetime(2022, 10, 30, 2, 30, tzinfo=UTC)),  # after it
    ],
)
def test_times_are_right_in_winter_summer_and_on_the_days_the_clocks_change(
    start: str, expected: dt.datetime, make_project
) -> None:
    root = make_project(
        {"issues/001.md": with_sessions(f"id: s\ntitle: S\nstart: {start}\nduration: 1h", date="2022-01-01")}
    )
    calendars = build(root)
    data = (calendars / "sessions" / "s.ics").read_bytes()
    assert f"DTSTART;TZID=Europe/Paris:{start.replace('-', '').replace(' ', 'T').replace(':', '')}00".encode() in data
    one = event(calendars / "sessions" / "s.ics")
    assert utc(one) == expected and utc(one, "dtend") == expected + dt.timedelta(hours=1)
    # the file's own VTIMEZONE (not the TZID looked up) gives the same instant
    zone = icalendar.Calendar.from_ical(data).walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
    assert one.decoded("dtstart").replace(tzinfo=zone).astimezone(UTC) == expected
    # and the links carry the same instants
    links = session_links(Settings(), Session("s", "S", one.decoded("dtstart"), one.decoded("dtend"), issue=1))
    google = parse_qs(urlsplit(links["google"]).query)
    assert google["dates"] == [f"{expected:%Y%m%dT%H%M%SZ}/{expected + dt.timedelta(hours=1):%Y%m%dT%H%M%SZ}"]
    outlook = parse_qs(urlsplit(links["outlook"]).query)
    assert outlook["startdt"] == [f"{expected:%Y-%m-%dT%H:%M:%SZ}"] and outlook["allday"] == ["false"]
    assert outlook["enddt"] == [f"{expected + dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"]


def test_the_vtimezone_follows_the_timezone_database_for_decades() -> None:
    zone = icalendar.Timezone.from_ical(vtimezone("Europe/Paris", 2022)).to_tz(lookup_tzid=False)
    moment = dt.datetime(2021, 1, 1, tzinfo=UTC)
    while moment < dt.datetime(2045, 1, 1, tzinfo=UTC):
        local = moment.astimezone(PARIS).replace(tzinfo=None)
        assert local.replace(tzinfo=zone).utcoffset() == moment.astimezone(PARIS).utcoffset(), local
        moment += dt.timedelta(days=5, hours=7)
    text = vtimezone("Europe/Paris", 2022).decode()
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in text and "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in text
    assert "DTSTART:20210328T020000" in text and "DTSTART:20211031T030000" in text  # local time before the change
    assert "TZOFFSETTO:-0400" in vtimezone("America/New_York", 2022).decode()


def test_the_configured_timezone_is_the_one_used(make_project) -> None:
    settings = '[newsletter]\ntimezone = "America/Montreal"\n'
    root = make_project(
        {
            "newsletter.toml": settings,
            "issues/001.md": with_sessions("id: s\ntitle: S\nstart: 2022-07-14 10:00\nduration: 1h"),
        }
    )
    data = (build(root) / "sessions" / "s.ics").read_bytes()
    assert b"DTSTART;TZID=America/Montreal:20220714T100000" in data and b"TZID:America/Montreal" in data
    assert utc(event(build(root) / "sessions" / "s.ics")) == dt.datetime(2022, 7, 14, 14, tzinfo=UTC)


def test_links_of_an_all_day_and_of_a_recurring_session() -> None:
    day = session(start=dt.date(2022, 9, 1), end=dt.date(2023, 1, 31), location="Paris")
    google = parse_qs(urlsplit(google_url(Settings(), day)).query)
    assert (
        google["action"] == ["TEMPLATE"]
        and google["dates"] == ["20220901/20230201"]
        and google["location"] == ["Paris"]
    )
    outlook = parse_qs(urlsplit(outlook_url(Settings(), day)).query)
    assert (outlook["startdt"], outlook["enddt"], outlook["allday"]) == (["2022-09-01"], ["2023-02-01"], ["true"])
    monthly = session(
        start=dt.datetime(2022, 8, 2, 11, tzinfo=PARIS),
        end=dt.datetime(2022, 8, 2, 13, tzinfo=PARIS),
        rrule="FREQ=MONTHLY;BYDAY=1TU",
    )
    assert parse_qs(urlsplit(google_url(Settings(), monthly)).query)["recur"] == ["RRULE:FREQ=MONTHLY;BYDAY=1TU"]
    assert session_links(Settings(), monthly)["ics"] == f"{BASE}/calendars/sessions/s.ics"


# --- the card ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, end, expected",
    [
        (
            dt.datetime(2022, 4, 7, 14, tzinfo=PARIS),
            dt.datetime(2022, 4, 7, 16, tzinfo=PARIS),
            "jeudi 7 avril 2022, 14h–16h",
        ),
        (
            dt.datetime(2022, 4, 1, 9, 30, tzinfo=PARIS),
            dt.datetime(2022, 4, 1, 12, 15, tzinfo=PARIS),
            "vendredi 1er avril 2022, 9h30–12h15",
        ),
        (dt.date(2022, 4, 7), dt.date(2022, 4, 7), "jeudi 7 avril 2022"),
        (dt.date(2022, 9, 1), dt.date(2023, 1, 31), "du jeudi 1er septembre 2022 au mardi 31 janvier 2023"),
        (
            dt.datetime(2018, 11, 26, 10, tzinfo=PARIS),
            dt.datetime(2018, 11, 27, 17, tzinfo=PARIS),
            "du lundi 26 novembre 2018, 10h au mardi 27 novembre 2018, 17h",
        ),
    ],
)
def test_the_card_writes_the_date_in_french(start, end, expected: str) -> None:
    assert when_text(session(start=start, end=end)) == expected


def test_the_card_in_html_and_text() -> None:
    visio = session(
        title="Atelier <b>&</b>",
        start=dt.datetime(2022, 4, 7, 14, tzinfo=PARIS),
        end=dt.datetime(2022, 4, 7, 16, tzinfo=PARIS),
        location="En visio",
        online="https://visio.example.org/a?b=1&c=2",
    )
    html, text = session_card(Settings(), visio)
    assert (
        "<mj-" not in html
        and html.startswith('<div class="tp-card" style=')
        and "Atelier &lt;b&gt;&amp;&lt;/b&gt;" in html
    )
    assert 'href="https://visio.example.org/a?b=1&amp;c=2"' in html and "Rejoindre la visio" in html
    assert "jeudi 7 avril 2022, 14h–16h" in html and '<span aria-hidden="true">📍 </span>En visio' in html
    for label in ("Fichier .ics", "Google Agenda", "Outlook"):
        assert f">{label}</a>" in html and f"- {label}\u00a0: https://" in text
    assert "Visio\u00a0: https://visio.example.org/a?b=1&c=2" in text and "Lieu\u00a0: En visio" in text
    cancelled, cancelled_text = session_card(Settings(), session(status=Status.CANCELLED))
    assert "ANNULÉ – Séance" in cancelled and "<s>jeudi 7 avril 2022</s>" in cancelled
    assert "Ajouter à mon agenda" not in cancelled and "Ajouter à mon agenda" not in cancelled_text
    assert "Rendez-vous à confirmer" in session_card(Settings(), session(status=Status.TENTATIVE))[0]


@pytest.mark.parametrize(
    "rule, text",
    [
        ("FREQ=MONTHLY;BYDAY=1TU", "chaque premier mardi du mois"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "chaque dernier vendredi du mois"),
        ("FREQ=WEEKLY;BYDAY=MO,TH", "chaque lundi et jeudi"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", "un mercredi sur 2"),
        ("FREQ=MONTHLY;BYMONTHDAY=1;COUNT=6", "le 1er de chaque mois, 6 fois"),
        ("FREQ=DAILY;UNTIL=20221231T000000Z", "chaque jour, jusqu’au 31 décembre 2022"),
        ("FREQ=YEARLY", "chaque année"),
        ("FREQ=HOURLY", "régulièrement"),
    ],
)
def test_recurrences_in_french(rule: str, text: str) -> None:
    assert recurrence_text(rule) == text


# --- escaping and folding ------------------------------------------------------------------------

HOSTILE = 'Atelier, « citoyen » ; suite \\ "guillemets" 🎉👩‍👩‍👧 ' + "é" * 120 + " fin, vraiment;"
TYPESET = (
    "Atelier, «\u202fcitoyen\u202f»\u202f; suite \\ «\u202fguillemets\u202f» 🎉👩‍👩‍👧 "
    + "é" * 120
    + " fin, vraiment\u202f;"
)


def test_a_hostile_title_is_escaped_and_folded_at_75_octets_without_cutting_a_character(make_project) -> None:
    assert len(HOSTILE) >= 160
    title = HOSTILE.replace("'", "''")
    root = make_project(
        {
            "issues/001.md": with_sessions(
                f"id: h\ntitle: '{title}'\nstart: 2022-04-07 14:00\nduration: 1h\ndescription: '{title}'"
            )
        }
    )
    calendars = build(root)
    for path in (calendars / "sessions" / "h.ics", calendars / "agenda.ics"):
        data = path.read_bytes()
        assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
        lines = data.split(b"\r\n")[:-1]
        assert max(len(line) for line in lines) <= 75
        for line in lines:
            line.decode("utf-8")  # no line ends inside a character
        unfolded = data.replace(b"\r\n ", b"").decode("utf-8")
        assert (
            "\nSUMMARY:Atelier\\, «\u202fcitoyen\u202f»\u202f\\; suite \\\\ «\u202fguillemets\u202f» 🎉👩‍👩‍👧 "
            in unfolded.replace("\r\n", "\n")
        )
        assert str(event(path, "h@")["summary"]) == TYPESET  # escaped and folded, read back whole
        assert str(event(path, "h@")["description"]).startswith(TYPESET)
    html = (root / "dist" / "email" / "001.html").read_text(encoding="utf-8")
    assert "«\u202fguillemets\u202f»" in html


# --- rebuilds: same bytes, SEQUENCE, cancellation --------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    paths = [*(root / "dist" / "calendars").rglob("*.ics"), root / "calendars" / "published.json"]
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


def test_a_rebuild_with_no_change_changes_no_byte(make_project) -> None:
    root = make_project(
        {
            "issues/001.md": with_sessions(
                "id: a\ntitle: A\nstart: 2022-04-07 14:00\nduration: 2h", "title: B\nstart: 2022-04-08"
            )
        }
    )
    build(root)
    first = snapshot(root)
    build(root)
    assert snapshot(root) == first
    (root / "dist" / ".calendars.json").unlink()  # render everything again: same bytes, files untouched
    (root / "dist" / ".build-state.pickle").unlink()
    build(root)
    assert snapshot(root) == first


def test_moving_then_cancelling_a_session_raises_its_sequence_and_keeps_its_uid(make_project) -> None:
    block = "id: agora\ntitle: Agora\nstart: 2022-04-28 14:00\nduration: 2h\nlocation: Paris"
    root = make_project({"issues/001.md": with_sessions(block, "id: autre\ntitle: Autre\nstart: 2022-05-02")})
    issue = root / "issues" / "001.md"
    agora = build(root) / "sessions" / "agora.ics"
    assert int(event(agora)["sequence"]) == 0

    issue.write_text(
        issue.read_text(encoding="utf-8").replace("2022-04-28 14:00", "2022-04-28 15:00"), encoding="utf-8"
    )
    build(root)
    moved = event(agora)
    assert str(moved["uid"]) == "agora@example.org" and int(moved["sequence"]) == 1
    assert utc(moved) == dt.datetime(2022, 4, 28, 13, tzinfo=UTC)
    assert int(event(root / "dist" / "calendars" / "agenda.ics", "agora@")["sequence"]) == 1
    assert int(event(root / "dist" / "calendars" / "sessions" / "autre.ics")["sequence"]) == 0  # untouched

    build(root)
    assert int(event(agora)["sequence"]) == 1  # no change, no raise

    issue.write_text(
        issue.read_text(encoding="utf-8").replace("location: Paris", "location: Paris\nstatus: cancelled"),
        encoding="utf-8",
    )
    build(root)
    for path in (agora, root / "dist" / "calendars" / "agenda.ics"):
        cancelled = event(path, "agora@")
        assert str(cancelled["uid"]) == "agora@example.org" and int(cancelled["sequence"]) == 2
        assert str(cancelled["status"]) == "CANCELLED" and str(cancelled["summary"]) == "ANNULÉ – Agora"
        assert cancelled.walk("VALARM") == []
    assert '"agora": {"sequence": 2,' in (root / "calendars" / "published.json").read_text(encoding="utf-8")

    # another machine: a fresh checkout has the committed state, not dist/
    import shutil

    shutil.rmtree(root / "dist")
    build(root)
    assert int(event(agora)["sequence"]) == 2


def test_a_later_issue_announcing_the_same_id_updates_the_session(make_project) -> None:
    first = with_sessions("id: atelier\ntitle: Atelier\nstart: 2022-04-28 14:00\nduration: 2h", date="2022-04-01")
    second = with_sessions(
        "id: atelier\ntitle: Atelier (nouvel horaire)\nstart: 2022-04-28 16:00\nduration: 2h",
        date="2022-04-20",
        number=2,
    )
    root = make_project({"issues/001.md": first, "issues/002.md": second})
    agenda = build(root) / "agenda.ics"
    one = event(agenda, "atelier@")
    assert str(one["summary"]) == "Atelier (nouvel horaire)" and utc(one) == dt.datetime(2022, 4, 28, 14, tzinfo=UTC)
    assert one.decoded("dtstamp") == dt.datetime(2022, 4, 20, 6, tzinfo=UTC)


def test_sessions_gone_or_in_drafts_are_not_published(make_project) -> None:
    root = make_project(
        {
            "issues/001.md": with_sessions("id: a\ntitle: A\nstart: 2022-04-07", "id: b\ntitle: B\nstart: 2022-04-08"),
            "issues/002.md": with_sessions("id: c\ntitle: C\nstart: 2022-04-09", number=2, extra="draft: true\n"),
        }
    )
    calendars = build(root)
    assert sorted(p.stem for p in (calendars / "sessions").glob("*.ics")) == ["a", "b"]
    issue = root / "issues" / "001.md"
    text = issue.read_text(encoding="utf-8")
    issue.write_text(text[: text.index("```session\nid: b")], encoding="utf-8")
    build(root)
    assert sorted(p.stem for p in (calendars / "sessions").glob("*.ics")) == ["a"]
    assert [str(e["uid"]) for e in read(calendars / "agenda.ics").walk("VEVENT")] == ["a@example.org"]


def test_an_issue_with_an_error_leaves_the_last_calendars_as_they_were(make_project) -> None:
    root = make_project(
        {
            "issues/001.md": with_sessions("id: a\ntitle: A\nstart: 2022-04-07"),
            "issues/002.md": with_sessions("id: b\ntitle: B\nstart: 2022-04-09", number=2),
        }
    )
    build(root)
    before = snapshot(root)
    second = root / "issues" / "002.md"
    second.write_text(second.read_text(encoding="utf-8").replace("2022-04-09", "2022-04-31"), encoding="utf-8")
    result = run("build", "-C", str(root))
    assert result.exit_code == 1 and "002.md:" in result.output
    assert snapshot(root) == before


def test_a_merge_conflict_in_the_state_is_an_error_at_its_line(make_project) -> None:
    root = make_project({"issues/001.md": with_sessions("id: a\ntitle: A\nstart: 2022-04-07")})
    build(root)
    state = root / "calendars" / "published.json"
    lines = state.read_text(encoding="utf-8").split("\n")
    lines[3:3] = ["<<<<<<< HEAD", '  "a": {"sequence": 1, "digest": "0"}', "=======", ">>>>>>> autre"]
    state.write_text("\n".join(lines), encoding="utf-8")
    issue = root / "issues" / "001.md"
    issue.write_text(issue.read_text(encoding="utf-8").replace("2022-04-07", "2022-04-08"), encoding="utf-8")
    result = run("build", "-C", str(root))
    assert result.exit_code == 1
    assert f"{state}:4: erreur : conflit de fusion" in result.output


def test_the_repository_state_is_up_to_date_with_the_sample_issues(repo_build: Path) -> None:
    """The committed calendars/published.json already holds what the sample issues publish."""
    text = (ROOT / "calendars" / "published.json").read_text(encoding="utf-8")
    for path in (repo_build / "calendars" / "sessions").glob("*.ics"):
        assert f'"{path.stem}": {{"sequence": 0,' in text


def test_serialised_gives_icalendars_bytes_for_lines_at_every_length_around_the_fold() -> None:
    """The fast path skips icalendar's fold for short lines only: around 75 octets, with accents,
    emoji and the escapes that a fold must not split, the bytes are icalendar's own."""
    import random

    from newsletter.render.calendar import serialised

    pieces = ["a", "é", "—", "🗣️", "\\", ",", ";", " ", "^"]
    randomly = random.Random(11)
    for length in range(60, 90):
        for _ in range(8):
            text = "".join(randomly.choice(pieces) for _ in range(length))
            event = icalendar.Event()
            event.add("summary", text)
            event.add("description", "x" * (length - len("DESCRIPTION:")))
            event.add("url", "https://example.org/" + "p" * length)
            assert serialised(event) == event.to_ical(), (length, text)
