"""Known scores of the demo surveys, computed the plain way so tests can check the product's scoring.

Deliberately independent of ``scoring/``: straightforward pandas over `Sandbox.expected_answers`, with the
design.md §2 rules written out (N/A excluded, NPS 0-6/7-8/9-10, CES 1-7 positive from 5, CSAT mean of recodes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .catalog import TOUCHPOINTS

if TYPE_CHECKING:
    from .app import Sandbox


def nps(values: pd.Series) -> float:
    scores = values.astype(int)
    return float(((scores >= 9).sum() - (scores <= 6).sum()) / len(scores) * 100)


def csat(values: pd.Series, not_an_answer: set[str]) -> float:
    kept = values[~values.isin(not_an_answer)].astype(float)
    return float(kept.mean())


def ces(values: pd.Series) -> float:
    scores = values.astype(int)
    return float((scores >= 5).sum() / len(scores) * 100)


def known_scores(sb: "Sandbox") -> dict[str, float]:
    """{"nps": …, "csat": …, "ces": …, "matrix:QID1_1": … (CSAT mean per touchpoint row)}."""
    ids = sb.survey_ids
    csat_question = sb.survey("csat").question("QID1")
    na = {c.recode for c in csat_question.choices if c.id == csat_question.na_choice}
    out = {
        "nps": nps(sb.expected_answers(ids["nps"], "QID1")["value"]),
        "csat": csat(sb.expected_answers(ids["csat"], "QID1")["value"], na),
        "ces": ces(sb.expected_answers(ids["ces"], "QID1")["value"]),
    }
    for row in range(1, len(TOUCHPOINTS) + 1):
        out[f"matrix:QID1_{row}"] = csat(sb.expected_answers(ids["matrix"], f"QID1_{row}")["value"], set())
    return out


def monthly_nps(sb: "Sandbox") -> pd.Series:
    """NPS per calendar month of the NPS survey (the demo trend: it improves month by month)."""
    frame = sb.expected_answers(sb.survey_ids["nps"], "QID1")
    month = frame["recordedDate"].dt.strftime("%Y-%m")
    return frame.groupby(month)["value"].apply(nps)
