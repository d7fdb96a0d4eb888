"""`newsletter preview`: a local web server showing each issue as subscribers will see it.

    /                       the issues, with the problems `check` finds in each
    /numeros/<file>/        one issue: the email at 375 px and 640 px side by side, the plain text,
                            the web page when the build makes one, and the issue's problems
    /dist/<path>            the files of the preview build
    /__build                the number of the last build; each page polls it and reloads itself

The preview builds into a private temporary folder (never the project's dist/), with the same
incremental `build()` as the command line. A watcher thread (watchfiles) rebuilds when a source or a
template changes; readers always see a finished build, since every file is replaced atomically and
the pages are swapped in one assignment. The server binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import dataclasses
import errno
import html
import mimetypes
import shutil
import socket
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from newsletter.errors import NewsletterError, Problem, os_reason
from newsletter.render.templates import builtin_templates

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
PHONE, DESKTOP = 375, 640
WATCHED = ("issues", "calendars", "templates", "newsletter.toml")


class PortBusy(NewsletterError):
    """The port is taken (or not ours to take); the message suggests one that is free."""


@dataclass(frozen=True)
class IssueEntry:
    """One issue file as the preview shows it."""

    stem: str
    file: str
    number: int | None
    title: str
    date: str
    draft: bool
    slug: str | None  # None when the file has errors and was never built
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.is_error)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors


@dataclass(frozen=True)
class BuildState:
    """The result of one build, swapped in whole for the request threads."""

    generation: int
    issues: tuple[IssueEntry, ...] = ()
    problems: tuple[str, ...] = ()  # problems that belong to no issue (settings, internal errors)
    built: tuple[str, ...] = field(default=(), compare=False)


class Preview:
    """The server, its watcher and its build folder; `start()` then `stop()`."""

    def __init__(
        self,
        root: Path,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        watch: bool = True,
        on_build: Callable[[BuildState], None] | None = None,
    ):
        self.root = Path(root).resolve()
        self.host = host
        self.port = port
        self.watch = watch
        self.on_build = on_build
        self.state = BuildState(0)
        self._dist: Path | None = None
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._build_lock = threading.Lock()
        self._built_from: tuple[tuple[str, int, int], ...] = ()

    # --- life cycle ------------------------------------------------------------------------------

    def start(self) -> Preview:
        self._server = _bind(self.host, self.port, self)
        self.port = self._server.server_address[1]
        self._dist = Path(tempfile.mkdtemp(prefix="newsletter-preview-"))
        self.rebuild()
        self._spawn(self._server.serve_forever, "preview-server")
        if self.watch:
            self._spawn(self._watch, "preview-watcher")
        return self

    def stop(self) -> None:
        """Stop serving and watching, wait for both threads, remove the build folder."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        if self._dist is not None:
            shutil.rmtree(self._dist, ignore_errors=True)
        self._server = None

    def __enter__(self) -> Preview:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until `stop()` (from another thread) or Ctrl-C."""
        while not self._stop.wait(0.5):
            pass

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def dist(self) -> Path:
        assert self._dist is not None, "start() first"
        return self._dist

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # --- building --------------------------------------------------------------------------------

    def rebuild(self) -> BuildState:
        """Build into the preview folder and run `check`; never raises."""
        with self._build_lock:
            generation = self.state.generation + 1
            self._built_from = self.signature()
            try:
                state = self._build(generation)
            except NewsletterError as error:
                state = BuildState(generation, self.state.issues, (str(error),))
            except Exception:  # the preview must survive anything a half-saved file can cause
                state = BuildState(
                    generation, self.state.issues, ("erreur interne :\n" + traceback.format_exc(limit=5),)
                )
            self.state = state
        if self.on_build:
            self.on_build(state)
        return state

    def _build(self, generation: int) -> BuildState:
        """One build through the pipeline; its report says each issue's problems as `check` would,
        so nothing is parsed or rendered twice."""
        from newsletter.pipeline import build
        from newsletter.project import load_project

        project = load_project(self.root)
        report = build(project, self.dist, check=True)
        entries = [self._entry(view) for view in report.issues]
        entries.sort(key=lambda e: (e.number is None, -(e.number or 0), e.file))
        known = {entry.file for entry in entries}
        mine = {problem for view in report.issues for problem in view.problems}
        others = sorted({dataclasses.replace(p, path=self._relative(p.path)) for p in report.problems if p not in mine})
        loose = tuple(str(p) for p in others if p.path.name not in known)
        return BuildState(generation, tuple(entries), loose, tuple(report.built))

    def _entry(self, view) -> IssueEntry:
        record = view.record
        built = record is not None and (self.dist / "email" / f"{record.slug}.html").exists()
        return IssueEntry(
            stem=view.path.stem,
            file=view.path.name,
            number=record.number if record else None,
            title=record.title if record else view.path.name,
            date=record.date if record else "",
            draft=record.draft if record else False,
            slug=record.slug if built else None,
            problems=tuple(sorted({dataclasses.replace(p, path=self._relative(p.path)) for p in view.problems})),
        )

    def _relative(self, path: Path) -> Path:
        """A path relative to the project, as `newsletter check` run in it prints them."""
        absolute = (self.root / path).resolve()
        return absolute.relative_to(self.root) if absolute.is_relative_to(self.root) else path

    def signature(self) -> tuple[tuple[str, int, int], ...]:
        """Name, modification time and size of every watched file."""
        found = []
        for root in self.watched_paths():
            for path in [root] if root.is_file() else sorted(root.rglob("*")):
                try:
                    info = path.stat()
                except OSError:
                    continue
                if path.is_file():
                    found.append((str(path), info.st_mtime_ns, info.st_size))
        return tuple(found)

    def watched_paths(self) -> list[Path]:
        paths = [self.root / name for name in WATCHED if (self.root / name).exists()]
        builtin = builtin_templates()
        if builtin.is_dir() and builtin.resolve() != (self.root / "templates").resolve():
            paths.append(builtin)
        return paths or [self.root]

    def _watch(self) -> None:
        from watchfiles import DefaultFilter, watch

        while not self._stop.is_set():
            paths = self.watched_paths()
            try:
                for _changes in watch(
                    *paths,
                    watch_filter=DefaultFilter(),
                    stop_event=self._stop,
                    debounce=300,
                    step=50,
                    rust_timeout=500,
                    yield_on_timeout=True,
                    raise_interrupt=False,
                ):
                    if self._stop.is_set():
                        return
                    # Events are the fast path; the signature also catches what no event reported
                    # (a change made while the watcher was starting, a file system without events).
                    if _changes or self.signature() != self._built_from:
                        self.rebuild()
                    if self.watched_paths() != paths:  # a source folder appeared or went: watch anew
                        self.rebuild()
                        break
            except (OSError, RuntimeError):  # a watched folder was removed: set up again
                self._stop.wait(0.5)

    # --- pages -----------------------------------------------------------------------------------

    def page(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a GET of `path`."""
        state = self.state
        if path == "/":
            return 200, "text/html; charset=utf-8", _index(state).encode()
        if path == "/__build":
            return 200, "text/plain; charset=utf-8", str(state.generation).encode()
        if path.startswith("/numeros/"):
            stem = path.removeprefix("/numeros/").strip("/")
            entry = next((e for e in state.issues if e.stem == stem), None)
            if entry is None:
                return 404, "text/html; charset=utf-8", _not_found(state, stem).encode()
            return 200, "text/html; charset=utf-8", _issue_page(state, entry, self.dist).encode()
        if path.startswith("/dist/"):
            return self._file(path.removeprefix("/dist/"))
        return 404, "text/html; charset=utf-8", _not_found(state, path).encode()

    def _file(self, relative: str) -> tuple[int, str, bytes]:
        target = (self.dist / relative).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self.dist.resolve()) or not target.is_file():
            return 404, "text/plain; charset=utf-8", b"Introuvable"
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/xml", "application/javascript"):
            kind += "; charset=utf-8"
        return 200, kind, target.read_bytes()


