"""WCAG 2 contrast of every visible text of a page open in the browser (`newsletter.desk.browser`).

For each visible text node, the browser gives the computed colour of its element and the background
colours from that element up to the first opaque one; the colours are composited and the ratio is
computed here with the WCAG formula: (L1 + 0.05) / (L2 + 0.05) on relative luminances.
Each text gets one kind, the first that fits: link, rubric title, tagline, session card, quote,
code, table, header, footer, title, else body text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from newsletter.desk.browser import Browser

KINDS = (  # (kind, CSS selector of an ancestor), first match wins
    ("liens", "a"),
    ("titres de rubrique", "h2"),
    ("accroches de rubrique", ".tp-tagline"),
    ("cartes de séance", ".tp-card"),
    ("citations", "blockquote"),
    ("code", "pre, code"),
    ("tableaux", "table table table"),  # a Markdown table, inside MJML's layout tables
    ("en-tête", ".tp-header"),
    ("pied de page", ".tp-footer"),
    ("titres", "h1, h3, h4, .tp-title, .tp-own-title"),
)
BODY_TEXT = "texte courant"

_SCRIPT = r"""
(() => {
  const kinds = %(kinds)s;
  const visible = (node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return [...range.getClientRects()].some((r) => r.width > 0 && r.height > 0);
  };
  const backgrounds = (element) => {
    const layers = [];
    for (let el = element; el; el = el.parentElement) {
      const colour = getComputedStyle(el).backgroundColor;
      layers.push(colour);
      const alpha = colour.match(/rgba\([^)]*,\s*([\d.]+)\)/);
      if (!alpha || parseFloat(alpha[1]) >= 1) break;
    }
    return layers;
  };
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const element = node.parentElement;
    if (!node.data.trim() || !element || !visible(node)) continue;
    const style = getComputedStyle(element);
    if (style.visibility === 'hidden' || parseFloat(style.opacity) === 0) continue;
    const kind = kinds.find(([, selector]) => element.closest(selector));
    found.push({
      text: node.data.trim().slice(0, 50),
      kind: kind ? kind[0] : %(body)s,
      colour: style.color,
      layers: backgrounds(element),
    });
  }
  return JSON.stringify({texts: found, body: getComputedStyle(document.body).backgroundColor});
})()
""" % {"kinds": json.dumps(KINDS), "body": json.dumps(BODY_TEXT)}  # noqa: UP031 (JavaScript: its braces rule out str.format)


@dataclass(frozen=True)
class Text:
    text: str
    kind: str
    colour: tuple[float, float, float]
    background: tuple[float, float, float]

    @property
    def ratio(self) -> float:
        return contrast(self.colour, self.background)


def measure(browser: Browser) -> tuple[list[Text], tuple[float, float, float]]:
    """Every visible text of the open page, and the body's background colour."""
    data = json.loads(browser.evaluate(_SCRIPT))
    texts = []
    for item in data["texts"]:
        background = _composite(item["layers"])
        texts.append(Text(item["text"], item["kind"], _over(_rgba(item["colour"]), background), background))
    return texts, _composite([data["body"]])


def contrast(first: tuple[float, float, float], second: tuple[float, float, float]) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def luminance(colour: tuple[float, float, float]) -> float:
    """WCAG relative luminance of an sRGB colour given as 0–255 channels."""
    linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in colour]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _rgba(css: str) -> tuple[float, float, float, float]:
    numbers = [float(n) for n in re.findall(r"[\d.]+", css)]
    return (numbers[0], numbers[1], numbers[2], numbers[3] if len(numbers) > 3 else 1.0)


def _over(top: tuple[float, float, float, float], below: tuple[float, float, float]) -> tuple[float, float, float]:
    alpha = top[3]
    return tuple(top[i] * alpha + below[i] * (1 - alpha) for i in range(3))  # type: ignore[return-value]


def _composite(layers: list[str]) -> tuple[float, float, float]:
    """Background colours from the element up, composited over a white canvas."""
    colour: tuple[float, float, float] = (255.0, 255.0, 255.0)
    for layer in reversed(layers):
        colour = _over(_rgba(layer), colour)
    return colour
