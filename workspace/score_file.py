"""`python -m workspace score FILE --type nps|csat|ces --question QID [--definition FILE] [--json]` (design.md §5).

Scores one question of a Qualtrics export file with the default mapping, for scripts and for
checking the app's numbers against a download. The file is read through the export parser of
`qualtrics/` batch by batch and only value counts are kept, so a file of any size scores in
flat memory; the counts go to `scoring.score` as weights.

Where the answer choices come from, best first, and said in the output (`scale_source`):

1. `--definition FILE` (a QSF, or a saved survey-definitions / GET surveys response): the survey's own
   choices, recodes and N/A options, so the mapping is exactly the app's.
2. The labels a JSON export carries next to its values (HTML stripped; "Not applicable", "Don't know"…
   Excluded by the one not-an-answer rule of `vocabulary`).
3. Otherwise the answers themselves: label exports through the scale wordings `scoring` knows, values on
   the scale they span (NPS 0–10; otherwise 1 to the highest value seen, so a 1–4 CSAT stays 1–4). That is
   an inference, and the output says so. `--exclude` names values that stand for N/A in a values-only
   export, where no label says so.

A file without `recordedDate` still scores (a score needs no date); the output says its dates are
unavailable for trends.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from qualtrics.definitions import parse_definition
from qualtrics.errors import QualtricsError
from qualtrics.exportfile import answer_labels, read_export_file
from qualtrics.models import METADATA_COLUMNS, Question, QuestionCatalog
from qualtrics.text import plain_text
from scoring import (
    AnswerMapping,
    MappingError,
    MetricType,
    Score,
    Sentiment,
    UnknownLabels,
    choices_from_labels,
    default_mapping,
    format_interval,
    format_n,
    format_satisfied,
    format_score,
    infer_scale,
    numeric_value,
    score,
)

# Qualtrics' own NPS group column (QIDn_NPS_GROUP): 1/2/3 as values, the words as labels. Placed at
# 0, 7 and 10 so the default NPS split puts each group where Qualtrics does.
NPS_GROUP_SUFFIX = "_NPS_GROUP"
_NPS_GROUPS = (("1", "Detractor", 0.0), ("2", "Passive", 7.0), ("3", "Promoter", 10.0))

_GROUP_NAMES = {
    MetricType.NPS: ("Promoters", "Passives", "Detractors"),
    MetricType.CSAT: ("Satisfied", "Neutral", "Dissatisfied"),
    MetricType.CES: ("Positive", "Neutral", "Negative"),
}


class ScoreFileError(Exception):
    """A problem the user can fix; str() is the one sentence printed on stderr."""


@dataclass(frozen=True)
class FileScore:
    """The score of one question of an export file, with the mapping that produced it."""

    path: Path
    question_id: str
    score: Score
    mapping: AnswerMapping
    answers_are: str  # "values" or "labels": what the export held for this question
    scale_source: str = ""  # where the choices and scale came from, e.g. "inferred from values 1-4"
    dates_available: bool = True  # False: the file has no recordedDate, so no trends from it

    def to_json(self) -> dict[str, Any]:
        s = self.score
        result: dict[str, Any] = {
            "type": str(s.metric_type),
            "question": self.question_id,
            "file": str(self.path),
            "score": s.value,
            "display": format_score(s),
            "respondents": s.respondents,
            "positive": s.positive,
            "neutral": s.neutral,
            "negative": s.negative,
            "excluded": s.excluded,
            "unanswered": s.unanswered,
            "unmapped": s.unmapped,
            "unmapped_values": list(s.unmapped_values),
            "interval": {"low": s.interval_low, "high": s.interval_high, "confidence": 0.95},
            "low_confidence": s.low_confidence,
            "answers_are": self.answers_are,
            "scale_source": self.scale_source,
            "dates_available": self.dates_available,
            "mapping": self.mapping.to_records(),
        }
        if s.metric_type == MetricType.CSAT:
            result["satisfied_pct"] = s.satisfied_pct
        return result

    def to_text(self) -> str:
        s = self.score
        positive, neutral, negative = _GROUP_NAMES[s.metric_type]
        head = f"{s.metric_type.name} {format_score(s)}"
        if s.value is not None:
            head += f"  ({format_interval(s)})"
        head += f"  {format_n(s.respondents)}"
        lines = [f"{self.question_id} in {self.path.name}", head]
        if s.metric_type == MetricType.CSAT and s.value is not None:
            lines.append(format_satisfied(s))
        lines.append(
            f"{positive} {s.positive} · {neutral} {s.neutral} · {negative} {s.negative} · "
            f"Excluded {s.excluded} · Unanswered {s.unanswered}"
        )
        if s.unmapped:
            lines.append(f"Warning: {s.unmapped} answers fit no answer choice ({', '.join(s.unmapped_values)}).")
        if s.value is None:
            lines.append("No respondents: nobody gave an answer that counts towards this score.")
        elif s.low_confidence:
            lines.append("Low confidence: fewer than 30 respondents.")
        mapped = ", ".join(
            f"{row.label} → {row.sentiment}" + (f" ({row.score:g})" if row.score is not None else "")
            for row in self.mapping.rows
        )
        lines.append(f"Mapping ({self.answers_are}): {mapped}")
        lines.append(f"Scale: {self.scale_source}")
        if not self.dates_available:
            lines.append("Dates: unavailable (the file has no recordedDate column), so it cannot show trends.")
        return "\n".join(lines)


def score_export_file(
    path: str | Path,
    metric_type: MetricType | str,
    question_id: str,
    exclude: Sequence[str] = (),
    definition: str | Path | None = None,
) -> FileScore:
    """Score `question_id` of an export file with the default mapping (see the module docstring for where
    the choices come from)."""
    return score_export_questions(path, metric_type, [question_id], exclude, definition)[0]


def score_export_questions(
    path: str | Path,
    metric_type: MetricType | str,
    question_ids: Sequence[str],
    exclude: Sequence[str] = (),
    definition: str | Path | None = None,
) -> list[FileScore]:
    """Score several questions (matrix rows, say) of one export file in a single pass over it."""
    path = Path(path)
    metric = MetricType(metric_type)
    catalog = load_definition(definition) if definition is not None else None
    if path.suffix.lower() == ".zip" and path.is_file() and not zipfile.is_zipfile(path):
        raise ScoreFileError(
            f"{path.name} is not a readable zip archive (damaged or incomplete download); download the export again."
        )
    question_ids = list(dict.fromkeys(question_ids))
    counts_by_question, dated = _answer_counts(path, question_ids)
    carried = {} if catalog is not None else _carried_labels(path, question_ids)
    results = []
    for question_id, counts in counts_by_question.items():
        answers = list(counts.index)
        if catalog is not None and not question_id.upper().endswith(NPS_GROUP_SUFFIX):
            mapping, answers_are, source = _definition_mapping(
                metric, _definition_question(catalog, question_id, definition), answers, exclude, definition)
        elif question_id in carried and all(numeric_value(a) is not None for a in answers if isinstance(a, str)):
            mapping, answers_are, source = _carried_mapping(metric, carried[question_id], answers, exclude)
        else:
            mapping, answers_are, source = _mapping_for(metric, question_id, answers, exclude)
        try:
            result = score(metric, counts.index.to_numpy(dtype=object), mapping, weights=counts.to_numpy())
        except MappingError as exc:
            raise ScoreFileError(str(exc)) from exc
        results.append(FileScore(path, question_id, result, mapping, answers_are, source, dated))
    return results


def load_definition(path: str | Path) -> QuestionCatalog:
    """A survey definition file (QSF, or a saved survey-definitions / GET surveys response) as a catalog."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ScoreFileError(f"No such definition file: {path}; check the path.") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ScoreFileError(
            f"The definition file {path.name} is not JSON ({type(exc).__name__}); pass a .qsf or a saved "
            "survey-definitions response.") from None
    if not isinstance(data, dict):
        raise ScoreFileError(
            f"The definition file {path.name} is not a survey definition; pass a .qsf or a saved "
            "survey-definitions response.")
    try:
        return parse_definition(data)
    except QualtricsError as exc:
        raise ScoreFileError(str(exc)) from exc


