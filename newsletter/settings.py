"""Settings from `newsletter.toml`, typed, every key with a working default.

A folder holding only `issues/` builds: the defaults are the *Territoires Pilotes* letter, with the
seed letter's seven rubrics in order.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.errors import SourceError
from newsletter.model.rubric import Rubric

SETTINGS_FILE = "newsletter.toml"
DEFAULT_FORM_TEXT = (
    "J’accepte de recevoir la lettre par email. Mon adresse ne sert qu’à cet envoi ; je peux me désinscrire, "
    "consulter, modifier ou effacer mes données à tout moment depuis le lien présent dans chaque lettre."
)

DEFAULT_RUBRICS: tuple[Rubric, ...] = (
    Rubric("edito", "Édito", "🗣️", "", ("editorial", "l'edito")),
    Rubric(
        "en-theorie",
        "En théorie…",
        "📖",
        "Une rubrique pour revenir sur les apprentissages donnés et les connaissances assimilées.",
        ("theorie",),
    ),
    Rubric(
        "en-pratique",
        "En pratique…",
        "📝",
        "Une rubrique pour revenir sur les moments de prospective et d’action des territoires.",
        ("pratique",),
    ),
    Rubric(
        "nouvelles",
        "Les nouvelles des territoires…",
        "🔎",
        "Une rubrique pour suivre les évolutions des territoires.",
        ("nouvelles", "nouvelles des territoires", "les nouvelles"),
    ),
    Rubric(
        "en-chantier",
        "En chantier…",
        "📍",
        "Une rubrique pour suivre, du point de vue des alliés et/ou des territoires, les chantiers "
        "menés tout au long de l’accompagnement.",
        ("chantier", "chantiers"),
    ),
    Rubric(
        "a-suivre",
        "À suivre…",
        "🔜",
        "Une rubrique pour rappeler les prochaines échéances.",
        ("agenda", "prochains rendez-vous"),
    ),
    Rubric(
        "inspiration",
        "Inspiration par Territoires Audacieux…",
        "👉",
        "Une rubrique pour vous partager des initiatives à impact positif menées par les "
        "collectivités publiques. Des contenus produits par le média Territoires Audacieux.",
        ("inspiration", "inspirations"),
    ),
)


@dataclass(frozen=True)
class Settings:
    """What a project says about itself; read once, passed everywhere, never mutated."""

    name: str = "Territoires Pilotes"
    description: str = (
        "La lettre des Territoires Pilotes de la Fabrique des transitions, "
        "écrite par les journalistes de Territoires Audacieux."
    )
    base_url: str = "https://example.org/territoires-pilotes"
    language: str = "fr"
    timezone: str = "Europe/Paris"
    sender_name: str = "Territoires Audacieux"
    sender_address: str = "lettre@example.org"
    reply_to: str | None = None
    unsubscribe_url: str = ""
    smart_quotes: bool = True  # [typography]: ' and " typed in prose become ’ and « »
    narrow_spaces: bool = True  # [typography]: U+202F where French wants a narrow space; else U+00A0
    feed_items: int = 20  # issues carried in full by feed.xml (and sections by each rubric feed)
    rubrics: tuple[Rubric, ...] = DEFAULT_RUBRICS
    path: Path | None = None
    tables: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # From `[serve]` (typed and checked by `newsletter.serve.config`): the archive pages carry the
    # sign-up form only when the service's public address is set.
    service_url: str = ""
    form_text: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        serve = self.tables.get("serve") if isinstance(self.tables, Mapping) else None
        serve = serve if isinstance(serve, Mapping) else {}
        if not self.service_url and isinstance(serve.get("public_url"), str):
            object.__setattr__(self, "service_url", serve["public_url"].rstrip("/"))
        if not self.form_text:
            given = serve.get("form_text")
            object.__setattr__(
                self, "form_text", given.strip() if isinstance(given, str) and given.strip() else DEFAULT_FORM_TEXT
            )
        if not self.unsubscribe_url:
            where = self.service_url or self.base_url
            object.__setattr__(self, "unsubscribe_url", f"{where}/desinscription/")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def locale(self) -> str:
        return {"fr": "fr_FR"}.get(self.language, self.language)

    def table(self, name: str) -> Mapping[str, Any]:
        """The raw TOML table `[name]`, for subsystems that type their own settings."""
        value = self.tables.get(name, {})
        return MappingProxyType(value) if isinstance(value, dict) else MappingProxyType({})

    def issue_url(self, slug: str) -> str:
        """The web archive page of an issue: the target of « Voir la version en ligne »."""
        return f"{self.base_url}/numeros/{slug}/"


# key -> (Settings field, expected type, French name of the type)
_NEWSLETTER_KEYS = {
    "name": ("name", str),
    "description": ("description", str),
    "base_url": ("base_url", str),
    "language": ("language", str),
    "timezone": ("timezone", str),
    "unsubscribe_url": ("unsubscribe_url", str),
    "feed_items": ("feed_items", int),
}
_SENDER_KEYS = {
    "name": ("sender_name", str),
    "address": ("sender_address", str),
    "reply_to": ("reply_to", str),
}
_TYPOGRAPHY_KEYS = {
    "smart_quotes": ("smart_quotes", bool),
    "narrow_spaces": ("narrow_spaces", bool),
}
_MULTILINE = ("description",)  # the texts of [newsletter] and [sender] that may run over several lines
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")
_BREAK = re.compile(r"[\r\n\u2028\u2029\x85\x0b\x0c]")
_RUBRIC_KEYS = {"key": str, "title": str, "emoji": str, "tagline": str, "aliases": list}
_TYPE_NAMES: dict[Any, str] = {
    str: "un texte",
    list: "une liste",
    dict: "une table",
    int: "un nombre entier",
    bool: "vrai ou faux",
}


def load_settings(root: Path) -> Settings:
    """Read `root/newsletter.toml`; a missing file means every default."""
    path = root / SETTINGS_FILE
    if not path.exists():
        return Settings(path=None)
    text = _read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = _toml_error_line(str(error))
        raise SourceError(path, line, "syntaxe TOML invalide dans les réglages") from error
    return _settings_from(data, path, text)


def _settings_from(data: dict[str, Any], path: Path, text: str) -> Settings:
    values: dict[str, Any] = {}
    for table, keys in (("newsletter", _NEWSLETTER_KEYS), ("sender", _SENDER_KEYS), ("typography", _TYPOGRAPHY_KEYS)):
        section = data.get(table, {})
        if not isinstance(section, dict):
            raise SourceError(path, _line_of(text, table), f"« [{table}] » doit être une table")
        if problem := table_problem(section, {key: kind for key, (_, kind) in keys.items()}, table, named=False):
            raise SourceError(path, _line_of(text, problem[0]), problem[1])
        if broken := _broken_line(section, _MULTILINE):
            raise SourceError(path, _line_of(text, broken), f"« {broken} » doit tenir sur une ligne")
        values.update((keys[key][0], value) for key, value in section.items())
    if "rubrics" in data:
        values["rubrics"] = _rubrics_from(data["rubrics"], path, text)
    if values.get("feed_items", 1) < 1:
        raise SourceError(path, _line_of(text, "feed_items"), "« feed_items » doit être un nombre entier d’au moins 1")
    if wrong := _language_problem(values.get("language", Settings.language)):
        raise SourceError(path, _line_of(text, "language"), wrong)
    timezone = values.get("timezone", Settings.timezone)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise SourceError(path, _line_of(text, "timezone"), f"fuseau horaire inconnu « {timezone} »") from error
    return Settings(**values, path=path, tables=data)


def _rubrics_from(entries: Any, path: Path, text: str) -> tuple[Rubric, ...]:
    if not isinstance(entries, list) or not entries or not all(isinstance(entry, dict) for entry in entries):
        raise SourceError(
            path, _line_of(text, "rubrics"), "« [[rubrics]] » doit lister au moins une rubrique, chacune une table"
        )
    rubrics, seen = [], set()
    for number, entry in enumerate(entries):
        if problem := table_problem(entry, _RUBRIC_KEYS, "[rubrics]"):
            raise SourceError(path, _rubric_line(text, number, problem[0]), problem[1])
        if broken := _broken_line(entry, ("tagline",)):
            raise SourceError(path, _rubric_line(text, number, broken), f"« {broken} » doit tenir sur une ligne")
        for required in ("key", "title"):
            if not entry.get(required):
                raise SourceError(path, _rubric_line(text, number), f"une rubrique n’a pas de « {required} »")
        if entry["key"] in seen:
            raise SourceError(
                path, _rubric_line(text, number, "key"), f"rubrique « {entry['key']} » déclarée deux fois"
            )
        seen.add(entry["key"])
        aliases = entry.get("aliases", [])
        if not all(isinstance(alias, str) for alias in aliases):
            raise SourceError(path, _rubric_line(text, number, "aliases"), "« aliases » doit être une liste de textes")
        rubrics.append(
            Rubric(entry["key"], entry["title"], entry.get("emoji", ""), entry.get("tagline", ""), tuple(aliases))
        )
    return tuple(rubrics)


def _language_problem(language: str) -> str | None:
    """Why `language` cannot date an issue, or None. French is written by our own formatter; any
    other language is Babel’s, which is imported only then (25 ms that a French project never pays)."""
    hint = "écrivez un code de langue comme « fr » ou « fr_BE »"
    if not _LANGUAGE.match(language):
        return f"langue illisible « {language} » : {hint}"
    if language.lower().split("-")[0].split("_")[0] == "fr":
        return None
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(language.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return f"langue inconnue « {language} » : {hint}"
    return None


def _broken_line(table: Mapping[str, Any], multiline: Iterable[str]) -> str | None:
    """The first text setting but `multiline` that holds a line break: a name, an address or a URL
    goes into one header or one content line of the email and the calendars, where a break would
    start another."""
    return next(
        (
            key
            for key, value in table.items()
            if isinstance(value, str) and key not in multiline and _BREAK.search(value)
        ),
        None,
    )


def _rubric_line(text: str, number: int, key: str = "") -> int | None:
    """The line of `key` in the `number`-th « [[rubrics]] » table (or of its header), so that a
    mistake in the fifth rubric is not located at the first rubric's same key."""
    lines = text.splitlines()
    headers = [index for index, line in enumerate(lines) if re.match(r"^\s*\[\[\s*rubrics\s*\]\]", line)]
    if number >= len(headers):  # an inline array: no table of its own to search
        return _line_of(text, key or "rubrics")
    start = headers[number]
    end = headers[number + 1] if number + 1 < len(headers) else len(lines)
    if key:
        setting = re.compile(rf"^\s*{re.escape(key)}\s*=")
        found = next((index for index in range(start, end) if setting.match(lines[index])), None)
        if found is not None:
            return found + 1
    return start + 1


