"""`python -m workspace score FILE --type … --question … [--json]` on real and realistic exports.

The real files are the recorded Qualtrics API downloads in ../shared/fixtures/qualtrics-real
("Cats Can Have a Little Salami" NPS, "Beskar Armor" CSAT with labels); the others are built
here in the exact CSV/JSON/NDJSON shapes of qualtrics-api.md §5.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scoring import MetricType, default_mapping, score
from tests.sandbox_fixtures import REAL_FIXTURES as REAL, needs_shared
from workspace.score_file import main, score_export_file

ROOT = Path(__file__).resolve().parent.parent
CATS = REAL / "export_file_cats_nps_csv.zip"
BESKAR = REAL / "export_file_beskar_csat_csv.zip"

# Cats, QID18 ("how likely are you to recommend…", exported as Q3.13), counted by hand from the
# CSV: 15 promoters (9–10), 4 passives (7–8), 9 detractors (0–6), 17 blank: (15 − 9) / 28.
CATS_NPS = 600 / 28


def qualtrics_csv(path: Path, question_id: str, answers: list[str], label: str = "How satisfied?") -> Path:
    """Write an export in the API's CSV layout: export tags, question texts, ImportIds, then rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["StartDate", "EndDate", "Status", "Finished", "RecordedDate", "ResponseId", "Q1"])
    writer.writerow(["Start Date", "End Date", "Response Type", "Finished", "Recorded Date", "Response ID", label])
    writer.writerow([
        '{"ImportId":"startDate","timeZone":"America/Denver"}', '{"ImportId":"endDate","timeZone":"America/Denver"}',
        '{"ImportId":"status"}', '{"ImportId":"finished"}', '{"ImportId":"recordedDate","timeZone":"America/Denver"}',
        '{"ImportId":"_recordId"}', json.dumps({"ImportId": question_id}),
    ])
    for i, answer in enumerate(answers):
        writer.writerow(["2024-05-01 09:00:00", "2024-05-01 09:02:00", "0", "1", "2024-05-01 09:02:00",
                         f"R_{i:015d}", answer])
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    return path


def json_records(question_id: str, answers: list[int | None]) -> list[dict]:
    """Response records as in a JSON export (values numeric, unanswered keys absent)."""
    records = []
    for i, answer in enumerate(answers):
        values = {"startDate": "2024-07-08T15:59:53Z", "recordedDate": "2024-07-08T16:00:23.994Z", "finished": 1,
                  "status": 0, "_recordId": f"R_{i:015d}"}
        if answer is not None:
            values[question_id] = answer
            values[f"{question_id}_NPS_GROUP"] = 1 if answer <= 6 else 2 if answer <= 8 else 3
        records.append({"responseId": f"R_{i:015d}", "values": values, "labels": {}})
    return records


