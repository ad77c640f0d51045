"""Issue 12 finding 1: one long Data Hub comment must not freeze the app.

vaderSentiment 3.3.2 is quadratic in text length, and pushes used to be scored inside the request. Now
the endpoint stores a capped text (10,000 characters) with its original length and leaves the reading
to the mining worker, which reads sentence by sentence. The endpoint is app.py's own handler, mounted
with /api/health on a plain Starlette app and driven by Starlette's TestClient.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.testclient import TestClient

from tests.test_datahub import client, key  # noqa: F401
from tests.test_pages import open_page, settings  # noqa: F401
from ui import routes
from workspace.config import Settings
from workspace.datahub import body, endpoint, sentiment, store, worker
from workspace.store import connect

PATH = endpoint.ENDPOINT_PATH
LONG = 900 * 1024


def long_comment(n: int = LONG) -> str:
    sentence = "The billing page was slow and I was not happy with the invoice layout at all. "
    return (sentence * (n // len(sentence) + 1))[:n - 1] + "."


def push_body(response_id: str, comment: str) -> bytes:
    return json.dumps({"SurveyID": "SV_3xAmPlE9sUrVeY1", "ResponseID": response_id, "Comment": comment}).encode()


def test_a_900_kb_comment_is_answered_within_a_second_and_stored_capped_with_its_length(settings, client, key):
    started = time.perf_counter()
    answer = client.post(PATH, content=push_body("R_long000000001", long_comment()),
                         headers={"X-API-KEY": key, "Content-Type": "application/json"})
    elapsed = time.perf_counter() - started
    assert answer.status_code == 201, answer.text
    assert elapsed < 1.0, f"the endpoint took {elapsed:.2f} s"
    assert any(f"{LONG:,} characters" in w for w in answer.json()["warnings"])
    with connect(settings.store) as db:
        [(text_length, length)] = db.execute("SELECT length(text), length FROM datahub_texts").fetchall()
    assert (text_length, length) == (body.MAX_TEXT_CHARS, LONG)
    assert worker.wait_until_read(settings, timeout=30)
    with connect(settings.store) as db:
        [(score,)] = db.execute("SELECT sentiment FROM datahub_texts").fetchall()
    assert sentiment.polarity(score) == sentiment.Polarity.NEGATIVE


def test_reading_is_linear_in_length_so_the_worker_never_stalls_on_one_text():
    # 10,000 characters in one VADER call take ~0.2 s (quadratic); read by sentence they take a few ms each.
    pieces = sentiment.pieces(long_comment(200_000))
    assert sum(len(p) for p in pieces) <= sentiment.MAX_SCORED_CHARS
    assert max(len(p) for p in pieces) <= sentiment.PIECE_CHARS
    unbroken = sentiment.pieces("x" * 5_000)
    assert max(len(p) for p in unbroken) <= sentiment.PIECE_CHARS and sum(map(len, unbroken)) == 5_000


def test_twenty_parallel_900_kb_pushes_are_stored_and_health_still_answers(settings, client, key):
    payloads = [push_body(f"R_parallel{i:06d}", long_comment()) for i in range(20)]

    def send(payload: bytes) -> int:
        return client.post(PATH, content=payload, headers={"X-API-KEY": key,
                                                           "Content-Type": "application/json"}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(send, payloads))
    assert statuses == [201] * 20
    started = time.perf_counter()
    health_answer = client.get("/api/health")
    assert health_answer.status_code == 200 and health_answer.json()["status"] == "ok"
    assert time.perf_counter() - started < 5.0
    assert store.overview(settings).sources == 20
    assert worker.wait_until_read(settings, timeout=60)


def test_a_body_over_one_megabyte_is_still_413(settings, client, key):
    answer = client.post(PATH, content=push_body("R_huge000000001", "x" * endpoint.MAX_BODY_BYTES),
                         headers={"X-API-KEY": key, "Content-Type": "application/json"})
    assert answer.status_code == 413
    assert store.overview(settings).sources == 0


def test_the_data_hub_page_shows_capped_text_not_megabytes(settings, client, key):
    for i in range(20):
        client.post(PATH, content=push_body(f"R_page{i:09d}", long_comment()),
                    headers={"X-API-KEY": key, "Content-Type": "application/json"})
    at = open_page(routes.DATA_HUB)
    assert not at.exception
    [table] = [d.value for d in at.dataframe if "Open text" in d.value.columns]
    shown = table["Open text"].tolist()
    assert all(t.endswith(f"(truncated, {LONG:,} characters)") for t in shown)
    assert sum(len(t) for t in shown) < 20 * (store.PREVIEW_CHARS + 100)
    everything = "".join(str(e.value) for e in at.text) + "".join(str(e.value) for e in at.markdown)
    assert len(everything) < 500_000
