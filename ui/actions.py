"""Running a change the user asked for: on success show the new state, on refusal say why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from workspace.errors import WorkspaceError


def act(change: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Apply `change`; rerun so every widget shows the result, or show the workspace's sentence."""
    try:
        change(*args, **kwargs)
    except WorkspaceError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.rerun()


def progress_bar() -> Callable[[str, float], None]:
    """A progress bar and the callback that moves it through a sync's stages."""
    bar = st.progress(0.0, text="Starting…")

    def report(stage: str, fraction: float) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=f"{stage.capitalize()}… {fraction:.0%}")

    return report
