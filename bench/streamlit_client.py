"""One Streamlit session at the websocket level: what a browser tab says to `streamlit run` and what it hears
back, without the browser.

A headless Chromium context costs a core's worth of CPU on this machine, so a few dozen of them measure the
browsers, not the server. This client speaks Streamlit 1.67's own protocol instead, so that one process can
hold many sessions and the server sees exactly what it sees from browsers:

- a plain GET of the page first, as a browser's first request (the app sets its ``pulse_browser`` cookie
  there, which a sticky proxy routes on), then the websocket ``/_stcore/stream`` with subprotocol
  ``streamlit`` and that cookie;
- ``BackMsg.rerun_script`` with a ``ClientState`` as the frontend's ``sendRerunBackMsg`` builds it: the
  query string, on the first run the page's URL path as ``page_name`` with no ``page_script_hash``, later the
  hash the server named in ``new_session``; ``fragment_id`` + ``is_auto_rerun`` for a fragment's refresh;
- every run, full or fragment, opens with a ``new_session`` message and ends with ``script_finished``, both
  carrying the run's id (``metadata.run``), which is how a rerun's latency is matched to its request;
- ``auto_rerun`` (a fragment with ``run_every``) asks the browser to send that fragment's rerun every
  ``interval`` seconds; like the frontend's ``setInterval`` the client sends it on the clock, whether the last
  one finished or not (:meth:`Session.follow_auto_reruns`).

Deltas are kept by their ``delta_path`` the way the frontend keeps its element tree, and the elements a
finished run did not write are dropped (the frontend's stale-element cleanup), so :meth:`Session.texts` and
:meth:`Session.component_data` read what a screen would show. No cached-message hashes are ever sent, so the
server never answers with a bare reference (``ref_hash``) to a message the client would have to remember.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

STREAM_PATH = "/_stcore/stream"
SUBPROTOCOL = "streamlit"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a page with charts and QR images sends messages of a few MB at most
FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY: "finished", ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile error",
            ForwardMsg.FINISHED_EARLY_FOR_RERUN: "stopped for a rerun",
            ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment finished"}


def run_sessions(scenario: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run(scenario)``, also where this thread already runs an event loop: Playwright's sync API keeps
    one running in the main thread for as long as a browser is open (a test run with the browser tests), and
    ``asyncio.run`` refuses to start a second there, so the scenario then runs on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(scenario)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sessions") as pool:
        return pool.submit(asyncio.run, scenario).result()


class SessionError(RuntimeError):
    """The server closed the session, a wait ran out, or the page showed an error."""


@dataclass
class Run:
    """One script run: the whole page or some fragments. Times are ``time.monotonic()`` of this process."""

    run_id: str
    fragment_ids: tuple[str, ...]
    started: float
    finished: float | None = None
    status: str = ""
    requested: float | None = None  # when the rerun that started it was sent (set by Session.rerun)

    @property
    def latency(self) -> float:
        """Seconds from the rerun request (or, without one, the run's start) to its end."""
        if self.finished is None:
            return float("inf")
        return self.finished - (self.requested if self.requested is not None else self.started)

    @property
    def is_fragment(self) -> bool:
        return bool(self.fragment_ids)


@dataclass
class Shown:
    """An element on the page: its kind (the ``Element`` oneof), the text a person reads, and when it came."""

    kind: str
    text: str
    fragment_id: str
    run_id: str
    at: float
    element: Element = field(repr=False)


def element_text(element: Element) -> str:
    """The text an element shows (a component's data as its JSON); empty for charts, images and the like."""
    kind = element.WhichOneof("type")
    if kind in ("markdown", "text", "heading", "html", "code"):
        return getattr(element, kind).body
    if kind == "alert":
        return element.alert.body
    if kind == "metric":
        return f"{element.metric.label}: {element.metric.body}"
    if kind == "exception":
        return f"{element.exception.type}: {element.exception.message}"
    if kind == "bidi_component":
        return element.bidi_component.json
    if kind == "selectbox":  # what the closed box shows: its label and the chosen option
        box = element.selectbox
        chosen = box.raw_value if box.set_value else (box.options[box.default] if box.HasField("default")
                                                      and box.default < len(box.options) else "")
        return f"{box.label}: {chosen}"
    if kind in ("button", "link_button", "download_button", "page_link", "checkbox", "number_input",
                "text_input", "radio", "slider", "multiselect"):
        return getattr(element, kind).label
    return ""


def _error_of(element: Element) -> str | None:
    kind = element.WhichOneof("type")
    if kind == "exception":
        return element_text(element)
    if kind == "alert" and element.alert.format == element.alert.ERROR:
        return element.alert.body
    return None


class Session:
    """A browser tab on ``base_url + path + ?query``, at the websocket level; use as ``async with``.

    ``on_element(session, path, shown)`` is called for every element delta as it arrives (in the event loop),
    for measurements that need the arrival time of a figure rather than the end of the run.
    """

    def __init__(self, base_url: str, path: str = "/", query: str = "", *,
                 on_element: Callable[["Session", tuple[int, ...], Shown], None] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.path = "/" + path.lstrip("/")
        self.query = query.lstrip("?")
        self.on_element = on_element
        self.session_id = ""
        self.page_script_hash = ""
        self.cookies: dict[str, str] = {}
        self.elements: dict[tuple[int, ...], Shown] = {}
        self.runs: list[Run] = []
        self.errors: list[str] = []
        self.auto_reruns: dict[str, float] = {}  # fragment id -> interval, as the server asked
        self.closed_reason: str | None = None
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._timers: dict[str, asyncio.Task] = {}
        self._following = False
        self._changed = asyncio.Event()
        self._runs_by_id: dict[str, Run] = {}

    # -- connection ------------------------------------------------------------------------------------------

    async def open(self, timeout: float = 60.0) -> Run:
        """Load the page as a browser does and wait for its first run to finish; returns that run."""
        deadline = time.monotonic() + timeout
        page = await asyncio.to_thread(requests.get, f"{self.base_url}{self.path}" + (f"?{self.query}" if self.query
                                       else ""), timeout=max(1.0, timeout))
        if page.status_code != 200:
            raise SessionError(f"GET {self.path} answered {page.status_code}")
        self.cookies = dict(page.cookies)
        split = urlsplit(self.base_url)
        scheme = "wss" if split.scheme == "https" else "ws"
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        self._ws = await asyncio.wait_for(
            connect(f"{scheme}://{split.netloc}{split.path.rstrip('/')}{STREAM_PATH}", subprotocols=[SUBPROTOCOL],
                    additional_headers=headers, max_size=MAX_MESSAGE_BYTES, open_timeout=None,
                    # A browser sends no pings (it answers the server's): a busy server must not lose a session
                    # to the client's own keepalive timeout.
                    ping_interval=None),
            timeout=max(0.1, deadline - time.monotonic()))
        self._reader = asyncio.create_task(self._read(), name=f"streamlit-session-{self.path}")
        return await self.rerun(timeout=max(0.1, deadline - time.monotonic()))

    async def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, timeout=5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._reader.cancel()
        self._ws = None

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # -- what the browser sends ------------------------------------------------------------------------------

    def _client_state(self, fragment_id: str, is_auto_rerun: bool) -> ClientState:
        state = ClientState(query_string=self.query, fragment_id=fragment_id, is_auto_rerun=is_auto_rerun)
        if self.page_script_hash:
            state.page_script_hash = self.page_script_hash
        else:  # the first run names the page by its URL path, as the frontend does before it knows the hash
            state.page_name = self.path.strip("/")
        state.context_info.timezone = "UTC"
        state.context_info.timezone_offset = 0
        state.context_info.locale = "en-US"
        state.context_info.url = f"{self.base_url}{self.path}" + (f"?{self.query}" if self.query else "")
        state.context_info.color_scheme = "light"
        # No widget states: every widget takes its default, as in a tab just opened (the pages measured
        # here are driven by their URL); no cached message hashes, so the server sends every message whole.
        state.widget_states.SetInParent()
        return state

    async def send_rerun(self, fragment_id: str = "", is_auto_rerun: bool = False) -> float:
        """Send a rerun request; returns the monotonic time it was sent."""
        if self._ws is None or self.closed_reason is not None:
            raise SessionError(f"session is closed: {self.closed_reason}")
        message = BackMsg(rerun_script=self._client_state(fragment_id, is_auto_rerun))
        sent = time.monotonic()
        try:
            await self._ws.send(message.SerializeToString())
        except ConnectionClosed as exc:
            raise SessionError(f"session is closed: {exc}") from exc
        return sent

    async def rerun(self, fragment_id: str = "", timeout: float = 60.0) -> Run:
        """Rerun the page (or one fragment) as a click would, and wait for that run to finish.

        The run that answers is the first one that starts after the request and is of the same kind (the whole
        page, or one that includes the fragment); a run of the page that is stopped for a newer rerun counts
        as answered too, with its status saying so."""
        sent = await self.send_rerun(fragment_id)
        deadline = sent + timeout
        while True:
            for run in self.runs:
                same_kind = fragment_id in run.fragment_ids if fragment_id else not run.is_fragment
                if run.started >= sent and same_kind and run.finished is not None:
                    if self.errors:
                        raise SessionError(f"the page showed an error: {self.errors[-1]}")
                    run.requested = sent
                    return run
            await self._wait_change(deadline, f"the rerun of {self.path}?{self.query} to finish")

    async def wait_for(self, check: Callable[["Session"], Any], timeout: float, what: str) -> Any:
        """Wait until ``check(self)`` is truthy (after each message), bounded by ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not (value := check(self)):
            await self._wait_change(deadline, what)
        return value

    async def _wait_change(self, deadline: float, what: str) -> None:
        if self.closed_reason is not None:
            raise SessionError(f"session closed while waiting for {what}: {self.closed_reason}")
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), timeout=max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            raise SessionError(f"timed out waiting for {what}") from None

    def follow_auto_reruns(self) -> None:
        """Drive every ``run_every`` fragment as the browser does: its rerun on a fixed clock, from now on."""
        self._following = True
        for fragment_id, interval in self.auto_reruns.items():
            self._start_timer(fragment_id, interval)

    def _start_timer(self, fragment_id: str, interval: float) -> None:
        old = self._timers.pop(fragment_id, None)
        if old is not None:
            old.cancel()

        async def tick() -> None:
            next_at = time.monotonic() + interval
            while self.closed_reason is None:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
                try:
                    await self.send_rerun(fragment_id, is_auto_rerun=True)
                except Exception:  # the connection went away: the reader records why
                    return

        self._timers[fragment_id] = asyncio.create_task(tick(), name=f"auto-rerun-{fragment_id}")

    # -- what the server sends -------------------------------------------------------------------------------

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for data in self._ws:
                message = ForwardMsg()
                message.ParseFromString(data)
                self._handle(message, time.monotonic())
                self._changed.set()
        except Exception as exc:  # noqa: BLE001 - any end of the stream ends the session; say which
            self.closed_reason = f"{type(exc).__name__}: {exc}"
        else:
            self.closed_reason = "the server closed the connection"
        finally:
            if self.closed_reason is None:
                self.closed_reason = "closed"
            self._changed.set()

    def _handle(self, message: ForwardMsg, now: float) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            new = message.new_session
            if new.initialize.session_id:
                self.session_id = new.initialize.session_id
            if new.page_script_hash:
                self.page_script_hash = new.page_script_hash
            run = Run(message.metadata.run.script_run_id, tuple(message.metadata.run.fragment_ids), now)
            self.runs.append(run)
            self._runs_by_id[run.run_id] = run
            self.runs[:] = self.runs[-500:]  # a long-lived wall keeps only its recent runs
        elif kind == "script_finished":
            run = self._runs_by_id.pop(message.metadata.run.script_run_id, None)
            if run is None and self.runs and self.runs[-1].finished is None:
                run = self.runs[-1]  # a finish without run identity ends the run in progress
            if run is not None:
                run.finished, run.status = now, FINISHED.get(message.script_finished, str(message.script_finished))
                if message.script_finished in (ForwardMsg.FINISHED_SUCCESSFULLY,
                                               ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
                    self._drop_stale(run)
        elif kind == "navigation" and message.navigation.page_script_hash:
            self.page_script_hash = message.navigation.page_script_hash
        elif kind == "page_not_found":
            self.errors.append(f"page not found: {message.page_not_found.page_name or self.path}")
        elif kind == "auto_rerun":
            interval, fragment_id = message.auto_rerun.interval, message.auto_rerun.fragment_id
            if fragment_id and self.auto_reruns.get(fragment_id) != interval:
                self.auto_reruns[fragment_id] = interval
                if self._following:
                    self._start_timer(fragment_id, interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in message.stop_auto_rerun.fragment_ids:
                self.auto_reruns.pop(fragment_id, None)
                timer = self._timers.pop(fragment_id, None)
                if timer is not None:
                    timer.cancel()
        elif kind == "session_event" and message.session_event.HasField("script_compilation_exception"):
            self.errors.append(f"script error: {message.session_event.script_compilation_exception.message}")
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            run_id = self.runs[-1].run_id if self.runs else ""
            shown = Shown(element.WhichOneof("type") or "", element_text(element), message.delta.fragment_id,
                          run_id, now, element)
            path = tuple(message.metadata.delta_path)
            self.elements[path] = shown
            error = _error_of(element)
            if error is not None:
                self.errors.append(error)
            if self.on_element is not None:
                self.on_element(self, path, shown)

    def _drop_stale(self, run: Run) -> None:
        """What the frontend does when a run ends: elements that run did not write (in its scope) go away."""
        for path, shown in list(self.elements.items()):
            in_scope = shown.fragment_id in run.fragment_ids if run.is_fragment else True
            if in_scope and shown.run_id != run.run_id:
                del self.elements[path]

    # -- reading the page ------------------------------------------------------------------------------------

    def texts(self) -> list[str]:
        """Every element's text, in page order."""
        return [shown.text for _, shown in sorted(self.elements.items()) if shown.text]

    def component_data(self, name_suffix: str) -> dict[str, Any] | None:
        """The JSON data of the ``st.components.v2`` component whose name ends with ``name_suffix``."""
        for _, shown in sorted(self.elements.items()):
            if shown.kind == "bidi_component" and shown.element.bidi_component.component_name.endswith(name_suffix):
                return json.loads(shown.element.bidi_component.json or "null")
        return None
