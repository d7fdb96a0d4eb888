"""Builds are deterministic, atomic and incremental."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MINIMAL_BODY, ROOT, issue_text

from newsletter.cli import cli
from newsletter.pipeline import build
from newsletter.pipeline.state import Context, State
from newsletter.project import load_project


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def two_issue_project(make_project) -> Path:
    return make_project(
        {
            "issues/001-a.md": issue_text(MINIMAL_BODY),
            "issues/002-b.md": issue_text(MINIMAL_BODY, number=2, date="2022-04-28", title="Deux"),
        }
    )


def test_two_builds_into_fresh_folders_are_byte_identical(tmp_path: Path) -> None:
    project = load_project(ROOT)
    build(project, tmp_path / "a")
    build(project, tmp_path / "b")
    first, second = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    assert "email/001.eml" in first


def test_forced_rebuild_changes_no_byte(make_project) -> None:
    root = two_issue_project(make_project)
    project = load_project(root)
    build(project, root / "dist")
    before = snapshot(root / "dist")
    report = build(project, root / "dist", force=True)
    assert sorted(report.built) == ["001", "002"]
    assert snapshot(root / "dist") == before


def test_unchanged_issue_is_not_rendered_again(make_project) -> None:
    root = two_issue_project(make_project)
    project = load_project(root)
    assert sorted(build(project, root / "dist").built) == ["001", "002"]
    stamps = {p: p.stat().st_mtime_ns for p in (root / "dist" / "email").iterdir()}

    noop = build(project, root / "dist")
    assert (noop.built, noop.unchanged) == ([], ["001", "002"])
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps

    path = root / "issues" / "002-b.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Première phrase", "Nouvelle phrase"), encoding="utf-8")
    one = build(project, root / "dist")
    assert (one.built, one.unchanged) == (["002"], ["001"])
    assert "Nouvelle phrase" in (root / "dist" / "email" / "002.txt").read_text(encoding="utf-8")
    assert (root / "dist" / "email" / "001.html").stat().st_mtime_ns == stamps[root / "dist" / "email" / "001.html"]


def test_a_template_or_settings_change_rebuilds_everything(make_project) -> None:
    root = two_issue_project(make_project)
    build(load_project(root), root / "dist")
    (root / "newsletter.toml").write_text('[newsletter]\nname = "Autre nom"\n', encoding="utf-8")
    report = build(load_project(root), root / "dist")
    assert sorted(report.built) == ["001", "002"]
    assert "Autre nom" in (root / "dist" / "email" / "001.html").read_text(encoding="utf-8")


def test_a_settings_change_renders_only_the_outputs_that_read_it(make_project, monkeypatch) -> None:
    """Outputs are keyed on the settings as read, not on newsletter.toml's bytes: a comment, or the
    project seen from another folder, re-render nothing; the sending tables (the .eml preview
    reads them, and an email fails on a bad value) every email and no page; the letter's name
    everything."""
    root = two_issue_project(make_project)
    settings = root / "newsletter.toml"
    settings.write_text('[newsletter]\nname = "Pilotes"\n\n[smtp]\nhost = "relais.example.org"\n', encoding="utf-8")
    build(load_project(root), root / "dist")
    files = [path for path in (root / "dist").rglob("*") if path.is_file()]
    stamps = {path: path.stat().st_mtime_ns for path in files}

    settings.write_text(
        '# La lettre\n[newsletter]\nname = "Pilotes"  # son nom\n\n[smtp]\nhost = "relais.example.org"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(root.parent)
    same = build(load_project(Path(root.name)), Path(root.name) / "dist")  # the project named from elsewhere
    assert (same.built, same.emails, same.entries, same.pages) == ([], 0, 0, 0)
    assert {path: path.stat().st_mtime_ns for path in files} == stamps

    settings.write_text(settings.read_text(encoding="utf-8") + '\n[sending]\nlist_id = "pilotes.example.org"\n')
    listed = build(load_project(root), root / "dist")
    assert (listed.emails, listed.entries, listed.pages) == (2, 0, 0)
    assert b"List-Id: Pilotes <pilotes.example.org>" in (root / "dist" / "email" / "001.eml").read_bytes()
    page = root / "dist" / "numeros" / "001" / "index.html"
    assert page.stat().st_mtime_ns == stamps[page]

    settings.write_text(settings.read_text(encoding="utf-8").replace('name = "Pilotes"', 'name = "Pilotes !"'))
    renamed = build(load_project(root), root / "dist")
    assert (renamed.emails, renamed.entries) == (2, 2) and renamed.pages > 2
    assert "Pilotes\u202f!" in page.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("table", "line", "emails"),
    [
        ("sender", 'name = "Une autre rédaction"', True),
        ("sender", 'address = "redaction@example.org"', True),
        ("sender", 'reply_to = "reponses@example.org"', True),
        ("newsletter", 'unsubscribe_url = "https://example.org/stop/"', True),
        ("newsletter", "feed_items = 1", False),
        ("serve", 'form_text = "J’accepte, en connaissance de cause."', False),
    ],
)
def test_a_setting_one_kind_of_output_reads_renders_only_that_kind_and_the_same_bytes(
    make_project, table: str, line: str, emails: bool
) -> None:
    """Each setting that only the email (or only the web archive) reads: changed, it renders no
    output of the other kind, and the build equals a full one with it (so a renderer that starts
    reading such a setting without its key saying so fails here)."""
    files = issues_with_a_session(3)
    files["newsletter.toml"] = '[newsletter]\nname = "Pilotes"\n\n[serve]\npublic_url = "https://service.example.org"\n'
    root = make_project(files)
    build(load_project(root), root / "dist")
    settings = root / "newsletter.toml"
    text = settings.read_text(encoding="utf-8")
    header = f"[{table}]\n"
    settings.write_text(
        text.replace(header, header + line + "\n") if header in text else f"{text}\n{header}{line}\n", encoding="utf-8"
    )
    report = build(load_project(root), root / "dist")
    assert report.emails == (3 if emails else 0)
    if emails:
        assert (report.entries, report.pages) == (0, 0)
    else:
        assert report.pages > 0
    build(load_project(root), root / "full")
    assert visible(root / "dist") == visible(root / "full")


def test_the_workers_are_forked_before_the_last_state_is_read_when_every_issue_is_rendered(
    make_project, monkeypatch
) -> None:
    """A worker forked after the last build's state is read holds a copy of it: so when the state's
    header says every issue is to be rendered again (settings changed, or no state), the pool is
    started first; when few issues changed, no pool is started before the plan says so."""
    files = {
        f"issues/{n:03d}.md": issue_text(MINIMAL_BODY, number=n, date=f"2022-04-{n:02d}", title=f"N{n}")
        for n in range(1, 17)
    }
    root = make_project(files)
    build_module = sys.modules["newsletter.pipeline.build"]
    calls: list[str] = []
    read, start = State.read.__func__, build_module._Workers.start  # type: ignore[attr-defined]
    monkeypatch.setattr(State, "read", classmethod(lambda cls, dist: calls.append("read") or read(cls, dist)))
    monkeypatch.setattr(build_module._Workers, "start", lambda self: calls.append("start") or start(self))

    def run() -> list[str]:
        calls.clear()
        assert not build(load_project(root), root / "dist").failed
        return list(calls)

    assert run() == ["start", "read"]  # no state yet
    assert run() == ["read"]  # nothing changed
    assert State.made_with(root / "dist") == Context.of(load_project(root))
    (root / "newsletter.toml").write_text('[newsletter]\nname = "Autre nom"\n', encoding="utf-8")
    assert run() == ["start", "read"]
    path = root / "issues" / "003.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Une introduction.", "Une autre."), encoding="utf-8")
    assert run() == ["read"]
    (root / "dist" / ".build-state.pickle").write_bytes(b"damaged")
    assert State.made_with(root / "dist") is None and State.read(root / "dist") == State()


def test_a_project_template_overrides_the_default(make_project) -> None:
    root = two_issue_project(make_project)
    (root / "templates").mkdir()
    (root / "templates" / "email.txt").write_text("Texte maison n°{{ issue.number }}\n", encoding="utf-8")
    build(load_project(root), root / "dist")
    assert (root / "dist" / "email" / "002.txt").read_text(encoding="utf-8") == "Texte maison n°2\n"
    assert "<mjml" in (root / "dist" / "email" / "002.mjml").read_text(encoding="utf-8")


def test_a_deleted_or_missing_output_is_rebuilt_and_a_removed_issue_leaves(make_project) -> None:
    root = two_issue_project(make_project)
    project = load_project(root)
    build(project, root / "dist")
    (root / "dist" / "email" / "001.txt").unlink()
    assert build(project, root / "dist").built == ["001"]
    (root / "issues" / "002-b.md").unlink()
    build(project, root / "dist")
    assert sorted(p.name for p in (root / "dist" / "email").iterdir()) == [
        "001.eml",
        "001.html",
        "001.mjml",
        "001.txt",
    ]


def test_a_deleted_calendar_file_is_made_again_and_only_it(make_project) -> None:
    """Someone cleaning dist/ by hand: a session's .ics and the agenda deleted are written again by
    the next build, with the same bytes, though no source changed; the other files are left alone."""
    files = issues_with_a_session(3)
    root = make_project(files)
    build(load_project(root), root / "dist")
    calendars = root / "dist" / "calendars"
    before = {path: path.read_bytes() for path in calendars.rglob("*.ics")}
    kept = calendars / "sessions" / "rdv-1.ics"
    stamp = kept.stat().st_mtime_ns
    (calendars / "sessions" / "rdv-2.ics").unlink()
    (calendars / "agenda.ics").unlink()
    build(load_project(root), root / "dist")
    assert {path: path.read_bytes() for path in calendars.rglob("*.ics")} == before
    assert kept.stat().st_mtime_ns == stamp


def test_many_issues_render_in_parallel_with_the_same_bytes(make_project, tmp_path: Path) -> None:
    files = {
        f"issues/{n:03d}.md": issue_text(MINIMAL_BODY, number=n, date="2022-03-31", title=f"N{n}") for n in range(1, 21)
    }
    root = make_project(files)
    project = load_project(root)
    report = build(project, root / "dist")  # 20 issues: the process pool is used
    assert len(report.built) == 20
    for number in (1, 20):
        alone = make_project({f"issues/{number:03d}.md": files[f"issues/{number:03d}.md"]}, name=f"alone{number}")
        build(load_project(alone), alone / "dist")
        slug = f"{number:03d}"
        assert (alone / "dist" / "email" / f"{slug}.eml").read_bytes() == (
            root / "dist" / "email" / f"{slug}.eml"
        ).read_bytes()


def test_outputs_are_ordinary_readable_files(make_project) -> None:
    root = two_issue_project(make_project)
    build(load_project(root), root / "dist")
    mode = (root / "dist" / "email" / "001.html").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_cli_build_reports_counts_and_writes_into_dist(make_project) -> None:
    root = two_issue_project(make_project)
    result = CliRunner().invoke(cli, ["build", "-C", str(root)], catch_exceptions=False)
    assert result.exit_code == 0
    assert "2 numéro(s) compilé(s), 0 inchangé(s)" in result.output
    other = root / "ailleurs"
    result = CliRunner().invoke(cli, ["build", "-C", str(root), "--dist", str(other)], catch_exceptions=False)
    assert (other / "email" / "002.eml").exists()


def test_an_issue_broken_after_publication_keeps_its_last_good_version(make_project) -> None:
    root = two_issue_project(make_project)
    project = load_project(root)
    build(project, root / "dist")
    email_before = (root / "dist" / "email" / "001.html").read_bytes()
    feed_before = (root / "dist" / "feed.xml").read_text(encoding="utf-8")
    assert "Un titre" in feed_before

    path = root / "issues" / "001-a.md"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("## À suivre", "## Recettes"), encoding="utf-8")
    report = build(project, root / "dist")
    assert report.failed and report.built == []
    assert (root / "dist" / "email" / "001.html").read_bytes() == email_before
    assert (root / "dist" / "numeros" / "001" / "index.html").exists()
    assert (root / "dist" / "feed.xml").read_text(encoding="utf-8") == feed_before

    path.write_text(good.replace("Une introduction.", "Une introduction corrigée."), encoding="utf-8")
    fixed = build(project, root / "dist")
    assert not fixed.failed and fixed.built == ["001"]
    assert "Une introduction corrigée." in (root / "dist" / "email" / "001.txt").read_text(encoding="utf-8")


def test_a_render_failure_in_a_parallel_build_keeps_its_sessions_out_of_the_agenda(make_project) -> None:
    """The agenda starts while issues render; when one fails to render, it is written again without it."""
    files = {f"issues/{n:03d}.md": issue_text(MINIMAL_BODY, number=n, title=f"N{n}") for n in range(1, 18)}
    files["issues/018.md"] = issue_text(
        "## À suivre\n\n```session\nid: seance-18\ntitle: Séance du 18\nstart: 2022-04-07\n```\n", number=18
    )
    root = make_project(files)
    (root / "templates").mkdir()
    # A template that MRML refuses for issue 18 only: its render fails after parsing succeeded.
    from newsletter.render.templates import builtin_templates

    default = (builtin_templates() / "email.mjml").read_text(encoding="utf-8")
    broken = default.replace("<mj-body", "{% if issue.number == 18 %}<mj-oops>{% endif %}<mj-body", 1)
    (root / "templates" / "email.mjml").write_text(broken, encoding="utf-8")
    report = build(load_project(root), root / "dist")
    assert report.failed and "018" not in report.built and len(report.built) == 17
    agenda = (root / "dist" / "calendars" / "agenda.ics").read_text(encoding="utf-8")
    assert "Séance du 18" not in agenda


def test_a_build_inside_the_project_then_by_its_absolute_path_from_elsewhere_reuses_the_cache(
    make_project, tmp_path
) -> None:
    root = make_project({"issues/001.md": issue_text(MINIMAL_BODY)})
    inside = subprocess.run([sys.executable, "-m", "newsletter", "build"], cwd=root, capture_output=True, text=True)
    assert inside.returncode == 0, inside.stderr
    elsewhere = subprocess.run(
        [sys.executable, "-m", "newsletter", "-C", str(root.resolve()), "build"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert "0 numéro(s) compilé(s), 1 inchangé(s)" in elsewhere.stdout
    (root / "issues" / "001.md").write_text(issue_text(MINIMAL_BODY + "\nUne phrase de plus.\n"), encoding="utf-8")
    again = subprocess.run([sys.executable, "-m", "newsletter", "build"], cwd=root, capture_output=True, text=True)
    assert again.returncode == 0 and "1 numéro(s) compilé(s)" in again.stdout, again.stderr


def visible(folder: Path) -> dict[str, bytes]:
    """Every file a publisher copies: the hidden bookkeeping files of the build left out."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


