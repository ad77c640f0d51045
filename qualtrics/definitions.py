"""Trackable questions from a survey definition, in any of the shapes real Qualtrics serves.

Shapes (qualtrics-api.md section 4): ``GET /survey-definitions/{id}`` (PascalCase ``Questions``), the same with
``?format=qsf`` or a ``.qsf`` file (``SurveyElements`` whose ``SQ`` payloads are PascalCase questions) and the older
``GET /surveys/{id}`` (camelCase ``questions``, matrix rows in ``subQuestions``). Each is first normalised to
:class:`_RawQuestion` and a :class:`_Layout` (blocks, flow, loops), so the rules below exist once.

Tolerance: Qualtrics is written in PHP, which serialises an array keyed 0…n−1 as a JSON *list*, so any keyed
collection (``Choices``, ``Answers``, ``RecodeValues``, ``ChoiceDataExportTags``, ``Blocks``…) may come as a list
whose index is the key (an NPS question's choices 0–10), and any value may be null, a number where a string is
expected or missing. Every collection is read through :func:`entries` and every scalar through :func:`text`, and
one question that still cannot be read is skipped with its reason; the rest of the survey stays usable.

Trackable = one answer per respondent from a fixed list, in a block the survey flow shows: single-answer multiple
choice (incl. NPS, dropdown, select box) and each row of a single-answer matrix (``QIDn_m``; Likert single answer,
dropdown ``DL``, drag-and-drop ``DND``, Bipolar; rows carried forward from another question as ``QIDn_x<choice>``).
A question in a loop & merge block is offered once per loop (``<loop>_QIDn``, ``<loop>_QIDn_m``), the ImportIds
of its export columns. Text-entry rows ("Other: ___") and everything else are skipped with a reason.
Single-box open-text questions are skipped as metrics too but listed as :class:`OpenTextQuestion` (their
``QIDn_TEXT`` column holds comments), and the embedded-data fields the survey flow sets are listed by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qualtrics.models import Choice, OpenTextQuestion, Question, QuestionCatalog, Scale, SkippedQuestion
from qualtrics.text import plain_text
from vocabulary import is_not_an_answer

_SINGLE_ANSWER_MC = {"SAVR", "SAHR", "SACOL", "DL", "SB", "NPS"}
_MULTI_ANSWER_MC = {"MAVR", "MAHR", "MACOL", "MSB"}
_SINGLE_ANSWER_MATRIX = {"Likert", "Bipolar"}
#: Sub-selectors of a Likert matrix with one answer per row: radio buttons, a dropdown per row, drag and drop.
_ONE_PER_ROW = {"SingleAnswer", "DL", "DND", ""}
#: Text entry selectors exported as one ``QIDn_TEXT`` column (single line, multi line, essay box). Forms
#: (``FORM``) export one column per field and passwords (``PW``) are not comments.
_SINGLE_BOX_TEXT = {"SL", "ML", "ESTB"}
_STANDARD_SCALES: dict[tuple[float, ...], str] = {
    tuple(float(v) for v in range(0, 11)): "0-10",
    tuple(float(v) for v in range(1, 6)): "1-5",
    tuple(float(v) for v in range(1, 8)): "1-7",
}
#: Ease/effort in answer labels ("Very difficult" is a scale end) and, narrower, in a question's text, where
#: "difficult" or "hard" is more often the subject ("Is this a difficult decision?") than a CES wording.
_EASE = re.compile(r"\b(eas(y|e|ier|iest|ily)|effort\w*|difficult\w*|hard)\b", re.IGNORECASE)
_EASE_TEXT = re.compile(r"\b(eas(y|e|ier|iest|ily)|effort\w*)\b", re.IGNORECASE)
_SATISFACTION = re.compile(r"\bsatisf\w*|\bdissatisf\w*|\bunsatisf\w*", re.IGNORECASE)
_RECOMMEND = re.compile(r"\brecommend\w*|\blikel(y|ihood)\b", re.IGNORECASE)
_REASONS = {
    "TE": "open-text answers have no scale",
    "DB": "descriptive text, not a question",
    "Slider": "slider questions are not supported yet",
    "RO": "rank-order answers have no single value",
    "CS": "constant-sum answers have no single value",
    "SBS": "side-by-side questions are not supported yet",
    "PGR": "pick, group and rank answers have no single value",
    "Timing": "timing data, not a question",
    "Meta": "browser metadata, not a question",
    "Captcha": "a captcha, not a question",
    "FileUpload": "file uploads have no scale",
    "Draw": "signatures have no scale",
}
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_LOOP_FIELD = re.compile(r"\$\{lm://Field/(\d+)\}")
_QID_IN_LOCATOR = re.compile(r"q://(QID\d+)/")


# -- tolerant readers: every part of a definition goes through these --------------------------------------

def entries(value: Any) -> list[tuple[str, Any]]:
    """A keyed collection as ``(key, value)`` pairs, keys as strings.

    An object gives its items; a list gives ``(index, item)``, because PHP writes an array keyed 0…n−1 as a list
    (an NPS question's ``Choices`` 0–10, a survey's ``Blocks``); null, a number or a string is an empty collection.
    """
    if isinstance(value, Mapping):
        return [(text(k), v) for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return [(str(i), v) for i, v in enumerate(value)]
    return []


def _object(value: Any) -> Mapping[str, Any]:
    """``value`` when it is an object, else an empty one (a list in its place has no named keys)."""
    return value if isinstance(value, Mapping) else {}


def text(value: Any) -> str:
    """A scalar as a string: null and containers are empty, ``3`` and ``3.0`` are ``"3"``, ``True`` is
    ``"true"``; lone surrogates (valid JSON escapes, invalid UTF-8) become U+FFFD so the text can be stored."""
    if type(value) is str:  # the common case, without the slower abstract-class checks below
        return _SURROGATES.sub("\ufffd", value) if not value.isascii() else value
    if value is None or isinstance(value, (Mapping, list, tuple, set)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _SURROGATES.sub("\ufffd", str(value))


def _flag(value: Any) -> bool:
    """Qualtrics booleans: ``true``, ``"true"``, ``1``, ``"1"`` (and the camelCase ``textEntry: {}`` marker)."""
    return value is True or isinstance(value, Mapping) or text(value).strip().lower() in {"true", "1", "yes", "on"}


def _qid(value: Any) -> str:
    return text(value).strip()


# -- the normalised form ---------------------------------------------------------------------------------

@dataclass
class _RawChoice:
    id: str
    label_html: str
    recode: str | None = None      # as given; None when not set
    export_tag: str | None = None  # matrix rows: ChoiceDataExportTags
    text_entry: bool = False


@dataclass
class _RawQuestion:
    qid: str
    export_tag: str
    text_html: str
    type: str
    selector: str
    sub_selector: str
    choices: list[_RawChoice]       # answer options (matrix: the scale columns)
    rows: list[_RawChoice]          # matrix rows (statements)
    carried_from: str | None = None  # QID whose choices are carried forward as rows (``DynamicChoices``)


@dataclass
class _Loop:
    id: str      # the export prefix: "1" in 1_QID4137_1
    label: str   # the loop's first field, plain text
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class _Layout:
    """Where questions sit: their block, which blocks are Trash, which the flow shows, which loop."""

    blocks_known: bool = False
    block_of: dict[str, str] = field(default_factory=dict)
    trash: set[str] = field(default_factory=set)
    flowed: set[str] | None = None   # None: the definition has no usable flow, so every block counts
    loops: dict[str, list[_Loop]] = field(default_factory=dict)
    #: Every loop & merge block, with the question its loops follow ("" for a static loop or none known).
    looped: dict[str, str] = field(default_factory=dict)

    def excluded(self, qid: str) -> str | None:
        """Why respondents never see ``qid`` (or its export columns are unknown), or None when they may."""
        if not self.blocks_known:
            return None
        block = self.block_of.get(qid)
        if block is None:
            return "in no block of the survey, so no respondent sees it"
        if block in self.trash:
            return "in the Trash block (deleted in Qualtrics)"
        if self.flowed is not None and block not in self.flowed:
            return "its block is not in the survey flow, so no respondent sees it"
        if block in self.looped and not self.loops.get(block):
            return "in a loop & merge block whose loops the definition does not list, so its columns are unknown"
        return None

    def list_loops_from(self, questions: Mapping[str, _RawQuestion]) -> None:
        """A question-driven loop runs once per choice of its source question: those choices name its loops,
        and list them when ``Static`` does not."""
        for block, source in self.looped.items():
            if (carried := questions.get(source)) is None:
                continue
            labels = {c.id: plain_text(c.label_html) for c in carried.choices}
            if not self.loops.get(block):
                self.loops[block] = [_Loop(cid, label, {"1": label}) for cid, label in labels.items()]
            for loop in self.loops[block]:
                loop.label = loop.label or labels.get(loop.id, "")

    def loops_of(self, qid: str) -> list[_Loop]:
        return self.loops.get(self.block_of.get(qid, ""), [])


def _ordered(items: list[_RawChoice], order: Any) -> list[_RawChoice]:
    """``items`` in the ``ChoiceOrder``/``AnswerOrder`` display order (a list or an index-keyed object),
    any item the order forgets kept after it."""
    wanted = [text(v) for _, v in entries(order)]
    if not wanted:
        return items
    by_id = {c.id: c for c in items}
    seen = [by_id[k] for k in dict.fromkeys(wanted) if k in by_id]
    placed = {c.id for c in seen}
    return seen + [c for c in items if c.id not in placed]


def _pascal_choices(collection: Any, recodes: Mapping[str, Any], tags: Mapping[str, Any]) -> list[_RawChoice]:
    found = []
    for cid, c in entries(collection):
        body = _object(c)
        label = body.get("Display") if body else c
        recode = text(recodes.get(cid)) or None
        tag = text(tags.get(cid)) or None
        found.append(_RawChoice(cid, text(label), recode, tag, _flag(body.get("TextEntry"))))
    return found


def _pascal_question(qid: str, q: Any) -> _RawQuestion:
    q = _object(q)
    qtype = text(q.get("QuestionType"))
    recodes = dict(entries(q.get("RecodeValues")))
    dynamic = _object(q.get("DynamicChoices"))
    carried = _QID_IN_LOCATOR.match(text(dynamic.get("Locator")))
    rows: list[_RawChoice] = []
    if qtype == "Matrix":
        # Matrix: Choices are the rows (statements), Answers the scale columns; recodes apply to answers.
        rows = _ordered(_pascal_choices(q.get("Choices"), {}, dict(entries(q.get("ChoiceDataExportTags")))),
                        q.get("ChoiceOrder"))
        choices = _ordered(_pascal_choices(q.get("Answers"), recodes, {}), q.get("AnswerOrder"))
    else:
        choices = _ordered(_pascal_choices(q.get("Choices"), recodes, {}), q.get("ChoiceOrder"))
    question_id = _qid(q.get("QuestionID")) or qid
    return _RawQuestion(
        qid=question_id, export_tag=text(q.get("DataExportTag")) or question_id,
        text_html=text(q.get("QuestionText")) or text(q.get("QuestionDescription")), type=qtype,
        selector=text(q.get("Selector")), sub_selector=text(q.get("SubSelector")),
        choices=choices, rows=rows, carried_from=carried.group(1) if carried else None)


def _camel_choices(collection: Any) -> list[_RawChoice]:
    found = []
    for cid, c in entries(collection):
        body = _object(c)
        label = (body.get("choiceText") or body.get("description")) if body else c
        found.append(_RawChoice(cid, text(label), text(body.get("recode")) or None, None,
                                "textEntry" in body and body.get("textEntry") is not False))
    return found


def _camel_question(qid: str, q: Any) -> _RawQuestion:
    q = _object(q)
    qtype = _object(q.get("questionType"))
    return _RawQuestion(
        qid=qid, export_tag=text(q.get("questionName")) or qid, text_html=text(q.get("questionText")),
        type=text(qtype.get("type")), selector=text(qtype.get("selector")),
        sub_selector=text(qtype.get("subSelector")), choices=_camel_choices(q.get("choices")),
        rows=_camel_choices(q.get("subQuestions")))


# -- blocks, flow and loops ------------------------------------------------------------------------------

def _flow_blocks(node: Any, found: set[str], depth: int = 0) -> None:
    """Block ids the flow shows, through Branch, Group, (Block)Randomizer and any other nesting."""
    if depth > 50:
        return
    if isinstance(node, (list, tuple)):
        for child in node:
            _flow_blocks(child, found, depth + 1)
        return
    if not isinstance(node, Mapping):
        return
    block_id = text(node.get("ID") or node.get("id"))
    kind = text(node.get("Type") or node.get("type"))
    if block_id and (block_id.startswith("BL_") or kind in {"Block", "Standard"}):
        found.add(block_id)
    for key in ("Flow", "flow"):
        child = node.get(key)
        _flow_blocks([v for _, v in entries(child)] if isinstance(child, Mapping) else child, found, depth + 1)


def _flowed(flow: Any) -> set[str] | None:
    found: set[str] = set()
    _flow_blocks(flow, found)
    # A flow naming no block at all is unusable (a partial or synthetic definition), not an empty survey.
    return found or None


def _is_looped(options: Mapping[str, Any]) -> bool:
    return text(options.get("Looping")) not in {"", "None", "none", "false"}


def _loop_source(options: Mapping[str, Any]) -> str:
    """The question a question-driven loop follows (``LoopingOptions.QID`` or its locator), or ""."""
    looping = _object(options.get("LoopingOptions"))
    locator = _QID_IN_LOCATOR.match(text(looping.get("Locator")) or text(looping.get("ChoiceGroupLocator")))
    return _qid(looping.get("QID")) or (locator.group(1) if locator else "")


def _static_loops(options: Mapping[str, Any]) -> list[_Loop]:
    """Loops of a PascalCase/QSF block: ``Options.Looping`` (Static or Question) with ``LoopingOptions.Static``
    keyed by the loop id the export columns carry (the carried choice id for a question-driven loop)."""
    loops = []
    for loop_id, fields in entries(_object(options.get("LoopingOptions")).get("Static")):
        values = {k: plain_text(text(v)) for k, v in entries(fields)}
        first = next((v for v in values.values() if v), "")
        loops.append(_Loop(loop_id, first, values))
    return loops


def _camel_loops(spec: Any) -> list[_Loop]:
    """camelCase ``loopAndMerge[block]``: ``columnNames`` holds each field's values in loop order (1-based)."""
    columns = entries(_object(spec).get("columnNames"))
    count = max((len(entries(values)) for _, values in columns), default=0)
    loops = []
    for i in range(count):
        values = {}
        for name, column in columns:
            cells = [v for _, v in entries(column)]
            values[name.removeprefix("field")] = plain_text(text(cells[i])) if i < len(cells) else ""
        loops.append(_Loop(str(i + 1), next((v for v in values.values() if v), ""), values))
    return loops


