"""Survey definitions -> trackable questions, on the real recorded Qualtrics responses (both shapes + QSF)."""

from __future__ import annotations

import copy
import json

import pytest

from qualtrics.definitions import parse_definition, scale_of
from qualtrics.errors import QualtricsError, UnsupportedQuestion
from qualtrics.models import Choice, Scale
from qualtrics.text import plain_text
from tests.sandbox_fixtures import shared_fixture

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

BESKAR_PASCAL = "survey_definition_SV_3gbwq8aJgqPwQDP_beskar_csat.json"
BESKAR_CAMEL = "get_survey_SV_3gbwq8aJgqPwQDP_beskar_csat.json"
CATS_CAMEL = "get_survey_SV_56icaa9YAafpAqx_cats_nps.json"
SOURDOUGH_CAMEL = "get_survey_SV_5BJRo2RGHajIlOB_sourdough_matrix.json"
QSF = "survey_definition_qsf_SV_6s93xhVtm1e4j3v.json"


def load(name: str) -> dict:
    return json.loads(shared_fixture(f"qualtrics-real/{name}").read_text())


def by_id(catalog):
    return {q.id: q for q in catalog.questions}


@pytest.mark.parametrize("fixture", [BESKAR_PASCAL, BESKAR_CAMEL])
def test_beskar_csat_question_reads_the_same_from_both_definition_shapes(fixture):
    catalog = parse_definition(load(fixture))
    assert (catalog.survey_id, catalog.survey_name) == ("SV_3gbwq8aJgqPwQDP", "Beskar Armor")
    q = by_id(catalog)["QID16"]
    assert q.export_tag == "Q16"
    assert q.text == "Overall, how satisfied are you with your beskar armor?"
    assert (q.type, q.selector) == ("MC", "SAVR")
    # display order 5..1, HTML (<strong>, <a>, <span style>) stripped from the labels
    assert [(c.value, c.label, c.recode) for c in q.choices] == [
        ("5", "Extremely satisfied", None),
        ("4", "Somewhat satisfied", None),
        ("3", "Neither satisfied nor dissatisfied", None),
        ("2", "Somewhat dissatisfied", None),
        ("1", "Extremely dissatisfied", None),
    ]
    assert q.scale == Scale("1-5", 1.0, 5.0)
    assert q.suggested_type == "csat"
    assert q.parent_id is None and q.row_label is None


@pytest.mark.parametrize("fixture", [BESKAR_PASCAL, BESKAR_CAMEL])
def test_identity_recodes_and_variable_names_leave_the_exported_value_at_the_choice_id(fixture):
    q63 = by_id(parse_definition(load(fixture)))["QID63"]
    assert [(c.value, c.label, c.recode) for c in q63.choices] == [
        ("1", "Daily", None), ("2", "Weekly", None), ("3", "Once a month", None),
        ("4", "Less often", None), ("5", "Do not use", None)]
    assert q63.suggested_type is None  # a frequency scale is neither CSAT nor CES


@pytest.mark.parametrize("fixture", [BESKAR_PASCAL, BESKAR_CAMEL])
def test_open_text_questions_are_skipped_with_a_reason(fixture):
    catalog = parse_definition(load(fixture))
    skipped = {s.id: s for s in catalog.skipped}
    assert {qid for qid, s in skipped.items() if "Trash" not in s.reason} == {"QID19", "QID22"}
    assert skipped["QID19"].reason == "open-text answers have no scale"
    assert "QID19" not in by_id(catalog)


def test_questions_in_the_trash_block_are_skipped_not_offered():
    """Real Beskar: QID20, 21, 64-67 sit in its Trash block (the camelCase GET /surveys leaves them out)."""
    catalog = parse_definition(load(BESKAR_PASCAL))
    trashed = {s.id for s in catalog.skipped if s.reason == "in the Trash block (deleted in Qualtrics)"}
    assert trashed == {"QID20", "QID21", "QID64", "QID65", "QID66", "QID67"}
    assert set(by_id(catalog)) == {"QID16", "QID17", "QID18", "QID63"}
    assert set(by_id(parse_definition(load(BESKAR_CAMEL)))) == {"QID16", "QID17", "QID18", "QID63"}