def run_main(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- the real exports ----------------------------------------------------------------------

@needs_shared
def test_real_nps_from_the_0_to_10_column_equals_nps_from_the_exports_own_group_column() -> None:
    from_scores = score_export_file(CATS, MetricType.NPS, "QID18").score
    from_groups = score_export_file(CATS, MetricType.NPS, "QID18_NPS_GROUP").score
    assert from_scores.value == pytest.approx(CATS_NPS)
    assert from_groups.value == pytest.approx(from_scores.value)
    assert (from_scores.positive, from_scores.neutral, from_scores.negative, from_scores.respondents) == (15, 4, 9, 28)
    assert (from_groups.positive, from_groups.neutral, from_groups.negative) == (15, 4, 9)


@needs_shared
def test_real_nps_command_prints_score_counts_and_interval(capsys) -> None:
    code, out, err = run_main(capsys, CATS, "--type", "nps", "--question", "QID18")
    assert (code, err) == (0, "")
    assert "NPS 21.4" in out and "n = 28" in out and "95% CI" in out
    assert "Promoters 15 · Passives 4 · Detractors 9 · Excluded 0 · Unanswered 17" in out
    assert "Low confidence" in out


@needs_shared
def test_real_nps_command_json_has_the_contract_fields(capsys) -> None:
    code, out, _ = run_main(capsys, CATS, "--type", "nps", "--question", "Q3.13", "--json")
    result = json.loads(out)  # exactly one JSON object
    assert code == 0
    assert {"type", "score", "respondents", "positive", "neutral", "negative", "excluded"} <= result.keys()
    assert (result["type"], result["respondents"], result["display"]) == ("nps", 28, "21.4")
    assert result["score"] == pytest.approx(CATS_NPS)
    assert result["interval"]["low"] < result["score"] < result["interval"]["high"]
    assert result["low_confidence"] is True


@needs_shared
def test_several_questions_print_one_json_object_per_metric(capsys) -> None:
    code, out, _ = run_main(capsys, CATS, "--type", "nps", "--question", "QID18", "QID18_NPS_GROUP", "--json")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert (first["question"], second["question"]) == ("QID18", "QID18_NPS_GROUP")
    assert first["score"] == pytest.approx(second["score"]) == pytest.approx(CATS_NPS)


@needs_shared
def test_real_csat_export_with_labels_scores_on_the_five_point_wording(capsys) -> None:
    # Beskar QID16, useLabels export: 6 × 1, 7 × 2, 13 × 3, 8 × 4, 9 × 5 -> 136 / 43 = 3.16
    code, out, _ = run_main(capsys, BESKAR, "--type", "csat", "--question", "QID16", "--json")
    result = json.loads(out)
    assert code == 0 and result["answers_are"] == "labels"
    assert result["score"] == pytest.approx(136 / 43) and result["display"] == "3.16"
    assert (result["positive"], result["neutral"], result["negative"]) == (17, 13, 13)
    assert result["satisfied_pct"] == pytest.approx(1700 / 43)


# --- formats ---------------------------------------------------------------------------------

ANSWERS = [10, 9, 9, 7, 3, 0, None]  # 3 promoters, 1 passive, 2 detractors: NPS 16.7


@pytest.mark.parametrize("form", ["json", "ndjson", "json_zipped", "csv_zipped"])
def test_every_export_format_gives_the_same_score(tmp_path: Path, form: str) -> None:
    records = json_records("QID5", ANSWERS)
    if form.startswith("json"):
        path = tmp_path / "export.json"
        path.write_text(json.dumps({"responses": records}))
    elif form == "ndjson":
        path = tmp_path / "export.ndjson"
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    else:
        path = qualtrics_csv(tmp_path / "Survey.csv", "QID5", ["" if a is None else str(a) for a in ANSWERS])
    if form.endswith("zipped"):
        archive = tmp_path / "export.zip"
        with zipfile.ZipFile(archive, "w") as z:
            z.write(path, arcname=f"My Survey.{path.suffix.lstrip('.')}")
        path = archive
    result = score_export_file(path, MetricType.NPS, "QID5").score
    assert result.value == pytest.approx(100 / 6)
    assert (result.respondents, result.unanswered) == (6, 1)


def test_values_export_treats_far_off_scale_codes_as_not_an_answer(tmp_path: Path) -> None:
    # N/A recoded 99 in a values-only export: 5, 4, 3 count; 99 is Excluded -> CSAT 4.00
    path = qualtrics_csv(tmp_path / "csat.csv", "QID1", ["5", "4", "99", "3", ""])
    result = score_export_file(path, MetricType.CSAT, "QID1")
    assert (result.score.value, result.score.respondents, result.score.excluded) == (4.0, 3, 1)
    assert [row.value for row in result.mapping.rows][:5] == ["1", "2", "3", "4", "5"]


def test_exclude_option_marks_a_value_as_not_an_answer(tmp_path: Path, capsys) -> None:
    # CES 1-7 where 6 means "did not contact us" in this survey: 7, 7, 2 count -> 66.7 %
    path = qualtrics_csv(tmp_path / "ces.csv", "QID3", ["7", "7", "6", "2"])
    code, out, _ = run_main(capsys, path, "--type", "ces", "--question", "QID3", "--exclude", "6", "--json")
    result = json.loads(out)
    assert code == 0 and result["display"] == "66.7%" and result["excluded"] == 1


def test_ces_labels_export_excludes_na_labels(tmp_path: Path) -> None:
    answers = ["Extremely easy", "Slightly easy", "Moderately difficult", "Not applicable", ""]
    result = score_export_file(qualtrics_csv(tmp_path / "ces.csv", "QID4", answers), MetricType.CES, "QID4").score
    assert (result.value, result.respondents, result.excluded) == (pytest.approx(200 / 3), 3, 1)


def test_a_question_nobody_answered_prints_no_score(tmp_path: Path, capsys) -> None:
    path = qualtrics_csv(tmp_path / "empty.csv", "QID1", ["", ""])
    code, out, _ = run_main(capsys, path, "--type", "csat", "--question", "QID1", "--json")
    result = json.loads(out)
    assert code == 0 and result["score"] is None and result["display"] == "No score"
    code, out, _ = run_main(capsys, path, "--type", "csat", "--question", "QID1")
    assert "CSAT No score" in out and "No respondents" in out


def test_score_matches_scoring_the_same_answers_directly(tmp_path: Path) -> None:
    answers = [str(a) for a in [1, 2, 2, 3, 4, 5, 5, 5, 4, 4, 3]]
    path = qualtrics_csv(tmp_path / "csat.csv", "QID9", answers)
    mapping = default_mapping(MetricType.CSAT, [(str(i), str(i), None) for i in range(1, 6)])
    assert score_export_file(path, MetricType.CSAT, "QID9").score == score(MetricType.CSAT, answers, mapping)


# --- where the scale comes from (issue 9) ---------------------------------------------------------

def test_a_four_point_csat_is_scored_on_1_to_4_and_says_the_scale_was_inferred(tmp_path: Path, capsys) -> None:
    # the counts of qt_winter2021 QID7_1 (Very dissatisfied 1 … Very satisfied 4): 38, 35, 39, 38 -> 77/150 top
    answers = ["1"] * 38 + ["2"] * 35 + ["3"] * 39 + ["4"] * 38
    path = qualtrics_csv(tmp_path / "csat4.csv", "QID7_1", answers)
    code, out, _ = run_main(capsys, path, "--type", "csat", "--question", "QID7_1", "--json")
    result = json.loads(out)
    assert code == 0 and result["satisfied_pct"] == pytest.approx(7700 / 150)
    assert (result["positive"], result["neutral"], result["negative"]) == (77, 0, 73)
    assert result["scale_source"].startswith("inferred from values 1-4")
    code, out, _ = run_main(capsys, path, "--type", "csat", "--question", "QID7_1")
    assert "51.3% satisfied" in out and "Scale: inferred from values 1-4" in out


def test_json_export_labels_are_used_with_html_stripped_and_na_labels_excluded(tmp_path: Path) -> None:
    labels = {1: "Very <b>dissatisfied</b>", 2: "Dissatisfied", 3: "Satisfied", 4: "<p>Very satisfied</p>",
              5: "<strong>Not applicable</strong>", 6: "<span>Don\u2019t know</span>"}
    records = []
    for i, value in enumerate([4, 4, 3, 1, 5, 6, 6]):
        records.append({"responseId": f"R_{i:015d}", "values": {"recordedDate": "2024-07-08T16:00:23.994Z",
                        "finished": 1, "QID3": value}, "labels": {"QID3": labels[value]}})
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"responses": records}))
    result = score_export_file(path, MetricType.CSAT, "QID3")
    s = result.score
    assert (s.respondents, s.positive, s.negative, s.excluded) == (4, 3, 1, 3)
    assert s.satisfied_pct == pytest.approx(75.0)
    assert {row.label for row in result.mapping.rows} >= {"Not applicable", "Don\u2019t know", "Very dissatisfied"}
    assert result.scale_source.startswith("labels carried by the export")


