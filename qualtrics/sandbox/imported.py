"""Surveys loaded from QSF files (``python -m qualtrics.sandbox --definitions DIR``), so that any real survey file
can be tried end to end against the sandbox.

The file is kept as it is and served verbatim (``?format=qsf``; the PascalCase shape is derived from it). Which
columns its exports have comes from `qualtrics.definitions.parse_definition`, the same reading the product does:
every trackable column (a single-answer question, a matrix row, a loop iteration) gets answers drawn from its own
choices, and every open-text question gets comments. A file that cannot be read is reported with its name and
skipped; the other files still load.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qualtrics.definitions import is_not_an_answer, parse_definition
from qualtrics.models import Question

from .catalog import ACCOUNT_USER_ID_SUFFIX, HISTORY_DAYS, ChoiceSpec, QuestionSpec, RatingModel, SurveySpec, stable_id
from .definitions import forces_response

IMPORTED_RESPONSES = 400
_FIRST_NUMBER = 1000  # random streams of loaded surveys, away from the demo and archive surveys'
_COMMENTS = (
    "Clear questions, it only took a couple of minutes.",
    "Everything worked as I expected.",
    "Friendly people and quick answers.",
    "Some questions were hard to understand.",
    "It took too long and I had to repeat myself.",
    "The page was slow and froze once.",
)


@dataclass(frozen=True)
class LoadProblem:
    """A file of the definitions folder that was not loaded, and why (one sentence)."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path.name}: {self.reason}"


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _rating_spec(q: Question, force: bool) -> QuestionSpec | None:
    """A trackable column as the generator draws it: the numeric choices in value order form the scale, one
    not-an-answer choice may come after; a column without a numeric choice gets no answers."""
    scale: dict[str, ChoiceSpec] = {}
    na: ChoiceSpec | None = None
    for c in q.choices:
        if _number(c.value) is None or c.value in scale:
            continue
        spec = ChoiceSpec(c.value, c.label, c.value)
        if is_not_an_answer(c.label):
            na = na or spec
        else:
            scale[c.value] = spec
    if not scale:
        return None
    ordered = sorted(scale.values(), key=lambda c: float(c.recode))
    if na is not None and na.id in scale:
        na = None
    low, points = float(ordered[0].recode), len(ordered) - 1
    model = RatingModel(mean_start=low + 0.55 * points, mean_end=low + 0.7 * points, sd=max(0.8, points / 4),
                        na_probability=0.05 if na else 0.0)
    return QuestionSpec(
        qid=q.id, tag=q.export_tag, html=q.text, kind="nps" if q.selector == "NPS" else "mc",
        choices=(*ordered, *((na,) if na else ())), na_choice=na.id if na else None, model=model,
        parent=q.parent_id or q.id,
        force_response=force, answer_probability=1.0 if force else 0.95)


def _forced(qsf: dict[str, Any]) -> set[str]:
    """Question ids whose definition forces a response (answered by every finished respondent)."""
    return {str(e.get("PrimaryAttribute")) for e in qsf.get("SurveyElements") or []
            if isinstance(e, dict) and e.get("Element") == "SQ" and isinstance(e.get("Payload"), dict)
            and forces_response(e["Payload"])}


def survey_from_qsf(qsf: dict[str, Any], seed: int, anchor: dt.datetime, number: int, survey_id: str,
                    responses: int = IMPORTED_RESPONSES) -> SurveySpec:
    """The sandbox survey of one QSF document (raises ValueError when it is no survey definition)."""
    catalog = parse_definition(qsf)
    forced = _forced(qsf)
    questions: list[QuestionSpec] = []
    for q in catalog.questions:
        spec = _rating_spec(q, (q.parent_id or q.id) in forced)
        if spec is not None:
            questions.append(spec)
    for text in catalog.open_text:
        # one slot per column: a looped question's comments come as 1_QID33_TEXT, 2_QID33_TEXT…
        slot = text.id.removesuffix("_TEXT")
        prefix = slot[: -len(text.question_id)] if slot.endswith(text.question_id) else ""
        questions.append(QuestionSpec(qid=slot, tag=prefix + text.export_tag, html=text.text, kind="text",
                                      themes=_COMMENTS, answer_probability=0.5, parent=text.question_id))
    entry = qsf.get("SurveyEntry") or {}
    created = anchor - dt.timedelta(days=HISTORY_DAYS + 14)
    driver = next((q.qid for q in questions if q.kind != "text"), None)
    return SurveySpec(
        id=survey_id,
        name=str(entry.get("SurveyName") or catalog.survey_name or survey_id),
        role="imported",
        number=number,
        owner_id=stable_id("UR_", seed, ACCOUNT_USER_ID_SUFFIX),
        created=created,
        last_modified=created + dt.timedelta(days=1),
        is_active=True,
        questions=tuple(questions),
        responses=responses,
        embedded_fields=catalog.embedded_data,
        text_driver=driver,
        qsf=qsf,
    )


def load_definitions(directory: str | Path, seed: int, anchor: dt.datetime,
                     taken: set[str]) -> tuple[list[SurveySpec], list[LoadProblem]]:
    """Every ``*.qsf`` file of ``directory`` (sorted by name) as a survey; ``taken`` holds survey ids already in
    use (a file whose SurveyID is taken, or has none, gets an id derived from its name)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise FileNotFoundError(f"--definitions {folder}: no such folder; give a folder holding .qsf files.")
    surveys: list[SurveySpec] = []
    problems: list[LoadProblem] = []
    for number, path in enumerate(sorted(folder.glob("*.qsf")), _FIRST_NUMBER):
        try:
            qsf = json.loads(path.read_text(encoding="utf-8-sig"))
            if not isinstance(qsf, dict) or not isinstance(qsf.get("SurveyElements"), list):
                raise ValueError("not a QSF file (no SurveyElements list)")
            wanted = str((qsf.get("SurveyEntry") or {}).get("SurveyID") or "")
            survey_id = wanted if re.fullmatch(r"SV_\w+", wanted) and wanted not in taken else stable_id(
                "SV_", seed, "imported", path.name)
            if survey_id != wanted:  # the served file names the id the survey is reached by
                qsf = {**qsf, "SurveyEntry": {**(qsf.get("SurveyEntry") or {}), "SurveyID": survey_id}}
            survey = survey_from_qsf(qsf, seed, anchor, number, survey_id)
        except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError) as exc:
            problems.append(LoadProblem(path, f"{type(exc).__name__}: {exc}"))
            continue
        taken.add(survey.id)
        surveys.append(survey)
    return surveys, problems
