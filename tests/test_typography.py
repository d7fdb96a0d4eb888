"""French typography, read back from every output a reader gets: the HTML and text email, its
subject and preheader, the session card, the web page, the feed and the calendars.

The rules are those of `newsletter.render.typography`: U+202F before ; ! ? », after « and between
groups of digits; U+00A0 before : and in 10 h 30, 15 %; ’ and « » for ' and " typed in prose.
Never in URLs, addresses, code or attributes; applying it twice changes nothing.
"""

from __future__ import annotations

import email
import io
import re
from email import policy
from pathlib import Path

import feedparser
import icalendar
import pytest
from conftest import DATA, ROOT
from support.htmldoc import parse_html
from support.typography import NB, NN, SIGN_STARTS_LINE, TORTURE_ISSUE, build_torture, classes

from newsletter.parse.issue import load_issue
from newsletter.render import markdown as md
from newsletter.render.markdown import fill, to_email_html_and_text, to_text
from newsletter.render.typography import Typography
from newsletter.settings import Settings

FRENCH = Typography()
SEEDS = sorted((DATA / "seeds").glob("*.txt"))
SAMPLES = sorted((ROOT / "issues").glob("*.md"))
URL_OR_ADDRESS = re.compile(
    r"(?:https?|mailto):[^\s<>\"«»]*[^\s<>\"«».,;:!?)\]'’]|www\.\S*\w|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
)


def seed_lines() -> list[str]:
    return [line for path in SEEDS for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


# --- the rules, one sentence each ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "typeset"),
    [
        ("C’est réel !", f"C’est réel{NN}!"),
        ("C’est réel!", f"C’est réel{NN}!"),
        ("Quoi ?! Vraiment ?", f"Quoi{NN}?! Vraiment{NN}?"),
        ("Un ; deux", f"Un{NN}; deux"),
        ("Au programme : tout", f"Au programme{NB}: tout"),
        ("Au programme: tout", f"Au programme{NB}: tout"),
        ("« adaptée »", f"«{NN}adaptée{NN}»"),
        ("«adaptée»", f"«{NN}adaptée{NN}»"),
        ('un "Mémo" ici', f"un «{NN}Mémo{NN}» ici"),
        ('il dit "oui "non" peut-être"', f"il dit «{NN}oui “non” peut-être{NN}»"),
        ("l'écologie d'aujourd'hui", "l’écologie d’aujourd’hui"),
        ("3 000 élus et 1 250 000 habitants", f"3{NN}000 élus et 1{NN}250{NN}000 habitants"),
        ("à 10 h 30, puis 10 h du soir, 15 % et 20 €", f"à 10{NB}h{NB}30, puis 10{NB}h du soir, 15{NB}% et 20{NB}€"),
        ("en 2022 100 personnes, 3,5 000", "en 2022 100 personnes, 3,5 000"),
        ("à 14:30, ratio 3:2", "à 14:30, ratio 3:2"),
        ("voir https://example.org/a?b=1&c=d:e !", f"voir https://example.org/a?b=1&c=d:e{NN}!"),
        (
            "écrire à lea@example.org ; ou à www.example.org?",
            f"écrire à lea@example.org{NN}; ou à www.example.org{NN}?",
        ),
        (
            "lire https://fr.wikipedia.org/wiki/Jeanne_d'Arc et l'article",
            "lire https://fr.wikipedia.org/wiki/Jeanne_d'Arc et l’article",
        ),
        ("à o'neil@example.org, l'auteur", "à o'neil@example.org, l’auteur"),
        ("! Plusieurs", "! Plusieurs"),  # a sign opening the text has no word to stay with
        ("(sic)? et (?)", f"(sic){NN}? et (?)"),
        ("mot   ;   suite", f"mot{NN};   suite"),
        ("adaptée\n»", f"adaptée{NN}»"),
    ],
)
def test_french_rules_on_one_text(typed: str, typeset: str) -> None:
    assert FRENCH.text(typed) == typeset
    assert FRENCH.text(typeset) == typeset


def test_spaces_already_right_are_left_as_they_are() -> None:
    for text in (
        f"Au programme{NB}: tout",
        f"«{NN}adaptée{NN}»{NN}!",
        f"3{NN}000",
        f"de proximité{NB}pour la transition",
    ):
        assert FRENCH.text(text) == text