def _definition_question(catalog: QuestionCatalog, question_id: str, definition: str | Path | None) -> Question:
    for q in catalog.questions:
        if question_id in (q.id, q.export_tag):
            return q
    skipped = next((q for q in catalog.skipped if question_id in (q.id, q.export_tag)), None)
    if skipped is not None:
        raise ScoreFileError(f"Question {question_id} of {Path(str(definition)).name} cannot be scored: "
                             f"{skipped.reason}.")
    raise ScoreFileError(f"The definition {Path(str(definition)).name} has no question {question_id}; check the "
                         "question id, or score without --definition.")


def _definition_mapping(metric: MetricType, question: Question, answers: list[Any], exclude: Sequence[str],
                        definition: str | Path | None) -> tuple[AnswerMapping, str, str]:
    """The survey's own choices. A labels export holds the choice texts, so rows are keyed by those."""
    found = [a for a in answers if isinstance(a, str) and a.strip()]
    by_value = {c.value for c in question.choices}
    answers_are = "values" if all(a in by_value or numeric_value(a) is not None for a in found) else "labels"
    if answers_are == "values":
        choices = [(c.value, c.label, c.recode) for c in question.choices]
    else:
        by_label = {_label_key(c.label): c for c in question.choices}
        choices = [(c.label, c.label, c.recode if c.recode is not None else numeric_value(c.value))
                   for c in question.choices]
        for answer in found:  # the export may write a label with HTML or other spacing than the definition
            choice = by_label.get(_label_key(answer))
            if choice is not None and answer != choice.label:
                choices.append((answer, choice.label, choice.recode if choice.recode is not None
                                else numeric_value(choice.value)))
    mapping = _with_excluded(default_mapping(metric, choices), exclude)
    low, high = question.scale.minimum, question.scale.maximum
    scale = f" {low:g}-{high:g}" if low is not None and high is not None else ""
    return mapping, answers_are, f"survey definition {Path(str(definition)).name}{scale}"


