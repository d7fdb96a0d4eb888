"""`newsletter subscribers import|add|remove|list|export`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from newsletter.cli.subscribers import subscribers


def run(root: Path, *args: str):
    result = CliRunner().invoke(subscribers, [args[0], "-C", str(root), *map(str, args[1:])])
    assert "Traceback" not in result.output
    return result


def test_import_reports_bad_rows_with_their_line_and_keeps_the_good_ones(tmp_path):
    csv = tmp_path / "abonnes.csv"
    csv.write_text("email;nom\nlea@example.org;Léa\nfaux;X\nlea@example.org;Léa\n", encoding="utf-8")
    result = run(tmp_path, "import", csv)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{csv}:3: adresse invalide « faux »")
    assert lines[1] == f"{csv}:4: adresse lea@example.org en double (déjà ligne 2) ; ligne ignorée"
    assert lines[2] == "1 ajouté(s), 0 complété(s), 0 déjà présent(s), 2 ligne(s) ignorée(s)."
    assert (tmp_path / "subscribers.sqlite3").exists()
    listing = run(tmp_path, "list")
    assert "lea@example.org\tLéa\t\t\tabonné" in listing.output


def test_import_of_a_missing_file_or_without_address_column_is_one_line(tmp_path):
    missing = run(tmp_path, "import", tmp_path / "absent.csv")
    assert missing.exit_code == 1 and "absent.csv: fichier illisible" in missing.output
    csv = tmp_path / "sans.csv"
    csv.write_text("nom\nLéa\n", encoding="utf-8")
    result = run(tmp_path, "import", csv)
    assert result.exit_code == 1 and result.output.startswith(f"{csv}:1: colonne d’adresse absente")


def listed(root: Path) -> list[str]:
    return [line.split("\t")[0] for line in run(root, "list").output.splitlines() if "\t" in line]


def test_a_file_in_another_encoding_than_told_is_one_line_and_imports_nothing(tmp_path):
    utf8 = tmp_path / "utf8.csv"
    utf8.write_text("email,name\nlea@example.org,Léa\n", encoding="utf-8")
    result = run(tmp_path, "import", utf8, "--encoding", "utf-16")
    assert result.exit_code == 1
    assert result.output.startswith(f"{utf8}:1: le fichier ne se lit pas en « utf-16 » : enregistrez-le en UTF-8")
    # UTF-16 cut in the middle of a character on its third line: the rows before it are not kept either
    cut = tmp_path / "coupe.csv"
    cut.write_bytes("email,name\nlea@example.org,Léa\npaul@example.org,Paul\n".encode("utf-16")[:-3])
    result = run(tmp_path, "import", cut, "--encoding", "utf-16")
    assert result.exit_code == 1 and result.output.startswith(f"{cut}:3: le fichier ne se lit pas"), result.output
    assert listed(tmp_path) == []


def test_a_one_megabyte_line_is_one_reported_line_and_every_other_row_is_imported(tmp_path):
    before = [f"avant{n}@example.org,Avant {n},Lyon" for n in range(3)]
    after = [f"apres{n}@example.org,Après {n},Nantes" for n in range(3)]
    huge = "geant@example.org," + "x" * 1_048_576 + ",Lyon"
    csv = tmp_path / "abonnes.csv"
    csv.write_text("\n".join(["email,name,territory", *before, huge, *after]) + "\n", encoding="utf-8")
    result = run(tmp_path, "import", csv)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{csv}:5: ligne trop longue (1\u202f048\u202f599 caractères, 65\u202f536 au plus) ; ligne ignorée",
        "6 ajouté(s), 0 complété(s), 0 déjà présent(s), 1 ligne(s) ignorée(s).",
    ]
    assert sorted(listed(tmp_path)) == sorted(line.split(",")[0] for line in before + after)


def test_each_malformed_row_is_one_line_with_its_number_and_the_good_ones_are_imported(tmp_path):
    rows = [
        "email;nom;territoire",
        "a@example.org;A;Lyon",
        'b@example.org;"Bé;Lyon',  # a quote that never closes: it would swallow the rows below
        "c@example.org;C;Nantes",
        "d@example.org;D\0;Paris",
        "e@example.org;" + "e" * 5000 + ";Paris",
        "f@example.org;F",
        "g@example.org;G;Lyon;en trop",
        "h@example.org;" + "h" * 200_000 + ";Lyon",  # over the csv module's own field limit (128 KB)
        'i@example.org;"Isabelle; dite « Isa »";Rennes',
        'j@example.org;"J;Brest',  # the last line, without its line break
    ]
    csv = tmp_path / "abonnes.csv"
    csv.write_text("\r\n".join(rows), encoding="utf-8")
    result = run(tmp_path, "import", csv)
    assert result.exit_code == 1
    unclosed = "guillemet ouvert jamais refermé sur la ligne (une valeur ne peut pas contenir de retour à la ligne)"
    assert result.output.splitlines() == [
        f"{csv}:3: {unclosed} ; ligne ignorée",
        f"{csv}:5: caractère nul : le fichier est-il bien un CSV, enregistré en texte ? ; ligne ignorée",
        f"{csv}:6: valeur trop longue dans la colonne « nom » (5\u202f000 caractères, 1\u202f000 au plus) ; ligne ignorée",
        f"{csv}:7: il manque des colonnes (2 au lieu de 3) ; ligne ignorée",
        f"{csv}:8: trop de colonnes (4 au lieu de 3) ; ligne ignorée",
        f"{csv}:9: ligne trop longue (200\u202f019 caractères, 65\u202f536 au plus) ; ligne ignorée",
        f"{csv}:11: {unclosed} ; ligne ignorée",
        "3 ajouté(s), 0 complété(s), 0 déjà présent(s), 7 ligne(s) ignorée(s).",
    ]
    assert sorted(listed(tmp_path)) == ["a@example.org", "c@example.org", "i@example.org"]


def test_add_remove_list_export(tmp_path):
    assert (
        run(tmp_path, "add", "Lea@Example.org", "--name", "Léa", "--territory", "Lyon").output
        == "abonné : lea@example.org\n"
    )
    assert run(tmp_path, "add", "paul@example.org").exit_code == 0
    assert run(tmp_path, "add", "lea@example.org").output.startswith("déjà abonné")
    assert run(tmp_path, "remove", "paul@example.org").output == "désabonné : paul@example.org\n"
    assert run(tmp_path, "add", "paul@example.org").output == "réabonné : paul@example.org\n"
    assert run(tmp_path, "remove", "paul@example.org").exit_code == 0
    subscribed = run(tmp_path, "list", "--status", "subscribed").output
    assert "lea@example.org" in subscribed and "paul@example.org" not in subscribed
    exported = run(tmp_path, "export").output.splitlines()
    assert exported[0] == "email,name,territory,role,status,consent_date,consent_source"
    assert exported[1].startswith("lea@example.org,Léa,Lyon,,subscribed,") and exported[1].endswith(",ajout manuel")
    assert exported[2].startswith("paul@example.org,,,,unsubscribed,")
    out = tmp_path / "export.csv"
    assert run(tmp_path, "export", out, "--status", "unsubscribed").exit_code == 0
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("paul@example.org")
    assert run(tmp_path, "remove", "paul@example.org", "--purge").output == "effacé : paul@example.org\n"
    assert "paul" not in run(tmp_path, "export").output


def test_bad_additions_are_one_french_line(tmp_path):
    bad = run(tmp_path, "add", "pas-une-adresse")
    assert bad.exit_code == 1 and bad.output.startswith("adresse invalide")
    injected = run(tmp_path, "add", "lea@example.org", "--name", "Léa\nBcc: x@y.org")
    assert injected.exit_code == 1 and "retour à la ligne" in injected.output
    unknown = run(tmp_path, "remove", "personne@example.org")
    assert unknown.exit_code == 1 and unknown.output == "aucun abonné à l’adresse personne@example.org\n"


def test_list_and_export_count_every_state_and_each_consent_source_and_purge_pending_removes_stale_sign_ups(tmp_path):
    from newsletter.subscribers import SubscriberStore, open_database

    run(tmp_path, "add", "lea@example.org")
    run(tmp_path, "add", "paul@example.org", "--source", "salon 2024")
    run(tmp_path, "add", "efface@example.org")
    run(tmp_path, "remove", "efface@example.org", "--purge")
    store = SubscriberStore(open_database(tmp_path / "subscribers.sqlite3"))
    store.request_signup("vieux@example.org", "")
    store.request_signup("neuf@example.org", "")
    store.db.execute(
        "UPDATE subscribers SET requested_at = '2020-01-01T00:00:00+00:00' WHERE address = 'vieux@example.org'"
    )
    store.db.close()
    for command in ("list", "export"):
        output = run(tmp_path, command).output
        assert (
            "en tout 2 abonné(s), 2 en attente de confirmation, 0 désabonné(s), 0 en erreur, 1 effacé(s)." in output
        ), output
        assert "Abonnés par origine du consentement : ajout manuel 1, salon 2024 1." in output
    result = run(tmp_path, "purge-pending", "--older-than", "30d")
    assert result.exit_code == 0 and result.output.startswith("1 inscription(s) non confirmée(s) effacée(s)")
    assert "neuf@example.org" in listed(tmp_path) and "vieux@example.org" not in listed(tmp_path)
    bad = run(tmp_path, "purge-pending", "--older-than", "trente jours")
    assert bad.exit_code == 1 and "durée invalide « trente jours »" in bad.output
