"""`newsletter inspiration FEED`: a partner's feed as Markdown bullets, whatever the feed holds.

Feeds come from files of tests/data/feeds/ and from a real HTTP server on loopback, started here.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner
from support.htmldoc import parse_html

from newsletter.cli import cli
from newsletter.inspiration import escape_markdown, safe_link
from newsletter.render import markdown as md

FEEDS = Path(__file__).resolve().parent / "data" / "feeds"
TEN_MB = 10 * 1024 * 1024
RSS_ITEM = (
    "<item><title>Article {n}</title><link>https://gros.example/{n}</link><description>{pad}</description></item>\n"
)

RELATIVE = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Relatif</title><link>/</link><description>d</description>
<item><title>Un lien relatif</title><link>articles/un</link></item>
</channel></rss>
"""
LATIN1 = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Latin</title><link>https://latin.example/</link><description>d</description>
<item><title>Résumé des débats à Tréguier</title><link>https://latin.example/debats</link></item>
</channel></rss>
""".encode("latin-1")


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.release = threading.Event()  # lets the handler that never answers go, at the end

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[str, bytes]]] = {
        "/rss.xml": ("application/rss+xml", (FEEDS / "rss.xml").read_bytes()),
        "/atom.xml": ("application/atom+xml; charset=utf-8", (FEEDS / "atom.xml").read_bytes()),
        "/scripts.xml": ("application/rss+xml", (FEEDS / "scripts.xml").read_bytes()),
        "/page.html": ("text/html; charset=utf-8", (FEEDS / "not_a_feed.html").read_bytes()),
        "/latin1.xml": ("application/xml; charset=iso-8859-1", LATIN1),
        "/sub/relative.xml": ("application/rss+xml", RELATIVE),
    }

    def do_GET(self) -> None:
        if self.path == "/never":
            self.server.release.wait(60)  # answers nothing until the test is over
            return
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/rss.xml")
            self.end_headers()
            return
        if self.path == "/huge-declared":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(TEN_MB))
            self.end_headers()
            self.wfile.write(b"<rss>")
            return
        if self.path == "/huge-streamed":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            self.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>')
            try:
                for _ in range(TEN_MB // 65536 + 1):
                    self.wfile.write(b" " * 65536)
            except OSError:  # the client gave up at its cap: what we want
                pass
            return
        if self.path not in self.routes:
            self.send_error(404, "Not Found")
            return
        kind, body = self.routes[self.path]
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = FeedServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


def run(*args: str):
    return CliRunner().invoke(cli, ["inspiration", *args])


def bullets(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line]


def assert_one_clear_line(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(result.exception, SystemExit)


def assert_safe_markdown(lines: list[str]) -> None:
    """Each line, rendered by the issue's own Markdown converter, has exactly one link and no markup."""
    for line in lines:
        assert line.startswith("- ➡️ [")
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E for c in line), repr(line)
        root, _ = parse_html(md.to_html(line))
        anchors = root.find_all("a")
        assert len(anchors) == 1 and list(anchors[0].attrs) == ["href"], line
        assert anchors[0].attrs["href"].startswith(("https://", "http://")), line
        assert [e.tag for e in root.iter() if e.tag not in ("#document", "ul", "li", "a")] == [], line


# --- from a file ---------------------------------------------------------------------------------


def test_rss_file_gives_bullets_newest_first() -> None:
    result = run(str(FEEDS / "rss.xml"))
    assert result.exit_code == 0, result.output
    assert bullets(result) == [
        "- ➡️ [Rennes (35) : un bureau des temps](https://territoires-audacieux.example/rennes-bureau-des-temps)",
        "- ➡️ [Laon (02) attire de nouveaux habitants](https://territoires-audacieux.example/laon-attractivite)",
        "- ➡️ [Le Clunisois (71) : les voisinages](https://territoires-audacieux.example/clunisois-voisinages)",
    ]


def test_since_and_limit_choose_the_recent_items() -> None:
    result = run(str(FEEDS / "rss.xml"), "--since", "2022-03-01", "--limit", "1")
    assert bullets(result) == [
        "- ➡️ [Rennes (35) : un bureau des temps](https://territoires-audacieux.example/rennes-bureau-des-temps)"
    ]
    later = run(str(FEEDS / "rss.xml"), "--since", "2023-01-01")
    assert later.exit_code == 0 and later.stdout == "" and "aucun article publié depuis le 2023-01-01" in later.stderr


def test_summary_is_plain_text_and_shortened() -> None:
    result = run(str(FEEDS / "rss.xml"), "--summary")
    laon = bullets(result)[1]
    assert laon.startswith(
        "- ➡️ [Laon (02) attire de nouveaux habitants](https://territoires-audacieux.example/laon-attractivite) : Une campagne d’attractivité personnalisée"
    )
    assert "<" not in laon and laon.endswith("…") and len(laon.split(" : ", 1)[1]) <= 160