# --- the HTTP side -------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # on Linux, still refuses a port someone listens on; allows a quick restart

    def __init__(self, address: tuple[str, int], preview: Preview):
        self.preview = preview
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "newsletter-preview"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        try:
            status, kind, body = self.server.preview.page(path)
        except Exception:
            status, kind = 500, "text/plain; charset=utf-8"
            body = ("erreur interne :\n" + traceback.format_exc(limit=5)).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet: the terminal is the editor's
        pass


def _bind(host: str, port: int, preview: Preview) -> _Server:
    try:
        return _Server((host, port), preview)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            free = free_port(host, port + 1)
            hint = f" ; essayez « newsletter preview --port {free} »" if free else ""
            raise PortBusy(f"le port {port} est déjà utilisé par un autre programme{hint}") from error
        if error.errno == errno.EACCES:
            raise PortBusy(
                f"le port {port} est réservé ; essayez « newsletter preview --port {DEFAULT_PORT} »"
            ) from error
        raise PortBusy(f"impossible d’écouter sur {host}:{port} ({os_reason(error)})") from error


def free_port(host: str, start: int, tries: int = 50) -> int | None:
    """The first port from `start` that nothing listens on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in range(start, min(start + tries, 65536)):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    return None


# --- HTML ----------------------------------------------------------------------------------------

_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1f2933;background:#eef1f4}
header{background:#12355b;color:#fff;padding:12px 24px}header a{color:#fff}
main{padding:16px 24px}h1{font-size:22px;margin:0}h2{font-size:18px;margin:24px 0 8px}
table{border-collapse:collapse;background:#fff}td,th{padding:6px 12px;border-bottom:1px solid #d6dde3;text-align:left}
.problems{list-style:none;padding:0;margin:8px 0;font-family:ui-monospace,monospace;font-size:14px}
.problems li{padding:4px 8px;margin:2px 0;border-radius:4px;white-space:pre-wrap}
.erreur{background:#fde2e1;color:#8a1c1c}.attention{background:#fff3cd;color:#6b4e00}
.badge{font-size:13px;padding:1px 6px;border-radius:8px;background:#d6dde3}
.screens{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap}
.screen{background:#fff;box-shadow:0 1px 4px rgba(0,0,0,.2)}
.screen p{margin:0;padding:4px 8px;font-size:13px;color:#52606d}
iframe{border:0;display:block;background:#fff}
pre.text{background:#fff;padding:16px;max-width:80ch;white-space:pre-wrap;font-size:14px}
"""