SESSION = "\n## À suivre\n\n```session\nid: rdv-{n}\ntitle: Rendez-vous {n}\nstart: 2022-05-{day:02d} 14:00\nduration: 2h\n```\n"


def issues_with_a_session(count: int) -> dict[str, str]:
    """Issues 1 to `count`, issue n dated April n and announcing session « rdv-n » on May n."""
    return {
        f"issues/{n:03d}.md": issue_text(
            MINIMAL_BODY + SESSION.format(n=n, day=n), number=n, date=f"2022-04-{n:02d}", title=f"N{n}"
        )
        for n in range(1, count + 1)
    }


def random_issue(rng, number: int) -> str:
    body = MINIMAL_BODY + rng.choice(["", "\nUne phrase de plus.\n", SESSION.format(n=number, day=1 + number % 27)])
    return issue_text(
        body,
        number=number,
        date=f"2022-{1 + number % 12:02d}-{1 + number % 27:02d}",
        title=f"N{number} {rng.randrange(99)}",
        extra=rng.choice(["", "", "draft: true\n"]),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_incremental_build_after_random_edits_equals_a_full_build(make_project, tmp_path: Path, seed: int) -> None:
    """Add, change, break, fix and delete issues, building after each edit; then every file equals a
    build from scratch, byte for byte."""
    import random

    rng = random.Random(seed)
    root = make_project({f"issues/{n:03d}.md": random_issue(rng, n) for n in range(1, 6)})
    project = load_project(root)
    build(project, root / "dist")
    broken: set[int] = set()
    for _ in range(14):
        numbers = sorted(int(p.stem) for p in (root / "issues").glob("*.md"))
        action = rng.choice(["add", "change", "change", "break", "fix", "delete"])
        if action == "add" or not numbers:
            number = max(numbers, default=0) + 1
            (root / "issues" / f"{number:03d}.md").write_text(random_issue(rng, number), encoding="utf-8")
        elif action == "change":
            number = rng.choice(numbers)
            (root / "issues" / f"{number:03d}.md").write_text(random_issue(rng, number), encoding="utf-8")
            broken.discard(number)
        elif action == "break":
            number = rng.choice(numbers)
            path = root / "issues" / f"{number:03d}.md"
            path.write_text(
                path.read_text(encoding="utf-8").replace("date: ", "date: pas une date ", 1), encoding="utf-8"
            )
            broken.add(number)
        elif action == "fix" and broken:
            number = broken.pop()
            (root / "issues" / f"{number:03d}.md").write_text(random_issue(rng, number), encoding="utf-8")
        else:
            number = rng.choice(numbers)
            (root / "issues" / f"{number:03d}.md").unlink()
            broken.discard(number)
        build(project, root / "dist")
    for number in broken:
        (root / "issues" / f"{number:03d}.md").write_text(random_issue(rng, number), encoding="utf-8")
    assert not build(project, root / "dist").failed
    assert not build(project, tmp_path / "full").failed
    incremental, full = visible(root / "dist"), visible(tmp_path / "full")
    assert incremental.keys() == full.keys()
    assert [name for name in full if incremental[name] != full[name]] == []


def test_a_web_template_edit_renders_no_email_and_one_issue_changed_renders_only_its_own(make_project) -> None:
    root = make_project(
        {
            f"issues/{n:03d}.md": issue_text(MINIMAL_BODY, number=n, date=f"2022-0{n}-03", title=f"N{n}")
            for n in range(1, 5)
        }
    )
    (root / "templates" / "web").mkdir(parents=True)
    from newsletter.render.templates import builtin_templates

    base = (builtin_templates() / "web" / "base.html").read_text(encoding="utf-8")
    (root / "templates" / "web" / "base.html").write_text(base, encoding="utf-8")
    project = load_project(root)
    build(project, root / "dist")
    emails = {p: p.stat().st_mtime_ns for p in (root / "dist" / "email").iterdir()}

    (root / "templates" / "web" / "base.html").write_text(
        base.replace("</body>", "<!-- un commentaire --></body>"), encoding="utf-8"
    )
    report = build(project, root / "dist")
    assert (report.emails, report.entries) == (0, 4)  # no email rendered again
    assert {p: p.stat().st_mtime_ns for p in emails} == emails
    assert "<!-- un commentaire -->" in (root / "dist" / "numeros" / "003" / "index.html").read_text(encoding="utf-8")
    assert report.pages >= 4

    path = root / "issues" / "002.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Une introduction.", "Une introduction changée."), encoding="utf-8"
    )
    pages = {p: p.stat().st_mtime_ns for p in (root / "dist" / "numeros").rglob("index.html")}
    report = build(project, root / "dist")
    assert (report.built, report.unchanged) == (["002"], ["001", "003", "004"])
    assert (report.emails, report.entries) == (1, 1)
    assert (
        report.pages == 4
    )  # its page, feed.xml and the feeds of its two rubrics (its summary is unchanged: not the index)
    changed = {p.relative_to(root / "dist").as_posix() for p, stamp in pages.items() if p.stat().st_mtime_ns != stamp}
    assert changed == {"numeros/002/index.html"}
    assert {p for p, stamp in emails.items() if p.stat().st_mtime_ns != stamp} == set(
        (root / "dist" / "email").glob("002.*")
    )


