"""Click's own words (« Usage: », « Error: No such command… », « [y/N] ») in French, like every
other message of the tool.

Click translates its messages with the standard library's `gettext`, which follows the user's
locale and looks for a compiled catalogue on disk: an editor whose machine speaks English, or a
server with `LANG=C`, would read English errors between French ones. So the CLI hands Click's
modules a catalogue of their own (`install`), written against the msgids of Click 8. A msgid that a
later Click changes falls back to its English text; `tests/test_cli_french.py` lists any entry that
no longer matches.
"""

from __future__ import annotations

import importlib

import click

# Click's msgid → its French text. Placeholders keep their names; « {name!r} » becomes « « {name} » ».
MESSAGES: dict[str, str] = {
    # formatting, core, decorators: the help screens
    "Usage:": "Utilisation :",
    "Options": "Options",
    "Positional arguments": "Arguments",
    "Commands": "Commandes",
    "Show this message and exit.": "Affiche cette aide et s’arrête.",
    "Show the version and exit.": "Affiche la version et s’arrête.",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
    "env var: {var}": "variable d’environnement : {var}",
    "default: {default}": "par défaut : {default}",
    "required": "obligatoire",
    "(dynamic)": "(calculé)",
    "deprecated": "obsolète",
    "Aborted!": "Interrompu.",
    "Missing command.": "commande manquante.",
    "Value must be an iterable.": "La valeur doit être une liste.",
    # exceptions: what a mistyped command line gets
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "Essayez « {command} {option} » pour l’aide.",
    "Invalid value: {message}": "valeur invalide : {message}",
    "Invalid value for {param_hint}: {message}": "valeur invalide pour {param_hint} : {message}",
    "Missing argument": "argument manquant",
    "Missing option": "option manquante",
    "Missing parameter": "paramètre manquant",
    "Missing {param_type}": "{param_type} manquant",
    "Missing parameter: {param_name}": "paramètre manquant : {param_name}",
    "No such option {name!r}.": "option inconnue « {name} ».",
    "No such command {name!r}.": "commande inconnue « {name} ».",
    "unknown error": "erreur inconnue",
    "Could not open file {filename!r}: {message}": "impossible d’ouvrir le fichier « {filename} » : {message}",
    # parser
    "Option {name!r} does not take a value.": "l’option « {name} » ne prend pas de valeur.",
    "Argument {name!r} takes {nargs} values.": "l’argument « {name} » prend {nargs} valeurs.",
    # types: values that do not fit an option
    "Choose from:\n\t{choices}": "Choisissez parmi :\n\t{choices}",
    "{value} is not in the range {range}.": "{value} n’est pas dans l’intervalle {range}.",
    "{value!r} is not a valid {number_type}.": "« {value} » n’est pas un nombre valide.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "« {value} » n’est ni vrai ni faux. Valeurs reconnues : {states}"
    ),
    "file": "Fichier",
    "directory": "Dossier",
    "path": "Chemin",
    "{name} {filename!r} does not exist.": "{name} « {filename} » introuvable.",
    "{name} {filename!r} is a file.": "{name} « {filename} » : c’est un fichier.",
    "{name} {filename!r} is a directory.": "{name} « {filename} » : c’est un dossier.",
    "{name} {filename!r} is not readable.": "{name} « {filename} » : lecture refusée.",
    "{name} {filename!r} is not writable.": "{name} « {filename} » : écriture refusée.",
    "{name} {filename!r} is not executable.": "{name} « {filename} » : exécution refusée.",
    # termui: prompts
    "Repeat for confirmation": "Répétez pour confirmer",
    "Error: The two entered values do not match.": "Erreur : les deux saisies diffèrent.",
    "Error: invalid input": "Erreur : réponse non comprise",
    "Press any key to continue...": "Appuyez sur une touche pour continuer…",
}

# (singular, plural) msgids → French (singular, plural); French takes the singular for 0 and 1.
PLURALS: dict[tuple[str, str], tuple[str, str]] = {
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"): (
        "Vouliez-vous dire {possibility} ?",
        "(Vouliez-vous dire l’une de celles-ci : {possibilities} ?)",
    ),
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"): (
        "argument en trop ({args})",
        "arguments en trop ({args})",
    ),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."): (
        "l’option « {name} » demande une valeur.",
        "l’option « {name} » demande {nargs} valeurs.",
    ),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."): (
        "« {value} » n’est pas {choice}.",
        "« {value} » n’est pas parmi {choices}.",
    ),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."): (
        "« {value} » ne suit pas le format {format}.",
        "« {value} » ne suit aucun des formats {formats}.",
    ),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."): (
        "{nargs} valeurs attendues, une seule donnée.",
        "{nargs} valeurs attendues, {len} données.",
    ),
}

# Click's modules that translate what a person reads.
MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.types",
    "click.termui",
)

YES, NO = ("o", "oui", "y", "yes"), ("n", "non", "no")


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    french = PLURALS.get((singular, plural))
    if french is None:
        return singular if count == 1 else plural
    return french[0] if count <= 1 else french[1]


class HelpFormatter(click.HelpFormatter):
    """Section headings as French writes a colon: « Options : », « Commandes : »."""

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading} :\n")


def install() -> None:
    """Give Click's modules the French catalogue, and every context the French help formatter. Run
    before the commands are declared: a decorator such as `version_option` translates its help
    when it is applied."""
    for name in MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    click.Context.formatter_class = HelpFormatter


def confirm(question: str) -> bool:
    """A yes/no question answered in French (« o », « oui ») or English; no answer means no.

    `click.confirm` only knows « y » and « yes »: an editor who types « oui » before sending to the
    whole list would be asked again in English."""
    answer = click.prompt(f"{question} [o/N]", default="", show_default=False, value_proc=_yes_or_no)
    return bool(answer)


def _yes_or_no(value: str) -> bool:
    word = value.strip().lower()
    if word in YES:
        return True
    if not word or word in NO:
        return False
    raise click.UsageError("répondez « o » (oui) ou « n » (non)")
