"""Journey Pulse settings (design.md §3, a contract): environment first, then `.streamlit/secrets.toml`.

Read without importing Streamlit so that the CLI, the scheduler and tests see exactly the values the app
sees. Every variable is looked up by the same name in both places; the environment wins so that a deploy
can override a checked-out secrets file without editing it.
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from qualtrics.settings import QualtricsSettings

DEFAULT_PULSE_URL = "http://localhost:8501"
DEFAULT_DB = "data/pulse.db"
DEFAULT_SYNC_INTERVAL = 900
CALLBACK_PATH = "/api/qualtrics/callback"
#: Where the generated token key lives by default: the user's config folder, not the data folder, so that a
#: backup (or a copy) of the data folder alone cannot decrypt the stored tokens.
KEY_FILE_NAME = "secret.key"
QUALTRICS_KEYS = ("QUALTRICS_BASE_URL", "QUALTRICS_DATACENTER", "QUALTRICS_CLIENT_ID", "QUALTRICS_CLIENT_SECRET",
                  "QUALTRICS_API_TOKEN")

KEYS = (
    "QUALTRICS_BASE_URL",
    "QUALTRICS_DATACENTER",
    "QUALTRICS_CLIENT_ID",
    "QUALTRICS_CLIENT_SECRET",
    "QUALTRICS_API_TOKEN",
    "PULSE_URL",
    "PULSE_DB",
    "PULSE_DATABASE_URL",
    "PULSE_SECRET_KEY",
    "PULSE_SYNC_INTERVAL",
    "PULSE_SANDBOX",
    "PULSE_KEY_FILE",
    "PULSE_OPEN_ACCESS",
    "PULSE_WORKER",
)
#: Where background work (scheduled syncs, Live refreshes, Data Hub mining) runs: in the app's own process
#: (the default, one ``streamlit run`` does everything) or in ``python -m workspace worker`` processes.
WORKER_MODES = ("embedded", "external")


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
    database_url: str | None = None
    secret_key: str | None = None
    sync_interval: int = DEFAULT_SYNC_INTERVAL
    is_sandbox: bool = False
    sandbox_requested: bool = False
    key_file: Path | None = None
    open_access: bool = False
    worker: str = "embedded"

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
        sandbox_requested = flag(merged, "PULSE_SANDBOX")
        check_qualtrics_settings(merged, sandbox_requested)
        key_file = merged.get("PULSE_KEY_FILE")
        return cls(
            qualtrics_base_url=qualtrics.base_url,
            qualtrics_datacenter=merged.get("QUALTRICS_DATACENTER") or None,
            client_id=qualtrics.client_id,
            client_secret=qualtrics.client_secret,
            api_token=qualtrics.api_token,
            pulse_url=(merged.get("PULSE_URL") or DEFAULT_PULSE_URL).rstrip("/"),
            db_path=Path(merged.get("PULSE_DB") or DEFAULT_DB),
            database_url=database_url(merged),
            secret_key=merged.get("PULSE_SECRET_KEY") or None,
            sync_interval=interval,
            sandbox_requested=sandbox_requested,
            key_file=Path(key_file).expanduser() if key_file else None,
            open_access=flag(merged, "PULSE_OPEN_ACCESS"),
            worker=worker_mode(merged),
        )

    @property
    def runs_background_work(self) -> bool:
        """Whether this process (an app server) runs the background work itself: not with PULSE_WORKER=external,
        where worker processes do it and the app servers only serve pages."""
        return self.worker != "external"

    @property
    def redirect_uri(self) -> str:
        """The OAuth redirect URI to register with the Qualtrics OAuth client."""
        return f"{self.pulse_url}{CALLBACK_PATH}"

    @functools.cached_property
    def store(self) -> "Location":  # noqa: F821 (imported when called)
        """Where the store is: PostgreSQL at ``PULSE_DATABASE_URL`` when set, else the SQLite file ``PULSE_DB``."""
        from workspace.store.location import Location  # the store package imports this module
        return Location.of(self.database_url or self.db_path)

    @property
    def data_dir(self) -> Path:
        """Folder of the database; the generated secret key and the sync lock files live beside it."""
        return self.db_path.resolve().parent

    @property
    def key_path(self) -> Path:
        """The generated token key's file: ``PULSE_KEY_FILE``, else ``$XDG_CONFIG_HOME/journey-pulse/secret.key``
        (``~/.config/…``). Unused when ``PULSE_SECRET_KEY`` is set."""
        if self.key_file is not None:
            return self.key_file
        config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(config_home) / "journey-pulse" / KEY_FILE_NAME

    @property
    def legacy_key_path(self) -> Path:
        """Where earlier versions generated the key: beside the database (moved to :attr:`key_path` on start)."""
        return self.data_dir / KEY_FILE_NAME

    @property
    def sandbox_reason(self) -> str:
        """Why the embedded sandbox runs, for the start-up log line."""
        return "PULSE_SANDBOX=1" if self.sandbox_requested else "no Qualtrics setting is configured"

    @property
    def uses_sandbox(self) -> bool:
        """No Qualtrics host configured: the app serves (or already serves) the embedded sandbox."""
        return self.qualtrics_base_url is None or self.is_sandbox

    @property
    def qualtrics_label(self) -> str:
        """Short description of where Qualtrics is, for the start-up log line and the Integrations card."""
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
                f"store={self.store.describe()!r}, secret_key={'***' if self.secret_key else None}, "
                f"sync_interval={self.sync_interval}, is_sandbox={self.is_sandbox}, "
                f"open_access={self.open_access}, worker={self.worker!r})")


def database_url(values: Mapping[str, str]) -> str | None:
    """``PULSE_DATABASE_URL`` checked: a ``postgresql://`` URL (libpq's form), or None for the SQLite default."""
    url = (values.get("PULSE_DATABASE_URL") or "").strip()
    if not url:
        return None
    from workspace.store.location import Location  # the store package imports this module
    try:
        Location.of(url)
    except ValueError as exc:
        raise ConfigError(f"{exc} Write it as postgresql://USER:PASSWORD@HOST:5432/DATABASE, or unset it to use "
                          "the SQLite file at PULSE_DB.") from None
    if "://" not in url:
        raise ConfigError("PULSE_DATABASE_URL must be a URL such as postgresql://USER:PASSWORD@HOST:5432/DATABASE "
                          "(unset it to use the SQLite file at PULSE_DB).")
    return url


