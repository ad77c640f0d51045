"""Scores per period and the significance of period-over-period changes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scoring import MetricType, default_mapping, score
from scoring.trends import compare_periods, scores_by_period

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

NPS_MAP = default_mapping(MetricType.NPS, [(str(i), str(i), None) for i in range(11)])
CES_MAP = default_mapping(MetricType.CES, [(str(i), str(i), None) for i in range(1, 8)])
CSAT_MAP = default_mapping(MetricType.CSAT, [(str(i), str(i), None) for i in range(1, 6)])

# recordedDate as Qualtrics exports it: JSON (ISO with Z and ms) and CSV (space, no zone) forms.
DATES = ["2024-01-01T10:00:00Z", "2024-01-07T23:59:59.999Z", "2024-01-08 00:00:01", "2024-01-20T12:00:00Z",
         "2024-03-02T08:00:00Z"]
ANSWERS = ["10", "0", "9", "9", "7"]


def test_weeks_start_on_monday_and_empty_weeks_show_no_score() -> None:
    frame = scores_by_period(MetricType.NPS, DATES, ANSWERS, NPS_MAP, period="week")
    assert [p.date().isoformat() for p in frame["period"]][:3] == ["2024-01-01", "2024-01-08", "2024-01-15"]
    assert frame["period"].iloc[-1] == pd.Timestamp("2024-02-26")  # Saturday 2 March is in this week
    week1, week2, week3 = frame.iloc[0], frame.iloc[1], frame.iloc[2]
    assert (week1["value"], week1["respondents"]) == (0.0, 2)  # 10 and 0: one promoter, one detractor
    assert (week2["value"], week2["respondents"]) == (100.0, 1)
    assert week3["display"] == "100.0" and week3["respondents"] == 1  # the 20th is in the week of the 15th
    empty = frame[frame["respondents"] == 0]
    assert len(empty) == 5 and set(empty["display"]) == {"No score"} and empty["value"].isna().all()


def test_months_and_days_bucket_by_calendar() -> None:
    months = scores_by_period(MetricType.NPS, DATES, ANSWERS, NPS_MAP, period="month")
    assert list(months["period"].dt.strftime("%Y-%m")) == ["2024-01", "2024-02", "2024-03"]
    assert list(months["respondents"]) == [4, 0, 1]
    days = scores_by_period(MetricType.NPS, DATES, ANSWERS, NPS_MAP, period="day", fill_gaps=False)
    assert len(days) == 5


def test_periods_follow_the_requested_timezone() -> None:
    # 23:59 UTC on Sunday 7 January is already Monday 8 January in Berlin.
    frame = scores_by_period(MetricType.NPS, ["2024-01-07T23:59:00Z"], ["10"], NPS_MAP, period="week",
                             timezone="Europe/Berlin")
    assert frame["period"].iloc[0] == pd.Timestamp("2024-01-08")


def test_each_period_row_matches_scoring_that_period_alone() -> None:
    rng = np.random.default_rng(3)
    dates = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 90 * 24, 2000), unit="h")
    answers = rng.choice([str(i) for i in range(1, 6)], 2000)
    frame = scores_by_period(MetricType.CSAT, dates, answers, CSAT_MAP, period="month")
    for month, row in zip(("2024-01", "2024-02", "2024-03"), frame.itertuples()):
        alone = score(MetricType.CSAT, answers[dates.strftime("%Y-%m") == month], CSAT_MAP)
        assert (row.value, row.low, row.high, row.respondents) == pytest.approx(
            (alone.value, alone.interval_low, alone.interval_high, alone.respondents))


def test_weighted_trend_rows_equal_repeated_answers() -> None:
    weighted = scores_by_period(MetricType.CES, DATES[:2], ["7", "1"], CES_MAP, weights=[3, 1], period="week")
    repeated = scores_by_period(MetricType.CES, [DATES[0]] * 3 + [DATES[1]], ["7"] * 3 + ["1"], CES_MAP, period="week")
    pd.testing.assert_frame_equal(weighted, repeated)


def test_changes_are_tested_against_the_previous_period_with_a_score() -> None:
    frame = scores_by_period(MetricType.NPS, DATES, ANSWERS, NPS_MAP, period="month")
    assert math.isnan(frame["change"].iloc[0])
    assert math.isnan(frame["change"].iloc[1])  # February has no score
    assert frame["change"].iloc[2] == pytest.approx(-50.0)  # March (0) against January (50)


def test_welch_test_agrees_with_scipy_on_raw_answers() -> None:
    before = ["5"] * 30 + ["4"] * 40 + ["2"] * 10
    after = ["5"] * 45 + ["4"] * 30 + ["1"] * 12
    change = compare_periods(score(MetricType.CSAT, before, CSAT_MAP), score(MetricType.CSAT, after, CSAT_MAP))
    expected = stats.ttest_ind(np.array(after, dtype=float), np.array(before, dtype=float), equal_var=False)
    assert change.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert change.test == "Welch t-test"


def test_two_proportion_z_test_worked_by_hand() -> None:
    """45 % → 60 % easy of 100 each: pooled p = 0.525, SE = √(0.525·0.475·0.02) = 0.0706222,
    z = 0.15 / 0.0706222 = 2.12398, two-sided p = 0.03367: significant at 5 %."""
    before = score(MetricType.CES, ["7", "1"], CES_MAP, weights=[45, 55])
    after = score(MetricType.CES, ["7", "1"], CES_MAP, weights=[60, 40])
    change = compare_periods(before, after)
    assert change.p_value == pytest.approx(0.03367, abs=5e-5)
    assert change.significant
    assert change.describe() == "up 15.0, significant (p = 0.034, two-proportion z-test)"


def test_nps_change_z_test_worked_by_hand() -> None:
    """NPS 20 (40 P, 40 passive, 20 D of 100) → 35 (50 P, 35 passive, 15 D): trinomial variances
    0.0056 and 0.005275, SE = √0.010875 = 0.104283, z = 0.15 / 0.104283 = 1.43839, p = 0.1503."""
    before = score(MetricType.NPS, ["10", "7", "0"], NPS_MAP, weights=[40, 40, 20])
    after = score(MetricType.NPS, ["10", "7", "0"], NPS_MAP, weights=[50, 35, 15])
    change = compare_periods(before, after)
    assert change.delta == pytest.approx(15.0)
    assert change.p_value == pytest.approx(0.1503, abs=5e-5)
    assert change.describe() == "up 15.0, not significant (p = 0.15, z-test on NPS)"


@pytest.mark.parametrize(
    "before, after, sentence",
    [
        pytest.param(["10"], ["0", "0"], "down 200.0, significance cannot be tested (a period has one respondent)",
                     id="one_respondent_is_not_tested"),
        pytest.param([], ["10", "0"], "No comparison: one of the periods has no score.", id="no_score_is_not_compared"),
        pytest.param(["10", "0"] * 20, ["0", "10"] * 20, "no change, not significant (p = 1, z-test on NPS)",
                     id="equal_scores_are_no_change"),
    ],
)
def test_change_sentences(before, after, sentence) -> None:
    change = compare_periods(score(MetricType.NPS, before, NPS_MAP), score(MetricType.NPS, after, NPS_MAP))
    assert change.describe() == sentence
    assert not change.significant
