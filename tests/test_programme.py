"""Programmes in calendars/: seed 002 as the Journées des Territoires, and what the format refuses."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from click.testing import CliRunner
from conftest import DATA, ROOT, issue_text

from newsletter.cli import cli
from newsletter.errors import SourceError
from newsletter.parse.programme import parse_programme

PARIS = ZoneInfo("Europe/Paris")
PROGRAMME = ROOT / "calendars" / "journees-des-territoires-2018.md"
SEED = DATA / "seeds" / "002_c1e417da218e518a.txt"

EXPECTED = [
    ("2018-11-26", "10:00", "10:30", "Ouverture"),
    ("2018-11-26", "10:30", "11:30", "Les territoires se racontent : partageons nos expériences !"),
    ("2018-11-26", "11:30", "12:30", "Apéro partagé"),
    ("2018-11-26", "12:30", "13:45", "Déjeuner au self de la Halle Pajol"),
    ("2018-11-26", "13:45", "15:15", "Ateliers"),
    ("2018-11-26", "15:15", "15:30", "Transitions et dynamiques territoriales"),
    ("2018-11-26", "15:30", "17:15", "Politiques publiques, engagement citoyen et transitions territoriales"),
    ("2018-11-27", "09:00", "09:15", "Accueil"),
    ("2018-11-27", "09:15", "11:15", "Ateliers de réflexion et d’échange"),
    (
        "2018-11-27",
        "11:15",
        "12:15",
        "Table ronde : Renouveler les relations entre acteurs des territoires : vers une ingénierie de la coopération ?",
    ),
    ("2018-11-27", "12:15", "13:30", "Repas"),
    ("2018-11-27", "13:30", "16:00", "Ateliers : Mettre en pratique de nouvelles méthodes, postures et compétences…"),
    (
        "2018-11-27",
        "16:00",
        "17:00",
        "Table ronde conclusive : Les métiers et pratiques du développement territorial en question : des pistes pour demain !",
    ),
]


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def programme(text: str, tmp_path: Path, name: str = "prog.md"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_programme(path, PARIS)


FRONT = "---\ntitle: Journées\nyear: 2018\n---\n"


# --- seed 002 -----------------------------------------------------------------------------------


def test_seed_002_yields_every_slot_of_both_days_with_its_start_and_end() -> None:
    found, warnings = parse_programme(PROGRAMME, PARIS)
    assert warnings == []
    assert (found.id, found.title) == ("journees-des-territoires-2018", "Journées des Territoires")
    assert found.location == "Halle Pajol, 20 esplanade Nathalie Sarraute, 75018 Paris"
    assert [(d.date, d.title) for d in found.days] == [
        (dt.date(2018, 11, 26), "Rencontre des territoires"),
        (dt.date(2018, 11, 27), "Les transformations de l’ingénierie territoriale"),
    ]
    slots = [(s.start.date().isoformat(), f"{s.start:%H:%M}", f"{s.end:%H:%M}", s.title) for s in found.slots]
    assert slots == EXPECTED
    assert all(s.start.tzinfo is PARIS and s.start.utcoffset() == dt.timedelta(hours=1) for s in found.slots)


def test_every_time_of_the_seed_is_a_slot_or_the_end_of_one() -> None:
    """The seed's own timed lines (« 10h00 – Ouverture », « 17h15 Fin des travaux »), day by day."""
    text = SEED.read_text(encoding="utf-8")
    first, second = text.split("\n27 Novembre :")
    seed_times = [
        sorted({f"{int(h):02d}:{m}" for h, m in re.findall(r"^(\d{1,2})h(\d{2})", part, re.M)})
        for part in (first, second)
    ]
    found, _ = parse_programme(PROGRAMME, PARIS)
    ours = [sorted({f"{s.start:%H:%M}" for s in day.slots} | {f"{day.slots[-1].end:%H:%M}"}) for day in found.days]
    assert seed_times[0] == ours[0]  # the closing « 17h15 Fin des travaux » included
    assert seed_times[1] == ours[1][:-1] and ours[1][-1] == "17:00"  # the seed gives no end: one hour


def test_parallel_workshops_belong_to_their_slot() -> None:
    found, _ = parse_programme(PROGRAMME, PARIS)
    workshops = {s.title: [w.title for w in s.workshops] for s in found.slots if s.workshops}
    assert [len(titles) for titles in workshops.values()] == [5, 6, 6]
    assert (
        workshops["Ateliers"][0]
        == "La coopération entre collectivités, acteurs socio-économiques et partenaires institutionnels au cœur des transitions"
    )
    assert (
        workshops["Ateliers de réflexion et d’échange"][-1]
        == "Valoriser autrement les ressources individuelles et collectives des territoires"
    )
    assert (
        "Aller vers les habitant·es"
        in workshops["Ateliers : Mettre en pratique de nouvelles méthodes, postures et compétences…"]
    )
    event = next(e for e in found.events() if e.title == "Journées des Territoires : Ateliers")
    assert (
        "Ateliers en parallèle :" in event.description
        and "– Renouveler la gouvernance : quelles méthodologies ? Quelles postures des Élus ?" in event.description
    )


