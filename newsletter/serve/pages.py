"""The service's pages, in French: one layout, no script, a style sheet served by the service."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape

from newsletter.subscribers.store import MAX_TEXT

STYLE = """body{font:1.0625rem/1.6 system-ui,sans-serif;max-width:36em;margin:2em auto;padding:0 1em;color:#1d2a33}
@media (prefers-color-scheme:dark){body{background:#151c21;color:#e3e8eb}a{color:#6fd1a8}}
:root{color-scheme:light dark}label{display:block;font-weight:600}input[type=email],input[type=text]{width:100%;font:inherit;padding:.5em;box-sizing:border-box}
button{font:inherit;padding:.5em 1.2em;cursor:pointer;margin:.3em 0}.trap{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3em;border-bottom:1px solid #d6dde3;vertical-align:top}
.error{color:#b00020;font-weight:600}.danger button{border:2px solid #b00020}form{margin:1em 0}
"""
_LAYOUT = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title} – {name}</title>
<link rel="stylesheet" href="{style}">
</head>
<body><h1>{title}</h1>
{body}
</body></html>
"""


def layout(title: str, body: str, name: str, style: str) -> bytes:
    return _LAYOUT.format(title=escape(title), name=escape(name), body=body, style=escape(style)).encode("utf-8")


def p(text: str) -> str:
    """A paragraph of text to escape."""
    return f"<p>{escape(text)}</p>"


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{name}" value="{escape(value)}">'


def button_form(action: str, label: str, fields: Iterable[tuple[str, str]], css: str = "") -> str:
    inputs = "".join(hidden(name, value) for name, value in fields)
    klass = f' class="{css}"' if css else ""
    return f'<form method="post" action="{escape(action)}"{klass}>{inputs}<button type="submit">{escape(label)}</button></form>'


def signup_form(action: str, csrf: str, form_text: str, address: str = "", name: str = "", error: str = "") -> str:
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return f"""{message}<form method="post" action="{escape(action)}">{hidden("csrf", csrf)}
<p><label for="adresse">Adresse email</label><input id="adresse" name="adresse" type="email" required maxlength="254" value="{escape(address)}"></p>
<p><label for="nom">Nom (facultatif)</label><input id="nom" name="nom" type="text" maxlength="{MAX_TEXT}" value="{escape(name)}"></p>
<p class="trap" aria-hidden="true"><label for="site_url">Ne pas remplir</label><input id="site_url" name="site_url" type="text" tabindex="-1" autocomplete="off"></p>
<p><label><input name="consentement" type="checkbox" value="oui" required> {escape(form_text)}</label></p>
<p><button type="submit">Je m’inscris</button></p></form>"""


def table(rows: Iterable[tuple[str, str]]) -> str:
    cells = "".join(f'<tr><th scope="row">{escape(k)}</th><td>{escape(v)}</td></tr>' for k, v in rows)
    return f"<table>{cells}</table>"


def profile(
    rows: list[tuple[str, str]],
    sent: list[dict],
    action: str,
    csrf: str,
    name: str,
    download: str,
    subscribed: bool,
    fr: Callable[[str], str] = str,
) -> str:
    """The personal page's body; `fr` typesets our French prose."""
    issues = ", ".join(f"n°{row['numero']} ({row['etat']})" for row in sent) or "aucun pour l’instant"
    parts = [
        "<h2>Ce que nous gardons</h2>",
        table(rows),
        p(fr(f"Numéros envoyés : {issues}")),
        f'<p><a href="{escape(download)}" download>Télécharger mes données (JSON)</a></p>',
        "<h2>Modifier mon nom</h2>",
        f'<form method="post" action="{escape(action)}">{hidden("csrf", csrf)}{hidden("action", "nom")}'
        f'<p><label for="nom">Nom</label><input id="nom" name="nom" type="text" maxlength="{MAX_TEXT}" value="{escape(name)}"></p>'
        '<p><button type="submit">Enregistrer</button></p></form>',
    ]
    if subscribed:
        parts += [
            "<h2>Me désinscrire</h2>",
            p(fr("Vous ne recevrez plus la lettre ; vos données restent visibles ici.")),
            button_form(action, "Me désinscrire", (("csrf", csrf), ("action", "desinscrire"))),
        ]
    parts += [
        "<h2>Tout effacer</h2>",
        p(
            fr(
                "Votre adresse, votre nom, votre consentement et l’historique des envois sont effacés. "
                "Seule une empreinte chiffrée de l’adresse est gardée, pour qu’un ancien fichier ne vous réinscrive pas."
            )
        ),
        button_form(action, "Effacer toutes mes données", (("csrf", csrf), ("action", "effacer")), "danger"),
    ]
    return "\n".join(parts)
