"""What changed in the sessions of a sent issue, told in French.

When `newsletter send N` starts, each session of issue N is recorded as subscribers read it
(`snapshot_of`: title, dates, place, visio link, status, recurrence, and the SEQUENCE published) in
the database (`newsletter.send.corrections`). From then on the issue's sessions are compared with
what subscribers were last told (`changes`): `newsletter check` warns at each changed session
(`problem_of`), and `newsletter rectificatif N` tells them (`newsletter.pipeline.corrections`).

A session whose id changed (a title changed without an explicit `id`) looks like one removed plus
one added: it is paired by title or date and reported as an id change, never as a cancellation. A
session removed from the issue is cancelled only when the editor says so (`--cancel-removed`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from newsletter.errors import ERROR, WARNING, Problem
from newsletter.model.issue import Issue
from newsletter.model.session import Session, Status

STATUS_WORDS = {"confirmed": "confirmée", "tentative": "à confirmer", "cancelled": "annulée"}


@dataclass(frozen=True)
class Change:
    """One session of a sent issue that differs from what its subscribers were told."""

    session_id: str
    title: str
    kind: str  # "changed", "removed" (gone from the issue), "renamed" (its id changed)
    lines: tuple[str, ...] = ()  # « lieu : Paris → en visio »…
    session: Session | None = None  # as it is now (for a removed one: as told, cancelled)
    new_id: str = ""  # for "renamed": the id it has now

    @property
    def summary(self) -> str:
        return " ; ".join(self.lines)


def snapshot_of(session: Session, sequence: int = 0) -> dict:
    """What subscribers read of a session, as JSON values (the SEQUENCE is kept, not compared)."""
    return {
        "title": session.title,
        "start": session.start.isoformat(),
        "end": session.end.isoformat(),
        "all_day": session.all_day,
        "location": session.location,
        "online": session.online,
        "status": session.status.value,
        "rrule": session.rrule,
        "exdates": [moment.isoformat() for moment in session.exdates],
        "sequence": sequence,
    }


def session_of(session_id: str, snapshot: dict, issue: Issue, tz: dt.tzinfo) -> Session:
    """A session as a snapshot tells it, to describe and cancel one that is gone from the issue."""

    def moment(text: str) -> dt.date | dt.datetime:
        return dt.date.fromisoformat(text) if snapshot["all_day"] else dt.datetime.fromisoformat(text).astimezone(tz)

    return Session(
        id=session_id,
        title=snapshot["title"],
        start=moment(snapshot["start"]),
        end=moment(snapshot["end"]),
        location=snapshot["location"],
        online=snapshot["online"],
        status=Status(snapshot["status"]),
        rrule=snapshot["rrule"],
        exdates=tuple(moment(text) for text in snapshot["exdates"]),
        published=issue.date,
        issue=issue.number,
        path=issue.path,
        line=0,
    )


def unknown_programmes(issue: Issue, known: set[str]) -> list[Problem]:
    """An error for each programme the issue names that calendars/ does not have (its events would
    be followed by nobody)."""
    listed = ", ".join(sorted(known)) or "aucun"
    return [
        Problem(
            issue.path,
            issue.programme_line or 1,
            ERROR,
            f"programme « {name} » introuvable dans calendars/ (programmes : {listed})",
        )
        for name in issue.programmes
        if name not in known
    ]


def changes(
    issue: Issue, told: dict[str, dict], tz: dt.tzinfo, locale: str = "fr_FR", sessions: list[Session] | None = None
) -> list[Change]:
    """Every difference between what `issue` announces (`sessions`, by default its blocks) and
    `told` (session id → snapshot)."""
    sessions = list(issue.sessions) if sessions is None else sessions
    current = {session.id: session for session in sessions}
    found: list[Change] = []
    for session in sessions:
        if session.id in told:
            before = session_of(session.id, told[session.id], issue, tz)
            lines = describe(before, session, locale, tz)
            if lines:
                found.append(Change(session.id, session.title, "changed", tuple(lines), session))
    gone = [key for key in told if key not in current]
    added = [session for session in sessions if session.id not in told]
    for key in gone:
        before = session_of(key, told[key], issue, tz)
        twin = _twin(before, added, len(gone) == 1)
        if twin is not None:
            added.remove(twin)
            found.append(Change(key, twin.title, "renamed", session=twin, new_id=twin.id))
        else:
            cancelled = dataclasses.replace(before, status=Status.CANCELLED)
            line = f"statut : {STATUS_WORDS[before.status.value]} → annulée (retirée du numéro)"
            found.append(Change(key, before.title, "removed", (line,), cancelled))
    return found


def _twin(before: Session, added: list[Session], alone: bool) -> Session | None:
    """The new session that is `before` under another id: same title, else same start, else the only one."""
    for same in (lambda s: s.title == before.title, lambda s: s.start == before.start):
        matches = [session for session in added if same(session)]
        if len(matches) == 1:
            return matches[0]
    return added[0] if alone and len(added) == 1 else None


def describe(before: Session, after: Session, locale: str = "fr_FR", tz: dt.tzinfo | None = None) -> list[str]:
    """« jeudi 28 avril 2022 → vendredi 29 avril 2022 », « lieu : Paris → en visio »…; [] when equal."""
    from newsletter.render.fences import repetition_text, when_text

    lines = []
    if before.title != after.title:
        lines.append(f"titre : {before.title} → {after.title}")
    if (before.start, before.end, before.all_day) != (after.start, after.end, after.all_day):
        lines.append(f"{when_text(before, locale)} → {when_text(after, locale)}")
    if before.location != after.location:
        lines.append(f"lieu : {before.location or '(aucun)'} → {after.location or '(aucun)'}")
    if before.online != after.online:
        lines.append(f"visio : {before.online or '(aucune)'} → {after.online or '(aucune)'}")
    if before.status != after.status:
        lines.append(f"statut : {STATUS_WORDS[before.status.value]} → {STATUS_WORDS[after.status.value]}")
    if (before.rrule, before.exdates) != (after.rrule, after.exdates):
        old = repetition_text(before, locale, tz) if before.rrule else "(aucune)"
        new = repetition_text(after, locale, tz) if after.rrule else "(aucune)"
        lines.append(f"répétition : {old} → {new}")
    return lines


def problem_of(change: Change, issue: Issue) -> Problem:
    """The warning of `newsletter check` for one change, at the session's line."""
    number = issue.number
    if change.kind == "renamed":
        assert change.session is not None
        message = f"séance « {change.title} » : son id a changé depuis l’envoi ({change.session_id} → {change.new_id}) : {keep_id(change)}"
        return Problem(change.session.path or issue.path, change.session.line, WARNING, message)
    if change.kind == "removed":
        message = (
            f"séance « {change.title} » ({change.session_id}) retirée du numéro après son envoi : elle reste dans l’agenda "
            f"des abonnés ; pour la leur annoncer annulée, envoyez « newsletter rectificatif {number} --cancel-removed »"
        )
        return Problem(issue.path, 1, WARNING, message)
    assert change.session is not None
    message = f"séance « {change.title} » : {change.summary} (envoyez « newsletter rectificatif {number} »)"
    return Problem(change.session.path or issue.path, change.session.line, WARNING, message)


def keep_id(change: Change) -> str:
    """How to keep a session's id, hence its UID: in a session block, or on a programme's slot."""
    assert change.session is not None
    if change.session.programme:
        return (
            f"ajoutez « {{#{change.session_id}}} » à la fin de son titre « ### », pour que les agendas le mettent "
            "à jour au lieu d’en ajouter un autre"
        )
    return (
        f"ajoutez « id: {change.session_id} » à son bloc, pour que les agendas la mettent à jour au lieu d’en "
        "ajouter une autre"
    )
