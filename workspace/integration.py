"""The Qualtrics integration's stored state: status, account, permissions, encrypted tokens, OAuth attempts.

One row per provider (only ``qualtrics`` today). Tokens and PKCE verifiers are stored as Fernet ciphertext
(:mod:`workspace.crypto`); nothing in this module ever returns or logs them except :func:`load_token`, which
the connection code uses to build a client.

Pending OAuth attempts live here rather than in ``st.session_state`` because the browser's return from
Qualtrics opens a brand-new Streamlit session (streamlit-notes §2.1). Each attempt is single use: it is
consumed with ``DELETE … RETURNING`` so two callbacks racing with the same ``state`` cannot both win.

The app's embedded sandbox is recorded here too (address and demo client, while it runs): a grant the app
stored against it is useless to the command line without knowing on which port it serves today.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit


from workspace import crypto
from workspace.config import Settings
from workspace.crypto import TokenCipher
from workspace.store import connect, transaction, utcnow

PROVIDER = "qualtrics"
STATE_TTL_SECONDS = 600
KDF_SALT_KEY = "kdf_salt"
log = logging.getLogger("journey_pulse")


class Status(StrEnum):
    """The Integrations card badge (design.md §6: exactly one of these words)."""

    INACTIVE = "Inactive"
    ACTIVE = "Active"
    ERROR = "Error"


@dataclass(frozen=True)
class IntegrationRecord:
    """What is stored about the integration, minus the token."""

    enabled: bool = False
    status: Status = Status.INACTIVE
    created_by: str | None = None
    base_url: str | None = None
    account_user_id: str | None = None
    account_name: str | None = None
    datacenter: str | None = None
    error_message: str | None = None
    last_successful_sync: str | None = None
    permissions_granted: tuple[str, ...] = ()
    permissions_missing: tuple[str, ...] = ()
    permissions_checked_at: str | None = None
    has_token: bool = False


@dataclass(frozen=True)
class PendingAuthorization:
    """A consumed OAuth attempt: what the callback needs to finish it."""

    state: str
    code_verifier: str
    started_by: str | None
    created_at: float
    browser_hash: str | None = None

    def started_in(self, browser: str | None) -> bool:
        """Whether ``browser`` (the callback request's browser cookie) is the one that started this attempt."""
        return bool(browser and self.browser_hash
                    and hmac.compare_digest(self.browser_hash, browser_fingerprint(browser)))


def browser_fingerprint(browser: str) -> str:
    """What is stored of a browser's cookie: its SHA-256 (the cookie itself is a bearer secret)."""
    return hashlib.sha256(browser.encode("utf-8")).hexdigest()


def cipher(settings: Settings) -> TokenCipher:
    """The deployment's token cipher: PULSE_SECRET_KEY (a Fernet key as is, a passphrase stretched with scrypt
    and this store's salt), else the generated key file (``settings.key_path``)."""
    if not settings.secret_key:
        return TokenCipher(crypto.generated_key(settings.key_path, settings.legacy_key_path))
    key = crypto.fernet_key_of(settings.secret_key)
    if key is None:
        key = crypto.stretch_passphrase(settings.secret_key, _passphrase_salt(settings))
    return TokenCipher(key)


def _passphrase_salt(settings: Settings) -> bytes:
    """This store's scrypt salt, made on the first use of a passphrase; that first use also re-encrypts
    every secret an earlier version sealed with the unsalted SHA-256 derivation, in the same transaction."""
    with connect(settings.store) as db:
        row = db.execute("SELECT value FROM app_meta WHERE key = ?", (KDF_SALT_KEY,)).fetchone()
    if row is not None:
        return base64.b64decode(row[0])
    passphrase = settings.secret_key or ""
    with connect(settings.store) as db, transaction(db):
        row = db.execute("SELECT value FROM app_meta WHERE key = ?", (KDF_SALT_KEY,)).fetchone()
        if row is not None:  # another process got here first
            return base64.b64decode(row[0])
        salt = os.urandom(crypto.SALT_BYTES)
        old = TokenCipher(crypto.legacy_passphrase_key(passphrase))
        new = TokenCipher(crypto.stretch_passphrase(passphrase, salt))
        moved = 0
        for table, key_column, column in (("integration", "id", "token"), ("oauth_states", "state", "code_verifier"),
                                          ("embedded_sandbox", "id", "client_secret")):
            for key, blob in db.execute(
                    f"SELECT {key_column}, {column} FROM {table} WHERE {column} IS NOT NULL").fetchall():
                try:
                    plain = old.decrypt_text(blob)
                except crypto.SecretKeyError:  # sealed with another key: left for Reauthorize to replace
                    continue
                db.execute(f"UPDATE {table} SET {column} = ? WHERE {key_column} = ?",
                                (new.encrypt_text(plain), key))
                moved += 1
        db.execute("INSERT INTO app_meta (key, value) VALUES (?, ?)",
                        (KDF_SALT_KEY, base64.b64encode(salt).decode("ascii")))
    if moved:
        log.warning("Re-encrypted %d stored secret(s) with the PULSE_SECRET_KEY passphrase stretched by scrypt "
                    "(salted) instead of one SHA-256.", moved)
    return salt


def _ensure_row(db: Any) -> None:
    db.execute(
        "INSERT INTO integration (id, updated_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
        (PROVIDER, utcnow()))


def _record(row: dict[str, Any] | None) -> IntegrationRecord:
    if row is None:
        return IntegrationRecord()
    return IntegrationRecord(
        enabled=bool(row["enabled"]),
        status=Status(row["status"]),
        created_by=row["created_by"],
        base_url=row["base_url"],
        account_user_id=row["account_user_id"],
        account_name=row["account_name"],
        datacenter=row["datacenter"],
        error_message=row["error_message"],
        last_successful_sync=row["last_successful_sync"],
        permissions_granted=tuple(json.loads(row["permissions_granted"] or "[]")),
        permissions_missing=tuple(json.loads(row["permissions_missing"] or "[]")),
        permissions_checked_at=row["permissions_checked_at"],
        has_token=row["token"] is not None,
    )


def get_integration(settings: Settings) -> IntegrationRecord:
    """The stored integration (a default Inactive record when none was ever enabled)."""
    with connect(settings.store) as db:
        rows = list(db.query("SELECT * FROM integration WHERE id = ?", [PROVIDER]))
    return _record(rows[0] if rows else None)


def update_integration(settings: Settings, **fields: Any) -> IntegrationRecord:
    """Set columns of the integration row (created if missing) in one transaction; returns the new record.

    ``status`` accepts a :class:`Status`; tuples are stored as JSON lists. Use :func:`save_token` for tokens.
    """
    if "token" in fields:
        raise ValueError("Use save_token() so that tokens are always encrypted.")
    columns = {k: (json.dumps(list(v)) if isinstance(v, tuple) else (str(v) if isinstance(v, Status) else v))
               for k, v in fields.items()}
    columns["updated_at"] = utcnow()
    assignments = ", ".join(f"{name} = ?" for name in columns)
    with connect(settings.store) as db, transaction(db):
        _ensure_row(db)
        db.execute(f"UPDATE integration SET {assignments} WHERE id = ?", [*columns.values(), PROVIDER])
        row = next(db.query("SELECT * FROM integration WHERE id = ?", [PROVIDER]))
    return _record(row)


def save_token(settings: Settings, token: dict[str, Any]) -> None:
    """Store a token dict encrypted (called on first exchange and on every refresh)."""
    blob = cipher(settings).encrypt_json(dict(token))
    with connect(settings.store) as db, transaction(db):
        _ensure_row(db)
        db.execute("UPDATE integration SET token = ?, updated_at = ? WHERE id = ?",
                        (blob, utcnow(), PROVIDER))


def load_token(settings: Settings) -> dict[str, Any] | None:
    """The decrypted token dict, or None when the integration holds none."""
    sealer = cipher(settings)  # first: on a store's first passphrase use it re-encrypts what is read next
    with connect(settings.store) as db:
        row = db.execute("SELECT token FROM integration WHERE id = ?", (PROVIDER,)).fetchone()
    if row is None or row[0] is None:
        return None
    return sealer.decrypt_json(row[0])


def clear_token(settings: Settings) -> None:
    """Forget the token (Disconnect). The row and its history stay."""
    with connect(settings.store) as db, transaction(db):
        db.execute("UPDATE integration SET token = NULL, updated_at = ? WHERE id = ?", (utcnow(), PROVIDER))


def store_pending_state(settings: Settings, state: str, code_verifier: str, started_by: str | None,
                        consent_url: str | None = None) -> None:
    """Remember an OAuth attempt until its callback (at most :data:`STATE_TTL_SECONDS`). It is bound to no
    browser yet: :func:`claim_pending_state` binds it to the first browser that opens the start route."""
    blob = cipher(settings).encrypt_text(code_verifier)
    now = time.time()
    with connect(settings.store) as db, transaction(db):
        db.execute("DELETE FROM oauth_states WHERE created_at < ?", (now - STATE_TTL_SECONDS,))
        db.execute(
            "INSERT INTO oauth_states (state, code_verifier, started_by, created_at, consent_url) "
            "VALUES (?, ?, ?, ?, ?)", (state, blob, started_by, now, consent_url))


def claim_pending_state(settings: Settings, state: str | None, browser: str) -> str | None:
    """Bind the attempt ``state`` to ``browser`` (its cookie; only a fingerprint is stored) and return its
    consent URL; None when unknown, expired or already claimed (the first browser wins, once)."""
    if not state or not browser:
        return None
    with connect(settings.store) as db, transaction(db):
        rows = db.execute(
            "UPDATE oauth_states SET browser_hash = ? WHERE state = ? AND browser_hash IS NULL AND created_at >= ? "
            "RETURNING consent_url", (browser_fingerprint(browser), state, time.time() - STATE_TTL_SECONDS)
        ).fetchall()
    return rows[0][0] if rows else None


def consume_pending_state(settings: Settings, state: str | None) -> PendingAuthorization | None:
    """Take the attempt ``state`` out of the store; None if unknown, already used or expired."""
    if not state:
        return None
    sealer = cipher(settings)
    now = time.time()
    with connect(settings.store) as db, transaction(db):
        # fetchall: finish the statement before COMMIT (a half-read RETURNING cursor blocks it).
        rows = db.execute(
            "DELETE FROM oauth_states WHERE state = ? RETURNING code_verifier, started_by, created_at, browser_hash",
            (state,)).fetchall()
        db.execute("DELETE FROM oauth_states WHERE created_at < ?", (now - STATE_TTL_SECONDS,))
    row = rows[0] if rows else None
    if row is None or row[2] < now - STATE_TTL_SECONDS:
        return None
    return PendingAuthorization(state=state, code_verifier=sealer.decrypt_text(row[0]),
                                started_by=row[1], created_at=row[2], browser_hash=row[3])


def pending_state_count(settings: Settings) -> int:
    """How many OAuth attempts are waiting for their callback (expired ones included until purged)."""
    with connect(settings.store) as db:
        return db.execute("SELECT count(*) FROM oauth_states").fetchone()[0]


@dataclass(frozen=True)
class EmbeddedSandbox:
    """The app's embedded sandbox as the app recorded it when it started it (see :func:`record_sandbox`)."""

    base_url: str
    client_id: str
    client_secret: str
    pid: int
    host: str
    started_at: str


def record_sandbox(settings: Settings, base_url: str, client_id: str, client_secret: str) -> None:
    """Remember where this process's embedded sandbox serves (its port changes on every start)."""
    blob = cipher(settings).encrypt_text(client_secret)
    with connect(settings.store) as db, transaction(db):
        db.execute(
            "INSERT INTO embedded_sandbox (id, base_url, client_id, client_secret, pid, host, started_at) "
            "VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET base_url = excluded.base_url, "
            "client_id = excluded.client_id, client_secret = excluded.client_secret, pid = excluded.pid, "
            "host = excluded.host, started_at = excluded.started_at",
            (base_url, client_id, blob, os.getpid(), socket.gethostname(), utcnow()))


def forget_sandbox(settings: Settings) -> None:
    """The sandbox this process started stops: forget it (another process's newer sandbox stays)."""
    with connect(settings.store) as db, transaction(db):
        db.execute("DELETE FROM embedded_sandbox WHERE pid = ? AND host = ?", (os.getpid(), socket.gethostname()))


def running_sandbox(settings: Settings) -> EmbeddedSandbox | None:
    """The recorded embedded sandbox if it still answers: its process is alive (same host) and its port
    accepts a connection. None when no app runs one, or the app that did was stopped or killed."""
    sealer = cipher(settings)
    with connect(settings.store) as db:
        row = db.execute("SELECT base_url, client_id, client_secret, pid, host, started_at "
                              "FROM embedded_sandbox WHERE id = 1").fetchone()
    if row is None:
        return None
    sandbox = EmbeddedSandbox(row[0], row[1], sealer.decrypt_text(row[2]), row[3], row[4], row[5])
    if sandbox.host == socket.gethostname() and not _process_alive(sandbox.pid):
        return None
    address = urlsplit(sandbox.base_url)
    try:
        with socket.create_connection((address.hostname or "127.0.0.1", address.port or 80), timeout=1.0):
            pass
    except OSError:
        return None
    return sandbox


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
