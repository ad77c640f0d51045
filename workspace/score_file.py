"""`python -m workspace score FILE --type nps|csat|ces --question QID [--json]` (design.md §5).

Scores one question of a Qualtrics export file with the default mapping, for scripts and for
checking the app's numbers against a download. The file is read through the export parser of
`qualtrics/` batch by batch and only value counts are kept, so a file of any size scores in
flat memory; the counts go to `scoring.score` as weights.

Without the survey definition the answer choices are known only from the answers found, so
the mapping is built from them: numeric values on their standard scale (NPS 0–10, 1–5 or 1–7
when they fit), label exports through the scale wordings `scoring` knows. `--exclude` names
values that stand for N/A in a values-only export, where no label says so.
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

from qualtrics.errors import QualtricsError
from qualtrics.exportfile import read_export_file
from qualtrics.models import METADATA_COLUMNS
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
        return "\n".join(lines)


def score_export_file(
    path: str | Path,
    metric_type: MetricType | str,
    question_id: str,
    exclude: Sequence[str] = (),
) -> FileScore:
    """Score `question_id` of an export file with the default mapping built from its answers."""
    return score_export_questions(path, metric_type, [question_id], exclude)[0]


def score_export_questions(
    path: str | Path,
    metric_type: MetricType | str,
    question_ids: Sequence[str],
    exclude: Sequence[str] = (),
) -> list[FileScore]:
    """Score several questions (matrix rows, say) of one export file in a single pass over it."""
    path = Path(path)
    metric = MetricType(metric_type)
    if path.suffix.lower() == ".zip" and path.is_file() and not zipfile.is_zipfile(path):
        raise ScoreFileError(
            f"{path.name} is not a readable zip archive (damaged or incomplete download); download the export again."
        )
    results = []
    for question_id, counts in _answer_counts(path, list(dict.fromkeys(question_ids))).items():
        mapping, answers_are = _mapping_for(metric, question_id, list(counts.index), exclude)
        try:
            result = score(metric, counts.index.to_numpy(dtype=object), mapping, weights=counts.to_numpy())
        except MappingError as exc:
            raise ScoreFileError(str(exc)) from exc
        results.append(FileScore(path, question_id, result, mapping, answers_are))
    return results


def _answer_counts(path: Path, question_ids: list[str]) -> dict[str, pd.Series]:
    """How often each distinct answer occurs per question (unanswered under NaN), over all batches."""
    totals: dict[str, pd.Series] = {q: pd.Series([], dtype="int64") for q in question_ids}
    try:
        for batch in read_export_file(path, question_ids):
            for q in question_ids:
                counts = batch.frame[q].value_counts(dropna=False)
                totals[q] = counts if totals[q].empty else totals[q].add(counts, fill_value=0)
    except QualtricsError as exc:
        raise _explain_missing_question(path, question_ids, exc) from exc
    except (zlib.error, zipfile.BadZipFile, EOFError) as exc:  # damage inside a zip member
        raise ScoreFileError(
            f"{path.name} is damaged ({exc}); download the export again."
        ) from exc
    return {q: counts.astype("int64") for q, counts in totals.items()}


def _explain_missing_question(path: Path, question_ids: list[str], original: QualtricsError) -> ScoreFileError:
    """Turn "no such column" into a sentence that lists the questions the file does have."""
    try:
        first = next(iter(read_export_file(path, None)), None)
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
            next(iter(read_export_file(path, [q])), None)
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
) -> tuple[AnswerMapping, str]:
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
    mapping = default_mapping(metric, sorted(choices, key=_scale_order), scale=scale)
    for value in excluded:
        if mapping.row_for(value) is not None:
            mapping = mapping.with_row(value, sentiment=Sentiment.EXCLUDED, score=None)
    return mapping, answers_are


def _unanswered_scale_points(
    choices: list[tuple[str, str, float | None]], scale: tuple[float, float]
) -> list[tuple[str, str, float | None]]:
    """Rows for the points of a standard scale nobody chose, as the survey definition would list.

    They change no count, but they keep the mapping (and the bounds of a CSAT interval) on the
    real scale rather than on the answers that happened to be given.
    """
    if scale not in {(0.0, 10.0), (1.0, 5.0), (1.0, 7.0)}:
        return []
    present = {n for _, _, n in choices}
    points = range(int(scale[0]), int(scale[1]) + 1)
    return [(str(k), str(k), float(k)) for k in points if float(k) not in present]


def _off_scale_codes(metric: MetricType, choices: list[tuple[str, str, float | None]]) -> list[str]:
    """Values such as 99, 999 or -99 that Qualtrics authors use for N/A or "seen, unanswered".

    Only when every other value sits on a standard scale (NPS 0–10, 1–5, 1–7) and the code is
    negative or at least 90 — far from that scale — is it taken for a code rather than an answer;
    a 0–100 scale, for instance, is left alone.
    """
    codes = [value for value, _, n in choices if n is not None and (n < 0 or n >= 90)]
    rest = [n for value, _, n in choices if n is not None and value not in codes]
    if not codes or not rest:
        return []
    low, high = infer_scale(metric, rest) or (min(rest), max(rest))
    standard = (low, high) in {(0.0, 10.0), (1.0, 5.0), (1.0, 7.0)}
    return codes if standard else []


def _scale_order(choice: tuple[str, str, float | None]) -> tuple[bool, float, str]:
    return (choice[2] is None, choice[2] if choice[2] is not None else 0.0, choice[0])


# --- command line ------------------------------------------------------------------------


def add_score_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `score` on the workspace CLI; the handler is `run_score(args) -> exit code`."""
    parser = subparsers.add_parser(
        "score",
        help="score one question of a Qualtrics export file with the default mapping",
        description="Score one question of a Qualtrics export file (CSV with three header rows, JSON or "
        "NDJSON; zipped or not; values or labels) with the default answer mapping.",
    )
    configure_score_parser(parser)
    parser.set_defaults(handler=run_score)
    return parser


def configure_score_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the export file (.csv, .json, .ndjson or a .zip of one)")
    parser.add_argument("--type", required=True, choices=[m.value for m in MetricType], dest="metric_type",
                        help="metric type")
    parser.add_argument("--question", required=True, nargs="+", action="extend", metavar="QID",
                        help="question id(s) as in the export (QID5, matrix row QID7_3, or QID5_NPS_GROUP)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per question instead of text")
    parser.add_argument("--exclude", action="append", default=[], metavar="VALUE",
                        help="an exported value that means N/A (repeatable), for value exports without labels")


def run_score(args: argparse.Namespace, out: Any = None, err: Any = None) -> int:
    """Run `score` for parsed arguments; errors become one sentence on stderr and exit code 1."""
    out = out or sys.stdout
    err = err or sys.stderr
    questions = args.question if isinstance(args.question, list) else [args.question]
    try:
        results = score_export_questions(args.file, args.metric_type, questions, exclude=args.exclude)
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
    parser = argparse.ArgumentParser(prog="python -m workspace score")
    configure_score_parser(parser)
    return run_score(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
