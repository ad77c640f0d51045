"""The sandbox account's surveys: six demo surveys (NPS, CSAT, CES, touchpoint matrix, loop & merge, carry-forward
matrix), a long tail of small archive surveys so that survey listing really pages, and one survey owned by someone
else. Surveys loaded from QSF files (``--definitions``) come from `imported.py`.

Surveys are described once here, as plain records; `definitions.py` renders them in the two JSON shapes of the
real API and `generator.py` fills them with responses. Ids and dates derive from the seed and from today's UTC
midnight, so two sandboxes with the same seed started on the same day serve identical data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

ACCOUNT_USER_ID_SUFFIX = "account"
ARCHIVE_SURVEYS = 130
HISTORY_DAYS = 182  # responses spread over the last six months


def stable_id(prefix: str, seed: int, *parts: object, length: int = 15) -> str:
    """An id in Qualtrics' style (``SV_`` + base62) that depends only on the seed and the given parts."""
    digest = hashlib.sha256(":".join([str(seed), *map(str, parts)]).encode()).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 62)
        chars.append(_B62[rest])
    return prefix + "".join(chars)


def strip_html(text: str) -> str:
    """Plain text of Qualtrics' HTML snippets, as exports show it in the question-text header row."""
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.I)
    text = re.sub(r"<[^>]+>", "", text)
    text = text.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class ChoiceSpec:
    """One answer choice: its id, its (HTML) text and the recode value exports hold for it."""

    id: str
    html: str
    recode: str
    variable_name: str | None = None

    @property
    def label(self) -> str:
        return strip_html(self.html)


@dataclass(frozen=True)
class RatingModel:
    """How respondents answer a rating: a normal around a mean that drifts linearly over the six months."""

    mean_start: float
    mean_end: float
    sd: float
    na_probability: float = 0.0  # share choosing the not-an-answer choice, when the question has one


@dataclass(frozen=True)
class QuestionSpec:
    """A question. ``kind``: "nps" (MC/NPS 0-10), "mc" (single answer), "matrix" (Likert rows), "text" (TE),
    "multi" (multiple answer, MAVR: the source of a carry-forward matrix, its selections are the rows rated).

    ``loop`` names the fields of the loop & merge block the question sits in (one iteration per field); its
    answers then appear once per iteration, prefixed ``1_``, ``2_``… as real exports prefix them. A matrix with
    ``carried_from`` shows as rows the choices selected in that question, ids ``x1``… (Qualtrics' carry-forward).
    ``parent`` is the survey question a generated column belongs to (surveys loaded from a QSF, whose trackable
    columns come one by one from `qualtrics.definitions`); exports are requested by it."""

    qid: str
    tag: str  # DataExportTag
    html: str
    kind: str
    choices: tuple[ChoiceSpec, ...] = ()  # for a matrix: the scale columns (Answers)
    rows: tuple[ChoiceSpec, ...] = ()  # matrix statements (Choices in the definition API)
    na_choice: str | None = None  # id of the not-an-answer choice, if any
    model: RatingModel | None = None
    row_models: tuple[RatingModel, ...] = ()
    themes: tuple[str, ...] = ()  # for text questions: "good" half then "bad" half of the phrasings
    answer_probability: float = 0.97  # finished respondents still skip non-forced questions sometimes
    force_response: bool = False
    loop: tuple[str, ...] = ()
    carried_from: str | None = None
    parent: str | None = None

    @property
    def export_qid(self) -> str:
        """The id an export request names this question by (``questionIds``)."""
        return self.parent or self.qid

    @property
    def text(self) -> str:
        return strip_html(self.html)

    @property
    def selector(self) -> str:
        return {"nps": "NPS", "mc": "SAVR", "matrix": "Likert", "text": "ESTB", "multi": "MAVR"}[self.kind]

    @property
    def question_type(self) -> str:
        return {"nps": "MC", "mc": "MC", "matrix": "Matrix", "text": "TE", "multi": "MC"}[self.kind]

    @property
    def sub_selector(self) -> str | None:
        return {"nps": None, "mc": "TX", "matrix": "SingleAnswer", "text": None, "multi": "TX"}[self.kind]

    @property
    def has_custom_recodes(self) -> bool:
        return any(c.recode != c.id for c in self.choices)