def test_settings_turn_quotes_off_and_narrow_spaces_into_no_break_spaces() -> None:
    plain = Typography(smart_quotes=False)
    assert plain.text('l\'eau "pure" !') == f'l\'eau "pure"{NN}!'
    wide = Typography(narrow_spaces=False)
    assert wide.text("« 3 000 » ; oui !") == f"«{NB}3{NB}000{NB}»{NB}; oui{NB}!"
    assert Typography(french=False).text("« a » ; b !") == "« a » ; b !"


# --- the seed letter: nothing but spaces and quotes changes ----------------------------------------


def test_the_seed_letters_change_only_in_spaces_apostrophes_and_quotes() -> None:
    lines = seed_lines()
    assert len(lines) > 900 and len(SEEDS) == 5
    changed = 0
    for line in lines:
        typeset = FRENCH.text(line)
        changed += typeset != line
        assert classes(typeset) == classes(line), line
        assert FRENCH.text(typeset) == typeset, line  # idempotent
        assert len(re.findall(r"\s\s", typeset)) <= len(re.findall(r"\s\s", line)), line  # no space added to a space
        for found in URL_OR_ADDRESS.findall(line):
            assert found in typeset, (found, line)
    assert changed > 400  # it did something: most of the letter has apostrophes, colons or guillemets


def test_the_seed_letters_through_markdown_as_prose_and_as_code() -> None:
    """The Markdown tree path: prose typeset like a plain text; inline code and code blocks intact."""
    lines = [line for line in seed_lines() if not re.search(r"[`*_\[\]<>#\\&]|^\s*(\d+[.)]|[-+>])\s", line)][:400]
    assert len(lines) > 300
    for line in lines:
        plain = md.inline_text(line)
        assert md.inline_text(line, FRENCH) == FRENCH.text(plain), line
    source = "```\n" + "\n".join(lines) + f"\n```\n\n`{lines[0]}`"
    (page, text), (plain_page, plain_text) = (
        to_email_html_and_text(source, typography=FRENCH),
        to_email_html_and_text(source),
    )
    codes = [c.text for c in parse_html(page)[0].find_all("code")]
    assert codes == [c.text for c in parse_html(plain_page)[0].find_all("code")] and len(codes) == 2
    assert codes[1] == lines[0] and text.split("\n\n")[0] == plain_text.split("\n\n")[0]


# --- the Markdown layer: what is never touched -------------------------------------------------------


def both(source: str) -> tuple[str, str]:
    return to_email_html_and_text(source, typography=FRENCH)


def unquoted(text: str) -> str:
    return re.sub(r"(?m)^(?:> ?)+", "", text)


def attributes(page: str) -> list[tuple[str, dict[str, str]]]:
    root, _ = parse_html(page)
    return [(element.tag, element.attrs) for element in root.iter() if element.attrs]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_issues_differ_only_in_spaces_and_quotes_and_never_in_code_or_attributes(path: Path) -> None:
    """Every block converted with and without typography: same text but for spaces, apostrophes and
    quotes; same attributes (URLs, alt texts); code and session blocks (shown raw here) identical."""
    issue = load_issue(path, Settings())
    blocks = [issue.intro, issue.signoff, *(section.body for section in issue.sections)]
    for block in blocks:
        plain_html, plain_text = to_email_html_and_text(block.markdown)
        french_html, french_text = both(block.markdown)
        assert classes(unquoted(french_text)) == classes(unquoted(plain_text))  # quotes wrap elsewhere
        assert classes(parse_html(french_html)[0].text) == classes(parse_html(plain_html)[0].text)
        assert attributes(french_html) == attributes(plain_html)
        for tag in ("pre", "code"):
            assert [e.text for e in parse_html(french_html)[0].find_all(tag)] == [
                e.text for e in parse_html(plain_html)[0].find_all(tag)
            ]


