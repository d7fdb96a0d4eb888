"""feed.xml and feeds/<rubric>.xml: RSS 2.0 that feedparser and a strict XML parser both accept."""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.dom.minidom
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
from conftest import MINIMAL_BODY, ROOT, issue_text
from support.htmldoc import parse_html

from newsletter.pipeline import build
from newsletter.project import load_project
from newsletter.render.feed import Channel, FeedItem, render_feed
from newsletter.settings import Settings

BASE = Settings().base_url
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)

HOSTILE_BODY = """
    Bonjour à toutes et à tous,

    Une intro <script>alert("intro")</script> avec ]]> au milieu et ]]]]><![CDATA[> aussi.

    ## Édito

    <img src="x.png" alt="piège" onerror="alert('img')"> et <a href="javascript:alert('a')">un lien</a>.

    [Un autre](JaVaScRiPt:alert(1)) et <a href=" jav&#x09;ascript:alert(2)">un troisième</a>.

    <div onclick="alert(3)" style="position:fixed">Texte gardé</div><iframe src="https://evil.example/"></iframe>

    Et <style>body{display:none}</style> là.

    ## À suivre

    Rendez-vous le <b onmouseover="alert(4)">jeudi</b>.

    ---

    Fin ]]> fin.
    """


def parse_feed(path: Path) -> feedparser.FeedParserDict:
    return feedparser.parse(io.BytesIO(path.read_bytes()))


def build_project(make_project, files: dict[str, str]) -> Path:
    root = make_project(files)
    report = build(load_project(root), root / "dist")
    assert not report.failed, [str(p) for p in report.problems]
    return root / "dist"


def test_feedparser_reads_the_feed_without_bozo_newest_first(repo_build: Path) -> None:
    feed = parse_feed(repo_build / "feed.xml")
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert [entry.link for entry in feed.entries] == [f"{BASE}/numeros/{slug}/" for slug in ("003", "002", "001")]
    assert feed.entries[0].title == "n°3 – Des balises pour la résilience"
    assert feed.feed.title == "Territoires Pilotes"
    assert feed.feed.language == "fr"


def test_the_xml_is_well_formed_for_strict_parsers(repo_build: Path) -> None:
    for path in [repo_build / "feed.xml", *sorted((repo_build / "feeds").glob("*.xml"))]:
        data = path.read_bytes()
        xml.dom.minidom.parseString(data)  # raises on any well-formedness error
        root = ET.fromstring(data)
        assert root.tag == "rss" and root.get("version") == "2.0", path


def test_channel_has_self_link_language_and_last_build_date_of_newest_issue(repo_build: Path) -> None:
    channel = ET.fromstring((repo_build / "feed.xml").read_bytes()).find("channel")
    assert channel.findtext("title") == "Territoires Pilotes"
    assert channel.findtext("link") == f"{BASE}/"
    assert channel.findtext("description").startswith("La lettre des Territoires Pilotes")
    assert channel.findtext("language") == "fr"
    self_link = channel.find(f"{ATOM}link")
    assert (self_link.get("rel"), self_link.get("href"), self_link.get("type")) == (
        "self",
        f"{BASE}/feed.xml",
        "application/rss+xml",
    )
    assert channel.findtext("lastBuildDate") == channel.find("item").findtext("pubDate")
    assert channel.findtext("lastBuildDate") == "Thu, 25 Aug 2022 08:00:00 +0200"


def test_last_build_date_is_the_newest_issue_date_never_the_clock(make_project) -> None:
    dist = build_project(
        make_project,
        {
            "issues/001.md": issue_text(MINIMAL_BODY, number=1, date="2001-02-03"),
            "issues/002.md": issue_text(MINIMAL_BODY, number=2, date="2000-06-01"),
        },
    )
    channel = ET.fromstring((dist / "feed.xml").read_bytes()).find("channel")
    assert channel.findtext("lastBuildDate") == "Sat, 03 Feb 2001 08:00:00 +0100"  # winter time in Paris
    assert [item.findtext("pubDate") for item in channel.findall("item")] == [
        "Sat, 03 Feb 2001 08:00:00 +0100",
        "Thu, 01 Jun 2000 08:00:00 +0200",  # summer time
    ]


