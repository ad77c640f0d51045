"""Survey JSON in the shapes of the real API, key for key as recorded in shared/fixtures/qualtrics-real:
the survey-list element, ``GET /survey-definitions/{id}`` (PascalCase), the same ``?format=qsf`` (a QSF file's
``SurveyEntry`` + ``SurveyElements``) and ``GET /surveys/{id}`` (camelCase).

Qualtrics is written in PHP, whose ``json_encode`` writes an array keyed 0…n-1 as a JSON *list*: an NPS
question's ``Choices`` (ids 0…10) arrive as ``[{"Display": "0"}, …]``, an empty carry-forward ``Choices`` as
``[]``, a QSF's blocks as a list. `php_array` renders every keyed collection of the PascalCase and QSF shapes
that way; the camelCase API casts to objects and keeps ``{"0": …}`` (fixtures ``legacy_cats_nps_2025.json``).
A survey loaded from a QSF file (``SurveySpec.qsf``) is served as the file has it; its PascalCase shape is
derived from it (`pascal_from_qsf`), as the real API derives both from one stored survey.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .catalog import QuestionSpec, SurveySpec, strip_html

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


def php_array(mapping: dict[str, Any]) -> list[Any] | dict[str, Any]:
    """``mapping`` as PHP's json_encode writes it: a list when its keys are exactly "0", "1", … in order."""
    if list(mapping) == [str(i) for i in range(len(mapping))]:
        return list(mapping.values())
    return mapping


def _block_id(survey: SurveySpec, suffix: str = "") -> str:
    return "BL_" + survey.id[3:] + suffix


def _blocks(survey: SurveySpec) -> list[tuple[str, str, tuple[QuestionSpec, ...]]]:
    """(block id, description, questions) in flow order: one default block, and a block of its own for the
    questions of a loop & merge (Qualtrics loops whole blocks)."""
    plain = tuple(q for q in survey.questions if not q.loop)
    looped = tuple(q for q in survey.questions if q.loop)
    blocks = [(_block_id(survey), "Default Question Block", plain)] if plain else []
    if looped:
        blocks.append((_block_id(survey, "L"), "Loop & merge", looped))
    return blocks


def _block_elements(questions: tuple[QuestionSpec, ...], page_break: dict[str, str], type_key: str,
                    id_key: str) -> list[dict[str, str]]:
    """One question per page, in both APIs' spelling ("Page Break"/"PageBreak", QuestionID/questionId)."""
    elements: list[dict[str, str]] = []
    for i, q in enumerate(questions):
        if i:
            elements.append(page_break)
        elements.append({type_key: "Question", id_key: q.qid})
    return elements


def _looping_options(questions: tuple[QuestionSpec, ...]) -> dict[str, Any]:
    """A static loop over the fields of the block's questions (``${lm://Field/1}`` in their text)."""
    fields = questions[0].loop
    return {"Looping": "Static",
            "LoopingOptions": {"Static": {str(n): {"1": name} for n, name in enumerate(fields, 1)},
                               "Randomization": "None"}}


# ---------------------------------------------------------------- PascalCase (Survey Definition API)


def _next_id(ids: list[str]) -> int:
    numbers = [int(i.lstrip("x")) for i in ids if i.lstrip("x").isdigit()]
    return max(numbers or [3]) + 1


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
    if q.kind == "matrix" and q.carried_from:
        # rows are the choices selected in another question: none of their own ("Choices": [] as PHP writes it)
        out["Choices"] = php_array({})
        out["DynamicChoices"] = {"DynamicType": "ChoiceGroup",
                                 "Locator": f"q://{q.carried_from}/ChoiceGroup/SelectedChoices",
                                 "Type": "Dynamic", "Description": "Selected Choices"}
        out["DynamicChoicesData"] = []
        out["ChoiceOrder"] = []
    elif q.kind == "matrix":
        out["Choices"] = php_array({r.id: {"Display": r.html} for r in q.rows})
        out["ChoiceOrder"] = [r.id for r in q.rows]
    if q.kind == "matrix":
        out["Answers"] = php_array({c.id: {"Display": c.html} for c in q.choices})
        out["AnswerOrder"] = [int(c.id) for c in q.choices]
        out["ChoiceDataExportTags"] = ({r.id: f"{q.tag}_{r.id}" for r in q.rows} if q.carried_from else False)
        if q.has_custom_recodes:
            out["RecodeValues"] = php_array({c.id: c.recode for c in q.choices})
    elif q.choices:
        out["Choices"] = php_array({c.id: {"Display": c.html} for c in q.choices})
        out["ChoiceOrder"] = [c.id for c in q.choices]
        if q.has_custom_recodes:
            out["RecodeValues"] = php_array({c.id: c.recode for c in q.choices})
        if any(c.variable_name for c in q.choices):
            out["VariableNaming"] = php_array({c.id: c.variable_name or c.label for c in q.choices})
    out["Validation"] = {"Settings": {"ForceResponse": force, "ForceResponseType": "ON", "Type": "None"}}
    if q.kind == "text":
        out["GradingData"] = []
    out["Language"] = []
    out["NextChoiceId"] = _next_id([c.id for c in (q.rows or q.choices)])
    out["NextAnswerId"] = _next_id([c.id for c in q.choices]) if q.kind == "matrix" else 1
    out["QuestionID"] = q.qid
    out["DataVisibility"] = {"Private": False, "Hidden": False}
    if q.kind == "text":
        out["SearchSource"] = {"AllowFreeResponse": "false"}
    out["QuestionText_Unsafe"] = q.html
    return out


