"""Every reader can read the emails and the archive: axe-core, the outline, the accessibility tree.

axe-core (pinned in tests/support/axe, beside ical.js) runs inside headless Chromium on every
sample email and every archive page, at 375 and 1024 px, light and dark: no violation of WCAG 2.1
A and AA, and none of axe's best practices but those listed in EMAIL_EXCEPTIONS. Chromium's own
accessibility tree (DevTools `Accessibility.getFullAXTree`) is what a screen reader gets: headings
without their emoji, calendar links named after their session, navigations with distinct names.
Without Chromium these tests skip, except in CI (the CI variable set), where they fail.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA, ROOT
from support import axe

from newsletter.desk.browser import Browser
from newsletter.pipeline import build
from newsletter.project import load_project

WIDTHS = (375, 1024)
SCHEMES = ("light", "dark")
EMAILS = sorted(p.name.split("-", 1)[0] for p in (ROOT / "issues").glob("*.md"))
PAGES = ["index.html"] + [f"numeros/{number}/index.html" for number in EMAILS]

EMAIL_EXCEPTIONS = {
    # An email is shown inside the mail client's own page: the client's main landmark holds it, and
    # the clients (Gmail, Outlook) drop or rename a <main> or landmark roles the email would carry.
    "landmark-one-main": "the client's page has the main landmark, an email's own is dropped",
    # Same reason: every part of an email is content inside the client's region; there is no page
    # chrome (header, navigation) to tell it apart from.
    "region": "the whole email is the content of the client's message region",
}


@pytest.fixture(scope="module", autouse=True)
def axe_installed():
    axe.install()


def ax_nodes(browser: Browser, role: str) -> list[dict]:
    """The nodes of a role in the accessibility tree Chromium hands to screen readers."""
    nodes = browser.call("Accessibility.getFullAXTree", session=True)["nodes"]
    return [node for node in nodes if node.get("role", {}).get("value") == role and not node.get("ignored")]


def ax_name(node: dict) -> str:
    return str(node.get("name", {}).get("value", ""))


OUTLINE = """JSON.stringify([...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map((h) => {
  const copy = h.cloneNode(true);
  copy.querySelectorAll('[aria-hidden="true"]').forEach((hidden) => hidden.remove());
  return [Number(h.tagName[1]), copy.textContent.trim(), h.textContent.trim()];
}))"""


def outline(browser: Browser) -> list[tuple[int, str, str]]:
    """(level, text a screen reader reads, text shown) of each heading, in the order of the page."""
    return [tuple(heading) for heading in json.loads(browser.evaluate(OUTLINE))]


def plain(text: str) -> str:
    """Text with the typography's no-break spaces as plain ones, to compare with what an editor typed."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def outline_problems(headings: list[tuple[int, str, str]]) -> list[str]:
    levels = [level for level, _, _ in headings]
    problems = [] if levels[:1] == [1] else [f"first heading h{levels[0] if levels else '?'}, not h1"]
    if levels.count(1) != 1:
        problems.append(f"{levels.count(1)} h1")
    problems += [
        f"h{before} then h{after} « {text} »"
        for (before, _, _), (after, text, _) in itertools.pairwise(headings)
        if after > before + 1
    ]
    return problems


EMOJI_BLOCKS = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2B00, 0x2BFF),
    (0xFE0F, 0xFE0F),
)  # pictographs, dingbats, arrows, VS16


def has_emoji(text: str) -> bool:
    return any(low <= ord(c) <= high for c in text for low, high in EMOJI_BLOCKS)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("number", EMAILS)
def test_axe_finds_no_violation_in_the_sample_emails(
    number: str, scheme: str, browser: Browser, repo_build: Path
) -> None:
    page = (repo_build / "email" / f"{number}.html").resolve().as_uri()
    for width in WIDTHS:
        browser.open(page, width, scheme=scheme)
        found = axe.violations(browser, disabled=tuple(EMAIL_EXCEPTIONS))
        assert found == [], f"axe-core {axe.version()}, email {number} at {width} px, {scheme}:\n" + "\n".join(found)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("page", PAGES)
