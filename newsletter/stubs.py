"""The marks `new` and `import` leave for the editor, and what `check` says until they are gone.

- A session to complete is an ordinary ```session block whose title starts with « À COMPLÉTER »: any
  session parser accepts it (it has a title and a valid start), and `check` reports it as an error so
  that it is never sent as is.
- A hint is an HTML comment `<!-- À écrire : … -->`: invisible in every output. A rubric (or intro)
  holding nothing but its hint is reported as a warning.
- A front matter title starting with « À COMPLÉTER » is an error too.
"""

from __future__ import annotations

import re

from newsletter.errors import ERROR, WARNING, Problem
from newsletter.model.issue import Block, Issue
from newsletter.text import FencedBlock, FenceOpening, fenced_blocks

STUB_MARK = "À COMPLÉTER"
HINT_OPEN = "<!-- À écrire :"
HINT_CLOSE = "-->"

_HINT = re.compile(r"<!--\s*À écrire\s*:.*?-->", re.S)
_STUB_TITLE = re.compile(r"^\s*title\s*:\s*[\"']?\s*" + re.escape(STUB_MARK))
_FRONT_TITLE = re.compile(r"^title\s*:\s*[\"']?\s*" + re.escape(STUB_MARK))


def hint(text: str) -> str:
    """A one-line hint for the editor, invisible in the email, the text and the web page."""
    return f"{HINT_OPEN} {text} {HINT_CLOSE}"


def stub_problems(issue: Issue, source: str) -> list[Problem]:
    """What is left to complete in an issue made by `new` or `import` (`source`: the file's text)."""
    problems = [Problem(issue.path, line, ERROR, _stub_message(title)) for line, title in stub_sessions(source)]
    if _front_title_is_stub(source):
        problems.append(Problem(issue.path, _front_title_line(source), ERROR, "titre du numéro à compléter"))
    if _only_hints(issue.intro):
        problems.append(Problem(issue.path, issue.intro.line, WARNING, "introduction encore à écrire"))
    for section in issue.sections:
        if not section.byline and _only_hints(_without_stub_sessions(section.body)):
            problems.append(
                Problem(
                    issue.path,
                    section.line,
                    WARNING,
                    f"rubrique « {section.rubric.title} » encore à écrire (ou supprimez-la)",
                )
            )
    return problems


def _stub_message(title: str) -> str:
    what = title[len(STUB_MARK) :].strip(" –—-:")
    named = f" (« {what} »)" if what else ""
    return f"séance à compléter{named} : donnez-lui son titre, son horaire et son lieu, ou supprimez le bloc"


def stub_sessions(source: str) -> list[tuple[int, str]]:
    """(line, title) of every session block still marked « À COMPLÉTER »."""
    found: list[tuple[int, str]] = []
    lines = source.split("\n")
    for _, block in fenced_blocks(lines):
        if block is not None and _is_session(block.opening):
            for number, line in enumerate(block.body(lines), start=block.start + 2):
                if _STUB_TITLE.match(line):
                    found.append((number, line.split(":", 1)[1].strip().strip("\"'")))
    return found


def _is_session(opened: FenceOpening) -> bool:
    """Only « ```session » is looked at: `new` and `import` write stubs with that word alone."""
    return opened.alone and opened.info == "session"


def _front_title_is_stub(source: str) -> bool:
    return any(_FRONT_TITLE.match(line) for line in _front_matter(source))


def _front_title_line(source: str) -> int:
    return next((i for i, line in enumerate(_front_matter(source), start=2) if _FRONT_TITLE.match(line)), 1)


def _front_matter(source: str) -> list[str]:
    lines = source.split("\n")
    if not lines or lines[0].strip() != "---":
        return []
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 1)
    return lines[1:end]


def _only_hints(block: Block) -> bool:
    """True when a block holds hints and nothing else."""
    return bool(_HINT.search(block.markdown)) and not _HINT.sub("", block.markdown).strip()


def _without_stub_sessions(block: Block) -> Block:
    lines, kept = block.markdown.split("\n"), []
    for index, fenced in fenced_blocks(lines):
        held = [lines[index]] if fenced is None else lines[fenced.start : fenced.stop]
        if fenced is None or not _is_stub(fenced, held):
            kept.extend(held)
    return Block("\n".join(kept), block.line)


def _is_stub(fenced: FencedBlock, held: list[str]) -> bool:
    """A closed session block whose title is still the stub's (an unclosed one is the parser's error)."""
    return _is_session(fenced.opening) and fenced.end is not None and any(map(_STUB_TITLE.match, held))