def _definition_blocks(survey: SurveySpec) -> dict[str, Any]:
    """Blocks keyed by id (the PascalCase shape), the Trash first as real definitions list it."""
    out: dict[str, Any] = {}
    if survey.trashed:
        trash = _block_id(survey, "T")
        out[trash] = {"Type": "Trash", "Description": "Trash / Unused Questions", "ID": trash,
                      "BlockElements": [{"Type": "Question", "QuestionID": q.qid} for q in survey.trashed]}
    for block, description, questions in _blocks(survey):
        options: dict[str, Any] = {"BlockLocking": "false", "RandomizeQuestions": "false",
                                   "BlockVisibility": "Expanded"}
        if questions[0].loop:
            options.update(_looping_options(questions))
        out[block] = {"Type": "Standard", "SubType": "", "Description": description, "ID": block,
                      "BlockElements": _block_elements(questions, {"Type": "Page Break"}, "Type", "QuestionID"),
                      "Options": options}
    return out


def survey_definition(survey: SurveySpec, brand_base_url: str) -> dict[str, Any]:
    """The PascalCase definition: a survey loaded from a QSF gets the shape derived from its file."""
    if survey.qsf is not None:
        return pascal_from_qsf(survey.qsf, brand_base_url)
    embedded = [
        {"Description": name, "Type": "Custom", "Field": name, "VariableType": "String",
         "DataVisibility": [], "AnalyzeText": False}
        for name in survey.embedded_fields
    ]
    return {
        "QuestionCount": str(len(survey.questions) + len(survey.trashed)),
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
        "Questions": {q.qid: _definition_question(q) for q in sorted((*survey.questions, *survey.trashed),
                                                                      key=lambda q: int(q.qid[3:]))},
        "Blocks": _definition_blocks(survey),
        "ResponseSets": {"RS_" + survey.id[3:]: "Default Response Set"},
        "SurveyFlow": {
            "Type": "Root",
            "FlowID": "FL_1",
            "Flow": [
                {"Type": "EmbeddedData", "FlowID": "FL_2", "EmbeddedData": embedded},
                *({"Type": "Standard", "ID": block, "FlowID": f"FL_{n}"}
                  for n, (block, _, _) in enumerate(_blocks(survey), 3)),
            ],
            "Properties": {"Count": 2 + len(_blocks(survey)), "RemovedFieldsets": []},
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




def _qsf_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def survey_qsf(survey: SurveySpec, brand_base_url: str) -> dict[str, Any]:
    """``GET /survey-definitions/{id}?format=qsf``: the survey as a QSF file holds it (a loaded QSF verbatim)."""
    if survey.qsf is not None:
        return survey.qsf
    pascal = survey_definition(survey, brand_base_url)
    sid = survey.id
    entry = {
        "SurveyID": sid, "SurveyName": survey.name, "SurveyDescription": None, "SurveyOwnerID": survey.owner_id,
        "SurveyBrandID": BRAND_ID, "DivisionID": None, "SurveyLanguage": "EN",
        "SurveyActiveResponseSet": "RS_" + sid[3:], "SurveyStatus": pascal["SurveyStatus"],
        "SurveyStartDate": "0000-00-00 00:00:00", "SurveyExpirationDate": "0000-00-00 00:00:00",
        "SurveyCreationDate": _qsf_time(survey.created), "CreatorID": survey.owner_id,
        "LastModified": _qsf_time(survey.last_modified), "LastAccessed": "0000-00-00 00:00:00",
        "LastActivated": _qsf_time(survey.created + dt.timedelta(hours=1)), "Deleted": None,
    }

    def element(kind: str, primary: str, payload: Any, secondary: str | None = None) -> dict[str, Any]:
        return {"SurveyID": sid, "Element": kind, "PrimaryAttribute": primary, "SecondaryAttribute": secondary,
                "TertiaryAttribute": None, "Payload": payload}

    elements = [
        element("BL", "Survey Blocks", php_array({str(i): b for i, b in enumerate(pascal["Blocks"].values())})),
        element("FL", "Survey Flow", pascal["SurveyFlow"]),
        element("SO", "Survey Options", pascal["SurveyOptions"]),
        element("SCO", "Scoring", pascal["Scoring"]),
        element("PROJ", "CORE", {"ProjectCategory": "CORE", "SchemaVersion": "1.1.0"}),
        element("STAT", "Survey Statistics", {"MobileCompatible": True, "ID": "Survey Statistics"}),
        element("QC", "Survey Question Count", pascal["QuestionCount"]),
        *(element("SQ", qid, q, q["DataExportTag"]) for qid, q in pascal["Questions"].items()),
        element("RS", "RS_" + sid[3:], None, "Default Response Set"),
    ]
    return {"SurveyEntry": entry, "SurveyElements": elements}


def _qsf_payload(qsf: dict[str, Any], kind: str) -> Any:
    return next((e.get("Payload") for e in qsf.get("SurveyElements") or [] if e.get("Element") == kind), None)


def _qsf_date(text: Any) -> str | None:
    if not text or str(text).startswith("0000"):
        return None
    return str(text).replace(" ", "T") + "Z"


def pascal_from_qsf(qsf: dict[str, Any], brand_base_url: str) -> dict[str, Any]:
    """The ``GET /survey-definitions/{id}`` shape of a QSF file: the same questions, blocks and flow (payloads
    untouched), blocks keyed by their id, in the real response's key order."""
    entry = qsf.get("SurveyEntry") or {}
    blocks = _qsf_payload(qsf, "BL") or []
    blocks = blocks.values() if isinstance(blocks, dict) else blocks
    questions = {str(e.get("PrimaryAttribute")): e.get("Payload")
                 for e in qsf.get("SurveyElements") or [] if e.get("Element") == "SQ"}
    responses = {str(e.get("PrimaryAttribute")): e.get("SecondaryAttribute") or "Default Response Set"
                 for e in qsf.get("SurveyElements") or [] if e.get("Element") == "RS"}
    return {
        "QuestionCount": str(len(questions)),
        "SurveyOptions": _qsf_payload(qsf, "SO") or {},
        "SurveyID": entry.get("SurveyID"),
        "SurveyName": entry.get("SurveyName"),
        "SurveyStatus": entry.get("SurveyStatus"),
        "LastModified": _qsf_date(entry.get("LastModified")),
        "BrandID": entry.get("SurveyBrandID"),
        "OwnerID": entry.get("SurveyOwnerID"),
        "LastAccessed": _qsf_date(entry.get("LastAccessed")),
        "CreatorID": entry.get("CreatorID"),
        "LastActivated": _qsf_date(entry.get("LastActivated")),
        "Questions": questions,
        "Blocks": {str(b.get("ID")): b for b in blocks if isinstance(b, dict)},
        "ResponseSets": responses,
        "SurveyFlow": _qsf_payload(qsf, "FL") or {},
        "Scoring": _qsf_payload(qsf, "SCO") or {},
        "ProjectInfo": {"SurveyID": entry.get("SurveyID"), **(_qsf_payload(qsf, "PROJ") or {})},
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
    """Export column -> question; loop iterations are suffixed ``(n)`` as the legacy API names them
    (fixture legacy_political_survey_2022.json: ``JJ11_1(1)``)."""
    out: dict[str, dict[str, str]] = {}
    for q in survey.questions:
        if q.kind == "matrix":
            entries = {f"{q.tag}_{r.id}": {"question": q.qid, "subQuestion": f"{q.qid}.subQuestions.{r.id}"}
                       for r in q.rows}
        elif q.kind == "multi":
            entries = {f"{q.tag}_{c.id}": {"question": q.qid, "choice": f"{q.qid}.choices.{c.id}"}
                       for c in q.choices}
        else:
            entries = {q.tag: {"question": q.export_qid}}
        for column, target in entries.items():
            if q.loop:
                out.update({f"{column}({n})": target for n in range(1, len(q.loop) + 1)})
            else:
                out[column] = target
    return out


def _loop_and_merge(survey: SurveySpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for block, _, questions in _blocks(survey):
        if questions[0].loop:
            out[block] = {"loopType": "Static", "loopQuestionMeta": {},
                          "randomizationMeta": {"randomize": "None", "limit": None},
                          "columnNames": {"field1": list(questions[0].loop)}}
    return out


def forces_response(payload: dict[str, Any]) -> bool:
    """Whether a QSF question payload forces a response (``Validation.Settings.ForceResponse`` "ON")."""
    validation = payload.get("Validation")
    settings = validation.get("Settings") if isinstance(validation, dict) else None
    return isinstance(settings, dict) and settings.get("ForceResponse") == "ON"


def _camel_from_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """A QSF question payload in the camelCase shape (surveys loaded from a QSF file)."""
    def listed(value: Any) -> dict[str, Any]:
        if isinstance(value, list):
            return {str(i): v for i, v in enumerate(value)}
        return value if isinstance(value, dict) else {}

    recodes = listed(payload.get("RecodeValues"))

    def entries(value: Any, with_recodes: bool) -> dict[str, Any]:
        out = {}
        for cid, choice in listed(value).items():
            html = str(choice.get("Display", "")) if isinstance(choice, dict) else ""
            out[cid] = {"recode": str(recodes.get(cid, cid)) if with_recodes else cid, "description": strip_html(html),
                        "choiceText": html, "imageDescription": None, "variableName": None}
        return out

    out: dict[str, Any] = {
        "questionType": {"type": payload.get("QuestionType"), "selector": payload.get("Selector"),
                         "subSelector": payload.get("SubSelector")},
        "questionText": payload.get("QuestionText"),
        "questionLabel": None,
        "validation": {"doesForceResponse": forces_response(payload)},
        "questionName": payload.get("DataExportTag"),
    }
    if payload.get("QuestionType") == "Matrix":
        out["subQuestions"] = entries(payload.get("Choices"), False)
        out["choices"] = entries(payload.get("Answers"), True)
    elif payload.get("Choices"):
        out["choices"] = entries(payload.get("Choices"), True)
    return out


def _trashed(qsf: dict[str, Any]) -> set[str]:
    blocks = _qsf_payload(qsf, "BL") or []
    return {str(e.get("QuestionID")) for b in (blocks.values() if isinstance(blocks, dict) else blocks)
            if isinstance(b, dict) and b.get("Type") == "Trash"
            for e in b.get("BlockElements") or [] if isinstance(e, dict)}


def get_survey(survey: SurveySpec, response_count: int) -> dict[str, Any]:
    """The camelCase shape; like the real one it leaves out the Trash (fixtures: 6 questions where the
    PascalCase definition of the same survey has 12)."""
    blocks = _blocks(survey)
    if survey.qsf is not None:
        questions = {str(e.get("PrimaryAttribute")): _camel_from_payload(e.get("Payload") or {})
                     for e in survey.qsf.get("SurveyElements") or []
                     if e.get("Element") == "SQ" and str(e.get("PrimaryAttribute")) not in _trashed(survey.qsf)}
        blocks = []
    else:
        questions = {q.qid: _survey_question(q) for q in survey.questions}
    return {
        "id": survey.id,
        "name": survey.name,
        "ownerId": survey.owner_id,
        "organizationId": BRAND_ID,
        "isActive": survey.is_active,
        "creationDate": iso(survey.created),
        "lastModifiedDate": iso(survey.last_modified),
        "expiration": {"startDate": None, "endDate": None},
        "questions": questions,
        "exportColumnMap": _export_column_map(survey),
        "blocks": {block: {"description": description,
                           "elements": _block_elements(qs, {"type": "PageBreak"}, "type", "questionId")}
                   for block, description, qs in blocks},
        "flow": [{"type": "EmbeddedData"}, *({"id": block, "type": "Block"} for block, _, _ in blocks)],
        "embeddedData": [{"name": name, "defaultValue": None} for name in survey.embedded_fields],
        "comments": {},
        "loopAndMerge": _loop_and_merge(survey),
        "responseCounts": {"auditable": response_count, "generated": 0, "deleted": 0},
    }
