"""Finding 12: the store's files are private, the token key is not beside them, and a passphrase is
stretched with salted scrypt, with existing stores migrated (key file moved, tokens re-encrypted).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import sqlite3
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
import pytest

from tests import engines
from tests.test_workspace_support import settings_for
from workspace import integration, store
from workspace.crypto import SCRYPT_N, SCRYPT_P, SCRYPT_R

TOKEN = {"access_token": "AT-canary-9f1c", "refresh_token": "RT-canary-77ab"}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.sqlite_only
def test_a_new_store_is_private_to_its_owner(tmp_path):
    settings = settings_for(tmp_path)
    integration.save_token(settings, TOKEN)
    keep_open = sqlite3.connect(settings.db_path)  # while a connection is open, -wal and -shm exist
    try:
        keep_open.execute("SELECT count(*) FROM integration").fetchone()
        files = [settings.db_path, Path(f"{settings.db_path}-wal"), Path(f"{settings.db_path}-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert mode(settings.db_path.parent) == 0o700
    finally:
        keep_open.close()


@pytest.mark.sqlite_only
def test_an_existing_world_readable_store_is_tightened_on_first_open(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    path = folder / "pulse.db"
    old = sqlite3.connect(path)  # what an earlier version left: 0644 files in a 0755 folder
    old.execute("PRAGMA journal_mode = WAL")
    old.execute("CREATE TABLE t (x)")
    old.commit()
    os.chmod(folder, 0o755)
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if name.exists():
            os.chmod(name, 0o644)
    store.forget_migrated(path)
    store.ensure_migrated(path)  # the first open of this process
    old.close()
    assert mode(folder) == 0o700
    assert mode(path) == 0o600
    for name in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if name.exists():
            assert mode(name) == 0o600


@pytest.mark.sqlite_only
def test_a_shared_folder_such_as_tmp_is_left_alone(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    store.migrate(shared / "pulse.db")
    assert mode(shared) == 0o1777, "PULSE_DB=/tmp/pulse.db must not lock others out of /tmp"
    assert mode(shared / "pulse.db") == 0o600


def test_the_generated_key_is_not_in_the_data_folder(tmp_path):
    settings = settings_for(tmp_path)
    integration.save_token(settings, TOKEN)
    assert settings.key_path.is_file() and mode(settings.key_path) == 0o600
    assert settings.data_dir not in settings.key_path.parents
    assert not (settings.data_dir / "secret.key").exists()  # (on PostgreSQL there is no data folder at all)


def test_a_key_beside_the_database_is_moved_out_with_a_log_line(tmp_path, caplog):
    key_file = tmp_path / "config" / "secret.key"
    settings = settings_for(tmp_path, PULSE_KEY_FILE=str(key_file))
    legacy = settings.legacy_key_path
    legacy.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    legacy.write_bytes(key)  # an earlier version's key, which sealed the stored token
    blob = Fernet(key).encrypt(b'{"access_token": "AT-old"}')
    with store.connect(settings.store) as conn:
        conn.execute("INSERT INTO integration (id, token, updated_at) VALUES ('qualtrics', ?, 'x')", (blob,))
    with caplog.at_level(logging.WARNING, logger="journey_pulse"):
        assert integration.load_token(settings) == {"access_token": "AT-old"}
    assert not legacy.exists() and key_file.read_bytes() == key and mode(key_file) == 0o600
    assert any("Moved the token key" in r.getMessage() and str(key_file) in r.getMessage() for r in caplog.records)


def test_a_passphrase_is_stretched_with_salted_scrypt_and_old_tokens_are_re_encrypted(tmp_path, caplog, request):
    passphrase = "correct horse battery staple"
    settings = settings_for(tmp_path, PULSE_SECRET_KEY=passphrase)
    store.ensure_migrated(settings.store)
    # What versions before the migration stored: the token sealed with base64(SHA-256(passphrase)).
    unsalted = base64.urlsafe_b64encode(hashlib.sha256(passphrase.encode()).digest())
    with store.connect(settings.store) as conn:
        conn.execute("INSERT INTO integration (id, token, updated_at) VALUES ('qualtrics', ?, 'x')",
                     (Fernet(unsalted).encrypt(b'{"access_token": "AT-sealed-by-sha256"}'),))
    with caplog.at_level(logging.WARNING, logger="journey_pulse"):
        assert integration.load_token(settings) == {"access_token": "AT-sealed-by-sha256"}
    assert any("Re-encrypted 1 stored secret" in r.getMessage() for r in caplog.records)

    with store.connect(settings.store) as conn:
        salt = base64.b64decode(conn.execute("SELECT value FROM app_meta WHERE key = 'kdf_salt'").fetchone()[0])
        blob = bytes(conn.execute("SELECT token FROM integration").fetchone()[0])
    assert len(salt) == 16
    with pytest.raises(InvalidToken):
        Fernet(unsalted).decrypt(blob)
    # An independent scrypt (hashlib's) with the stored salt opens it: the key is scrypt(passphrase, salt).
    stretched = hashlib.scrypt(passphrase.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32,
                               maxmem=128 * 1024 * 1024)
    assert Fernet(base64.urlsafe_b64encode(stretched)).decrypt(blob) == b'{"access_token":"AT-sealed-by-sha256"}' \
        or b"AT-sealed-by-sha256" in Fernet(base64.urlsafe_b64encode(stretched)).decrypt(blob)
    assert SCRYPT_N >= 2**15
    # Another store gets another salt: the same passphrase does not give the same key twice.
    with engines.own_database(request) as url:
        other = settings_for(tmp_path / "other", PULSE_SECRET_KEY=passphrase,
                             **({"PULSE_DATABASE_URL": url} if url else {}))
        integration.save_token(other, TOKEN)
        with store.connect(other.store) as conn:
            assert base64.b64decode(conn.execute("SELECT value FROM app_meta WHERE key = 'kdf_salt'")
                                    .fetchone()[0]) != salt


def test_a_legacy_key_that_cannot_move_keeps_opening_its_tokens(tmp_path):
    key_file = tmp_path / "config" / "secret.key"
    key_file.parent.mkdir()
    key_file.write_bytes(Fernet.generate_key())  # another deployment of this account already put its key here
    settings = settings_for(tmp_path, PULSE_KEY_FILE=str(key_file))
    legacy = settings.legacy_key_path
    legacy.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    legacy.write_bytes(key)
    with store.connect(settings.store) as conn:
        conn.execute("INSERT INTO integration (id, token, updated_at) VALUES ('qualtrics', ?, 'x')",
                     (Fernet(key).encrypt(b'{"access_token": "AT-legacy"}'),))
    assert integration.load_token(settings) == {"access_token": "AT-legacy"}
    assert legacy.read_bytes() == key, "not overwritten, not moved over the other key"
