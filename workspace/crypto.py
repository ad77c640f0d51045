"""Encryption at rest for OAuth tokens and PKCE verifiers (Fernet: AES-128-CBC + HMAC-SHA256).

The key is ``PULSE_SECRET_KEY`` when set, else a key generated once into a key file (``PULSE_KEY_FILE``,
default ``~/.config/journey-pulse/secret.key``; mode 0600, created with O_EXCL so two processes starting
together agree on one key). The key file is kept out of the data folder so that a backup of the data
folder alone cannot decrypt the tokens; a key that earlier versions generated beside the database is
moved there (:func:`move_legacy_key`).

A ``PULSE_SECRET_KEY`` that is not itself a Fernet key (any passphrase) is stretched with scrypt and a
random salt stored in the database (:func:`stretch_passphrase`), so a stolen database cannot be tested
against a dictionary at SHA-256 speed. Earlier versions used one unsalted SHA-256
(:func:`legacy_passphrase_key`); the workspace re-encrypts what they sealed on first use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import functools
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

# cryptography is imported where a key is made or a secret sealed or opened: a command line run with an API
# token (cron's `sync --all`) never does either.

#: scrypt cost (RFC 7914): N=2^15, r=8, p=1 takes ~32 MiB and ~0.1 s per derivation — once per process and
#: salt, thanks to the cache below — and makes each guess of a stolen store's passphrase cost the same.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SALT_BYTES = 16
log = logging.getLogger("journey_pulse")
_warned_legacy: set[Path] = set()


class SecretKeyError(RuntimeError):
    """Stored secrets cannot be decrypted with the current key (the key changed or the file was lost)."""


def fernet_key_of(secret: str) -> bytes | None:
    """``secret`` itself when it is a Fernet key (32 bytes, url-safe base64), else None (a passphrase)."""
    raw = secret.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    return None


@functools.lru_cache(maxsize=8)
def stretch_passphrase(passphrase: str, salt: bytes) -> bytes:
    """The Fernet key of a passphrase: scrypt(passphrase, salt), cached (the derivation is slow on purpose)."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return base64.urlsafe_b64encode(kdf.derive(passphrase.strip().encode()))


def legacy_passphrase_key(passphrase: str) -> bytes:
    """How versions before the scrypt migration turned a passphrase into a key (one unsalted SHA-256);
    used only to re-encrypt what they stored."""
    return base64.urlsafe_b64encode(hashlib.sha256(passphrase.strip().encode()).digest())


def move_legacy_key(legacy: Path, target: Path) -> bool:
    """Move a key generated beside the database by an earlier version to ``target``; True if moved.

    When ``target`` already holds a different key, nothing moves: the legacy key stays in use (see
    :func:`generated_key`) and the log says how to resolve it.
    """
    if legacy.resolve() == target.resolve() or not legacy.is_file():
        return False
    if target.exists():
        return False
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.move(str(legacy), str(target))
    target.chmod(0o600)
    log.warning("Moved the token key %s to %s so that a backup of the data folder alone cannot decrypt the "
                "stored tokens; keep the two apart (PULSE_KEY_FILE sets the key file).", legacy, target)
    return True


def generated_key(key_file: Path, legacy: Path) -> bytes:
    """The generated key: moved from beside the database if an earlier version put it there, created on
    first use. A legacy key that cannot move (``key_file`` holds another key) keeps being used, with a
    warning, because it is the one that sealed this database's tokens."""
    move_legacy_key(legacy, key_file)
    if legacy.is_file() and legacy.resolve() != key_file.resolve():
        if legacy not in _warned_legacy:  # once per process, not on every token read
            _warned_legacy.add(legacy)
            log.warning("%s holds this database's token key but %s holds another one: set PULSE_KEY_FILE=%s, "
                        "or move the key out of the data folder yourself.", legacy, key_file, legacy)
        return legacy.read_bytes().strip()
    return load_or_create_key(key_file)


def load_or_create_key(path: Path) -> bytes:
    """The generated key in the file ``path``, creating it (0600, folder 0700) on first use."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
    from cryptography.fernet import Fernet

    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    return key


class TokenCipher:
    """Encrypts and decrypts small secrets (token dicts, PKCE verifiers) for storage."""

    def __init__(self, key: bytes) -> None:
        from cryptography.fernet import Fernet

        self._fernet = Fernet(key)

    def encrypt_text(self, text: str) -> bytes:
        return self._fernet.encrypt(text.encode("utf-8"))

    def decrypt_text(self, blob: bytes) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(bytes(blob)).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError(
                "The stored Qualtrics authorization cannot be decrypted: PULSE_SECRET_KEY (or the generated key "
                "file, PULSE_KEY_FILE) changed since it was saved. Reauthorize the integration.") from None

    def encrypt_json(self, value: Any) -> bytes:
        return self.encrypt_text(json.dumps(value, separators=(",", ":")))

    def decrypt_json(self, blob: bytes) -> Any:
        return json.loads(self.decrypt_text(blob))

    def __repr__(self) -> str:
        return "TokenCipher(key='***')"
