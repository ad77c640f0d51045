"""Live feeds kept in the store: "this survey's live feed is on until T" is a ``live_feeds`` row that any worker
claims and refreshes, whatever the number of screens and app servers.

Every Live screen calls :func:`watch` for its journey's surveys on each refresh; that keeps the rows wanted
(a write only every :data:`RENEW_SECONDS`, not on every refresh) and returns how each survey is fed. A
worker's :class:`Refresher` (:mod:`workspace.worker`; in the app itself by default) claims the wanted rows
with a lease it renews, and for each one subscribes the app to the survey's completed responses when
Qualtrics can reach the app (then a sync now and then is only a safety net), else polls with incremental
syncs every :data:`POLL_SECONDS`; those syncs hold the survey's sync job like any other, so they never
overlap a scheduled one. A row nobody asked for :data:`IDLE_SECONDS` is given up and its subscription
removed. Screens never export: they read stored figures, and the store's data versions
(:mod:`workspace.store.versions`, moved by every write of answers) tell them, on every server, when those
changed.

Pushed responses (:func:`receive`) reach whichever app server the proxy picks: answered at once, fetched
there by one worker thread, then stored with :func:`workspace.sync.sync_response` (the exactly-once upserts
of a sync).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qualtrics.errors import PermissionDenied, QualtricsError
from workspace import jobs, runs, sync
from workspace.config import Settings
from workspace.connection import integration_status, open_client
from workspace.errors import WorkspaceError
from workspace.integration import Status
from workspace.live import push
from workspace.metrics import tracked_surveys
from workspace.store import Database, connect, transaction

log = logging.getLogger(__name__)

POLL_SECONDS = 3.0       # sync age that triggers the next poll when nothing is pushed
SAFETY_SECONDS = 60.0    # with push: an incremental sync this often catches a publication that never came
IDLE_SECONDS = 30.0      # a feed no screen asked for this long unsubscribes and stops
RENEW_SECONDS = 10.0     # a screen extends its feeds' wanted time once this much of it has passed
RETRY_SUBSCRIBE = 120.0  # after a subscription failed for a passing reason
TICK = 0.5

PUSH, POLLING, FROZEN, STARTING = "push", "polling", "frozen", "starting"


@dataclass(frozen=True)
class FeedState:
    """How a survey's figures reach the screens: ``mode`` is push, polling, frozen or starting; ``note`` says
    why, in words for the facilitator (empty when all is well)."""

    survey_id: str
    mode: str
    note: str
    frozen_since: str | None = None
    held: bool = False           # a worker holds this feed now (its lease has not run out)


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


_listeners: list[Callable[[Settings, str], None]] = []


def on_change(listener: Callable[[Settings, str], None]) -> None:
    """Call ``listener(settings, survey_id)`` (in the storing thread) whenever a survey's answers were stored."""
    _listeners.append(listener)


def changed(settings: Settings, survey_id: str) -> None:
    """Answers of ``survey_id`` were stored (their data version moved with them): listeners run here, in the
    background thread that stored them, not in a screen's refresh."""
    for listener in list(_listeners):
        try:
            listener(settings, survey_id)
        except Exception:  # a listener's failure must not stop the feed or the fetch worker
            log.exception("live change listener failed for %s", survey_id)


_Row = tuple[str, str, str, "str | None", bool]  # wanted_until, mode, note, frozen_since, held


def _read(db: Database, survey_ids: list[str]) -> dict[str, _Row]:
    if not survey_ids:
        return {}
    marks = ", ".join("?" for _ in survey_ids)
    current = jobs.stamp(db)
    return {row[0]: (*row[1:5], bool(row[5])) for row in db.execute(
        "SELECT survey_id, wanted_until, mode, note, frozen_since, "
        "CASE WHEN holder IS NOT NULL AND lease_until >= ? THEN 1 ELSE 0 END FROM live_feeds "
        f"WHERE survey_id IN ({marks})", [current, *survey_ids]).fetchall()}


