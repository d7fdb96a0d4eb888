"""The editor's desk: starting an issue, importing an old one, previewing and photographing emails.

Each module is a library the CLI (`newsletter/cli/desk.py`) calls in a few lines:
- `new`: the next issue of the catalogue, with every rubric heading and a hint for each;
- `importer`: a plain-text export of an old issue → a Markdown issue, with session stubs;
- `stubs`: the marks both leave for the editor, and the `check` problems they raise until completed;
- `preview`: a local server with live reload;
- `browser`: headless Chromium for screenshots and layout checks.
"""
