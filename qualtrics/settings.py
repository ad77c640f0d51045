"""Qualtrics connection settings from the environment (design.md section 3).

Only the Qualtrics variables live here; the workspace reads the rest (PULSE_*) and .streamlit/secrets.toml and
can pass the merged mapping to :meth:`QualtricsSettings.from_env`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from qualtrics.errors import QualtricsError

_DATACENTER = re.compile(r"^[a-z0-9][a-z0-9.-]*$", re.IGNORECASE)


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def normalise_base_url(url: str) -> str:
    """Host root without trailing slash or API path, so ``{base}/API/v3`` and ``{base}/oauth2/...`` both work."""
    url = url.strip().rstrip("/")
    if url.lower().endswith("/api/v3"):
        url = url[: -len("/API/v3")]
    if not re.match(r"^https?://[^/]+", url, re.IGNORECASE):
        raise QualtricsError(
            f"QUALTRICS_BASE_URL must look like https://fra1.qualtrics.com (got {url!r}).")
    return url


def datacenter_url(datacenter: str) -> str:
    """``https://{dc}.qualtrics.com`` for a data center id such as ``fra1`` (org prefixes like ``acme.iad1`` work)."""
    dc = datacenter.strip().lower()
    if not _DATACENTER.match(dc):
        raise QualtricsError(
            f"QUALTRICS_DATACENTER must be a data center id such as fra1 or iad1 (got {datacenter!r}).")
    return f"https://{dc}.qualtrics.com"


@dataclass(frozen=True)
class QualtricsSettings:
    """Where Qualtrics is and how to authenticate. ``base_url`` None means: use the embedded sandbox."""

    base_url: str | None
    client_id: str | None = None
    client_secret: str | None = None
    api_token: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "QualtricsSettings":
        base = _clean(env.get("QUALTRICS_BASE_URL"))
        dc = _clean(env.get("QUALTRICS_DATACENTER"))
        if base:
            base_url: str | None = normalise_base_url(base)
        elif dc:
            base_url = datacenter_url(dc)
        else:
            base_url = None
        return cls(
            base_url=base_url,
            client_id=_clean(env.get("QUALTRICS_CLIENT_ID")),
            client_secret=_clean(env.get("QUALTRICS_CLIENT_SECRET")),
            api_token=_clean(env.get("QUALTRICS_API_TOKEN")),
        )

    @property
    def uses_sandbox(self) -> bool:
        return self.base_url is None

    def __repr__(self) -> str:  # never show secrets in logs or tracebacks
        return (f"QualtricsSettings(base_url={self.base_url!r}, client_id={self.client_id!r}, "
                f"client_secret={'***' if self.client_secret else None}, "
                f"api_token={'***' if self.api_token else None})")