def test_axe_finds_no_violation_in_the_archive_pages(
    page: str, scheme: str, browser: Browser, repo_build: Path
) -> None:
    for width in WIDTHS:
        browser.open((repo_build / page).resolve().as_uri(), width, scheme=scheme)
        found = axe.violations(browser)  # no exception: a web page has its own landmarks and h1
        assert found == [], f"axe-core {axe.version()}, {page} at {width} px, {scheme}:\n" + "\n".join(found)


def test_axe_finds_no_violation_in_archive_pages_with_the_sign_up_form(browser: Browser, tmp_path: Path) -> None:
    """The form appears once [serve] public_url is set, which the sample settings leave out."""
    root = tmp_path / "inscription"
    shutil.copytree(ROOT / "issues", root / "issues")
    settings = (ROOT / "newsletter.toml").read_text(encoding="utf-8")
    (root / "newsletter.toml").write_text(
        settings + '\n[serve]\npublic_url = "https://example.org/service"\n', encoding="utf-8"
    )
    assert not build(load_project(root), root / "dist").failed
    for page in ("index.html", "numeros/002/index.html"):
        assert "<form" in (root / "dist" / page).read_text(encoding="utf-8"), page
        for width in WIDTHS:
            for scheme in SCHEMES:
                browser.open((root / "dist" / page).resolve().as_uri(), width, scheme=scheme)
                found = axe.violations(browser)
                assert found == [], f"{page} at {width} px, {scheme}:\n" + "\n".join(found)


def test_axe_sees_what_the_exceptions_leave_out_and_a_missing_alt(browser: Browser, tmp_path: Path) -> None:
    """The check can fail: on a bare page axe reports the two excepted rules, an image without alt and an h1 that is missing."""
    page = tmp_path / "nu.html"
    page.write_text(
        '<!doctype html><html lang="fr"><head><title>t</title></head><body><h2>Titre</h2><img src="x.png"></body></html>'
    )
    browser.open(page.as_uri(), 375)
    rules = {line.split(" ")[0] for line in axe.violations(browser)}
    assert {"landmark-one-main", "region", "image-alt", "page-has-heading-one"} <= rules
    assert not {"landmark-one-main", "region"} & {
        line.split(" ")[0] for line in axe.violations(browser, tuple(EMAIL_EXCEPTIONS))
    }


@pytest.mark.parametrize("number", EMAILS)
def test_each_email_has_the_outline_of_its_issue(number: str, browser: Browser, repo_build: Path) -> None:
    """One h1 (the title), an h2 per rubric, the editor's ### as h3 under it: in order, no level skipped."""
    issue = next(i for i in load_project(ROOT).issues() if i.slug == number)
    expected = [(1, issue.title)]
    for section in issue.sections:
        expected.append((2, section.rubric.title))
        expected += [(3, line[4:].strip()) for line in section.body.markdown.split("\n") if line.startswith("### ")]
    browser.open((repo_build / "email" / f"{number}.html").resolve().as_uri(), 375)
    headings = outline(browser)
    assert [(level, plain(read)) for level, read, _ in headings] == expected
    assert outline_problems(headings) == []


@pytest.mark.parametrize("page", PAGES)
def test_each_archive_page_has_one_h1_and_no_skipped_level(page: str, browser: Browser, repo_build: Path) -> None:
    browser.open((repo_build / page).resolve().as_uri(), 1024)
    headings = outline(browser)
    assert len(headings) > 3 and outline_problems(headings) == [], headings


def test_the_outline_check_finds_a_skipped_level_and_a_missing_h1() -> None:
    assert outline_problems([(2, "A", "A"), (4, "B", "B")]) == ["first heading h2, not h1", "0 h1", "h2 then h4 « B »"]


