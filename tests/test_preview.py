"""`newsletter preview`: a server on loopback that rebuilds when a file changes, shows errors, stops cleanly."""

from __future__ import annotations

import http.client
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MINIMAL_BODY, issue_text

from newsletter.cli import cli
from newsletter.desk.preview import PortBusy, Preview
from newsletter.render.templates import builtin_templates

WAIT = 30.0  # an upper bound for a rebuild to show, never a measure of speed


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def wait_for(url: str, text: str) -> str:
    """The page once it contains `text` (polling, as the page itself does)."""
    deadline = time.monotonic() + WAIT
    while True:
        status, page = get(url)
        if status == 200 and text in page:
            return page
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} never showed {text!r}:\n{page[:2000]}")
        time.sleep(0.1)


@pytest.fixture
def project(make_project) -> Path:
    return make_project({"issues/001-premier.md": issue_text(MINIMAL_BODY, title="Le premier titre")})


def test_serves_on_loopback_rebuilds_on_change_and_stops_cleanly(project: Path) -> None:
    server = Preview(project, port=0).start()
    try:
        assert server._server.server_address[0] == "127.0.0.1"
        assert server.url.startswith("http://127.0.0.1:")
        status, index = get(server.url)
        assert status == 200 and "Le premier titre" in index and "/numeros/001-premier/" in index
        status, page = get(server.url + "numeros/001-premier/")
        assert status == 200
        assert 'src="/dist/email/001.html" width="375"' in page and 'src="/dist/email/001.html" width="640"' in page
        assert "La version texte" in page and "Première phrase de l’édito." in page  # the plain text, inline
        assert "/__build" in page  # the page polls for rebuilds and reloads itself
        first = get(server.url + "__build")[1]

        path = project / "issues" / "001-premier.md"
        path.write_text(
            path.read_text(encoding="utf-8").replace("Le premier titre", "Un titre changé"), encoding="utf-8"
        )
        wait_for(server.url + "numeros/001-premier/", "n°1 – Un titre changé</h1>")
        assert "Un titre changé" in get(server.url + "dist/email/001.html")[1]
        assert get(server.url + "__build")[1] != first
        assert not any(project.glob("dist")), "the preview builds elsewhere than the project's dist/"
    finally:
        server.stop()
    assert not any(thread.is_alive() for thread in server._threads)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    assert not server.dist.exists()


def test_a_template_change_rebuilds(project: Path) -> None:
    templates = project / "templates"
    templates.mkdir()
    original = (builtin_templates() / "email.txt").read_text(encoding="utf-8")
    (templates / "email.txt").write_text(original, encoding="utf-8")
    with Preview(project, port=0) as server:
        assert "Pied de page de test" not in get(server.url + "dist/email/001.txt")[1]
        (templates / "email.txt").write_text(original + "\nPied de page de test\n", encoding="utf-8")
        wait_for(server.url + "dist/email/001.txt", "Pied de page de test")


def test_errors_of_check_show_on_the_page_and_the_fix_comes_back(project: Path) -> None:
    path = project / "issues" / "001-premier.md"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("## À suivre", "## À suivvre"), encoding="utf-8")
    with Preview(project, port=0) as server:
        status, index = get(server.url)
        assert status == 200 and "1 erreur(s)" in index
        status, page = get(server.url + "numeros/001-premier/")
        assert status == 200
        assert "issues/001-premier.md:" in page and "rubrique inconnue « À suivvre »" in page
        assert "n’a pas pu être compilé" in page and "<iframe" not in page

        path.write_text(good, encoding="utf-8")
        page = wait_for(server.url + "numeros/001-premier/", "<iframe")
        assert "rubrique inconnue" not in page


def test_a_project_without_issues_says_how_to_start_one(tmp_path: Path) -> None:
    with Preview(tmp_path, port=0, watch=False) as server:
        status, index = get(server.url)
        assert status == 200 and "newsletter new" in index


def test_files_outside_the_build_are_not_served(project: Path) -> None:
    with Preview(project, port=0, watch=False) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for path in ("/dist/../../../../etc/passwd", "/dist/%2e%2e/%2e%2e/etc/passwd", "/numeros/nope/"):
            connection.request("GET", path)
            response = connection.getresponse()
            assert response.status == 404, path
            assert b"root:" not in response.read()
        connection.close()


def test_a_busy_port_is_said_with_another_one_to_try(project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortBusy, match=rf"le port {port} est déjà utilisé.*--port \d+"):
            Preview(project, port=port).start()
        result = CliRunner().invoke(cli, ["preview", "-C", str(project), "--port", str(port)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"le port {port} est déjà utilisé" in lines[0] and "Traceback" not in result.output