def test_urls_code_addresses_attributes_and_images_are_left_alone() -> None:
    source = (
        'Voir <https://example.org/a?b=1&c=2> ou [ceci](https://example.org/x?y=z:w "Titre : ici") à 14:30 !\n'
        'Le code `a ; b : "c" ! d ?` et ![Photo : « atelier » !](img.png) et <span title="a : b">x</span> !\n'
        "Écrire à <lea@example.org> ! ou lea@example.org ; lire https://fr.wikipedia.org/wiki/Jeanne_d'Arc.\n\n"
        '```\nbrut : "x" ; y !\n```\n'
    )
    page, text = both(source)
    root, _ = parse_html(page)
    links = root.find_all("a")
    assert links[0].attrs["href"] == links[0].text == "https://example.org/a?b=1&c=2"
    assert links[1].attrs == {**links[1].attrs, "href": "https://example.org/x?y=z:w", "title": "Titre : ici"}
    assert links[2].attrs["href"] == "mailto:lea@example.org" and links[2].text == "lea@example.org"
    (image,) = root.find_all("img")
    assert image.attrs["alt"] == "Photo : « atelier » !" and image.attrs["src"] == "img.png"
    assert root.find_all("span")[0].attrs["title"] == "a : b"
    assert [c.text for c in root.find_all("code")] == ['a ; b : "c" ! d ?', 'brut : "x" ; y !\n']
    paragraph = root.find_all("p")[0].text
    assert f"à 14:30{NN}!" in paragraph and f"x{NN}!" in paragraph
    assert f"lea@example.org{NN}! ou lea@example.org{NN}; lire https://fr.wikipedia.org/wiki/Jeanne_d'Arc." in paragraph
    assert 'Le code a ; b : "c" ! d ? et' in " ".join(text.split()) and 'brut : "x" ; y !' in text


def test_spaces_across_inline_elements_and_typed_entities() -> None:
    page, text = both("« *adaptée* » et **Important**! puis `code`! et Déjà&nbsp;: rien, «&#8239;ok&#8239;»")
    root, _ = parse_html(page)
    paragraph = root.find_all("p")[0].text
    assert f"«{NN}adaptée{NN}» et Important{NN}! puis code{NN}! et Déjà{NB}: rien, «{NN}ok{NN}»" == paragraph
    assert paragraph in " ".join(text.split(" "))


def test_the_text_wrapper_never_breaks_at_a_no_break_space() -> None:
    assert fill(f"aaaa bbbb{NN}! cccc", 9) == ["aaaa", f"bbbb{NN}!", "cccc"]
    assert fill(f"«{NN}adaptée{NN}» puis", 8) == [f"«{NN}adaptée{NN}»", "puis"]
    paragraph = TORTURE_ISSUE.split("\n\n")[2]
    for width in range(20, 90):
        text = to_text(paragraph, width=width, typography=FRENCH)
        assert not SIGN_STARTS_LINE.search(text), (width, text)
    assert any(
        SIGN_STARTS_LINE.search(to_text(paragraph, width=width)) for width in range(20, 90)
    )  # without: it happens


# --- every output of a build -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_torture(tmp_path_factory.mktemp("typographie"))


TITLE = f"Ce qu’on «{NN}appelle{NN}» la transition{NB}: vraiment{NN}?"
PREHEADER = f"Au programme{NB}: 3{NN}000 élus, 10{NB}h{NB}30{NN}; à bientôt{NN}!"
PROSE = [
    f"«{NN}Du droit à la formation… au besoin d’une formation adaptée{NN}» par",
    f"Quelle formation{NN}?! Réponse{NB}: «{NN}la bonne{NN}»{NN}; voyez-vous{NN}?",
    f"3{NN}000 personnes, 15{NB}% de plus{NN}!",
    f"(ou 10{NB}h{NB}30) sur https://example.org/page?x=1&y=2{NB}:",
    f"«{NN}adaptée{NN}» et Important{NN}! Déjà typé{NB}: rien de plus.",
]
CARD = [f"Atelier «{NN}citoyen{NN}»{NB}: l’eau", f"Salle «{NN}Pajol{NN}»{NB}: Paris", f"Ajouter à mon agenda{NB}:"]
RUBRIC = [f"L’édito «{NN}du jour{NN}»{NN}!", f"Une rubrique pour l’action{NB}: voir{NN}!"]


def flat(text: str) -> str:
    """Lines joined as the reader reads them (the wrapper breaks only at ordinary spaces)."""
    return re.sub(r"[ \t\n]+", " ", text)