def test_the_process_pool_writes_the_same_files_as_one_process(make_project, monkeypatch) -> None:
    """20 issues with sessions: the pool renders the issues and their VEVENTs, and half the archive's
    pages and feeds on a worker; every published file equals a build in one process. A damaged
    entry met by the worker's share is made again by the main process."""
    import random

    build_module = sys.modules["newsletter.pipeline.build"]
    rng = random.Random(7)
    files = {f"issues/{n:03d}.md": random_issue(rng, n).replace("draft: true\n", "") for n in range(1, 21)}
    root = make_project(files)
    assert build_module.PARALLEL_FROM <= 20
    pooled = build(load_project(root), root / "dist")
    assert len(pooled.built) == 20 and not pooled.failed
    monkeypatch.setattr(build_module, "PARALLEL_FROM", 10**6)
    build(load_project(root), root / "alone")
    expected = visible(root / "alone")
    assert any(name.endswith(".ics") for name in expected) and "feed.xml" in expected
    assert visible(root / "dist") == expected

    # An email template changed: the pool renders every email again, but no entry (their keys do
    # not read email templates), so the feeds' shares read the entries from disk, here damaged.
    (root / "templates").mkdir()
    (root / "templates" / "email.txt").write_text("Texte maison n°{{ issue.number }}\n", encoding="utf-8")
    build(load_project(root), root / "alone2")
    expected = visible(root / "alone2")
    monkeypatch.setattr(build_module, "PARALLEL_FROM", 16)
    for entry in (root / "dist" / ".archive").iterdir():
        entry.write_text("{", encoding="utf-8")
    feeds = list((root / "dist").rglob("*.xml"))
    assert len(feeds) > 2  # the feed and the rubrics' feeds: on both shares
    for path in feeds:
        path.unlink()
    again = build(load_project(root), root / "dist")
    assert again.emails == 20 and again.entries == 0 and not again.failed
    assert visible(root / "dist") == expected