def _pascal_layout(blocks: Any, flow: Any) -> _Layout:
    layout = _Layout(flowed=_flowed(flow))
    for key, block in entries(blocks):
        block = _object(block)
        block_id = text(block.get("ID")) or key
        elements = entries(block.get("BlockElements"))
        layout.blocks_known = layout.blocks_known or bool(block)
        if text(block.get("Type")) == "Trash":
            layout.trash.add(block_id)
        for _, element in elements:
            element = _object(element)
            if text(element.get("Type")) == "Question" and (qid := _qid(element.get("QuestionID"))):
                layout.block_of.setdefault(qid, block_id)
        options = _object(block.get("Options"))
        if _is_looped(options):
            layout.looped[block_id] = _loop_source(options)
            layout.loops[block_id] = _static_loops(options)
    return layout


def _camel_layout(result: Mapping[str, Any]) -> _Layout:
    layout = _Layout(flowed=_flowed(result.get("flow")))
    for block_id, block in entries(result.get("blocks")):
        block = _object(block)
        layout.blocks_known = layout.blocks_known or bool(block)
        if text(block.get("type")) == "Trash":
            layout.trash.add(block_id)
        for _, element in entries(block.get("elements")):
            element = _object(element)
            if text(element.get("type")) == "Question" and (qid := _qid(element.get("questionId"))):
                layout.block_of.setdefault(qid, block_id)
    for block_id, spec in entries(result.get("loopAndMerge")):
        if spec:
            layout.looped[block_id] = ""
            layout.loops[block_id] = _camel_loops(spec)
    return layout


