"""The project's calendars: every session of the published issues and of `calendars/`, into dist/.

    dist/calendars/agenda.ics              every session and every programme: the one to subscribe to
    dist/calendars/<programme id>.ics      one per file of calendars/: the whole event, its slots, its sessions
    dist/calendars/sessions/<id>.ics       one per session of an issue (and standalone session): the
                                           target of the email's « Fichier .ics » link

A session keeps its id, hence its UID, from build to build; when a session is announced again with
the same `id` in a later issue, the later issue's version is the one published.

SEQUENCE (how agendas tell an update from a new event) is kept in `calendars/published.json`, in
the project and committed with the issues: for each session id, the sequence last published and a
digest of its event. A build that finds an event different from its digest raises its sequence;
a build that changes nothing changes no byte, neither of the state nor of the calendars. The state
has one line per session, so that two people's builds rarely conflict when merged.

Each file is written atomically as it is rendered, and only when what it shows changed (its key in
`dist/.calendars.json`); the agenda, which holds every session of the archive, is written event by
event and never held whole. Each event's VEVENT is rendered once and kept in `dist/.events/` (a file
per issue and per programme) until its source changes. When a source has an error, nothing of the
calendars is written.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import pickle
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from newsletter import code_version
from newsletter.errors import ERROR, WARNING, Problem, SourceError
from newsletter.fsutil import AtomicFile, listed, write_atomic
from newsletter.model.programme import Programme
from newsletter.model.session import Session
from newsletter.parse.programme import is_calendar_source, parse_programme
from newsletter.parse.source import read_committed_json
from newsletter.pipeline.state import settings_read
from newsletter.project import Project
from newsletter.render import calendar as ical
from newsletter.settings import Settings

STATE_FILE = "published.json"
BUILD_RECORD = ".calendars.json"  # in dist/: what the last calendars were made of, and their files' keys
EVENTS_DIR = ".events"  # in dist/: each issue's and programme's VEVENTs (see _Vevents)
ISSUE_EVENTS, PROGRAMME_EVENTS = "numeros", "programmes"
_RENDERER = "2"  # raise when the calendars' output changes for the same sources
STATE_NOTE = (
    "Ce que les agendas ont publié (séquence et empreinte de chaque séance) : écrit par newsletter build, "
    "à committer avec les numéros, à ne pas modifier à la main."
)
_SEQUENCE_LINE = re.compile(rb"\r\nSEQUENCE:0\r\n")


@dataclass(frozen=True)
class Calendars:
    """What the calendars are made of, once every source is read."""

    events: tuple[Session, ...]  # every event, in agenda order
    programmes: tuple[Programme, ...]
    own_files: tuple[Session, ...]  # the sessions that get an .ics of their own
    programme_of: dict[str, str]  # the id of each programme's event → the programme's id


def read_programmes(project: Project) -> tuple[list[Programme], list[Problem]]:
    """The programmes of `calendars/`, each parsed once per build, and their problems."""
    programmes, problems = [], []
    for path in calendar_paths(project):
        try:
            programme, warnings = parse_programme(path, project.settings.tz)
        except SourceError as error:
            problems.append(Problem.from_error(error))
            continue
        problems.extend(warnings)
        programmes.append(programme)
    return programmes, problems


def collect(sessions: list[Session], programmes: list[Programme]) -> tuple[Calendars | None, list[Problem]]:
    """The sessions of the published issues (in number order: a later issue's version of an id wins)
    and the programmes; None and the problems when an id is taken twice."""
    problems: list[Problem] = []
    by_id = {session.id: session for session in sessions}
    programme_of = {}
    for programme in programmes:
        for event in programme.events():
            programme_of[event.id] = programme.id
            if event.id in by_id:
                other = by_id[event.id]
                where = f"{other.path.name}, ligne {other.line}" if other.path else "une autre source"
                problems.append(
                    Problem(
                        programme.path,
                        event.line,
                        ERROR,
                        f"id « {event.id} » déjà pris ({where}) : choisissez-en un autre",
                    )
                )
            by_id[event.id] = event
    if problems:
        return None, problems
    events = tuple(sorted(by_id.values(), key=_agenda_order))
    standalone = {session.id for programme in programmes for session in programme.sessions}
    own = tuple(event for event in events if event.issue is not None or event.id in standalone)
    return Calendars(events, tuple(programmes), own, programme_of), problems


def calendar_paths(project: Project) -> list[Path]:
    folder = project.calendars_dir
    return sorted(path for path in folder.glob("*.md") if is_calendar_source(path)) if folder.is_dir() else []


def calendars_digest(project: Project) -> str:
    """A digest of every file of calendars/ (the programmes and the published state)."""
    folder = project.calendars_dir
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.is_file():
            digest.update(b"\0" + path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def write_calendars(
    project: Project,
    sessions: list[Session],
    programmes: list[Programme],
    issues: str,
    an_issue_failed: bool,
    dist: Path,
    sources: dict[str, tuple[str, str]],
) -> list[Problem]:
    """Render what changed, write it, then record the state; `sessions` of the published issues in
    number order, `issues` a digest of what the issues' VEVENTs are made of (each one's slug and
    sessions), `sources` each session's issue (its slug, and the digest of its file) by session
    id: where its VEVENT was kept.

    When none of it changed since the last build (the issues' sessions, the files of calendars/
    and its state, the settings), and every file is still there, nothing is done: an edit of an
    issue's text that leaves its sessions as they were does not open the calendars.
    """
    inputs = _inputs(project, issues)
    if _unchanged(dist, inputs):
        return []
    calendars, problems = collect(sessions, programmes)
    if calendars is None:
        return problems
    if an_issue_failed:
        # its sessions would vanish from the agenda until it is fixed: keep the last calendars
        return [
            *problems,
            Problem(project.calendars_dir, 0, WARNING, "agendas non mis à jour tant qu’un numéro a une erreur"),
        ]
    state_path = project.calendars_dir / STATE_FILE
    try:
        state = PublishedState.read(state_path)
    except SourceError as error:
        return [*problems, Problem.from_error(error)]
    record = _record(dist)
    vevents = _Vevents(project.settings, dist, calendars, sources)
    keys = _write_files(project.settings, calendars, state, vevents, dist, record.get("files", {}))
    _remove_stale(dist, set(keys), set(record["files"]) if record else None)
    vevents.remove_stale()
    (dist / ".calendars-events.pickle").unlink(missing_ok=True)  # where earlier versions kept every VEVENT
    if state.changed:
        write_atomic(state_path, state.dumps())
        inputs = _inputs(project, issues)  # the state is one of them
    write_atomic(dist / BUILD_RECORD, json.dumps({"inputs": inputs, "files": keys}, indent=0, sort_keys=True) + "\n")
    return problems


def _write_files(
    settings: Settings,
    calendars: Calendars,
    state: PublishedState,
    vevents: _Vevents,
    dist: Path,
    before: dict[str, str],
) -> dict[str, str]:
    """Every calendar file from one pass over the events, source by source (`_Vevents.each`): the
    agenda is written as it goes, a session's own file when its event changed, a programme's
    when its events are all known. Returns each file's key, made of the events' digests (kept
    with them) rather than of their bytes."""
    keys: dict[str, str] = {}
    about = hashlib.sha256(settings_read(settings).encode())
    present = listed(dist, ical.CALENDARS_DIR, ical.SESSIONS_DIR)

    def key(*parts: str) -> hashlib._Hash:
        digest = about.copy()
        digest.update("\0".join(parts).encode())
        return digest

    def write(relative: str, digest: str, render: Callable[[], bytes]) -> None:
        keys[relative] = digest
        if before.get(relative) != digest or relative not in present:
            write_atomic(dist / relative, render())

    own = {event.id for event in calendars.own_files}
    programme_events: dict[str, list[tuple[Session, bytes, str]]] = {p.id: [] for p in calendars.programmes}
    agenda_key = key("agenda")
    with AtomicFile(dist / ical.AGENDA_PATH) as agenda:
        agenda.write(
            ical.calendar_start(
                settings,
                name=f"{settings.name} – agenda",
                description=f"Les rendez-vous annoncés dans la lettre {settings.name}.",
                source=f"{settings.base_url}/{ical.AGENDA_PATH}",
                sessions=calendars.events,
            )
        )
        for event, data, version in vevents.each(state):
            agenda.write(data)
            agenda_key.update(f"\0{version}".encode())
            if event.id in own:
                render = functools.partial(
                    ical.calendar_ical,
                    settings,
                    name=ical.summary(event),
                    description=settings.name,
                    events=[(event, data)],
                )
                write(ical.session_path(event), key(ical.summary(event), version).hexdigest(), render)
            if event.id in calendars.programme_of:
                programme_events[calendars.programme_of[event.id]].append((event, data, version))
        agenda.write(ical.CALENDAR_END)
        keys[ical.AGENDA_PATH] = agenda_key.hexdigest()
        if before.get(ical.AGENDA_PATH) == keys[ical.AGENDA_PATH] and ical.AGENDA_PATH in present:
            agenda.discard()
        else:
            agenda.commit()
    for programme in calendars.programmes:
        events = programme_events[programme.id]
        render = functools.partial(
            ical.calendar_ical,
            settings,
            name=programme.title,
            description=f"{settings.name} : le programme",
            source=f"{settings.base_url}/{ical.programme_path(programme.id)}",
            events=[(event, data) for event, data, _ in events],
        )
        digest = key(programme.title, programme.id, *(version for _, _, version in events)).hexdigest()
        write(ical.programme_path(programme.id), digest, render)
    return keys


class _Vevents:
    """Each event's VEVENT, rendered once and kept in dist/.events/ with the source it comes from:
    one file per issue (written by the worker that renders the issue, `write_issue_events`) and
    one per programme of calendars/. A file holds a key (what its events were made from: the
    settings and the issue file's digest, or the programme's events) and, by event id, the
    VEVENT and a digest of it.

    The calendars are written in one pass over these files, each read once and let go before the
    next: never every VEVENT of the archive at once. So the agenda holds each source's events
    together (in agenda order, the sources in the order of their first event); calendar apps
    order events by their dates, not by their place in the file. A file that is missing, damaged,
    made from another version of its source, or without one of its events (another file claimed
    the same number) is made again here.
    """

    def __init__(self, settings: Settings, dist: Path, calendars: Calendars, sources: dict[str, tuple[str, str]]):
        self.settings = settings
        self.folder = dist / EVENTS_DIR
        self.files: dict[str, list[Session]] = {}  # a file's name → its events in the calendars
        about: dict[str, list[str]] = {}  # a file's name → what its events are made from
        for event in calendars.events:
            if event.id in sources:
                slug, source = sources[event.id]
                name = f"{ISSUE_EVENTS}/{slug}"
                about[name] = [source]
            else:  # a programme's: its events' contents
                name = f"{PROGRAMME_EVENTS}/{calendars.programme_of[event.id]}"
                about.setdefault(name, []).append(repr(replace(event, path=None)))
            self.files.setdefault(name, []).append(event)
        context = _events_context(settings)
        self.keys = {name: _events_key(context, *what) for name, what in about.items()}

    def each(self, state: PublishedState) -> Iterator[tuple[Session, bytes, str]]:
        """Every event: its VEVENT at the sequence `state` gives it (raised when it changed), and
        a digest of that VEVENT."""
        for name, events in self.files.items():
            found = self._file(name, events)
            for event in events:
                data, digest = found[event.id]
                sequence = state.sequence(event.id, digest)
                if sequence:
                    yield (
                        event,
                        _SEQUENCE_LINE.sub(b"\r\nSEQUENCE:%d\r\n" % sequence, data, count=1),
                        f"{digest}.{sequence}",
                    )
                else:
                    yield event, data, digest

    def _file(self, name: str, events: list[Session]) -> dict[str, tuple[bytes, str]]:
        path = self.folder / f"{name}.pickle"
        found = _read_vevents(path)
        if found.get("key") == self.keys[name] and all(event.id in found["events"] for event in events):
            return found["events"]
        made = vevents(self.settings, events)
        write_atomic(path, pickle.dumps({"key": self.keys[name], "events": made}, protocol=5))
        return made

    def remove_stale(self) -> None:
        """The files of programmes that are gone (an issue's goes with the issue's other files)."""
        for path in (self.folder / PROGRAMME_EVENTS).glob("*.pickle"):
            if f"{PROGRAMME_EVENTS}/{path.stem}" not in self.files:
                path.unlink(missing_ok=True)


def issue_events_file(dist: Path, slug: str) -> Path:
    return dist / EVENTS_DIR / ISSUE_EVENTS / f"{slug}.pickle"


def write_issue_events(dist: Path, settings: Settings, slug: str, sessions: tuple[Session, ...], source: str) -> None:
    """The VEVENTs of an issue's sessions, as the calendars stage reads them: made by the worker
    that renders the issue, so that the calendars stage, which runs after every issue, only
    assembles them. `source` is the digest of the issue's file."""
    data = {"key": _events_key(_events_context(settings), source), "events": vevents(settings, sessions)}
    write_atomic(issue_events_file(dist, slug), pickle.dumps(data, protocol=5))


