"""Survey JSON in the shapes of the real API, key for key as recorded in shared/fixtures/qualtrics-real:
the survey-list element, ``GET /survey-definitions/{id}`` (PascalCase) and ``GET /surveys/{id}`` (camelCase).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .catalog import QuestionSpec, SurveySpec

BRAND_ID = "journeypulse"


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def list_element(survey: SurveySpec) -> dict[str, Any]:
    return {
        "id": survey.id,
        "name": survey.name,
        "ownerId": survey.owner_id,
        "lastModified": iso(survey.last_modified),
        "creationDate": iso(survey.created),
        "isActive": survey.is_active,
    }


def _block_id(survey: SurveySpec) -> str:
    return "BL_" + survey.id[3:]


def _block_elements(survey: SurveySpec, page_break: dict[str, str], type_key: str, id_key: str) -> list[dict[str, str]]:
    """One question per page, in both APIs' spelling ("Page Break"/"PageBreak", QuestionID/questionId)."""
    elements: list[dict[str, str]] = []
    for i, q in enumerate(survey.questions):
        if i:
            elements.append(page_break)
        elements.append({type_key: "Question", id_key: q.qid})
    return elements


# ---------------------------------------------------------------- PascalCase (Survey Definition API)


def _definition_question(q: QuestionSpec) -> dict[str, Any]:
    force = "ON" if q.force_response else "OFF"
    out: dict[str, Any] = {
        "QuestionText": q.html,
        "DataExportTag": q.tag,
        "QuestionType": q.question_type,
        "Selector": q.selector,
    }
    if q.sub_selector is not None or q.kind == "nps":
        out["SubSelector"] = q.sub_selector
    out["Configuration"] = {"QuestionDescriptionOption": "UseText"}
    out["QuestionDescription"] = q.text
    if q.kind == "text":
        out["DefaultChoices"] = False
    if q.kind == "matrix":
        out["Choices"] = {r.id: {"Display": r.html} for r in q.rows}
        out["ChoiceOrder"] = [r.id for r in q.rows]
        out["Answers"] = {c.id: {"Display": c.html} for c in q.choices}
        out["AnswerOrder"] = [int(c.id) for c in q.choices]
        out["ChoiceDataExportTags"] = False
        if q.has_custom_recodes:
            out["RecodeValues"] = {c.id: c.recode for c in q.choices}
    elif q.choices:
        out["Choices"] = {c.id: {"Display": c.html} for c in q.choices}
        out["ChoiceOrder"] = [c.id for c in q.choices]
        if q.has_custom_recodes:
            out["RecodeValues"] = {c.id: c.recode for c in q.choices}
        if any(c.variable_name for c in q.choices):
            out["VariableNaming"] = {c.id: c.variable_name or c.label for c in q.choices}
    out["Validation"] = {"Settings": {"ForceResponse": force, "ForceResponseType": "ON", "Type": "None"}}
    if q.kind == "text":
        out["GradingData"] = []
    out["Language"] = []
    out["NextChoiceId"] = max([int(c.id) for c in (q.rows or q.choices)] or [3]) + 1
    out["NextAnswerId"] = max([int(c.id) for c in q.choices] or [0]) + 1 if q.kind == "matrix" else 1
    out["QuestionID"] = q.qid
    out["DataVisibility"] = {"Private": False, "Hidden": False}
    if q.kind == "text":
        out["SearchSource"] = {"AllowFreeResponse": "false"}
    out["QuestionText_Unsafe"] = q.html
    return out