# -- scale, suggestion, trackability ---------------------------------------------------------------------

def _number(value: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number == number and abs(number) != float("inf") else None  # NaN, inf are no numbers


def _choice(raw: _RawChoice) -> Choice:
    # Only a recode that changes the exported value counts as "set": the camelCase shape repeats the choice id
    # as recode for every choice, the PascalCase shape omits RecodeValues unless customised; both must agree.
    effective = raw.recode if raw.recode is not None and raw.recode != raw.id else None
    value = effective if effective is not None else raw.id
    return Choice(value=value, label=plain_text(raw.label_html),
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
    """The metric type the scale's wording asks for, never the count of its choices (a 7-band income question
    is no CES): the NPS selector, or 0-10 worded as likelihood to recommend → nps; choices worded as
    satisfaction → csat, as ease/effort → ces; else, for a scale of at least four answers, the question text
    decides the same way; else nothing."""
    if selector == "NPS":
        return "nps"
    if scale.minimum is None:
        return None
    counted = [label for label in labels if not is_not_an_answer(label)]
    answers = " ".join(counted)
    if scale.kind == "0-10" and (_RECOMMEND.search(text) or _RECOMMEND.search(answers)):
        return "nps"
    # The question's text alone decides only for a rating scale: "Have all problems been resolved to your
    # complete satisfaction?" answered Yes / Yes, by me / No is no CSAT.
    wordings = [(answers, _EASE), (text, _EASE_TEXT)] if len(counted) >= 4 else [(answers, _EASE)]
    for wording, ease in wordings:
        if ease.search(wording):
            return "ces"
        if _SATISFACTION.search(wording):
            return "csat"
    return None


def _skip(raw: _RawQuestion, reason: str, qid: str | None = None, tag: str | None = None) -> SkippedQuestion:
    return SkippedQuestion(id=qid or raw.qid, export_tag=tag or raw.export_tag, text=plain_text(raw.text_html),
                           type=raw.type, selector=raw.selector, reason=reason)


def _carried_rows(raw: _RawQuestion, by_id: Mapping[str, _RawQuestion]) -> list[_RawChoice] | str:
    """A carry-forward matrix's rows: the source question's choices as ``x<choice id>`` (exported as
    ``QIDn_x4``), then the matrix's own static rows."""
    source = by_id.get(raw.carried_from or "")
    if source is None:
        return f"its rows are carried forward from {raw.carried_from}, which the definition does not hold"
    carried = source.rows if source.type == "Matrix" else source.choices
    return [_RawChoice(f"x{c.id}", c.label_html, None, f"{raw.export_tag}_x{c.id}", c.text_entry)
            for c in carried] + raw.rows


def _trackable(raw: _RawQuestion, by_id: Mapping[str, _RawQuestion]
               ) -> tuple[list[Question], list[SkippedQuestion]]:
    text_plain = plain_text(raw.text_html)
    rows = raw.rows
    if raw.type == "MC":
        if raw.selector in _MULTI_ANSWER_MC:
            return [], [_skip(raw, "multiple-answer questions have no single value per respondent")]
        if raw.selector not in _SINGLE_ANSWER_MC:
            return [], [_skip(raw, f"multiple-choice selector {raw.selector or '?'} is not supported")]
        if raw.carried_from:
            return [], [_skip(raw, f"its choices are carried forward from {raw.carried_from}; carried-forward "
                                   "choices are not supported yet")]
    elif raw.type == "Matrix":
        if raw.sub_selector == "MultipleAnswer":
            return [], [_skip(raw, "multiple-answer matrix: a respondent may pick several answers per row")]
        if raw.selector not in _SINGLE_ANSWER_MATRIX or raw.sub_selector not in _ONE_PER_ROW:
            return [], [_skip(raw, f"matrix {raw.selector or '?'}/{raw.sub_selector or '-'} is not a "
                                   "single-answer matrix")]
        if raw.carried_from:
            carried = _carried_rows(raw, by_id)
            if isinstance(carried, str):
                return [], [_skip(raw, carried)]
            rows = carried
        if not rows:
            return [], [_skip(raw, "matrix without rows")]
    else:
        return [], [_skip(raw, _REASONS.get(raw.type, f"question type {raw.type or '?'} is not supported"))]
    choices = tuple(_choice(c) for c in raw.choices)
    if not choices:
        return [], [_skip(raw, "no answer choices")]
    # A typed-in "Other: ___" choice stays a choice (its value is exported) but says nothing about the scale.
    typed = {c.id for c in raw.choices if c.text_entry}
    scale = scale_of([c for c, r in zip(choices, raw.choices) if r.id not in typed])
    labels = [c.label for c in choices]
    if raw.type == "MC":
        return [Question(id=raw.qid, export_tag=raw.export_tag, text=text_plain, type=raw.type,
                         selector=raw.selector, choices=choices, scale=scale,
                         suggested_type=suggest_metric(raw.selector, scale, text_plain, labels))], []  # type: ignore[arg-type]
    questions, skipped = [], []
    for row in rows:
        row_id, row_tag = f"{raw.qid}_{row.id}", row.export_tag or f"{raw.export_tag}_{row.id}"
        row_label = plain_text(row.label_html)
        if row.text_entry:
            skipped.append(_skip(raw, f"the row {row_label or row.id!r} is typed in by the respondent "
                                      "(text entry), not a rating", row_id, row_tag))
            continue
        questions.append(Question(
            id=row_id, export_tag=row_tag, text=text_plain, type=raw.type, selector=raw.selector,
            choices=choices, scale=scale,
            suggested_type=suggest_metric(raw.selector, scale, f"{text_plain} {row_label}", labels),  # type: ignore[arg-type]
            parent_id=raw.qid, row_label=row_label))
    return questions, skipped


def _looped(question: Question, loop: _Loop) -> Question:
    """``question`` as answered in one loop of its loop & merge block: ImportId ``<loop>_<id>``, loop fields
    piped into its text."""
    piped = _LOOP_FIELD.sub(lambda m: loop.fields.get(m.group(1), m.group(0)), question.text)
    field_text = loop.label if len(loop.label) <= 60 else loop.label[:59].rstrip() + "…"
    where = f"Loop {loop.id}" + (f" ({field_text})" if field_text else "")
    return Question(
        id=f"{loop.id}_{question.id}", export_tag=f"{loop.id}_{question.export_tag}", text=piped,
        type=question.type, selector=question.selector, choices=question.choices, scale=question.scale,
        suggested_type=question.suggested_type, parent_id=question.parent_id or question.id,
        row_label=f"{where} · {question.row_label}" if question.row_label else where)


def _qid_key(qid: str) -> tuple[int, str]:
    digits = re.sub(r"\D", "", qid)
    return (int(digits[:18]) if digits else 0, qid)


def _open_text(raw: _RawQuestion, loops: Sequence[_Loop]) -> list[OpenTextQuestion]:
    if raw.type != "TE" or raw.selector not in _SINGLE_BOX_TEXT:
        return []
    prefixes = [f"{loop.id}_" for loop in loops] or [""]
    return [OpenTextQuestion(id=f"{prefix}{raw.qid}_TEXT", question_id=raw.qid, export_tag=raw.export_tag,
                             text=plain_text(raw.text_html)) for prefix in prefixes]


# -- embedded data -------------------------------------------------------------------------------------

def _flow_fields(node: Any, found: list[str], depth: int = 0) -> None:
    """Embedded-data field names set anywhere in a survey flow (branches and groups nest ``Flow`` lists)."""
    if depth > 50:
        return
    if isinstance(node, (list, tuple)):
        for child in node:
            _flow_fields(child, found, depth + 1)
        return
    if not isinstance(node, Mapping):
        return
    if text(node.get("Type")) == "EmbeddedData":
        for _, entry in entries(node.get("EmbeddedData")):
            if name := text(_object(entry).get("Field")):
                found.append(name)
    child = node.get("Flow")
    _flow_fields([v for _, v in entries(child)] if isinstance(child, Mapping) else child, found, depth + 1)


def _qsf_element(result: Mapping[str, Any], kind: str) -> Any:
    for _, element in entries(result.get("SurveyElements")):
        element = _object(element)
        if text(element.get("Element")) == kind:
            return element.get("Payload")
    return None


def embedded_fields(result: Mapping[str, Any]) -> tuple[str, ...]:
    """The embedded-data field names a definition declares, in flow order, each once."""
    found: list[str] = []
    if "embeddedData" in result:
        found = [name for _, e in entries(result.get("embeddedData")) if (name := text(_object(e).get("name")))]
    elif "SurveyElements" in result:
        _flow_fields(_qsf_element(result, "FL"), found)
    else:
        _flow_fields(result.get("SurveyFlow"), found)
    return tuple(dict.fromkeys(found))


# -- entry point ---------------------------------------------------------------------------------------

def _read(make: Any, qid: str, payload: Any) -> _RawQuestion | SkippedQuestion:
    try:
        return make(qid, payload)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as exc:
        return SkippedQuestion(id=qid, export_tag=qid, text="", type="", selector="",
                               reason=f"its definition could not be read ({type(exc).__name__})")


def _raw_questions(result: Mapping[str, Any]) -> tuple[str, str, list[_RawQuestion | SkippedQuestion], _Layout]:
    if "Questions" in result:
        return (text(result.get("SurveyID")), text(result.get("SurveyName")),
                [_read(_pascal_question, k, v) for k, v in entries(result.get("Questions"))],
                _pascal_layout(result.get("Blocks"), result.get("SurveyFlow")))
    if "SurveyElements" in result:
        entry = _object(result.get("SurveyEntry"))
        raws = []
        for _, element in entries(result.get("SurveyElements")):
            element = _object(element)
            if text(element.get("Element")) == "SQ":
                raws.append(_read(_pascal_question, _qid(element.get("PrimaryAttribute")), element.get("Payload")))
        return (text(entry.get("SurveyID")), text(entry.get("SurveyName")), raws,
                _pascal_layout(_qsf_element(result, "BL"), _qsf_element(result, "FL")))
    if "questions" in result:
        return (text(result.get("id")), text(result.get("name")),
                [_read(_camel_question, k, v) for k, v in entries(result.get("questions"))], _camel_layout(result))
    raise ValueError("not a survey definition: expected Questions, SurveyElements or questions")


def parse_definition(definition: Mapping[str, Any]) -> QuestionCatalog:
    """Parse a definition (the API's ``result``, the whole ``{"result": ...}`` envelope, or a QSF file).

    Never fails because of one question: what cannot be tracked is in ``skipped`` with the reason. Raises
    ValueError only when ``definition`` is no survey definition at all.
    """
    result = definition.get("result", definition) if isinstance(definition, Mapping) else definition
    if not isinstance(result, Mapping):
        raise ValueError("not a survey definition: expected a JSON object")
    survey_id, name, raws, layout = _raw_questions(result)
    readable = [r for r in raws if isinstance(r, _RawQuestion)]
    by_id = {r.qid: r for r in readable}
    layout.list_loops_from(by_id)
    questions: list[Question] = []
    skipped: list[SkippedQuestion] = [r for r in raws if isinstance(r, SkippedQuestion)]
    open_text: list[OpenTextQuestion] = []
    seen: set[str] = set()
    for raw in sorted(readable, key=lambda r: _qid_key(r.qid)):
        if raw.qid in seen:  # a damaged file may hold one question twice; ids must stay unique
            skipped.append(_skip(raw, "it appears twice in the definition; the first one is used"))
            continue
        seen.add(raw.qid)
        if (unseen := layout.excluded(raw.qid)) is not None:
            skipped.append(_skip(raw, unseen))
            continue
        loops = layout.loops_of(raw.qid)
        try:
            found, left_out = _trackable(raw, by_id)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as exc:
            found, left_out = [], [_skip(raw, f"its definition could not be read ({type(exc).__name__})")]
        questions.extend([_looped(q, loop) for loop in loops for q in found] if loops else found)
        skipped.extend(left_out)
        open_text.extend(_open_text(raw, loops))
    return QuestionCatalog(survey_id=survey_id, survey_name=name, questions=tuple(questions),
                           skipped=tuple(skipped), open_text=tuple(open_text),
                           embedded_data=embedded_fields(result))
