"""The + Metric wizard's steps as plain functions: Source → Survey → Question (and the segments to keep)
→ Metric type → sentiment mapping → Sync data.

The page holds widgets only; everything it shows or stores goes through here, so the wizard's
behaviour (defaults, validation, preview) is testable without Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from qualtrics.errors import QualtricsError
from qualtrics.models import Question, SkippedQuestion, Survey
from scoring import AnswerMapping, MappingError, MetricType, Sentiment, format_interval, format_n, format_score, score
from workspace import catalog, connection, journeys, metrics, sync
from workspace.answers import segment_fields, set_segment_fields, stored_answers
from workspace.config import Settings
from workspace.errors import Invalid, WorkspaceError
from workspace.metrics import Metric, default_title, mapping_for

SOURCES = ("Qualtrics",)
SENTIMENTS = tuple(s.value for s in Sentiment)
METRIC_TYPES = {"NPS": "nps", "CSAT": "csat", "CES": "ces"}
MAPPING_COLUMNS = ["value", "label", "sentiment", "score"]

COLLABORATOR_RULE = (
    "Only surveys that the account which connected Qualtrics can see are listed. Missing a survey? "
    "Invite the person who connected the integration as a collaborator on that Qualtrics project, "
    "then refresh the list."
)


class QualtricsUnavailable(WorkspaceError):
    """Qualtrics refused or failed a request the wizard needed; the message says what to do."""


def surveys(settings: Settings, refresh: bool = False) -> list[Survey]:
    """Surveys the connected account can see: from the cache, or fetched (all pages) when asked or empty."""
    cached = [] if refresh else catalog.cached_surveys(settings)
    if not cached:
        try:
            with connection.reporting_auth_failures(settings), connection.open_client(settings) as client:
                cached = catalog.refresh_surveys(settings, client)
        except QualtricsError as exc:
            raise QualtricsUnavailable(str(exc)) from exc
    # By name, then id: the same order on every visit, whatever order Qualtrics or the cache returns.
    return sorted(cached, key=lambda survey: (survey.name.casefold(), survey.id))


def questions(settings: Settings, survey_id: str, refresh: bool = False) -> list[Question]:
    """A survey's trackable questions (matrix rows one by one), fetched once and then cached; the same read
    caches its embedded-data fields for :func:`segment_choices`."""
    cached = [] if refresh or not catalog.definition_is_current(settings, survey_id) \
        else catalog.cached_questions(settings, survey_id)
    if cached:
        return cached
    try:
        with connection.reporting_auth_failures(settings), connection.open_client(settings) as client:
            return catalog.refresh_questions(settings, client, survey_id)
    except QualtricsError as exc:
        raise QualtricsUnavailable(str(exc)) from exc


def skipped(settings: Settings, survey_id: str) -> list[SkippedQuestion]:
    """The survey's questions that cannot be metrics, each with its reason (read with :func:`questions`)."""
    return catalog.skipped_questions(settings, survey_id)


def skipped_table(questions: Sequence[SkippedQuestion]) -> pd.DataFrame:
    """What the wizard lists under "Not offered": id, plain question text (with its row), and why."""
    return pd.DataFrame.from_records(
        [{"question": s.id, "text": s.text if len(s.text) <= 90 else s.text[:89].rstrip() + "…", "reason": s.reason}
         for s in questions], columns=["question", "text", "reason"])


@dataclass(frozen=True)
class SegmentChoices:
    """The embedded-data fields a survey sets (offered as segments) and the ones to pre-select."""

    fields: list[str]
    default: list[str]


def segment_choices(settings: Settings, survey_id: str) -> SegmentChoices:
    """Segments on offer: the survey's embedded-data fields (read with its questions). Pre-selected: the
    fields already chosen for this survey (another metric's wizard), else all of them."""
    offered = catalog.embedded_fields(settings, survey_id)
    chosen = [f for f in segment_fields(settings, survey_id) if f in offered]
    return SegmentChoices(offered, chosen or list(offered))


@dataclass(frozen=True)
class StepContext:
    step_id: int
    step_name: str
    journey_id: int
    journey_name: str


def step_context(settings: Settings, step_id: int) -> StepContext | None:
    """The step a wizard opened from a journey will place the metric on, or None if it is gone."""
    for journey in journeys.list_journeys(settings):
        for step in journey.steps:
            if step.id == step_id:
                return StepContext(step.id, step.name, journey.id, journey.name)
    return None


def scale_text(question: Question) -> str:
    """"0–10", "1–5", "1–7" or the actual range of an unusual scale."""
    scale = question.scale
    if scale.minimum is None or scale.maximum is None:
        return "no numeric scale"
    return f"{scale.minimum:g}–{scale.maximum:g}"


def question_label(question: Question) -> str:
    """How the Question picker lists a question: id, plain text (row label for matrix rows), scale."""
    text = question.text if len(question.text) <= 90 else question.text[:89].rstrip() + "…"
    if question.row_label:
        text = f"{question.row_label} — {text}"
    return f"{question.id} · {text} ({scale_text(question)})"