def test_items_have_permalink_guid_rfc822_date_summary_and_one_category_per_rubric(repo_build: Path) -> None:
    project = load_project(ROOT)
    issues = {issue.slug: issue for issue in project.issues()}
    items = ET.fromstring((repo_build / "feed.xml").read_bytes()).find("channel").findall("item")
    assert len(items) == 3
    for item in items:
        link = item.findtext("link")
        guid = item.find("guid")
        assert guid.get("isPermaLink") == "true" and guid.text == link
        slug = link.rstrip("/").rsplit("/", 1)[1]
        issue = issues[slug]
        assert RFC822.match(item.findtext("pubDate")), item.findtext("pubDate")
        assert parsedate_to_datetime(item.findtext("pubDate")).date() == issue.date
        assert [c.text for c in item.findall("category")] == [s.rubric.title for s in issue.sections]
        assert "<" not in item.findtext("description") and item.findtext("description")
    first = items[0]
    assert first.findtext("description") == issues["003"].preheader
    assert "À suivre…" in [c.text for c in first.findall("category")]


def test_feedparser_sees_categories_dates_and_guids(repo_build: Path) -> None:
    entry = parse_feed(repo_build / "feed.xml").entries[1]
    assert entry.id == entry.link == f"{BASE}/numeros/002/"
    assert entry.published_parsed[:3] == (2022, 7, 28)
    assert [tag.term for tag in entry.tags] == [
        "Édito",
        "En théorie…",
        "À suivre…",
        "Inspiration par Territoires Audacieux…",
    ]


def test_content_is_the_full_html_of_the_issue(repo_build: Path) -> None:
    entry = parse_feed(repo_build / "feed.xml").entries[2]  # n°1, the seed issue
    assert entry.content[0].type == "text/html"
    html = entry.content[0].value
    source = (ROOT / "issues" / "001-comprendre-reflechir-agir.md").read_text(encoding="utf-8")
    root, _ = parse_html(html)
    text = " ".join(root.text.split())
    for rubric in (
        "Édito",
        "En théorie…",
        "En pratique…",
        "Les nouvelles des territoires…",
        "En chantier…",
        "À suivre…",
    ):
        assert rubric in text
    # every paragraph of the source, as text, is in the feed (spot-check the first and last ones)
    paragraphs = [p for p in source.split("\n\n") if p and p[0].isalpha() and "](" not in p and "*" not in p]
    for paragraph in (paragraphs[1], paragraphs[-1]):
        assert " ".join(paragraph.split()) in text
    assert "<h2" in html and "<blockquote" in html and "<li>" in html


def test_every_url_of_the_feed_content_is_absolute(repo_build: Path) -> None:
    for entry in parse_feed(repo_build / "feed.xml").entries:
        root, _ = parse_html(entry.content[0].value)
        for element in root.iter():
            for name in ("href", "src"):
                if name in element.attrs:
                    assert element.attrs[name].startswith(("https://", "http://", "mailto:")), element.attrs


def test_relative_links_and_images_are_made_absolute(make_project) -> None:
    body = MINIMAL_BODY.replace(
        "Première phrase de l’édito.",
        "Voir [le document](docs/note.pdf), ![Une photo](images/photo.jpg), [plus bas](#a-suivre), "
        "[le contact](/contact/) et [ailleurs](//cdn.example.net/x).",
    )
    dist = build_project(make_project, {"issues/001.md": issue_text(body)})
    html = parse_feed(dist / "feed.xml").entries[0].content[0].value
    root, _ = parse_html(html)
    urls = {
        element.text or element.attrs.get("alt"): element.attrs.get("href") or element.attrs.get("src")
        for element in root.iter()
        if element.tag in ("a", "img")
    }
    assert urls["le document"] == f"{BASE}/docs/note.pdf"
    assert urls["Une photo"] == f"{BASE}/images/photo.jpg"
    assert urls["plus bas"] == f"{BASE}/numeros/001/#a-suivre"
    assert urls["le contact"] == f"{BASE}/contact/"
    assert urls["ailleurs"] == "https://cdn.example.net/x"
    page = (dist / "numeros" / "001" / "index.html").read_text(encoding="utf-8")
    assert f'src="{BASE}/images/photo.jpg"' in page


def test_drafts_are_left_out_of_every_feed(make_project) -> None:
    dist = build_project(
        make_project,
        {
            "issues/001.md": issue_text(MINIMAL_BODY, number=1),
            "issues/002.md": issue_text(
                MINIMAL_BODY, number=2, date="2022-04-28", title="Brouillon", extra="draft: true\n"
            ),
        },
    )
    assert [entry.title for entry in parse_feed(dist / "feed.xml").entries] == ["n°1 – Un titre"]
    assert len(parse_feed(dist / "feeds" / "a-suivre.xml").entries) == 1
    assert "Brouillon" not in (dist / "feed.xml").read_text(encoding="utf-8")