@pytest.mark.parametrize("document", [f"email/{n}.html" for n in EMAILS] + PAGES)
def test_no_emoji_of_a_heading_reaches_the_accessibility_tree(
    document: str, browser: Browser, repo_build: Path
) -> None:
    """« Édito », not « tête qui parle Édito »: the emoji stays on screen and in the text version."""
    browser.open((repo_build / document).resolve().as_uri(), 375)
    shown = [text for _, _, text in outline(browser)]
    names = [ax_name(node) for node in ax_nodes(browser, "heading")]
    assert len(names) == len(shown)
    assert [name for name in names if has_emoji(name)] == []
    if document.startswith(("email/", "numeros/")):
        assert sum(has_emoji(text) for text in shown) >= 3  # the rubric emoji are there, only hidden


def test_the_text_version_keeps_the_rubric_emoji(repo_build: Path) -> None:
    text = plain((repo_build / "email" / "001.txt").read_text(encoding="utf-8"))
    assert "🗣️ Édito : Comprendre, réfléchir, agir" in text and "🔜 À suivre…" in text


def test_each_calendar_link_names_its_session_and_keeps_its_visible_text(browser: Browser, repo_build: Path) -> None:
    for document in ("email/001.html", "numeros/001/index.html"):
        browser.open((repo_build / document).resolve().as_uri(), 375)
        names = [ax_name(node) for node in ax_nodes(browser, "link")]
        for where in ("mon agenda : fichier .ics", "Google Agenda", "Outlook"):
            assert f"Ajouter « Agora des sessions entre pairs » à {where}" in names, (document, names)
        shown = browser.evaluate(
            "JSON.stringify([...document.querySelectorAll('a[aria-label]')].map((a) => a.textContent))"
        )
        assert set(json.loads(shown)) == {"Fichier .ics", "Google Agenda", "Outlook"}
        calendar = [name for name in names if name.startswith("Ajouter « ")]
        assert len(calendar) == len(set(calendar)) * (
            2 if document.startswith("numeros/") else 1
        )  # card and recap on the page


def test_the_two_navigations_of_an_issue_page_have_distinct_names(browser: Browser, repo_build: Path) -> None:
    browser.open((repo_build / "numeros" / "002" / "index.html").resolve().as_uri(), 1024)
    names = [ax_name(node) for node in ax_nodes(browser, "navigation")]
    assert names == ["Autres numéros, en haut de page", "Autres numéros, en bas de page"]


IMAGES_OFF = DATA / "images"


@pytest.fixture(scope="module")
def images_off(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The illustrated issue of tests/data/images built; its images never load (remote addresses are blocked)."""
    root = tmp_path_factory.mktemp("images-off")
    (root / "issues").mkdir()
    shutil.copy(IMAGES_OFF / "001-images.md", root / "issues")
    assert not build(load_project(root), root / "dist").failed
    return root / "dist" / "email" / "001.html"


IMAGE_BOXES = """JSON.stringify([...document.images].map((img) => {
  const box = img.getBoundingClientRect(), style = getComputedStyle(img);
  return {alt: img.alt, loaded: img.naturalWidth > 0, width: box.width, height: box.height, right: box.right,
          column: img.parentElement.getBoundingClientRect().width, font: style.fontSize, family: style.fontFamily,
          colour: style.color, italic: style.fontStyle};
}))"""


@pytest.mark.parametrize("scheme", SCHEMES)
def test_with_images_blocked_each_alt_text_takes_its_place_and_the_layout_holds(
    images_off: Path, browser: Browser, scheme: str
) -> None:
    for width in (375, 640):
        browser.open(images_off.resolve().as_uri(), width, scheme=scheme)
        layout = browser.measure()
        assert layout.scroll_width <= layout.viewport, f"{width} px: the email scrolls sideways"
        images = json.loads(browser.evaluate(IMAGE_BOXES))
        assert len(images) == 3 and not any(image["loaded"] for image in images)
        for image in images:
            assert image["height"] >= 20, image  # the alt text is drawn, at least one line of it
            assert image["width"] <= image["column"] + 0.5 and image["right"] <= layout.viewport, image
            assert (image["font"], image["italic"]) == ("15px", "italic") and "Helvetica" in image["family"], image
        assert axe.violations(browser, disabled=tuple(EMAIL_EXCEPTIONS)) == []