def _carried_labels(path: Path, question_ids: list[str]) -> dict[str, dict[str, str]]:
    try:
        return answer_labels(path, [q for q in question_ids if not q.upper().endswith(NPS_GROUP_SUFFIX)])
    except QualtricsError as exc:
        raise ScoreFileError(str(exc)) from exc


def _carried_mapping(metric: MetricType, labels: dict[str, str], answers: list[Any], exclude: Sequence[str]
                     ) -> tuple[AnswerMapping, str, str]:
    """Choices from the value → label pairs of a JSON export: numbers place them, labels say N/A."""
    found = [a for a in answers if isinstance(a, str) and a.strip()]
    choices = [(a, plain_text(labels.get(a, a)) or a, numeric_value(a)) for a in found]
    mapping = default_mapping(metric, sorted(choices, key=_scale_order))
    counted = [r.value for r in mapping.rows if r.sentiment != Sentiment.EXCLUDED]
    numbers = sorted(n for v in counted if (n := numeric_value(v)) is not None)
    span = f" {numbers[0]:g}-{numbers[-1]:g}" if numbers else ""
    return _with_excluded(mapping, exclude), "values", f"labels carried by the export, values{span} seen"


def _with_excluded(mapping: AnswerMapping, exclude: Sequence[str]) -> AnswerMapping:
    for value in {e.strip() for e in exclude}:
        if mapping.row_for(value) is not None:
            mapping = mapping.with_row(value, sentiment=Sentiment.EXCLUDED, score=None)
    return mapping


def _label_key(label: str) -> str:
    return " ".join(plain_text(label).split()).casefold()


def _answer_counts(path: Path, question_ids: list[str]) -> tuple[dict[str, pd.Series], bool]:
    """How often each distinct answer occurs per question (unanswered under NaN), over all batches; and
    whether the file has dates at all."""
    totals: dict[str, pd.Series] = {q: pd.Series([], dtype="int64") for q in question_ids}
    dated = False
    try:
        for batch in read_export_file(path, question_ids, require_dates=False):
            dated = dated or bool(batch.frame["recordedDate"].notna().any())
            for q in question_ids:
                counts = batch.frame[q].value_counts(dropna=False)
                totals[q] = counts if totals[q].empty else totals[q].add(counts, fill_value=0)
    except QualtricsError as exc:
        raise _explain_missing_question(path, question_ids, exc) from exc
    except (zlib.error, zipfile.BadZipFile, EOFError) as exc:  # damage inside a zip member
        raise ScoreFileError(
            f"{path.name} is damaged ({exc}); download the export again."
        ) from exc
    return {q: counts.astype("int64") for q, counts in totals.items()}, dated


def _explain_missing_question(path: Path, question_ids: list[str], original: QualtricsError) -> ScoreFileError:
    """Turn "no such column" into a sentence that lists the questions the file does have."""
    try:
        first = next(iter(read_export_file(path, None, require_dates=False)), None)
    except QualtricsError:
        return ScoreFileError(str(original))
    available = [] if first is None else [c for c in first.frame.columns if c not in METADATA_COLUMNS]
    missing = [q for q in question_ids if q not in available]
    if not available or not missing:
        return ScoreFileError(str(original))
    # Aliases (export tags such as Q3.13, or QID18_NPS_GROUP) are not listed but may be readable.
    readable = []
    for q in missing:
        try:
            next(iter(read_export_file(path, [q], require_dates=False)), None)
            readable.append(q)
        except QualtricsError:
            pass
    unknown = [q for q in missing if q not in readable]
    if not unknown:
        return ScoreFileError(str(original))
    which = "Question " + unknown[0] + " is" if len(unknown) == 1 else "Questions " + ", ".join(unknown) + " are"
    return ScoreFileError(f"{which} not in {path.name}; it has {', '.join(available)}.")