def test_one_feed_per_rubric_with_only_that_rubric(repo_build: Path) -> None:
    settings = load_project(ROOT).settings
    assert sorted(p.stem for p in (repo_build / "feeds").glob("*.xml")) == sorted(r.key for r in settings.rubrics)
    agenda = parse_feed(repo_build / "feeds" / "a-suivre.xml")
    assert agenda.bozo == 0
    assert agenda.feed.title == "Territoires Pilotes – À suivre…"
    assert [entry.link for entry in agenda.entries] == [f"{BASE}/numeros/{s}/#a-suivre" for s in ("003", "002", "001")]
    assert agenda.entries[0].title == "n°3 – À suivre…\u00a0: La diffusion du commun"
    content = agenda.entries[0].content[0].value
    assert "À suivre" in content and "Un commun pour la résilience locale" not in content  # not the En chantier rubric
    assert [tag.term for tag in agenda.entries[0].tags] == ["À suivre…"]
    root = ET.fromstring((repo_build / "feeds" / "a-suivre.xml").read_bytes()).find("channel")
    assert root.find(f"{ATOM}link").get("href") == f"{BASE}/feeds/a-suivre.xml"


def test_a_rubric_no_issue_has_yet_still_has_its_empty_valid_feed(make_project) -> None:
    dist = build_project(make_project, {"issues/001.md": issue_text(MINIMAL_BODY)})
    data = (dist / "feeds" / "nouvelles.xml").read_bytes()
    channel = ET.fromstring(data).find("channel")
    assert channel.findall("item") == [] and channel.find("lastBuildDate") is None
    assert feedparser.parse(io.BytesIO(data)).bozo == 0


def test_raw_html_script_handlers_and_cdata_end_still_give_a_valid_feed(make_project) -> None:
    dist = build_project(make_project, {"issues/001.md": issue_text(HOSTILE_BODY)})
    for path in (dist / "feed.xml", dist / "feeds" / "edito.xml"):
        data = path.read_bytes()
        xml.dom.minidom.parseString(data)
        feed = parse_feed(path)
        assert feed.bozo == 0 and len(feed.entries) == 1
    encoded = ET.fromstring((dist / "feed.xml").read_bytes()).find("channel").find("item").findtext(CONTENT)
    lowered = encoded.lower()
    for forbidden in ("<script", "onerror", "onclick", "onmouseover", "javascript:", "<iframe", "<style", "style="):
        assert forbidden not in lowered, forbidden
    assert "]]&gt;" in encoded and "Texte gardé" in encoded and "Fin ]]&gt; fin." in encoded
    assert b"]]>" not in data.replace(b"]]&gt;", b"")


def test_render_feed_escapes_every_text_and_drops_characters_xml_cannot_carry() -> None:
    moment = dt.datetime(2022, 3, 31, 8, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    item = FeedItem("A & B <c>", "https://example.org/?a=1&b=2", moment, "r\x01ésumé", "<p>x ]]> y</p>", ("É&D",))
    data = render_feed(Channel("T & T", "https://example.org/", "d", "https://example.org/feed.xml"), [item])
    ET.fromstring(data)
    parsed = feedparser.parse(io.BytesIO(data))
    assert parsed.bozo == 0
    entry = parsed.entries[0]
    assert (entry.title, entry.link, entry.summary) == ("A & B <c>", "https://example.org/?a=1&b=2", "résumé")
    assert entry.content[0].value == "<p>x ]]> y</p>"
    assert b"]]>" not in data and b"\x01" not in data
    # plain text: hexadecimal references, as the RSS profile (and the W3C validator) asks
    assert b"<title>A &#x26; B &#x3C;c&#x3E;</title>" in data and b"<category>\xc3\x89&#x26;D</category>" in data
    assert entry.tags[0].term == "É&D"


# --- the latest issues in full, the history on archive pages (RFC 5005) --------------------------

HISTORY = "{http://purl.org/syndication/history/1.0}"


def weekly_project(make_project, count: int, feed_items: int) -> Path:
    first = dt.date(2022, 1, 6)
    files = {
        f"issues/{n:03d}.md": issue_text(
            MINIMAL_BODY, number=n, date=(first + dt.timedelta(weeks=n)).isoformat(), title=f"N{n}"
        )
        for n in range(1, count + 1)
    }
    files["newsletter.toml"] = f"[newsletter]\nfeed_items = {feed_items}\n"
    return make_project(files)


def local(dist: Path, url: str) -> Path:
    assert url.startswith(BASE + "/"), url
    return dist / url.removeprefix(BASE + "/")


def rel_links(parsed: feedparser.FeedParserDict) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in parsed.feed.get("links", []) if link.get("rel") != "alternate"}


