"""Encryption at rest for OAuth tokens and PKCE verifiers (Fernet: AES-128-CBC + HMAC-SHA256).

The key is ``PULSE_SECRET_KEY`` when set, else a key generated once into the data folder
(``secret.key``, mode 0600, created with O_EXCL so two processes starting together agree on one key).
A ``PULSE_SECRET_KEY`` that is not itself a Fernet key (any passphrase) is stretched with SHA-256, so
operators may paste whatever secret their platform generates.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

KEY_FILE = "secret.key"


class SecretKeyError(RuntimeError):
    """Stored secrets cannot be decrypted with the current key (the key changed or the file was lost)."""


def _fernet_key(secret: str) -> bytes:
    raw = secret.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def key_file_path(data_dir: Path) -> Path:
    return Path(data_dir) / KEY_FILE


def load_or_create_key(data_dir: Path) -> bytes:
    """The generated key of this data folder, creating it (0600) on first use."""
    path = key_file_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes().strip()
        if not key:  # another process created the file and is about to write it
            for _ in range(50):
                time.sleep(0.02)
                key = path.read_bytes().strip()
                if key:
                    break
        return key
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    return key


class TokenCipher:
    """Encrypts and decrypts small secrets (token dicts, PKCE verifiers) for storage."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def for_settings(cls, secret_key: str | None, data_dir: Path) -> "TokenCipher":
        """The cipher of a deployment: from PULSE_SECRET_KEY, else the generated key file."""
        if secret_key:
            return cls(_fernet_key(secret_key))
        return cls(load_or_create_key(data_dir))

    def encrypt_text(self, text: str) -> bytes:
        return self._fernet.encrypt(text.encode("utf-8"))

    def decrypt_text(self, blob: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(blob)).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError(
                "The stored Qualtrics authorization cannot be decrypted: PULSE_SECRET_KEY (or the data "
                "folder's secret.key) changed since it was saved. Reauthorize the integration.") from None

    def encrypt_json(self, value: Any) -> bytes:
        return self.encrypt_text(json.dumps(value, separators=(",", ":")))

    def decrypt_json(self, blob: bytes) -> Any:
        return json.loads(self.decrypt_text(blob))

    def __repr__(self) -> str:
        return "TokenCipher(key='***')"