def test_a_json_labels_export_is_scored_from_its_label_wording(tmp_path: Path) -> None:
    # useLabels=true: the values themselves are the choice texts, so the scale comes from their wording
    records = [{"responseId": f"R_{i}", "values": {"recordedDate": "2024-07-08T16:00:23.994Z", "QID2": label},
                "labels": {"QID2": label}}
               for i, label in enumerate(["Extremely easy", "Extremely easy", "Extremely difficult", "Not applicable"])]
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({"responses": records}))
    result = score_export_file(path, MetricType.CES, "QID2")
    assert (result.score.respondents, result.score.positive, result.score.negative, result.score.excluded) == (
        3, 2, 1, 1)
    assert result.answers_are == "labels" and result.scale_source.startswith("inferred from labels")


def test_an_export_without_recorded_date_scores_and_says_dates_are_unavailable(tmp_path: Path, capsys) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([["StartDate", "ResponseId", "Q1"], ["Start Date", "Response ID", "How likely?"],
                      ['{"ImportId":"startDate","timeZone":"Z"}', '{"ImportId":"_recordId"}', '{"ImportId":"QID1"}'],
                      ["2017-01-20 19:38:13", "R_1", "10"], ["2017-01-20 19:40:13", "R_2", "3"]])
    path = tmp_path / "custom_metadata.csv"
    path.write_text(buffer.getvalue())
    code, out, _ = run_main(capsys, path, "--type", "nps", "--question", "QID1", "--json")
    result = json.loads(out)
    assert code == 0 and result["score"] == 0.0 and result["dates_available"] is False
    code, out, _ = run_main(capsys, path, "--type", "nps", "--question", "QID1")
    assert "Dates: unavailable" in out


