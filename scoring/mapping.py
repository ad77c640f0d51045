"""Answer mappings: which sentiment (and, for CSAT, which score) each exported value stands for.

A mapping is small (one row per answer choice) while the answers are many, so lookups
factorise the answers once and resolve only the distinct values in Python; everything per
answer stays in numpy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is imported where answers are tallied: reading a metric's mapping needs none
    import numpy as np

from vocabulary import is_not_an_answer, is_unsure
from scoring.labels import polarity
from scoring.sentiment import SENTIMENT_CODE, MetricType, Sentiment
from scoring.values import canonical_value, numeric_value

UNANSWERED = -2
UNMAPPED = -1

# Boundaries of the thirds on a scale normalised to [0, 1]; the tolerance keeps 1–7's "3"
# (exactly one third) on the negative side, as design.md §2 requires.
_THIRD = 1.0 / 3.0
_EPS = 1e-9


_KEEP: Any = object()  # "argument not given", since None is a meaningful score override


class MappingError(ValueError):
    """A mapping cannot produce the requested score; the message names the offending choices."""


@dataclass(frozen=True)
class MappingRow:
    """One answer choice: the value as exported, its label, its sentiment and its CSAT score."""

    value: str
    label: str
    sentiment: Sentiment
    score: float | None = None


@dataclass(frozen=True)
class RowCounts:
    """Answers tallied per mapping row, plus the answers that fit no row."""

    per_row: np.ndarray  # float64, one entry per mapping row (weighted counts)
    unanswered: float
    unmapped: float
    unmapped_values: tuple[str, ...]


@dataclass(frozen=True)
class AnswerMapping:
    """The full mapping of a metric's question; immutable, edited by building a new one."""

    rows: tuple[MappingRow, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rows = tuple(self.rows)
        object.__setattr__(self, "rows", rows)
        index: dict[str, int] = {}
        for position, row in enumerate(rows):
            key = canonical_value(row.value)
            if key is None:
                raise MappingError(f"Answer choice {row.label!r} has an empty value.")
            if key in index:
                raise MappingError(f"Value {row.value!r} appears twice in the mapping.")
            index[key] = position
        object.__setattr__(self, "_index", index)

    # --- lookups -------------------------------------------------------------------------

    def row_for(self, value: Any) -> MappingRow | None:
        """The row an exported value maps to, or None (unanswered or unmapped)."""
        key = canonical_value(value)
        position = None if key is None else self._index.get(key)
        return None if position is None else self.rows[position]

    def row_indices(self, values: Any) -> np.ndarray:
        """Row position of every answer (vectorised): UNANSWERED (-2), UNMAPPED (-1) or 0..n-1."""
        import numpy as np
        import pandas as pd  # here, not at the top: building a mapping (every metric read) needs none

        codes, uniques = pd.factorize(_as_array(values), use_na_sentinel=True)
        lookup = np.empty(len(uniques) + 1, dtype=np.int64)
        lookup[-1] = UNANSWERED  # factorize's NA sentinel -1 indexes the last slot
        for i, unique in enumerate(uniques):
            key = canonical_value(unique)
            lookup[i] = UNANSWERED if key is None else self._index.get(key, UNMAPPED)
        return lookup[codes]

    def sentiments(self, values: Any) -> np.ndarray:
        """Sentiment of every answer as an object array; None for unanswered or unmapped."""
        import numpy as np

        table = np.array([row.sentiment for row in self.rows] + [None, None], dtype=object)
        # UNMAPPED (-1) and UNANSWERED (-2) land on the two trailing None entries.
        return table[self.row_indices(values)]

    def count(self, values: Any, weights: Any = None) -> RowCounts:
        """Tally answers per row; `weights` are counts (e.g. from SQL `GROUP BY value`)."""
        import numpy as np

        answers = _as_array(values)
        rows = self.row_indices(answers)
        w = None if weights is None else answer_weights(weights, len(rows))
        mapped = rows >= 0
        per_row = np.bincount(rows[mapped], weights=None if w is None else w[mapped], minlength=len(self.rows))
        unmapped_mask = rows == UNMAPPED
        unanswered_mask = rows == UNANSWERED
        unmapped_values: tuple[str, ...] = ()
        if unmapped_mask.any():
            present = unmapped_mask if w is None else unmapped_mask & (w > 0)
            import pandas as pd

            seen = pd.unique(answers[present])
            unmapped_values = tuple(sorted({str(canonical_value(v)) for v in seen}))
        return RowCounts(
            per_row=per_row.astype(np.float64),
            unanswered=float(unanswered_mask.sum() if w is None else w[unanswered_mask].sum()),
            unmapped=float(unmapped_mask.sum() if w is None else w[unmapped_mask].sum()),
            unmapped_values=unmapped_values,
        )

    # --- derived facts ---------------------------------------------------------------------

    def sentiment_codes(self) -> np.ndarray:
        """Per-row sentiment code (index into SENTIMENT_ORDER), for vectorised tallies."""
        import numpy as np

        return np.array([SENTIMENT_CODE[row.sentiment] for row in self.rows], dtype=np.int64)

    def scores(self) -> np.ndarray:
        """Per-row CSAT score, NaN where the row has none."""
        import numpy as np

        return np.array(
            [np.nan if row.score is None else float(row.score) for row in self.rows],
            dtype=np.float64,
        )

    def missing_scores(self) -> tuple[MappingRow, ...]:
        """Counted rows without a score: CSAT cannot be computed while any exist."""
        return tuple(r for r in self.rows if r.sentiment != Sentiment.EXCLUDED and r.score is None)

    def score_range(self) -> tuple[float, float] | None:
        """Lowest and highest score among counted rows (the bounds of any CSAT mean)."""
        scores = [r.score for r in self.rows if r.sentiment != Sentiment.EXCLUDED and r.score is not None]
        return (min(scores), max(scores)) if scores else None

    # --- editing -------------------------------------------------------------------------

    def with_row(self, value: Any, *, sentiment: Sentiment | None = None, score: Any = _KEEP) -> AnswerMapping:
        """A copy where the row for `value` has a new sentiment and/or score (user override).

        `score=None` clears the score; leaving `score` out keeps it.
        """
        key = canonical_value(value)
        if key is None or key not in self._index:
            raise MappingError(f"No answer choice with value {value!r} in this mapping.")
        position = self._index[key]
        row = self.rows[position]
        changes: dict[str, Any] = {}
        if sentiment is not None:
            changes["sentiment"] = Sentiment(sentiment)
        if score is not _KEEP:
            changes["score"] = None if score is None else float(score)
        rows = list(self.rows)
        rows[position] = replace(row, **changes)
        return AnswerMapping(tuple(rows))

    def to_records(self) -> list[dict[str, Any]]:
        """Plain dicts (JSON-ready) so the workspace can store a mapping."""
        return [
            {"value": r.value, "label": r.label, "sentiment": str(r.sentiment), "score": r.score}
            for r in self.rows
        ]

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> AnswerMapping:
        """Inverse of `to_records`."""
        return cls(
            tuple(
                MappingRow(
                    value=str(r["value"]),
                    label=str(r.get("label", r["value"])),
                    sentiment=Sentiment(r["sentiment"]),
                    score=None if r.get("score") is None else float(r["score"]),
                )
                for r in records
            )
        )


def default_mapping(
    metric_type: MetricType | str,
    choices: Sequence[tuple[str, str, float | None] | Any],
    scale: tuple[float, float] | None = None,
) -> AnswerMapping:
    """The default mapping of design.md §2 for a question's choices.

    A choice is a `(value, label, recode)` tuple or any object with those attributes (such as
    `qualtrics.models.Choice`). N/A-like labels are Excluded first, so an out-of-scale recode
    such as 99 cannot stretch the scale ("Not sure" only when it is not the midpoint of the
    other choices). The scale is then read from the remaining numeric choices (recode if set,
    else the exported value). NPS is split 0–6 / 7–8 / 9–10 on the scale normalised to 0–10;
    CES and CSAT in thirds, which gives exactly 1–2/3/4–5 on 1–5 and 1–3/4/5–7 on 1–7. A CSAT
    row's score is its numeric value; choices with no number keep score None (and Neutral)
    so the user must map them. Pass `scale` (lowest, highest) when the choices seen are only
    part of the scale, e.g. when they were collected from answers rather than the survey.
    """
    metric = MetricType(metric_type)
    choices = [_choice_triple(c) for c in choices]
    positions = [float(recode) if recode is not None else numeric_value(value) for value, _, recode in choices]
    excluded = [is_not_an_answer(label) for _, label, _ in choices]
    answers = [p for p, x, (_, label, _) in zip(positions, excluded, choices)
               if p is not None and not x and not is_unsure(label)]
    inner = (min(answers), max(answers)) if answers else None
    for i, (_, label, _) in enumerate(choices):
        # "Not sure" strictly inside the other answers' range is the scale's midpoint, else it is no answer.
        if is_unsure(label):
            p = positions[i]
            excluded[i] = p is None or inner is None or not inner[0] < p < inner[1]
    counted = [p for p, x in zip(positions, excluded) if p is not None and not x]
    if scale is not None:
        low, high = float(scale[0]), float(scale[1])
    else:
        low, high = (min(counted), max(counted)) if counted else (0.0, 0.0)
    best_first = _runs_best_first(choices, positions, excluded)
    rows = []
    for (value, label, _), position, is_excluded in zip(choices, positions, excluded):
        if position is not None and best_first:
            position = low + high - position  # 1 = "Extremely easy": the scale's top is its lowest value
        if is_excluded:
            sentiment = Sentiment.EXCLUDED
        elif position is None:
            sentiment = Sentiment.NEUTRAL
        else:
            sentiment = _default_sentiment(metric, position, low, high)
        score = position if (metric == MetricType.CSAT and not is_excluded) else None
        rows.append(MappingRow(str(value), str(label), sentiment, score))
    return AnswerMapping(tuple(rows))


def _runs_best_first(choices: Sequence[tuple[str, str, float | None]], positions: Sequence[float | None],
                     excluded: Sequence[bool]) -> bool:
    """Whether the lowest value is worded as the scale's good end and the highest as its bad end, as in real
    Qualtrics ease scales recoded 1 "Extremely easy" … 7 "Extremely difficult"."""
    counted = [(p, label) for p, x, (_, label, _) in zip(positions, excluded, choices) if p is not None and not x]
    if len(counted) < 2:
        return False
    lowest, highest = min(counted, key=lambda c: c[0])[1], max(counted, key=lambda c: c[0])[1]
    return polarity(lowest) > 0 and polarity(highest) < 0


def _choice_triple(choice: Any) -> tuple[str, str, float | None]:
    if all(hasattr(choice, name) for name in ("value", "label", "recode")):
        return str(choice.value), str(choice.label), choice.recode
    value, label, recode = choice
    return str(value), str(label), recode


def infer_scale(metric_type: MetricType | str, numbers: Iterable[float]) -> tuple[float, float] | None:
    """The full scale that answers seen in an export most likely come from.

    Answers rarely cover every point (nobody may have chosen 1), so reading the scale from the
    observed range would shift the thirds. NPS is 0–10 by definition; other whole-number answers
    are taken to start at 1 and end at the highest value seen (a 1–4 satisfaction scale stays
    1–4, not 1–5), except that a highest value below 3 means 1–5 and a 6 means 1–7 (the common
    scales whose top nobody chose); anything else keeps its observed range. It is a guess:
    callers say so, and the survey definition is exact.
    """
    metric = MetricType(metric_type)
    found = [float(x) for x in numbers]
    if not found:
        return None
    low, high = min(found), max(found)
    whole = all(x.is_integer() for x in found)
    if metric == MetricType.NPS and whole and low >= 0 and high <= 10:
        return (0.0, 10.0)
    if metric != MetricType.NPS and whole and low >= 1 and high <= 11:
        return (1.0, 5.0) if high < 3 else (1.0, 7.0) if high == 6 else (1.0, high)
    return (low, high)


def _default_sentiment(metric: MetricType, position: float, low: float, high: float) -> Sentiment:
    if high == low:
        return Sentiment.NEUTRAL
    fraction = (position - low) / (high - low)
    if metric == MetricType.NPS:
        on_ten = fraction * 10.0
        if on_ten <= 6.0 + _EPS:
            return Sentiment.NEGATIVE
        if on_ten <= 8.0 + _EPS:
            return Sentiment.NEUTRAL
        return Sentiment.POSITIVE
    if fraction <= _THIRD + _EPS:
        return Sentiment.NEGATIVE
    if fraction >= 2 * _THIRD - _EPS:
        return Sentiment.POSITIVE
    return Sentiment.NEUTRAL


def _as_array(values: Any) -> Any:
    """Answers as something pd.factorize and boolean masks accept, without copying when possible.

    Plain lists become object arrays: letting pandas infer a string dtype costs more than the
    whole scoring of a million answers.
    """
    import numpy as np
    import pandas as pd

    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    if isinstance(values, (pd.Index, pd.Categorical, np.ndarray)) or hasattr(values, "__array__"):
        array = values if isinstance(values, (pd.Index, pd.Categorical)) else np.asarray(values)
        return array.reshape(-1) if isinstance(array, np.ndarray) else array
    return np.asarray(list(values), dtype=object).reshape(-1)


def answer_weights(weights: Any, n: int) -> np.ndarray:
    """Validated per-answer counts as float64 (ones when `weights` is None)."""
    import numpy as np

    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(w) != n:
        raise ValueError(f"Got {len(w)} weights for {n} answers; they must match one to one.")
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise ValueError("Weights are answer counts and must be finite and non-negative.")
    return w
