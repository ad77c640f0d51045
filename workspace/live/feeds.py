"""One background refresh per survey, whatever the number of screens.

Every Live screen calls :func:`watch` for its journey's surveys on each refresh; the first call starts that
survey's feed thread, later calls only say "still wanted". A feed subscribes the app to the survey's
completed responses when Qualtrics can reach the app (then a sync now and then is only a safety net), else
polls with incremental syncs every :data:`POLL_SECONDS`. A feed nobody asked for :data:`IDLE_SECONDS` removes
its subscription and ends. Screens never export: they read stored figures, and a feed's ``version`` tells
them when those changed.

Pushed responses (:func:`receive`) are answered at once and fetched by one worker thread, then stored with
:func:`workspace.sync.sync_response` (the exactly-once upserts of a sync).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qualtrics.errors import PermissionDenied, QualtricsError
from workspace import runs, sync
from workspace.config import Settings
from workspace.connection import integration_status, open_client
from workspace.errors import WorkspaceError
from workspace.integration import Status
from workspace.live import push
from workspace.metrics import tracked_surveys

log = logging.getLogger(__name__)

POLL_SECONDS = 3.0       # sync age that triggers the next poll when nothing is pushed
SAFETY_SECONDS = 60.0    # with push: an incremental sync this often catches a publication that never came
IDLE_SECONDS = 30.0      # a feed no screen asked for this long unsubscribes and stops
RETRY_SUBSCRIBE = 120.0  # after a subscription failed for a passing reason
TICK = 0.5

PUSH, POLLING, FROZEN, STARTING = "push", "polling", "frozen", "starting"


@dataclass(frozen=True)
class FeedState:
    """How a survey's figures reach the screens: ``mode`` is push, polling, frozen or starting; ``note`` says
    why, in words for the facilitator (empty when all is well); ``version`` grows whenever answers were stored."""

    survey_id: str
    mode: str
    note: str
    version: int
    frozen_since: str | None = None


@dataclass(frozen=True)
class Receipt:
    status_code: int
    body: dict[str, Any] = field(default_factory=dict)


def _age(last_sync: str | None) -> float:
    if not last_sync:
        return float("inf")
    when = dt.datetime.fromisoformat(last_sync.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return (dt.datetime.now(dt.timezone.utc) - when).total_seconds()


def _connection(settings: Settings) -> tuple[bool, str, str | None]:
    """(connected, why not, last successful sync): a feed without a connection freezes and says so."""
    status = integration_status(settings)
    if status.uses_api_token or status.status == Status.ACTIVE:
        return True, "", None
    if status.last_successful_sync:
        why = ("Figures are frozen: Qualtrics was disconnected, so no new answers come in. Authorize again on "
               "Integrations to resume.")
    else:
        why = "Qualtrics is not connected yet, so no answers come in. Authorize on Integrations to start."
    if status.status == Status.ERROR and status.error_message:
        why = f"Figures are frozen: the Qualtrics connection failed ({status.error_message}). Reauthorize on Integrations."
    return False, why, status.last_successful_sync


class _Versions:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, str], int] = {}

    def bump(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._values[key] = self._values.get(key, 0) + 1

    def get(self, key: tuple[str, str]) -> int:
        with self._lock:
            return self._values.get(key, 0)


_versions = _Versions()


def _key(settings: Settings, survey_id: str) -> tuple[str, str]:
    return (settings.store.key, survey_id)


_listeners: list[Callable[[Settings, str], None]] = []


def on_change(listener: Callable[[Settings, str], None]) -> None:
    """Call ``listener(settings, survey_id)`` (in the storing thread) whenever a survey's answers were stored."""
    _listeners.append(listener)


def changed(settings: Settings, survey_id: str) -> None:
    """Answers of ``survey_id`` were stored: the version moves (screens see new figures on their next
    refresh) and listeners run here, in the background thread that stored them, not in a screen's refresh."""
    _versions.bump(_key(settings, survey_id))
    for listener in list(_listeners):
        try:
            listener(settings, survey_id)
        except Exception:  # a listener's failure must not stop the feed or the fetch worker
            log.exception("live change listener failed for %s", survey_id)


