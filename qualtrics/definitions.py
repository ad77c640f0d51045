"""Trackable questions from a survey definition, in any of the shapes Qualtrics serves.

Shapes (qualtrics-api.md section 4): ``GET /survey-definitions/{id}`` (PascalCase ``Questions``), the same with
``?format=qsf`` (``SurveyElements`` whose ``SQ`` payloads are PascalCase questions) and the older
``GET /surveys/{id}`` (camelCase ``questions``, matrix rows in ``subQuestions``). Each is first normalised to
:class:`_RawQuestion`, so the rules below (what is trackable, the scale, the suggested metric) exist once.

Trackable = one answer per respondent from a fixed list: single-answer multiple choice (incl. NPS, dropdown,
select box) and each row of a single-answer matrix (``QIDn_m``). Everything else is skipped with a reason.
Single-box open-text questions are skipped as metrics too but listed as :class:`OpenTextQuestion` (their
``QIDn_TEXT`` column holds comments), and the embedded-data fields the survey flow sets are listed by name
(PascalCase and QSF: ``EmbeddedData`` elements anywhere in the flow; camelCase: ``embeddedData``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qualtrics.models import Choice, OpenTextQuestion, Question, QuestionCatalog, Scale, SkippedQuestion
from qualtrics.text import plain_text
from vocabulary import is_not_an_answer

_SINGLE_ANSWER_MC = {"SAVR", "SAHR", "SACOL", "DL", "SB", "NPS"}
_MULTI_ANSWER_MC = {"MAVR", "MAHR", "MACOL", "MSB"}
_SINGLE_ANSWER_MATRIX = {"Likert", "Bipolar"}
#: Text entry selectors exported as one ``QIDn_TEXT`` column (single line, multi line, essay box). Forms
#: (``FORM``) export one column per field and passwords (``PW``) are not comments.
_SINGLE_BOX_TEXT = {"SL", "ML", "ESTB"}
_STANDARD_SCALES: dict[tuple[float, ...], str] = {
    tuple(float(v) for v in range(0, 11)): "0-10",
    tuple(float(v) for v in range(1, 6)): "1-5",
    tuple(float(v) for v in range(1, 8)): "1-7",
}
_EASE = re.compile(r"\b(eas(y|e|ier|ily)|effort\w*|difficult\w*|hard)\b", re.IGNORECASE)
_SATISFACTION = re.compile(r"\bsatisf\w*|\bdissatisf\w*", re.IGNORECASE)
_REASONS = {
    "TE": "open-text answers have no scale",
    "DB": "descriptive text, not a question",
    "Slider": "slider questions are not supported yet",
    "RO": "rank-order answers have no single value",
    "CS": "constant-sum answers have no single value",
    "SBS": "side-by-side questions are not supported yet",
    "Timing": "timing data, not a question",
    "Meta": "browser metadata, not a question",
}


@dataclass
class _RawQuestion:
    qid: str
    export_tag: str
    text_html: str
    type: str
    selector: str
    sub_selector: str
    choices: list[tuple[str, str, str | None]]   # (choice id, label html, recode as given or None)
    rows: list[tuple[str, str, str | None]]      # matrix rows: (row id, label html, row export tag)


def _ordered(keys: Sequence[str], order: Sequence[Any] | None) -> list[str]:
    if order:
        seen = [str(k) for k in order if str(k) in keys]
        return seen + [k for k in keys if k not in seen]
    return list(keys)


def _pascal_question(qid: str, q: Mapping[str, Any]) -> _RawQuestion:
    qtype = str(q.get("QuestionType") or "")
    choices_raw: Mapping[str, Any] = q.get("Choices") or {}
    recodes: Mapping[str, Any] = q.get("RecodeValues") or {}
    rows: list[tuple[str, str, str | None]] = []
    if qtype == "Matrix":
        # Matrix: Choices are the rows (statements), Answers the scale columns; recodes apply to answers.
        row_tags: Mapping[str, Any] = q.get("ChoiceDataExportTags") or {}
        for rid in _ordered(list(map(str, choices_raw)), q.get("ChoiceOrder")):
            tag = row_tags.get(rid) if isinstance(row_tags, Mapping) else None
            rows.append((rid, str((choices_raw[rid] or {}).get("Display", "")), str(tag) if tag else None))
        answers_raw: Mapping[str, Any] = q.get("Answers") or {}
        order = q.get("AnswerOrder")
    else:
        answers_raw = choices_raw
        order = q.get("ChoiceOrder")
    choices = []
    for cid in _ordered(list(map(str, answers_raw)), order):
        recode = recodes.get(cid) if isinstance(recodes, Mapping) else None
        choices.append((cid, str((answers_raw[cid] or {}).get("Display", "")),
                        None if recode in (None, "") else str(recode)))
    return _RawQuestion(
        qid=str(q.get("QuestionID") or qid), export_tag=str(q.get("DataExportTag") or qid),
        text_html=str(q.get("QuestionText") or q.get("QuestionDescription") or ""), type=qtype,
        selector=str(q.get("Selector") or ""), sub_selector=str(q.get("SubSelector") or ""),
        choices=choices, rows=rows)


def _camel_question(qid: str, q: Mapping[str, Any]) -> _RawQuestion:
    qtype_obj: Mapping[str, Any] = q.get("questionType") or {}
    choices_raw: Mapping[str, Any] = q.get("choices") or {}
    choices = []
    for cid, c in choices_raw.items():
        c = c or {}
        recode = c.get("recode")
        choices.append((str(cid), str(c.get("choiceText") or c.get("description") or ""),
                        None if recode in (None, "") else str(recode)))
    rows = [(str(rid), str((r or {}).get("choiceText") or (r or {}).get("description") or ""), None)
            for rid, r in (q.get("subQuestions") or {}).items()]
    return _RawQuestion(
        qid=qid, export_tag=str(q.get("questionName") or qid), text_html=str(q.get("questionText") or ""),
        type=str(qtype_obj.get("type") or ""), selector=str(qtype_obj.get("selector") or ""),
        sub_selector=str(qtype_obj.get("subSelector") or ""), choices=choices, rows=rows)


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is not a number here


def _choice(cid: str, label_html: str, recode: str | None) -> Choice:
    # Only a recode that changes the exported value counts as "set": the camelCase shape repeats the choice id
    # as recode for every choice, the PascalCase shape omits RecodeValues unless customised; both must agree.
    effective = recode if recode is not None and recode != cid else None
    value = effective if effective is not None else cid
    return Choice(value=value, label=plain_text(label_html),
                  recode=_number(effective) if effective is not None else None)


def scale_of(choices: Sequence[Choice]) -> Scale:
    """The answer scale. Not-an-answer choices whose value lies outside the other choices' range (N/A recoded to
    99, say) are ignored, so an N/A choice never turns a 1-5 scale into "other"."""
    core = [n for c in choices if not is_not_an_answer(c.label) and (n := _number(c.value)) is not None]
    if not core:
        return Scale("other", None, None)
    low, high = min(core), max(core)
    values = set(core)
    values.update(n for c in choices if is_not_an_answer(c.label)
                  and (n := _number(c.value)) is not None and low <= n <= high)
    kind = _STANDARD_SCALES.get(tuple(sorted(values)), "other")
    return Scale(kind, low, high)  # type: ignore[arg-type]


def suggest_metric(selector: str, scale: Scale, text: str, labels: Sequence[str]) -> str | None:
    """NPS selector or 0-10 -> nps; 1-7 -> ces unless worded as satisfaction; 1-5 -> csat when worded as
    satisfaction, ces when worded as ease/effort; anything else: no suggestion."""
    wording = " ".join([text, *labels])
    if selector == "NPS" or scale.kind == "0-10":
        return "nps"
    if scale.kind == "1-7":
        return "csat" if _SATISFACTION.search(wording) and not _EASE.search(wording) else "ces"
    if scale.kind == "1-5":
        if _EASE.search(wording):
            return "ces"
        if _SATISFACTION.search(wording):
            return "csat"
    return None


def _skip(raw: _RawQuestion, reason: str) -> SkippedQuestion:
    return SkippedQuestion(id=raw.qid, export_tag=raw.export_tag, text=plain_text(raw.text_html),
                           type=raw.type, selector=raw.selector, reason=reason)


def _trackable(raw: _RawQuestion) -> list[Question] | SkippedQuestion:
    text = plain_text(raw.text_html)
    if raw.type == "MC":
        if raw.selector in _MULTI_ANSWER_MC:
            return _skip(raw, "multiple-answer questions have no single value per respondent")
        if raw.selector not in _SINGLE_ANSWER_MC:
            return _skip(raw, f"multiple-choice selector {raw.selector or '?'} is not supported")
    elif raw.type == "Matrix":
        if raw.selector not in _SINGLE_ANSWER_MATRIX or raw.sub_selector not in ("SingleAnswer", ""):
            return _skip(raw, f"matrix {raw.selector}/{raw.sub_selector or '-'} is not a single-answer matrix")
        if not raw.rows:
            return _skip(raw, "matrix without rows")
    else:
        return _skip(raw, _REASONS.get(raw.type, f"question type {raw.type or '?'} is not supported"))
    choices = tuple(_choice(*c) for c in raw.choices)
    if not choices:
        return _skip(raw, "no answer choices")
    scale = scale_of(choices)
    labels = [c.label for c in choices]
    if raw.type == "MC":
        return [Question(id=raw.qid, export_tag=raw.export_tag, text=text, type=raw.type,
                         selector=raw.selector, choices=choices, scale=scale,
                         suggested_type=suggest_metric(raw.selector, scale, text, labels))]  # type: ignore[arg-type]
    questions = []
    for rid, label_html, row_tag in raw.rows:
        row_label = plain_text(label_html)
        questions.append(Question(
            id=f"{raw.qid}_{rid}", export_tag=row_tag or f"{raw.export_tag}_{rid}", text=text, type=raw.type,
            selector=raw.selector, choices=choices, scale=scale,
            suggested_type=suggest_metric(raw.selector, scale, f"{text} {row_label}", labels),  # type: ignore[arg-type]
            parent_id=raw.qid, row_label=row_label))
    return questions


def _qid_key(qid: str) -> tuple[int, str]:
    digits = re.sub(r"\D", "", qid)
    return (int(digits) if digits else 0, qid)


def _open_text(raw: _RawQuestion) -> OpenTextQuestion | None:
    if raw.type != "TE" or raw.selector not in _SINGLE_BOX_TEXT:
        return None
    return OpenTextQuestion(id=f"{raw.qid}_TEXT", question_id=raw.qid, export_tag=raw.export_tag,
                            text=plain_text(raw.text_html))


def _flow_fields(node: Any, found: list[str]) -> None:
    """Embedded-data field names set anywhere in a survey flow (branches and groups nest ``Flow`` lists)."""
    if isinstance(node, list):
        for child in node:
            _flow_fields(child, found)
        return
    if not isinstance(node, Mapping):
        return
    if node.get("Type") == "EmbeddedData":
        for entry in node.get("EmbeddedData") or []:
            name = entry.get("Field") if isinstance(entry, Mapping) else None
            if name:
                found.append(str(name))
    _flow_fields(node.get("Flow"), found)


def embedded_fields(result: Mapping[str, Any]) -> tuple[str, ...]:
    """The embedded-data field names a definition declares, in flow order, each once."""
    found: list[str] = []
    if "embeddedData" in result:
        found = [str(e.get("name")) for e in result.get("embeddedData") or []
                 if isinstance(e, Mapping) and e.get("name")]
    elif "SurveyElements" in result:
        for element in result.get("SurveyElements") or []:
            if element.get("Element") == "FL":
                _flow_fields(element.get("Payload"), found)
    else:
        _flow_fields(result.get("SurveyFlow"), found)
    return tuple(dict.fromkeys(found))


def _raw_questions(result: Mapping[str, Any]) -> tuple[str, str, list[_RawQuestion]]:
    if "Questions" in result:
        return (str(result.get("SurveyID") or ""), str(result.get("SurveyName") or ""),
                [_pascal_question(str(k), v) for k, v in (result.get("Questions") or {}).items()])
    if "SurveyElements" in result:
        entry = result.get("SurveyEntry") or {}
        raws = [_pascal_question(str(e.get("PrimaryAttribute") or ""), e.get("Payload") or {})
                for e in result.get("SurveyElements") or [] if e.get("Element") == "SQ"]
        return str(entry.get("SurveyID") or ""), str(entry.get("SurveyName") or ""), raws
    if "questions" in result:
        return (str(result.get("id") or ""), str(result.get("name") or ""),
                [_camel_question(str(k), v) for k, v in (result.get("questions") or {}).items()])
    raise ValueError("not a survey definition: expected Questions, SurveyElements or questions")


def parse_definition(definition: Mapping[str, Any]) -> QuestionCatalog:
    """Parse a definition (the API's ``result``, or the whole ``{"result": ...}`` envelope)."""
    result = definition.get("result", definition) if isinstance(definition, Mapping) else definition
    survey_id, name, raws = _raw_questions(result)
    questions: list[Question] = []
    skipped: list[SkippedQuestion] = []
    open_text: list[OpenTextQuestion] = []
    for raw in sorted(raws, key=lambda r: _qid_key(r.qid)):
        outcome = _trackable(raw)
        if isinstance(outcome, SkippedQuestion):
            skipped.append(outcome)
        else:
            questions.extend(outcome)
        if (comment := _open_text(raw)) is not None:
            open_text.append(comment)
    return QuestionCatalog(survey_id=survey_id, survey_name=name, questions=tuple(questions),
                           skipped=tuple(skipped), open_text=tuple(open_text),
                           embedded_data=embedded_fields(result))
