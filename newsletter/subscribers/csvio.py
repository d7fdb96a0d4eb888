"""CSV in and out of the store.

Import is forgiving row by row and strict about the file: a file without an address column is
refused whole, while each bad row (unreadable bytes, missing cells, invalid or repeated address)
is reported with its line and skipped, and every good row goes in. Importing the same file twice
changes nothing the second time, and an import never resubscribes someone who left.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, TextIO

from newsletter.errors import NewsletterError, SourceError
from newsletter.subscribers.store import STATUS_LABELS, Entry, SubscriberStore

COLUMNS = ("email", "name", "territory", "role", "status", "consent_date", "consent_source")
_ALIASES = {
    "email": ("email", "e_mail", "mail", "adresse", "adresse_email", "adresse_mail", "adresse_e_mail", "courriel"),
    "name": ("name", "nom", "prenom_nom", "nom_complet", "prenom"),
    "territory": ("territory", "territoire", "collectivite"),
    "role": ("role", "fonction", "qualite"),
    "status": ("status", "statut", "etat"),
    "consent_date": ("consent_date", "date_consentement", "date_de_consentement", "consentement", "date"),
    "consent_source": ("consent_source", "source", "origine", "source_du_consentement"),
}
_STATUS_WORDS = {
    **{status: status for status in STATUS_LABELS},
    "abonne": "subscribed",
    "desabonne": "unsubscribed",
    "desinscrit": "unsubscribed",
    "en_erreur": "bounced",
    "erreur": "bounced",
}


@dataclass
class ImportReport:
    added: int = 0
    completed: int = 0
    unchanged: int = 0
    problems: list[SourceError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def import_csv(store: SubscriberStore, path: Path, *, encoding: str = "utf-8", source: str | None = None) -> ImportReport:
    """Import the subscribers of the CSV file at `path` into `store`, in one transaction."""
    path = Path(path)
    text = _read(path, encoding)
    rows = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    report = ImportReport()
    header = next(rows, None)
    if not header or not any(cell.strip() for cell in header):
        raise SourceError(path, 1, "fichier vide : la première ligne doit nommer les colonnes (email, name…)")
    columns = _columns(header, path, report)
    default_source = source if source is not None else f"import {path.name}"
    seen: dict[str, int] = {}
    store.db.execute("BEGIN IMMEDIATE")
    try:
        for line, cells in _numbered(rows):
            try:
                entry = _entry(cells, columns, len(header), default_source, seen, line)
                if entry is not None:
                    outcome = store.merge(entry)
                    setattr(report, outcome, getattr(report, outcome) + 1)
            except NewsletterError as error:
                report.problems.append(SourceError(path, line, f"{error} ; ligne ignorée"))
        store.db.execute("COMMIT")
    except BaseException:
        store.db.execute("ROLLBACK")
        raise
    return report


def _read(path: Path, encoding: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(path, None, f"fichier illisible ({error.strerror})") from None
    try:
        # Undecodable bytes become lone surrogates, so that only the rows holding them are refused.
        text = data.decode(encoding, errors="surrogateescape")
    except LookupError:
        raise SourceError(path, None, f"encodage inconnu « {encoding} »") from None
    return text.removeprefix("\ufeff")


def _dialect(text: str) -> type[csv.Dialect]:
    """Comma, semicolon (French spreadsheets) or tab: whichever the header line uses most."""
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect


def _key(cell: str) -> str:
    plain = unicodedata.normalize("NFKD", cell.strip().lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else "_" for c in plain).strip("_")


def _columns(header: list[str], path: Path, report: ImportReport) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = _key(cell)
        column = next((c for c, aliases in _ALIASES.items() if key in aliases), None)
        if column is None or column in columns:
            report.ignored_columns.append(cell.strip())
        else:
            columns[column] = index
    if "email" not in columns:
        found = ", ".join(f"« {cell.strip()} »" for cell in header)
        raise SourceError(
            path, 1, f"colonne d’adresse absente : l’en-tête ({found}) doit avoir une colonne « email » "
            "(ou « adresse », « courriel »)"
        )
    return columns


def _numbered(rows: Iterable[list[str]]) -> Iterable[tuple[int, list[str]]]:
    """Each non-blank row with the line it starts on."""
    reader = rows
    start = reader.line_num + 1  # type: ignore[attr-defined]
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield start, cells
        start = reader.line_num + 1  # type: ignore[attr-defined]


def _entry(
    cells: list[str], columns: dict[str, int], width: int, source: str, seen: dict[str, int], line: int
) -> Entry | None:
    if any("\udc80" <= c <= "\udcff" for cell in cells for c in cell):
        raise NewsletterError(
            "octets illisibles : le fichier n’est pas en UTF-8 (enregistrez-le en UTF-8, "
            "ou importez-le avec --encoding cp1252)"
        )
    if len(cells) < width:
        raise NewsletterError(f"il manque des colonnes ({len(cells)} au lieu de {width})")
    if any(cell.strip() for cell in cells[width:]):
        raise NewsletterError(f"trop de colonnes ({len(cells)} au lieu de {width})")
    values = {column: cells[index] for column, index in columns.items()}
    status = _STATUS_WORDS.get(_key(values.get("status", "")) or "subscribed")
    if status is None:
        raise NewsletterError(f"statut inconnu « {values['status'].strip()} » (abonné, désabonné ou en erreur)")
    entry = Entry(
        address=values["email"],
        name=values.get("name", ""),
        territory=values.get("territory", ""),
        role=values.get("role", ""),
        status=status,
        consent_date=values.get("consent_date", ""),
        consent_source=values.get("consent_source", "") or source,
    )
    if entry.address in seen:
        raise NewsletterError(f"adresse {entry.address} en double (déjà ligne {seen[entry.address]})")
    seen[entry.address] = line
    return entry


def export_csv(store: SubscriberStore, out: TextIO, status: str | None = None) -> int:
    """Write the subscribers as UTF-8 CSV with the columns `import_csv` reads; return the count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for s in store.all(status=status):
        writer.writerow((s.address, s.name, s.territory, s.role, s.status, s.consent_date or "", s.consent_source))
        count += 1
    return count
