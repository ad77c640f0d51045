"""Interval functions against published reference values."""

from __future__ import annotations

import pytest

from scoring import MetricType, default_mapping, score
from scoring.intervals import nps_interval, t_interval, wilson_interval

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)


@pytest.mark.parametrize(
    "successes, n, low, high",
    [
        pytest.param(81, 263, 0.2553, 0.3662, id="81_of_263"),
        pytest.param(15, 148, 0.0624, 0.1605, id="15_of_148"),
        pytest.param(0, 20, 0.0000, 0.1611, id="0_of_20"),
        pytest.param(1, 29, 0.0061, 0.1718, id="1_of_29"),
    ],
)
def test_wilson_interval_matches_newcombe_1998(successes: int, n: int, low: float, high: float) -> None:
    """Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven
    methods. Statistics in Medicine 1998;17:857–872, Table II, method 3 (Wilson score, no
    continuity correction), 95% limits given to four decimals."""
    got = wilson_interval(successes, n)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_ces_interval_is_the_wilson_interval_in_percent() -> None:
    """CES of 81 easy answers out of 263 uses Newcombe's first example: 25.53 %–36.62 %."""
    mapping = default_mapping(MetricType.CES, [(str(i), str(i), None) for i in range(1, 8)])
    result = score(MetricType.CES, ["7", "1"], mapping, weights=[81, 263 - 81])
    assert (result.interval_low, result.interval_high) == pytest.approx((25.53, 36.62), abs=5e-3)


def test_t_interval_matches_students_sleep_data() -> None:
    """Student (1908) "The probable error of a mean", Biometrika 6:1–25: extra hours of sleep,
    drug 2 minus drug 1, for 10 patients. R's documented `t.test(extra ~ group, data = sleep,
    paired = TRUE)` reports mean difference 1.58 with 95% CI 0.7001142 to 2.4598858."""
    differences = [1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4]
    n = len(differences)
    mean = sum(differences) / n
    std = (sum((d - mean) ** 2 for d in differences) / (n - 1)) ** 0.5
    assert t_interval(mean, std, n) == pytest.approx((0.7001142, 2.4598858), abs=1e-6)


def test_csat_interval_is_the_t_interval_of_the_scores() -> None:
    """The sleep differences shifted by +1 lie within a 0–10 score scale; CSAT over them must give
    Student's interval shifted by +1 (1.7001142 to 3.4598858)."""
    shifted = [2.2, 3.4, 2.3, 2.3, 1.0, 2.0, 2.8, 1.8, 5.6, 2.4]
    choices = [(f"v{i}", f"v{i}", s) for i, s in enumerate(sorted(set(shifted)))] + [("lo", "0", 0.0), ("hi", "10", 10.0)]
    mapping = default_mapping(MetricType.CSAT, choices)
    by_score = {row.score: row.value for row in mapping.rows}
    result = score(MetricType.CSAT, [by_score[s] for s in shifted], mapping)
    assert result.value == pytest.approx(2.58)
    assert (result.interval_low, result.interval_high) == pytest.approx((1.7001142, 3.4598858), abs=1e-6)


def test_nps_interval_uses_the_trinomial_variance() -> None:
    """Rocks B. Interval estimation for the "Net Promoter Score". The American Statistician
    2016;70(4):365–372, Wald interval: Var = (p⁺ + p⁻ − (p⁺ − p⁻)²) / n. Worked by hand for 50
    promoters, 30 passives, 20 detractors: NPS 30, Var = (0.5 + 0.2 − 0.09)/100 = 0.0061,
    half-width 1.959964 × 0.0781025 = 0.153078 → 14.6922 to 45.3078."""
    assert nps_interval(50, 20, 100) == pytest.approx((14.6922, 45.3078), abs=1e-4)


def test_nps_interval_is_clipped_to_the_scale() -> None:
    low, high = nps_interval(9, 1, 10)
    assert high == 100.0 and low > -100.0


def test_single_csat_answer_gets_the_whole_scale_as_interval() -> None:
    mapping = default_mapping(MetricType.CSAT, [(str(i), str(i), None) for i in range(1, 6)])
    result = score(MetricType.CSAT, ["4"], mapping)
    assert (result.value, result.interval_low, result.interval_high) == (4.0, 1.0, 5.0)
