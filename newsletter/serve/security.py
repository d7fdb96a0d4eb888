"""What every answer carries, and who is asking: security headers, CSRF values, the client key.

CSRF: a form the service renders for a token page (confirmation, personal page) carries
`HMAC(secret, "csrf:" + that page's token)`: whoever cannot read the page cannot post its form. The
service's own sign-up form carries `HMAC(secret, "csrf:" + cookie)`, the cookie being random,
`HttpOnly` and `SameSite=Strict` (a signed double submit). The archive's form is static (built
without any secret), so it carries no token: a sign-up without one is accepted only when the browser
says it comes from the archive's own origin (`Origin`, else `Referer`), OWASP's « verifying origin
with standard headers ». Anything else is refused (403).
"""

from __future__ import annotations

import hmac
import secrets
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from newsletter.send.tokens import CSRF, keyed_digest

CSRF_COOKIE = "nl_csrf"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    ("X-Robots-Tag", "noindex"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "interest-cohort=()"),
)


def security_headers(https: bool) -> list[tuple[str, str]]:
    extra = [("Strict-Transport-Security", "max-age=31536000")] if https else []
    return [*HEADERS, *extra]


def csrf_value(secret: str, binding: str) -> str:
    return keyed_digest(secret, CSRF, binding)[:32]


def csrf_ok(secret: str, binding: str, given: str) -> bool:
    """Constant-time comparison of the posted value with the one the binding calls for."""
    return bool(binding) and hmac.compare_digest(csrf_value(secret, binding).encode(), given.encode("utf-8", "replace"))


def cookie_of(environ: dict) -> str:
    try:
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    except CookieError:
        return ""
    morsel = cookie.get(CSRF_COOKIE)
    value = morsel.value if morsel else ""
    return value if value.isascii() and value.replace("-", "").replace("_", "").isalnum() and len(value) < 64 else ""


def new_cookie(https: bool) -> tuple[str, str]:
    """A fresh random value and its Set-Cookie header value."""
    value = secrets.token_urlsafe(18)
    secure = "; Secure" if https else ""
    return value, f"{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=7200{secure}"


def same_origin(environ: dict, allowed: tuple[str, ...]) -> bool:
    """Whether the browser says the request comes from one of the `allowed` origins."""
    origin = environ.get("HTTP_ORIGIN", "")
    if not origin or origin == "null":
        referer = environ.get("HTTP_REFERER", "")
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return bool(origin) and origin.lower() in allowed


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def client_of(environ: dict, trusted_proxy: str) -> str:
    """The client's address: the peer, or the last hop the trusted proxy appended."""
    peer = environ.get("REMOTE_ADDR", "")
    if trusted_proxy and peer == trusted_proxy:
        forwarded = environ.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        return forwarded or peer
    return peer