def walk_archives(dist: Path, current: str) -> list[tuple[str, feedparser.FeedParserDict]]:
    """The current feed, then each archive page by its prev-archive link, as a reader pages back."""
    pages, url = [], f"{BASE}/{current}"
    while url:
        parsed = parse_feed(local(dist, url))
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        pages.append((url, parsed))
        url = rel_links(parsed).get("prev-archive")
        assert len(pages) < 50
    return pages


def test_the_feed_carries_the_latest_issues_and_its_archive_pages_every_other_exactly_once(make_project) -> None:
    root = weekly_project(make_project, 11, feed_items=3)
    assert not build(load_project(root), root / "dist").failed
    dist = root / "dist"
    for current, count in (("feed.xml", 11), ("feeds/edito.xml", 11)):
        pages = walk_archives(dist, current)
        links = [entry.link for _, parsed in pages for entry in parsed.entries]
        assert len(links) == len(set(links)) == count
        assert {link.split("/numeros/")[1][:3] for link in links} == {f"{n:03d}" for n in range(1, 12)}
        newest = [entry.link for entry in pages[0][1].entries]
        assert 3 <= len(newest) < 6 and "/numeros/011/" in newest[0]  # the latest three at least, newest first
        assert [url.rsplit("/", 1)[1] for url, _ in pages[1:]] == ["2.xml", "1.xml"]
        for url, parsed in pages[1:]:
            assert len(parsed.entries) == 3
            assert rel_links(parsed)["current"] == f"{BASE}/{current}" and rel_links(parsed)["self"] == url


def test_an_archive_page_is_marked_as_one_and_links_its_neighbours(make_project) -> None:
    root = weekly_project(make_project, 9, feed_items=3)
    build(load_project(root), root / "dist")
    page = root / "dist" / "feeds" / "archive" / "1.xml"
    channel = ET.parse(page).getroot().find("channel")
    assert channel is not None and channel.find(f"{HISTORY}archive") is not None
    links = {link.attrib["rel"]: link.attrib["href"] for link in channel.findall(f"{ATOM}link")}
    assert links == {
        "self": f"{BASE}/feeds/archive/1.xml",
        "current": f"{BASE}/feed.xml",
        "next-archive": f"{BASE}/feeds/archive/2.xml",
    }
    current = ET.parse(root / "dist" / "feed.xml").getroot().find("channel")
    assert current is not None and current.find(f"{HISTORY}archive") is None
    assert {link.attrib["rel"]: link.attrib["href"] for link in current.findall(f"{ATOM}link")}[
        "prev-archive"
    ] == f"{BASE}/feeds/archive/2.xml"


def test_a_new_issue_never_changes_an_archive_page(make_project) -> None:
    root = weekly_project(make_project, 9, feed_items=3)
    project = load_project(root)
    build(project, root / "dist")
    archive = root / "dist" / "feeds" / "archive"
    before = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in archive.glob("*.xml")}
    assert sorted(before) == ["1.xml", "2.xml"]
    for number in (10, 11, 12):
        day = (dt.date(2022, 1, 6) + dt.timedelta(weeks=number)).isoformat()
        (root / "issues" / f"{number:03d}.md").write_text(
            issue_text(MINIMAL_BODY, number=number, date=day), encoding="utf-8"
        )
        build(project, root / "dist")
    after = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in archive.glob("*.xml")}
    assert sorted(after) == ["1.xml", "2.xml", "3.xml"]
    assert {name: after[name] for name in before} == before


def test_a_deleted_issue_leaves_its_archive_page_and_no_page_is_left_over(make_project) -> None:
    root = weekly_project(make_project, 9, feed_items=3)
    project = load_project(root)
    build(project, root / "dist")
    for number in (7, 8, 9):
        (root / "issues" / f"{number:03d}.md").unlink()
    build(project, root / "dist")
    assert sorted(p.name for p in (root / "dist" / "feeds" / "archive").glob("*.xml")) == ["1.xml"]
    links = [entry.link for _, parsed in walk_archives(root / "dist", "feed.xml") for entry in parsed.entries]
    assert len(links) == len(set(links)) == 6
