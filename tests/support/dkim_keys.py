"""An RSA key pair made by the `openssl` command, and a DNS look-up that publishes its public half.

The DNS look-up is the one part of DKIM a test cannot make real: `dkim.verify(data, dnsfunc=...)`
asks it for `<selector>._domainkey.<domain>` and gets the TXT record an editor would publish.
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable
from pathlib import Path


def rsa_key(folder: Path, bits: int = 2048, name: str = "dkim.pem") -> tuple[Path, str]:
    """A private key file in `folder`, and its public key as the `p=` of a DKIM record."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}", "-out", str(path)],
        check=True,
        capture_output=True,
    )
    der = subprocess.run(
        ["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"], check=True, capture_output=True
    ).stdout
    return path, base64.b64encode(der).decode("ascii")


def dns(selector: str, domain: str, public: str) -> Callable[..., bytes | None]:
    """The TXT look-up of a domain that publishes `public` under `selector`, and nothing else."""
    records = {f"{selector}._domainkey.{domain}.": f"v=DKIM1; k=rsa; p={public}".encode("ascii")}

    def lookup(name: bytes | str, timeout: float = 5) -> bytes | None:
        name = name.decode("ascii") if isinstance(name, bytes) else name
        return records.get(name if name.endswith(".") else name + ".")

    return lookup