class _Feed:
    """The thread that keeps one survey's stored answers fresh while screens want it."""

    def __init__(self, settings: Settings, survey_id: str) -> None:
        self.settings, self.survey_id = settings, survey_id
        self.asked = time.monotonic()
        self.mode, self.note, self.frozen_since = STARTING, "", None
        self.subscription: str | None = None
        self.retry_subscribe_at = 0.0
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"live-feed-{survey_id}", daemon=True)

    def state(self) -> FeedState:
        return FeedState(self.survey_id, self.mode, self.note, _versions.get(_key(self.settings, self.survey_id)),
                         self.frozen_since)

    def _run(self) -> None:
        try:
            while time.monotonic() - self.asked < IDLE_SECONDS:
                self._step()
                self.wake.wait(TICK)
                self.wake.clear()
        except Exception:  # a feed must never take the server down; the next screen starts a new one
            log.exception("live feed of %s stopped", self.survey_id)
        finally:
            self._unsubscribe()
            _feeds.forget(self)

    def _step(self) -> None:
        connected, why, since = _connection(self.settings)
        if not connected:
            self.mode, self.note, self.frozen_since = FROZEN, why, since
            self.subscription = None  # without a connection it cannot be removed; the next subscribe expires it
            return
        if self.mode in (FROZEN, STARTING) or (self.subscription is None and time.monotonic() >= self.retry_subscribe_at):
            self._subscribe()
        due = SAFETY_SECONDS if self.mode == PUSH else POLL_SECONDS
        if _age(runs.survey_state(self.settings, self.survey_id).last_sync) >= due:
            result = sync.sync_survey(self.settings, self.survey_id, trigger="live", wait=0.0)
            if result.answers or result.comments:
                changed(self.settings, self.survey_id)
            if result.status == "failed" and self.mode != PUSH:
                self.note = f"The last check for new answers failed: {result.message} Live keeps trying."

    def _subscribe(self) -> None:
        reason = push.unreachable_reason(self.settings)
        if reason:
            self.mode, self.note, self.retry_subscribe_at = POLLING, reason, float("inf")
            return
        try:
            with open_client(self.settings) as client:
                self.subscription = push.subscribe(self.settings, client, self.survey_id)
            self.mode, self.note = PUSH, ""
        except PermissionDenied as exc:
            self.mode, self.retry_subscribe_at = POLLING, float("inf")
            self.note = (f"Qualtrics refused to push answers to this app ({exc}). Subscribing to survey events "
                         "needs a brand administrator's rights, so Live checks for new answers every few seconds.")
        except (QualtricsError, WorkspaceError, OSError) as exc:
            self.mode, self.retry_subscribe_at = POLLING, time.monotonic() + RETRY_SUBSCRIBE
            self.note = (f"Qualtrics could not subscribe this app to new answers ({exc}); Live checks every few "
                         "seconds and tries to subscribe again in two minutes.")

    def _unsubscribe(self) -> None:
        if self.subscription is None:
            return
        try:
            with open_client(self.settings) as client:
                client.unsubscribe(self.subscription)
        except (QualtricsError, WorkspaceError, OSError) as exc:
            log.info("could not remove subscription of %s (the next Live session expires it): %s", self.survey_id, exc)
        self.subscription = None


class _Feeds:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str], _Feed] = {}

    def watch(self, settings: Settings, survey_ids: list[str]) -> list[FeedState]:
        states = []
        with self._lock:
            for survey_id in survey_ids:
                feed = self._running.get(_key(settings, survey_id))
                if feed is None:
                    feed = self._running[_key(settings, survey_id)] = _Feed(settings, survey_id)
                    feed.thread.start()
                feed.asked = time.monotonic()
                states.append(feed.state())
        return states

    def states(self, settings: Settings, survey_ids: list[str]) -> list[FeedState]:
        with self._lock:
            running = [self._running.get(_key(settings, survey_id)) for survey_id in survey_ids]
        return [feed.state() if feed is not None else
                FeedState(survey_id, STARTING, "", _versions.get(_key(settings, survey_id)))
                for survey_id, feed in zip(survey_ids, running)]

    def forget(self, feed: _Feed) -> None:
        with self._lock:
            if self._running.get(_key(feed.settings, feed.survey_id)) is feed:
                del self._running[_key(feed.settings, feed.survey_id)]

    def running(self) -> list[str]:
        with self._lock:
            return sorted(survey_id for _, survey_id in self._running)

    def stop_all(self, timeout: float) -> None:
        with self._lock:
            stopping = list(self._running.values())
        for feed in stopping:
            feed.asked = float("-inf")
            feed.wake.set()
        deadline = time.monotonic() + timeout
        for feed in stopping:
            feed.thread.join(max(0.0, deadline - time.monotonic()))


_feeds = _Feeds()


def watch(settings: Settings, survey_ids: list[str]) -> list[FeedState]:
    """Keep these surveys' feeds running (starting any that is not) and say how each one is fed."""
    return _feeds.watch(settings, survey_ids)


def states(settings: Settings, survey_ids: list[str]) -> list[FeedState]:
    """How each survey is fed now, without asking for it (a feed nobody watches still stops)."""
    return _feeds.states(settings, survey_ids)


def stop_all(timeout: float = 10.0) -> None:
    """End every feed (each removes its subscription): the server is going down."""
    _feeds.stop_all(timeout)


def running() -> list[str]:
    """Survey ids of the feeds running in this process (for tests and benchmarks)."""
    return _feeds.running()


# ---------------------------------------------------------------- pushed responses

_inbox: queue.Queue[tuple[Settings, push.Publication]] = queue.Queue(maxsize=10_000)
_worker_lock = threading.Lock()
_worker: threading.Thread | None = None


def receive(settings: Settings, form: Mapping[str, str], token: str | None) -> Receipt:
    """Take one Qualtrics publication: check the URL's secret, queue the named response for the fetch worker,
    answer at once (Qualtrics waits for this answer; the fetch can take seconds)."""
    if not push.token_is_valid(token):
        return Receipt(401, {"error": "unknown publication token"})
    publication = push.read_publication(form)
    if isinstance(publication, str):
        return Receipt(400, {"error": publication})
    if publication.survey_id not in tracked_surveys(settings):
        return Receipt(200, {"status": "ignored", "reason": f"No metric uses survey {publication.survey_id}."})
    try:
        _inbox.put_nowait((settings, publication))
    except queue.Full:
        return Receipt(503, {"error": "too many publications waiting; the next sync brings this response"})
    _ensure_worker()
    return Receipt(200, {"status": "accepted"})


def _ensure_worker() -> None:
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_fetch_loop, name="live-push-fetch", daemon=True)
            _worker.start()


def _fetch_loop() -> None:
    while True:
        settings, publication = _inbox.get()
        try:
            result = sync.sync_response(settings, publication.survey_id, publication.response_id)
        except Exception:  # keep fetching the next ones; the next sync brings this response anyway
            log.exception("storing pushed response %s failed", publication.response_id)
            continue
        if result.status == "failed":
            log.warning("pushed response %s of %s not stored: %s", publication.response_id,
                        publication.survey_id, result.message)
        elif result.answers or result.comments:
            changed(settings, publication.survey_id)


def pending() -> int:
    """Publications received and not fetched yet."""
    return _inbox.qsize()
