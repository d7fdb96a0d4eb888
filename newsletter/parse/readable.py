"""Links and images every reader can use: the warnings `newsletter check` gives at their line.

A screen reader lists an email's links out of their sentences, and many mail clients block images:
a link must say where it goes, an image must say what it shows and keep its place. Four warnings:
- a sentence that points at a link that is not there (« à retrouver ici. » with no link: lost when
  the letter was exported as text);
- link text that says nothing (« ici », « cliquez ici », an address as text);
- an image whose alt text is missing or is its file name (a missing one is already a lint of the
  issue parser);
- an image without a width (Outlook draws it at its own size, however wide).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

Line = tuple[int, str]  # (line of the file, its text)

# Words that point at a link: each with the name the warning gives it.
_POINTERS = (  # the most telling first: a sentence gets one warning; with a word each needs, in lower case
    (re.compile(r"\bse télécharge(?:nt)?\b", re.I), "se télécharge", "télécharge"),
    (re.compile(r"\b(?:en|au format) PDF\b", re.I), "en PDF", "pdf"),
    (re.compile(r"\bà retrouver sur\b", re.I), "à retrouver sur", "retrouver sur"),
    (re.compile(r"\bci-dessous\b", re.I), "ci-dessous", "ci-dessous"),
    (re.compile(r"(?<![\w’'-])ici\b(?!-|\s+(?:et maintenant|même|bas)\b)", re.I), "ici", "ici"),
)
_HAS_LINK = re.compile(r"\]\(|\]\[|<a\s|<(?:https?://|mailto:)|<[^>\s@]+@[^>\s]+>|https?://|\bwww\.", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_STARTS_UNIT = re.compile(r"^\s*(?:[-*+]\s|\d{1,9}[.)]\s|#{1,6}\s|>)")  # a list item, heading or quote starts anew

_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(\s*<?[^)\s>]*>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
_HTML_LINK = re.compile(r"<a\b[^>]*>(.*?)</a>", re.I)
_AUTOLINK = re.compile(r"<((?:https?://|www\.)[^>\s]+)>", re.I)
_EMPTY_WORDS = {
    "ici",
    "cliquez ici",
    "cliquer ici",
    "clic ici",
    "par ici",
    "là",
    "lien",
    "ce lien",
    "le lien",
    "cliquez",
    "en savoir plus",
}
_ADDRESS = re.compile(r"^(?:https?://|www\.)\S+$", re.I)

_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)(\{[^}]*\})?")
_HTML_IMAGE = re.compile(r"<img\b[^>]*>", re.I)
_FILE_NAME = re.compile(r"^[^\s/]+\.(?:png|jpe?g|gif|webp|svg|bmp|tiff?|avif)$", re.I)


def readability_problems(lines: Iterable[Line]) -> Iterator[Line]:
    """(line, French message) of each warning, for the lines of an issue outside fenced blocks."""
    units = list(_units(lines))
    for index, unit in enumerate(units):
        following = units[index + 1] if index + 1 < len(units) else []
        yield from _pointers(unit, following)
        for number, text in unit:
            yield from ((number, message) for message in _link_texts(text))
            yield from ((number, message) for message in _images(text))


def _units(lines: Iterable[Line]) -> Iterator[list[Line]]:
    """Paragraphs, list items, headings and quotes: runs of lines read as one text."""
    unit: list[Line] = []
    for number, text in lines:
        if not text.strip() or (unit and (number != unit[-1][0] + 1 or _STARTS_UNIT.match(text))):
            if unit:
                yield unit
            unit = []
        if text.strip():
            unit.append((number, text))
    if unit:
        yield unit


def _pointers(unit: list[Line], following: list[Line]) -> Iterator[Line]:
    text = "\n".join(line for _, line in unit)
    if not any(hint in text.lower() for _, _, hint in _POINTERS):  # most paragraphs: no regex at all
        return
    start = 0
    for sentence in _SENTENCE_END.split(text):
        offset = text.index(sentence, start)
        start = offset + len(sentence)
        if _has_link(sentence):
            continue
        lowered = sentence.lower()
        for pattern, name, hint in _POINTERS:
            found = pattern.search(sentence) if hint in lowered else None
            if not found or (name == "ci-dessous" and any(_has_link(line) for _, line in following)):
                continue
            line = unit[0][0] + text.count("\n", 0, offset + found.start())
            yield (
                line,
                f"« {name} » renvoie à un lien absent de la phrase : ajoutez-le, sur les mots qui disent où il mène ([le replay de la journée](https://…))",
            )
            break


def _has_link(text: str) -> bool:
    """`_HAS_LINK`, after the substring tests that rule out most lines (the regex alone is slow)."""
    lowered = text.lower()
    return any(sign in lowered for sign in ("](", "][", "<", "http", "www.")) and bool(_HAS_LINK.search(text))


def _link_texts(text: str) -> Iterator[str]:
    if "](" not in text and "<" not in text:
        return
    shown = [m.group(1) for m in _LINK.finditer(text)] + [m.group(1) for m in _HTML_LINK.finditer(text)]
    for words in shown:
        plain = re.sub(r"<[^>]+>|[*_`]", "", words).strip()
        if _ADDRESS.match(plain) or plain.lower().strip(" .:!…»«") in _EMPTY_WORDS:
            yield f"lien dont le texte ne dit pas où il mène (« {plain} ») : écrivez ce qu’on y trouve, [le programme de la journée](https://…)"
    for address in _AUTOLINK.finditer(text):
        yield f"adresse écrite comme texte de lien (« {address.group(1)} ») : écrivez ce qu’on y trouve, [le programme de la journée]({address.group(1)})"


def _images(text: str) -> Iterator[str]:
    if "![" not in text and "<" not in text:
        return
    found = [
        (m.group(1), m.group(2), bool(m.group(3) and re.search(r"\bwidth\s*=", m.group(3))))
        for m in _IMAGE.finditer(text)
    ]
    for tag in _HTML_IMAGE.finditer(text):
        alt, src, width = (_quoted(tag.group(0), name) for name in ("alt", "src", "width"))
        found.append((alt, src, bool(width)))
    for alt, src, has_width in found:
        if alt.strip() and _is_file_name(alt.strip(), src):
            yield f"texte alternatif « {alt.strip()} » : c’est le nom du fichier ; décrivez ce que montre l’image"
        if not has_width:
            yield 'image sans largeur : donnez-la en pixels après l’image, ![…](…){ width="552" } (Outlook l’affiche sinon à sa taille réelle)'


def _quoted(tag: str, name: str) -> str:
    """An HTML attribute's value, spaces included when it is quoted."""
    found = re.search(rf"\b{name}\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]*))", tag, re.I)
    return next((group for group in found.groups() if group is not None), "") if found else ""


def _is_file_name(alt: str, src: str) -> bool:
    name = PurePosixPath(unquote(urlsplit(src).path)).name
    return bool(_FILE_NAME.match(alt)) or (
        bool(name) and alt.lower() in (name.lower(), PurePosixPath(name).stem.lower())
    )
