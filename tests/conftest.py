"""Shared test setup: the repo root on sys.path and the sandbox fixtures for every test."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytest_plugins = ["tests.sandbox_fixtures", "tests.engines"]

# The generated token key lives in the user's config folder by default (workspace/crypto.py); tests must not
# write to the real one, so every test process (and the apps it starts) gets a throwaway config folder.
import os  # noqa: E402
import tempfile  # noqa: E402

os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="pulse-tests-config-")

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _no_background_work_outlives_its_test() -> Iterator[None]:
    """Stop the background threads a test started in this process (a Live view or a page starts them on
    demand). Left running, they keep polling the session's sandbox and writing to their store, so a later
    test sees requests it did not make ("the next request is dropped" is taken by a feed) or a store
    opened where none may be."""
    yield
    from workspace.worker import stop_workers
    stop_workers()
