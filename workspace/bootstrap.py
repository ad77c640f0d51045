"""One runtime per server process: settings, the database, the embedded sandbox, the background worker.

Streamlit runs every session's script in its own thread and reruns it on every click, so the
things that must exist once per process (a sandbox on its port, the worker's threads) are made
here, behind a lock, the first time anybody asks: the app's lifespan hook, the OAuth callback
route, or a page script under AppTest, which has no lifespan at all.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workspace import integration, metrics
from workspace.config import Settings
from workspace.store import ensure_migrated
from workspace.worker import ensure_worker, log_to_stderr, stop_workers

if TYPE_CHECKING:  # the sandbox (its server and data generator) is imported only where it is started
    from qualtrics.sandbox import Sandbox

# The embedded sandbox's data depend only on the seed and today's date, so a demo looks the same
# on every machine; PULSE_SANDBOX_LIVE=0 stops it adding responses (tests want fixed numbers).
# PULSE_SANDBOX_DEFINITIONS=DIR adds every QSF file of DIR as a survey (python -m qualtrics.sandbox --definitions).
SANDBOX_SEED = 7
log = logging.getLogger("journey_pulse")


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sandbox: Sandbox | None


_lock = threading.Lock()
_runtime: Runtime | None = None


def runtime() -> Runtime:
    """The process's runtime, started on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = _start(Settings.load())
        return _runtime


def embedded_sandbox(live: bool, redirect_uri: str, definitions: str) -> Sandbox:
    """The embedded sandbox, with the QSF files of ``definitions`` as surveys when set. A folder that does not
    exist, or a file that cannot be read, is logged with its name; the demo surveys work regardless."""
    from qualtrics.sandbox import Sandbox

    try:
        sandbox = Sandbox(seed=SANDBOX_SEED, live=live, redirect_uris=(redirect_uri,), definitions=definitions or None)
    except FileNotFoundError as exc:
        log.error("PULSE_SANDBOX_DEFINITIONS: %s The sandbox starts with its demo surveys only.", exc)
        return Sandbox(seed=SANDBOX_SEED, live=live, redirect_uris=(redirect_uri,))
    for problem in sandbox.definition_problems:
        log.error("PULSE_SANDBOX_DEFINITIONS: skipped %s", problem)
    for survey in sandbox.imported:
        log.info("PULSE_SANDBOX_DEFINITIONS: survey %s %r loaded", survey.id, survey.name)
    return sandbox


def _start(settings: Settings) -> Runtime:
    log_to_stderr()
    sandbox = None
    if settings.uses_sandbox:
        live = os.environ.get("PULSE_SANDBOX_LIVE", "1").strip() not in ("0", "false", "no")
        definitions = os.environ.get("PULSE_SANDBOX_DEFINITIONS", "").strip()
        sandbox = embedded_sandbox(live, settings.redirect_uri, definitions)
        sandbox.start(port=0)
        reason = settings.sandbox_reason
        settings = settings.with_sandbox(sandbox.base_url, sandbox.client_id, sandbox.client_secret)
        log.warning("Qualtrics: the embedded sandbox with FAKE demo responses (%s); set QUALTRICS_BASE_URL and "
                    "credentials to use your Qualtrics.", reason)
    else:
        log.info("Qualtrics: %s (%s).", settings.qualtrics_base_url,
                 "API token" if settings.api_token else "OAuth client, authorized under Settings > Integrations")
    ensure_migrated(settings.store)
    if sandbox is not None:  # so that `python -m qualtrics`/`python -m workspace` in another shell reach it
        integration.record_sandbox(settings, sandbox.base_url, settings.client_id or sandbox.client_id,
                                   settings.client_secret or sandbox.client_secret)
    integration.cipher(settings)  # moves a legacy key file, re-encrypts passphrase-sealed secrets: now, once
    metrics.shorten_default_titles(settings)
    # The embedded default: this process runs the scheduled syncs, Live and mining itself. With
    # PULSE_WORKER=external, `python -m workspace worker` processes do, and this server only serves pages.
    # Live's thread starts with the first screen (live.watch), under the settings of the page that asked.
    if ensure_worker(settings, ["sync", "mining"]) is None:
        log.info("Background work: external (PULSE_WORKER=external); run `python -m workspace worker` beside the app.")
    return Runtime(settings=settings, sandbox=sandbox)


def shutdown() -> None:
    """Stop what `runtime()` started (the server is going down)."""
    global _runtime
    with _lock:
        if _runtime is None:
            return
        stop_workers()  # Live's feeds remove their Qualtrics subscriptions while the sandbox still answers
        if _runtime.sandbox is not None:
            try:
                integration.forget_sandbox(_runtime.settings)
            except Exception as exc:  # noqa: BLE001 - a full disk or a database gone must not stop the shutdown
                log.warning("could not forget the embedded sandbox in the store: %s", exc)
            _runtime.sandbox.stop()
        _runtime = None