def test_each_vevent_is_rendered_once_and_only_for_the_issue_that_changed(make_project, monkeypatch) -> None:
    """The issue's worker makes its sessions' VEVENTs; the calendars stage reuses them, and the last
    build's for the other issues: a one-issue change renders one VEVENT, a full build one each. An
    edit that leaves the sessions as they were does not even open the calendars."""
    from newsletter.pipeline import calendars as stage
    from newsletter.render import calendar as ical

    files = issues_with_a_session(5)
    root = make_project(files)
    rendered: list[str] = []
    real = ical.event_ical

    def counting(settings, session, *args, **kwargs):
        rendered.append(session.id)
        return real(settings, session, *args, **kwargs)

    monkeypatch.setattr(ical, "event_ical", counting)
    build(load_project(root), root / "dist")
    assert sorted(rendered) == [f"rdv-{n}" for n in range(1, 6)]
    agenda = (root / "dist" / "calendars" / "agenda.ics").read_bytes()
    rendered.clear()
    read: list[str] = []
    real_read = stage._read_vevents
    monkeypatch.setattr(stage, "_read_vevents", lambda path: read.append(path.stem) or real_read(path))
    path = root / "issues" / "003.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Une introduction.", "Une autre introduction."))
    build(load_project(root), root / "dist")
    assert rendered == ["rdv-3"] and read == []
    assert (root / "dist" / "calendars" / "agenda.ics").read_bytes() == agenda  # the same session, the same VEVENT
    path.write_text(path.read_text(encoding="utf-8").replace("title: Rendez-vous 3", "title: Nouveau titre"))
    build(load_project(root), root / "dist")
    assert rendered == ["rdv-3", "rdv-3"] and sorted(read) == [f"{n:03d}" for n in range(1, 6)]
    assert b"SUMMARY:Nouveau titre" in (root / "dist" / "calendars" / "agenda.ics").read_bytes()


