"""Unsubscribe tokens: `<subscriber id>.<HMAC>`, signed with the project's secret.

The MAC covers the id and the subscriber's address, so a token names one person: it cannot be
forged without the secret, and it stops working if that id is ever given to another address.
Id 0 names no one: it is the token of a test send, which the endpoint answers without changing
anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

TEST_ID = 0
_MAC_BYTES = 16


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
