"""The corrections (« rectificatifs ») of a project: what a sent issue announced, what `check` says
of it, and the correction composed from the sources with the calendars' state.

`announced`: an issue's session blocks and the events of the programmes it names. `compose`: the
email (`render/correction.py`) and one `.ics` per session changed, at the SEQUENCE
`PublishedState` gives it; `publish` writes what the build reads (`calendars/published.json`,
`calendars/rectificatifs.json`), never the database nor the clock's day but the one it is given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from newsletter.corrections import Change, changes, problem_of, snapshot_of, unknown_programmes
from newsletter.errors import Problem, SourceError
from newsletter.fsutil import write_atomic
from newsletter.model.issue import Issue
from newsletter.model.session import Session
from newsletter.parse.corrections import CORRECTIONS_FILE, Record, read_records
from newsletter.parse.issue import parse_issue
from newsletter.pipeline.calendars import STATE_FILE, PublishedState, read_programmes
from newsletter.project import Project
from newsletter.render import calendar as ical
from newsletter.render.correction import render_correction
from newsletter.render.dates import publication_time
from newsletter.render.email import EmailParts
from newsletter.send.message import Attachment, Letter
from newsletter.settings import Settings

NOTE = (
    "Les rectificatifs envoyés (date, numéro, séances et changements) : écrit par newsletter rectificatif, "
    "à committer avec les numéros ; l’archive en tire la note « Modifié le … » de chaque séance."
)


def announced(project: Project, issue: Issue) -> tuple[list[Session], list[Problem]]:
    """What the subscribers of `issue` are told of: its session blocks, then every event of each
    programme of calendars/ its front matter names (`programme:`); a name no programme has is an error."""
    sessions = list(issue.sessions)
    if not issue.programmes:
        return sessions, []
    programmes, _ = read_programmes(project)  # their own problems are told by check
    named = {programme.id: programme for programme in programmes}
    for name in issue.programmes:
        sessions += named[name].events() if name in named else []
    return sessions, unknown_programmes(issue, set(named))


def correction_problems(project: Project, paths: dict[int, Path]) -> list[Problem]:
    """For `check`: each session of a sent issue (number → its file, among `paths`) that differs
    from what its subscribers were told. The database is only read; only the issues it holds
    snapshots of are parsed again."""
    from newsletter.send.config import sending_config
    from newsletter.send.corrections import read_told

    try:
        database = sending_config(project.settings, project.root).database
    except SourceError:  # a bad [sending] setting: the build and `send` say so
        return []
    settings, problems = project.settings, []
    for number, told in sorted(read_told(database).items()):
        issue = parse_issue(paths[number], settings).issue if number in paths else None
        if issue is not None:
            sessions, _ = announced(project, issue)
            problems += [
                problem_of(change, issue) for change in changes(issue, told, settings.tz, settings.locale, sessions)
            ]
    return problems


# --- the correction's calendars and its record in the archive ------------------------------------


def sequenced(settings: Settings, session: Session, state: PublishedState, told_sequence: int) -> int:
    """The SEQUENCE to publish for `session`, as the build reckons it (`PublishedState`), and always
    above the one subscribers were sent, so that their agendas take it as an update."""
    digest = hashlib.sha256(ical.event_ical(settings, session, 0)).hexdigest()[:16]
    sequence = state.sequence(session.id, digest)
    if sequence <= told_sequence:
        sequence = told_sequence + 1
        state.entries[session.id] = (sequence, digest)
        state.changed = True
    return sequence


# --- composing a correction ----------------------------------------------------------------------


@dataclass(frozen=True)
class Composition:
    """A correction ready to go: its message (rendered once, `.ics` attached) and what it tells."""

    letter: Letter
    parts: EmailParts
    target: dict[str, dict | None]  # session id → the snapshot subscribers will know (None: cancelled and gone)
    lines: dict[str, tuple[str, ...]]  # session id → the change lines, for the archive's note
    state: PublishedState  # with the sequences this correction publishes


def compose(
    project: Project, issue: Issue, told: dict[str, dict], told_changes: list[Change], sender: tuple[str, str]
) -> Composition:
    """The correction of `issue` telling `told_changes`; `sender` (name, address) organises a CANCEL."""
    settings = project.settings
    state = PublishedState.read(project.calendars_dir / STATE_FILE)
    attachments, target = [], {}
    for change in told_changes:
        assert change.session is not None
        sequence = sequenced(settings, change.session, state, int(told[change.session_id].get("sequence", 0)))
        method, data = ical.correction_calendar(settings, change.session, sequence, sender)
        attachments.append(
            Attachment(f"{change.session.id}.ics", f'text/calendar; charset="utf-8"; method={method}', data)
        )
        target[change.session_id] = None if change.kind == "removed" else snapshot_of(change.session, sequence)
    parts = render_correction(settings, issue, told_changes, project.root)
    letter = Letter(
        number=issue.number,
        date=publication_time(issue.date, settings.tz),
        subject=parts.subject,
        html=parts.html,
        text=parts.text,
        greeting=parts.greeting,
        attachments=tuple(attachments),
    )
    lines = {change.session_id: change.lines for change in told_changes}
    return Composition(letter, parts, target, lines, state)


def publish(project: Project, composition: Composition, issue: int, round_: int, today: dt.date) -> None:
    """What the build reads: the raised sequences (`published.json`) and the note (`rectificatifs.json`)."""
    if composition.state.changed:
        write_atomic(project.calendars_dir / STATE_FILE, composition.state.dumps())
    _append_record(project.calendars_dir / CORRECTIONS_FILE, Record(today, issue, round_, composition.lines))


def _append_record(path: Path, record: Record) -> None:
    """Add a correction to the committed list, one line an entry, oldest first (rewritten the same
    when a round is started again after a crash)."""
    records = [r for r in read_records(path) if (r.issue, r.round) != (record.issue, record.round)] + [record]
    entries = ",\n".join("  " + json.dumps(r.as_json(), ensure_ascii=False, sort_keys=True) for r in records)
    write_atomic(
        path, f'{{\n "note": {json.dumps(NOTE, ensure_ascii=False)},\n "rectificatifs": [\n{entries}\n ]\n}}\n'
    )