def test_a_definition_file_maps_the_export_like_the_app_does(sandbox, tmp_path: Path, capsys) -> None:
    """The sandbox CSAT's N/A is recoded 99 and labelled: with --definition it is Excluded by its label,
    and the figures equal the ground truth under the definition's mapping."""
    from qualtrics.client import QualtricsClient
    from tests.sandbox_fixtures import api_session

    survey_id = sandbox.survey_ids["csat"]
    saved = api_session(sandbox).get(f"{sandbox.base_url}/API/v3/survey-definitions/{survey_id}", timeout=30)
    definition = tmp_path / "definition.json"
    definition.write_text(saved.text)
    with QualtricsClient.with_api_token(sandbox.base_url, sandbox.api_token) as client:
        q = next(q for q in client.questions(survey_id) if q.suggested_type == "csat" and q.parent_id is None)
        path = client.export_responses(survey_id, [q.id], fmt="csv").save(tmp_path / "export.csv")
    code, out, err = run_main(capsys, path, "--type", "csat", "--question", q.id, "--definition", definition, "--json")
    assert code == 0, err
    result = json.loads(out)
    expected = score(MetricType.CSAT, sandbox.expected_answers(survey_id, q.id)["value"],
                     default_mapping(MetricType.CSAT, q.choices))
    assert result["scale_source"].startswith("survey definition definition.json")
    assert expected.excluded > 0 and result["score"] == pytest.approx(expected.value)
    assert [result[k] for k in ("respondents", "positive", "neutral", "negative", "excluded")] == [
        expected.respondents, expected.positive, expected.neutral, expected.negative, expected.excluded]


@pytest.mark.parametrize("content, message", [
    pytest.param(None, "No such definition file", id="missing"),
    pytest.param("{not json", "is not JSON", id="not_json"),
    pytest.param("[1, 2]", "is not a survey definition", id="a_list"),
])
def test_a_bad_definition_file_is_one_sentence(tmp_path: Path, capsys, content, message) -> None:
    path = qualtrics_csv(tmp_path / "csat.csv", "QID1", ["5", "4"])
    definition = tmp_path / "definition.json"
    if content is not None:
        definition.write_text(content)
    code, out, err = run_main(capsys, path, "--type", "csat", "--question", "QID1", "--definition", definition)
    assert code == 1 and out == "" and message in err and err.count("\n") == 1


# --- errors: one sentence on stderr, non-zero exit, no traceback ------------------------------

@needs_shared
def test_unknown_question_lists_the_available_ones(capsys) -> None:
    code, out, err = run_main(capsys, CATS, "--type", "nps", "--question", "QID99")
    assert code != 0 and out == ""
    assert "QID99 is not in" in err and "QID18" in err and "QID1," in err
    assert err.count("\n") == 1


def test_labels_with_unknown_wording_are_named(tmp_path: Path, capsys) -> None:
    path = qualtrics_csv(tmp_path / "odd.csv", "QID1", ["Meh", "Somewhat satisfied", "Wow"])
    code, _, err = run_main(capsys, path, "--type", "csat", "--question", "QID1")
    assert code != 0 and "'Meh'" in err and "'Wow'" in err and err.count("\n") == 1


