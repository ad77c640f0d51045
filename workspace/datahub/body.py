"""Reading one push's body into a checked record, or refusing it with a reason a Workflow's run log shows.

Pure (no database, no mining), so every rule here can be fuzzed fast. A Web Service task pastes piped
text into the body unescaped, so a respondent's words can break or extend the JSON: anything that is not
plainly one response is refused with a 400 and a sentence, never stored in part and never a 500
(which Qualtrics would retry for ever). The checks, and the attack each one closes:

* duplicate names, also after case folding or flattening (``…ok", "ResponseID": "R_victim01"`` pasted
  into a comment would otherwise overwrite another respondent's record);
* lone surrogates (``\\ud800``) and invalid UTF-8, which no database or JSON encoder can write back;
* nesting deeper than one object, numbers longer than :data:`MAX_NUMBER_DIGITS` digits (Python refuses
  to turn 4,300+ digits into an int) and ``NaN``/``Infinity``;
* more than :data:`MAX_FIELDS` fields, field names longer than :data:`MAX_NAME_LENGTH`.

Long values are not refused, they are capped: an open text keeps its first :data:`MAX_TEXT_CHARS`
characters and its original length (mining is quadratic in length, and a page must not stream megabytes),
other fields their first :data:`MAX_VALUE_CHARS`; the answer's ``warnings`` says so.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

MAX_FIELDS = 100
MAX_NAME_LENGTH = 100
MAX_ID_LENGTH = 100
MAX_NUMBER_DIGITS = 50
MAX_TEXT_CHARS = 10_000    # an open text longer than this keeps its start and its original length
MAX_VALUE_CHARS = 1_000    # embedded data (region, channel…) and Step
DEFAULT_TEXT_FIELDS = ("Comment",)

RESERVED = {"surveyid": "survey_id", "responseid": "response_id", "recordeddate": "recorded_date",
            "completeddate": "completed_date", "step": "step"}
_UNRESOLVED_PIPE = re.compile(r"^\$\{[a-z]+://[^}]*\}$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Rejected(Exception):
    """A body the endpoint refuses; ``status_code`` is 400 or 415 and ``str()`` the reason."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class PushedText:
    """One open-text answer: ``text`` is at most MAX_TEXT_CHARS long, ``length`` what was sent."""

    field: str
    text: str
    length: int

    @property
    def truncated(self) -> bool:
        return self.length > len(self.text)


@dataclass
class Push:
    survey_id: str
    response_id: str
    recorded_date: str | None
    step: str | None
    texts: list[PushedText]
    fields: dict[str, str]
    warnings: list[str] = field(default_factory=list)


def shown(value: str, limit: int = 40) -> str:
    """``value`` quoted for a message: short, and with anything unencodable escaped (never a 500 later)."""
    cut = value[:limit].encode("utf-8", "backslashreplace").decode("utf-8")
    return repr(cut) + ("…" if len(value) > limit else "")