def _states(rows: Mapping[str, _Row], survey_ids: list[str]) -> list[FeedState]:
    return [FeedState(survey_id, *rows[survey_id][1:]) if survey_id in rows else FeedState(survey_id, STARTING, "")
            for survey_id in survey_ids]


def watch(settings: Settings, survey_ids: list[str]) -> list[FeedState]:
    """Keep these surveys' feeds wanted (a worker starts any that is not running) and say how each one is fed."""
    survey_ids = list(survey_ids)
    with connect(settings.store) as db:
        rows = _read(db, survey_ids)
        soon = jobs.stamp(db, IDLE_SECONDS - RENEW_SECONDS)
    stale = [s for s in survey_ids if s not in rows or rows[s][0] < soon]
    if stale:
        with connect(settings.store) as db, transaction(db):
            until = jobs.stamp(db, IDLE_SECONDS)
            db.executemany("INSERT INTO live_feeds (survey_id, wanted_until) VALUES (?, ?) ON CONFLICT (survey_id) "
                           "DO UPDATE SET wanted_until = excluded.wanted_until", [(s, until) for s in stale])
    if survey_ids:
        from workspace.worker import ensure_worker
        worker = ensure_worker(settings, ["live"], resident=False)  # None: a worker process refreshes them
        if worker is not None and any(s not in rows for s in survey_ids):
            worker.wake("live")
    return _states(rows, survey_ids)


def states(settings: Settings, survey_ids: list[str]) -> list[FeedState]:
    """How each survey is fed now, without asking for it (a feed nobody watches still stops)."""
    with connect(settings.store) as db:
        return _states(_read(db, list(survey_ids)), list(survey_ids))


class _Feed:
    """One claimed survey's refresh: its subscription and the state it last wrote."""

    def __init__(self, settings: Settings, survey_id: str) -> None:
        self.settings, self.survey_id = settings, survey_id
        self.mode, self.note, self.frozen_since = STARTING, "", None
        self.written: tuple[str, str, str | None] | None = None
        self.subscription: str | None = None
        self.retry_subscribe_at = 0.0

    def step(self) -> None:
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

    def unsubscribe(self) -> None:
        if self.subscription is None:
            return
        try:
            with open_client(self.settings) as client:
                client.unsubscribe(self.subscription)
        except (QualtricsError, WorkspaceError, OSError) as exc:
            log.info("could not remove subscription of %s (the next Live session expires it): %s", self.survey_id, exc)
        self.subscription = None


