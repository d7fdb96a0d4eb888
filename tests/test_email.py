"""The email users get: HTML, plain text and .eml of the sample issues, read back as a client would."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

import pytest
from conftest import ROOT, SEED_ISSUE_TEXT, issue_text
from support.htmldoc import parse_html

from newsletter.parse.issue import load_issue
from newsletter.render.email import GMAIL_CLIP_BYTES, render_email
from newsletter.render.personalize import GREETING_MARK, UNSUBSCRIBE_MARK, personalize
from newsletter.settings import DEFAULT_RUBRICS, Settings

SEED_ISSUE = ROOT / "issues" / "001-comprendre-reflechir-agir.md"
_QUOTES = str.maketrans({"“": '"', "”": '"', "«": '"', "»": '"', "’": "'", "‘": "'", "\u00a0": " ", "\u202f": " "})
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")


def normalise(text: str) -> str:
    """Quotes made plain, and the spaces typography adds inside them taken off (« mot » is "mot")."""
    return re.sub(r'\s*"\s*', '"', " ".join(text.translate(_QUOTES).split()))


def plain_text_body(text: str) -> str:
    """The text part with quote markers removed, so a quote wrapped over lines reads as one."""
    return normalise("\n".join(re.sub(r"^(> ?)+", "", line) for line in text.split("\n")))


def seed_sentences() -> list[str]:
    """Every sentence of the seed, less the taglines and rubric heading lines (they come from the catalogue)."""
    emojis = tuple(rubric.emoji for rubric in DEFAULT_RUBRICS)
    sentences = []
    for line in SEED_ISSUE_TEXT.read_text(encoding="utf-8").split("\n"):
        if not line.strip() or line.startswith("Une rubrique pour") or line.startswith(emojis):
            continue
        sentences += [normalise(part) for part in _SENTENCE.split(line) if part.strip()]
    return sentences


@pytest.fixture(scope="module")
def seed_parts():
    return render_email(Settings(), load_issue(SEED_ISSUE, Settings()), ROOT)


def test_every_sentence_of_the_seed_is_in_the_plain_text(repo_build: Path) -> None:
    text = plain_text_body((repo_build / "email" / "001.txt").read_text(encoding="utf-8"))
    sentences = seed_sentences()
    assert len(sentences) > 150
    missing = [sentence for sentence in sentences if sentence not in text]
    assert missing == []


def test_the_plain_text_is_wrapped_and_writes_links_out(tmp_path: Path) -> None:
    body = """
        ## Édito

        Un paragraphe assez long pour être replié sur plusieurs lignes, parce qu’il dépasse largement soixante-douze caractères.

        Lisez [le rapport](https://example.org/rapport.pdf) ou écrivez à <redaction@example.org>.

        > Une citation.

        - un
        - deux
        """
    path = tmp_path / "001.md"
    path.write_text(issue_text(body), encoding="utf-8")
    text = render_email(Settings(), load_issue(path, Settings())).text
    assert max(len(line) for line in text.split("\n") if not line.startswith("http")) <= 80
    assert "le rapport (https://example.org/rapport.pdf)" in text
    assert "redaction@example.org" in text and "mailto:" not in text
    assert "\n> Une citation." in text
    assert "\n- un\n- deux" in text
    assert re.search(r"^🗣️ Édito\n=+$", text, re.M)


def test_html_has_all_seven_rubrics_with_emoji_title_and_tagline(seed_parts) -> None:
    root, _ = parse_html(seed_parts.html)
    headings = [" ".join(h.text.split()) for h in root.find_all("h2")]
    assert headings == [f"{r.emoji} {r.title}" for r in DEFAULT_RUBRICS]
    text = normalise(root.text)
    for rubric in DEFAULT_RUBRICS:
        assert normalise(rubric.tagline) in text


def test_html_is_french_with_preheader_and_dark_mode_meta(seed_parts) -> None:
    root, comments = parse_html(seed_parts.html)
    assert root.find_all("html")[0].attrs["lang"] == "fr"
    metas = {m.attrs.get("name"): m.attrs.get("content") for m in root.find_all("meta")}
    assert metas["color-scheme"] == "light dark"
    hidden = [d for d in root.find_all("div") if "display:none" in d.attrs.get("style", "")]
    assert hidden and hidden[0].text.strip() == seed_parts.preheader
    assert seed_parts.preheader == "L’année avance rapidement."
    assert any(c.startswith("[if mso") for c in comments), "Outlook conditional comments dropped"
    assert seed_parts.html_bytes < GMAIL_CLIP_BYTES


def test_the_dark_mode_rules_are_in_the_head_and_name_classes_the_email_carries(repo_build: Path) -> None:
    """MRML keeps <mj-style> as a <style> of the head; every class its dark rules name is on an element."""
    root, _ = parse_html((repo_build / "email" / "002.html").read_text(encoding="utf-8"))
    (head,) = root.find_all("head")
    css = "".join(style.text for style in head.find_all("style"))
    assert "@media (prefers-color-scheme: dark)" in css
    assert "[data-ogsc] .tp-text > div" in css and "[data-ogsb] .tp-sheet" in css
    assert not [style for style in root.find_all("body")[0].find_all("style")]
    dark = css.split("@media (prefers-color-scheme: dark)", 1)[1]
    named = set(re.findall(r"\.(tp-[a-z-]+)", dark))
    carried = {name for element in root.iter() for name in element.attrs.get("class", "").split()}
    optional = {
        "tp-heading",
        "tp-code",
        "tp-rule",
        "tp-cell",
        "tp-img",
        "tp-card-cancelled",
        "tp-quote",
    }  # not in this issue
    assert named - optional <= carried, named - carried
    assert len(named - optional) >= 15


def test_html_links_to_web_version_and_unsubscribe(repo_build: Path) -> None:
    root, _ = parse_html((repo_build / "email" / "001.html").read_text(encoding="utf-8"))
    links = {" ".join(a.text.split()): a.attrs["href"] for a in root.find_all("a")}
    assert links["Voir la version en ligne"] == Settings().issue_url("001")
    assert links["Se désinscrire"] == Settings().unsubscribe_url


def test_markdown_styles_are_inline_for_gmail(seed_parts) -> None:
    root, _ = parse_html(seed_parts.html)
    body_links = [a for a in root.find_all("a") if "lea@" in a.text]
    assert body_links and "color:" in body_links[0].attrs["style"]
    for tag in ("blockquote", "ul", "h3", "li"):
        elements = root.find_all(tag)
        assert elements, tag
        assert all("margin" in element.attrs.get("style", "") for element in elements), tag


def test_quotes_lists_and_subheadings_survive(seed_parts) -> None:
    root, _ = parse_html(seed_parts.html)
    quotes = [normalise(q.text) for q in root.find_all("blockquote")]
    assert any(q.startswith("\"J'ai un travail à côté.") for q in quotes)
    assert "Conseil" in [h.text.strip() for h in root.find_all("h3")]
    items = [normalise(li.text) for li in root.find_all("li")]
    assert "➡️ Rennes (35) : un bureau des temps pour améliorer la qualité de vie" in items


def test_every_image_has_alt_text(tmp_path: Path) -> None:
    body = "## Édito\n\n![Une halle](https://example.org/halle.jpg)\n\n![](https://example.org/sans.jpg)\n"
    path = tmp_path / "001.md"
    path.write_text(issue_text(body), encoding="utf-8")
    root, _ = parse_html(render_email(Settings(), load_issue(path, Settings())).html)
    images = root.find_all("img")
    assert [img.attrs.get("alt") for img in images] == ["Une halle", ""]
    assert all("max-width:100%" in img.attrs["style"] for img in images)


def test_eml_is_multipart_alternative_text_then_html(repo_build: Path) -> None:
    raw = (repo_build / "email" / "001.eml").read_bytes()
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    # On the wire, lines end in CRLF; a client reads them as the same text.
    assert parts[0].get_content().replace("\r\n", "\n") == (repo_build / "email" / "001.txt").read_text(
        encoding="utf-8"
    )
    assert parts[1].get_content().replace("\r\n", "\n") == (repo_build / "email" / "001.html").read_text(
        encoding="utf-8"
    )
    assert message["Subject"] == "Territoires Pilotes n°1 – Comprendre, réfléchir, agir"
    assert message["Date"] == "Thu, 31 Mar 2022 08:00:00 +0200"
    assert message["Message-ID"] == "<001.preview@example.org>"
    # made by the sending's own builder: the list headers a subscriber's copy carries are there too
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<https://example.org/territoires-pilotes/desinscription/>")
    assert message["List-Id"] == "Territoires Pilotes <territoires-pilotes.example.org>"


def test_personalize_fills_marks_and_escapes_html(seed_parts) -> None:
    assert GREETING_MARK in seed_parts.html and UNSUBSCRIBE_MARK in seed_parts.text
    html, text = personalize(seed_parts, "Bonjour Léa & Zoé,", "https://x.org/d?t=a&u=b")
    assert GREETING_MARK not in html + text and UNSUBSCRIBE_MARK not in html + text
    assert "Bonjour Léa &amp; Zoé," in html and "Bonjour Léa & Zoé," in text
    assert 'href="https://x.org/d?t=a&amp;u=b"' in html
    assert "Se désinscrire\u00a0: https://x.org/d?t=a&u=b" in text


def test_header_shows_name_number_and_french_date(seed_parts) -> None:
    root, _ = parse_html(seed_parts.html)
    text = normalise(root.text)
    assert "Territoires Pilotes" in text
    assert "N°1 · 31 mars 2022" in text
    assert seed_parts.text.startswith("Territoires Pilotes – n°1 – 31 mars 2022\n")


def test_raw_html_in_an_issue_is_sanitised_in_the_email_as_on_the_web(tmp_path: Path) -> None:
    """What `check` says « il sera retiré » is: no script, handler, javascript: link, style block or
    MJML tag reaches the email, an unclosed element does not break it, and harmless HTML stays."""
    body = """
        ## Édito

        Un mot en <b>gras</b>,<script>alert("dans-la-phrase")</script> un <a href="javascript:alert(1)">piège</a> et <span onclick="x()">un clic</span>.

        <script>alert("script")</script>

        <style>p { color: red }</style>

        </mj-text></mj-column><mj-raw><p>échappé</p></mj-raw>

        <img src="https://example.org/carte.png" width="300" alt="La carte des territoires">

        <div>jamais fermé
        """
    path = tmp_path / "001.md"
    path.write_text(issue_text(body), encoding="utf-8")
    parts = render_email(Settings(), load_issue(path, Settings()))  # MRML accepted the MJML
    root, _ = parse_html(parts.html)
    assert not root.find_all("script")
    assert all(not name.startswith("on") for element in root.iter() for name in element.attrs)
    assert all(not a.attrs.get("href", "").startswith("javascript:") for a in root.find_all("a"))
    assert (
        "<mj-" not in parts.html
        and "mj-raw" not in parts.html
        and 'alert("script")' not in parts.html
        and "color: red" not in parts.html
    )
    bold = [b.text for b in root.find_all("b")]
    assert bold == ["gras"]
    [image] = [img for img in root.find_all("img") if img.attrs.get("src") == "https://example.org/carte.png"]
    assert image.attrs["alt"] == "La carte des territoires" and "max-width:100%" in image.attrs["style"]
    assert "jamais fermé" in root.text and "échappé" in root.text
    assert 'alert("script")' not in parts.text and "color: red" not in parts.text and "dans-la-phrase" not in parts.text
    assert "Un mot en gras, un piège et un clic." in " ".join(parts.text.split())
