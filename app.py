"""Journey Pulse: the app that `streamlit run app.py` serves.

Streamlit's `st.App` wraps the page script (ui/navigation.py) in an ASGI app so that plain HTTP
routes can live beside it. The OAuth callback is one: Qualtrics redirects the browser here, the
code is exchanged on the server and the browser lands on the Integrations page with only an
outcome flag in its URL, never the code (see ../shared/streamlit-notes.md §2 for why a page
callback is worse: the redirect opens a new Streamlit session anyway).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from workspace import bootstrap, datahub
from workspace.config import ConfigError
from workspace.connection import complete_authorization

CALLBACK_PATH = "/api/qualtrics/callback"
log = logging.getLogger("journey_pulse")


async def qualtrics_callback(request: Request) -> RedirectResponse:
    """Finish the OAuth dance Qualtrics sent the browser back from, then show the outcome."""
    runtime = await run_in_threadpool(bootstrap.runtime)
    params = request.query_params
    outcome = await run_in_threadpool(
        complete_authorization,
        runtime.settings,
        state=params.get("state"),
        code=params.get("code"),
        error=params.get("error"),
    )
    # 303: the browser must GET the page, and the spent code must not stay in its history.
    return RedirectResponse(f"/integrations?oauth={outcome.value}", status_code=303)


async def datahub_push(request: Request) -> JSONResponse:
    """Receive one response a Qualtrics Workflow's Web Service task pushes to the Data Hub."""
    body = await _body_up_to(request, datahub.MAX_BODY_BYTES)
    runtime = await run_in_threadpool(bootstrap.runtime)
    receipt = await run_in_threadpool(datahub.receive, runtime.settings, body=body,
                                      content_type=request.headers.get("content-type", ""), headers=request.headers)
    return JSONResponse(receipt.body, status_code=receipt.status_code)


async def _body_up_to(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it exceeds ``limit`` bytes (never buffers more than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def health(_: Request) -> JSONResponse:
    runtime = await run_in_threadpool(bootstrap.runtime)
    return JSONResponse({"status": "ok", "qualtrics": runtime.settings.qualtrics_label})


@asynccontextmanager
async def lifespan(_: st.App) -> AsyncIterator[None]:
    # Start the database, the embedded sandbox (when no Qualtrics is configured) and the
    # scheduler with the server, not with the first visitor. A configuration mistake is told in
    # one line here and on every page, where it can be read and fixed.
    try:
        await run_in_threadpool(bootstrap.runtime)
    except ConfigError as exc:
        log.error("Journey Pulse cannot start: %s", exc)
    yield
    bootstrap.shutdown()


def show_error_instead_of_traceback(exc: Exception) -> bool:
    """People see what went wrong and what to do; the traceback goes to the server log only."""
    if isinstance(exc, ConfigError):
        st.error(f"Journey Pulse is not configured correctly: {exc} Fix the setting (environment or "
                 ".streamlit/secrets.toml) and restart the app.", icon=":material/settings:")
        return True
    log.error("page failed", exc_info=exc)
    st.error(f"Something went wrong: {exc} Reload the page to try again; if it keeps happening, the server "
             "log has the details.", icon=":material/error:")
    return True


app = st.App(
    "ui/navigation.py",
    routes=[Route(CALLBACK_PATH, qualtrics_callback), Route("/api/health", health),
            Route(datahub.ENDPOINT_PATH, datahub_push, methods=["POST"])],
    lifespan=lifespan,
    on_script_error=show_error_instead_of_traceback,
)