class Refresher:
    """A worker's Live work for one store: claims wanted feeds (a lease renewed every heartbeat), steps each
    held feed on every :meth:`tick`, and gives up feeds no screen wants any more. Feeds it lost to another
    worker (its lease ran out) are dropped without touching their subscription, which the new holder replaces."""

    def __init__(self, settings: Settings, lease: float = jobs.LEASE_SECONDS) -> None:
        self.settings, self.lease = settings, lease
        self.holder = f"{jobs.worker_id()}:live-{secrets.token_hex(2)}"
        self.feeds: dict[str, _Feed] = {}
        self._renewed = float("-inf")
        self._lock = threading.Lock()

    def tick(self) -> bool:
        """One round: claim or renew, step every held feed, write their states. True when it holds any."""
        with self._lock:
            if time.monotonic() - self._renewed >= min(jobs.HEARTBEAT_SECONDS, self.lease / 6) or self._unclaimed():
                self._claim()
            for survey_id, feed in list(self.feeds.items()):
                try:
                    feed.step()
                except Exception:  # one survey's failure must not stop the others' refresh
                    log.exception("live feed of %s failed this round", survey_id)
                self._write(feed)
            return bool(self.feeds)

    def _unclaimed(self) -> bool:
        with connect(self.settings.store) as db:
            current = jobs.stamp(db)
            return db.execute("SELECT 1 FROM live_feeds WHERE wanted_until > ? AND (holder IS NULL OR lease_until < ?) "
                              "LIMIT 1", (current, current)).fetchone() is not None

    def _claim(self) -> None:
        with connect(self.settings.store) as db, transaction(db):
            current = jobs.stamp(db)
            held = {row[0] for row in db.execute(
                "UPDATE live_feeds SET holder = ?, lease_until = ? WHERE wanted_until > ? AND "
                "(holder IS NULL OR holder = ? OR lease_until < ?) RETURNING survey_id",
                (self.holder, jobs.stamp(db, self.lease), current, self.holder, current)).fetchall()}
            mine_unwanted = {row[0] for row in db.execute(
                "SELECT survey_id FROM live_feeds WHERE holder = ? AND wanted_until <= ?",
                (self.holder, current)).fetchall()}
        self._renewed = time.monotonic()
        for survey_id in held - set(self.feeds):
            self.feeds[survey_id] = _Feed(self.settings, survey_id)
            log.info("live feed of %s on (%s)", survey_id, self.holder)
        for survey_id in set(self.feeds) - held:
            feed = self.feeds.pop(survey_id)
            if survey_id in mine_unwanted:  # no screen wants it: remove its subscription and give the row up
                feed.unsubscribe()
                self._release([survey_id])
                log.info("live feed of %s off (no screen asked for %.0f s)", survey_id, IDLE_SECONDS)
            else:
                log.warning("live feed of %s taken over by another worker", survey_id)

    def _write(self, feed: _Feed) -> None:
        state = (feed.mode, feed.note, feed.frozen_since)
        if state == feed.written:
            return
        with connect(self.settings.store) as db, transaction(db):
            db.execute("UPDATE live_feeds SET mode = ?, note = ?, frozen_since = ? WHERE survey_id = ? AND holder = ?",
                       (*state, feed.survey_id, self.holder))
        feed.written = state

    def _release(self, survey_ids: list[str]) -> None:
        with connect(self.settings.store) as db, transaction(db):
            db.executemany("UPDATE live_feeds SET holder = NULL, lease_until = NULL, mode = ?, note = '', "
                           "frozen_since = NULL WHERE survey_id = ? AND holder = ?",
                           [(STARTING, s, self.holder) for s in survey_ids])

    def running(self) -> list[str]:
        return sorted(self.feeds)

    def stop(self) -> None:
        """Remove every held feed's subscription and give the rows back (another worker may take them)."""
        with self._lock:
            stopping, self.feeds = list(self.feeds.values()), {}
            for feed in stopping:
                feed.unsubscribe()
            if stopping:
                try:
                    self._release([f.survey_id for f in stopping])
                except Exception:  # the store is gone: the leases run out by themselves
                    log.warning("could not give back the Live feeds", exc_info=True)
            self._renewed = float("-inf")


def stop_all(timeout: float = 10.0) -> None:
    """End this process's Live refreshes (each removes its subscription and gives its row back); the rows stay
    wanted, so another worker takes them over if screens still ask."""
    from workspace.worker import stop_kind
    stop_kind("live", timeout)


def running() -> list[str]:
    """Survey ids of the feeds this process refreshes now (for tests and benchmarks)."""
    from workspace.worker import live_feeds_running
    return live_feeds_running()


# ---------------------------------------------------------------- pushed responses

_inbox: queue.Queue[tuple[Settings, push.Publication]] = queue.Queue(maxsize=10_000)
_worker_lock = threading.Lock()
_worker: threading.Thread | None = None


def receive(settings: Settings, form: Mapping[str, str], token: str | None) -> Receipt:
    """Take one Qualtrics publication: check the URL's secret, queue the named response for the fetch worker,
    answer at once (Qualtrics waits for this answer; the fetch can take seconds)."""
    if not push.token_is_valid(settings, token):
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
