"""What every Live screen of a journey shows, computed once for all of them.

A screen's refresh asks :func:`journey_view` for the journey; the figures are recomputed from stored answers
only when the store's data version of one of its surveys or of the workspace moved (a feed, a push, a sync
or an edit on any server: :mod:`workspace.store.versions`) or the last computation is :data:`MAX_AGE`
seconds old, so twenty screens refreshing every two seconds cost one computation, not twenty.
The session a screen belongs to starts when the first screen opens the journey and ends when no screen has
asked for it for :data:`feeds.IDLE_SECONDS`; "answered since" counts the responses recorded since then.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, replace

from workspace import catalog, journeys, metrics
from workspace.config import Settings
from workspace.store import connect, versions
from workspace.live import feeds, links

MAX_AGE = 5.0
#: With background work left to worker processes (PULSE_WORKER=external), a feed no worker has held for this
#: long into a session means none is running: the facilitator is told to start one.
UNATTENDED_SECONDS = 15.0
UNATTENDED_NOTE = ("No worker is bringing answers in, so these figures do not move: this app leaves background "
                   "work to `python -m workspace worker` (PULSE_WORKER=external). Start one.")


@dataclass(frozen=True)
class SurveyPanel:
    """One survey the room answers: its QR link, the short form of it and the answers since the session began."""

    survey_id: str
    name: str
    link: str
    short_link: str
    answered: int


@dataclass(frozen=True)
class JourneyView:
    journey_id: int
    title: str
    started: str                 # UTC ISO time the Live session began
    answered: int                # responses to the journey's surveys since then
    steps: list                  # list[LiveStep]
    surveys: list[SurveyPanel]
    comments: list               # list[LiveComment], newest first
    feeds: list[feeds.FeedState]
    computed: str                # UTC ISO time of these figures
    unattended: bool = False     # worker processes do the refreshing, and none holds these feeds

    @property
    def frozen(self) -> feeds.FeedState | None:
        """The first survey whose figures cannot move (no connection), if any."""
        return next((f for f in self.feeds if f.mode == feeds.FROZEN), None)

    @property
    def notes(self) -> list[str]:
        """What the facilitator should know about how answers arrive (one sentence per distinct reason)."""
        seen: list[str] = [UNATTENDED_NOTE] if self.unattended else []
        for feed in self.feeds:
            if feed.note and feed.note not in seen:
                seen.append(feed.note)
        return seen

    @property
    def pushed(self) -> bool:
        return bool(self.feeds) and all(f.mode == feeds.PUSH for f in self.feeds)


def _utc_iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Cache:
    """Views by (database, journey), the session start of each, and one computation at a time per journey."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: dict[tuple[str, int], tuple[tuple[str, ...], float, JourneyView]] = {}
        self._sessions: dict[tuple[str, int], tuple[str, float]] = {}
        self._computing: dict[tuple[str, int], threading.Lock] = {}
        self.watched: dict[tuple[str, int], tuple[Settings, tuple[str, ...]]] = {}

    def session_start(self, key: tuple[str, int]) -> str:
        now = time.monotonic()
        with self._lock:
            started, last = self._sessions.get(key, ("", 0.0))
            if not started or now - last > feeds.IDLE_SECONDS:
                started = _utc_iso(dt.datetime.now(dt.timezone.utc))
                self._views.pop(key, None)
            self._sessions[key] = (started, now)
            return started

    def started(self, key: tuple[str, int]) -> str | None:
        with self._lock:
            entry = self._sessions.get(key)
        if entry is None or time.monotonic() - entry[1] > feeds.IDLE_SECONDS:
            return None
        return entry[0]

    def computing(self, key: tuple[str, int]) -> threading.Lock:
        with self._lock:
            return self._computing.setdefault(key, threading.Lock())

    def get(self, key: tuple[str, int], versions: tuple[str, ...]) -> JourneyView | None:
        with self._lock:
            cached = self._views.get(key)
        if cached and cached[0] == versions and time.monotonic() - cached[1] < MAX_AGE:
            return cached[2]
        return None

    def put(self, key: tuple[str, int], versions: tuple[str, ...], view: JourneyView) -> None:
        with self._lock:
            self._views[key] = (versions, time.monotonic(), view)


