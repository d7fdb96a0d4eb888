"""Lists as editors type them (2, 3 or 4 spaces, ordered or not, paragraphs inside items) reach
every reader nested: the email's HTML, its text version, the web page and the feed."""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET

from conftest import issue_text
from support.htmldoc import Element, parse_html
from test_feed import build_project

LISTS_BODY = """
    Bonjour à toutes et à tous,

    Une introduction.

    ## Édito

    Avec deux espaces :

    - Deux-A
      - Deux-A-un
        - Deux-A-un-i
      - Deux-A-deux
    - Deux-B

    Avec trois espaces, numérotée :

    1. Trois-A
       1. Trois-A-un
       2. Trois-A-deux
    2. Trois-B

    Avec quatre espaces, mélangée :

    1. Quatre-A
        - Quatre-A-puce
            1. Quatre-A-puce-un
    2. Quatre-B

    Sans ligne vide avant la liste :
    - Colle-A
      - Colle-A-un

    Avec des paragraphes :

    - Para-A

      Suite de Para-A.

      - Para-A-sous
    - Para-B

    1. Temps-A
       - Temps-A-puce

       Suite de Temps-A.
    2. Temps-B

    ```
    - pas-une-liste
      - dans-un-bloc-de-code
    ```

    ---

    À bientôt !
    """

# (depth, list tag, the item's own words) of every item, in document order
OUTLINE = [
    (0, "ul", "Deux-A"), (1, "ul", "Deux-A-un"), (2, "ul", "Deux-A-un-i"), (1, "ul", "Deux-A-deux"), (0, "ul", "Deux-B"),
    (0, "ol", "Trois-A"), (1, "ol", "Trois-A-un"), (1, "ol", "Trois-A-deux"), (0, "ol", "Trois-B"),
    (0, "ol", "Quatre-A"), (1, "ul", "Quatre-A-puce"), (2, "ol", "Quatre-A-puce-un"), (0, "ol", "Quatre-B"),
    (0, "ul", "Colle-A"), (1, "ul", "Colle-A-un"),
    (0, "ul", "Para-A Suite de Para-A."), (1, "ul", "Para-A-sous"), (0, "ul", "Para-B"),
    (0, "ol", "Temps-A Suite de Temps-A."), (1, "ul", "Temps-A-puce"), (0, "ol", "Temps-B"),
]  # fmt: skip

TEXT = """
    - Deux-A
      - Deux-A-un
        - Deux-A-un-i
      - Deux-A-deux
    - Deux-B

    Avec trois espaces, numérotée :

    1. Trois-A
       1. Trois-A-un
       2. Trois-A-deux
    2. Trois-B

    Avec quatre espaces, mélangée :

    1. Quatre-A
       - Quatre-A-puce
         1. Quatre-A-puce-un
    2. Quatre-B

    Sans ligne vide avant la liste :

    - Colle-A
      - Colle-A-un

    Avec des paragraphes :

    - Para-A

      Suite de Para-A.

      - Para-A-sous
    - Para-B

    1. Temps-A

       - Temps-A-puce

       Suite de Temps-A.
    2. Temps-B

    - pas-une-liste
      - dans-un-bloc-de-code
    """


def outline(root: Element) -> list[tuple[int, str, str]]:
    """Every list item under `root`: its depth among lists, its list's tag, its own text (sub-lists apart)."""
    found: list[tuple[int, str, str]] = []

    def walk(element: Element, depth: int) -> None:
        for child in element.children:
            if not isinstance(child, Element):
                continue
            if child.tag in ("ul", "ol"):
                for item in (c for c in child.children if isinstance(c, Element) and c.tag == "li"):
                    found.append((depth, child.tag, own_text(item)))
                    walk(item, depth + 1)
            else:
                walk(child, depth)

    walk(root, 0)
    return found


def own_text(item: Element) -> str:
    parts = []
    for child in item.children:
        if isinstance(child, str):
            parts.append(child)
        elif child.tag not in ("ul", "ol"):
            parts.append(child.text)
    return " ".join(" ".join(parts).split())


def lists_of(html: str) -> list[tuple[int, str, str]]:
    return [
        entry for entry in outline(parse_html(html)[0]) if re.match(r"(Deux|Trois|Quatre|Colle|Para|Temps)-", entry[2])
    ]


def test_nested_lists_come_out_nested_in_the_email_the_text_the_page_and_the_feed(make_project) -> None:
    dist = build_project(make_project, {"issues/001-listes.md": issue_text(LISTS_BODY)})

    assert lists_of((dist / "email" / "001.html").read_text(encoding="utf-8")) == OUTLINE
    assert lists_of((dist / "numeros" / "001" / "index.html").read_text(encoding="utf-8")) == OUTLINE
    feed = ET.parse(dist / "feed.xml").getroot()
    content = feed.find("channel/item/{http://purl.org/rss/1.0/modules/content/}encoded")
    assert lists_of(content.text) == OUTLINE

    text = (dist / "email" / "001.txt").read_text(encoding="utf-8")
    assert textwrap.dedent(TEXT).strip().replace(" :\n", "\u00a0:\n") in text  # typeset: a no-break space before « : »
    assert "<pre" in (dist / "email" / "001.html").read_text(encoding="utf-8")  # the code block stays code
