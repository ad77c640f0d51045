"""Hand-worked cases for the formulas, default mappings and display formats of design.md §2.

Each case states its answers and the result worked out by hand, so a reader can check the
arithmetic without running anything.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scoring import (
    AnswerMapping,
    MappingError,
    MappingRow,
    MetricType,
    Sentiment,
    choices_from_labels,
    default_mapping,
    format_interval,
    format_n,
    format_satisfied,
    format_score,
    is_not_an_answer,
    score,
)
from scoring.mapping import infer_scale

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

P, U, N, X = Sentiment.POSITIVE, Sentiment.NEUTRAL, Sentiment.NEGATIVE, Sentiment.EXCLUDED


def numbered(low: int, high: int) -> list[tuple[str, str, float | None]]:
    """Choices as the Qualtrics API lists an unrecoded numeric scale: value = choice id = label."""
    return [(str(i), str(i), None) for i in range(low, high + 1)]


NPS_0_10 = numbered(0, 10)
# The real Beskar CSAT question (QID16): choice ids 1..5, no RecodeValues, plus a typical N/A.
BESKAR_CSAT = [
    ("1", "Extremely dissatisfied", None),
    ("2", "Somewhat dissatisfied", None),
    ("3", "Neither satisfied nor dissatisfied", None),
    ("4", "Somewhat satisfied", None),
    ("5", "Extremely satisfied", None),
]
CSAT_WITH_NA_99 = BESKAR_CSAT + [("99", "N/A", 99.0)]
CES_1_7 = numbered(1, 7)


# --- default mappings --------------------------------------------------------------------

@pytest.mark.parametrize(
    "metric, choices, expected",
    [
        pytest.param(MetricType.NPS, NPS_0_10, [N] * 7 + [U] * 2 + [P] * 2, id="nps_0_to_6_detract_7_8_passive_9_10_promote"),
        pytest.param(MetricType.CSAT, numbered(1, 5), [N, N, U, P, P], id="csat_1_to_5_splits_2_1_2"),
        pytest.param(MetricType.CES, numbered(1, 5), [N, N, U, P, P], id="ces_1_to_5_splits_2_1_2"),
        pytest.param(MetricType.CES, CES_1_7, [N, N, N, U, P, P, P], id="ces_1_to_7_splits_3_1_3"),
        pytest.param(MetricType.CSAT, numbered(1, 7), [N, N, N, U, P, P, P], id="csat_1_to_7_splits_3_1_3"),
        pytest.param(MetricType.CSAT, numbered(1, 10), [N] * 4 + [U] * 2 + [P] * 4, id="other_scale_1_to_10_split_in_thirds"),
        pytest.param(MetricType.CES, numbered(1, 3), [N, U, P], id="three_point_scale_one_each"),
        pytest.param(MetricType.CSAT, CSAT_WITH_NA_99, [N, N, U, P, P, X], id="na_recoded_99_is_excluded_and_does_not_stretch_scale"),
        pytest.param(MetricType.NPS, [("-1", "Don't know", -1.0)] + NPS_0_10, [X] + [N] * 7 + [U] * 2 + [P] * 2, id="dont_know_recoded_minus_1_is_excluded"),
        pytest.param(
            MetricType.CSAT,
            [("10", "Very bad", 10.0), ("11", "Bad", 11.0), ("12", "OK", 12.0), ("13", "Good", 13.0), ("14", "Great", 14.0)],
            [N, N, U, P, P],
            id="recode_values_10_to_14_are_a_five_point_scale",
        ),
        pytest.param(
            MetricType.NPS, [(str(i + 1), str(i), float(i + 1)) for i in range(11)], [N] * 7 + [U] * 2 + [P] * 2,
            id="nps_recoded_1_to_11_keeps_the_0_10_split",
        ),
        pytest.param(
            MetricType.CES, [("a", "Easy", None), ("b", "Hard", None)], [U, U],
            id="choices_without_numbers_default_to_neutral_for_the_user_to_map",
        ),
    ],
)
def test_default_mapping(metric: MetricType, choices, expected) -> None:
    mapping = default_mapping(metric, choices)
    assert [row.sentiment for row in mapping.rows] == expected


def test_default_csat_score_is_the_recode_value_not_the_choice_id() -> None:
    # Qualtrics exports the recode value; choice ids 1..5 recoded to 10..50.
    choices = [(str(10 * i), label, float(10 * i)) for i, (_, label, _) in enumerate(BESKAR_CSAT, start=1)]
    mapping = default_mapping(MetricType.CSAT, choices)
    assert [row.score for row in mapping.rows] == [10.0, 20.0, 30.0, 40.0, 50.0]
    assert score(MetricType.CSAT, ["50", "10"], mapping).value == 30.0


def test_a_given_scale_overrides_the_range_of_the_choices_seen() -> None:
    # Only 9 and 10 were answered; the NPS scale is still 0-10, so both are promoters.
    mapping = default_mapping(MetricType.NPS, [("9", "9", None), ("10", "10", None)], scale=(0, 10))
    assert [row.sentiment for row in mapping.rows] == [P, P]


@pytest.mark.parametrize(
    "metric, numbers, expected",
    [
        pytest.param(MetricType.NPS, [9, 10], (0, 10), id="nps_is_always_0_to_10"),
        pytest.param(MetricType.CSAT, [3, 4, 5], (1, 5), id="csat_answers_within_1_5_mean_the_five_point_scale"),
        pytest.param(MetricType.CES, [2, 6], (1, 7), id="ces_answers_within_1_7_mean_the_seven_point_scale"),
        pytest.param(MetricType.CSAT, [1, 2, 3, 4], (1, 4), id="csat_answers_1_to_4_stay_a_four_point_scale"),
        pytest.param(MetricType.CSAT, [10, 20, 40], (10, 40), id="other_answers_keep_their_observed_range"),
    ],
)
def test_infer_scale(metric: MetricType, numbers, expected) -> None:
    assert infer_scale(metric, numbers) == expected


@pytest.mark.parametrize(
    "label",
    ["N/A", "n/a", "NA", "N.A.", "Not applicable", "Not Applicable.", "Don't know", "Don’t know", "DON'T KNOW!",
     "I don't know", "Prefer not to say", "Prefer not to answer", "No opinion", "Does not apply",
     "N/A - I did not contact support", "Can't say"],
)
def test_not_an_answer_labels_are_recognised_whatever_their_case_or_punctuation(label: str) -> None:
    assert is_not_an_answer(label)


@pytest.mark.parametrize(
    "label",
    ["Neither satisfied nor dissatisfied", "Not at all likely", "Not satisfied", "Neutral", "0", "Extremely easy",
     "Nashville", "Banana"],
)
def test_real_answers_are_not_mistaken_for_not_an_answer(label: str) -> None:
    assert not is_not_an_answer(label)


@pytest.mark.parametrize(
    "choices, expected",
    [
        pytest.param([("1", "Definitely would not", None), ("2", "Probably would not", None), ("3", "Not sure", None),
                      ("4", "Probably would", None), ("5", "Definitely would", None)], [N, N, U, P, P],
                     id="not_sure_as_the_midpoint_is_neutral"),
        pytest.param(numbered(1, 5) + [("6", "Not sure", None)], [N, N, U, P, P, X],
                     id="not_sure_after_the_scale_is_excluded"),
    ],
)
def test_not_sure_depends_on_where_it_sits(choices, expected) -> None:
    assert [row.sentiment for row in default_mapping(MetricType.CSAT, choices).rows] == expected


# --- formulas ----------------------------------------------------------------------------

NPS_MAP = default_mapping(MetricType.NPS, NPS_0_10)
CSAT_MAP = default_mapping(MetricType.CSAT, CSAT_WITH_NA_99)
CES_MAP = default_mapping(MetricType.CES, CES_1_7)


@pytest.mark.parametrize(
    "metric, mapping, answers, value, counts",
    [
        # 3 promoters, 1 passive, 2 detractors: (3 - 2) / 6 * 100 = 16.67
        pytest.param(MetricType.NPS, NPS_MAP, ["10", "9", "9", "7", "6", "0"], 100 / 6, (6, 3, 1, 2, 0),
                     id="nps_is_promoters_minus_detractors_over_respondents"),
        pytest.param(MetricType.NPS, NPS_MAP, ["0", "3", "6", "8"], -75.0, (4, 0, 1, 3, 0), id="nps_can_be_negative"),
        pytest.param(MetricType.NPS, NPS_MAP, ["7", "8"], 0.0, (2, 0, 2, 0, 0), id="nps_all_passives_is_zero"),
        # (5 + 4 + 2 + 1) / 4 = 3.0; the N/A (99) is no respondent
        pytest.param(MetricType.CSAT, CSAT_MAP, ["5", "4", "2", "1", "99"], 3.0, (4, 2, 0, 2, 1),
                     id="csat_is_mean_score_of_respondents_excluding_na"),
        # 4 of 6 positive (5, 6, 7, 7): 66.67
        pytest.param(MetricType.CES, CES_MAP, ["5", "6", "7", "7", "4", "1"], 400 / 6, (6, 4, 1, 1, 0),
                     id="ces_is_positive_share_of_respondents"),
        pytest.param(MetricType.NPS, NPS_MAP, [None, "", float("nan"), pd.NA, "10"], 100.0, (1, 1, 0, 0, 0),
                     id="unanswered_are_not_respondents"),
        pytest.param(MetricType.NPS, NPS_MAP, [10, 9.0, "0.0", " 7 "], 100 / 4, (4, 2, 1, 1, 0),
                     id="numbers_match_whatever_their_exported_form"),
    ],
)
def test_formula(metric, mapping, answers, value, counts) -> None:
    result = score(metric, answers, mapping)
    assert result.value == pytest.approx(value)
    assert (result.respondents, result.positive, result.neutral, result.negative, result.excluded) == counts


def test_csat_reports_the_share_satisfied_apart_from_the_mean() -> None:
    # 5, 4 satisfied out of 5, 4, 2, 1 -> 50 % satisfied, mean 3.00
    result = score(MetricType.CSAT, ["5", "4", "2", "1"], CSAT_MAP)
    assert result.satisfied_pct == 50.0
    assert format_score(result) == "3.00"
    assert format_satisfied(result) == "50.0% satisfied"


def test_csat_score_override_changes_the_mean_but_not_the_counts() -> None:
    # The user scores "Extremely satisfied" as 10 instead of 5: (10 + 1) / 2 = 5.5
    mapping = CSAT_MAP.with_row("5", score=10)
    result = score(MetricType.CSAT, ["5", "1"], mapping)
    assert result.value == 5.5
    assert (result.positive, result.negative) == (1, 1)


def test_sentiment_override_moves_a_choice_between_groups() -> None:
    # A user who counts 8 as a promoter: 8, 9 promoters; 0 detractor -> (2 - 1) / 3
    mapping = NPS_MAP.with_row("8", sentiment=Sentiment.POSITIVE)
    assert score(MetricType.NPS, ["8", "9", "0"], mapping).value == pytest.approx(100 / 3)


def test_excluding_a_choice_removes_it_from_respondents() -> None:
    mapping = CES_MAP.with_row("4", sentiment=Sentiment.EXCLUDED)
    result = score(MetricType.CES, ["4", "4", "7"], mapping)
    assert (result.value, result.respondents, result.excluded) == (100.0, 1, 2)


def test_values_without_a_mapping_row_are_counted_as_unmapped_and_named() -> None:
    result = score(MetricType.NPS, ["10", "11", "11", "Maybe", "0"], NPS_MAP)
    assert (result.respondents, result.unmapped) == (2, 3)
    assert result.unmapped_values == ("11", "Maybe")
    assert result.value == 0.0


@pytest.mark.parametrize(
    "metric, mapping, answers",
    [
        pytest.param(MetricType.NPS, NPS_MAP, [], id="nps_without_answers"),
        pytest.param(MetricType.CSAT, CSAT_MAP, ["99", "99", None], id="csat_with_only_na_answers"),
        pytest.param(MetricType.CES, CES_MAP, ["unknown"], id="ces_with_only_unmapped_answers"),
    ],
)
def test_no_respondents_means_no_score_never_zero(metric, mapping, answers) -> None:
    result = score(metric, answers, mapping)
    assert result.value is None and result.interval_low is None and result.interval_high is None
    assert result.respondents == 0 and result.low_confidence
    assert format_score(result) == "No score"
    assert format_interval(result) == ""


def test_weights_count_each_value_as_that_many_answers() -> None:
    # SQL GROUP BY result: 30 x "10", 10 x "7", 20 x "3" -> (30 - 20) / 60 * 100
    result = score(MetricType.NPS, ["10", "7", "3"], NPS_MAP, weights=[30, 10, 20])
    assert result.value == pytest.approx(100 / 6)
    assert (result.respondents, result.positive, result.neutral, result.negative) == (60, 30, 10, 20)
    assert not result.low_confidence


@pytest.mark.parametrize("weights", [[1, -1], [1, float("nan")], [1]], ids=["negative", "nan", "wrong_length"])
def test_bad_weights_are_refused(weights) -> None:
    with pytest.raises(ValueError):
        score(MetricType.NPS, ["10", "0"], NPS_MAP, weights=weights)


def test_low_confidence_below_thirty_respondents() -> None:
    assert score(MetricType.NPS, ["10"] * 29, NPS_MAP).low_confidence
    assert not score(MetricType.NPS, ["10"] * 30, NPS_MAP).low_confidence


def test_csat_refuses_a_counted_choice_without_a_score_and_names_it() -> None:
    mapping = AnswerMapping((MappingRow("a", "Great", P, None), MappingRow("b", "Poor", N, 1.0)))
    with pytest.raises(MappingError, match="'Great'"):
        score(MetricType.CSAT, ["a", "b"], mapping)


def test_duplicate_values_in_a_mapping_are_refused() -> None:
    with pytest.raises(MappingError, match="twice"):
        AnswerMapping((MappingRow("9", "9", P), MappingRow("9.0", "nine", P)))


def test_mapping_survives_a_round_trip_through_plain_records() -> None:
    assert AnswerMapping.from_records(CSAT_MAP.to_records()) == CSAT_MAP


def test_single_lookup_treats_missing_markers_as_unanswered() -> None:
    assert [NPS_MAP.row_for(v) for v in (None, pd.NA, float("nan"), "  ")] == [None] * 4
    assert NPS_MAP.row_for(9.0).value == "9"


def test_sentiments_are_looked_up_for_every_answer_at_once() -> None:
    looked_up = NPS_MAP.sentiments(np.array(["10", "7", "2", None, "x"], dtype=object))
    assert list(looked_up) == [P, U, N, None, None]


# --- labels instead of values ------------------------------------------------------------

@pytest.mark.parametrize(
    "metric, answers, value",
    [
        # Beskar CSAT exported with useLabels: (5 + 4 + 1) / 3
        pytest.param(MetricType.CSAT, ["Extremely satisfied", "Somewhat satisfied", "Extremely dissatisfied", "N/A"],
                     10 / 3, id="csat_satisfaction_wording_scores_1_to_5_and_excludes_na"),
        # 7-point ease wording (poprox CES): 3 of 4 easy
        pytest.param(MetricType.CES, ["Extremely easy", "Moderately easy", "Slightly easy", "Slightly difficult"],
                     75.0, id="ces_seven_point_ease_wording"),
        pytest.param(MetricType.CES, ["Strongly agree", "Agree", "Somewhat agree", "Neither agree nor disagree"],
                     75.0, id="ces_agreement_wording"),
        # NPS labels: "10 - Extremely likely" is 10, "0 - Not at all likely" is 0, digits are themselves
        pytest.param(MetricType.NPS, ["10 - Extremely likely", "9", "0 - Not at all likely", "7"], 25.0,
                     id="nps_numbered_labels"),
        pytest.param(MetricType.NPS, ["Promoter", "Promoter", "Passive", "Detractor"], 25.0,
                     id="nps_group_labels"),
        # Unipolar wording (real Beskar QID20): Not at all 1 … Extremely 5; Very (4) and Extremely (5) satisfy
        pytest.param(MetricType.CSAT, ["Extremely likely", "Very likely", "Moderately likely", "Slightly likely",
                                       "Not at all likely"], 3.0, id="csat_unipolar_wording_scores_1_to_5"),
    ],
)
def test_labels_instead_of_values(metric: MetricType, answers: list[str], value: float) -> None:
    choices = choices_from_labels(metric, answers)
    numbers = [recode for _, _, recode in choices if recode is not None]
    mapping = default_mapping(metric, choices, scale=infer_scale(metric, numbers))
    assert score(metric, answers, mapping).value == pytest.approx(value)


def test_partial_label_set_still_lands_on_the_full_scale() -> None:
    # Nobody answered the bottom half; "Somewhat satisfied" is still 4 of 5 and Positive.
    choices = choices_from_labels(MetricType.CSAT, ["Somewhat satisfied", "Extremely satisfied"])
    assert [recode for _, _, recode in choices] == [4.0, 5.0]


def test_two_wordings_on_one_scale_point_are_refused_rather_than_guessed() -> None:
    # "Extremely" and "Very" satisfied would both be the top of a 5-point scale.
    with pytest.raises(ValueError, match="'Extremely satisfied'.*'Very satisfied'"):
        choices_from_labels(MetricType.CSAT, ["Extremely satisfied", "Very satisfied", "Dissatisfied"])


def test_unknown_label_wording_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'Meh'.*'Yay'"):
        choices_from_labels(MetricType.CSAT, ["Meh", "Somewhat satisfied", "Yay"])


# --- display -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "metric, answers, text",
    [
        pytest.param(MetricType.CSAT, ["5", "4", "4"], "4.33", id="csat_two_decimals"),
        pytest.param(MetricType.CES, ["7", "7", "1"], "66.7%", id="ces_one_decimal_and_percent"),
        pytest.param(MetricType.NPS, ["10", "10", "9", "0", "0"], "20.0", id="nps_one_decimal"),
        pytest.param(MetricType.NPS, ["0", "7", "8", "9", "7"] * 5 + ["7"], "0.0", id="nps_zero_prints_without_sign"),
    ],
)
def test_display_format(metric, answers, text) -> None:
    mapping = {MetricType.CSAT: CSAT_MAP, MetricType.CES: CES_MAP, MetricType.NPS: NPS_MAP}[metric]
    assert format_score(score(metric, answers, mapping)) == text


def test_negative_nps_keeps_its_sign_and_one_decimal() -> None:
    # 12 detractors, 11 promoters, 2 passives: (11 - 12) / 25 * 100 = -4.0
    result = score(MetricType.NPS, ["0"] * 12 + ["10"] * 11 + ["7"] * 2, NPS_MAP)
    assert format_score(result) == "-4.0"


@pytest.mark.parametrize("n, text", [(1234, "n = 1,234"), (0, "n = 0"), (7, "n = 7"), (1234567, "n = 1,234,567")])
def test_format_n(n: int, text: str) -> None:
    assert format_n(n) == text


def test_interval_is_printed_in_the_score_format() -> None:
    result = score(MetricType.CES, ["7"] * 8 + ["1"] * 2, CES_MAP)
    low, high = result.interval_low, result.interval_high
    assert format_interval(result) == f"95% CI {low:.1f}%–{high:.1f}%"
    assert not math.isnan(low) and low < 80.0 < high
