"""Journey Pulse: the app that `streamlit run app.py` serves.

Streamlit's `st.App` wraps the page script (ui/navigation.py) in an ASGI app so that plain HTTP
routes can live beside it. The OAuth callback is one: Qualtrics redirects the browser here, the
code is exchanged on the server and the browser lands on the Integrations page with only an
outcome flag in its URL, never the code (see ../shared/streamlit-notes.md §2 for why a page
callback is worse: the redirect opens a new Streamlit session anyway).

Every response carries ``X-Frame-Options: DENY`` and ``frame-ancestors 'none'`` (no clickjacking of the
manager's buttons) and, once per browser, the HttpOnly ``pulse_browser`` cookie that an OAuth attempt is
bound to: the start route claims the attempt for the browser that opens it, the callback completes only
there. Without access control the app refuses to start where other machines can reach it
(:func:`workspace.config.exposure_problem`).
"""

from __future__ import annotations

import logging
import os
import secrets
from contextlib import asynccontextmanager
from typing import AsyncIterator
from urllib.parse import parse_qs

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ui.frame import login_configured, secret_section
from workspace import bootstrap, live
from workspace.datahub import endpoint as datahub
from workspace.config import ConfigError, exposure_problem
from workspace.connection import START_PATH, claim_authorization, complete_authorization
from workspace.store import store_health
from workspace.live.push import EVENTS_PATH
from workspace.people import role_lists
from workspace.worker import background_work

CALLBACK_PATH = "/api/qualtrics/callback"
BROWSER_COOKIE = "pulse_browser"
FRAME_HEADERS = ((b"x-frame-options", b"DENY"), (b"content-security-policy", b"frame-ancestors 'none'"))
log = logging.getLogger("journey_pulse")
if not log.handlers:  # Streamlit configures only its own loggers; ours must reach the server log at INFO
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s journey_pulse: %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False


class SecurityHeaders:
    """ASGI middleware: frame-denial headers on every HTTP response, and the browser cookie when missing.

    A new cookie value is also put in ``scope["state"]`` so that a route answering the very first request
    of a browser (the OAuth start route) binds to the value this response sets.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        new_cookie = None
        if BROWSER_COOKIE not in Request(scope).cookies:
            new_cookie = secrets.token_urlsafe(32)
            scope.setdefault("state", {})[BROWSER_COOKIE] = new_cookie
        secure = scope.get("scheme") == "https" or Request(scope).headers.get("x-forwarded-proto") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Any policy already set stays: browsers enforce every CSP header, so ours only adds.
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-frame-options"]
                headers.extend(FRAME_HEADERS)
                if new_cookie is not None:
                    cookie = f"{BROWSER_COOKIE}={new_cookie}; Path=/; HttpOnly; SameSite=Lax"
                    headers.append((b"set-cookie", (cookie + ("; Secure" if secure else "")).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def browser_of(request: Request) -> str | None:
    """The requesting browser's cookie (or the one this response is setting)."""
    return request.cookies.get(BROWSER_COOKIE) or request.scope.get("state", {}).get(BROWSER_COOKIE)


async def qualtrics_authorize(request: Request) -> RedirectResponse:
    """Bind an OAuth attempt to the browser that opens this link, then send it to Qualtrics' consent page."""
    runtime = await run_in_threadpool(bootstrap.runtime)
    browser = browser_of(request)
    consent = await run_in_threadpool(claim_authorization, runtime.settings, request.query_params.get("state"),
                                      browser or "")
    if consent is None:
        return RedirectResponse("/integrations?oauth=invalid-state", status_code=303)
    return RedirectResponse(consent, status_code=303, headers={"Cache-Control": "no-store"})


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
        browser=request.cookies.get(BROWSER_COOKIE),
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


MAX_PUBLICATION_BYTES = 16 * 1024
MAX_FORM_BYTES = 256 * 1024


async def qualtrics_event(request: Request) -> JSONResponse:
    """A Qualtrics event-subscription publication (form-encoded): answered at once; the response it names is
    fetched and stored by a worker thread afterwards."""
    body = await _body_up_to(request, MAX_PUBLICATION_BYTES)
    if body is None:
        return JSONResponse({"error": "publication too large"}, status_code=413)
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    runtime = await run_in_threadpool(bootstrap.runtime)
    receipt = await run_in_threadpool(live.receive, runtime.settings, form, request.query_params.get("token"))
    return JSONResponse(receipt.body, status_code=receipt.status_code)


async def survey_form(request: Request) -> Response:
    """The embedded sandbox's survey link under the app's own URL (the sandbox listens on loopback only)."""
    body = await _body_up_to(request, MAX_FORM_BYTES)
    if body is None:
        return Response("Answer too long.", status_code=413, media_type="text/plain")
    runtime = await run_in_threadpool(bootstrap.runtime)
    relayed = await run_in_threadpool(live.relay_survey_form, runtime.settings, request.method, request.url.path,
                                      request.url.query, body, request.headers.get("content-type", ""))
    return Response(relayed.body, status_code=relayed.status_code, headers=relayed.headers)


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
    """Is the store reachable and writable with disk space left (503 when not). Nothing about Qualtrics,
    ports or the sandbox: this route answers anyone."""
    try:
        runtime = await run_in_threadpool(bootstrap.runtime)
        role_lists(secret_section("roles"))
    except ConfigError as exc:
        return JSONResponse({"status": "error", "problem": str(exc)}, status_code=503)
    database = await run_in_threadpool(store_health, runtime.settings.store)
    ok = bool(database.pop("ok"))
    # Where syncs, Live refreshes and mining run: in this process, or in `python -m workspace worker` processes.
    return JSONResponse({"status": "ok" if ok else "error", "database": database,
                         "background_work": background_work(runtime.settings)}, status_code=200 if ok else 503)


@asynccontextmanager
async def lifespan(_: st.App) -> AsyncIterator[None]:
    # Start the database, the embedded sandbox (when no Qualtrics is configured) and the
    # scheduler with the server, not with the first visitor. A configuration mistake is told in
    # one line here and on every page, where it can be read and fixed.
    try:
        runtime = await run_in_threadpool(bootstrap.runtime)
        role_lists(secret_section("roles"))
    except ConfigError as exc:
        log.error("Journey Pulse cannot start: %s", exc)
    else:
        problem = exposure_problem(runtime.settings, st.config.get_option("server.address"), login_configured())
        if problem:
            log.error("Journey Pulse refuses to start: %s", problem)
            bootstrap.shutdown()
            for handler in log.handlers:
                handler.flush()
            # Not SystemExit: Starlette would print its traceback under the one line that matters.
            os._exit(2)
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


ROUTES = [Route(START_PATH, qualtrics_authorize), Route(CALLBACK_PATH, qualtrics_callback),
          Route("/api/health", health), Route(datahub.ENDPOINT_PATH, datahub_push, methods=["POST"]),
          Route(EVENTS_PATH, qualtrics_event, methods=["POST"]),
          Route("/jfe/form/{survey_id}", survey_form, methods=["GET", "POST"]),
          Route("/jfe/form/{survey_id}/thanks", survey_form, methods=["GET"])]
MIDDLEWARE = [Middleware(SecurityHeaders)]

app = st.App(
    "ui/navigation.py",
    routes=ROUTES,
    middleware=MIDDLEWARE,
    lifespan=lifespan,
    on_script_error=show_error_instead_of_traceback,
)
