"""Caches that know the data: two app servers (two Settings on one store) each cache scores, and a write
through either one (a sync batch, a pushed response, an edit of a metric or a placement) shows in the
other's next read; a read with nothing changed runs no aggregate; the per-day counts the scores read
always equal counting the answers themselves."""

from __future__ import annotations

import datetime as dt

import pytest

from workspace import journeys, live, metrics, scores, store
from workspace.scores import ScoreFilter
from workspace.store import versions
from workspace.store.database import Database

from tests.test_workspace_store import NPS_QUESTION, CSAT_QUESTION, SURVEY, batch, write_batch
from tests.test_workspace_support import settings_for
from workspace import catalog


@pytest.fixture
def servers(tmp_path):
    """Two app servers' settings on the same store, with the survey's questions cached."""
    first, second = settings_for(tmp_path), settings_for(tmp_path)
    assert first.store.key == second.store.key and first is not second
    catalog.store_questions(first, SURVEY, [NPS_QUESTION, CSAT_QUESTION])
    return first, second


@pytest.fixture
def aggregates(monkeypatch):
    """The aggregate statements (over answers or their day counts) every connection of this process runs."""
    seen: list[str] = []
    execute = Database.execute

    def recording(self, sql, params=()):
        if "count(*)" in sql.lower() and "FROM answers" in sql or "FROM answer_days" in sql:
            seen.append(sql)
        return execute(self, sql, params)

    monkeypatch.setattr(Database, "execute", recording)
    return seen


def _journey_with(settings, *metric_ids):
    journey = journeys.ensure_journey(settings, "Onboarding", [("Start", f"Step {i}") for i in range(len(metric_ids))])
    for metric_id, step in zip(metric_ids, journey.journey.steps):
        journeys.place_metric(settings, metric_id, step.id)
    return journey.journey.id


def _cards(settings, journey_id):
    return [card for cards in scores.journey_lane(settings, journey_id).values() for card in cards]


def test_answers_stored_through_one_server_show_in_the_others_cached_scores_at_once(servers):
    first, second = servers
    nps = metrics.create_metric(first, SURVEY, "QID1", "nps")
    journey_id = _journey_with(first, nps.id)
    write_batch(first, batch([("R_1", "2026-03-01T10:00:00Z", True, "10", None, None)]), ["QID1"])
    assert [c.display for c in _cards(second, journey_id)] == ["100.0"]
    assert [c.display for c in _cards(second, journey_id)] == ["100.0"]  # now from the second's cache

    write_batch(first, batch([("R_2", "2026-03-02T10:00:00Z", True, "0", None, None)]), ["QID1"])

    assert [(c.display, c.n) for c in _cards(second, journey_id)] == [("0.0", 2)]


def test_edits_through_one_server_show_on_the_other(servers):
    first, second = servers
    nps = metrics.create_metric(first, SURVEY, "QID1", "nps")
    csat = metrics.create_metric(first, SURVEY, "QID2", "csat")
    journey_id = _journey_with(first, nps.id)
    write_batch(first, batch([("R_1", "2026-03-01T10:00:00Z", True, "9", "5", None)]), ["QID1", "QID2"])
    assert [c.title for c in _cards(second, journey_id)] == [nps.title]

    metrics.update_metric(first, nps.id, title="Recommend", target=50.0)
    step = journeys.get_journey(first, journey_id).steps[0]
    journeys.place_metric(first, csat.id, step.id)

    cards = _cards(second, journey_id)
    assert [(c.title, c.target, c.on_target) for c in cards] == [("Recommend", 50.0, True), (csat.title, None, None)]


