"""What the last build knew, in `dist/.build-state.pickle`, and the keys that say what is stale.

The state is small: per issue file an `IssueRecord` (its keys, a card for the index, its sessions
for the agenda, its problems), and per project-wide output the key it was rendered with. What is
large (an issue's archive entry, its email) lives in its own file and is read only when an output
needs it. A key is a digest of everything an output reads: an output whose key is unchanged and
whose file is there is not rendered again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import jinja2

from newsletter import code_version
from newsletter.errors import Problem
from newsletter.fsutil import write_atomic
from newsletter.model.session import Session
from newsletter.parse.corrections import CORRECTIONS_FILE
from newsletter.project import Project
from newsletter.render.templates import environment, fingerprint
from newsletter.render.web import EntryCard
from newsletter.settings import Settings

SENDING_TABLES = ("sending", "smtp", "bounces")  # what the email's .eml preview reads of newsletter.toml
# Typed settings that one kind of output alone reads; every other one is read by all of them. A
# test changes each of these and compares the build with a full one, so a renderer that starts
# reading one of them without saying so here is caught.
EMAIL_SETTINGS = ("sender_name", "sender_address", "reply_to", "unsubscribe_url")  # the .eml's headers, the links
WEB_SETTINGS = ("feed_items", "form_text")  # the feeds' length, the sign-up form of the pages

STATE_FILE = ".build-state.pickle"


def digest(*parts: str | bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode("utf-8") if isinstance(part, str) else part)
        hasher.update(b"\0")
    return hasher.hexdigest()


@dataclass(frozen=True)
class Context:
    """The digests every issue's keys start from: code and settings, then each kind's templates.

    Settings count as read, not as written (`settings_read`): a comment in newsletter.toml, or the
    project seen from another folder, re-renders nothing; a setting only the email reads (the
    sender, the tables its `.eml` preview reads: `[sending]`, `[smtp]`, `[bounces]`) re-renders
    every email and no page, one only the web archive reads (`feed_items`, the sign-up form's
    text) no email. `[serve]` counts through the settings it sets."""

    parse: str  # the code and the settings all outputs read: what parsing depends on besides the file
    email: str  # … and the settings the email alone reads, and the email's templates
    web: str  # … and the settings the web archive alone reads, and its templates

    @classmethod
    def of(cls, project: Project) -> Context:
        settings = project.settings
        corrections = project.calendars_dir / CORRECTIONS_FILE  # the cards' notes « Modifié le … »
        parse = digest(
            code_version(),
            settings_read(settings),
            corrections.read_bytes() if corrections.is_file() else b"",
        )
        sending = json.dumps({name: dict(settings.table(name)) for name in SENDING_TABLES}, sort_keys=True, default=str)
        return cls(
            parse,
            digest(parse, settings_read(settings, "email"), sending, fingerprint(project.root, web=False)),
            digest(parse, settings_read(settings, "web"), fingerprint(project.root, web=True)),
        )


def settings_read(settings: Settings, kind: str = "") -> str:
    """The typed settings that outputs of `kind` ("email", "web") alone read, or by default those
    every output reads: what their keys digest. Never the file's path (the project may be named
    from elsewhere), nor the raw tables (`SENDING_TABLES` count for the email on their own)."""
    only = {"email": EMAIL_SETTINGS, "web": WEB_SETTINGS}.get(kind)
    kept = [f.name for f in dataclasses.fields(settings) if f.repr and f.name != "path"]
    if only is None:
        kept = [name for name in kept if name not in EMAIL_SETTINGS + WEB_SETTINGS]
    else:
        kept = [name for name in kept if name in only]
    return repr([(name, getattr(settings, name)) for name in kept])


@dataclass(frozen=True, slots=True)
class IssueRecord:
    """One issue file as last built with success: enough for every project-wide output."""

    name: str  # the file's name in issues/ (never its path: the project may be named otherwise next time)
    source: str  # digest of the parse context and the file's bytes
    number: int
    slug: str
    draft: bool
    title: str
    date: str
    sessions: tuple[Session, ...]
    events: str = ""  # digest of what its VEVENTs are made of (its slug and sessions): the calendars' input
    email_key: str = ""
    entry_key: str = ""
    entry_hash: str = ""  # digest of the archive entry's JSON: what pages and feeds are keyed on
    card: EntryCard | None = None
    html_bytes: int = 0
    problems: tuple[Problem, ...] = ()  # the build's warnings (parsing, rendering)
    notes_key: str = ""
    notes: tuple[Problem, ...] = ()  # what `check` adds: pieces left to write, dates

    def at(self, path: Path) -> IssueRecord:
        """The record with its problems located at `path`, as this build names the file."""
        if all(p.path == path for p in (*self.problems, *self.notes)):
            return self

        def moved(problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
            return tuple(dataclasses.replace(p, path=path) if p.path.name == self.name else p for p in problems)

        return dataclasses.replace(self, problems=moved(self.problems), notes=moved(self.notes))


@dataclass
class State:
    """What the last build knew. Its file holds two pickles: a header (the code version and the
    `Context` the build ran with), then the records and the outputs' keys. The header alone tells
    whether every issue is to be rendered again (`made_with`), before the rest is read."""

    issues: dict[str, IssueRecord] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)  # path relative to dist/ → key
    context: Context | None = None  # the one this build runs with, written in the header

    @classmethod
    def read(cls, dist: Path) -> State:
        """Our own file in dist/; anything unreadable (absent, another version, damaged) means none."""
        try:
            with open(dist / STATE_FILE, "rb") as file:
                if _header(file) is None:  # another version's
                    return cls()
                data = pickle.load(file)
            return cls(data["issues"], data["outputs"])
        except Exception:
            return cls()

    @staticmethod
    def made_with(dist: Path) -> Context | None:
        """The context of the last build, reading only the file's header (None: unknown)."""
        try:
            with open(dist / STATE_FILE, "rb") as file:
                context = (_header(file) or {}).get("context")
        except Exception:
            return None
        return context if isinstance(context, Context) else None

    def write(self, dist: Path) -> None:
        header = {"code": code_version(), "context": self.context}
        data = {"issues": self.issues, "outputs": dict(sorted(self.outputs.items()))}
        write_atomic(dist / STATE_FILE, pickle.dumps(header, protocol=5) + pickle.dumps(data, protocol=5))


def _header(file: BinaryIO) -> dict | None:
    """The file's header; None when the file is another version's."""
    header = pickle.load(file)
    return header if isinstance(header, dict) and header.get("code") == code_version() else None


def use_compiled_templates(project: Project) -> None:
    """Jinja compiles each template from source in every process, about 15 ms a template: keep the
    compiled code in the user's cache folder (Jinja checks each against its template's source
    before using it), not in dist/, whose bytes depend on the sources only."""
    env = environment(project.root)
    if isinstance(env.bytecode_cache, _CompiledTemplates):
        return
    try:
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsletter" / "templates"
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):  # no home, or not writable: each process compiles
        return
    env.bytecode_cache = _CompiledTemplates(str(folder))


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """A damaged file (cut short, another version's) is compiled again, like a missing one."""
        try:
            super().load_bytecode(bucket)
        except Exception:  # pickle and marshal raise several kinds: any of them means no cache
            bucket.reset()