def _mapping_for(
    metric: MetricType, question_id: str, answers: list[Any], exclude: Sequence[str]
) -> tuple[AnswerMapping, str, str]:
    """The mapping from the answers alone, with a sentence saying what the scale was inferred from."""
    found = [a for a in answers if isinstance(a, str) and a.strip()]
    numbers = [numeric_value(a) for a in found]
    excluded = {e.strip() for e in exclude}
    if question_id.upper().endswith(NPS_GROUP_SUFFIX):
        answers_are = "labels" if any(n is None for n in numbers) else "values"
        choices = [(label, label, at) if answers_are == "labels" else (code, label, at) for code, label, at in _NPS_GROUPS]
    elif all(n is not None for n in numbers):
        choices = [(a, a, n) for a, n in zip(found, numbers)]
        excluded |= set(_off_scale_codes(metric, choices))
        answers_are = "values"
    else:
        try:
            choices = choices_from_labels(metric, found)
        except UnknownLabels as exc:
            raise ScoreFileError(str(exc)) from exc
        answers_are = "labels"
    scale = infer_scale(metric, [r for v, _, r in choices if r is not None and v not in excluded])
    if answers_are == "values" and scale is not None:
        choices += _unanswered_scale_points(choices, scale)
    mapping = _with_excluded(default_mapping(metric, sorted(choices, key=_scale_order), scale=scale), excluded)
    if question_id.upper().endswith(NPS_GROUP_SUFFIX):
        source = "Qualtrics' NPS groups (Detractor, Passive, Promoter)"
    elif scale is None:
        source = f"no {answers_are} to infer a scale from"
    else:
        source = (f"inferred from {answers_are} {scale[0]:g}-{scale[1]:g} (pass --definition FILE for the "
                  "survey's own scale)")
    return mapping, answers_are, source


def _unanswered_scale_points(
    choices: list[tuple[str, str, float | None]], scale: tuple[float, float]
) -> list[tuple[str, str, float | None]]:
    """Rows for the points of a whole-number scale nobody chose, as the survey definition would list.

    They change no count, but they keep the mapping (and the bounds of a CSAT interval) on the
    real scale rather than on the answers that happened to be given.
    """
    low, high = scale
    if not (low.is_integer() and high.is_integer() and 0 <= low < high <= 11):
        return []
    present = {n for _, _, n in choices}
    points = range(int(low), int(high) + 1)
    return [(str(k), str(k), float(k)) for k in points if float(k) not in present]


def _off_scale_codes(metric: MetricType, choices: list[tuple[str, str, float | None]]) -> list[str]:
    """Values such as 99, 999 or -99 (or -1) that Qualtrics authors use for N/A or "seen, unanswered".

    Only when every other value sits on a small whole-number scale (NPS 0–10, 1 to at most 11) and the code
    is negative or at least 90 — far from that scale — is it taken for a code rather than an answer;
    a 0–100 scale, for instance, is left alone.
    """
    codes = [value for value, _, n in choices if n is not None and (n < 0 or n >= 90)]
    rest = [n for value, _, n in choices if n is not None and value not in codes]
    if not codes or not rest:
        return []
    low, high = infer_scale(metric, rest) or (min(rest), max(rest))
    small = low in (0.0, 1.0) and high <= 11 and all(n.is_integer() for n in rest)
    return codes if small else []


def _scale_order(choice: tuple[str, str, float | None]) -> tuple[bool, float, str]:
    return (choice[2] is None, choice[2] if choice[2] is not None else 0.0, choice[0])


# --- command line ------------------------------------------------------------------------


def run_score(args: argparse.Namespace, out: Any = None, err: Any = None) -> int:
    """Run `score` for parsed arguments; errors become one sentence on stderr and exit code 1."""
    out = out or sys.stdout
    err = err or sys.stderr
    questions = args.question if isinstance(args.question, list) else [args.question]
    try:
        results = score_export_questions(args.file, args.metric_type, questions, exclude=args.exclude,
                                         definition=getattr(args, "definition", None))
    except (ScoreFileError, QualtricsError) as exc:
        print(f"Error: {exc}", file=err)
        return 1
    except Exception as exc:  # never a traceback for a user's file, but say what broke
        print(f"Error: could not score {', '.join(questions)} in {args.file} ({type(exc).__name__}: {exc}).",
              file=err)
        return 1
    if args.json:
        for result in results:
            print(json.dumps(result.to_json(), ensure_ascii=False), file=out)
    else:
        print("\n\n".join(result.to_text() for result in results), file=out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (`python -m workspace.score_file …`) with the same arguments as `score`."""
    from workspace.cli import configure_score_parser

    parser = argparse.ArgumentParser(prog="python -m workspace score")
    configure_score_parser(parser)
    return run_score(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
