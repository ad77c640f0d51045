"""Start the real app (`streamlit run app.py`) on a free port, for browser tests and screenshots.

The server's output goes to a log file: a PIPE that nobody reads fills up and stalls the server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(process: subprocess.Popen, health_url: str, timeout: float) -> bool:
    """Wait until ``health_url`` answers 200 (True), or the process exits or ``timeout`` s pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(health_url, timeout=1).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.1)
    return False


def stop_process(process: subprocess.Popen | None) -> None:
    """Terminate a process this code started, killing it when it does not end within 10 s."""
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class AppServer:
    """A running app with its own data folder; `env` adds to (or overrides) the clean environment.

    The store is the SQLite file in ``data_dir``, or the PostgreSQL database that ``PULSE_DATABASE_URL``
    names (in ``env``, else in this process's environment: a test run with ``--engine postgresql`` gives
    each test one); every other PULSE_* and QUALTRICS_* setting of this process is left out."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "streamlit.log"
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("QUALTRICS_", "PULSE_"))}
        database = {"PULSE_DATABASE_URL": os.environ["PULSE_DATABASE_URL"]} if os.environ.get(
            "PULSE_DATABASE_URL") else {}
        self.env = {**clean, **database, "PULSE_DB": str(data_dir / "pulse.db"), "PULSE_URL": self.url,
                    "PULSE_SYNC_INTERVAL": "3600", "PULSE_SANDBOX_LIVE": "0", **(env or {})}
        self.process: subprocess.Popen | None = None

    @property
    def database_url(self) -> str | None:
        """The app's PostgreSQL database, None when its store is the SQLite file ``env["PULSE_DB"]``."""
        return self.env.get("PULSE_DATABASE_URL") or None

    def start(self, timeout: float = 60) -> "AppServer":
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
                 "--server.address", "127.0.0.1", "--server.headless", "true"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        if wait_healthy(self.process, f"{self.url}/api/health", timeout):
            return self
        if self.process.poll() is not None:
            raise RuntimeError(f"the app exited with {self.process.returncode}:\n{self.log_tail()}")
        self.stop()
        raise RuntimeError(f"the app was not healthy after {timeout} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text()[-chars:] if self.log.exists() else ""

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