@dataclass(frozen=True)
class SurveySpec:
    """A survey of the account (or, with ``visible=False``, of another user in the brand)."""

    id: str
    name: str
    role: str  # "nps" | "csat" | "ces" | "matrix" | "loop" | "carry" | "archive" | "foreign" | "imported"
    number: int  # feeds the response generator's random streams
    owner_id: str
    created: dt.datetime
    last_modified: dt.datetime
    is_active: bool
    questions: tuple[QuestionSpec, ...]
    responses: int  # responses recorded before today (live responses come on top)
    history_days: int = HISTORY_DAYS
    visible: bool = True
    embedded_fields: tuple[str, ...] = ("region", "channel")
    text_driver: str | None = None  # qid whose rating steers the tone of open-text answers
    trashed: tuple[QuestionSpec, ...] = ()  # in the Trash block: in the definition, never shown nor exported
    qsf: dict | None = None  # a survey loaded from a QSF file: its definition, served as the file has it

    def question(self, qid: str) -> QuestionSpec:
        for q in self.questions:
            if q.qid == qid:
                return q
        raise KeyError(qid)


REGIONS = ("North America", "EMEA", "APAC", "LATAM")
CHANNELS = ("web", "email", "in-app", "sms")

_NPS_THEMES = (
    "Setup was quick and the onboarding checklist helped a lot.",
    "Support answered within minutes and solved it on the first try.",
    "The dashboards are clear and easy to share with my team.",
    "Great value for the price, we rolled it out to two more teams.",
    "Billing was confusing, I was charged twice this month.",
    "Support took days to reply and I had to repeat myself.",
    "The app is slow when loading large reports.",
    "Too many clicks to find basic settings, navigation is confusing.",
)
_CSAT_THEMES = (
    "The agent was friendly and knew the product well.",
    "Quick answer, problem fixed in one call.",
    "Clear instructions, thanks!",
    "Waited too long in the queue before anyone picked up.",
    "I was transferred three times and nobody owned the issue.",
    "The answer did not fix my problem.",
)
_CES_THEMES = (
    "The self-service guide covered exactly my case.",
    "Password reset link worked straight away.",
    "Everything was in one place, no need to call.",
    "I had to fill in the same form twice.",
    "The verification step kept failing on mobile.",
    "Hard to find where to upload the documents.",
)
_MATRIX_THEMES = (
    "Sign up was painless and the first project template was useful.",
    "First use felt guided, the tips were well timed.",
    "Support chat is excellent.",
    "Billing page is confusing, invoices are hard to find.",
    "First use was overwhelming, too many options at once.",
    "Discovering the right plan took ages on the website.",
)

TOUCHPOINTS = ("Discover", "Sign up", "First use", "Billing", "Support")

_SATISFACTION = (
    "Very dissatisfied",
    "Dissatisfied",
    "Neither satisfied nor dissatisfied",
    "Satisfied",
    "Very satisfied",
)
_EASE = (
    "Extremely difficult",
    "Moderately difficult",
    "Slightly difficult",
    "Neither easy nor difficult",
    "Slightly easy",
    "Moderately easy",
    "Extremely easy",
)


def _demo_survey(seed: int, role: str, number: int, name: str, created: dt.datetime, modified_after_days: int,
                 questions: tuple[QuestionSpec, ...], responses: int, text_driver: str) -> SurveySpec:
    return SurveySpec(
        id=stable_id("SV_", seed, role),
        name=name,
        role=role,
        number=number,
        owner_id=stable_id("UR_", seed, ACCOUNT_USER_ID_SUFFIX),
        created=created,
        last_modified=created + dt.timedelta(days=modified_after_days),
        is_active=True,
        questions=questions,
        responses=responses,
        text_driver=text_driver,
    )


def _nps_survey(seed: int, created: dt.datetime, responses: int) -> SurveySpec:
    nps = QuestionSpec(
        qid="QID1",
        tag="Q1",
        html="<div>How likely are you to recommend <strong>Journey Pulse</strong> to a friend or colleague?</div>",
        kind="nps",
        choices=tuple(ChoiceSpec(str(v), str(v), str(v)) for v in range(11)),
        model=RatingModel(mean_start=6.6, mean_end=8.3, sd=2.3),
        force_response=False,
        answer_probability=0.98,
    )
    reason = QuestionSpec(
        qid="QID2",
        tag="Q2",
        html="What is the <em>main reason</em> for your score?",
        kind="text",
        themes=_NPS_THEMES,
        answer_probability=0.65,
    )
    # an old question moved to the Trash: real definitions keep such questions, exports and the flow do not
    pricing = QuestionSpec(
        qid="QID3",
        tag="Q3",
        html="How satisfied are you with our <b>pricing</b>?",
        kind="mc",
        choices=tuple(ChoiceSpec(str(i + 1), label, str(i + 1)) for i, label in enumerate(_SATISFACTION)),
    )
    survey = _demo_survey(seed, "nps", 1, "Customer NPS - Product Experience", created, 3, (nps, reason), responses,
                          "QID1")
    return dataclasses.replace(survey, trashed=(pricing,))