def vevents(settings: Settings, sessions: Iterable[Session]) -> dict[str, tuple[bytes, str]]:
    """By session id: its VEVENT at sequence 0, and the digest `PublishedState` keeps of it."""
    made = {}
    for session in sessions:
        data = ical.event_ical(settings, session, 0)
        made[session.id] = (data, hashlib.sha256(data).hexdigest()[:16])
    return made


def _events_context(settings: Settings) -> str:
    """What every VEVENT depends on besides its session."""
    return repr((code_version(), settings_read(settings)))


def _events_key(context: str, *about: str) -> str:
    return hashlib.sha256("\0".join((context, *about)).encode()).hexdigest()


def _record(dist: Path) -> dict:
    try:
        record = json.loads((dist / BUILD_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) and isinstance(record.get("files"), dict) else {}


def _read_vevents(path: Path) -> dict:
    try:
        found = pickle.loads(path.read_bytes())
    except Exception:  # absent, damaged, another version's: its events are rendered again
        return {}
    return found if isinstance(found, dict) and isinstance(found.get("events"), dict) else {}


class PublishedState:
    """`calendars/published.json`: for each session id, the sequence and digest last published."""

    def __init__(self, entries: dict[str, tuple[int, str]]):
        self.entries = entries
        self.changed = False

    @classmethod
    def read(cls, path: Path) -> PublishedState:
        entries = read_committed_json(
            path,
            "état des agendas",
            lambda data: {
                key: (int(value["sequence"]), str(value["digest"])) for key, value in data["sessions"].items()
            },
            "gardez pour chaque séance la ligne à la plus grande « sequence »",
        )
        return cls(entries or {})

    def sequence(self, key: str, digest: str) -> int:
        """The sequence to publish for this event: the last one, raised if the event changed."""
        if key not in self.entries:
            self.entries[key] = (0, digest)
            self.changed = True
            return 0
        sequence, known = self.entries[key]
        if known != digest:
            sequence += 1
            self.entries[key] = (sequence, digest)
            self.changed = True
        return sequence

    def dumps(self) -> str:
        lines = [
            f'  {json.dumps(key, ensure_ascii=False)}: {{"sequence": {sequence}, "digest": "{digest}"}}'
            for key, (sequence, digest) in sorted(self.entries.items())
        ]
        body = ",\n".join(lines)
        return f'{{\n "note": {json.dumps(STATE_NOTE, ensure_ascii=False)},\n "sessions": {{\n{body}\n }}\n}}\n'


def _inputs(project: Project, issues: str) -> str:
    settings = project.settings
    used = (
        settings.name,
        settings.base_url,
        settings.timezone,
        settings.language,
        settings.smart_quotes,
        settings.narrow_spaces,
    )
    about = (code_version(), _RENDERER, *used, issues)
    return hashlib.sha256(repr(about).encode() + calendars_digest(project).encode()).hexdigest()


def _unchanged(dist: Path, inputs: str) -> bool:
    record = _record(dist)
    if record.get("inputs") != inputs:
        return False
    present = listed(dist, ical.CALENDARS_DIR, ical.SESSIONS_DIR)
    return all(name in present for name in record["files"])


def _agenda_order(session: Session) -> tuple[dt.datetime, str]:
    start = session.start
    if not isinstance(start, dt.datetime):
        start = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    return start.astimezone(dt.UTC), session.id


def _remove_stale(dist: Path, written: set[str], before: set[str] | None) -> None:
    """Calendar files of sessions or programmes that are gone: those the last build wrote, or with
    no record of it, every .ics that is not ours now."""
    if before is None:
        folder = dist / ical.CALENDARS_DIR
        before = {
            path.relative_to(dist).as_posix() for path in [*folder.glob("*.ics"), *(folder / "sessions").glob("*.ics")]
        }
    for relative in before - written:
        (dist / relative).unlink(missing_ok=True)