def test_atom_file_with_relative_link_and_html_title() -> None:
    result = run(str(FEEDS / "atom.xml"), "--summary")
    assert result.exit_code == 0, result.output
    assert bullets(result) == [
        "- ➡️ [Des communs pour la résilience](https://partenaire.example/blog/communs-resilience) : Cinq structures mettent leurs méthodes en commun.",
        "- ➡️ [Une enquête collective à Jazeneuil](https://partenaire.example/blog/enquete-jazeneuil) : Des volontaires recueillent la parole des habitants.",
    ]


def test_scripts_javascript_links_and_markdown_in_titles_never_get_through() -> None:
    result = run(str(FEEDS / "scripts.xml"), "--summary")
    assert result.exit_code == 0, result.output
    lines = bullets(result)
    assert len(lines) == 3  # the javascript: and data: items are dropped, and said so
    assert "2 article(s) sans lien http(s) valable ignoré(s)" in result.stderr
    assert lines[0] == "- ➡️ [Un titre normal](https://piege.example/un) : Un résumé piégé"
    assert lines[1].endswith("](https://piege.example/deux?a=1&b=%282%29)")
    assert_safe_markdown(lines)
    html = md.to_html(lines[1])
    assert 'href="https://piege.example/deux?a=1&amp;b=%282%29"' in html
    shown = parse_html(html)[0].text  # what a reader sees: the would-be link and image, as text
    assert (
        "Titre](javascript:alert(1)) [clic](https://evil.example) ![img](https://evil.example/x.png) *gras* `code` & <b>"
        in shown
    )


def test_missing_titles_links_and_dates_give_clean_output() -> None:
    result = run(str(FEEDS / "missing.xml"), "--summary")
    assert result.exit_code == 0, result.output
    assert bullets(result) == [
        "- ➡️ [Un article sans titre mais avec un résumé qui en tiendra lieu.](https://incomplet.example/sans-titre)",
        "- ➡️ [Sans date](https://incomplet.example/sans-date)",
        "- ➡️ [incomplet.example](https://incomplet.example/rien)",
    ]
    assert "1 article(s) sans lien" in result.stderr
    dated = run(str(FEEDS / "missing.xml"), "--since", "2022-01-01")
    assert [line.split("](")[0] for line in bullets(dated)] == [
        "- ➡️ [Un article sans titre mais avec un résumé qui en tiendra lieu."
    ]


def test_wrong_encoding_is_read_as_well_as_can_be() -> None:
    result = run(str(FEEDS / "wrong_encoding.xml"))
    assert result.exit_code == 0, result.output
    assert bullets(result) == ["- ➡️ [Résumé des débats à Tréguier](https://latin.example/debats)"]


def test_invalid_xml_gives_what_can_be_read_safely() -> None:
    result = run(str(FEEDS / "invalid.xml"))
    assert result.exit_code == 0, result.output
    assert bullets(result)[0] == "- ➡️ [Un article & une esperluette nue](https://casse.example/un)"
    assert_safe_markdown(bullets(result))


def test_entity_bomb_and_external_entity_are_not_expanded() -> None:
    result = run(str(FEEDS / "entities.xml"))
    assert result.exit_code == 0, result.output
    assert len(result.stdout) < 200 and "root:" not in result.stdout
    assert_safe_markdown(bullets(result))


def test_an_html_page_is_not_a_feed() -> None:
    assert_one_clear_line(run(str(FEEDS / "not_a_feed.html")), "not_a_feed.html", "n’est pas un flux RSS ou Atom")


def test_an_empty_feed_says_so_and_succeeds() -> None:
    result = run(str(FEEDS / "empty.xml"))
    assert (result.exit_code, result.stdout, result.stderr.strip()) == (0, "", "aucun article dans ce flux")


def test_a_missing_file_and_a_folder(tmp_path: Path) -> None:
    assert_one_clear_line(run(str(tmp_path / "absent.xml")), "absent.xml", "fichier introuvable")
    assert_one_clear_line(run(str(tmp_path)), "dossier")


