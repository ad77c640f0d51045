"""Event subscriptions and single responses, as Qualtrics serves them, so that Live mode can be pushed to.

- ``POST /API/v3/eventsubscriptions`` ``{"topics", "publicationUrl", "encrypt"}`` → ``{"result": {"id": "SUB_…"}}``;
  ``GET`` lists them (``elements`` with ``id, scope, topics, publicationUrl, encrypted, successfulCalls``);
  ``DELETE /eventsubscriptions/{id}`` answers with ``meta`` only.
- When a response is recorded (survey link or ``--live``), every subscription whose topic matches
  ``surveyengine.completedResponse.{surveyId}`` (or ``…completedResponse.*``) gets a form-encoded POST with
  ``Topic`` (``{brandId}.surveyengine.completedResponse.SV_…``), ``Status``, ``SurveyID``, ``ResponseID``,
  ``CompletedDate`` and ``BrandID``, from a worker thread: Qualtrics publishes after the respondent's page is done.
- ``GET /API/v3/surveys/{id}/responses/{responseId}`` gives the response as one export record (JSON).

``refuse`` makes subscribing fail with 403, as Qualtrics does for accounts without the right to subscribe.
"""

from __future__ import annotations

import collections
import datetime as dt
import queue
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from .catalog import SurveySpec, stable_id
from .generator import ResponseStore
from .layout import METADATA_IDS, build_columns, json_records

TOPIC_PREFIX = "surveyengine.completedResponse."
DELIVERY_TIMEOUT = 5.0


class SubscriptionError(ValueError):
    """A subscription request the sandbox refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Subscription:
    id: str
    topics: str
    publication_url: str
    successful_calls: int = 0

    def matches(self, survey_id: str) -> bool:
        return self.topics in (TOPIC_PREFIX + survey_id, TOPIC_PREFIX + "*")

    def element(self, brand_id: str) -> dict[str, Any]:
        return {"id": self.id, "scope": brand_id, "topics": self.topics, "publicationUrl": self.publication_url,
                "encrypted": False, "successfulCalls": self.successful_calls}


@dataclass(frozen=True)
class Delivery:
    """One publication the sandbox sent: to whom, what, and the HTTP status it got (0: unreachable)."""

    subscription_id: str
    response_id: str
    status: int


class EventSubscriptions:
    """The brand's subscriptions and the thread that publishes to them."""

    def __init__(self, seed: int, brand_id: str) -> None:
        self.seed, self.brand_id = seed, brand_id
        self.refuse = False
        self.deliveries: collections.deque[Delivery] = collections.deque(maxlen=1000)
        self._subscriptions: dict[str, Subscription] = {}
        self._counter = 0
        self._lock = threading.Lock()
        self._outbox: queue.Queue[tuple[Subscription, dict[str, str]] | None] = queue.Queue()
        self._worker: threading.Thread | None = None

    # ------------------------------------------------------------ the API

    def create(self, body: Any) -> str:
        if self.refuse:
            raise SubscriptionError(403, "You do not have permission to manage event subscriptions for this brand.")
        if not isinstance(body, dict):
            raise SubscriptionError(400, "Request body must be a JSON object")
        topics, url = body.get("topics"), body.get("publicationUrl")
        if not isinstance(topics, str) or not topics.startswith(TOPIC_PREFIX):
            raise SubscriptionError(400, f"topics must be {TOPIC_PREFIX}{{SurveyID}} (the sandbox publishes no other)")
        if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise SubscriptionError(400, "publicationUrl must be an http(s) URL")
        if body.get("encrypt"):
            raise SubscriptionError(400, "The sandbox publishes unencrypted events only; send encrypt: false")
        with self._lock:
            self._counter += 1
            subscription = Subscription(stable_id("SUB_", self.seed, "subscription", self._counter), topics, url)
            self._subscriptions[subscription.id] = subscription
        return subscription.id

    def elements(self) -> list[dict[str, Any]]:
        with self._lock:
            return [s.element(self.brand_id) for s in self._subscriptions.values()]

    def delete(self, subscription_id: str) -> bool:
        with self._lock:
            return self._subscriptions.pop(subscription_id, None) is not None

    # ------------------------------------------------------------ publishing

    def publish(self, survey_id: str, response_ids: list[str], completed: dt.datetime | None = None) -> None:
        """Queue one publication per matching subscription and response (sent by the worker thread)."""
        with self._lock:
            targets = [s for s in self._subscriptions.values() if s.matches(survey_id)]
        if not targets:
            return
        moment = (completed or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M:%S")
        for response_id in response_ids:
            form = {"Topic": f"{self.brand_id}.{TOPIC_PREFIX}{survey_id}", "Status": "Complete",
                    "SurveyID": survey_id, "ResponseID": response_id, "CompletedDate": moment,
                    "BrandID": self.brand_id}
            for subscription in targets:
                self._outbox.put((subscription, form))
        self._ensure_worker()

    def stop(self) -> None:
        if self._worker is not None:
            self._outbox.put(None)

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._deliver_loop, name="qualtrics-sandbox-events",
                                                daemon=True)
                self._worker.start()

    def _deliver_loop(self) -> None:
        while (item := self._outbox.get()) is not None:
            subscription, form = item
            request = urllib.request.Request(
                subscription.publication_url, data=urllib.parse.urlencode(form).encode(), method="POST",
                headers={"Content-Type": "application/x-www-form-urlencoded"})
            try:
                with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT) as answer:
                    status = answer.status
            except urllib.error.HTTPError as err:
                status = err.code
            except (OSError, ValueError):
                status = 0
            if 200 <= status < 300:
                subscription.successful_calls += 1
            self.deliveries.append(Delivery(subscription.id, form["ResponseID"], status))


def new_response_ids(store: ResponseStore, survey: SurveySpec, first: int) -> list[str]:
    """Ids of the survey's responses from index ``first`` on (the ones just recorded)."""
    return [rid for block in store.blocks(survey, first) for rid in block.response_id.tolist()]


def response_record(store: ResponseStore, survey: SurveySpec, response_id: str) -> str | None:
    """One response as an export's JSON record (every question, metadata and embedded field), or None.
    Live responses are searched first: a pushed response is nearly always one of the newest."""
    columns = build_columns(survey, tuple(q.qid for q in survey.questions), METADATA_IDS, survey.embedded_fields,
                            None, store.vocabulary(survey))
    for first in (survey.responses, 0):
        for block in store.blocks(survey, first):
            hits = (block.response_id == response_id).nonzero()[0]
            if len(hits):
                return json_records(block.take(hits[:1]), columns)[0]
    return None
