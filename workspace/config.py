"""Journey Pulse settings (design.md §3, a contract): environment first, then `.streamlit/secrets.toml`.

Read without importing Streamlit so that the CLI, the scheduler and tests see exactly the values the app
sees. Every variable is looked up by the same name in both places; the environment wins so that a deploy
can override a checked-out secrets file without editing it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from qualtrics.settings import QualtricsSettings

DEFAULT_PULSE_URL = "http://localhost:8501"
DEFAULT_DB = "data/pulse.db"
DEFAULT_SYNC_INTERVAL = 900
CALLBACK_PATH = "/api/qualtrics/callback"

KEYS = (
    "QUALTRICS_BASE_URL",
    "QUALTRICS_DATACENTER",
    "QUALTRICS_CLIENT_ID",
    "QUALTRICS_CLIENT_SECRET",
    "QUALTRICS_API_TOKEN",
    "PULSE_URL",
    "PULSE_DB",
    "PULSE_SECRET_KEY",
    "PULSE_SYNC_INTERVAL",
)


class ConfigError(ValueError):
    """A setting has a value the app cannot use; the message names the setting and what to write."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable, resolved. ``qualtrics_base_url`` None means "start the embedded sandbox".

    ``is_sandbox`` is set by :meth:`with_sandbox` once the embedded sandbox serves on a real port; the
    base URL, client id and secret then point at it, so the rest of the code never special-cases it.
    """

    qualtrics_base_url: str | None = None
    qualtrics_datacenter: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_token: str | None = None
    pulse_url: str = DEFAULT_PULSE_URL
    db_path: Path = Path(DEFAULT_DB)
    secret_key: str | None = None
    sync_interval: int = DEFAULT_SYNC_INTERVAL
    is_sandbox: bool = False

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None,
             secrets_path: str | os.PathLike[str] | None = ".streamlit/secrets.toml") -> "Settings":
        """Resolve settings from ``env`` (default ``os.environ``), then ``secrets_path``, then defaults."""
        merged = merged_values(os.environ if env is None else env, secrets_path)
        qualtrics = QualtricsSettings.from_env(merged)
        interval_text = merged.get("PULSE_SYNC_INTERVAL") or str(DEFAULT_SYNC_INTERVAL)
        try:
            interval = int(float(interval_text))
        except ValueError:
            raise ConfigError(
                f"PULSE_SYNC_INTERVAL must be a number of seconds, e.g. 900 (got {interval_text!r}).") from None
        if interval < 1:
            raise ConfigError("PULSE_SYNC_INTERVAL must be at least 1 second.")
        return cls(
            qualtrics_base_url=qualtrics.base_url,
            qualtrics_datacenter=merged.get("QUALTRICS_DATACENTER") or None,
            client_id=qualtrics.client_id,
            client_secret=qualtrics.client_secret,
            api_token=qualtrics.api_token,
            pulse_url=(merged.get("PULSE_URL") or DEFAULT_PULSE_URL).rstrip("/"),
            db_path=Path(merged.get("PULSE_DB") or DEFAULT_DB),
            secret_key=merged.get("PULSE_SECRET_KEY") or None,
            sync_interval=interval,
        )

    @property
    def redirect_uri(self) -> str:
        """The OAuth redirect URI to register with the Qualtrics OAuth client."""
        return f"{self.pulse_url}{CALLBACK_PATH}"

    @property
    def data_dir(self) -> Path:
        """Folder of the database; the generated secret key and the sync lock files live beside it."""
        return self.db_path.resolve().parent

    @property
    def uses_sandbox(self) -> bool:
        """No Qualtrics host configured: the app serves (or already serves) the embedded sandbox."""
        return self.qualtrics_base_url is None or self.is_sandbox

    @property
    def qualtrics_label(self) -> str:
        """Short description of where Qualtrics is, for the health route and the Integrations card."""
        if self.is_sandbox:
            return f"Embedded Qualtrics sandbox at {self.qualtrics_base_url}"
        if self.qualtrics_base_url is None:
            return "Embedded Qualtrics sandbox (not started)"
        return self.qualtrics_base_url

    def with_sandbox(self, base_url: str, client_id: str, client_secret: str) -> "Settings":
        """These settings pointed at a running embedded sandbox (its demo OAuth client unless one is set)."""
        return replace(self, qualtrics_base_url=base_url, is_sandbox=True,
                       client_id=self.client_id or client_id,
                       client_secret=self.client_secret or client_secret)

    def __repr__(self) -> str:  # never show secrets in logs or tracebacks
        return (f"Settings(qualtrics_base_url={self.qualtrics_base_url!r}, client_id={self.client_id!r}, "
                f"client_secret={'***' if self.client_secret else None}, "
                f"api_token={'***' if self.api_token else None}, pulse_url={self.pulse_url!r}, "
                f"db_path={str(self.db_path)!r}, secret_key={'***' if self.secret_key else None}, "
                f"sync_interval={self.sync_interval}, is_sandbox={self.is_sandbox})")


def merged_values(env: Mapping[str, str], secrets_path: str | os.PathLike[str] | None) -> dict[str, str]:
    """One value per known key: the environment's if non-empty, else secrets.toml's, else absent."""
    from_file = _read_secrets(secrets_path)
    merged: dict[str, str] = {}
    for key in KEYS:
        value = str(env.get(key) or "").strip()
        if not value and key in from_file:
            value = str(from_file[key]).strip()
        if value:
            merged[key] = value
    return merged


def _read_secrets(path: str | os.PathLike[str] | None) -> dict[str, object]:
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it.") from None
    return {k: v for k, v in data.items() if isinstance(v, (str, int, float))}
