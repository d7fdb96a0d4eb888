"""The web archive: index.html and one real HTML page per published issue, linked together."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from conftest import MINIMAL_BODY, issue_text
from support.htmldoc import Element, parse_html
from test_feed import HOSTILE_BODY, build_project

from newsletter.pipeline import build
from newsletter.project import load_project
from newsletter.render.web import ArchiveEntry, archive_entry, session_links
from newsletter.settings import Settings

BASE = Settings().base_url
SLUGS = ("003", "002", "001")


def page(dist: Path, relative: str) -> Element:
    return parse_html((dist / relative).read_text(encoding="utf-8"))[0]


def links(root: Element, **attributes: str) -> list[Element]:
    return [a for a in root.iter("a") if all(a.attrs.get(k) == v for k, v in attributes.items())]


def target(dist: Path, relative: str, href: str) -> Path:
    """The file a relative link of the page `relative` points to."""
    return (dist / relative).parent.joinpath(href).resolve()


def test_every_published_issue_has_its_page_at_the_online_version_address(repo_build: Path) -> None:
    for slug in SLUGS:
        assert (repo_build / "numeros" / slug / "index.html").is_file()
    # « Voir la version en ligne » in the email points to that page
    email = (repo_build / "email" / "001.html").read_text(encoding="utf-8")
    assert f'href="{BASE}/numeros/001/"' in email
    canonical = [
        link for link in page(repo_build, "numeros/001/index.html").iter("link") if link.attrs.get("rel") == "canonical"
    ]
    assert canonical[0].attrs["href"] == f"{BASE}/numeros/001/"


def test_index_lists_issues_newest_first_with_french_date_and_summary(repo_build: Path) -> None:
    root = page(repo_build, "index.html")
    articles = list(root.iter("article"))
    assert [a.find_all("a")[0].attrs["href"] for a in articles] == [f"numeros/{s}/index.html" for s in SLUGS]
    assert [a.find_all("time")[0].text for a in articles] == ["25 août 2022", "28 juillet 2022", "31 mars 2022"]
    assert "Le référentiel Villes pairs, et un commun de méthodes" in articles[0].text
    assert "n°2 – Faire équipe à quatre" in articles[1].text
    for article in articles:
        assert target(repo_build, "index.html", article.find_all("a")[0].attrs["href"]).is_file()


def test_pages_link_to_their_neighbours_and_back_to_the_index(repo_build: Path) -> None:
    middle = "numeros/002/index.html"
    root = page(repo_build, middle)
    previous, following = links(root, rel="prev"), links(root, rel="next")
    assert target(repo_build, middle, previous[0].attrs["href"]) == (repo_build / "numeros/001/index.html").resolve()
    assert target(repo_build, middle, following[0].attrs["href"]) == (repo_build / "numeros/003/index.html").resolve()
    assert "n°1 – Comprendre, réfléchir, agir" in previous[0].text
    back = [a for a in root.iter("a") if a.text == "Tous les numéros"]
    assert back and all(
        target(repo_build, middle, a.attrs["href"]) == (repo_build / "index.html").resolve() for a in back
    )
    assert links(page(repo_build, "numeros/003/index.html"), rel="next") == []
    assert links(page(repo_build, "numeros/001/index.html"), rel="prev") == []


def test_every_page_is_french_mobile_friendly_and_announces_the_feed(repo_build: Path) -> None:
    for relative in ["index.html", *(f"numeros/{s}/index.html" for s in SLUGS)]:
        root = page(repo_build, relative)
        assert root.find_all("html")[0].attrs["lang"] == "fr"
        metas = {m.attrs.get("name"): m.attrs.get("content") for m in root.iter("meta")}
        assert metas["viewport"] == "width=device-width, initial-scale=1"
        alternate = [link for link in root.iter("link") if link.attrs.get("rel") == "alternate"]
        assert [(link.attrs["type"], link.attrs["href"]) for link in alternate] == [
            ("application/rss+xml", f"{BASE}/feed.xml")
        ]
        sheet = next(link for link in root.iter("link") if link.attrs.get("rel") == "stylesheet")
        assert target(repo_build, relative, sheet.attrs["href"]) == (repo_build / "style.css").resolve()
    assert "max-width: 100%" in (repo_build / "style.css").read_text(encoding="utf-8")


def test_pages_offer_the_feed_and_the_agenda_subscription(repo_build: Path) -> None:
    root = page(repo_build, "numeros/001/index.html")
    hrefs = {a.attrs.get("href") for a in root.iter("a")}
    assert f"{BASE}/feed.xml" in hrefs
    assert "webcal://example.org/territoires-pilotes/calendars/agenda.ics" in hrefs
    assert "../../calendars/agenda.ics" in hrefs


def test_issue_page_is_a_web_page_with_the_whole_issue_not_the_email(repo_build: Path) -> None:
    html = (repo_build / "numeros" / "001" / "index.html").read_text(encoding="utf-8")
    root = page(repo_build, "numeros/001/index.html")
    assert "mj-" not in html and "style=" not in html and "role=" not in html
    body = root.find_all("body")[0]
    assert [child.tag for child in body.children if not isinstance(child, str)] == ["header", "main", "footer"]
    assert root.find_all("h1")[0].text == "Comprendre, réfléchir, agir"
    headings = [h.text for h in root.iter("h2")]
    assert "🗣️ Édito\u00a0: Comprendre, réfléchir, agir" in headings
    assert "👉 Inspiration par Territoires Audacieux…" in headings
    sections = {s.attrs.get("id") for s in root.iter("section")}
    assert {"edito", "en-theorie", "a-suivre", "inspiration"} <= sections
    assert "Une rubrique pour revenir sur les apprentissages donnés" in root.text
    assert "%%" not in html  # no personalisation mark leaks


def test_a_page_has_none_of_the_raw_html_active(make_project) -> None:
    dist = build_project(make_project, {"issues/001.md": issue_text(HOSTILE_BODY)})
    for relative in ("numeros/001/index.html", "index.html"):
        root = page(dist, relative)
        assert list(root.iter("script")) == [] and list(root.iter("iframe")) == [] and list(root.iter("style")) == []
        for element in root.iter():
            assert not [name for name in element.attrs if name.startswith("on") or name == "style"], element.tag
            for name in ("href", "src"):
                value = element.attrs.get(name, "")
                assert urlsplit(value.strip()).scheme in ("", "http", "https", "webcal", "mailto"), value
    text = (dist / "numeros/001/index.html").read_text(encoding="utf-8")
    assert "Texte gardé" in text and "]]&gt;" in text and "javascript" not in text.lower()


def test_drafts_have_no_page_and_a_page_goes_when_its_issue_becomes_a_draft(make_project) -> None:
    root = make_project(
        {
            "issues/001.md": issue_text(MINIMAL_BODY, number=1),
            "issues/002.md": issue_text(MINIMAL_BODY, number=2, date="2022-04-28", title="Deux"),
        }
    )
    project = load_project(root)
    build(project, root / "dist")
    assert (root / "dist" / "numeros" / "002" / "index.html").is_file()
    path = root / "issues" / "002.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace('title: "Deux"\n', 'title: "Deux"\ndraft: true\n'), encoding="utf-8"
    )
    build(project, root / "dist")
    assert not (root / "dist" / "numeros" / "002").exists()
    assert "Deux" not in (root / "dist" / "index.html").read_text(encoding="utf-8")
    assert links(page(root / "dist", "numeros/001/index.html"), rel="next") == []


def test_a_new_issue_updates_its_neighbour_and_the_index_without_rendering_the_others(make_project) -> None:
    root = make_project({"issues/001.md": issue_text(MINIMAL_BODY, number=1)})
    project = load_project(root)
    build(project, root / "dist")
    entry = root / "dist" / ".archive" / "001.json"
    stamp = entry.stat().st_mtime_ns
    (root / "issues" / "002.md").write_text(
        issue_text(MINIMAL_BODY, number=2, date="2022-04-28", title="Deux"), encoding="utf-8"
    )
    report = build(project, root / "dist")
    assert report.built == ["002"]
    assert entry.stat().st_mtime_ns == stamp  # n°1's Markdown was not converted again
    assert (
        links(page(root / "dist", "numeros/001/index.html"), rel="next")[0].attrs["href"]
        == "../../numeros/002/index.html"
    )


def test_a_rebuild_that_changes_nothing_rewrites_no_archive_file(make_project) -> None:
    root = make_project({"issues/001.md": issue_text(MINIMAL_BODY, number=1)})
    project = load_project(root)
    build(project, root / "dist")
    files = [
        root / "dist" / name
        for name in ("index.html", "feed.xml", "style.css", "numeros/001/index.html", "feeds/edito.xml")
    ]
    stamps = [path.stat().st_mtime_ns for path in files]
    build(project, root / "dist")
    assert [path.stat().st_mtime_ns for path in files] == stamps
    (root / "dist" / "feed.xml").unlink()
    build(project, root / "dist")
    assert (root / "dist" / "feed.xml").is_file()


def test_a_project_can_override_the_page_templates(make_project) -> None:
    override = '{% extends "web/base.html" %}{% block main %}<p>Maison n°{{ entry.number }}</p>{% endblock %}\n'
    dist = build_project(
        make_project, {"issues/001.md": issue_text(MINIMAL_BODY), "templates/web/issue.html": override}
    )
    html = (dist / "numeros" / "001" / "index.html").read_text(encoding="utf-8")
    assert "<p>Maison n°1</p>" in html and 'rel="alternate"' in html


def test_a_broken_page_template_is_one_located_error_and_writes_no_archive(make_project) -> None:
    root = make_project({"issues/001.md": issue_text(MINIMAL_BODY), "templates/web/index.html": "{% for x in %}\n"})
    report = build(load_project(root), root / "dist")
    assert report.failed
    problem = next(p for p in report.problems if p.is_error)
    assert problem.path == root / "templates" / "web" / "index.html" and problem.line == 1
    assert "modèle de page invalide" in problem.message
    assert not (root / "dist" / "feed.xml").exists() and not (root / "dist" / "numeros").exists()


def test_archive_entries_survive_their_json_round_trip(make_project) -> None:
    root = make_project({"issues/001.md": issue_text(MINIMAL_BODY)})
    project = load_project(root)
    entry = archive_entry(project.settings, project.issues()[0])
    assert ArchiveEntry.from_json(entry.to_json()) == entry
    assert entry.url == f"{BASE}/numeros/001/" and entry.date_fr == "31 mars 2022"
    assert re.search(r"Première phrase de l’édito", entry.sections[0]["html"])
    # each text once: the page's content is rendered from the sections when a page or feed shows it
    assert entry.to_json().count("<p>Première phrase de l’édito") == 1


def test_issue_pages_carry_the_calendar_links_of_their_sessions(repo_build: Path) -> None:
    issue = load_project(Path(__file__).resolve().parent.parent).issue(2)
    sessions = session_links(load_project(Path(__file__).resolve().parent.parent).settings, issue)
    assert sessions and sessions[0]["links"]
    hrefs = {a.attrs.get("href") for a in page(repo_build, "numeros/002/index.html").iter("a")}
    for link in sessions[0]["links"]:
        assert link["url"] in hrefs


def test_a_broken_issue_template_is_reported_on_its_file(make_project) -> None:
    root = make_project(
        {"issues/001.md": issue_text(MINIMAL_BODY), "templates/web/section.html": "{{ section.html( }}\n"}
    )
    report = build(load_project(root), root / "dist")
    problems = [p for p in report.problems if p.is_error]
    assert [(p.path, p.line) for p in problems] == [(root / "templates" / "web" / "section.html", 1)]
    assert "modèle de page invalide" in problems[0].message
    assert not (root / "dist" / "numeros" / "001").exists()


def test_a_damaged_or_missing_archive_entry_is_made_again(make_project) -> None:
    root = make_project({"issues/001.md": issue_text(MINIMAL_BODY)})
    project = load_project(root)
    build(project, root / "dist")
    entry = root / "dist" / ".archive" / "001.json"
    text = entry.read_text(encoding="utf-8")
    entry.write_text(
        text[: len(text) // 2] + text[text.index('"source_hash"') :], encoding="utf-8"
    )  # broken JSON, same hash
    (root / "dist" / "feed.xml").unlink()
    assert not build(project, root / "dist").failed
    assert entry.read_text(encoding="utf-8") == text
    assert "Première phrase de l’édito" in (root / "dist" / "feed.xml").read_text(encoding="utf-8")


def test_sessions_and_their_calendar_links_show_on_the_page(make_project) -> None:
    """Timed, multi-day and cancelled sessions: their day in French on the page, links but for the cancelled."""
    from newsletter.render.calendar_links import session_links as links_of

    body = """
        ## À suivre

        La journée du jeudi 7 avril 2022.

        ```session
        id: journee-1
        title: Journée <des> territoires
        start: 2022-04-07 14:30
        end: 2022-04-07 16:00
        ```

        ```session
        id: j2
        title: Deux jours
        start: 2022-11-26
        end: 2022-11-27
        ```

        ```session
        id: j3
        title: Permanence
        start: 2022-05-03 11:00
        end: 2022-05-03 13:00
        status: cancelled
        ```
        """
    root = make_project({"issues/001.md": issue_text(body)})
    project = load_project(root)
    issue = project.issues()[0]
    entry = archive_entry(project.settings, issue, root)
    assert [s["when"] for s in entry.sessions] == [
        "jeudi 7 avril 2022, 14h30–16h",
        "du samedi 26 novembre 2022 au dimanche 27 novembre 2022",
        "mardi 3 mai 2022, 11h–13h",
    ]
    assert (entry.sessions[2]["title"], entry.sessions[2]["links"]) == ("ANNULÉ – Permanence", [])
    build(project, root / "dist")
    html = (root / "dist" / "numeros" / "001" / "index.html").read_text(encoding="utf-8")
    section = next(s for s in parse_html(html)[0].iter("section") if s.attrs.get("id") == "agenda")
    assert "Journée <des> territoires – jeudi 7 avril 2022, 14h30–16h" in " ".join(section.text.split())
    expected = links_of(project.settings, issue.sessions[0])
    hrefs = [a.attrs["href"] for a in section.iter("a")]
    assert expected["ics"] in hrefs and expected["google"] in hrefs
    assert not any("j3" in href for href in hrefs)
