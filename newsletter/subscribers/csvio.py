"""CSV in and out of the store.

Import is forgiving row by row and strict about the file: a file without an address column is
refused whole, while each bad row (unreadable bytes, missing cells, invalid or repeated address, a
value or a line too long, a NUL byte, a quote left open) is reported with its line and skipped, and
every good row goes in. Importing the same file twice changes nothing the second time, and an
import never resubscribes someone who left.

The file is read line by line, never whole, and `csv` only ever sees one line per row: no value of a
subscriber holds a line break, so a quote left open is reported on its own line instead of swallowing
the rest of the file into one field, and a huge line is skipped without being held in memory.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from newsletter.errors import NewsletterError, SourceError, os_reason
from newsletter.subscribers.store import STATUS_LABELS, Entry, SubscriberStore

MAX_VALUE = 1_000  # characters in a column we keep: an address has at most 254, a name far fewer
MAX_LINE = 65_536  # characters in a line: longer, it is skipped unread (CRM exports have long rows)
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


def import_csv(
    store: SubscriberStore, path: Path, *, encoding: str = "utf-8", source: str | None = None
) -> ImportReport:
    """Import the subscribers of the CSV file at `path` into `store`, in one transaction."""
    path = Path(path)
    report = ImportReport()
    with _open(path, encoding) as stream:
        lines = _Lines(stream, path)
        try:
            dialect = _dialect(lines.peek())
        except _LineError as error:
            raise SourceError(path, error.line, error.message) from None
        records = _records(lines, dialect)
        line, header = next(records, (1, []))
        if isinstance(header, NewsletterError):
            raise SourceError(path, line, str(header))
        if not any(cell.strip() for cell in header):
            raise SourceError(path, 1, "fichier vide : la première ligne doit nommer les colonnes (email, name…)")
        columns = _columns(header, path, report)
        default_source = source if source is not None else f"import {path.name}"
        seen: dict[str, int] = {}
        store.db.execute("BEGIN IMMEDIATE")
        try:
            for line, cells in records:
                try:
                    entry = _entry(cells, columns, header, default_source, seen, line)
                    outcome = store.merge(entry)
                    setattr(report, outcome, getattr(report, outcome) + 1)
                except NewsletterError as error:
                    report.problems.append(SourceError(path, line, f"{error} ; ligne ignorée"))
            store.db.execute("COMMIT")
        except BaseException:
            store.db.execute("ROLLBACK")
            raise
    return report


def _open(path: Path, encoding: str) -> TextIO:
    try:
        # Undecodable bytes become lone surrogates, so that only the rows holding them are refused.
        return open(path, encoding=encoding, errors="surrogateescape", newline="")
    except OSError as error:
        raise SourceError(path, None, f"fichier illisible ({os_reason(error)})") from None
    except LookupError:
        raise SourceError(path, None, f"encodage inconnu « {encoding} »") from None


class _LineError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


class _Lines:
    """The file's lines for `csv.reader`, one per row.

    `new_row()` is called before each row: asked for a second line before the next `new_row()`,
    the reader is inside a quoted value that did not close on its line, and gets a `_LineError`
    instead, so the next row starts on the next line.
    """

    def __init__(self, stream: TextIO, path: Path):
        self.stream, self.path, self.number, self.first, self.given = stream, path, 0, 0, False
        self.ahead: str | None = None

    def peek(self) -> str:
        """The first line (for the delimiter), kept for the reader."""
        if self.ahead is None:
            self.ahead = self._read().removeprefix("\ufeff")
        return self.ahead

    def new_row(self) -> None:
        self.given = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.given:
            raise _LineError(
                self.first,
                "guillemet ouvert jamais refermé sur la ligne (une valeur ne peut pas contenir de retour à la ligne)",
            )
        line = self.ahead if self.ahead is not None else self._read()
        self.ahead = None
        if not line:
            raise StopIteration
        self.given, self.first = True, self.number
        if "\0" in line:
            raise _LineError(self.number, "caractère nul : le fichier est-il bien un CSV, enregistré en texte ?")
        return line

    def _read(self) -> str:
        try:
            line = self.stream.readline(MAX_LINE + 2)  # room for the longest line and its CRLF
        except UnicodeError:  # UTF-8 and one-byte encodings never raise: undecodable bytes are escaped
            # The whole file is in another encoding: a SourceError, not a _LineError, so that the
            # import stops and nothing of it is kept.
            encoding = getattr(self.stream, "encoding", "")
            raise SourceError(
                self.path,
                self.number + 1,
                f"le fichier ne se lit pas en « {encoding} » : enregistrez-le en UTF-8, "
                "ou donnez son encodage avec --encoding (cp1252 pour un CSV d’Excel sous Windows)",
            ) from None
        if not line:
            return ""
        self.number += 1
        length = len(line.rstrip("\r\n"))
        if length > MAX_LINE:
            while line and not line.endswith(("\n", "\r")):
                line = self.stream.readline(MAX_LINE)
                length += len(line.rstrip("\r\n"))
            raise _LineError(
                self.number, f"ligne trop longue ({_count(length)} caractères, {_count(MAX_LINE)} au plus)"
            )
        return line


def _records(lines: _Lines, dialect: type[csv.Dialect]) -> Iterator[tuple[int, list[str] | NewsletterError]]:
    """Each non-blank row with its line, or why that line cannot be read."""
    reader = csv.reader(lines, dialect)
    while True:
        lines.new_row()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except _LineError as error:
            yield error.line, NewsletterError(error.message)
        except csv.Error as error:
            yield lines.first, NewsletterError(f"ligne illisible ({error})")
        else:
            if any(cell.strip() for cell in cells):
                yield lines.first, cells


def _count(number: int) -> str:
    """`65 536`: digits grouped by three, as French writes them (narrow no-break space)."""
    return f"{number:,}".replace(",", "\u202f")


def _dialect(first: str) -> type[csv.Dialect]:
    """Comma, semicolon (French spreadsheets) or tab: whichever the header line uses most."""
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
            path,
            1,
            f"colonne d’adresse absente : l’en-tête ({found}) doit avoir une colonne « email » "
            "(ou « adresse », « courriel »)",
        )
    return columns


def _entry(
    cells: list[str] | NewsletterError,
    columns: dict[str, int],
    header: list[str],
    source: str,
    seen: dict[str, int],
    line: int,
) -> Entry:
    if isinstance(cells, NewsletterError):
        raise cells
    if any("\udc80" <= c <= "\udcff" for cell in cells for c in cell):
        raise NewsletterError(
            "octets illisibles : le fichier n’est pas en UTF-8 (enregistrez-le en UTF-8, "
            "ou importez-le avec --encoding cp1252)"
        )
    width = len(header)
    if len(cells) < width:
        raise NewsletterError(f"il manque des colonnes ({len(cells)} au lieu de {width})")
    if any(cell.strip() for cell in cells[width:]):
        raise NewsletterError(f"trop de colonnes ({len(cells)} au lieu de {width})")
    values = {column: cells[index] for column, index in columns.items()}
    for column, value in values.items():
        if len(value) > MAX_VALUE:
            raise NewsletterError(
                f"valeur trop longue dans la colonne « {header[columns[column]].strip()} » "
                f"({_count(len(value))} caractères, {_count(MAX_VALUE)} au plus)"
            )
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
