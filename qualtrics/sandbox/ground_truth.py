"""Known scores of the demo surveys, computed the plain way so tests can check the product's scoring.

Deliberately independent of ``scoring/``: straightforward pandas over `Sandbox.expected_answers`, with the
design.md §2 rules written out (N/A excluded, NPS 0-6/7-8/9-10, CES 1-7 positive from 5, CSAT mean of recodes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .catalog import CHANNEL_CHOICES, FEATURES, TOUCHPOINTS

from .generator import answer_slots

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
    """{"nps": …, "csat": …, "ces": …, "matrix:QID1_1": … (CSAT mean per touchpoint row), "loop:2_QID1": …
    (per loop & merge iteration), "carry:QID2_x1": … (per carried-forward row)}."""
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
    for n in range(1, len(FEATURES) + 1):
        out[f"loop:{n}_QID1"] = csat(sb.expected_answers(ids["loop"], f"{n}_QID1")["value"], set())
    for n in range(1, len(CHANNEL_CHOICES) + 1):
        out[f"carry:QID2_x{n}"] = csat(sb.expected_answers(ids["carry"], f"QID2_x{n}")["value"], set())
    return out


def known_score(sb: "Sandbox", survey: str, question_id: str, metric_type: str) -> float:
    """One answer column scored as ``metric_type``, its not-an-answer choice (if any) excluded."""
    spec = sb.survey(survey)
    owner = next(q for q in spec.questions if question_id in (q.qid, *answer_slots(q)))
    na = {c.recode for c in owner.choices if c.id == owner.na_choice}
    values = sb.expected_answers(spec.id, question_id)["value"]
    kept = values[~values.isin(na)]
    return {"nps": nps, "ces": ces}[metric_type](kept) if metric_type != "csat" else csat(values, na)


def monthly_nps(sb: "Sandbox") -> pd.Series:
    """NPS per calendar month of the NPS survey (the demo trend: it improves month by month)."""
    frame = sb.expected_answers(sb.survey_ids["nps"], "QID1")
    month = frame["recordedDate"].dt.strftime("%Y-%m")
    return frame.groupby(month)["value"].apply(nps)
