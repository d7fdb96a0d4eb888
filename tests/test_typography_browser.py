"""French typography in a real browser (Debian's headless Chromium): a closing » never starts a line.

The email is laid out at every width from 240 to 600 px (3 px steps), so that a line break falls on
each space somewhere; for every » ; : ! ? that follows a space, and every « before one, the sign
and its word must be on the same line. The same email with ordinary spaces does break there: the
check has teeth.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.typography import NB, NN, SAME_LINE_JS, build_torture

from newsletter.desk.browser import PHONE_WIDTH, Browser

FONT_WIDTHS_JS = r"""
(() => {
  const paragraph = [...document.querySelectorAll('p')].find(p => p.textContent.includes('Une tribune'));
  const width = text => {
    const span = document.createElement('span');
    span.textContent = text;
    paragraph.appendChild(span);
    const measured = span.getBoundingClientRect().width;
    span.remove();
    return measured;
  };
  return JSON.stringify({space: width('x x') - width('xx'), narrow: width('x\u202fx') - width('xx'),
                         nbsp: width('x\u00a0x') - width('xx'), font: getComputedStyle(paragraph).fontFamily});
})()
"""


@pytest.fixture(scope="module")
def torture_email(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_torture(tmp_path_factory.mktemp("typographie-chromium")) / "email" / "001.html"


def lines_broken_at_signs(browser: Browser, page: Path) -> dict:
    browser.open(page.as_uri(), PHONE_WIDTH)
    return json.loads(browser.evaluate(SAME_LINE_JS))


def test_a_closing_guillemet_never_starts_a_line_in_the_email(
    browser: Browser, torture_email: Path, tmp_path: Path
) -> None:
    checked = lines_broken_at_signs(browser, torture_email)
    assert checked["pairs"] >= 25 and checked["broken"] == []

    plain = tmp_path / "espaces-ordinaires.html"
    plain.write_text(torture_email.read_text(encoding="utf-8").replace(NN, " ").replace(NB, " "), encoding="utf-8")
    without = lines_broken_at_signs(browser, plain)
    assert without["pairs"] == checked["pairs"]
    assert without["count"] > 0 and any("adaptée »" in where for where in without["broken"]), without


@pytest.mark.parametrize("slug", ["001", "002", "003"])
def test_no_sign_starts_a_line_in_the_sample_emails(browser: Browser, repo_build: Path, slug: str) -> None:
    checked = lines_broken_at_signs(browser, repo_build / "email" / f"{slug}.html")
    assert checked["pairs"] > 5 and checked["broken"] == []


def test_the_narrow_no_break_space_is_narrow_in_the_email_fonts(browser: Browser, torture_email: Path) -> None:
    """Helvetica and Arial lack U+202F: the browser takes it from another font, narrower than a space."""
    browser.open(torture_email.as_uri(), PHONE_WIDTH)
    widths = json.loads(browser.evaluate(FONT_WIDTHS_JS))
    print(
        f"\nwidths at 16 px in {widths['font']}: space {widths['space']:.2f} px, U+00A0 {widths['nbsp']:.2f} px, U+202F {widths['narrow']:.2f} px"
    )
    assert "Helvetica" in widths["font"]
    assert 0 < widths["narrow"] < widths["space"] == widths["nbsp"]