def worker_mode(values: Mapping[str, str]) -> str:
    """``PULSE_WORKER``: unset or ``embedded`` (the app runs its background work), or ``external``."""
    text = (values.get("PULSE_WORKER") or "embedded").strip().lower()
    if text not in WORKER_MODES:
        raise ConfigError(f"PULSE_WORKER must be external (background work runs in `python -m workspace worker` "
                          f"processes) or embedded (the default: the app runs it), got {values.get('PULSE_WORKER')!r}.")
    return text


def flag(values: Mapping[str, str], key: str) -> bool:
    """A yes/no setting: 1, true, yes or on (any case) mean yes; unset, 0, false, no or off mean no."""
    text = values.get(key, "").strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{key} must be 1 (yes) or 0 (no), got {values.get(key)!r}.")


def check_qualtrics_settings(values: Mapping[str, str], sandbox_requested: bool) -> None:
    """Refuse half a Qualtrics configuration instead of silently serving the sandbox's fake responses.

    The embedded sandbox runs only when asked (``PULSE_SANDBOX=1``) or when no Qualtrics setting at all is
    present (a fresh checkout). Otherwise a host is required, and an OAuth client needs both halves. A host
    with no credential yet is allowed: nothing fake is served, and the Integrations card says what to set.
    """
    present = [key for key in QUALTRICS_KEYS if values.get(key)]
    if sandbox_requested:
        if present:
            raise ConfigError(f"PULSE_SANDBOX=1 runs the embedded sandbox with its own demo credentials, but "
                              f"{', '.join(present)} {'is' if len(present) == 1 else 'are'} set too: unset "
                              "PULSE_SANDBOX to use your Qualtrics, or unset those to use the sandbox.")
        return
    if not present:
        return
    missing: list[str] = []
    if not (values.get("QUALTRICS_BASE_URL") or values.get("QUALTRICS_DATACENTER")):
        missing.append("QUALTRICS_BASE_URL (or QUALTRICS_DATACENTER)")
    has_id, has_secret = bool(values.get("QUALTRICS_CLIENT_ID")), bool(values.get("QUALTRICS_CLIENT_SECRET"))
    if has_id != has_secret:
        missing.append("QUALTRICS_CLIENT_SECRET" if has_id else "QUALTRICS_CLIENT_ID")
    if missing:
        raise ConfigError(f"Qualtrics is only partly configured ({', '.join(present)} set): set "
                          f"{' and '.join(missing)}, or remove every QUALTRICS_ setting (or set PULSE_SANDBOX=1) "
                          "to use the embedded sandbox.")


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


def exposure_problem(settings: Settings, bind_address: str | None, login_configured: bool) -> str | None:
    """Why the app must not start as configured, or None.

    Without access control every visitor is an integration manager, so the app serves only this machine
    (loopback) unless ``[auth]`` is configured or the operator sets ``PULSE_OPEN_ACCESS=1`` (then every page
    says that anyone can manage it). Reachable means: listening on a non-loopback address (``--server.address
    0.0.0.0``, or no address at all, which Streamlit binds to every interface), or a ``PULSE_URL`` on another
    host (a reverse proxy in front of a loopback-bound app is reachable too).
    """
    if login_configured or settings.open_access:
        return None
    from qualtrics.transport import is_loopback_host  # here: it brings requests, which most commands never use

    address = (bind_address or "").strip()
    if not is_loopback_host(address):
        where = f"on {address}" if address else "on every interface (no server.address)"
        return (f"Journey Pulse would listen {where} without access control, so anyone who can reach it could "
                "manage it: configure sign-in ([auth] in .streamlit/secrets.toml), or set PULSE_OPEN_ACCESS=1 to "
                "accept that, or listen on 127.0.0.1 only (server.address in .streamlit/config.toml).")
    url_host = (urlsplit(settings.pulse_url).hostname or "").lower()
    if not is_loopback_host(url_host):
        return (f"PULSE_URL ({settings.pulse_url}) makes Journey Pulse reachable from other machines, but no access "
                "control is configured, so anyone could manage it: configure sign-in ([auth] in "
                ".streamlit/secrets.toml), or set PULSE_OPEN_ACCESS=1 to accept that.")
    return None
