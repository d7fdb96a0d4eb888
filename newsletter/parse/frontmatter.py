"""The YAML front matter of an issue: split off, parsed, and checked field by field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from newsletter.errors import SourceError
from newsletter.parse.yamltext import FAST_LOADER, yaml_reason

FENCE = "---"
KNOWN_FIELDS = ("number", "date", "title", "subject", "preheader", "draft", "programme")


@dataclass(frozen=True)
class FrontMatter:
    number: int
    date: dt.date
    title: str
    subject: str
    preheader: str
    draft: bool
    programmes: tuple[str, ...]  # the ids of the programmes of calendars/ the issue announces
    programme_line: int
    unknown: tuple[tuple[str, int], ...]
    body_line: int  # line of the file where the body starts


def split_front_matter(path: Path, text: str) -> tuple[str, str, int]:
    """Return (yaml text, body text, line where the body starts)."""
    lines = text.split("\n")
    if lines[0].strip() != FENCE:
        raise SourceError(path, 1, "en-tête YAML absent : le fichier doit commencer par une ligne « --- »")
    for index in range(1, len(lines)):
        if lines[index].strip() == FENCE:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    raise SourceError(path, 1, "en-tête YAML non fermé : ajoutez une ligne « --- » après les réglages")


def parse_front_matter(path: Path, text: str) -> tuple[FrontMatter, str]:
    """Parse the front matter; return it with the body that follows."""
    source, body, body_line = split_front_matter(path, text)
    data = _load_yaml(path, source)
    lines = {key: _line_of_key(source, key) for key in data}
    missing = [key for key in ("number", "date", "title") if key not in data]
    if missing:
        raise SourceError(path, 1, f"en-tête incomplet : il manque « {missing[0]} »")
    front = FrontMatter(
        number=_number(path, data["number"], lines["number"]),
        date=_date(path, data["date"], lines["date"]),
        title=_text(path, data, "title", lines, required=True),
        subject=_text(path, data, "subject", lines),
        preheader=_text(path, data, "preheader", lines),
        draft=_flag(path, data, "draft", lines),
        programmes=_ids(path, data, "programme", lines),
        programme_line=lines.get("programme", 0),
        unknown=tuple((key, lines[key]) for key in data if key not in KNOWN_FIELDS),
        body_line=body_line,
    )
    return front, body


def _load_yaml(path: Path, source: str) -> dict[str, Any]:
    try:
        data = yaml.load(source, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 2 if mark else 2
        raise SourceError(path, line, f"en-tête YAML invalide ({yaml_reason(error)})") from error
    except yaml.YAMLError as error:
        raise SourceError(path, 2, "en-tête YAML invalide") from error
    if data is None:
        raise SourceError(path, 1, "en-tête YAML vide : il faut au moins number, date et title")
    if not isinstance(data, dict):
        raise SourceError(path, 2, "en-tête YAML invalide : attendu des lignes « clé: valeur »")
    return {str(key): value for key, value in data.items()}


class _Loader(FAST_LOADER):  # type: ignore[misc,valid-type]
    """Safe YAML that leaves dates as text, so that « 2022-02-30 » is our error, not a crash."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _line_of_key(source: str, key: str) -> int:
    for number, line in enumerate(source.split("\n"), start=2):
        if line.split(":", 1)[0].strip() == key:
            return number
    return 2


def _number(path: Path, value: Any, line: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SourceError(path, line, f"« number » doit être un nombre entier positif, pas « {value} »")
    return value


def _date(path: Path, value: Any, line: int) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise SourceError(path, line, f"« date » n’est pas une date valide (AAAA-MM-JJ) : « {value} »")


def _text(path: Path, data: dict[str, Any], key: str, lines: dict[str, int], required: bool = False) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise SourceError(path, lines.get(key, 2), f"« {key} » doit être un texte")
    value = str(value).strip()
    if required and not value:
        raise SourceError(path, lines.get(key, 2), f"« {key} » est vide")
    if "\n" in value or "\r" in value:
        raise SourceError(path, lines.get(key, 2), f"« {key} » doit tenir sur une ligne")
    return value


def _ids(path: Path, data: dict[str, Any], key: str, lines: dict[str, int]) -> tuple[str, ...]:
    """One id, or a list of them (« programme: journees-2018 », « programme: [a, b] »)."""
    value = data.get(key) or []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() and "\n" not in v for v in values):
        raise SourceError(
            path, lines.get(key, 2), f"« {key} » doit être l’id d’un programme de calendars/, ou une liste d’ids"
        )
    return tuple(v.strip() for v in values)


def _flag(path: Path, data: dict[str, Any], key: str, lines: dict[str, int]) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise SourceError(path, lines.get(key, 2), f"« {key} » doit valoir true ou false")
    return value