def test_the_year_fits_the_weekdays_and_the_file_says_why() -> None:
    text = PROGRAMME.read_text(encoding="utf-8")
    assert "## Lundi 26 novembre" in text and "## Mardi 27 novembre" in text and "year: 2018" in text
    assert re.search(r"^# L’année : .*2018", text, re.M)


def test_the_programme_calendar_holds_the_whole_event_and_every_slot(repo_build: Path) -> None:
    calendar = icalendar.Calendar.from_ical(
        (repo_build / "calendars" / "journees-des-territoires-2018.ics").read_bytes()
    )
    events = calendar.walk("VEVENT")
    assert len(events) == 1 + len(EXPECTED)
    whole = events[0]
    assert whole.decoded("dtstart") == dt.date(2018, 11, 26) and whole.decoded("dtend") == dt.date(2018, 11, 28)
    starts = [
        (e.decoded("dtstart").astimezone(PARIS).strftime("%Y-%m-%d %H:%M"), e.decoded("dtend").strftime("%H:%M"))
        for e in events[1:]
    ]
    assert starts == [(f"{day} {start}", end) for day, start, end, _ in EXPECTED]
    assert str(calendar["x-wr-calname"]) == "Journées des Territoires"
    assert all(str(e["location"]).startswith("Halle Pajol") for e in events)


# --- the format -----------------------------------------------------------------------------------


def test_a_slot_ends_when_the_next_begins_unless_it_says_otherwise(tmp_path: Path) -> None:
    found, _ = programme(
        FRONT + "\n## lundi 26 novembre\n\n### 9h – Accueil\n\n### 9h30–10h – Café {#cafe}\n\n### 10h15 – Plénière\n\n"
        "### 12h Fin de la matinée\n\n### 14h – Visite\n",
        tmp_path,
    )
    assert [(s.id, f"{s.start:%H:%M}", f"{s.end:%H:%M}") for s in found.slots] == [
        ("prog-2018-11-26-accueil", "09:00", "09:30"),
        ("cafe", "09:30", "10:00"),
        ("prog-2018-11-26-pleniere", "10:15", "12:00"),
        ("prog-2018-11-26-visite", "14:00", "15:00"),
    ]


def test_iso_days_a_year_in_the_heading_and_standalone_sessions(tmp_path: Path) -> None:
    found, _ = programme(
        "---\ntitle: Rencontres\nid: rencontres\ndate: 2022-01-10\n---\n\n## 2022-03-27 – Dimanche\n\n### 10h – Ouverture\n\n"
        "## mercredi 30 mars 2022\n\n### 14h – Clôture\n\n```session\ntitle: Visio de préparation\nstart: 2022-03-01 18:00\nduration: 1h\n```\n",
        tmp_path,
    )
    assert [d.date for d in found.days] == [dt.date(2022, 3, 27), dt.date(2022, 3, 30)]
    assert found.days[0].title == "Dimanche" and found.published == dt.date(2022, 1, 10)
    (session,) = found.sessions
    assert session.id == "rencontres-visio-de-preparation" and session.published == dt.date(2022, 1, 10)
    assert [e.id for e in found.events()][-1] == session.id and found.events()[-1].programme == "rencontres"