def test_the_html_email_subject_and_preheader_are_typeset(torture: Path) -> None:
    page = (torture / "email" / "001.html").read_text(encoding="utf-8")
    root, _ = parse_html(page)
    text = flat(root.text)
    for expected in [TITLE, PREHEADER, *PROSE, *CARD, *RUBRIC, "Chers lecteurs d’ici,"]:
        assert expected in text
    assert 'a ; b : "c" ! d ?' in text and 'code : "brut" ; rien ! ne change ?' in text
    assert root.find_all("title")[0].text.endswith(TITLE)
    message = email.message_from_bytes((torture / "email" / "001.eml").read_bytes(), policy=policy.default)
    assert message["Subject"] == f"Territoires Pilotes{NB}: l’essentiel{NN}!"
    assert "Chers lecteurs d’ici," in message.get_body(("plain",)).get_content()


def test_the_text_email_is_typeset_and_no_line_starts_with_a_sign(torture: Path) -> None:
    text = (torture / "email" / "001.txt").read_text(encoding="utf-8")
    for expected in [TITLE, *PROSE, *CARD, *RUBRIC, f"🗣️ Édito{NB}: L’édito"]:
        assert expected in flat(text)
    assert 'code : "brut" ; rien ! ne change ?' in text and f"Voir la version en ligne{NB}: https://" in text
    assert not SIGN_STARTS_LINE.search(text)


@pytest.mark.parametrize("slug", [path.name[:3] for path in SAMPLES])
def test_no_line_of_a_sample_issue_text_email_starts_with_a_sign(repo_build: Path, slug: str) -> None:
    text = (repo_build / "email" / f"{slug}.txt").read_text(encoding="utf-8")
    assert not SIGN_STARTS_LINE.search(text), SIGN_STARTS_LINE.findall(text)
    assert NN in text or NB in text


def test_the_web_page_is_typeset(torture: Path) -> None:
    root, _ = parse_html((torture / "numeros" / "001" / "index.html").read_text(encoding="utf-8"))
    text = flat(root.text)
    for expected in [TITLE, *PROSE, *RUBRIC, CARD[0]]:
        assert expected in text
    headings = [flat(h.text).strip() for h in root.find_all("h2")]
    assert f"🗣️ Édito{NB}: L’édito «{NN}du jour{NN}»{NN}!" in headings


def test_the_feed_is_typeset(torture: Path) -> None:
    feed = feedparser.parse(io.BytesIO((torture / "feed.xml").read_bytes()))
    assert not feed.bozo
    (entry,) = feed.entries
    assert entry.title == f"n°1 – {TITLE}"
    assert entry.summary == PREHEADER
    content = flat(parse_html(entry.content[0].value)[0].text)
    for expected in PROSE:
        assert expected in content
    (rubric,) = feedparser.parse(io.BytesIO((torture / "feeds" / "edito.xml").read_bytes())).entries
    assert rubric.title == f"n°1 – Édito{NB}: L’édito «{NN}du jour{NN}»{NN}!"


def test_the_calendars_are_typeset_and_keep_their_urls(torture: Path) -> None:
    (path,) = (torture / "calendars" / "sessions").glob("*.ics")
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    (event,) = calendar.walk("VEVENT")
    assert str(event["summary"]) == CARD[0] and str(calendar["name"]) == CARD[0]
    assert str(event["location"]) == f"{CARD[1]} – https://visio.example.org/salle?id=1"
    description = str(event["description"])
    assert f"Un temps d’échange{NN}; venez{NN}!" in description
    assert f"Visio{NB}: https://visio.example.org/salle?id=1" in description
    assert f"n°1{NB}: https://example.org/territoires-pilotes/numeros/001/" in description
    assert str(event["url"]) == "https://visio.example.org/salle?id=1"


# --- settings ----------------------------------------------------------------------------------------


def test_narrow_spaces_off_puts_no_break_spaces_everywhere(tmp_path: Path) -> None:
    dist = build_torture(tmp_path, "\n[typography]\nnarrow_spaces = false\nsmart_quotes = false\n")
    outputs = [
        dist / "email" / "001.html",
        dist / "email" / "001.txt",
        dist / "feed.xml",
        dist / "numeros" / "001" / "index.html",
    ]
    outputs += list((dist / "calendars").rglob("*.ics"))
    for path in outputs:
        text = path.read_text(encoding="utf-8")
        assert NN not in text, path
    text = (dist / "email" / "001.txt").read_text(encoding="utf-8")
    assert f'Quelle formation{NB}?! Réponse{NB}: "la bonne"{NB}; voyez-vous{NB}?' in flat(text)
    assert "Chers lecteurs d'ici," in text and not SIGN_STARTS_LINE.search(text)
