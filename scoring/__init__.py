"""Pure scoring of CSAT, CES and NPS: sentiments, answer mappings, formulas, intervals, trends.

No I/O, no Streamlit, no HTTP, and no knowledge of Qualtrics clients or the workspace: the
callers hand in arrays of exported values (or SQL `GROUP BY` counts) and get dataclasses back.
Trends and period-over-period significance live in `scoring.trends`.
"""

from scoring.display import NO_SCORE, format_interval, format_n, format_satisfied, format_score, format_value
from vocabulary import is_not_an_answer
from scoring.formulas import LOW_CONFIDENCE_BELOW, Score, score, score_counts
from scoring.intervals import nps_interval, t_interval, wilson_interval
from scoring.labels import UnknownLabels, choices_from_labels
from scoring.mapping import AnswerMapping, MappingError, MappingRow, RowCounts, default_mapping, infer_scale
from scoring.sentiment import MetricType, Sentiment
from scoring.values import canonical_value, numeric_value

__all__ = [
    "LOW_CONFIDENCE_BELOW",
    "NO_SCORE",
    "AnswerMapping",
    "MappingError",
    "MappingRow",
    "MetricType",
    "RowCounts",
    "Score",
    "Sentiment",
    "UnknownLabels",
    "canonical_value",
    "choices_from_labels",
    "default_mapping",
    "format_interval",
    "format_n",
    "format_satisfied",
    "format_score",
    "format_value",
    "infer_scale",
    "is_not_an_answer",
    "nps_interval",
    "numeric_value",
    "score",
    "score_counts",
    "t_interval",
    "wilson_interval",
]
