"""Records the client returns. Plain frozen dataclasses: callers (workspace, CLI) never see raw JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the frames are built by qualtrics.exportfile; reading a definition needs no pandas
    import pandas as pd

from qualtrics.errors import QualtricsError, UnsupportedQuestion

ScaleKind = Literal["0-10", "1-5", "1-7", "other"]
MetricSuggestion = Literal["nps", "csat", "ces"]

#: Metadata columns every ResponseBatch frame starts with, in this order.
METADATA_COLUMNS: tuple[str, ...] = ("responseId", "recordedDate", "finished")


@dataclass(frozen=True)
class Account:
    """``GET /whoami``: who the credentials belong to and which data center serves them."""

    user_id: str
    user_name: str
    first_name: str
    last_name: str
    email: str
    datacenter: str
    brand_id: str
    account_type: str

    @property
    def display_name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.user_name or self.user_id


@dataclass(frozen=True)
class PermissionCheck:
    """The six Qualtrics permissions the product needs, split into granted and missing (UI names)."""

    granted: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Survey:
    id: str
    name: str
    owner_id: str
    is_active: bool
    last_modified: str


@dataclass(frozen=True)
class Choice:
    """One answer option. ``value`` is what exports hold for it: the recode value if set, else the choice id."""

    value: str
    label: str
    recode: float | None


@dataclass(frozen=True)
class Scale:
    kind: ScaleKind
    minimum: float | None
    maximum: float | None


@dataclass(frozen=True)
class Question:
    """A trackable question: single-answer with a scale. Matrix rows appear as their own ``QIDn_m`` question."""

    id: str
    export_tag: str
    text: str
    type: str
    selector: str
    choices: tuple[Choice, ...]
    scale: Scale
    suggested_type: MetricSuggestion | None
    parent_id: str | None = None
    row_label: str | None = None


@dataclass(frozen=True)
class SkippedQuestion:
    """A question that cannot be tracked as a metric, with the reason (shown by the CLI and the wizard)."""

    id: str
    export_tag: str
    text: str
    type: str
    selector: str
    reason: str


@dataclass(frozen=True)
class OpenTextQuestion:
    """A single-box open-text question, exported as one ``QIDn_TEXT`` column: comments, never a metric."""

    id: str           # the export column / ImportId, "QID2_TEXT"
    question_id: str  # "QID2"
    export_tag: str
    text: str         # plain text


@dataclass(frozen=True)
class QuestionCatalog:
    """Everything a survey definition yielded: trackable questions, the ones skipped with a reason, the
    open-text questions whose answers are comments, and the embedded-data fields the survey flow declares
    (what an export may ask for in ``embeddedDataIds``)."""

    survey_id: str
    survey_name: str
    questions: tuple[Question, ...]
    skipped: tuple[SkippedQuestion, ...] = field(default=())
    open_text: tuple[OpenTextQuestion, ...] = field(default=())
    embedded_data: tuple[str, ...] = field(default=())

    def question(self, question_id: str) -> Question:
        """The trackable question ``question_id``; a skipped one raises UnsupportedQuestion with its reason."""
        for q in self.questions:
            if q.id == question_id:
                return q
        for s in self.skipped:
            if s.id == question_id:
                raise UnsupportedQuestion(
                    f"{question_id} ({s.export_tag}) cannot be tracked as a metric: {s.reason}; pick a rating "
                    "question (python -m qualtrics questions SURVEY_ID lists them).")
        raise QualtricsError(
            f"Survey {self.survey_id} has no question {question_id}; python -m qualtrics questions "
            f"{self.survey_id} lists the trackable ones.")


#: Rows per :class:`ResponseBatch` an export file is read in (memory stays flat in the export's size).
DEFAULT_BATCH_ROWS = 20_000

#: ``progress(stage, fraction)``: how far a download or parse is, for a progress line or a run row.
Progress = Callable[[str, float], None]


@dataclass(frozen=True, eq=False)
class ResponseBatch:
    """A bounded slice of an export, columnar.

    ``frame`` columns: ``responseId`` (str), ``recordedDate`` (str, ISO-8601 UTC ``YYYY-MM-DDTHH:MM:SSZ``;
    missing only when a file without dates was read with ``require_dates=False``),
    ``finished`` (bool), one column per requested question id (exported value as str, missing when
    unanswered), then one column per requested embedded-data field.
    """

    frame: pd.DataFrame

    def __len__(self) -> int:
        return len(self.frame)


@dataclass(frozen=True)
class EventSubscription:
    """One Qualtrics event subscription: where Qualtrics POSTs events of ``topics``."""

    id: str
    topics: str
    publication_url: str
    successful_calls: int = 0
