"""YAML as the team writes it: a fast safe loader, and parse errors told in French."""

from __future__ import annotations

import yaml

# libyaml when present: the same nodes and marks, many times faster than the pure-Python parser.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Substrings of the messages of both PyYAML and libyaml → what to tell an editor.
_REASONS = (
    ("mapping values are not allowed", "un « : » dans une valeur : mettez la valeur entre guillemets"),
    (
        "cannot start any token",
        "un caractère interdit en début de valeur (tabulation, @, `…) : mettez la valeur entre guillemets",
    ),
    ("found unexpected end of stream", "guillemet non fermé"),
    ("while scanning a quoted scalar", "guillemet non fermé"),
    ("expected <block end>", "indentation incohérente"),
    ("did not find expected key", "indentation incohérente"),
    ("found duplicate anchor", "ancre YAML en double"),
)


def yaml_reason(error: yaml.YAMLError) -> str:
    """A short French reason for a YAML parse error (never the library's English)."""
    message = " ".join(filter(None, (getattr(error, "context", None), getattr(error, "problem", None), str(error))))
    return next((reason for pattern, reason in _REASONS if pattern in message), "syntaxe incorrecte")
