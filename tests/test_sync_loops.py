"""Loop & merge and carry-forward questions sync from their real columns, against the sandbox over HTTP.

The sandbox's "loop" survey asks one satisfaction question per feature in a loop & merge block (export columns
``1_QID1``, ``2_QID1``, ``3_QID1``), its "carry" survey rates the channels picked in a multiple-answer question
(``QID2_x1`` …). The catalog offers those ids; the sync must ask Qualtrics for the parent question (``QID1``,
``QID2``) and store each column's answers exactly as the sandbox recorded them.
"""

from __future__ import annotations

from workspace import catalog, metrics, scores
from workspace.connection import open_client
from workspace.sync import sync_survey

from tests.test_workspace_support import assert_stored_equals_truth, settings_for


def test_every_loop_of_a_loop_and_merge_question_syncs_exactly(tmp_path, sandbox):
    s = settings_for(tmp_path, sandbox)
    survey_id = sandbox.survey_ids["loop"]
    with open_client(s) as client:
        offered = catalog.refresh_questions(s, client, survey_id)
    looped = [q.id for q in offered if q.parent_id == "QID1"]
    assert looped == ["1_QID1", "2_QID1", "3_QID1"]
    assert [q.row_label for q in offered][:1] == ["Loop 1 (Dashboards)"]
    made = [metrics.create_metric(s, survey_id, qid, "csat") for qid in looped]

    result = sync_survey(s, survey_id)
    assert result.status == "succeeded", result.message
    for qid in looped:
        assert assert_stored_equals_truth(s, sandbox, survey_id, qid) > 0, qid
    assert all(scores.metric_score(s, m.id).respondents > 0 for m in made)
    # a re-sync continues from the token and finds nothing new for any loop
    again = sync_survey(s, survey_id)
    assert again.status == "succeeded" and again.answers == 0


def test_carried_forward_rows_sync_from_their_x_columns(tmp_path, sandbox):
    s = settings_for(tmp_path, sandbox)
    survey_id = sandbox.survey_ids["carry"]
    with open_client(s) as client:
        offered = catalog.refresh_questions(s, client, survey_id)
    rows = [q.id for q in offered if q.parent_id == "QID2"]
    assert rows == ["QID2_x1", "QID2_x2", "QID2_x3", "QID2_x4"]
    for qid in rows:
        metrics.create_metric(s, survey_id, qid, "csat")
    result = sync_survey(s, survey_id)
    assert result.status == "succeeded", result.message
    assert sum(assert_stored_equals_truth(s, sandbox, survey_id, qid) for qid in rows) > 0
    skipped = {q.id: q.reason for q in catalog.skipped_questions(s, survey_id)}
    assert "multiple-answer" in skipped["QID1"]