def test_the_agenda_is_assembled_from_each_issues_vevents_one_file_at_a_time(make_project, monkeypatch) -> None:
    """The calendars stage reads each issue's VEVENTs from dist/.events/, each file once and let go
    before the next, even when the issues' sessions fall on the same days; a file damaged or
    deleted is made again, and the agenda is the same."""
    from newsletter.pipeline import calendars as stage
    from newsletter.render import calendar as ical

    files = issues_with_a_session(20)
    for n in range(1, 21):  # two sessions an issue, the second on a day every issue shares
        files[f"issues/{n:03d}.md"] += "\n" + SESSION.format(n=f"{n}b", day=1).split("\n\n", 1)[1]
    root = make_project(files)
    build(load_project(root), root / "dist")
    agenda = (root / "dist" / "calendars" / "agenda.ics").read_bytes()
    assert agenda.count(b"BEGIN:VEVENT") == 40
    events = root / "dist" / ".events" / "numeros"
    assert sorted(path.name for path in events.iterdir()) == [f"{n:03d}.pickle" for n in range(1, 21)]

    read, rendered = [], []
    real_read, real_render = stage._read_vevents, ical.event_ical
    monkeypatch.setattr(stage, "_read_vevents", lambda path: read.append(path.stem) or real_read(path))
    monkeypatch.setattr(ical, "event_ical", lambda *a, **k: rendered.append(a[1].id) or real_render(*a, **k))
    (events / "007.pickle").write_bytes(b"damaged")
    (events / "012.pickle").unlink()
    path = root / "issues" / "003.md"  # its sessions move down two lines: the agenda is assembled again
    path.write_text(path.read_text(encoding="utf-8").replace("Une introduction.", "Une introduction.\n\nEt une autre."))
    build(load_project(root), root / "dist")
    assert sorted(read) == [f"{n:03d}" for n in range(1, 21)]  # each file read once
    # the issue that changed, and the two whose files were lost
    assert sorted(rendered) == ["rdv-12", "rdv-12b", "rdv-3", "rdv-3b", "rdv-7", "rdv-7b"]
    assert (root / "dist" / "calendars" / "agenda.ics").read_bytes() == agenda
    assert (events / "007.pickle").read_bytes() != b"damaged" and (events / "012.pickle").is_file()


