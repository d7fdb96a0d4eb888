"""The subscriber store, its migrations, addresses and CSV import/export."""

from __future__ import annotations

import io
import sqlite3

import pytest

from newsletter.errors import SourceError
from newsletter.subscribers import (
    AddressError,
    DatabaseError,
    SubscriberError,
    SubscriberStore,
    normalize_address,
    open_database,
)
from newsletter.subscribers.csvio import export_csv, import_csv
from newsletter.subscribers.database import MIGRATIONS, SCHEMA_VERSION
from newsletter.subscribers.store import Entry


@pytest.fixture
def store(tmp_path):
    connection = open_database(tmp_path / "subscribers.sqlite3")
    yield SubscriberStore(connection)
    connection.close()


def write_csv(tmp_path, text: str | bytes, name: str = "abonnes.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


# Addresses ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, normal",
    [
        ("  Lea.Dupont@Example.ORG ", "lea.dupont@example.org"),
        ("jean+lettre@sous.domaine.fr", "jean+lettre@sous.domaine.fr"),
        ("marie@mairie-écully.fr", "marie@xn--mairie-cully-heb.fr"),
    ],
)
def test_addresses_have_one_normal_form(raw, normal):
    assert normalize_address(raw) == normal


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "sans-arobase",
        "@example.org",
        "lea@",
        "lea@localhost",
        "léa@example.org",
        "a b@example.org",
        "lea@example.org\r\nBcc: x@y.org",
        "lea..d@example.org",
        "lea@-bad.org",
    ],
)
def test_invalid_addresses_are_refused(raw):
    with pytest.raises(AddressError):
        normalize_address(raw)


# Database and migrations ------------------------------------------------------------------------


def test_database_is_created_in_wal_mode_at_the_latest_version(tmp_path):
    path = tmp_path / "sub" / "subscribers.sqlite3"
    connection = open_database(path)
    assert path.exists()
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)


def test_an_old_database_is_migrated_and_keeps_its_subscribers(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path, isolation_level=None)
    old.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    old.execute(
        "INSERT INTO subscribers (address, name, created_at, updated_at) VALUES ('lea@example.org', 'Léa', 'x', 'x')"
    )
    old.close()
    connection = open_database(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert SubscriberStore(connection).get("lea@example.org").name == "Léa"
    assert connection.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0


def test_the_sign_up_migration_rebuilds_subscribers_without_losing_the_journal_or_the_feedback(tmp_path):
    path = tmp_path / "v4.sqlite3"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("PRAGMA foreign_keys = ON")
    for n, script in enumerate(MIGRATIONS[:4], start=1):
        old.executescript(script + f"; PRAGMA user_version = {n};")
    old.execute(
        "INSERT INTO subscribers (id, address, status, soft_bounces, created_at, updated_at) "
        "VALUES (7, 'lea@example.org', 'bounced', 2, 'x', 'x')"
    )
    old.execute(
        "INSERT INTO deliveries (issue, subscriber_id, address, status, updated_at) VALUES (3, 7, 'lea@example.org', 'sent', 'x')"
    )
    old.execute(
        "INSERT INTO feedback (message_key, kind, subscriber_id, issue, received_at) VALUES ('k', 'soft', 7, 3, 'x')"
    )
    old.close()
    connection = open_database(path)
    store = SubscriberStore(connection)
    lea = store.get("lea@example.org")
    assert (lea.id, lea.status) == (7, "bounced")
    assert connection.execute("SELECT soft_bounces FROM subscribers").fetchone()[0] == 2
    assert connection.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 1
    assert connection.execute("SELECT count(*) FROM feedback").fetchone()[0] == 1
    assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError):  # the CHECK knows pending, and only the statuses
        connection.execute("UPDATE subscribers SET status = 'perdu'")
    connection.execute("UPDATE subscribers SET status = 'pending'")
    store.erase(store.get("lea@example.org"))  # the journal's and feedback's foreign keys still cascade
    assert connection.execute("SELECT count(*) FROM feedback").fetchone()[0] == 0


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "new.sqlite3"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DatabaseError, match="plus récente"):
        open_database(path)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "abonnes.sqlite3"
    path.write_text("ceci n’est pas une base\n" * 100)
    with pytest.raises(DatabaseError, match="illisible"):
        open_database(path)


# The store --------------------------------------------------------------------------------------


def test_an_address_is_stored_once_whatever_its_case(store):
    first, created = store.add(Entry("Lea@Example.org", name="Léa"))
    again, created_again = store.add(Entry("lea@example.org", territory="Lyon"))
    assert created and not created_again
    assert again.id == first.id and again.name == "Léa" and again.territory == "Lyon"
    assert store.counts()["subscribed"] == 1


def test_remove_unsubscribes_and_purge_erases(store):
    store.add(Entry("lea@example.org"))
    store.remove("LEA@example.org")
    assert store.get("lea@example.org").status == "unsubscribed"
    store.remove("lea@example.org", purge=True)
    assert store.get("lea@example.org") is None
    with pytest.raises(SubscriberError, match="aucun abonné"):
        store.remove("lea@example.org")