def _csat_survey(seed: int, created: dt.datetime) -> SurveySpec:
    # N/A has a gap in the choice ids (an edited survey) and a custom recode of 99, as real surveys often do.
    choices = (
        ChoiceSpec("1", "Very <b>dis</b>satisfied", "1"),
        ChoiceSpec("2", _SATISFACTION[1], "2"),
        ChoiceSpec("3", _SATISFACTION[2], "3"),
        ChoiceSpec("4", _SATISFACTION[3], "4"),
        ChoiceSpec("5", "Very <b>satisfied</b>", "5"),
        ChoiceSpec("8", "N/A", "99"),
    )
    csat = QuestionSpec(
        qid="QID1",
        tag="Q1",
        html="<p>Overall, how <b>satisfied</b> were you with our support team today?</p>",
        kind="mc",
        choices=choices,
        na_choice="8",
        model=RatingModel(mean_start=3.5, mean_end=4.1, sd=1.1, na_probability=0.07),
        force_response=True,
        answer_probability=1.0,
    )
    comment = QuestionSpec(
        qid="QID2",
        tag="Q2",
        html="Anything else you would like to tell us about your <i>support experience</i>?",
        kind="text",
        themes=_CSAT_THEMES,
        answer_probability=0.5,
    )
    return _demo_survey(seed, "csat", 2, "Support CSAT", created, 5, (csat, comment), 640, "QID1")


def _ces_survey(seed: int, created: dt.datetime) -> SurveySpec:
    ces = QuestionSpec(
        qid="QID1",
        tag="Q1",
        html="How <u>easy</u> was it to get your issue resolved today?",
        kind="mc",
        choices=tuple(ChoiceSpec(str(i + 1), label, str(i + 1)) for i, label in enumerate(_EASE)),
        model=RatingModel(mean_start=4.6, mean_end=5.4, sd=1.5),
        force_response=False,
        answer_probability=0.96,
    )
    why = QuestionSpec(
        qid="QID2",
        tag="Q2",
        html="What made it <strong>easy</strong> or <strong>difficult</strong>?",
        kind="text",
        themes=_CES_THEMES,
        answer_probability=0.55,
    )
    return _demo_survey(seed, "ces", 3, "Onboarding Effort (CES)", created, 2, (ces, why), 520, "QID1")


def _matrix_survey(seed: int, created: dt.datetime) -> SurveySpec:
    rows = tuple(ChoiceSpec(str(i + 1), name, str(i + 1)) for i, name in enumerate(TOUCHPOINTS))
    matrix = QuestionSpec(
        qid="QID1",
        tag="Q1",
        html="<div>How satisfied were you with each <b>step of your journey</b>?</div>",
        kind="matrix",
        choices=tuple(ChoiceSpec(str(i + 1), label, str(i + 1)) for i, label in enumerate(_SATISFACTION)),
        rows=rows,
        row_models=(
            RatingModel(3.9, 4.1, 0.9),  # Discover
            RatingModel(3.6, 4.2, 1.0),  # Sign up: improving
            RatingModel(3.2, 3.9, 1.1),  # First use: improving fast
            RatingModel(3.0, 2.8, 1.1),  # Billing: the sore spot
            RatingModel(3.7, 4.0, 1.0),  # Support
        ),
        answer_probability=0.93,
    )
    improve = QuestionSpec(
        qid="QID2",
        tag="Q2",
        html="Which step should we <em>improve first</em>, and why?",
        kind="text",
        themes=_MATRIX_THEMES,
        answer_probability=0.6,
    )
    return _demo_survey(seed, "matrix", 4, "Customer Journey Touchpoints", created, 7, (matrix, improve), 480, "QID1_3")


FEATURES = ("Dashboards", "Alerts", "Exports")
CHANNEL_CHOICES = ("Website", "Email", "Phone", "Chat")


def _loop_survey(seed: int, created: dt.datetime) -> SurveySpec:
    """A loop & merge block: one satisfaction question asked once per feature (columns 1_QID1, 2_QID1, 3_QID1)."""
    rating = QuestionSpec(
        qid="QID1",
        tag="Q1",
        html="How satisfied are you with <b>${lm://Field/1}</b>?",
        kind="mc",
        choices=tuple(ChoiceSpec(str(i + 1), label, str(i + 1)) for i, label in enumerate(_SATISFACTION)),
        row_models=(RatingModel(3.8, 4.2, 0.9), RatingModel(3.1, 3.4, 1.1), RatingModel(3.5, 3.6, 1.0)),
        loop=FEATURES,
        answer_probability=0.95,
    )
    wish = QuestionSpec(
        qid="QID2",
        tag="Q2",
        html="Which feature should we improve next?",
        kind="text",
        themes=_MATRIX_THEMES,
        answer_probability=0.5,
    )
    return _demo_survey(seed, "loop", 5, "Feature Satisfaction (loop & merge)", created, 4, (rating, wish), 360,
                        "1_QID1")


