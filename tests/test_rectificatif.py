"""`newsletter rectificatif`: a session of a sent issue changes; `check` says so, the readers are told once.

The repository's first sample issue is sent (outbox or a real SMTP server on loopback), then edited
as an editor would; what subscribers receive is parsed with `email`, its `.ics` with ical.js.
"""

from __future__ import annotations

import email
import json
import signal
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest
from support import icaljs
from support.kill import KillAtMessage
from support.smtp import FaultyHandler, SMTPServer
from test_send_cli import ROOT, invoke, make_sending_project, subscribe

from newsletter.cli import cli
from newsletter.pipeline import check
from newsletter.project import load_project

ISSUE = "issues/001-comprendre-reflechir-agir.md"
AGORA = "2022-04-28-agora-sessions-entre-pairs"
GENERIQUE = "2022-04-21-journee-generique-management-cooperatif"
THEMATIQUE = "2022-04-04-journee-thematique-alimentation"


@pytest.fixture(scope="module")
def ical_reader():
    try:
        icaljs.install()
    except icaljs.NodeMissing as missing:
        pytest.fail(str(missing))
    return icaljs.read


def plain(text: str) -> str:
    """What a reader reads, the typography's no-break spaces as ordinary ones."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def edit(root: Path, old: str, new: str) -> None:
    path = root / ISSUE
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def move_agora(root: Path, start: str = "2022-04-29 14:00", location: str = "En visio") -> None:
    path = root / ISSUE
    text = path.read_text(encoding="utf-8")
    head, block = text.split(f"id: {AGORA}\n", 1)
    block, tail = block.split("```", 1)
    lines = [line for line in block.splitlines() if not line.startswith(("start:", "duration:", "location:"))]
    lines += [f"start: {start}", "duration: 2h", f"location: {location}"]
    path.write_text(head + f"id: {AGORA}\n" + "\n".join(lines) + "\n```" + tail, encoding="utf-8")


def cancel(root: Path, session_id: str) -> None:
    path = root / ISSUE
    head, block = path.read_text(encoding="utf-8").split(f"id: {session_id}\n", 1)
    path.write_text(
        head + f"id: {session_id}\n" + block.replace("status: confirmed", "status: cancelled", 1), encoding="utf-8"
    )


def sent_project(tmp_path: Path, count: int = 4, unsubscribed=(3,)) -> tuple[Path, list[str]]:
    root = make_sending_project(tmp_path)
    addresses = subscribe(root, count, unsubscribed=unsubscribed)
    result = invoke(cli, "send", "-C", root, "1")
    assert result.exit_code == 0, result.output
    return root, addresses


def outbox(root: Path, round_: int = 1) -> list[email.message.EmailMessage]:
    folder = root / "outbox" / f"001-rectificatif-{round_}"
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted(folder.glob("*.eml"))]


def attachments(message) -> dict[str, tuple[str, bytes]]:
    """filename → (method, bytes) of each .ics attached."""
    return {
        part.get_filename(): (part.get_param("method"), part.get_payload(decode=True))
        for part in message.iter_attachments()
    }


# check ------------------------------------------------------------------------------------------


def test_check_says_what_changed_since_the_issue_was_sent_at_the_session_line_and_names_the_command(tmp_path):
    root, _ = sent_project(tmp_path)
    assert "séance « " not in invoke(cli, "check", "-C", root).output
    move_agora(root)
    cancel(root, GENERIQUE)
    result = invoke(cli, "check", "-C", root)
    assert result.exit_code == 0, result.output
    lines = (root / ISSUE).read_text(encoding="utf-8").splitlines()
    agora_line = next(n for n, line in enumerate(lines, 1) if line == f"id: {AGORA}") - 1  # the fence
    expected = (
        f"{ISSUE}:{agora_line}: attention : séance « Agora des sessions entre pairs » : jeudi 28 avril 2022 → "
        "vendredi 29 avril 2022, 14h–16h ; lieu : Paris → En visio (envoyez « newsletter rectificatif 1 »)"
    )
    assert any(line.endswith(expected) for line in result.output.splitlines()), result.output
    assert (
        "management coopératif (visio) » : statut : confirmée → annulée (envoyez « newsletter rectificatif 1 »)"
        in result.output
    )
    alone = check(load_project(root), only=1)  # the issue alone: the gate of `send` and `rectificatif`
    assert any(str(problem).endswith(expected.split(":", 2)[2]) for problem in alone), alone
    told = next((p.path.name, p.line) for p in alone if "rectificatif" in p.message)
    assert told == (Path(ISSUE).name, agora_line)


def test_check_reads_the_database_without_creating_or_migrating_it(tmp_path):
    root = make_sending_project(tmp_path)
    assert invoke(cli, "check", "-C", root).exit_code == 0
    assert not (root / "subscribers.sqlite3").exists()


def test_a_changed_id_is_told_with_how_to_keep_it_and_never_sent_as_a_cancellation(tmp_path):
    root, _ = sent_project(tmp_path)
    edit(root, f"id: {AGORA}\n", "id: agora\n")
    checked = invoke(cli, "check", "-C", root)
    assert f"son id a changé depuis l’envoi ({AGORA} → agora) : ajoutez « id: {AGORA} » à son bloc" in checked.output
    assert "retirée" not in checked.output and "annulée" not in checked.output
    result = invoke(cli, "rectificatif", "-C", root, "1")
    assert result.exit_code == 1 and f"ajoutez « id: {AGORA} » à son bloc" in result.output
    assert result.output.strip().endswith("puis relancez")
    assert not (root / "outbox" / "001-rectificatif-1").exists()


def test_a_removed_session_is_a_warning_and_a_cancellation_only_with_cancel_removed(tmp_path, ical_reader):
    root, _ = sent_project(tmp_path)
    text = (root / ISSUE).read_text(encoding="utf-8")
    start = text.index(f"```session\nid: {THEMATIQUE}")
    (root / ISSUE).write_text(text[:start] + text[text.index("```\n", start + 3) + 4 :], encoding="utf-8")
    checked = invoke(cli, "check", "-C", root)
    assert "« Journée thématique sur l’alimentation (visio) »" in checked.output
    assert "« newsletter rectificatif 1 --cancel-removed »" in checked.output
    plain = invoke(cli, "rectificatif", "-C", root, "1")
    assert plain.exit_code == 0 and "Rien de nouveau" in plain.output and "--cancel-removed" in plain.output
    assert not (root / "outbox" / "001-rectificatif-1").exists()

    confirmed = invoke(cli, "rectificatif", "-C", root, "1", "--cancel-removed")
    assert confirmed.exit_code == 0, confirmed.output
    messages = outbox(root)
    assert len(messages) == 3
    method, data = attachments(messages[0])[f"{THEMATIQUE}.ics"]
    assert method == "CANCEL"
    path = tmp_path / "cancel.ics"
    path.write_bytes(data)
    [read] = ical_reader([path])
    [event] = read["events"]
    assert read["method"] == "CANCEL" and event["status"] == "CANCELLED" and event["sequence"] >= 1
    assert event["uid"] == f"{THEMATIQUE}@example.org"
    assert "--cancel-removed" not in invoke(cli, "check", "-C", root).output


# the message ------------------------------------------------------------------------------------


def test_the_attached_ics_is_the_same_event_moved_in_summer_and_in_winter_and_the_cancelled_one_cancelled(
    tmp_path, ical_reader
):
    root, _ = sent_project(tmp_path)
    move_agora(root, start="2022-06-30 14:00")  # summer: UTC+2
    edit(root, "start: 2022-04-04\n", "start: 2022-11-29 10:00\nduration: 3h\n")  # winter: UTC+1
    cancel(root, GENERIQUE)
    result = invoke(cli, "rectificatif", "-C", root, "1")
    assert result.exit_code == 0, result.output
    message = outbox(root)[0]
    assert plain(message["Subject"]) == "Rectificatif – n°1 : Comprendre, réfléchir, agir"
    assert [part.get_content_type() for part in message.walk()][:4] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    text = plain(message.get_body(("plain",)).get_content())
    assert "jeudi 28 avril 2022 → jeudi 30 juin 2022, 14h–16h" in text and "lieu : Paris → En visio" in text
    assert "lundi 4 avril 2022 → mardi 29 novembre 2022, 10h–13h" in text
    html = message.get_body(("html",)).get_content()
    assert "Ajouter à mon agenda" in html and "20220630T120000Z" in html  # the card's updated Google link
    files = {}
    for name, (_, data) in attachments(message).items():
        files[name] = tmp_path / name
        files[name].write_bytes(data)
    read = {Path(entry["file"]).name: entry for entry in ical_reader(list(files.values()))}
    agora, thematique = read[f"{AGORA}.ics"], read[f"{THEMATIQUE}.ics"]
    assert agora["method"] == thematique["method"] == "PUBLISH"
    [moved] = agora["events"]
    assert moved["uid"] == f"{AGORA}@example.org" and moved["sequence"] == 1
    assert moved["start"]["utc"] == "2022-06-30T12:00:00.000Z" and moved["end"]["utc"] == "2022-06-30T14:00:00.000Z"
    [winter] = thematique["events"]
    assert winter["uid"] == f"{THEMATIQUE}@example.org" and winter["sequence"] == 1
    assert winter["start"]["utc"] == "2022-11-29T09:00:00.000Z"
    [cancelled] = read[f"{GENERIQUE}.ics"]["events"]
    assert read[f"{GENERIQUE}.ics"]["method"] == "CANCEL" and cancelled["status"] == "CANCELLED"
    # the state the build reads carries the sequences the readers' agendas now hold
    state = json.loads((root / "calendars" / "published.json").read_text(encoding="utf-8"))["sessions"]
    assert state[AGORA]["sequence"] == state[THEMATIQUE]["sequence"] == state[GENERIQUE]["sequence"] == 1


def test_a_test_send_carries_the_attachment_and_changes_nothing(tmp_path):
    root, _ = sent_project(tmp_path)
    move_agora(root)
    result = invoke(cli, "rectificatif", "-C", root, "1", "--to", "moi@example.org")
    assert result.exit_code == 0, result.output
    [path] = (root / "outbox" / "001" / "test").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert plain(message["Subject"]) == "[TEST] Rectificatif – n°1 : Comprendre, réfléchir, agir"
    assert f"{AGORA}.ics" in attachments(message)
    assert not (root / "calendars" / "rectificatifs.json").exists()
    assert "envoyez « newsletter rectificatif 1 »" in invoke(cli, "check", "-C", root).output


def test_an_issue_never_sent_is_one_clear_line(tmp_path):
    root = make_sending_project(tmp_path)
    subscribe(root, 2)
    result = invoke(cli, "rectificatif", "-C", root, "1")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "le numéro 1 n’a pas été envoyé aux abonnés : il n’y a rien à rectifier (modifiez-le simplement, puis « newsletter send 1 »)"
    ]


def test_an_issue_first_sent_to_nobody_then_edited_then_sent_needs_no_rectificatif(tmp_path):
    """A send to an empty list tells nobody anything: the session as it is when the issue really
    goes out is what its readers know, and `check` asks for no rectificatif."""
    root = make_sending_project(tmp_path)
    assert invoke(cli, "send", "-C", root, "1").exit_code == 0  # no subscriber yet
    move_agora(root)
    assert "rectificatif" not in invoke(cli, "check", "-C", root).output
    subscribe(root, 2)
    assert invoke(cli, "send", "-C", root, "1").exit_code == 0
    assert "rectificatif" not in invoke(cli, "check", "-C", root).output
    result = invoke(cli, "rectificatif", "-C", root, "1")
    assert result.exit_code == 0 and "Aucun message envoyé." in result.output, result.output
    assert not (root / "outbox" / "001-rectificatif-1").exists()
    move_agora(root, start="2022-04-30 14:00")  # a change after the real send is still told
    assert "envoyez « newsletter rectificatif 1 »" in invoke(cli, "check", "-C", root).output


def test_a_rectificatif_of_an_issue_that_does_not_exist_is_one_line(tmp_path):
    root, _ = sent_project(tmp_path)
    result = invoke(cli, "rectificatif", "-C", root, "9")
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and "aucun numéro 9" in lines[0], result.output
    assert not (root / "outbox" / "009-rectificatif-1").exists()


def test_two_changes_between_rectificatifs_give_one_message_with_the_final_state_then_nothing(tmp_path):
    root, _ = sent_project(tmp_path)
    move_agora(root, start="2022-04-29 14:00", location="Lyon")
    move_agora(root, start="2022-05-03 9:30", location="Marseille")
    assert invoke(cli, "rectificatif", "-C", root, "1").exit_code == 0
    [*messages] = outbox(root)
    assert len(messages) == 3
    text = plain(messages[0].get_body(("plain",)).get_content())
    assert "jeudi 28 avril 2022 → mardi 3 mai 2022, 9h30–11h30" in text and "lieu : Paris → Marseille" in text
    assert "Lyon" not in text
    again = invoke(cli, "rectificatif", "-C", root, "1")
    assert again.exit_code == 0 and "Rien de nouveau" in again.output
    assert not (root / "outbox" / "001-rectificatif-2").exists()
    # a later change is a second rectificatif, told from what the first one said
    move_agora(root, start="2022-05-03 9:30", location="Lille")
    assert invoke(cli, "rectificatif", "-C", root, "1").exit_code == 0
    second = plain(outbox(root, 2)[0].get_body(("plain",)).get_content())
    assert "lieu : Marseille → Lille" in second and "→ mardi 3 mai" not in second
    records = json.loads((root / "calendars" / "rectificatifs.json").read_text(encoding="utf-8"))["rectificatifs"]
    assert [(r["issue"], r["round"]) for r in records] == [(1, 1), (1, 2)]
    assert records[1]["sessions"] == {AGORA: ["lieu : Marseille → Lille"]}


# SMTP, unsubscriptions, SIGKILL ------------------------------------------------------------------


def test_the_server_gets_one_rectificatif_per_recipient_none_for_those_who_left_none_after_a_rerun(tmp_path):
    handler = FaultyHandler()
    with SMTPServer(handler) as server:
        root = make_sending_project(tmp_path, smtp=f"port = {server.port}\nconnections = 2")
        addresses = subscribe(root, 6, unsubscribed=(5,))
        assert invoke(cli, "send", "-C", root, "1", "--transport", "smtp", "--yes").exit_code == 0
        assert invoke(cli, "subscribers", "remove", "-C", root, addresses[1]).exit_code == 0
        assert invoke(cli, "subscribers", "add", "-C", root, "nouvelle@example.org").exit_code == 0
        first = {address for address, _ in handler.messages()}
        assert first == set(addresses[:5])
        handler.accepted.clear()
        move_agora(root)
        result = invoke(cli, "rectificatif", "-C", root, "1", "--transport", "smtp", "--yes")
        assert result.exit_code == 0, result.output
        assert "Rectificatif 1 du numéro 1 : 4 envoyés" in result.output
        rerun = invoke(cli, "rectificatif", "-C", root, "1", "--transport", "smtp", "--yes")
        assert rerun.exit_code == 0 and "Rien de nouveau" in rerun.output
        assert "Rectificatif 1 (terminé) : 4 envoyés" in invoke(cli, "status", "-C", root, "1").output
    assert handler.counts() == {address: 1 for address in (addresses[0], *addresses[2:5])}
    for _, message in handler.messages():
        assert plain(message["Subject"]) == "Rectificatif – n°1 : Comprendre, réfléchir, agir"
        assert message["In-Reply-To"] and message["In-Reply-To"] != message["Message-ID"]


RECTIFICATIF_SCRIPT = (
    "import sys; from newsletter.cli.rectificatif import rectificatif; "
    "rectificatif.main(sys.argv[1:], prog_name='newsletter rectificatif')"
)


def test_a_rectificatif_killed_mid_way_resumes_without_losing_or_duplicating_anyone(tmp_path):
    count, kill_at = 30, 12
    killer = KillAtMessage(kill_at)  # armed once the rectificatif starts: the issue itself goes whole
    handler = FaultyHandler(on_data=killer)
    with SMTPServer(handler) as server:
        root = make_sending_project(tmp_path, smtp=f"port = {server.port}")
        addresses = subscribe(root, count)
        assert invoke(cli, "send", "-C", root, "1", "--transport", "smtp", "--yes").exit_code == 0
        handler.accepted.clear()
        move_agora(root)
        args = [sys.executable, "-c", RECTIFICATIF_SCRIPT, "-C", str(root), "1", "--transport", "smtp", "--yes"]
        killer.start(args, ROOT).communicate(timeout=180)
        assert killer.killed.is_set() and killer.process.returncode == -signal.SIGKILL
        assert len(handler.counts()) == kill_at - 1
        # the rectificatif is not settled: check still asks for it
        assert "envoyez « newsletter rectificatif 1 »" in invoke(cli, "check", "-C", root).output

        move_agora(root, location="Nantes")  # changed meanwhile: this round still tells what it began with
        rerun = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert rerun.returncode == 0, rerun.stderr
        assert "Reprise du rectificatif 1" in rerun.stderr and "Traceback" not in rerun.stderr + rerun.stdout
        assert handler.counts() == {address: 1 for address in addresses if address != killer.uncertain}
        last = subprocess.run([*args, "--resend-unknown"], cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert last.returncode == 0, last.stderr
    bodies = {address: plain(message.get_body(("plain",)).get_content()) for address, message in handler.messages()}
    assert sorted(handler.counts().values()) == [1] * count
    assert all("lieu : Paris → En visio" in body for body in bodies.values())
    # the change made during the round is the next rectificatif's
    assert "lieu : En visio → Nantes" in invoke(cli, "check", "-C", root).output


# the archive ------------------------------------------------------------------------------------


def card_of(root_element, title: str):
    """The innermost div holding a session card with this title (its first child is the note, if any)."""
    cards = [
        div
        for div in root_element.iter("div")
        if title in plain(div.text) and "Ajouter à mon agenda" in plain(div.text)
    ]
    return min(cards, key=lambda div: len(div.text))


def test_the_archive_page_and_the_feed_item_show_the_dated_note_at_the_top_of_the_card(tmp_path):
    import datetime as dt

    import feedparser
    from support.htmldoc import parse_html

    root, _ = sent_project(tmp_path)
    assert invoke(cli, "build", "-C", root).exit_code == 0
    before = feedparser.parse((root / "dist" / "feed.xml").read_bytes())
    move_agora(root)
    assert invoke(cli, "rectificatif", "-C", root, "1").exit_code == 0
    built = invoke(cli, "build", "-C", root)
    assert built.exit_code == 0, built.output
    today = dt.date.today()
    page, _ = parse_html((root / "dist" / "numeros" / "001" / "index.html").read_text(encoding="utf-8"))
    card = card_of(page, "Agora des sessions entre pairs")
    first = plain(next(child for child in card.children if not isinstance(child, str)).text)
    assert first.startswith("✏️ Modifié le ") and f" {today.year} : " in first
    assert first.endswith(": jeudi 28 avril 2022 → vendredi 29 avril 2022, 14h–16h ; lieu : Paris → En visio")
    other = card_of(page, "Sessions entre pairs (visio)")
    assert "Modifié le" not in other.text

    feed = feedparser.parse((root / "dist" / "feed.xml").read_bytes())
    assert not feed.bozo
    [item] = [entry for entry in feed.entries if entry.link.endswith("/numeros/001/")]
    [old] = [entry for entry in before.entries if entry.link.endswith("/numeros/001/")]
    assert item.id == old.id and item.published == old.published
    assert "updated" not in old and item.updated_parsed[:3] == today.timetuple()[:3]
    assert feed.feed.updated_parsed[:3] == today.timetuple()[:3]  # lastBuildDate: the day of the correction
    content, _ = parse_html(item.content[0].value)
    note = plain(card_of(content, "Agora des sessions entre pairs").text)
    assert "Modifié le " in note and "lieu : Paris → En visio" in note
    # the agenda the readers subscribed to carries the sequence the rectificatif sent
    from icalendar import Calendar

    agenda = Calendar.from_ical((root / "dist" / "calendars" / "agenda.ics").read_bytes())
    [event] = [event for event in agenda.walk("VEVENT") if str(event["UID"]) == f"{AGORA}@example.org"]
    assert event["SEQUENCE"] == 1


# programmes -------------------------------------------------------------------------------------

PROGRAMME = "journees-des-territoires-2018"


def test_a_slot_of_a_programme_the_issue_announces_is_followed_like_its_sessions(tmp_path, ical_reader):
    root = make_sending_project(tmp_path)
    (root / "calendars").mkdir()
    programme = root / "calendars" / f"{PROGRAMME}.md"
    programme.write_text((ROOT / "calendars" / f"{PROGRAMME}.md").read_text(encoding="utf-8"), encoding="utf-8")
    edit(root, "title: ", "programme: journees-des-territorie-2018\ntitle: ")  # a typo: the gate refuses
    subscribe(root, 3)
    refused = invoke(cli, "send", "-C", root, "1")
    assert (
        refused.exit_code == 1
        and f"programme « journees-des-territorie-2018 » introuvable dans calendars/ (programmes : {PROGRAMME})"
        in refused.output
    )
    edit(root, "programme: journees-des-territorie-2018", f"programme: {PROGRAMME}")
    assert invoke(cli, "send", "-C", root, "1").exit_code == 0

    text = programme.read_text(encoding="utf-8")
    programme.write_text(
        text.replace("### 10h30 – Les territoires se racontent", "### 10h45 – Les territoires se racontent", 1),
        encoding="utf-8",
    )
    line = next(
        n for n, row in enumerate(programme.read_text(encoding="utf-8").splitlines(), 1) if row.startswith("### 10h45")
    )
    checked = invoke(cli, "check", "-C", root)
    slot = next(row for row in checked.output.splitlines() if f"calendars/{PROGRAMME}.md:{line}: attention : " in row)
    assert "lundi 26 novembre 2018, 10h30–11h30 → lundi 26 novembre 2018, 10h45–11h30" in plain(slot)
    assert "(envoyez « newsletter rectificatif 1 »)" in slot
    assert (
        "séance « Journées des Territoires : Ouverture » : lundi 26 novembre 2018, 10h–10h30 → lundi 26 novembre 2018, 10h–10h45"
        in plain(checked.output)
    )

    result = invoke(cli, "rectificatif", "-C", root, "1")
    assert result.exit_code == 0, result.output
    messages = outbox(root)
    assert len(messages) == 3
    files = []
    for name, (_, data) in attachments(messages[0]).items():
        files.append(tmp_path / name)
        files[-1].write_bytes(data)
    events = {event["summary"]: event for entry in ical_reader(files) for event in entry["events"]}
    moved = next(event for summary, event in events.items() if "Les territoires se racontent" in summary)
    assert moved["uid"].startswith(f"{PROGRAMME}-2018-11-26-les-territoires-se-racontent") and moved["sequence"] == 1
    assert moved["start"]["utc"] == "2018-11-26T09:45:00.000Z"  # 10h45 in Paris, winter time
    assert "séance « " not in invoke(cli, "check", "-C", root).output


# what a reader with a screen reader gets ----------------------------------------------------------


@pytest.mark.parametrize("scheme", ("light", "dark"))
def test_axe_finds_no_violation_in_a_rectificatif_and_its_outline_is_the_issue_s(scheme, tmp_path, axe_browser):
    browser = axe_browser
    from support import axe
    from test_accessibility import EMAIL_EXCEPTIONS, outline, outline_problems

    root, _ = sent_project(tmp_path)
    move_agora(root)
    cancel(root, GENERIQUE)
    assert invoke(cli, "rectificatif", "-C", root, "1").exit_code == 0
    page = tmp_path / "rectificatif.html"
    page.write_bytes(outbox(root)[0].get_body(("html",)).get_payload(decode=True))
    for width in (375, 1024):
        browser.open(page.resolve().as_uri(), width, scheme=scheme)
        found = axe.violations(browser, disabled=tuple(EMAIL_EXCEPTIONS))
        assert found == [], f"axe-core {axe.version()}, rectificatif at {width} px, {scheme}:\n" + "\n".join(found)
    headings = outline(browser)
    assert outline_problems(headings) == []
    assert [(level, plain(text)) for level, text, _ in headings[:3]] == [
        (1, "Rectificatif : Comprendre, réfléchir, agir"),
        (2, "Agora des sessions entre pairs"),
        (2, "Journée générique sur le management coopératif (visio)"),
    ]


def test_a_damaged_list_of_rectificatifs_is_one_line_naming_it(tmp_path):
    root = make_sending_project(tmp_path)
    (root / "calendars").mkdir()
    (root / "calendars" / "rectificatifs.json").write_text(
        '{\n "rectificatifs": [\n  {"date": "2022-13-01"}\n ]\n}\n', encoding="utf-8"
    )
    for command in ("check", "build"):
        result = invoke(cli, command, "-C", root)
        assert result.exit_code == 1, result.output
        assert (
            "rectificatifs.json: liste des rectificatifs illisible : reprenez la version du dépôt (git checkout)"
            in result.output
        )
    assert not (root / "dist" / "email").exists()


def test_rectificatifs_that_cannot_be_read_are_told_in_french(tmp_path):
    """A folder where the file should be (or any OS error): the reason in French, not Python's words."""
    root = make_sending_project(tmp_path)
    (root / "calendars" / "rectificatifs.json").mkdir(parents=True)
    result = invoke(cli, "check", "-C", root)
    assert result.exit_code == 1, result.output
    assert "liste des rectificatifs illisible (" in result.output and "Errno" not in result.output, result.output


def test_a_merge_conflict_in_the_rectificatifs_is_an_error_at_its_marker(tmp_path):
    root = make_sending_project(tmp_path)
    (root / "calendars").mkdir()
    listing = root / "calendars" / "rectificatifs.json"
    listing.write_text('{\n "rectificatifs": [\n<<<<<<< HEAD\n=======\n>>>>>>> autre\n ]\n}\n', encoding="utf-8")
    result = invoke(cli, "check", "-C", root)
    assert result.exit_code == 1, result.output
    assert "rectificatifs.json:3: conflit de fusion : gardez les rectificatifs des deux côtés" in result.output
    assert "Traceback" not in result.output
