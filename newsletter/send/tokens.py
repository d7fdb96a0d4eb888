"""Signed tokens: `<subscriber id>.<HMAC>`, or `<id>.<expiry>.<HMAC>` for tokens that expire.

The MAC covers a *purpose* (`unsubscribe`, `confirm`, `profile`, `csrf`…), the id and the
subscriber's address (and the expiry and an optional `bound` value when given), so a token names one
person for one use: it cannot be forged without the secret, a confirmation token cannot unsubscribe
and an unsubscribe token cannot open the personal page, and it stops working if that id is ever given
to another address. `bound` ties a token to a value stored with the subscriber (the nonce of a
pending sign-up): changing the value revokes the token, which makes it single-use.
Unsubscribe tokens are what they always were (purpose `unsubscribe`, no expiry), so links in
messages already sent keep working. Id 0 names no one: it is the token of a test send, which the
endpoint answers without changing anything.

VERP tokens (`<issue>-<subscriber id>-<MAC>`) go into the envelope sender, `bounces+<token>@domain`,
so that a bounce names its issue and subscriber whatever the bouncing server writes. Their MAC is
lower-case base32 (16 characters, 80 bits): mail systems may change the case of a local part.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

TEST_ID = 0
UNSUBSCRIBE, CONFIRM, PROFILE, CSRF = "unsubscribe", "confirm", "profile", "csrf"
VALID, EXPIRED, INVALID = "valid", "expired", "invalid"
_MAC_BYTES = 16
_VERP_MAC_BYTES = 10
VERP_DELIMITER = "+"


def make_token(
    secret: str,
    subscriber_id: int,
    address: str,
    purpose: str = UNSUBSCRIBE,
    *,
    expires: int | None = None,
    bound: str = "",
) -> str:
    """A token for `purpose`; `expires` is a Unix time after which it is refused."""
    if expires is None:
        return f"{subscriber_id}.{_mac(secret, purpose, subscriber_id, address, None, bound)}"
    return f"{subscriber_id}.{expires:x}.{_mac(secret, purpose, subscriber_id, address, expires, bound)}"


def token_id(token: str) -> int | None:
    """The subscriber id a well-formed token claims (not yet verified), else None."""
    head, dot, rest = token.partition(".")
    if not dot or not head.isascii() or not head.isdigit() or len(head) > 18 or not rest or len(token) > 200:
        return None
    return int(head)


def check_token(
    secret: str,
    token: str,
    address: str,
    purpose: str = UNSUBSCRIBE,
    *,
    now: float | None = None,
    bound: str = "",
) -> str:
    """VALID, EXPIRED (well signed but too old: only said once the MAC is right) or INVALID."""
    subscriber_id = token_id(token)
    if subscriber_id is None:
        return INVALID
    parts = token.split(".")
    expires = None
    if len(parts) == 3:
        try:
            expires = int(parts[1], 16) if parts[1].isascii() and parts[1].isalnum() else None
        except ValueError:
            return INVALID
        if expires is None:
            return INVALID
    elif len(parts) != 2:
        return INVALID
    expected = make_token(secret, subscriber_id, address, purpose, expires=expires, bound=bound)
    if not hmac.compare_digest(expected.encode("ascii"), token.encode("utf-8", "replace")):
        return INVALID
    if expires is not None and now is not None and now > expires:
        return EXPIRED
    return VALID


def verify_token(secret: str, token: str, address: str, purpose: str = UNSUBSCRIBE, **kwargs: object) -> bool:
    return check_token(secret, token, address, purpose, **kwargs) == VALID  # type: ignore[arg-type]


def _mac(secret: str, purpose: str, subscriber_id: int, address: str, expires: int | None, bound: str) -> str:
    text = f"{purpose}:{subscriber_id}:{address}"
    if expires is not None or bound:
        text += f":{expires}:{bound}"
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_MAC_BYTES]).rstrip(b"=").decode("ascii")


def keyed_digest(secret: str, purpose: str, value: str) -> str:
    """A keyed hash of `value` for `purpose` (CSRF values, the tombstone of an erased address)."""
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


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
