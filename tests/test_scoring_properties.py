"""Properties that hold for every set of answers, checked with hypothesis.

The hand-worked table proves the formulas on chosen cases; these prove the invariants a
user relies on without thinking: bounds, order independence, monotonicity, honest intervals
and weights that mean exactly "this many answers".
"""

from __future__ import annotations

import numpy as np
import pandas  # noqa: F401  (scoring imports pandas on its first tally and scipy.special on its first
import scipy.special  # noqa: F401  Student's t: imported here, so Hypothesis never times an import as an example)
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import MetricType, default_mapping, score

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

NPS_MAP = default_mapping(MetricType.NPS, [(str(i), str(i), None) for i in range(11)])
CES_MAP = default_mapping(MetricType.CES, [(str(i), str(i), None) for i in range(1, 8)] + [("99", "N/A", 99.0)])
CSAT_MAP = default_mapping(
    MetricType.CSAT, [(str(i), str(i), None) for i in range(1, 6)] + [("-1", "Don't know", -1.0)]
).with_row("5", score=7.5)  # an override, so the score range is not just the recode range
MAPS = {MetricType.NPS: NPS_MAP, MetricType.CES: CES_MAP, MetricType.CSAT: CSAT_MAP}


def answers_for(metric: MetricType, max_size: int = 200) -> st.SearchStrategy[list[str | None]]:
    """Exported answers: mapped values, N/A values, blanks and the odd unmapped value."""
    choices = [row.value for row in MAPS[metric].rows]
    return st.lists(st.one_of(st.sampled_from(choices), st.none(), st.just("oops")), max_size=max_size)


metrics = st.sampled_from(list(MetricType))


@given(st.data())
def test_scores_stay_within_their_bounds(data) -> None:
    metric = data.draw(metrics)
    result = score(metric, data.draw(answers_for(metric)), MAPS[metric])
    if result.value is None:
        assert result.respondents == 0
        return
    low, high = {MetricType.NPS: (-100, 100), MetricType.CES: (0, 100), MetricType.CSAT: (1.0, 7.5)}[metric]
    assert low <= result.value <= high
    assert low <= result.interval_low <= result.interval_high <= high


@given(st.data())
def test_every_interval_contains_its_score(data) -> None:
    metric = data.draw(metrics)
    values = [row.value for row in MAPS[metric].rows]
    counts = data.draw(st.lists(st.integers(0, 5000), min_size=len(values), max_size=len(values)))
    result = score(metric, values, MAPS[metric], weights=counts)
    if result.value is not None:
        assert result.interval_low <= result.value <= result.interval_high


@given(st.data())
def test_order_of_answers_never_matters(data) -> None:
    metric = data.draw(metrics)
    answers = data.draw(answers_for(metric))
    shuffled = data.draw(st.permutations(answers))
    assert score(metric, answers, MAPS[metric]) == score(metric, shuffled, MAPS[metric])


@given(answers_for(MetricType.NPS), st.sampled_from(["9", "10"]))
def test_adding_a_promoter_never_lowers_nps(answers, promoter) -> None:
    before = score(MetricType.NPS, answers, NPS_MAP).value
    after = score(MetricType.NPS, answers + [promoter], NPS_MAP).value
    assert before is None or after >= before


@given(st.data())
def test_weights_are_the_same_as_repeating_answers(data) -> None:
    metric = data.draw(metrics)
    values = data.draw(st.lists(st.sampled_from([r.value for r in MAPS[metric].rows] + ["oops"]), max_size=12))
    counts = data.draw(st.lists(st.integers(0, 40), min_size=len(values), max_size=len(values)))
    repeated = [v for v, c in zip(values, counts) for _ in range(c)]
    weighted = score(metric, values, MAPS[metric], weights=counts)
    plain = score(metric, repeated, MAPS[metric])
    assert weighted.respondents == plain.respondents and weighted.unmapped == plain.unmapped
    for field in ("value", "interval_low", "interval_high", "satisfied_pct"):
        a, b = getattr(weighted, field), getattr(plain, field)
        assert (a is None and b is None) or np.isclose(a, b, rtol=1e-9, atol=1e-9)


@settings(max_examples=50)
@given(st.lists(st.sampled_from([str(i) for i in range(11)]), min_size=1, max_size=300))
def test_numpy_and_pandas_inputs_score_like_lists(answers) -> None:
    import pandas as pd

    expected = score(MetricType.NPS, answers, NPS_MAP)
    assert score(MetricType.NPS, np.array(answers, dtype=object), NPS_MAP) == expected
    assert score(MetricType.NPS, pd.Series(answers, index=range(5, 5 + len(answers))), NPS_MAP) == expected
    assert score(MetricType.NPS, pd.Series(answers).astype(int), NPS_MAP) == expected