def test_a_10_mb_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "gros.xml"
    pad = "x" * 1000
    with path.open("w", encoding="utf-8") as handle:
        handle.write(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Gros</title><link>https://gros.example/</link><description>d</description>\n'
        )
        for n in range(TEN_MB // 1000 + 1):
            handle.write(RSS_ITEM.format(n=n, pad=pad))
        handle.write("</channel></rss>\n")
    assert path.stat().st_size > TEN_MB
    assert_one_clear_line(run(str(path)), "gros.xml", "flux trop volumineux")


def test_a_device_without_end_and_an_empty_file(tmp_path: Path) -> None:
    assert_one_clear_line(run("/dev/zero"), "/dev/zero", "flux trop volumineux")
    (tmp_path / "vide.xml").write_bytes(b"")
    assert_one_clear_line(run(str(tmp_path / "vide.xml")), "vide.xml", "n’est pas un flux RSS ou Atom")


def test_bad_options_are_one_french_line() -> None:
    assert_one_clear_line(run(str(FEEDS / "rss.xml"), "--since", "31/03/2022"), "--since", "AAAA-MM-JJ")
    assert run(str(FEEDS / "rss.xml"), "--limit", "0").exit_code == 2
    assert_one_clear_line(run("ftp://example.org/feed.xml"), "http:// ou https://")


# --- over HTTP, from a real server on loopback ---------------------------------------------------


def test_rss_and_atom_over_http(server: FeedServer) -> None:
    rss = run(f"{server.url}/rss.xml", "-n", "2")
    assert rss.exit_code == 0, rss.output
    assert bullets(rss) == bullets(run(str(FEEDS / "rss.xml"), "-n", "2"))
    atom = run(f"{server.url}/atom.xml")
    assert atom.exit_code == 0, atom.output
    assert (
        bullets(atom)[0] == "- ➡️ [Des communs pour la résilience](https://partenaire.example/blog/communs-resilience)"
    )


def test_a_redirect_is_followed(server: FeedServer) -> None:
    assert bullets(run(f"{server.url}/redirect")) == bullets(run(str(FEEDS / "rss.xml")))


def test_the_http_charset_and_location_are_used(server: FeedServer) -> None:
    assert bullets(run(f"{server.url}/latin1.xml")) == [
        "- ➡️ [Résumé des débats à Tréguier](https://latin.example/debats)"
    ]
    assert bullets(run(f"{server.url}/sub/relative.xml")) == [f"- ➡️ [Un lien relatif]({server.url}/sub/articles/un)"]


def test_hostile_feed_over_http(server: FeedServer) -> None:
    result = run(f"{server.url}/scripts.xml", "--summary")
    assert result.exit_code == 0 and len(bullets(result)) == 3
    assert_safe_markdown(bullets(result))


def test_http_errors_and_pages_that_are_not_feeds(server: FeedServer) -> None:
    assert_one_clear_line(run(f"{server.url}/absent.xml"), "/absent.xml", "le serveur a répondu 404")
    assert_one_clear_line(run(f"{server.url}/page.html"), "n’est pas un flux RSS ou Atom")


def test_a_port_where_nobody_listens() -> None:
    import socket

    with socket.socket() as probe:  # a free port, closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert_one_clear_line(run(f"http://127.0.0.1:{port}/feed.xml", "--timeout", "5"), "adresse injoignable")


def test_a_server_that_never_answers_is_given_up_after_the_timeout(server: FeedServer) -> None:
    assert_one_clear_line(run(f"{server.url}/never", "--timeout", "0.3"), "/never", "ne répond pas", "0.3 s")


def test_a_10_mb_download_is_cut_at_the_cap(server: FeedServer) -> None:
    assert_one_clear_line(run(f"{server.url}/huge-declared"), "flux trop volumineux")
    assert_one_clear_line(run(f"{server.url}/huge-streamed"), "flux trop volumineux")


# --- the pieces ----------------------------------------------------------------------------------


def test_escape_markdown_leaves_plain_text_alone_and_neutralises_markup() -> None:
    assert (
        escape_markdown("Laon (02) : l’attractivité, c’est 100 % local !")
        == "Laon (02) : l’attractivité, c’est 100 % local !"
    )
    text = "[a](javascript:x) *b* _c_ `d` <e> &amp; \\ ![f](https://evil.example/f.png)"
    root, _ = parse_html(md.to_html(f"[{escape_markdown(text)}](https://ok.example/)"))
    assert [(e.tag, e.attrs, e.text) for e in root.iter() if e.tag != "#document"] == [
        ("p", {}, text),
        ("a", {"href": "https://ok.example/"}, text),
    ]


def test_safe_link_keeps_http_and_refuses_the_rest() -> None:
    assert safe_link("https://ex.org/a b(c)") == "https://ex.org/a%20b%28c%29"
    assert safe_link("https://ex.org/été") == "https://ex.org/%C3%A9t%C3%A9"
    for bad in (
        "javascript:alert(1)",
        " JAVASCRIPT:alert(1)",
        "data:text/html,x",
        "/relatif",
        "https://",
        "http://ex.org/\nx",
        "file:///etc/passwd",
    ):
        assert safe_link(bad) is None, bad