def _damaged(data: bytes) -> bytes:
    return data[:400] + bytes(200) + data[600:]


@pytest.mark.parametrize(
    "name, content",
    [
        pytest.param("broken.zip", lambda: CATS.read_bytes()[:900], id="truncated_zip", marks=needs_shared),
        pytest.param("damaged.zip", lambda: _damaged(CATS.read_bytes()), id="zip_with_damaged_member",
                     marks=needs_shared),
        pytest.param("notes.csv", lambda: b"just,some,csv\nwithout,qualtrics,headers\n1,2,3\n",
                     id="csv_without_header_rows"),
        pytest.param("cut.json", lambda: b'{"responses":[{"responseId":"R_1","values":{"QID5":', id="truncated_json"),
    ],
)
def test_malformed_files_fail_with_one_sentence(tmp_path: Path, capsys, name: str, content) -> None:
    path = tmp_path / name
    path.write_bytes(content())
    code, out, err = run_main(capsys, path, "--type", "nps", "--question", "QID5")
    assert code != 0 and out == ""
    assert err.startswith("Error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "again" in err  # every sentence tells the user what to do


def test_missing_file_fails_with_one_sentence(tmp_path: Path, capsys) -> None:
    code, _, err = run_main(capsys, tmp_path / "nope.csv", "--type", "nps", "--question", "QID5")
    assert code != 0 and "nope.csv" in err and err.count("\n") == 1


# --- the embedded sandbox, over real HTTP -------------------------------------------------------

@pytest.mark.parametrize("role, fmt", [("nps", "csv"), ("csat", "csv"), ("ces", "json")])
def test_sandbox_export_scores_like_its_ground_truth_under_the_definition_mapping(
    sandbox, tmp_path: Path, role: str, fmt: str
) -> None:
    """The file path (values found, no definition) and the app path (definition's choices) agree,
    including the sandbox CSAT's N/A choice recoded 99."""
    from qualtrics.client import QualtricsClient

    metric = MetricType(role)
    survey_id = sandbox.survey_ids[role]
    with QualtricsClient.with_api_token(sandbox.base_url, sandbox.api_token) as client:
        q = next(q for q in client.questions(survey_id) if q.suggested_type == role and q.parent_id is None)
        path = client.export_responses(survey_id, [q.id], fmt=fmt).save(tmp_path / f"export.{fmt}")
    from_file = score_export_file(path, metric, q.id).score
    truth = sandbox.expected_answers(survey_id, q.id)
    expected = score(metric, truth["value"], default_mapping(metric, q.choices))
    assert expected.respondents > 30
    assert role != "csat" or expected.excluded > 0  # the sandbox CSAT's N/A (99) is exercised
    assert from_file.value == pytest.approx(expected.value)
    assert (from_file.respondents, from_file.positive, from_file.neutral, from_file.negative, from_file.excluded) == (
        expected.respondents, expected.positive, expected.neutral, expected.negative, expected.excluded)


# --- as a real process ------------------------------------------------------------------------

def _cli(*args: str, module: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


@needs_shared
@pytest.mark.slow
def test_workspace_score_command_prints_the_real_nps() -> None:
    done = _cli("score", str(CATS), "--type", "nps", "--question", "QID18", "--json", module="workspace")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["score"] == pytest.approx(CATS_NPS)
    broken = _cli("score", str(CATS) + ".missing", "--type", "nps", "--question", "QID18", module="workspace")
    assert broken.returncode != 0 and "Traceback" not in broken.stderr


@needs_shared
@pytest.mark.slow
def test_score_module_runs_as_a_process_without_tracebacks(tmp_path: Path) -> None:
    broken = tmp_path / "export.zip"
    broken.write_bytes(CATS.read_bytes()[:900])
    done = _cli(str(broken), "--type", "nps", "--question", "QID18", module="workspace.score_file")
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.startswith("Error: ") and "Traceback" not in done.stderr
    good = _cli(str(CATS), "--type", "nps", "--question", "QID18", module="workspace.score_file")
    assert good.returncode == 0 and "NPS 21.4" in good.stdout