@pytest.mark.parametrize("name", ["Léa\r\nBcc: pirate@example.org", "Léa\nDupont", "x" * 201])
def test_names_that_could_inject_headers_are_refused(store, name):
    with pytest.raises(SubscriberError):
        store.add(Entry("lea@example.org", name=name))


def test_the_generated_signing_secret_is_kept(store):
    assert store.signing_secret() == store.signing_secret()
    assert len(store.signing_secret()) >= 32


# CSV import -------------------------------------------------------------------------------------

GOOD_AND_BAD = """email;nom;territoire;rôle;date de consentement
lea@example.org;Léa Dupont;Lyon;élue;2024-01-15
pas-une-adresse;Jean;Lyon;agent;
paul@example.org;Paul;Nantes;agent;03/02/2024
LEA@example.org;Léa bis;;;
court@example.org;Court
anne@example.org;Anne;Rennes;élue;31/02/2024
"""


def test_import_keeps_good_rows_and_reports_each_bad_one_with_its_line(store, tmp_path):
    path = write_csv(tmp_path, GOOD_AND_BAD)
    report = import_csv(store, path)
    assert report.added == 2
    lines = [(p.line, p.message) for p in report.problems]
    assert [line for line, _ in lines] == [3, 5, 6, 7]
    assert "adresse invalide" in lines[0][1]
    assert "en double (déjà ligne 2)" in lines[1][1]
    assert "il manque des colonnes" in lines[2][1]
    assert "date de consentement invalide" in lines[3][1]
    assert all(str(p).startswith(f"{path}:") for p in report.problems)
    lea = store.get("lea@example.org")
    assert (lea.name, lea.territory, lea.role, lea.consent_date) == ("Léa Dupont", "Lyon", "élue", "2024-01-15")
    assert lea.consent_source == "import abonnes.csv"
    assert store.get("paul@example.org").consent_date == "2024-02-03"


def test_import_is_idempotent_and_never_resubscribes(store, tmp_path):
    path = write_csv(tmp_path, GOOD_AND_BAD)
    import_csv(store, path)
    store.remove("paul@example.org")
    again = import_csv(store, path)
    assert (again.added, again.completed, again.unchanged) == (0, 0, 2)
    assert store.get("paul@example.org").status == "unsubscribed"
    assert sum(store.counts().values()) == 2


def test_import_fills_empty_attributes_without_overwriting(store, tmp_path):
    store.add(Entry("lea@example.org", name="Léa"))
    report = import_csv(store, write_csv(tmp_path, "email,name,territory\nlea@example.org,Autre nom,Lyon\n"))
    assert report.completed == 1
    lea = store.get("lea@example.org")
    assert (lea.name, lea.territory) == ("Léa", "Lyon")


def test_rows_in_a_wrong_encoding_are_reported_and_the_others_imported(store, tmp_path):
    data = "email,name\nlea@example.org,Léa\nzoe@example.org,Zoé\n".encode()
    data += "hele@example.org,Hélène\n".encode("cp1252")
    report = import_csv(store, write_csv(tmp_path, data))
    assert report.added == 2
    assert [p.line for p in report.problems] == [4]
    assert "UTF-8" in report.problems[0].message
    assert store.get("hele@example.org") is None


def test_a_cp1252_file_imports_with_its_encoding(store, tmp_path):
    path = write_csv(tmp_path, "email;nom\r\nhele@example.org;Hélène\r\n".encode("cp1252"))
    report = import_csv(store, path, encoding="cp1252")
    assert report.added == 1 and not report.problems
    assert store.get("hele@example.org").name == "Hélène"


def test_a_file_without_an_address_column_is_refused_whole(store, tmp_path):
    with pytest.raises(SourceError) as caught:
        import_csv(store, write_csv(tmp_path, "nom,territoire\nLéa,Lyon\n"))
    assert caught.value.line == 1 and "colonne d’adresse absente" in caught.value.message
    assert sum(store.counts().values()) == 0


def test_an_empty_file_is_refused(store, tmp_path):
    with pytest.raises(SourceError, match="fichier vide"):
        import_csv(store, write_csv(tmp_path, ""))


def test_statuses_in_french_and_a_bom_are_understood(store, tmp_path):
    text = "\ufeffCourriel,Statut\nlea@example.org,désabonné\npaul@example.org,\nzoe@example.org,perdu\n"
    report = import_csv(store, write_csv(tmp_path, text))
    assert store.get("lea@example.org").status == "unsubscribed"
    assert store.get("paul@example.org").status == "subscribed"
    assert [p.line for p in report.problems] == [4]


def test_export_then_import_round_trips(store, tmp_path):
    import_csv(store, write_csv(tmp_path, GOOD_AND_BAD))
    store.remove("paul@example.org")
    out = io.StringIO()
    assert export_csv(store, out) == 2
    other = SubscriberStore(open_database(tmp_path / "other.sqlite3"))
    report = import_csv(other, write_csv(tmp_path, out.getvalue(), "export.csv"))
    assert report.added == 2 and not report.problems
    assert list(other.all()) == list(store.all())