_cache = _Cache()


def _answered_since(settings: Settings, questions: dict[str, list[str]], since: str) -> dict[str, int]:
    """Survey id → distinct responses recorded at or after ``since`` among the metric questions' answers."""
    counts = {}
    with connect(settings.store) as db:
        for survey_id, question_ids in questions.items():
            marks = ", ".join("?" for _ in question_ids)
            counts[survey_id] = db.execute(
                "SELECT COUNT(DISTINCT response) FROM answers WHERE survey_id = ? "
                f"AND question_id IN ({marks}) AND recorded_date >= ?", [survey_id, *question_ids, since]
            ).fetchone()[0]
    return counts


def _compute(settings: Settings, journey_id: int, started: str, survey_ids: list[str],
             states: list[feeds.FeedState]) -> JourneyView:
    from workspace import live  # the package's board and comments

    journey = journeys.get_journey(settings, journey_id)
    used = {m.id: m for m in metrics.list_metrics(settings)}
    questions: dict[str, list[str]] = {}
    for step in journey.steps:
        for metric_id in step.metric_ids:
            metric = used[metric_id]
            if metric.question_id not in questions.setdefault(metric.survey_id, []):
                questions[metric.survey_id].append(metric.question_id)
    counts = _answered_since(settings, questions, started)
    surveys = []
    for survey_id in survey_ids:
        link = links.public_link(settings, survey_id)
        surveys.append(SurveyPanel(survey_id, catalog.survey_name(settings, survey_id) or survey_id, link,
                                   links.short_link(link), counts.get(survey_id, 0)))
    return JourneyView(journey_id, journey.name, started, sum(counts.values()), live.board(settings, journey_id),
                       surveys, live.comments(settings, journey_id), states,
                       _utc_iso(dt.datetime.now(dt.timezone.utc)))


def _fresh(settings: Settings, journey_id: int, survey_ids: list[str], states: list[feeds.FeedState],
           started: str) -> JourneyView:
    """The cached view when its versions still hold, else one computation (others wait for it, then reuse it)."""
    key = (settings.store.key, journey_id)
    with connect(settings.store) as db:
        current = versions.read(db, [versions.WORKSPACE, *(versions.survey(s) for s in survey_ids)])
    cached = _cache.get(key, current)
    if cached is None:
        with _cache.computing(key):
            cached = _cache.get(key, current)
            if cached is None:
                cached = _compute(settings, journey_id, started, survey_ids, states)
                _cache.put(key, current, cached)
    return replace(cached, feeds=states)


def journey_view(settings: Settings, journey_id: int) -> JourneyView:
    """The journey's Live figures for one screen refresh (keeps its surveys' feeds running)."""
    from workspace import live

    key = (settings.store.key, journey_id)
    started = _cache.session_start(key)
    survey_ids = live.survey_ids(settings, journey_id)
    _cache.watched[key] = (settings, tuple(survey_ids))
    states = feeds.watch(settings, survey_ids)
    view = _fresh(settings, journey_id, survey_ids, states, started)
    unheld = not all(f.held for f in states)
    if not settings.runs_background_work and unheld and _session_age(started) >= UNATTENDED_SECONDS:
        view = replace(view, unattended=True)
    return view


def _session_age(started: str) -> float:
    begun = dt.datetime.strptime(started, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    return (dt.datetime.now(dt.timezone.utc) - begun).total_seconds()


def _recompute_after_change(settings: Settings, survey_id: str) -> None:
    """Right after answers were stored (in the storing thread), recompute the views screens are watching,
    so that their next refresh finds the new figures ready instead of computing them."""
    for key, (watched_settings, survey_ids) in list(_cache.watched.items()):
        started = _cache.started(key)
        if key[0] != settings.store.key or survey_id not in survey_ids or started is None:
            continue
        states = feeds.states(watched_settings, list(survey_ids))
        _fresh(watched_settings, key[1], list(survey_ids), states, started)


feeds.on_change(_recompute_after_change)
