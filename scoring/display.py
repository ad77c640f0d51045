"""Display formats of design.md §2: what a metric card, the CLI and the wall screen print."""

from __future__ import annotations

from scoring.formulas import Score
from scoring.sentiment import MetricType

NO_SCORE = "No score"


def format_value(metric_type: MetricType | str, value: float | None) -> str:
    """Format a bare value: CSAT "4.12", CES "71.3%", NPS "32.5" / "-4.0"; None → "No score"."""
    if value is None or value != value:  # None or NaN: never show 0 or "nan"
        return NO_SCORE
    metric = MetricType(metric_type)
    decimals = 2 if metric == MetricType.CSAT else 1
    shown = round(float(value), decimals) + 0.0  # + 0.0 turns -0.0 into 0.0: never print "-0.0"
    text = f"{shown:.{decimals}f}"
    return f"{text}%" if metric == MetricType.CES else text


def format_score(score: Score) -> str:
    """The score as shown on a metric card ("4.12", "71.3%", "32.5", "No score")."""
    return format_value(score.metric_type, score.value)


def format_n(n: int | float) -> str:
    """Respondent count as shown beside every score: "n = 1,234"."""
    return f"n = {round(n):,}"


def format_interval(score: Score) -> str:
    """The 95% interval in the score's own format, e.g. "95% CI 3.98–4.26"; "" without a score."""
    if score.interval_low is None or score.interval_high is None:
        return ""
    low = format_value(score.metric_type, score.interval_low)
    high = format_value(score.metric_type, score.interval_high)
    return f"95% CI {low}–{high}"


def format_satisfied(score: Score) -> str:
    """CSAT's share of satisfied respondents, labelled so it is never confused with the mean."""
    if score.satisfied_pct is None:
        return ""
    return f"{score.satisfied_pct:.1f}% satisfied"
