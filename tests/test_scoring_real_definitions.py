"""Default mappings of real Qualtrics questions, as the client parses them from recorded API responses.

The fixtures are the ropensci/qualtRics recordings in ../shared/fixtures/qualtrics-real; the
choices reach `default_mapping` as `qualtrics.models.Choice` objects, exactly as the workspace
will hand them over.
"""

from __future__ import annotations

import json

import pytest

from qualtrics.definitions import parse_definition
from scoring import MetricType, Sentiment, default_mapping, score
from tests.sandbox_fixtures import shared_fixture

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

P, U, N, X = Sentiment.POSITIVE, Sentiment.NEUTRAL, Sentiment.NEGATIVE, Sentiment.EXCLUDED


def question(fixture: str, qid: str):
    catalog = parse_definition(json.loads(shared_fixture(f"qualtrics-real/{fixture}").read_text(encoding="utf-8")))
    return {q.id: q for q in catalog.questions}[qid]


def sentiments_by_label(metric: MetricType, q) -> dict[str, Sentiment]:
    return {row.label: row.sentiment for row in default_mapping(metric, q.choices).rows}


@pytest.mark.parametrize(
    "fixture",
    ["survey_definition_SV_3gbwq8aJgqPwQDP_beskar_csat.json", "get_survey_SV_3gbwq8aJgqPwQDP_beskar_csat.json"],
    ids=["definition_api_shape", "legacy_survey_shape"],
)
def test_beskar_satisfaction_question_maps_the_same_from_both_definition_shapes(fixture: str) -> None:
    q = question(fixture, "QID16")  # choices listed 5..1 (ChoiceOrder), no recodes
    assert sentiments_by_label(MetricType.CSAT, q) == {
        "Extremely satisfied": P, "Somewhat satisfied": P, "Neither satisfied nor dissatisfied": U,
        "Somewhat dissatisfied": N, "Extremely dissatisfied": N,
    }
    mapping = default_mapping(MetricType.CSAT, q.choices)
    assert score(MetricType.CSAT, ["5", "1", "4"], mapping).value == pytest.approx(10 / 3)


def test_cats_nps_question_maps_0_to_6_7_to_8_9_to_10() -> None:
    q = question("get_survey_SV_56icaa9YAafpAqx_cats_nps.json", "QID18")
    mapping = default_mapping(MetricType.NPS, q.choices)
    assert [row.sentiment for row in mapping.rows] == [N] * 7 + [U] * 2 + [P] * 2


def test_beskar_recommend_question_keeps_not_sure_as_its_midpoint() -> None:
    # QID21 sits in Beskar's Trash block, so the catalog skips it; its choices are read here all the same.
    definition = json.loads(shared_fixture("qualtrics-real/survey_definition_SV_3gbwq8aJgqPwQDP_beskar_csat.json").read_text("utf-8"))
    definition["result"]["Blocks"]["BL_bvJSDbLJ6WXqDU9"]["BlockElements"].append(
        {"Type": "Question", "QuestionID": "QID21"})
    trash = definition["result"]["Blocks"]["BL_3guR0F0lGVfF5tj"]
    trash["BlockElements"] = [e for e in trash["BlockElements"] if e.get("QuestionID") != "QID21"]
    q = {q.id: q for q in parse_definition(definition).questions}["QID21"]
    assert sentiments_by_label(MetricType.CSAT, q)["Not sure"] == U


def test_prefer_not_to_say_inside_a_real_choice_list_is_excluded() -> None:
    q = question("get_survey_SV_56icaa9YAafpAqx_cats_nps.json", "QID21")  # ... 5 "Other/Prefer not to say"
    assert sentiments_by_label(MetricType.CSAT, q)["Other/Prefer not to say"] == X


def test_an_ease_scale_recoded_best_first_maps_easy_as_positive() -> None:
    """The real 2018 trial survey (GET /surveys) recodes its ease questions 1 "Extremely easy" … 7 "Extremely
    difficult": by position alone 1-3 would be Negative, but the wording says the low values are the good end."""
    definition = json.loads(shared_fixture("qualtrics-corpus/api/legacy_trial_2018.json").read_text("utf-8"))
    q = {q.id: q for q in parse_definition(definition).questions}["QID172807698"]
    assert [c.value for c in q.choices][:1] == ["1"] and q.choices[0].label == "Extremely easy"
    assert sentiments_by_label(MetricType.CES, q) == {
        "Extremely easy": P, "Moderately easy": P, "Slightly easy": P, "Neither easy nor difficult": U,
        "Slightly difficult": N, "Moderately difficult": N, "Extremely difficult": N}
    satisfied = {q.id: q for q in parse_definition(definition).questions}["QID172807689"]  # 1 "Very Dissatisfied"
    assert sentiments_by_label(MetricType.CSAT, satisfied)["Very Dissatisfied"] == N
    reversed_csat = default_mapping(MetricType.CSAT, [("1", "Very satisfied", None), ("2", "Satisfied", None),
                                                      ("3", "Dissatisfied", None), ("4", "Very dissatisfied", None)])
    assert [(r.sentiment, r.score) for r in reversed_csat.rows] == [(P, 4.0), (P, 3.0), (N, 2.0), (N, 1.0)]
