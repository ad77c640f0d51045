"""The anonymous survey link (``/jfe/form/SV_…``, the path of Qualtrics' own anonymous links): a small form a
person can answer on a phone, so that Live mode's QR code leads somewhere real.

Pages are plain HTML without scripts (radio buttons styled as buttons), every value escaped; question texts are
the survey's HTML reduced to plain text, never rendered. Field names are the export keys (QID1, QID1_3 for a
matrix row, QID2_TEXT), and a rating posts its choice id, so a submission reads straight into the answers the
response store records. Like Qualtrics, the link accepts embedded data from its query string (``?region=…``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from .catalog import QuestionSpec, SurveySpec
from .generator import answer_slots

#: Embedded data of a response given through the link when the link's query string does not set them.
LINK_EMBEDDED_DEFAULTS = {"region": "Live session", "channel": "qr-code"}
MAX_TEXT = 5000  # characters kept of an open-text answer
MAX_EMBEDDED = 200
_NPS_ENDS = ("Not at all likely", "Extremely likely")


class AnswerError(ValueError):
    """A submission that cannot be recorded; ``problems`` are sentences to show above the form."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Answers:
    """A validated submission: choice indexes of rating slots and the texts of open-text slots."""

    choices: dict[str, int]
    texts: dict[str, str]


