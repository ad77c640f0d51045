"""Tamper-evident opaque strings: a payload and its truncated HMAC-SHA256, base64url without padding.

Both the export's continuation tokens and the OAuth tokens are sealed this way, so a new sandbox process that
derives the same key (from the seed, and for OAuth the client secret) accepts what an earlier process issued,
while any edit or another seed fails the check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def derive_key(*parts: object) -> bytes:
    """A 32-byte key from the given parts (seed, purpose, secret); NUL-separated so parts cannot run together."""
    return hashlib.sha256("\0".join(map(str, parts)).encode()).digest()


def seal(key: bytes, payload: bytes, sig_bytes: int) -> str:
    signature = hmac.new(key, payload, hashlib.sha256).digest()[:sig_bytes]
    return base64.urlsafe_b64encode(payload + b"." + signature).decode().rstrip("=")


def unseal(key: bytes, token: str, sig_bytes: int) -> bytes | None:
    """The payload of a token sealed with ``key``, or None when it is malformed or its signature is wrong."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    payload, dot, signature = raw[: -sig_bytes - 1], raw[-sig_bytes - 1: -sig_bytes], raw[-sig_bytes:]
    if len(raw) <= sig_bytes or dot != b".":
        return None
    expected = hmac.new(key, payload, hashlib.sha256).digest()[:sig_bytes]
    return payload if hmac.compare_digest(expected, signature) else None
