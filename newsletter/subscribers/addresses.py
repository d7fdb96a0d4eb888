"""Email addresses: one normal form, so that the same person is stored once.

The whole address is lower-cased (mail systems treat local parts case-insensitively in practice,
and a list must not hold `Lea@x.fr` and `lea@x.fr` as two people), a Unicode domain is stored in
its ASCII (IDNA) form, and anything that SMTP cannot carry without extensions is refused.
"""

from __future__ import annotations

import re

from newsletter.errors import NewsletterError

_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"^{_ATOM}(\.{_ATOM})*$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class AddressError(NewsletterError):
    """An address that cannot be stored or written in a header (message in French)."""


def normalize_address(raw: str) -> str:
    """The normal form of `raw`, or AddressError saying what is wrong with it."""
    address = raw.strip()
    if not address:
        raise AddressError("adresse vide")
    if any(c.isspace() for c in address):
        raise AddressError(f"adresse invalide « {_shown(address)} » : elle contient un espace ou un retour à la ligne")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise AddressError(f"adresse invalide « {_shown(address)} » : il manque « @ » ou une partie")
    local = local.lower()
    if not local.isascii() or not _LOCAL.match(local) or len(local) > 64:
        raise AddressError(f"adresse invalide « {_shown(address)} » : partie avant « @ » incorrecte")
    return f"{local}@{_domain(domain, address)}"


def _domain(domain: str, address: str) -> str:
    try:
        ascii_domain = domain.lower().encode("idna").decode("ascii")
    except UnicodeError:
        raise AddressError(f"adresse invalide « {_shown(address)} » : domaine incorrect") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or len(ascii_domain) > 253 or not all(_LABEL.match(label) for label in labels):
        raise AddressError(f"adresse invalide « {_shown(address)} » : domaine incorrect")
    return ascii_domain


def _shown(address: str) -> str:
    """The address as a person can read it in one line (control characters made visible)."""
    return address.encode("unicode_escape").decode("ascii") if not address.isprintable() else address
