"""The `[serve]` table of `newsletter.toml`, typed; every key has a working default.

```toml
[serve]
host = "127.0.0.1"            # where waitress listens (behind the site's HTTPS proxy)
port = 8080
public_url = ""               # the service as readers reach it, e.g. "https://lettre.example.org/service";
                              # set, it puts the sign-up form on every archive page
trusted_proxy = ""            # the proxy's address: only then is X-Forwarded-For believed
threads = 4
form_text = "…"               # the consent sentence; its version is a digest of the text
confirm_days = 7              # a confirmation link expires after this many days
per_address = 3               # confirmation emails per address per day, at most
per_client = 30               # sign-ups per client (IP address) per hour, at most
```
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsletter.send.config import _checked, _error
from newsletter.settings import DEFAULT_FORM_TEXT, SETTINGS_FILE, Settings

_KEYS = {
    "host": str,
    "port": int,
    "public_url": str,
    "trusted_proxy": str,
    "threads": int,
    "form_text": str,
    "confirm_days": (int, float),
    "per_address": int,
    "per_client": int,
}


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    trusted_proxy: str = ""
    threads: int = 4
    form_text: str = DEFAULT_FORM_TEXT
    confirm_days: float = 7
    per_address: int = 3
    per_client: int = 30

    @property
    def form_version(self) -> str:
        """The wording's version: what a consent record points to (the text is kept by version)."""
        return "f-" + hashlib.sha256(self.form_text.encode("utf-8")).hexdigest()[:12]

    def url(self, route: str) -> str:
        return f"{self.public_url}/{route}"


def serve_config(settings: Settings) -> ServeConfig:
    """Type and check `[serve]`; a bad value is a SourceError on its line."""
    path = settings.path or Path(SETTINGS_FILE)
    values: dict[str, Any] = dict(_checked(settings.table("serve"), _KEYS, "serve", path))
    if "form_text" in values:
        values["form_text"] = values["form_text"].strip()
    public = values.get("public_url", "").rstrip("/")
    parts = urlsplit(public)
    if public and (parts.scheme not in ("http", "https") or not parts.netloc or parts.query or not public.isascii()):
        raise _error(path, "public_url", f"adresse publique invalide « {public} » (attendu : https://…)", "serve")
    values["public_url"] = public
    for key in ("threads", "confirm_days", "per_address", "per_client"):
        if key in values and values[key] <= 0:
            raise _error(path, key, f"« {key} » doit être positif", "serve")
    if not values.get("form_text", DEFAULT_FORM_TEXT).strip():
        raise _error(path, "form_text", "« form_text » ne peut pas être vide", "serve")
    return ServeConfig(**values)