def table_problem(
    table: Mapping[str, Any], keys: Mapping[str, type | tuple[type, ...]], name: str, named: bool = True
) -> tuple[str, str] | None:
    """The first unknown key or mistyped value of a settings table, as (key, French message): the one
    check of `newsletter.toml`'s tables ([newsletter], [sending], [serve]…). `named` says the table
    in a type error too."""
    for key, value in table.items():
        if key not in keys:
            return key, f"réglage inconnu « {key} » dans [{name}] (connus : {', '.join(sorted(keys))})"
        if wanted := type_problem(value, keys[key]):
            return key, f"« {key} »{f' dans [{name}]' if named else ''} doit être {wanted}"
    return None


def type_problem(value: Any, expected: type | tuple[type, ...]) -> str | None:
    """What a setting should have been (« un texte »), or None when `value` is of the expected type;
    TOML's true and false are never numbers."""
    if isinstance(value, expected) and not (isinstance(value, bool) and expected is not bool):
        return None
    return _TYPE_NAMES.get(expected, "un nombre")


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SourceError(path, line, "le fichier n’est pas encodé en UTF-8") from error


def _line_of(text: str, key: str, occurrence: int = 1) -> int | None:
    """The line that sets `key` (or opens its table, or gives it as a value), to locate a bad value."""
    pattern = re.compile(rf"^\s*(\[+\s*{re.escape(key)}\s*\]+|{re.escape(key)}\s*=|.*=\s*\"{re.escape(key)}\")")
    found = [number for number, line in enumerate(text.splitlines(), start=1) if pattern.match(line)]
    return found[min(occurrence, len(found)) - 1] if found else None


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None