def test_an_agenda_cut_short_by_an_error_leaves_the_last_one_whole(make_project, monkeypatch) -> None:
    """The agenda is written event by event into a temporary file: an error half way leaves the
    last agenda as it was, and no temporary file behind."""
    from newsletter.render import calendar as ical

    files = issues_with_a_session(5)
    root = make_project(files)
    build(load_project(root), root / "dist")
    agenda = root / "dist" / "calendars" / "agenda.ics"
    before = agenda.read_bytes()

    def broken(settings, session, *args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(ical, "event_ical", broken)
    (root / "dist" / ".events" / "numeros" / "004.pickle").unlink()  # its VEVENT must be made again, and fails
    (root / "dist" / ".calendars.json").unlink()  # so that the calendars are assembled again
    with pytest.raises(RuntimeError, match="disque plein"):
        build(load_project(root), root / "dist")
    assert agenda.read_bytes() == before
    assert not [p for p in (root / "dist").rglob("*") if p.name.endswith(".tmp")]


def test_each_sessions_calendar_links_are_computed_once_for_the_email_and_the_web_page(make_project) -> None:
    """The email's card (its HTML and its text) and the web page show the same « Ajouter à mon
    agenda » links: made once per session, though the card gets the settings as written and the
    page typeset (the letter's name has a « ! » that French typography changes)."""
    from newsletter.render import calendar_links

    files = issues_with_a_session(3)
    root = make_project(files)
    (root / "newsletter.toml").write_text('[newsletter]\nname = "Pilotes !"\n', encoding="utf-8")
    project = load_project(root)
    assert project.settings.name == "Pilotes !"
    calendar_links._links.cache_clear()
    build(project, root / "dist")
    info = calendar_links._links.cache_info()
    assert (info.misses, info.hits) == (3, 6)  # per session: the card's HTML, its text, the page
    page = (root / "dist" / "numeros" / "002" / "index.html").read_text(encoding="utf-8")
    email = (root / "dist" / "email" / "002.html").read_text(encoding="utf-8")
    google = re.compile(r'href="(https://calendar\.google\.com/[^"]+)"')
    assert set(google.findall(page)) == set(google.findall(email)) != set()


def test_compiled_templates_are_kept_outside_dist_and_a_damaged_or_stale_one_is_not_used(
    make_project, tmp_path: Path
) -> None:
    """Jinja's compiled templates go to the user's cache folder; a process that finds one damaged,
    or compiled from another version of its template, compiles the template again."""
    root = two_issue_project(make_project)
    (root / "templates").mkdir()
    template = root / "templates" / "email.txt"
    template.write_text("Version un n°{{ issue.number }}\n", encoding="utf-8")
    cache = tmp_path / "cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}

    def build_in_a_new_process(dist: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "newsletter", "build", "-C", str(root), "--dist", str(root / dist)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        return (root / dist / "email" / "001.txt").read_text(encoding="utf-8")

    assert build_in_a_new_process("a") == "Version un n°1\n"
    compiled = list((cache / "newsletter" / "templates").iterdir())
    assert compiled and not any(".cache" in str(p) for p in (root / "a").rglob("*"))
    for path in compiled:
        path.write_bytes(path.read_bytes()[:20])  # cut short
    assert build_in_a_new_process("b") == "Version un n°1\n"
    template.write_text("Version deux n°{{ issue.number }}\n", encoding="utf-8")
    assert build_in_a_new_process("c") == "Version deux n°1\n"
    assert snapshot(root / "a").keys() == snapshot(root / "b").keys()