def restored_from_trash(definition: dict, qid: str) -> dict:
    """The Beskar definition with ``qid`` moved from its Trash block into the flowed satisfaction block."""
    definition = copy.deepcopy(definition)
    blocks = definition["result"]["Blocks"]
    for block in blocks.values():
        block["BlockElements"] = [e for e in block["BlockElements"] if e.get("QuestionID") != qid]
    blocks["BL_bvJSDbLJ6WXqDU9"]["BlockElements"].append({"Type": "Question", "QuestionID": qid})
    return definition


def test_video_markup_in_choice_labels_is_dropped_not_rendered():
    q18 = by_id(parse_definition(load(BESKAR_PASCAL)))["QID18"]
    assert [c.label for c in q18.choices] == [
        "Yes, by the tribe or its representatives",
        "Yes, by me or someone outside the tribe",
        "No, the problem was not resolved"]


def test_nps_question_from_the_cats_survey():
    catalog = parse_definition(load(CATS_CAMEL))
    q = by_id(catalog)["QID18"]
    assert (q.export_tag, q.type, q.selector) == ("Q3.13", "MC", "NPS")
    assert [c.value for c in q.choices] == [str(v) for v in range(11)]
    assert [c.label for c in q.choices] == [str(v) for v in range(11)]
    assert q.scale == Scale("0-10", 0.0, 10.0)
    assert q.suggested_type == "nps"
    multi = {s.id: s for s in catalog.skipped}["QID36"]
    assert multi.selector == "MAVR" and "multiple-answer" in multi.reason
    assert {s.id for s in catalog.skipped if s.type == "DB"} == {"QID3", "QID101"}


def test_matrix_rows_become_questions_of_their_own():
    catalog = parse_definition(load(SOURDOUGH_CAMEL))
    rows = [q for q in catalog.questions if q.parent_id == "QID1"]
    assert [(q.id, q.export_tag, q.row_label) for q in rows] == [
        ("QID1_1", "Q1_1", "Distraction during quarantine"),
        ("QID1_2", "Q1_2", "Texture"),
        ("QID1_3", "Q1_3", "Flavor"),
        ("QID1_4", "Q1_4", "Color"),
        ("QID1_5", "Q1_5", "Nutritional value"),
    ]
    assert rows[0].text == "Are you aware of the sourdough bread features listed below?"
    assert [(c.value, c.label) for c in rows[0].choices] == [("1", "Aware of it"), ("2", "Not aware of it")]
    assert "QID1" not in by_id(catalog)
    assert by_id(catalog)["QID300"].scale == Scale("1-5", 1.0, 5.0)


def test_matrix_in_the_pascal_case_qsf_shape_keeps_row_order_and_answer_columns():
    catalog = parse_definition(load(QSF))
    rows = [q for q in catalog.questions if q.parent_id == "QID1"]
    assert [q.id for q in rows] == ["QID1_1", "QID1_2"]
    assert [q.row_label for q in rows] == ["choice1", "choice2"]
    # The third row has TextEntry: respondents type it in ("choice3, w/text box"), so it is never a metric.
    typed = {s.id: s.reason for s in catalog.skipped}["QID1_3"]
    assert "text entry" in typed
    assert [c.label for c in rows[0].choices] == ["answer1", "answer2", "answer3"]
    reasons = {s.id: s.reason for s in catalog.skipped}
    assert reasons["QID13"] == "rank-order answers have no single value"
    assert reasons["QID12"] == "question type DD is not supported"


def _pascal_with(question_patch: dict) -> dict:
    definition = copy.deepcopy(load(BESKAR_PASCAL))
    definition["result"]["Questions"]["QID16"].update(question_patch)
    return definition


def test_custom_recodes_become_the_exported_value_and_an_out_of_range_na_keeps_the_scale():
    definition = _pascal_with({
        "Choices": {**load(BESKAR_PASCAL)["result"]["Questions"]["QID16"]["Choices"], "6": {"Display": "N/A"}},
        "ChoiceOrder": ["5", "4", "3", "2", "1", "6"],
        "RecodeValues": {"1": "1", "2": "2", "3": "3", "4": "4", "5": "5", "6": "99"},
    })
    q = by_id(parse_definition(definition))["QID16"]
    assert q.choices[-1] == Choice(value="99", label="N/A", recode=99.0)
    assert q.scale == Scale("1-5", 1.0, 5.0)
    assert q.suggested_type == "csat"