def suggested_type_name(question: Question) -> str:
    """The metric type suggested from the question's scale, as the picker shows it."""
    names = {v: k for k, v in METRIC_TYPES.items()}
    return names.get(question.suggested_type or "", "CSAT")


def default_table(question: Question, type_name: str) -> pd.DataFrame:
    """The editable mapping, pre-filled with design.md §2's defaults."""
    mapping = mapping_for(question, METRIC_TYPES[type_name])
    return pd.DataFrame.from_records(mapping.to_records(), columns=MAPPING_COLUMNS)


def mapping_from_table(table: pd.DataFrame, type_name: str) -> AnswerMapping:
    """The mapping a user edited, checked: every answer has a sentiment; CSAT answers have scores."""
    records = table.to_dict("records")
    for row in records:
        if row.get("sentiment") not in SENTIMENTS:
            raise Invalid(f"Choose a sentiment for the answer {row.get('label') or row.get('value')!r}.")
        if pd.isna(row.get("score")):
            row["score"] = None
    try:
        mapping = AnswerMapping.from_records(records)
    except (MappingError, ValueError, KeyError) as exc:
        raise Invalid(f"The mapping cannot be used: {exc}") from None
    if METRIC_TYPES[type_name] == "csat" and mapping.missing_scores():
        missing = ", ".join(repr(r.label) for r in mapping.missing_scores())
        raise Invalid(f"CSAT needs a score for every counted answer; add one for {missing} or mark it Excluded.")
    return mapping


@dataclass(frozen=True)
class Preview:
    """What the mapping would give on the answers already stored for this question."""

    display: str
    n_display: str
    interval_display: str
    sentiments: pd.DataFrame  # sentiment, count


def preview(settings: Settings, survey_id: str, question_id: str, type_name: str,
            mapping: AnswerMapping) -> Preview | None:
    """Score and distribution under `mapping`, or None when no answers are stored yet (before Sync data)."""
    answers = stored_answers(settings, survey_id, question_id)
    if answers.empty:
        return None
    counts = answers["value"].astype(str).value_counts()
    result = score(MetricType(METRIC_TYPES[type_name]), counts.index.to_numpy(), mapping, weights=counts.to_numpy())
    sentiments = pd.DataFrame({
        "sentiment": ["Positive", "Neutral", "Negative", "Excluded", "Unmapped"],
        "count": [result.positive, result.neutral, result.negative, result.excluded, result.unmapped],
    })
    return Preview(format_score(result), format_n(result.respondents), format_interval(result), sentiments)


def type_warning(question: Question, type_name: str) -> str | None:
    """Why the chosen type does not fit the question's scale (NPS is defined on 0–10 only), or None."""
    scale = question.scale
    if METRIC_TYPES[type_name] == "nps" and (scale.minimum, scale.maximum) != (0, 10):
        return (f"NPS is defined on a 0–10 scale (0–6 detractors, 9–10 promoters); this question is "
                f"{scale_text(question)}, so its NPS would not compare with any other. Pick "
                f"{suggested_type_name(question) if suggested_type_name(question) != 'NPS' else 'CSAT'} "
                "unless the scale is what you meant.")
    return None


def duplicates(settings: Settings, survey_id: str, question_id: str, type_name: str) -> list[Metric]:
    """Metrics that already follow this question as this type (a second one would show the same score)."""
    wanted = METRIC_TYPES[type_name]
    return [m for m in metrics.list_metrics(settings, survey_id)
            if m.question_id == question_id and str(m.type) == wanted]


def title_for(question: Question, type_name: str) -> str:
    return default_title(question, METRIC_TYPES[type_name])


def create(settings: Settings, survey_id: str, question_id: str, type_name: str, title: str,
           mapping: AnswerMapping, owner: str | None, step_id: int | None = None,
           segments: Sequence[str] | None = None) -> Metric:
    """Store the metric and, when the wizard came from a journey step, place it there.

    ``segments`` (when given) become the survey's segment fields before the first sync, so that sync stores
    them per response; they are per survey, so they apply to every metric of it.
    """
    if not title.strip():
        raise Invalid("A metric needs a title.")   # the metric page says the same when a title is cleared
    if segments is not None:
        offered = set(catalog.embedded_fields(settings, survey_id))
        unknown = [f for f in segments if f not in offered]
        if unknown:
            raise Invalid(f"{', '.join(unknown)} is not an embedded-data field of this survey; pick from the list.")
    metric = metrics.create_metric(settings, survey_id, question_id, METRIC_TYPES[type_name], title=title,
                                   mapping=mapping, owner=owner)
    if segments is not None:
        set_segment_fields(settings, survey_id, segments)
    if step_id is not None:
        journeys.place_metric(settings, metric.id, step_id)
    return metric


def sync_now(settings: Settings, metric_id: int, progress: Callable[[str, float], None]) -> sync.SyncResult:
    """*Sync data*: export, download, parse, store and score this metric's survey now."""
    return sync.sync_metric(settings, metric_id, progress=progress, trigger="wizard", wait=30.0)