def test_a_rerun_with_nothing_changed_runs_no_aggregate_and_a_write_runs_one_per_metric(servers, aggregates):
    first, second = servers
    made = [metrics.create_metric(first, SURVEY, q, kind).id for q, kind in (("QID1", "nps"), ("QID2", "csat"))]
    journey_id = _journey_with(first, *made)
    write_batch(first, batch([("R_1", "2026-03-01T10:00:00Z", True, "9", "4", None)]), ["QID1", "QID2"])
    before = scores.journey_scores(second, journey_id)
    aggregates.clear()

    again = scores.journey_scores(second, journey_id)
    assert aggregates == []
    assert again.equals(before)

    write_batch(first, batch([("R_2", "2026-03-02T10:00:00Z", True, "3", "1", None)]), ["QID1", "QID2"])
    aggregates.clear()
    after = scores.journey_scores(second, journey_id)
    assert len([sql for sql in aggregates if "answer_days" in sql]) == 2
    assert list(after["respondents"]) == [2, 2]


def test_a_metric_of_another_survey_keeps_its_cached_counts_when_this_one_syncs(servers, aggregates):
    first, second = servers
    nps = metrics.create_metric(first, SURVEY, "QID1", "nps")
    write_batch(first, batch([("R_1", "2026-03-01T10:00:00Z", True, "9", None, None)]), ["QID1"])
    scores.metric_score(second, nps.id)
    with store.connect(first.store) as db, store.transaction(db):
        versions.bump(db, versions.survey("SV_another"))
    aggregates.clear()
    assert scores.metric_score(second, nps.id).respondents == 1
    assert aggregates == []


def _counted_from_answers(settings, question_id, flt):
    where, args = flt.sql()
    with store.connect(settings.store) as db:
        rows = db.execute(f"SELECT a.value, count(*) FROM answers a WHERE a.survey_id = ? AND a.question_id = ?"
                          f"{where} GROUP BY a.value ORDER BY a.value", [SURVEY, question_id, *args]).fetchall()
    return [r[0] for r in rows], [int(r[1]) for r in rows]


def test_day_counts_equal_counting_the_answers_after_new_overwritten_undated_and_pushed_answers(servers):
    first, second = servers
    nps = metrics.create_metric(first, SURVEY, "QID1", "nps")
    write_batch(first, batch([(f"R_{i}", f"2026-03-{1 + i % 20:02d}T{i % 24:02d}:00:00Z", i % 3 != 0, str(i % 11),
                               None, None) for i in range(200)]), ["QID1"])
    # A re-export after a crash: some responses again (one answer changed), some new, one without a date.
    write_batch(first, batch([("R_5", "2026-03-06T05:00:00Z", True, "0", None, None),
                              ("R_6", "2026-03-07T06:00:00Z", True, "6", None, None),
                              ("R_900", "2026-03-25T09:00:00Z", True, "10", None, None),
                              ("R_901", None, None, "7", None, None)]), ["QID1"])
    # A pushed response, then the export that brings it again.
    for _ in range(2):
        write_batch(first, batch([("R_902", "2026-03-26T09:00:00Z", True, "8", None, None)]), ["QID1"])

    for flt in (ScoreFilter(), ScoreFilter(start=dt.date(2026, 3, 5), end=dt.date(2026, 3, 7)),
                ScoreFilter(end=dt.date(2026, 3, 25)), ScoreFilter(finished_only=True)):
        with store.connect(second.store) as db:
            assert scores._value_counts(db, nps, flt) == _counted_from_answers(second, "QID1", flt), flt
    assert scores.metric_score(second, nps.id).respondents == 203


def test_the_live_view_of_one_server_shows_answers_stored_through_the_other_at_its_next_refresh(servers):
    first, second = servers
    nps = metrics.create_metric(first, SURVEY, "QID1", "nps")
    journey_id = _journey_with(first, nps.id)
    write_batch(first, batch([("R_1", "2026-03-01T10:00:00Z", True, "10", None, None)]), ["QID1"])
    shown = live.journey_view(second, journey_id)
    assert [c.n for step in shown.steps for c in step.cards] == [1]
    assert live.journey_view(second, journey_id).computed == shown.computed  # the cached view

    write_batch(first, batch([("R_2", "2026-03-01T11:00:00Z", True, "0", None, None)]), ["QID1"])

    assert [c.n for step in live.journey_view(second, journey_id).steps for c in step.cards] == [2]
