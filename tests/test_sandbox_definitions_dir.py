"""``--definitions DIR``: real QSF files become surveys of the sandbox account, served as the file has them, listed,
and exportable with responses that fit their questions (continuation included)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile

import pandas as pd
import pytest

from qualtrics.definitions import parse_definition
from qualtrics.sandbox import Sandbox
from tests.sandbox_fixtures import REAL_FIXTURES, ROOT, api_session, run_export

QSF_DIR = REAL_FIXTURES.parent / "qualtrics-corpus" / "qsf"
# engine_independent: opens no store, so a PostgreSQL run deselects it (tests/engines.py)
pytestmark = [pytest.mark.skipif(not QSF_DIR.is_dir(), reason="../shared/fixtures/qualtrics-corpus is absent"), pytest.mark.engine_independent]
FILES = ("qt_mc_with_na_2020.qsf", "qt_single_answer_matrix_2016.qsf")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("definitions")
    for name in FILES:
        shutil.copy(QSF_DIR / name, folder / name)
    (folder / "broken.qsf").write_text("{not json")
    (folder / "notes.txt").write_text("not a qsf, ignored")
    with Sandbox(seed=5, definitions=folder) as sb:
        yield sb, folder


def by_file(sb: Sandbox, name: str):
    survey_id = json.loads((QSF_DIR / name).read_text())["SurveyEntry"]["SurveyID"]
    return sb.survey(survey_id)


def test_every_qsf_becomes_a_listed_survey_and_a_broken_file_is_named(loaded):
    sb, _ = loaded
    assert sorted(p.path.name for p in sb.definition_problems) == ["broken.qsf"]
    assert "JSONDecodeError" in str(sb.definition_problems[0])
    listed = api_session(sb).get(f"{sb.base_url}/API/v3/surveys").json()["result"]["elements"]
    ids = [s["id"] for s in listed]
    for name in FILES:
        survey = by_file(sb, name)
        assert survey.id in ids and survey.name == json.loads((QSF_DIR / name).read_text())["SurveyEntry"]["SurveyName"]


def test_qsf_is_served_verbatim_and_pascal_case_is_derived_from_it(loaded):
    sb, _ = loaded
    session = api_session(sb)
    for name in FILES:
        original = json.loads((QSF_DIR / name).read_text())
        survey = by_file(sb, name)
        url = f"{sb.base_url}/API/v3/survey-definitions/{survey.id}"
        assert session.get(url + "?format=qsf").json()["result"] == original
        pascal = session.get(url).json()["result"]
        assert pascal["Questions"] == {e["PrimaryAttribute"]: e["Payload"] for e in original["SurveyElements"]
                                       if e["Element"] == "SQ"}
        recorded = json.loads((REAL_FIXTURES / "survey_definition_SV_3gbwq8aJgqPwQDP_beskar_csat.json").read_text())
        assert list(pascal) == list(recorded["result"])
        # the product reads the same questions from both shapes
        assert parse_definition(pascal).questions == parse_definition(original).questions
        camel = session.get(f"{sb.base_url}/API/v3/surveys/{survey.id}").json()["result"]
        assert camel["id"] == survey.id and camel["questions"]


def _export(sb: Sandbox, survey_id: str, **body) -> tuple[dict, pd.DataFrame]:
    result, response = run_export(api_session(sb), sb.base_url, survey_id, {"format": "csv", **body})
    assert result["status"] == "complete", result
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        raw = archive.read(archive.namelist()[0])
    frame = pd.read_csv(io.BytesIO(raw), header=None, dtype=str, keep_default_na=False)
    frame.columns = [json.loads(c)["ImportId"] for c in frame.iloc[2]]
    return result, frame.iloc[3:]


def test_exports_have_every_trackable_column_with_answers_from_its_choices(loaded):
    sb, _ = loaded
    for name in FILES:
        survey = by_file(sb, name)
        catalog = parse_definition(json.loads((QSF_DIR / name).read_text()))
        _, data = _export(sb, survey.id, allowContinuation=True)
        assert len(data) == sb.store.total(survey)
        for question in catalog.questions:
            values = set(data[question.id]) - {""}
            assert values and values <= {c.value for c in question.choices}, question.id
            truth = sb.expected_answers(survey.id, question.id)
            answered = data[data[question.id] != ""]
            assert dict(zip(answered["_recordId"], answered[question.id])) == dict(zip(truth.responseId, truth.value))
        for text in catalog.open_text:
            assert (data[text.id] != "").any()


def test_a_loaded_survey_exports_with_continuation_like_the_demo_surveys(loaded):
    sb, _ = loaded
    survey = by_file(sb, "qt_mc_with_na_2020.qsf")
    first, _ = _export(sb, survey.id, allowContinuation=True)
    again, nothing = _export(sb, survey.id, continuationToken=first["continuationToken"], allowContinuation=True)
    assert len(nothing) == 0
    sb.add_responses(survey.id, 3)
    _, new = _export(sb, survey.id, continuationToken=again["continuationToken"])
    assert len(new) == 3


def test_known_score_of_a_loaded_question_is_the_plain_computation(loaded):
    sb, _ = loaded
    survey = by_file(sb, "qt_single_answer_matrix_2016.qsf")
    question = parse_definition(survey.qsf).questions[0]
    values = sb.expected_answers(survey.id, question.id)["value"].astype(float)
    assert sb.known_score(survey.id, question.id, "csat") == pytest.approx(values.mean())


def test_cli_loads_a_folder_and_names_what_it_skipped(tmp_path):
    shutil.copy(QSF_DIR / FILES[0], tmp_path / FILES[0])
    (tmp_path / "broken.qsf").write_text("[]")
    process = subprocess.Popen([sys.executable, "-m", "qualtrics.sandbox", "--definitions", str(tmp_path)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline().strip() for _ in range(4)]
        assert lines[-1].startswith("QUALTRICS_API_TOKEN=")
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert "Skipped broken.qsf: ValueError: not a QSF file" in err
    assert "Loaded SV_" in err and "Multiple Choice with Not Applicable" in err
    missing = subprocess.run([sys.executable, "-m", "qualtrics.sandbox", "--definitions", str(tmp_path / "nope")],
                             cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert missing.returncode == 2 and "no such folder" in missing.stderr


@pytest.mark.slow
def test_every_corpus_qsf_loads_and_exports_every_column_the_product_reads():
    """The whole corpus (NPS as lists, loops, carry-forward, Trash, 300-question surveys) as one account."""
    with Sandbox(seed=2, definitions=QSF_DIR) as sb:
        assert [str(p) for p in sb.definition_problems] == []
        assert len(sb.imported) == len(list(QSF_DIR.glob("*.qsf")))
        for survey in sb.imported:
            catalog = parse_definition(survey.qsf)
            _, data = _export(sb, survey.id)
            assert len(data) == sb.store.total(survey)
            wanted = [q.id for q in catalog.questions] + [t.id for t in catalog.open_text]
            assert set(wanted) <= set(data.columns), survey.name
            for question in catalog.questions:
                assert set(data[question.id]) - {""} <= {c.value for c in question.choices}, question.id


def test_the_apps_sandbox_takes_the_folder_and_names_a_wrong_one_without_failing(tmp_path, caplog):
    from workspace.bootstrap import embedded_sandbox

    shutil.copy(QSF_DIR / FILES[0], tmp_path / FILES[0])
    (tmp_path / "broken.qsf").write_text("{")
    with caplog.at_level("INFO", logger="journey_pulse"):
        loaded = embedded_sandbox(False, "http://localhost:8501/api/qualtrics/callback", str(tmp_path))
        missing = embedded_sandbox(False, "http://localhost:8501/api/qualtrics/callback", str(tmp_path / "nope"))
    assert [s.name for s in loaded.imported] == ["Multiple Choice with Not Applicable"]
    assert missing.imported == [] and missing.survey_ids == loaded.survey_ids  # the demo surveys still work
    text = caplog.text
    assert "skipped broken.qsf" in text and "no such folder" in text and "loaded" in text
