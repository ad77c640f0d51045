"""Running a change the user asked for: on success show the new state, on refusal say why; long work
(a sync) shows its progress and can be cancelled."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlit as st

from workspace import runs
from workspace.config import Settings
from workspace.errors import WorkspaceError

if TYPE_CHECKING:  # pages that only show a button need not import the sync engine
    from workspace.sync import SyncResult

#: How long Cancel waits for the stopped sync to record itself (it stops at its next export poll, <= 5 s).
_CANCEL_WAIT_SECONDS = 8.0


def act(change: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Apply `change`; rerun so every widget shows the result, or show the workspace's sentence."""
    try:
        change(*args, **kwargs)
    except WorkspaceError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.rerun()


class SyncProgress:
    """A sync's progress bar that ends in the sync's real state: done, failed at a stage, or cancelled
    (never "Export… 100%" beside a failed sync)."""

    def __init__(self) -> None:
        self._slot = st.empty()
        self._slot.progress(0.0, text="Starting…")
        self.stage, self.fraction = "export", 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if stage == "waiting":
            self._slot.progress(0.0, text="Waiting for another sync of this survey to finish…")
            return
        self.stage, self.fraction = stage, fraction
        self._slot.progress(fraction, text=f"{stage.capitalize()}… {fraction:.0%}")

    def finish(self, result: SyncResult) -> None:
        where = f"during {self.stage} ({self.fraction:.0%})"
        if result.status == "succeeded":
            self._slot.progress(1.0, text=f"Done: {result.responses:,} new responses")
        elif result.status == "cancelled":
            self._slot.warning(f"Sync cancelled {where}.", icon=":material/cancel:")
        elif result.status == "failed":
            self._slot.error(f"Sync failed {where}.", icon=":material/error:")
        else:
            self._slot.empty()


def _cancelled_here(settings: Settings, survey_id: str, by: str | None) -> None:
    # Clicking Cancel reruns this session; Streamlit stops the old run (and with it the sync, at its next
    # progress report, recorded as cancelled) while this new run starts. Ask it by its run row too and wait
    # for it to end, so that what this run shows ("Syncing", the last sync) is already true.
    running = runs.running_run(settings, survey_id)
    if running is not None:
        runs.request_cancel(settings, running.id, by)
        deadline = time.monotonic() + _CANCEL_WAIT_SECONDS
        while runs.running_run(settings, survey_id) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
    st.toast("Sync cancelled: nothing more was stored and the next sync starts from the same point.",
             icon=":material/cancel:")


def _cancel_other(settings: Settings, run_id: int, by: str | None) -> None:
    if runs.request_cancel(settings, run_id, by):
        st.toast("Asked the other sync to stop: it stops at its next export poll, before storing anything.",
                 icon=":material/cancel:")
    else:
        st.toast("That sync had already finished.", icon=":material/info:")


def run_sync(settings: Settings, survey_id: str, start: Callable[[SyncProgress], SyncResult], *, key: str,
             by: str | None = None) -> SyncResult | None:
    """*Sync data* with progress and a Cancel button; None (and a notice saying so, with when it started and
    a Cancel for it) when another sync of this survey is already running in some tab, the scheduler or a
    shell, instead of a bar waiting on "Starting…"."""
    running = runs.running_run(settings, survey_id)
    if running is not None:
        started = running.started_at[11:16]
        st.info(f"Another sync of this survey is running: started at {started} UTC by {running.started_by}, now "
                f"at {running.progress_text}. Its new responses will be here when it finishes.",
                icon=":material/sync:")
        st.button("Cancel that sync", key=f"{key}_cancel_other", icon=":material/cancel:",
                  on_click=_cancel_other, args=(settings, running.id, by))
        return None
    st.button("Cancel sync", key=f"{key}_cancel", icon=":material/cancel:", on_click=_cancelled_here,
              args=(settings, survey_id, by))
    report = SyncProgress()
    result = start(report)
    report.finish(result)
    return result