PROGRAMME_REFUSALS = [
    ("title: X\n---\n\n## lundi 26 novembre\n", 5, "année manquante pour « lundi 26 novembre »"),
    ("title: X\nyear: deux mille\n---\n", 3, "année illisible « deux mille »"),
    ("year: 2018\n---\n", 1, "il manque « title »"),
    ("title: X\nlieu: Paris\n---\n", 3, "champ d’en-tête inconnu « lieu »"),
    ("title: X\nid: agenda\n---\n", 3, "id « agenda » réservé"),
    ("title: X\nurl: www.example.org\n---\n", 3, "« url » doit être une adresse web complète"),
    ("title: X\nurl: https://example.org/a\\b\n---\n", 3, "« url » : le caractère « \\ » n’a pas sa place"),
    (
        "title: X\nyear: 2018\n---\n\n## mardi 26 novembre\n",
        6,
        "« mardi 26 novembre » : le 26 novembre 2018 est un lundi",
    ),
    ("title: X\nyear: 2018\n---\n\n## 31 novembre\n", 6, "date impossible « 31 novembre »"),
    ("title: X\nyear: 2018\n---\n\n## demain\n", 6, "jour illisible"),
    ("title: X\nyear: 2018\n---\n\n## 26 & 27 novembre\n", 6, "un seul jour par titre"),
    ("title: X\nyear: 2018\n---\n\n## 27 novembre\n\n## 26 novembre\n", 8, "mettez les jours dans l’ordre"),
    ("title: X\nyear: 2018\n---\n\n### 10h – Ouverture\n", 6, "créneau avant le premier jour"),
    ("title: X\nyear: 2018\n---\n\n## 26 novembre\n\n### Ouverture\n", 8, "créneau sans heure « Ouverture »"),
    ("title: X\nyear: 2018\n---\n\n## 26 novembre\n\n### 10h\n", 8, "créneau sans titre"),
    (
        "title: X\nyear: 2018\n---\n\n## 26 novembre\n\n### 10h – A\n\n### 9h – B\n",
        10,
        "créneau de 9h00 avant le précédent",
    ),
    ("title: X\nyear: 2018\n---\n\n## 26 novembre\n\n### 10h – A\n\n### 10h – B\n", 10, "deux créneaux à 10h00"),
    (
        "title: X\nyear: 2018\n---\n\n## 26 novembre\n\n### 10h – A\n\n### 10h – A\n\n### 11h – A\n",
        10,
        "deux créneaux à 10h00",
    ),
    (
        "title: X\nyear: 2018\n---\n\n## 26 novembre\n\n### 10h – A\n\n### 11h – B\n\n### 12h – A\n",
        12,
        "deux créneaux du même titre",
    ),
    ("title: X\nyear: 2018\n---\n\n## 26 novembre\n\n### 11h–10h – A\n", 8, "finit avant de commencer"),
    ("title: X\nyear: 2018\n---\n\n## 26 novembre\n\n### 17h Fin des travaux\n", 8, "sans créneau à terminer"),
    ("title: X\nyear: 2018\n---\n\n## 26 novembre\n\n#### Atelier\n", 8, "atelier hors d’un créneau"),
    ("title: X\nyear: 2018\n---\n\n## 26 novembre\n\n##### Détail\n", 8, "titre de ce niveau inconnu"),
    ("title: X\nyear: 2022\n---\n\n## 27 mars\n\n### 2h30 – Nuit\n", 8, "2h30 n’existe pas le 2022-03-27"),
    ("title: X\n---\n\n```session\ntitle: A\nstart: 2022-02-30\n```\n", 7, "date impossible « 2022-02-30 »"),
    ("title: X\n---\n\n```session\ntitle: A\n", 5, "bloc « ``` » ouvert ici et jamais fermé"),
    ("title: X\n---\n\n```python\nprint()\n```\n", 5, "seuls les blocs « ```session » (ou « ```séance ») sont permis"),
    ("title: X: Y\n---\n", 2, "YAML invalide"),
]


@pytest.mark.parametrize("front_and_body, line, message", PROGRAMME_REFUSALS)
def test_a_programme_error_is_one_error_at_its_line(
    front_and_body: str, line: int, message: str, tmp_path: Path
) -> None:
    with pytest.raises(SourceError) as raised:
        programme("---\n" + front_and_body, tmp_path)
    assert raised.value.line == line, str(raised.value)
    assert message in raised.value.message, raised.value.message
    assert str(raised.value).startswith(f"{tmp_path / 'prog.md'}:{line}: ")


def test_without_front_matter_the_file_is_refused_at_line_1(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as raised:
        programme("## lundi 26 novembre 2018\n", tmp_path)
    assert raised.value.line == 1 and "en-tête YAML absent" in raised.value.message


def test_a_bad_programme_stops_build_and_check_with_one_line_and_no_calendar(make_project) -> None:
    ok = issue_text("## À suivre\n\nRien.\n")
    root = make_project(
        {"issues/001.md": ok, "calendars/jt.md": "---\ntitle: X\nyear: 2018\n---\n\n## mardi 26 novembre\n"}
    )
    build = run("build", "-C", str(root))
    assert build.exit_code == 1
    errors = [line for line in build.output.splitlines() if ": erreur :" in line]
    assert errors == [
        f"{root / 'calendars' / 'jt.md'}:6: erreur : « mardi 26 novembre » : le 26 novembre 2018 est un lundi"
    ]
    assert not (root / "dist" / "calendars").exists()
    check = run("check", "-C", str(root))
    assert check.exit_code == 1 and errors[0] in check.output


def test_a_programme_that_takes_an_issue_session_id_is_refused(make_project) -> None:
    issue = issue_text(
        "## À suivre\n\nLa journée.\n\n```session\nid: jt\ntitle: Journées\nstart: 2018-11-26\n```\n", date="2018-10-01"
    )
    root = make_project(
        {
            "issues/001.md": issue,
            "calendars/jt.md": "---\ntitle: Journées\n---\n\n## lundi 26 novembre 2018\n\n### 10h – A\n",
        }
    )
    build = run("build", "-C", str(root))
    assert build.exit_code == 1
    assert f"{root / 'calendars' / 'jt.md'}:1: erreur : id « jt » déjà pris (001.md, ligne" in build.output


def test_readme_and_hidden_files_of_calendars_are_not_programmes(make_project) -> None:
    root = make_project(
        {
            "issues/001.md": issue_text("## À suivre\n\nRien.\n"),
            "calendars/README.md": "# Notes\n",
            "calendars/.brouillon.md": "x",
        }
    )
    assert run("build", "-C", str(root)).exit_code == 0
    assert sorted(p.name for p in (root / "dist" / "calendars").glob("*.ics")) == ["agenda.ics"]