def _carry_survey(seed: int, created: dt.datetime) -> SurveySpec:
    """A carry-forward matrix: the channels a respondent selected in QID1 come back as rows x1… of QID2."""
    used = QuestionSpec(
        qid="QID1",
        tag="Q1",
        html="Which channels did you use to contact us?",
        kind="multi",
        choices=tuple(ChoiceSpec(str(i + 1), name, str(i + 1)) for i, name in enumerate(CHANNEL_CHOICES)),
    )
    rated = QuestionSpec(
        qid="QID2",
        tag="Q2",
        html="How satisfied were you with each channel you used?",
        kind="matrix",
        choices=tuple(ChoiceSpec(str(i + 1), label, str(i + 1)) for i, label in enumerate(_SATISFACTION)),
        rows=tuple(ChoiceSpec(f"x{i + 1}", name, str(i + 1)) for i, name in enumerate(CHANNEL_CHOICES)),
        row_models=(RatingModel(3.9, 4.0, 0.9), RatingModel(3.4, 3.7, 1.0), RatingModel(3.0, 3.6, 1.2),
                    RatingModel(4.1, 4.3, 0.8)),
        carried_from="QID1",
        answer_probability=0.6,  # a row shows only when its channel was selected
    )
    return _demo_survey(seed, "carry", 6, "Contact Channels (carry forward)", created, 6, (used, rated), 420, "QID2_x1")


def _archive_survey(seed: int, k: int, anchor: dt.datetime) -> SurveySpec:
    created = anchor - dt.timedelta(days=400 + 3 * k)
    question = QuestionSpec(
        qid="QID1",
        tag="Q1",
        html=f"How satisfied were you with <b>event #{k + 1}</b>?",
        kind="mc",
        choices=tuple(ChoiceSpec(str(i + 1), label, str(i + 1)) for i, label in enumerate(_SATISFACTION)),
        model=RatingModel(3.6, 3.8, 1.0),
        force_response=True,
        answer_probability=1.0,
    )
    return SurveySpec(
        id=stable_id("SV_", seed, "archive", k),
        name=f"Archive - Event feedback {k + 1:03d}",
        role="archive",
        number=100 + k,
        owner_id=stable_id("UR_", seed, ACCOUNT_USER_ID_SUFFIX),
        created=created,
        last_modified=created + dt.timedelta(days=1),
        is_active=k % 3 == 0,
        questions=(question,),
        responses=3 + (k * 7) % 10,
        history_days=30,
    )


@dataclass
class Catalog:
    """All surveys of the sandbox brand, in the order the survey list returns them."""

    seed: int
    anchor: dt.datetime  # today 00:00 UTC; generated history ends here
    surveys: list[SurveySpec] = field(default_factory=list)

    @classmethod
    def build(cls, seed: int, anchor: dt.datetime, nps_responses: int | None = None) -> "Catalog":
        created = anchor - dt.timedelta(days=HISTORY_DAYS + 14)
        surveys = [
            _nps_survey(seed, created, nps_responses if nps_responses is not None else 1500),
            _csat_survey(seed, created),
            _ces_survey(seed, created),
            _matrix_survey(seed, created),
            _loop_survey(seed, created),
            _carry_survey(seed, created),
            *(_archive_survey(seed, k, anchor) for k in range(ARCHIVE_SURVEYS)),
        ]
        foreign = _archive_survey(seed, ARCHIVE_SURVEYS, anchor)
        surveys.append(
            SurveySpec(
                **{
                    **foreign.__dict__,
                    "id": stable_id("SV_", seed, "foreign"),
                    "name": "Finance team pulse (owned by a colleague)",
                    "role": "foreign",
                    "owner_id": stable_id("UR_", seed, "colleague"),
                    "visible": False,
                }
            )
        )
        return cls(seed=seed, anchor=anchor, surveys=surveys)

    def add_after_demo(self, surveys: list[SurveySpec]) -> None:
        """Put ``surveys`` right after the demo surveys, so the first page of the survey list shows them."""
        at = next((i for i, s in enumerate(self.surveys) if s.role == "archive"), len(self.surveys))
        self.surveys[at:at] = surveys

    def get(self, survey_id: str) -> SurveySpec | None:
        for s in self.surveys:
            if s.id == survey_id:
                return s
        return None

    def visible(self) -> list[SurveySpec]:
        return [s for s in self.surveys if s.visible]

    def by_role(self, role: str) -> SurveySpec:
        for s in self.surveys:
            if s.role == role:
                return s
        raise KeyError(role)