_RELOAD = """
<script>
(function () {
  var built = "%s";
  var key = "newsletter-preview-scroll:" + location.pathname;
  var y = sessionStorage.getItem(key);
  if (y !== null) { sessionStorage.removeItem(key); window.addEventListener("load", function () { window.scrollTo(0, +y); }); }
  setInterval(function () {
    fetch("/__build", {cache: "no-store"}).then(function (r) { return r.text(); }).then(function (now) {
      if (now !== built) { sessionStorage.setItem(key, String(window.scrollY)); location.reload(); }
    }).catch(function () {});
  }, 1000);
  window.fitFrame = function (frame) {
    try { frame.style.height = frame.contentDocument.documentElement.scrollHeight + "px"; } catch (e) {}
  };
})();
</script>
"""


def _layout(state: BuildState, title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="fr"><head><meta charset="utf-8">'
        f"<title>{_e(title)} · aperçu</title><style>{_STYLE}</style></head><body>"
        f'<header><h1><a href="/">Aperçu</a> · {_e(title)}</h1></header><main>'
        + "".join(f'<ul class="problems"><li class="erreur">{_e(p)}</li></ul>' for p in state.problems)
        + body
        + "</main>"
        + _RELOAD % state.generation
        + "</body></html>\n"
    )


def _problems(problems: tuple[Problem, ...]) -> str:
    if not problems:
        return ""
    items = "".join(f'<li class="{_e(p.severity)}">{_e(str(p))}</li>' for p in problems)
    return f'<ul class="problems">{items}</ul>'


def _index(state: BuildState) -> str:
    if not state.issues:
        body = "<p>Aucun numéro dans issues/ : commencez-en un avec <code>newsletter new</code>.</p>"
        return _layout(state, "les numéros", body)
    rows = []
    for entry in state.issues:
        badges = (
            (' <span class="badge">brouillon</span>' if entry.draft else "")
            + (f' <span class="badge erreur">{entry.errors} erreur(s)</span>' if entry.errors else "")
            + (f' <span class="badge attention">{entry.warnings} avertissement(s)</span>' if entry.warnings else "")
        )
        rows.append(
            f"<tr><td>{entry.number if entry.number is not None else '?'}</td><td>{_e(entry.date)}</td>"
            f'<td><a href="/numeros/{_e(entry.stem)}/">{_e(entry.title)}</a>{badges}</td><td>{_e(entry.file)}</td></tr>'
        )
    table = "<table><tr><th>N°</th><th>Date</th><th>Titre</th><th>Fichier</th></tr>" + "".join(rows) + "</table>"
    return _layout(state, "les numéros", table)


def _issue_page(state: BuildState, entry: IssueEntry, dist: Path) -> str:
    parts = [f"<p>{_e(entry.file)}{' · brouillon' if entry.draft else ''}</p>", _problems(entry.problems)]
    if entry.slug is None:
        parts.append(
            "<p>Ce numéro n’a pas pu être compilé : corrigez les erreurs ci-dessus, l’aperçu se mettra à jour.</p>"
        )
        return _layout(state, entry.title, "".join(parts))
    email = f"/dist/email/{entry.slug}.html"
    parts.append('<h2>L’email</h2><div class="screens">')
    for width, label in ((PHONE, "téléphone"), (DESKTOP, "ordinateur")):
        parts.append(
            f'<div class="screen"><p>{label} · {width} px</p>'
            f'<iframe title="email à {width} px" src="{email}" width="{width}" height="900" onload="fitFrame(this)"></iframe></div>'
        )
    parts.append("</div>")
    parts.append(
        f'<p><a href="{email}">ouvrir l’email seul</a> · <a href="/dist/email/{entry.slug}.eml">le message .eml</a></p>'
    )
    web = dist / "numeros" / entry.slug / "index.html"
    if web.is_file():
        parts.append(
            f'<h2>La page web</h2><div class="screen"><iframe title="page web" src="/dist/numeros/{entry.slug}/" width="1000" height="900" onload="fitFrame(this)"></iframe></div>'
        )
    text = dist / "email" / f"{entry.slug}.txt"
    if text.is_file():
        parts.append(f'<h2>La version texte</h2><pre class="text">{_e(text.read_text(encoding="utf-8"))}</pre>')
    return _layout(state, f"n°{entry.number} – {entry.title}", "".join(parts))


def _not_found(state: BuildState, what: str) -> str:
    return _layout(state, "introuvable", f'<p>Rien ici ({_e(what)}). <a href="/">Retour aux numéros</a></p>')


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