def test_a_middle_choice_that_reads_not_sure_still_belongs_to_the_scale():
    q21 = by_id(parse_definition(restored_from_trash(load(BESKAR_PASCAL), "QID21")))["QID21"]
    assert [c.label for c in q21.choices][2] == "Not sure"
    assert q21.scale.kind == "1-5"


def test_seven_point_ease_question_is_suggested_as_ces():
    labels = ["Extremely easy", "Moderately easy", "Slightly easy", "Neither easy nor difficult",
              "Slightly difficult", "Moderately difficult", "Extremely difficult"]
    definition = _pascal_with({
        "QuestionText": "How easy was it to <b>resolve</b> your issue today?",
        "Choices": {str(i + 1): {"Display": label} for i, label in enumerate(labels)},
        "ChoiceOrder": [str(i) for i in range(1, 8)],
    })
    q = by_id(parse_definition(definition))["QID16"]
    assert q.text == "How easy was it to resolve your issue today?"
    assert q.scale == Scale("1-7", 1.0, 7.0)
    assert q.suggested_type == "ces"


def test_recoded_matrix_answers_give_an_other_scale_with_its_range():
    choices = [Choice(str(v), f"label {v}", float(v)) for v in (10, 11, 12, 13, 14)]
    assert scale_of(choices) == Scale("other", 10.0, 14.0)


def test_unknown_question_types_are_skipped_with_a_reason_not_a_crash():
    definition = _pascal_with({"QuestionType": "HeatMap", "Selector": "Static"})
    catalog = parse_definition(definition)
    skipped = {s.id: s for s in catalog.skipped}["QID16"]
    assert skipped.reason == "question type HeatMap is not supported"
    assert "QID16" not in by_id(catalog)


def test_a_payload_that_is_not_a_definition_is_refused():
    with pytest.raises(ValueError):
        parse_definition({"result": {"elements": []}})


@pytest.mark.parametrize("raw, plain", [
    ("<em>Extremely</em> dissatisfied", "Extremely dissatisfied"),
    ("How valuable?<div><br></div><div><b>Texture</b><br></div>", "How valuable? Texture"),
    ("Tom &amp; Jerry &lt;3", "Tom & Jerry <3"),
    ("<script>alert(1)</script>Safe", "Safe"),
    (None, ""),
])
def test_plain_text_strips_html_without_rendering_it(raw, plain):
    assert plain_text(raw) == plain


def test_asking_the_catalog_for_a_skipped_question_names_the_reason():
    catalog = parse_definition(load(CATS_CAMEL))
    assert catalog.question("QID18").selector == "NPS"
    with pytest.raises(UnsupportedQuestion, match="multiple-answer"):
        catalog.question("QID36")
    with pytest.raises(QualtricsError, match="no question QID999"):
        catalog.question("QID999")


def test_seven_income_bands_get_no_suggestion_whatever_their_count():
    bands = ["Under $25,000", "$25,000-$49,999", "$50,000-$74,999", "$75,000-$99,999", "$100,000-$149,999",
             "$150,000-$199,999", "$200,000 or more"]
    definition = _pascal_with({
        "QuestionText": "What was your household income last year?",
        "Choices": {str(i + 1): {"Display": band} for i, band in enumerate(bands)},
        "ChoiceOrder": [str(i) for i in range(1, 8)],
    })
    q = by_id(parse_definition(definition))["QID16"]
    assert q.scale == Scale("1-7", 1.0, 7.0)
    assert q.suggested_type is None


def test_zero_to_ten_worded_as_recommending_is_nps_even_without_the_nps_selector():
    definition = _pascal_with({
        "QuestionText": "How likely are you to recommend beskar armor to a friend?", "Selector": "SAHR",
        "Choices": [{"Display": str(i)} for i in range(11)], "ChoiceOrder": list(range(11)),  # PHP list form
    })
    q = by_id(parse_definition(definition))["QID16"]
    assert [c.value for c in q.choices] == [str(i) for i in range(11)]
    assert (q.scale.kind, q.suggested_type) == ("0-10", "nps")