def _checked_text(what: str, value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Rejected(400, f"{what} holds an invalid character (a lone surrogate such as \\ud800); send "
                            "UTF-8 text.") from None
    return value


def _checked_name(name: str) -> str:
    _checked_text(f"The field name {shown(name)}", name)
    if not name.strip() or len(name) > MAX_NAME_LENGTH or _CONTROL.search(name):
        raise Rejected(400, f"{shown(name)} is not a usable field name (1 to {MAX_NAME_LENGTH} characters, no "
                            "control characters).")
    return name


def _scalar(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):  # numbers arrive as their digits (see _number)
        return _checked_text(f"Field {shown(name)}", value)
    if isinstance(value, list) and all(isinstance(v, (str, bool)) or v is None for v in value):
        return ", ".join(_scalar(name, v) for v in value)
    raise Rejected(400, f"Field {shown(name)} holds nested data; send text, a number or a list of them.")


class _Duplicate(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for name, value in pairs:
        if name in seen:
            raise _Duplicate(name)
        seen[name] = value
    return seen


def _number(digits: str) -> str:
    if len(digits) > MAX_NUMBER_DIGITS:
        raise Rejected(400, f"A number in the body has {len(digits):,} characters; send long numbers as text "
                            f"(at most {MAX_NUMBER_DIGITS} digits).")
    return digits


def _no_constant(name: str) -> Any:
    raise Rejected(400, f"{name} is not a JSON value; send a number or text.")


class _Fields:
    """Flat fields in arrival order, refusing a name given twice (ignoring case: the names are)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self._folded: set[str] = set()

    def add(self, name: str, value: str) -> None:
        name = _checked_name(name).strip()
        if name.casefold() in self._folded:
            raise Rejected(400, f"The field {shown(name)} appears twice in the body. Each field may appear "
                                "once: check that piped text inside quotes cannot end the quote (a comment "
                                "holding '\", \"…') and that nested objects repeat no top-level name.")
        if len(self.values) >= MAX_FIELDS:
            raise Rejected(400, f"The body has more than {MAX_FIELDS} fields; send one response per call.")
        self._folded.add(name.casefold())
        self.values[name] = value


def _from_json(text: str) -> dict[str, str]:
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_number, parse_float=_number,
                          parse_constant=_no_constant)
    except _Duplicate as duplicate:
        name = str(duplicate.args[0])
        raise Rejected(400, f"The field {shown(name)} appears twice in one JSON object. Each field may appear "
                            "once: check that piped text inside quotes cannot end the quote (a comment "
                            "holding '\", \"…').") from None
    except RecursionError:
        raise Rejected(400, "The JSON body is nested too deeply; send one flat object per response.") from None
    except json.JSONDecodeError as exc:
        raise Rejected(400, f"The body is not valid JSON ({exc.msg} at line {exc.lineno}, column "
                            f"{exc.colno}). Check the quotes around piped text in the task's body.") from None
    if not isinstance(data, dict):
        raise Rejected(400, "The JSON body must be one object with the response's fields.")
    fields = _Fields()
    for name, value in data.items():
        if isinstance(value, dict):  # {"EmbeddedData": {...}}: one level of nesting is flattened
            for inner, inner_value in value.items():
                fields.add(inner, _scalar(inner, inner_value))
        else:
            fields.add(name, _scalar(name, value))
    return fields.values


def _from_form(text: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text.strip()), errors="strict",
                          max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise Rejected(400, "A URL-encoded field is not UTF-8 text once decoded.") from None
    except ValueError:
        raise Rejected(400, "The body is neither JSON nor URL-encoded fields (name=value&…, at most "
                            f"{MAX_FIELDS}).") from None
    fields = _Fields()
    for name, value in pairs:
        fields.add(name, _checked_text(f"Field {shown(name)}", value))
    return fields.values


def decode(body: bytes, content_type: str) -> dict[str, str]:
    """The body's fields as text, from JSON or URL-encoded form data (raises :class:`Rejected`)."""
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise Rejected(400, "The body is not UTF-8 text.") from None
    if kind == "application/json" or kind.endswith("+json") or (not kind and text.lstrip().startswith("{")):
        return _from_json(text)
    if kind in ("application/x-www-form-urlencoded", ""):
        return _from_form(text)
    raise Rejected(415, f"Content type {shown(kind)} is not supported: choose JSON or URL-Encoded as the Web "
                        "Service task's body type.")


def _identifier(values: Mapping[str, str], name: str, label: str, prefix: str, warnings: list[str]) -> str:
    value = values.get(name, "").strip()
    if not value:
        raise Rejected(400, f"{label} is missing. Pipe it into the body, e.g. \"{label}\": "
                            f"\"${{e://Field/{label}}}\".")
    if len(value) > MAX_ID_LENGTH or _CONTROL.search(value):
        raise Rejected(400, f"{label} is not a Qualtrics id ({shown(value)}).")
    if not value.startswith(prefix):
        warnings.append(f"{label} {shown(value)} does not look like a Qualtrics id ({prefix}…).")
    return value


def _iso_date(value: str, warnings: list[str]) -> str | None:
    value = value.strip()[:MAX_ID_LENGTH]
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        warnings.append(f"RecordedDate {shown(value)} is not a date; it is kept as sent.")
        return value
    if when.tzinfo is None:  # Qualtrics pipes RecordedDate without a zone; exports state it is UTC
        when = when.replace(tzinfo=dt.timezone.utc)
    try:
        return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError):  # year 1 with a positive offset, and the like
        warnings.append(f"RecordedDate {shown(value)} is out of range; it is kept as sent.")
        return value


def _capped(name: str, value: str, limit: int, warnings: list[str]) -> str:
    if len(value) <= limit:
        return value
    warnings.append(f"{name} has {len(value):,} characters; its first {limit:,} are kept.")
    return value[:limit]


def parse_push(values: Mapping[str, str], text_field_names: Iterable[str]) -> Push:
    """Sort a push's fields into ids, date, step, open texts and embedded data (raises :class:`Rejected`)."""
    text_field_names = list(text_field_names)
    warnings: list[str] = []
    reserved: dict[str, str] = {}
    texts: list[PushedText] = []
    fields: dict[str, str] = {}
    wanted = {n.casefold() for n in text_field_names}
    for name, raw in values.items():
        value = raw.strip()
        if _UNRESOLVED_PIPE.match(value):
            warnings.append(f"{name} arrived as {shown(value)}: the piped text was not filled in (is the task "
                            "triggered by a survey response?).")
            value = ""
        key = name.casefold()
        if key in RESERVED:
            reserved[RESERVED[key]] = value
        elif key in wanted or key.endswith("_text"):
            if value:
                texts.append(PushedText(name, _capped(name, value, MAX_TEXT_CHARS, warnings), len(value)))
        else:
            fields[name] = _capped(name, value, MAX_VALUE_CHARS, warnings)
    survey_id = _identifier(reserved, "survey_id", "SurveyID", "SV_", warnings)
    response_id = _identifier(reserved, "response_id", "ResponseID", "R_", warnings)
    recorded = _iso_date(reserved.get("recorded_date") or reserved.get("completed_date") or "", warnings)
    step = _capped("Step", reserved.get("step", ""), MAX_VALUE_CHARS, warnings) or None
    if not texts:
        warnings.append("No open text in this push (fields read as open text: "
                        + ", ".join([*text_field_names, "…_TEXT"]) + ").")
    return Push(survey_id, response_id, recorded, step, texts, fields, warnings)
