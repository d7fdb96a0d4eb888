"""Unsubscribe tokens: `<subscriber id>.<HMAC>`, signed with the project's secret.

The MAC covers the id and the subscriber's address, so a token names one person: it cannot be
forged without the secret, and it stops working if that id is ever given to another address.
Id 0 names no one: it is the token of a test send, which the endpoint answers without changing
anything.

VERP tokens (`<issue>-<subscriber id>-<MAC>`) go into the envelope sender, `bounces+<token>@domain`,
so that a bounce names its issue and subscriber whatever the bouncing server writes. Their MAC is
lower-case base32 (16 characters, 80 bits): mail systems may change the case of a local part.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

TEST_ID = 0
_MAC_BYTES = 16
_VERP_MAC_BYTES = 10
VERP_DELIMITER = "+"


def make_token(secret: str, subscriber_id: int, address: str) -> str:
    return f"{subscriber_id}.{_mac(secret, subscriber_id, address)}"


def token_id(token: str) -> int | None:
    """The subscriber id a well-formed token claims (not yet verified), else None."""
    head, dot, mac = token.partition(".")
    if not dot or not head.isascii() or not head.isdigit() or len(head) > 18 or not mac:
        return None
    return int(head)


def verify_token(secret: str, token: str, address: str) -> bool:
    subscriber_id = token_id(token)
    if subscriber_id is None:
        return False
    expected = make_token(secret, subscriber_id, address)
    return hmac.compare_digest(expected.encode("ascii"), token.encode("utf-8", "replace"))


def _mac(secret: str, subscriber_id: int, address: str) -> str:
    digest = hmac.new(secret.encode(), f"unsubscribe:{subscriber_id}:{address}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_MAC_BYTES]).rstrip(b"=").decode("ascii")


def message_digest(secret: str, *parts: object) -> str:
    """A short keyed digest, for Message-IDs that are stable but reveal no address."""
    text = ":".join(str(part) for part in parts)
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:24]


def make_verp_token(secret: str, issue: int, subscriber_id: int, address: str) -> str:
    return f"{issue}-{subscriber_id}-{_verp_mac(secret, issue, subscriber_id, address)}"


def verp_token_ids(token: str) -> tuple[int, int] | None:
    """The (issue, subscriber id) a well-formed VERP token claims (not yet verified), else None."""
    parts = token.lower().split("-")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) <= 18 for p in parts[:2]) or not parts[2]:
        return None
    return int(parts[0]), int(parts[1])


def verify_verp_token(secret: str, token: str, address: str) -> bool:
    ids = verp_token_ids(token)
    if ids is None:
        return False
    expected = make_verp_token(secret, *ids, address)
    return hmac.compare_digest(expected.encode("ascii"), token.lower().encode("utf-8", "replace"))


def verp_address(bounce_address: str, token: str) -> str:
    """`bounces@example.org` and a token → `bounces+<token>@example.org`."""
    local, _, domain = bounce_address.rpartition("@")
    return f"{local}{VERP_DELIMITER}{token}@{domain}"


def verp_token_in(address: str, bounce_address: str) -> str | None:
    """The token of `address` if it is a VERP form of `bounce_address` (case ignored), else None."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    base, _, base_domain = bounce_address.lower().rpartition("@")
    head, delimiter, token = local.partition(VERP_DELIMITER)
    if domain != base_domain or head != base or not delimiter or not token:
        return None
    return token


def _verp_mac(secret: str, issue: int, subscriber_id: int, address: str) -> str:
    digest = hmac.new(secret.encode(), f"verp:{issue}:{subscriber_id}:{address}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:_VERP_MAC_BYTES]).decode("ascii").lower()