def _clean(text: str, limit: int) -> str:
    """What a person typed, without control characters (newlines and tabs stay), trimmed and capped."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return kept.replace("\r\n", "\n").strip()[:limit]


def link_embedded(survey: SurveySpec, source: Mapping[str, str]) -> dict[str, str]:
    """The embedded data a response through the link gets: from the query string or form, else the defaults."""
    out = {}
    for name in survey.embedded_fields:
        value = _clean(source.get(name, ""), MAX_EMBEDDED).replace("\n", " ")
        out[name] = value or LINK_EMBEDDED_DEFAULTS.get(name, "")
    return out


def read_answers(survey: SurveySpec, given: Mapping[str, str]) -> Answers:
    """Validate answers keyed by export slot (ratings: a choice id; open text: the text). Blank values are
    unanswered; a forced-response question must be answered; keys that are no answer slot are an error."""
    known = {slot: q for q in survey.questions for slot in answer_slots(q)}
    problems = [f"{key} is not a question of this survey." for key in given if key not in known]
    choices: dict[str, int] = {}
    texts: dict[str, str] = {}
    for slot, question in known.items():
        value = given.get(slot, "").strip()
        if question.kind == "text":
            text = _clean(given.get(slot, ""), MAX_TEXT)
            if text:
                texts[slot] = text
            continue
        ids = [c.id for c in question.choices]
        if value in ids:
            choices[slot] = ids.index(value)
        elif value:
            problems.append(f"{value!r} is not one of the choices of {question.text!r}.")
        elif question.force_response:
            problems.append(f"Please answer {question.text!r}.")
    if problems:
        raise AnswerError(problems)
    return Answers(choices, texts)


# ---------------------------------------------------------------- pages

_STYLE = """
  body { font-family: system-ui, -apple-system, sans-serif; margin: 0; background: #f4f5f7; color: #1d1d1f; }
  main { max-width: 36rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
  h1 { font-size: 1.35rem; margin: .5rem 0 1.25rem; }
  .question { background: #fff; border: 1px solid #d0d4da; border-radius: 10px; padding: 1rem; margin: 0 0 1rem; }
  .question legend.text, .question label.text { display: block; font-weight: 600; line-height: 1.4; padding: 0;
    margin-bottom: .75rem; }
  fieldset { border: 0; margin: 0; padding: 0; min-width: 0; }
  .required { color: #b42318; }
  .scale { display: flex; flex-wrap: wrap; gap: .35rem; }
  .scale label { flex: 1 0 2.5rem; }
  .scale.nps { display: grid; grid-template-columns: repeat(11, 1fr); gap: .2rem; }
  .scale.nps span { padding: .6rem 0; }
  .options label { display: block; margin: .35rem 0; }
  .options label.na { margin-top: .75rem; }
  input[type=radio] { position: absolute; opacity: 0; }
  .scale span, .options span { display: block; border: 1px solid #8a9099; border-radius: 8px; padding: .6rem .5rem;
    text-align: center; cursor: pointer; background: #fff; }
  .options span { text-align: left; padding: .6rem .8rem; }
  input:checked + span { background: #0b5fff; border-color: #0b5fff; color: #fff; }
  input:focus-visible + span { outline: 3px solid #7aa7ff; outline-offset: 2px; }
  .ends { display: flex; justify-content: space-between; font-size: .8rem; color: #5b6270; margin-top: .35rem; }
  .row { margin: .75rem 0; }
  .row legend { font-size: .95rem; margin-bottom: .35rem; }
  textarea { width: 100%; box-sizing: border-box; min-height: 6rem; font: inherit; padding: .5rem;
    border: 1px solid #8a9099; border-radius: 8px; }
  .problems { background: #fef3f2; border: 1px solid #b42318; border-radius: 8px; padding: .5rem 1rem; }
  button { font-size: 1.05rem; padding: .75rem 1.5rem; border-radius: 8px; border: 0; background: #0b5fff;
    color: #fff; width: 100%; cursor: pointer; }
  a.again { display: inline-block; margin-top: 1rem; }
"""


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{escape(title)}</title>
  <style>{_STYLE}</style>
</head>
<body>
  <main>
{body}
  </main>
</body>
</html>
"""


def _radio(name: str, value: str, caption: str, checked: bool, required: bool, css: str = "",
           title: str | None = None) -> str:
    attributes = (" checked" if checked else "") + (" required" if required else "")
    css_attr = f' class="{css}"' if css else ""
    title_attr = f' title="{escape(title)}"' if title else ""
    return (f'<label{css_attr}{title_attr}><input type="radio" name="{escape(name)}" value="{escape(value)}"'
            f"{attributes}><span>{escape(caption)}</span></label>")


def _heading(question: QuestionSpec, tag: str = "legend", target: str | None = None) -> str:
    """The question's text (plain, escaped) as the legend of its fieldset, or the label of its text box."""
    mark = ' <span class="required" aria-label="required">*</span>' if question.force_response else ""
    for_attr = f' for="{escape(target)}"' if target else ""
    return f'<{tag} class="text"{for_attr}>{escape(question.text)}{mark}</{tag}>'


def _group(qid: str, heading: str, content: str) -> str:
    return f'<div class="question" id="{escape(qid)}"><fieldset>{heading}{content}</fieldset></div>'


def _rating(question: QuestionSpec, values: Mapping[str, str]) -> str:
    """One radio group per answer slot: a question in a loop & merge block is asked once per loop field."""
    return "".join(_rating_group(question, slot, values) for slot in answer_slots(question))


def _rating_group(question: QuestionSpec, slot: str, values: Mapping[str, str]) -> str:
    chosen = values.get(slot)
    required = question.force_response
    heading = _heading(question)
    if question.loop:  # "${lm://Field/1}" is the loop field of this iteration
        field = question.loop[int(slot.split("_", 1)[0]) - 1]
        heading = heading.replace(escape("${lm://Field/1}"), escape(field))
    if question.kind == "nps":
        buttons = "".join(_radio(slot, c.id, c.label, chosen == c.id, required) for c in question.choices)
        ends = "".join(f"<span>{escape(e)}</span>" for e in _NPS_ENDS)
        return _group(slot, heading, f'<div class="scale nps">{buttons}</div><div class="ends">{ends}</div>')
    options = "".join(
        _radio(slot, c.id, c.label, chosen == c.id, required, "na" if c.id == question.na_choice else "")
        for c in question.choices
    )
    return _group(slot, heading, f'<div class="options">{options}</div>')


def _matrix(question: QuestionSpec, values: Mapping[str, str]) -> str:
    rows = []
    for row, slot in zip(question.rows, answer_slots(question)):
        buttons = "".join(
            _radio(slot, c.id, c.recode, values.get(slot) == c.id, question.force_response, title=c.label)
            for c in question.choices
        )
        rows.append(f'<fieldset class="row" id="{slot}"><legend>{escape(row.label)}</legend>'
                    f'<div class="scale">{buttons}</div></fieldset>')
    first, last = question.choices[0], question.choices[-1]
    ends = (f"<span>{escape(first.recode)} = {escape(first.label)}</span>"
            f"<span>{escape(last.recode)} = {escape(last.label)}</span>")
    return _group(question.qid, _heading(question), f'<div class="ends">{ends}</div>{"".join(rows)}')


def _text(question: QuestionSpec, values: Mapping[str, str]) -> str:
    slot = answer_slots(question)[0]
    return (f'<div class="question">{_heading(question, "label", slot)}'
            f'<textarea id="{slot}" name="{slot}" maxlength="{MAX_TEXT}">{escape(values.get(slot, ""))}</textarea>'
            "</div>")


def form_page(survey: SurveySpec, action: str, embedded: Mapping[str, str],
              problems: list[str] | tuple[str, ...] = (), values: Mapping[str, str] | None = None) -> str:
    """The survey as a form posting to ``action``; ``problems`` and ``values`` re-show a refused submission."""
    values = values or {}
    # a multiple-answer question is answered by rating the rows it carries forward
    render = {"nps": _rating, "mc": _rating, "matrix": _matrix, "text": _text, "multi": lambda q, v: ""}
    parts = [f"    <h1>{escape(survey.name)}</h1>"]
    if problems:
        items = "".join(f"<li>{escape(p)}</li>" for p in problems)
        parts.append(f'    <div class="problems" role="alert"><ul>{items}</ul></div>')
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in embedded.items())
    questions = "\n".join(render[q.kind](q, values) for q in survey.questions)
    parts.append(f'    <form method="post" action="{escape(action)}" accept-charset="utf-8">{hidden}\n{questions}\n'
                 '    <button type="submit">Submit</button></form>')
    return _page(survey.name, "\n".join(parts))


def thanks_page(survey: SurveySpec, again_url: str) -> str:
    body = (f"    <h1>Thank you</h1>\n    <p>Your response to <strong>{escape(survey.name)}</strong> has been recorded."
            f'</p>\n    <a class="again" href="{escape(again_url)}">Answer again</a>')
    return _page("Thank you", body)


def not_found_page() -> str:
    body = ("    <h1>Survey not found</h1>\n    <p>This survey link is not valid or the survey is not active. "
            "Check the link or the QR code you scanned.</p>")
    return _page("Survey not found", body)
