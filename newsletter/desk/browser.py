"""Headless Chromium, driven over the DevTools protocol through a pipe: screenshots and layout checks.

No browser is downloaded: this uses the system's Chromium (Debian's `chromium` package), found on the
PATH or named by `NEWSLETTER_CHROMIUM`. The protocol runs over `--remote-debugging-pipe` (two file
descriptors, messages separated by NUL bytes), so no port is opened and no WebSocket library is
needed. Flags keep the browser from reaching the network on its own (updates, sync, metrics).

The layout checks are those an email must pass in a real browser:
- at phone width (375 px), no horizontal scrolling: the document is no wider than the viewport;
- every image has alternative text;
- every visible piece of text is at least 14 px;
- at desktop width (640 px), the content column is centred and at most 600 px wide.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.errors import NewsletterError, os_reason
from newsletter.fsutil import write_atomic

PHONE_WIDTH = 375
DESKTOP_WIDTH = 640
WIDTHS = (PHONE_WIDTH, DESKTOP_WIDTH)
MIN_FONT_PX = 14
MAX_COLUMN_PX = 600
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--mute-audio",
    "--hide-scrollbars",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
)
TIMEOUT = 30.0
LOAD_TIMEOUT = 15.0


class BrowserError(NewsletterError):
    """Chromium is missing, would not start, or stopped answering."""


def find_chromium() -> str | None:
    """The Chromium to use: `NEWSLETTER_CHROMIUM`, else the first candidate on the PATH."""
    named = os.environ.get("NEWSLETTER_CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


MISSING = (
    "Chromium introuvable : installez le paquet Debian « chromium » "
    "(apt-get install chromium) ou indiquez son chemin dans NEWSLETTER_CHROMIUM"
)


class Browser:
    """One headless Chromium with one tab; use as a context manager."""

    _to_browser: int | None  # None once closed, so that a file descriptor is never closed twice
    _from_browser: int | None

    def __init__(self, executable: str | None = None, block_remote: bool = False):
        executable = executable or find_chromium()
        if not executable:
            raise BrowserError(MISSING)
        self.executable = executable
        self.block_remote = block_remote
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Browser:
        self._profile = tempfile.mkdtemp(prefix="newsletter-chromium-")
        to_child, self._to_browser = os.pipe()
        self._from_browser, from_child = os.pipe()
        # Chromium reads commands on fd 3 and writes answers on fd 4: the pipes arrive as the
        # child's stdin and stdout and a shell moves them there (no preexec_fn, safe with threads).
        command = [
            "/bin/sh", "-c", 'exec "$@" 3<&0 4>&1 0</dev/null 1>/dev/null', "sh",
            self.executable, *FLAGS, f"--user-data-dir={self._profile}", "about:blank",
        ]  # fmt: skip
        try:
            self._process = subprocess.Popen(command, stdin=to_child, stdout=from_child, stderr=subprocess.DEVNULL)
        except OSError as error:
            self._cleanup()
            raise BrowserError(f"Chromium ne démarre pas : {os_reason(error)}") from error
        finally:
            os.close(to_child)
            os.close(from_child)
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            self.call("Page.enable", session=True)
            if self.block_remote:
                self.call("Network.enable", session=True)
                self.call("Network.setBlockedURLs", urls=["http://*", "https://*", "ws://*", "wss://*"], session=True)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._process.poll() is None:
                try:
                    self.call("Browser.close", timeout=5)
                except BrowserError:
                    pass
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        for fd in (getattr(self, "_to_browser", None), getattr(self, "_from_browser", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._to_browser = self._from_browser = None
        shutil.rmtree(self._profile, ignore_errors=True)

    # --- the protocol ----------------------------------------------------------------------------

    def call(self, method: str, session: bool = False, timeout: float = TIMEOUT, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        try:
            os.write(_open(self._to_browser), json.dumps(message).encode() + b"\0")
        except OSError as error:
            raise BrowserError("Chromium s’est arrêté de façon inattendue") from error
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"Chromium refuse {method} : {reply['error'].get('message', reply['error'])}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def wait_for(self, event: str, timeout: float) -> bool:
        """Wait for an event of our tab; False when it did not come in time."""
        deadline = time.monotonic() + timeout
        while True:
            for index, seen in enumerate(self._events):
                if seen.get("method") == event:
                    del self._events[: index + 1]
                    return True
            self._events.clear()
            try:
                self._events.append(self._receive(deadline, event))
            except BrowserError:
                if time.monotonic() >= deadline:
                    return False
                raise

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"Chromium ne répond pas ({waiting_for})")
            ready, _, _ = select.select([_open(self._from_browser)], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(_open(self._from_browser), 1 << 16)
            if not chunk:
                raise BrowserError("Chromium s’est arrêté de façon inattendue")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    # --- pages -----------------------------------------------------------------------------------

    def open(self, url: str, width: int, height: int = 900, scheme: str = "light") -> None:
        """Load `url` in a viewport `width` CSS pixels wide, waiting for its load event.

        `scheme` ("light" or "dark") is what `prefers-color-scheme` answers, as a phone set to dark
        mode would.
        """
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.call(
            "Emulation.setEmulatedMedia", session=True, features=[{"name": "prefers-color-scheme", "value": scheme}]
        )
        self._events.clear()
        self.call("Page.navigate", session=True, url=url)
        self.wait_for("Page.loadEventFired", LOAD_TIMEOUT)

    def navigate_by(self, expression: str) -> None:
        """Run `expression` that leaves the page (a click, a form submitted) and wait for the next one."""
        self._events.clear()
        self.evaluate(expression)
        self.wait_for("Page.loadEventFired", LOAD_TIMEOUT)

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", session=True, expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"erreur JavaScript : {result['exceptionDetails'].get('text', '')}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        """The whole page (not only the viewport) as a PNG."""
        shot = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True)
        write_atomic(path, base64.b64decode(shot["data"]))
        return path

    def measure(self) -> Layout:
        return Layout.from_json(self.evaluate(_MEASURE))


# --- measurements ------------------------------------------------------------------------------

_MEASURE = r"""
(() => {
  const doc = document.documentElement;
  const viewport = doc.clientWidth;
  const visible = (node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return [...range.getClientRects()].some((r) => r.width > 0 && r.height > 0);
  };
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.data.trim() || !node.parentElement || !visible(node)) continue;
    const style = getComputedStyle(node.parentElement);
    if (style.visibility === 'hidden' || parseFloat(style.opacity) === 0) continue;
    texts.push(node);
  }
  const small = [];
  const columns = new Map();
  let outside = 0;
  for (const node of texts) {
    const size = parseFloat(getComputedStyle(node.parentElement).fontSize);
    if (size < %(min_font)s) small.push({text: node.data.trim().slice(0, 60), size});
    let column = null;
    for (let el = node.parentElement; el && el !== document.body && el !== doc; el = el.parentElement) {
      if (el.getBoundingClientRect().width < viewport - 0.5) column = el;
    }
    if (!column) { outside += 1; continue; }
    const r = column.getBoundingClientRect();
    columns.set(column, {left: r.left, right: r.right, width: r.width});
  }
  const images = [...document.images].map((img) => ({
    src: (img.getAttribute('src') || '').slice(0, 120),
    alt: img.getAttribute('alt'),
  }));
  return JSON.stringify({
    viewport,
    scroll_width: Math.max(doc.scrollWidth, document.body ? document.body.scrollWidth : 0),
    text_nodes: texts.length,
    small_text: small,
    columns: [...columns.values()],
    text_outside_column: outside,
    images,
  });
})()
""".replace("%(min_font)s", str(MIN_FONT_PX))


@dataclass(frozen=True)
class Layout:
    """What the browser measured on one page at one width."""

    viewport: int
    scroll_width: int
    text_nodes: int
    small_text: tuple[tuple[str, float], ...] = ()
    columns: tuple[tuple[float, float, float], ...] = ()  # (left, right, width) of each content column
    text_outside_column: int = 0
    images: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def from_json(cls, raw: str) -> Layout:
        data = json.loads(raw)
        return cls(
            viewport=data["viewport"],
            scroll_width=data["scroll_width"],
            text_nodes=data["text_nodes"],
            small_text=tuple((item["text"], item["size"]) for item in data["small_text"]),
            columns=tuple((c["left"], c["right"], c["width"]) for c in data["columns"]),
            text_outside_column=data["text_outside_column"],
            images=tuple((image["src"], image["alt"]) for image in data["images"]),
        )


def phone_problems(layout: Layout) -> list[str]:
    """What is wrong at phone width: horizontal scrolling, images without alt text, small text."""
    problems = []
    if layout.scroll_width > layout.viewport:
        problems.append(
            f"défilement horizontal à {layout.viewport} px : la page fait {layout.scroll_width} px de large"
        )
    return problems + common_problems(layout)


def desktop_problems(layout: Layout) -> list[str]:
    """What is wrong at desktop width: a column wider than 600 px or not centred (and small text)."""
    problems = common_problems(layout)
    if layout.text_outside_column:
        problems.append(
            f"à {layout.viewport} px, {layout.text_outside_column} texte(s) occupent toute la largeur, hors de la colonne"
        )
    for left, right, width in sorted(set(layout.columns)):
        if width > MAX_COLUMN_PX + 0.5:
            problems.append(f"à {layout.viewport} px, colonne de {width:.0f} px (au plus {MAX_COLUMN_PX} px)")
        margin_left, margin_right = left, layout.viewport - right
        if abs(margin_left - margin_right) > 1.5:
            problems.append(
                f"à {layout.viewport} px, colonne non centrée (marges {margin_left:.0f} px et {margin_right:.0f} px)"
            )
    return problems


def common_problems(layout: Layout) -> list[str]:
    problems = []
    for src, alt in layout.images:
        if not (alt or "").strip():
            problems.append(f"image sans texte alternatif : {src or '(sans adresse)'}")
    for text, size in layout.small_text:
        problems.append(f"texte de {size:g} px (au moins {MIN_FONT_PX} px) : « {text} »")
    if not layout.text_nodes:
        problems.append("aucun texte visible")
    return problems


@dataclass(frozen=True)
class Snapshot:
    width: int
    picture: Path
    layout: Layout
    problems: tuple[str, ...]
    scheme: str = "light"


def snapshot(
    browser: Browser, html: Path, pictures: Path, stem: str, widths: tuple[int, ...] = WIDTHS, scheme: str = "light"
) -> list[Snapshot]:
    """Open an email at each width, measure it, and save a full-page PNG `stem-<width>px.png`
    (`stem-<width>px-dark.png` in dark mode)."""
    results = []
    suffix = "" if scheme == "light" else f"-{scheme}"
    for width in widths:
        browser.open(html.resolve().as_uri(), width, scheme=scheme)
        layout = browser.measure()
        picture = browser.screenshot(pictures / f"{stem}-{width}px{suffix}.png")
        problems = phone_problems(layout) if width < DESKTOP_WIDTH else desktop_problems(layout)
        results.append(Snapshot(width, picture, layout, tuple(problems), scheme))
    return results


def _open(fd: int | None) -> int:
    """A pipe to or from Chromium, unless it was closed."""
    if fd is None:
        raise BrowserError("Chromium s’est arrêté de façon inattendue")
    return fd
