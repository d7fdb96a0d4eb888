"""DKIM signatures (RFC 6376), for a project that sends without a relay that signs for it.

dkimpy signs: rsa-sha256, relaxed/relaxed canonicalisation, over the whole message as it is handed
to the transport (CRLF line ends), the `DKIM-Signature:` header put first. The key is read and
checked once, when the `Signer` of a send is made, so a bad key is one line naming the settings
(the line of `private_key`) before anything is sent, not a failure per message.

dkimpy computes RSA in pure Python and canonicalises the body with regular expressions: signing
costs milliseconds per message, not microseconds (`scripts/bench_dkim.py`, `docs/benchmarks.md`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import dkim
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

from newsletter.errors import NewsletterError, SourceError, os_reason
from newsletter.send.message import MessageError

if TYPE_CHECKING:
    from newsletter.send.config import DkimConfig

MIN_BITS = 1024  # RFC 8301: verifiers must refuse shorter keys
CANONICALIZATION = (b"relaxed", b"relaxed")


class DkimKeyError(NewsletterError):
    """A private key that cannot sign (message in French, naming the file)."""


def load_private_key(path: Path) -> bytes:
    """The PEM bytes of the RSA private key at `path`, checked to be one dkimpy can sign with."""
    try:
        data = path.read_bytes().replace(b"\r\n", b"\n")
    except FileNotFoundError:
        raise DkimKeyError(f"clé privée DKIM introuvable : {path}") from None
    except OSError as error:
        raise DkimKeyError(f"clé privée DKIM illisible : {path} ({os_reason(error)})") from None
    if b"PUBLIC KEY-----" in data:
        raise DkimKeyError(f"{path} est une clé publique : « private_key » doit nommer la clé privée")
    try:
        bits = parse_pem_private_key(data)["modulus"].bit_length()
    except (UnparsableKeyError, ValueError, IndexError, TypeError):
        raise DkimKeyError(
            f"{path} n’est pas une clé privée RSA au format PEM sans mot de passe "
            "(« -----BEGIN PRIVATE KEY----- » ou « -----BEGIN RSA PRIVATE KEY----- »)"
        ) from None
    if bits < MIN_BITS:
        raise DkimKeyError(f"clé privée DKIM trop courte ({bits} bits, {MIN_BITS} au moins, 2048 conseillés) : {path}")
    return data


class Signer:
    """Signs every message of one send with the key of `[sending.dkim]`."""

    def __init__(self, config: DkimConfig):
        try:
            self.key = load_private_key(config.private_key)
        except DkimKeyError as error:
            raise SourceError(config.source, config.key_line, str(error)) from None
        self.selector = config.selector.encode("ascii")
        self.domain = config.domain.encode("ascii")
        self.headers = [name.lower().encode("ascii") for name in config.headers]

    def sign(self, data: bytes) -> bytes:
        """`data` with its `DKIM-Signature:` header first."""
        try:
            signature = dkim.sign(
                data, self.selector, self.domain, self.key, canonicalize=CANONICALIZATION, include_headers=self.headers
            )
        except dkim.DKIMException as error:
            raise MessageError(f"signature DKIM impossible : {error}") from None
        return signature + data
