"""What the catalog offers for loop & merge and carry-forward questions is what real exports hold and what
an export request must name: column ImportIds ``2_QID4137_1`` / ``QID38_x4``, requested as ``QID4137`` / ``QID38``."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from qualtrics.definitions import parse_definition
from qualtrics.export import parent_question_ids
from qualtrics.exportfile import read_export_file
from tests.sandbox_fixtures import shared_fixture

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)


def test_an_export_asks_for_the_parent_question_of_every_offered_column() -> None:
    assert parent_question_ids(["2_QID4137_1", "1_QID4137_3", "QID38_x4", "QID2_TEXT", "QID7_3", "QID1"]) == [
        "QID4137", "QID38", "QID2", "QID7", "QID1"]


def test_loop_and_merge_rows_of_the_real_political_survey_are_offered_per_loop() -> None:
    """GET /surveys camelCase: QID4137 (matrix, 3 rows) sits in block BL_6nyZEAd1k506ykm, whose loopAndMerge
    has 5 statements in field1; the survey's in-progress export (left out of the corpus for its panel ids) has
    columns 1_QID4137_1 … 5_QID4137_3 (SOURCES.md)."""
    catalog = parse_definition(json.loads(
        shared_fixture("qualtrics-corpus/api/legacy_political_survey_2022.json").read_text("utf-8")))
    looped = [q for q in catalog.questions if q.parent_id == "QID4137"]
    assert [q.id for q in looped] == [f"{loop}_QID4137_{row}" for loop in range(1, 6) for row in range(1, 4)]
    first = looped[0]
    assert first.row_label.startswith("Loop 1 (Bringing health to humanity") and "believable" in first.row_label
    assert "${lm://Field/1}" not in first.text and first.text.startswith("Bringing health to humanity")
    assert parent_question_ids([q.id for q in looped]) == ["QID4137"]


def test_a_question_driven_loop_is_offered_per_carried_choice() -> None:
    """sp_test_survey_2019_full.qsf: block BL_0kZlCbnIIrUmCRn (QID31 SAVR, QID32 MAVR, QID33 text) loops over
    the choices 1-3 selected in QID30 (LoopingOptions.Static keys 1, 2, 3)."""
    catalog = parse_definition(json.loads(
        shared_fixture("qualtrics-corpus/qsf/sp_test_survey_2019_full.qsf").read_text("utf-8")))
    assert [q.id for q in catalog.questions if q.parent_id == "QID31"] == ["1_QID31", "2_QID31", "3_QID31"]
    assert [q.export_tag for q in catalog.questions if q.parent_id == "QID31"] == ["1_Q31", "2_Q31", "3_Q31"]
    # Static holds no field text for a question-driven loop: each loop is named by the QID30 choice it follows
    assert [q.row_label for q in catalog.questions if q.parent_id == "QID31"] == [
        "Loop 1 (Loop choice 1)", "Loop 2 (Loop choice 2)", "Loop 3 (Loop choice 3)"]
    assert "multiple-answer" in {s.id: s.reason for s in catalog.skipped}["QID32"]
    assert [c.id for c in catalog.open_text if c.question_id == "QID33"] == [
        "1_QID33_TEXT", "2_QID33_TEXT", "3_QID33_TEXT"]


def test_carried_forward_matrix_rows_read_their_real_columns() -> None:
    """Winter 2021 sample survey: matrix QID38 rates the sports chosen in QID36 (choices 4-10); the real
    DataTable export has columns QID38_x4 … QID38_x10 holding the 1-4 satisfaction recodes."""
    catalog = parse_definition(json.loads(
        shared_fixture("qualtrics-corpus/qsf/qt_sample_survey_winter2021.qsf").read_text("utf-8")))
    rows = [q for q in catalog.questions if q.parent_id == "QID38"]
    assert [q.id for q in rows] == [f"QID38_x{c}" for c in range(4, 11)]
    assert [q.row_label for q in rows] == ["Soccer", "Softball", "Crew", "Track", "Baseball", "Football",
                                           "Basketball"]
    assert all(q.suggested_type == "csat" and q.export_tag.startswith("matrix_carryforward_x") for q in rows)
    export = shared_fixture("qualtrics-corpus/exports/qt_winter2021_datatable_2021-01-21.csv")
    frame = pd.concat(batch.frame for batch in read_export_file(export, [q.id for q in rows]))
    values = {c.value for c in rows[0].choices}
    for q in rows:
        answered = frame[q.id].dropna()
        assert set(answered) <= values, q.id
    assert frame[[q.id for q in rows]].notna().any().all()


def test_a_question_driven_loop_without_listed_loops_runs_once_per_choice_of_its_source() -> None:
    definition = json.loads(shared_fixture("qualtrics-corpus/qsf/sp_test_survey_2019_full.qsf").read_text("utf-8"))
    blocks = next(e["Payload"] for e in definition["SurveyElements"] if e["Element"] == "BL")
    looped = next(b for b in blocks if b["ID"] == "BL_0kZlCbnIIrUmCRn")
    looped["Options"]["LoopingOptions"]["Static"] = []  # PHP's empty array
    catalog = parse_definition(definition)
    assert [q.id for q in catalog.questions if q.parent_id == "QID31"] == ["1_QID31", "2_QID31", "3_QID31"]
    assert [q.row_label for q in catalog.questions if q.parent_id == "QID31"][0] == "Loop 1 (Loop choice 1)"


def test_loop_blocks_whose_loops_are_unknown_are_skipped_not_offered_under_wrong_ids() -> None:
    definition = json.loads(
        shared_fixture("qualtrics-corpus/api/legacy_political_survey_2022.json").read_text("utf-8"))
    definition["result"]["loopAndMerge"]["BL_6nyZEAd1k506ykm"].pop("columnNames")
    catalog = parse_definition(definition)
    assert not [q for q in catalog.questions if q.parent_id == "QID4137" or q.id.startswith("QID4137")]
    assert "loop & merge block whose loops the definition does not list" in {
        s.id: s.reason for s in catalog.skipped}["QID4137"]
    assert [q.id for q in catalog.questions if q.parent_id == "QID4143"][:1] == ["1_QID4143_1"]
