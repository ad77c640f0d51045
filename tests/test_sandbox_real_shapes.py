"""The sandbox speaks like real Qualtrics where the product's own assumptions used to hide the difference: PHP lists,
40-character tokens, loop & merge columns, carry-forward matrices, the QSF shape. Held key by key against the real
files in ../shared/fixtures (those checks skip when ../shared is absent)."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pandas as pd
import pytest

from qualtrics.sandbox.definitions import php_array
from tests.sandbox_fixtures import REAL_FIXTURES, api_session, run_export, shared_fixture

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

CORPUS = REAL_FIXTURES.parent / "qualtrics-corpus"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/fixtures/qualtrics-corpus is absent")


def corpus_qsf(name: str) -> dict:
    return json.loads((CORPUS / "qsf" / name).read_text())


def qsf_question(qsf: dict, qid: str) -> dict:
    return next(e["Payload"] for e in qsf["SurveyElements"] if e["Element"] == "SQ" and e["PrimaryAttribute"] == qid)


def qsf_blocks(qsf: dict) -> list[dict]:
    payload = next(e["Payload"] for e in qsf["SurveyElements"] if e["Element"] == "BL")
    return list(payload.values()) if isinstance(payload, dict) else payload


def definition(sb, role: str, fmt: str | None = None) -> dict:
    query = "?format=qsf" if fmt else ""
    response = api_session(sb).get(f"{sb.base_url}/API/v3/survey-definitions/{sb.survey_ids[role]}{query}")
    assert response.status_code == 200
    return response.json()["result"]


def export_csv(sb, role: str, **body) -> pd.DataFrame:
    result, response = run_export(api_session(sb), sb.base_url, sb.survey_ids.get(role, role),
                                  {"format": "csv", **body})
    assert result["status"] == "complete"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        raw = archive.read(archive.namelist()[0])
    return pd.read_csv(io.BytesIO(raw), header=None, dtype=str, keep_default_na=False)


def test_api_token_has_forty_alphanumerics_like_real_tokens(sandbox):
    assert re.fullmatch(r"[A-Za-z0-9]{40}", sandbox.api_token)
    assert api_session(sandbox).get(f"{sandbox.base_url}/API/v3/whoami").status_code == 200


def test_keyed_collections_are_lists_exactly_when_php_would_write_lists():
    assert php_array({"0": "a", "1": "b"}) == ["a", "b"]
    assert php_array({}) == []
    assert php_array({"1": "a", "2": "b"}) == {"1": "a", "2": "b"}
    assert php_array({"1": "a", "0": "b"}) == {"1": "a", "0": "b"}  # out of order: PHP keeps an object


def test_loop_and_merge_block_has_the_real_looping_options(sandbox):
    blocks = definition(sandbox, "loop")["Blocks"]
    looped = [b for b in blocks.values() if b["Options"].get("Looping") == "Static"]
    assert len(looped) == 1
    static = looped[0]["Options"]["LoopingOptions"]["Static"]
    assert static == {"1": {"1": "Dashboards"}, "2": {"1": "Alerts"}, "3": {"1": "Exports"}}
    if CORPUS.is_dir():  # same keys as a real loop & merge block (claessens 2025)
        real = next(b for b in qsf_blocks(corpus_qsf("claessens_ai_moral_decisions_2025.qsf"))
                    if (b.get("Options") or {}).get("Looping") == "Static")
        assert set(looped[0]) == set(real)
        assert set(looped[0]["Options"]) <= set(real["Options"])
        assert set(real["Options"]["LoopingOptions"]["Static"]["1"]) == set(static["1"])


def test_loop_and_merge_export_has_a_column_per_iteration_holding_the_ground_truth(sandbox):
    frame = export_csv(sandbox, "loop")
    names, import_ids = list(frame.iloc[0]), [json.loads(c)["ImportId"] for c in frame.iloc[2]]
    assert [n for n in names if n.endswith("_Q1")] == ["1_Q1", "2_Q1", "3_Q1"]
    assert [i for i in import_ids if i.endswith("_QID1")] == ["1_QID1", "2_QID1", "3_QID1"]
    data = frame.iloc[3:]
    data.columns = import_ids
    for n in (1, 2, 3):
        truth = sandbox.expected_answers(sandbox.survey_ids["loop"], f"{n}_QID1")
        answered = data[data[f"{n}_QID1"] != ""]
        assert dict(zip(answered["_recordId"], answered[f"{n}_QID1"])) == dict(zip(truth.responseId, truth.value))
    scores = sandbox.known_scores()
    assert scores["loop:1_QID1"] > scores["loop:2_QID1"]  # Alerts are the sore spot


def test_camelcase_survey_names_loop_columns_like_the_legacy_api(sandbox):
    body = api_session(sandbox).get(f"{sandbox.base_url}/API/v3/surveys/{sandbox.survey_ids['loop']}").json()
    result = body["result"]
    assert {"Q1(1)", "Q1(2)", "Q1(3)"} <= set(result["exportColumnMap"])
    (loop,) = result["loopAndMerge"].values()
    assert loop["columnNames"] == {"field1": ["Dashboards", "Alerts", "Exports"]}
    if CORPUS.is_dir():
        recorded = json.loads((CORPUS / "api" / "legacy_political_survey_2022.json").read_text())["result"]
        real_loop = next(iter(recorded["loopAndMerge"].values()))
        assert set(loop) == set(real_loop) and set(loop["randomizationMeta"]) == set(real_loop["randomizationMeta"])


def test_carry_forward_matrix_has_the_real_dynamic_choices_shape(sandbox):
    matrix = definition(sandbox, "carry")["Questions"]["QID2"]
    assert matrix["Choices"] == [] and matrix["ChoiceOrder"] == []
    assert matrix["DynamicChoices"]["Locator"] == "q://QID1/ChoiceGroup/SelectedChoices"
    assert matrix["ChoiceDataExportTags"] == {f"x{i}": f"Q2_x{i}" for i in range(1, 5)}
    if CORPUS.is_dir():
        real = qsf_question(corpus_qsf("qt_sample_survey_winter2021.qsf"), "QID38")
        assert set(matrix["DynamicChoices"]) == set(real["DynamicChoices"])
        assert {k for k in real if k not in ("DefaultChoices", "GradingData", "RecodeValues")} <= set(matrix)
        assert type(matrix["DynamicChoicesData"]) is type(real["DynamicChoicesData"])


def test_carry_forward_export_rates_only_the_channels_selected(sandbox):
    frame = export_csv(sandbox, "carry")
    names = list(frame.iloc[0])
    ids = [json.loads(c) for c in frame.iloc[2]]
    assert [n for n in names if n.startswith("Q2_")] == ["Q2_x1", "Q2_x2", "Q2_x3", "Q2_x4"]
    # a multiple-answer question breaks out one column per choice, as the real cats export does (Q35_1 ...)
    breakout = [i for i in ids if i["ImportId"] == "QID1"]
    assert breakout == [{"ImportId": "QID1", "choiceId": str(c)} for c in range(1, 5)]
    data = frame.iloc[3:]
    for n in range(1, 5):
        selected, rated = data[names.index(f"Q1_{n}")], data[names.index(f"Q2_x{n}")]
        assert ((selected == "1") == (rated != "")).all()
        truth = sandbox.expected_answers(sandbox.survey_ids["carry"], f"QID2_x{n}")
        assert sorted(rated[rated != ""]) == sorted(truth.value)


def test_carry_forward_json_lists_the_selected_choices(sandbox):
    result, response = run_export(api_session(sandbox), sandbox.base_url, sandbox.survey_ids["carry"],
                                  {"format": "json", "compress": False})
    records = response.json()["responses"]
    for record in records[:200]:
        rated = [k.split("_x")[1] for k in record["values"] if k.startswith("QID2_x")]
        assert record["values"].get("QID1", []) == rated
        assert "QID1_1" not in record["values"]


def test_qsf_format_has_the_real_qsf_elements(sandbox):
    mine = definition(sandbox, "matrix", fmt="qsf")
    recorded = json.loads(shared_fixture("qualtrics-real/survey_definition_qsf_SV_6s93xhVtm1e4j3v.json").read_text())[
        "result"]
    assert list(mine) == list(recorded)
    assert list(mine["SurveyEntry"]) == list(recorded["SurveyEntry"])
    kinds = [e["Element"] for e in mine["SurveyElements"]]
    assert {"BL", "FL", "SO", "SCO", "SQ", "RS"} <= set(kinds)
    assert all(set(e) == set(recorded["SurveyElements"][0]) for e in mine["SurveyElements"])
    blocks = next(e["Payload"] for e in mine["SurveyElements"] if e["Element"] == "BL")
    assert isinstance(blocks, list)  # keys 0..n-1: a list, as in the recording
    pascal = definition(sandbox, "matrix")
    assert {e["PrimaryAttribute"]: e["Payload"] for e in mine["SurveyElements"] if e["Element"] == "SQ"} == \
        pascal["Questions"]


def test_nps_choices_are_a_list_in_the_definition_and_objects_in_the_camelcase_survey(sandbox):
    nps = definition(sandbox, "nps")["Questions"]["QID1"]
    assert nps["Choices"] == [{"Display": str(v)} for v in range(11)]
    assert nps["ChoiceOrder"] == [str(v) for v in range(11)]
    camel = api_session(sandbox).get(f"{sandbox.base_url}/API/v3/surveys/{sandbox.survey_ids['nps']}").json()
    assert list(camel["result"]["questions"]["QID1"]["choices"]) == [str(v) for v in range(11)]
    if CORPUS.is_dir():  # the real QSF NPS (2019) and the real camelCase NPS (2025) have these exact shapes
        real = qsf_question(corpus_qsf("sp_test_survey_2019_full.qsf"), "QID15")
        assert type(nps["Choices"]) is type(real["Choices"]) and nps["Choices"] == real["Choices"]
        assert nps["ChoiceOrder"] == real["ChoiceOrder"]
        legacy = json.loads((CORPUS / "api" / "legacy_cats_nps_2025.json").read_text())["result"]
        assert isinstance(legacy["questions"]["QID18"]["choices"], dict)


def test_trash_block_holds_a_question_the_flow_camelcase_and_exports_leave_out(sandbox):
    pascal = definition(sandbox, "nps")
    (trash,) = [b for b in pascal["Blocks"].values() if b["Type"] == "Trash"]
    assert trash["Description"] == "Trash / Unused Questions" and "Options" not in trash
    assert [e["QuestionID"] for e in trash["BlockElements"]] == ["QID3"]
    assert "QID3" in pascal["Questions"]
    assert trash["ID"] not in {f.get("ID") for f in pascal["SurveyFlow"]["Flow"]}
    recorded = json.loads((REAL_FIXTURES / "survey_definition_SV_3gbwq8aJgqPwQDP_beskar_csat.json").read_text()) \
        if REAL_FIXTURES.is_dir() else None
    if recorded:
        real_trash = next(b for b in recorded["result"]["Blocks"].values() if b["Type"] == "Trash")
        assert set(trash) == set(real_trash) and trash["Description"] == real_trash["Description"]
    camel = api_session(sandbox).get(f"{sandbox.base_url}/API/v3/surveys/{sandbox.survey_ids['nps']}").json()
    assert "QID3" not in camel["result"]["questions"]
    frame = export_csv(sandbox, "nps")
    assert not any(json.loads(c)["ImportId"].startswith("QID3") for c in frame.iloc[2])
    from qualtrics.definitions import parse_definition

    assert "QID3" not in {q.id for q in parse_definition(pascal).questions}  # the product offers it no more
