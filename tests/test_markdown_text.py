"""The plain-text writer's own pieces."""

from __future__ import annotations

import random
import textwrap

from newsletter.render.markdown import fill, to_text


def test_fill_wraps_exactly_like_textwrap_without_cutting_words() -> None:
    rng = random.Random(7)
    words = ["a", "ab", "mot", "l’été", "anticonstitutionnellement", "https://example.org/" + "x" * 90, "🗣️", "—"]
    for _ in range(2000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 60)))
        for width in (20, 44, 72):
            assert fill(text, width) == textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)


def test_hard_line_breaks_survive_and_soft_ones_join() -> None:
    assert to_text("une ligne  \ncoupée exprès\net une suite") == "une ligne\ncoupée exprès et une suite"


def test_nested_lists_and_quotes_keep_their_marks() -> None:
    text = to_text("- un\n- deux\n\n    - deux a\n\n> cité\n>\n> - point")
    assert text.splitlines()[:2] == ["- un", "- deux"]
    assert "  - deux a" in text
    assert "> cité" in text and "> - point" in text
