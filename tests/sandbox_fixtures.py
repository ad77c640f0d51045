"""Pytest fixtures for the Qualtrics sandbox, loaded for every test by tests/conftest.py.

- ``sandbox``: one server for the whole session, default demo data; faults are reset after each test.
- ``fresh_sandbox``: a server of its own for one test (fault tests, live responses, OAuth state).
- ``sandbox_server_process``: runs ``python -m qualtrics.sandbox`` as a subprocess (multi-process tests) and
  yields its environment (the four printed KEY=value lines).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from qualtrics.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
# ../shared holds the real Qualtrics files (CI has it, a user's clone does not): tests that read it skip without it.
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"
REAL_FIXTURES = SHARED_FIXTURES / "qualtrics-real"
_ABSENT = "needs ../shared/fixtures (real Qualtrics files, absent from a plain clone)"

needs_shared = pytest.mark.skipif(not SHARED_FIXTURES.is_dir(), reason=_ABSENT)
"""Mark for a test that reads ../shared through a module-level path: skipped, with the reason, without it."""


def shared_fixture(relative: str) -> Path:
    """The path of ``../shared/fixtures/<relative>``; skips the calling test (one-line reason) when it is absent.
    Call it inside a test or fixture, never at import time, so a plain clone still collects."""
    path = SHARED_FIXTURES / relative
    if not path.exists():
        pytest.skip(f"{_ABSENT}: {relative}")
    return path


def api_session(sb: Sandbox) -> requests.Session:
    """A requests session authenticated with the sandbox's API token (X-API-TOKEN)."""
    session = requests.Session()
    session.headers["X-API-TOKEN"] = sb.api_token
    return session


def run_export(session: requests.Session, base_url: str, survey_id: str, body: dict,
               timeout: float = 60.0) -> tuple[dict, requests.Response]:
    """Start an export, poll it to the end, download the file: (last progress result, file response).
    The file response is None when the job failed."""
    url = f"{base_url}/API/v3/surveys/{survey_id}/export-responses"
    started = session.post(url, json=body, timeout=timeout)
    started.raise_for_status()
    progress_id = started.json()["result"]["progressId"]
    deadline = time.monotonic() + timeout
    while True:
        result = session.get(f"{url}/{progress_id}", timeout=timeout).json()["result"]
        if result["status"] != "inProgress":
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"export {progress_id} still running after {timeout} s")
        time.sleep(0.02)
    if result["status"] != "complete":
        return result, None
    return result, session.get(f"{url}/{result['fileId']}/file", timeout=timeout)


@pytest.fixture(scope="session")
def _session_sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(seed=7)
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture
def sandbox(_session_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The session's sandbox (session scope underneath), with its faults reset after the test."""
    yield _session_sandbox
    _session_sandbox.reset_faults()


@pytest.fixture
def fresh_sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(seed=7)
    sb.start()
    yield sb
    sb.stop()


class SandboxProcess(dict):
    """A running ``python -m qualtrics.sandbox``: a dict of its four printed settings (plus "_PID"), with the
    process itself on ``.process``."""

    def __init__(self, printed: dict[str, str], process: subprocess.Popen) -> None:
        super().__init__(printed, _PID=str(process.pid))
        self.process = process

    @property
    def env(self) -> dict[str, str]:
        """The four settings only, ready to merge into a subprocess environment."""
        return {k: v for k, v in self.items() if not k.startswith("_")}

    @property
    def base_url(self) -> str:
        return self["QUALTRICS_BASE_URL"]


@contextmanager
def run_sandbox_process(*args: str, env: dict[str, str] | None = None,
                        timeout: float = 20.0) -> Iterator[SandboxProcess]:
    """Start the CLI, read its four KEY=value lines; SIGTERM it on exit (kill if it does not stop)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "qualtrics.sandbox", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    printed: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        while len(printed) < 4:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"sandbox exited early: {proc.stderr.read() if proc.stderr else ''}")
            key, _, value = line.rstrip("\n").partition("=")
            printed[key] = value
        yield SandboxProcess(printed, proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


@pytest.fixture
def sandbox_server_process():
    """A factory: ``with sandbox_server_process("--seed", "3") as server: server.env, server.base_url``."""
    return run_sandbox_process


class _FormReader(HTMLParser):
    """What a browser sees of the consent page: the form's action and its fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action") or ""
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""
        elif tag == "button" and a.get("name"):
            self.buttons[a.get("value") or ""] = a["name"]


def approve_in_browser(authorization_url: str, decision: str = "approve") -> dict[str, str]:
    """GET the consent page, submit its form by pressing a button, return the callback's query parameters."""
    browser = requests.Session()
    page = browser.get(authorization_url, timeout=10)
    assert page.status_code == 200, page.text
    form = _FormReader()
    form.feed(page.text)
    assert decision in form.buttons, f"no {decision} button on the consent page"
    data = {**form.fields, form.buttons[decision]: decision}
    answer = browser.post(urljoin(authorization_url, form.action), data=data, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text
    location = answer.headers["Location"]
    redirect_uri = parse_qs(urlsplit(authorization_url).query)["redirect_uri"][-1]
    assert location.startswith(redirect_uri), "the browser must be sent back to the registered redirect URI"
    return {k: v[-1] for k, v in parse_qs(urlsplit(location).query).items()}


def wait_until(check, timeout: float = 20.0, what: str = "condition"):
    """Poll ``check`` until it returns something truthy (returned), or fail naming ``what`` after ``timeout`` s:
    for work that lands in another thread or process (a sync, a pushed response)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
