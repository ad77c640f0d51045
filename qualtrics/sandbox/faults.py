"""Fault switches of the sandbox: the misbehaviours of a real Qualtrics data center, on demand.

Every kind of fault has its own counter, so a test that asks for "the next 2 requests fail with 503"
gets exactly that, whatever other faults are armed. The same dataclass is what tests mutate
(``sb.faults.server_error_next = 2``) and what ``POST /_sandbox/faults`` updates from JSON.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Any

from qualtrics.permissions import REQUIRED_PERMISSIONS as PERMISSION_NAMES

SERVER_ERROR_STATUSES = (500, 502, 503, 504)


@dataclass
class Faults:
    """Armed faults. ``*_next`` fields count down as they fire; ``*_every`` fields stay armed."""

    rate_limit_every: int = 0  # every Nth API request answers 429 (0 = off)
    rate_limit_next: int = 0  # the next K API requests answer 429
    retry_after: int = 1  # seconds, sent in the Retry-After header of a 429
    server_error_next: int = 0  # the next K API requests answer with server_error_status
    server_error_status: int = 503  # one of 500, 502, 503, 504
    drop_next: int = 0  # the next K API requests get their socket closed without any response
    export_polls: int = 0  # an export reports inProgress for at least this many progress polls
    export_fail_next: int = 0  # the next K export jobs end with status "failed"
    token_expires_after_calls: int = 0  # access tokens stop working after N API calls (0 = off)
    access_token_lifetime: int = 3600  # expires_in (seconds) of access tokens issued from now on
    code_lifetime: int = 120  # seconds an authorization code stays valid
    refresh_revoked: bool = False  # every refresh_token grant answers invalid_grant
    rotate_refresh_tokens: bool = False  # each refresh issues a new refresh token (Qualtrics: unconfirmed)
    refresh_rotation_grace: int = 30  # with rotation: seconds a rotated-out refresh token still works
    corrupt_zip_next: int = 0  # the next K file downloads are truncated and garbled
    missing_permissions: list[str] = field(default_factory=list)  # UI names from PERMISSION_NAMES

    def validate(self) -> None:
        """Reject settings the sandbox cannot honour, so a typo in a test fails loudly."""
        if self.server_error_status not in SERVER_ERROR_STATUSES:
            raise ValueError(f"server_error_status must be one of {SERVER_ERROR_STATUSES}")
        unknown = [p for p in self.missing_permissions if p not in PERMISSION_NAMES]
        if unknown:
            raise ValueError(f"unknown permission names {unknown}; known: {list(PERMISSION_NAMES)}")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"{f.name} must not be negative")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a JSON object of field -> value (unknown fields are an error)."""
        names = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise ValueError(f"unknown fault fields {unknown}")
        trial = dataclasses.replace(self, **{k: (list(v) if k == "missing_permissions" else v) for k, v in changes.items()})
        for k in changes:
            expected = bool if isinstance(getattr(self, k), bool) else type(getattr(self, k))
            if not isinstance(getattr(trial, k), expected) or (expected is int and isinstance(getattr(trial, k), bool)):
                raise ValueError(f"{k} must be of type {expected.__name__}")
        trial.validate()
        for k in changes:
            setattr(self, k, getattr(trial, k))

    def reset(self) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default)


class FaultCounter:
    """Decides, under a lock, which fault (if any) a request gets; counts what fired per kind."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._lock = threading.Lock()
        self._api_requests = 0
        self.fired: dict[str, int] = {}

    def _fire(self, kind: str) -> str:
        self.fired[kind] = self.fired.get(kind, 0) + 1
        return kind

    def take(self, attribute: str, kind: str) -> bool:
        """Consume one unit of a ``*_next`` counter; True when the fault fires."""
        with self._lock:
            remaining = getattr(self.faults, attribute)
            if remaining <= 0:
                return False
            setattr(self.faults, attribute, remaining - 1)
            self._fire(kind)
            return True

    def api_request_fault(self) -> str | None:
        """The transport-level fault for one API request: "drop", "rate_limit", "server_error" or None."""
        with self._lock:
            self._api_requests += 1
            f = self.faults
            if f.drop_next > 0:
                f.drop_next -= 1
                return self._fire("drop")
            if f.rate_limit_next > 0:
                f.rate_limit_next -= 1
                return self._fire("rate_limit")
            if f.rate_limit_every > 0 and self._api_requests % f.rate_limit_every == 0:
                return self._fire("rate_limit")
            if f.server_error_next > 0:
                f.server_error_next -= 1
                return self._fire("server_error")
            return None

    def reset(self) -> None:
        with self._lock:
            self.faults.reset()
            self._api_requests = 0
            self.fired.clear()