def survey_definition(survey: SurveySpec, brand_base_url: str) -> dict[str, Any]:
    block = _block_id(survey)
    elements = _block_elements(survey, {"Type": "Page Break"}, "Type", "QuestionID")
    embedded = [
        {"Description": name, "Type": "Custom", "Field": name, "VariableType": "String",
         "DataVisibility": [], "AnalyzeText": False}
        for name in survey.embedded_fields
    ]
    return {
        "QuestionCount": str(len(survey.questions)),
        "SurveyOptions": {
            "BackButton": "false",
            "SaveAndContinue": "true",
            "SurveyProtection": "PublicSurvey",
            "BallotBoxStuffingPrevention": "false",
            "NoIndex": "Yes",
            "SecureResponseFiles": "true",
            "SurveyExpiration": None,
            "SurveyTermination": "DefaultMessage",
            "Header": "",
            "Footer": "",
            "ProgressBarDisplay": "None",
            "PartialData": "+1 week",
            "ValidationMessage": None,
            "PreviousButton": " ← ",
            "NextButton": " → ",
            "SkinLibrary": "Qualtrics",
            "SkinType": "MQ",
            "Skin": "xmskin",
            "NewScoring": 1,
            "SurveyName": survey.name,
            "SurveyLanguage": "EN",
            "ActiveResponseSet": "RS_" + survey.id[3:],
            "AvailableLanguages": {"EN": []},
            "SurveyCreationDate": iso(survey.created),
        },
        "SurveyID": survey.id,
        "SurveyName": survey.name,
        "SurveyStatus": "Active" if survey.is_active else "Inactive",
        "LastModified": iso(survey.last_modified),
        "BrandID": BRAND_ID,
        "OwnerID": survey.owner_id,
        "LastAccessed": None,
        "CreatorID": survey.owner_id,
        "LastActivated": iso(survey.created + dt.timedelta(hours=1)),
        "Questions": {q.qid: _definition_question(q) for q in survey.questions},
        "Blocks": {
            block: {
                "Type": "Standard",
                "SubType": "",
                "Description": "Default Question Block",
                "ID": block,
                "BlockElements": elements,
                "Options": {"BlockLocking": "false", "RandomizeQuestions": "false", "BlockVisibility": "Expanded"},
            }
        },
        "ResponseSets": {"RS_" + survey.id[3:]: "Default Response Set"},
        "SurveyFlow": {
            "Type": "Root",
            "FlowID": "FL_1",
            "Flow": [
                {"Type": "EmbeddedData", "FlowID": "FL_2", "EmbeddedData": embedded},
                {"Type": "Standard", "ID": block, "FlowID": "FL_3"},
            ],
            "Properties": {"Count": 3, "RemovedFieldsets": []},
        },
        "Scoring": {
            "ScoringCategories": [],
            "ScoringCategoryGroups": [],
            "ScoringSummaryCategory": None,
            "ScoringSummaryAfterQuestions": 0,
            "ScoringSummaryAfterSurvey": 0,
            "DefaultScoringCategory": None,
            "AutoScoringCategory": None,
        },
        "ProjectInfo": {
            "SurveyID": survey.id,
            "ProjectCategory": "CX",
            "ProjectType": {"nps": "NetPromoterScore", "csat": "CustomerSatisfactionScore"}.get(survey.role, "CORE"),
            "CompositionType": None,
            "ContentBundle": None,
        },
        "BrandBaseURL": brand_base_url,
    }


# ---------------------------------------------------------------- camelCase ("get survey")


def _choice_json(c, with_variable: bool = True, analyze: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "recode": c.recode,
        "description": c.label,
        "choiceText": c.html,
        "imageDescription": None,
    }
    if with_variable:
        out["variableName"] = c.variable_name
    if analyze:
        out["analyze"] = True
    return out


def _survey_question(q: QuestionSpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "questionType": {"type": q.question_type, "selector": q.selector, "subSelector": q.sub_selector},
        "questionText": q.html,
        "questionLabel": None,
        "validation": {"doesForceResponse": q.force_response},
        "questionName": q.tag,
    }
    if q.kind == "matrix":
        out["subQuestions"] = {
            r.id: {"recode": r.recode, "description": r.label, "choiceText": r.html, "variableName": None,
                   "imageDescription": None}
            for r in q.rows
        }
        out["choices"] = {c.id: _choice_json(c, with_variable=False) for c in q.choices}
    elif q.choices:
        out["choices"] = {c.id: _choice_json(c) for c in q.choices}
    return out


def _export_column_map(survey: SurveySpec) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for q in survey.questions:
        if q.kind == "matrix":
            for r in q.rows:
                out[f"{q.tag}_{r.id}"] = {"question": q.qid, "subQuestion": f"{q.qid}.subQuestions.{r.id}"}
        else:
            out[q.tag] = {"question": q.qid}
    return out


def get_survey(survey: SurveySpec, response_count: int) -> dict[str, Any]:
    block = _block_id(survey)
    elements = _block_elements(survey, {"type": "PageBreak"}, "type", "questionId")
    return {
        "id": survey.id,
        "name": survey.name,
        "ownerId": survey.owner_id,
        "organizationId": BRAND_ID,
        "isActive": survey.is_active,
        "creationDate": iso(survey.created),
        "lastModifiedDate": iso(survey.last_modified),
        "expiration": {"startDate": None, "endDate": None},
        "questions": {q.qid: _survey_question(q) for q in survey.questions},
        "exportColumnMap": _export_column_map(survey),
        "blocks": {block: {"description": "Default Question Block", "elements": elements}},
        "flow": [{"type": "EmbeddedData"}, {"id": block, "type": "Block"}],
        "embeddedData": [{"name": name, "defaultValue": None} for name in survey.embedded_fields],
        "comments": {},
        "loopAndMerge": {},
        "responseCounts": {"auditable": response_count, "generated": 0, "deleted": 0},
    }
