"""Deterministic survey responses, generated on demand in fixed-size chunks.

Nothing is stored: the responses of chunk ``c`` of a survey are a pure function of (seed, survey number, c),
drawn with numpy, so an export of a million responses streams chunk by chunk with flat memory, and the ground
truth for tests (`ResponseStore.expected_answers`) comes from the very same function. Response ``i`` of a survey
is recorded at a time that grows with ``i``, which makes "recorded after index k" the same as "recorded after
the moment the previous export ran" for continuation tokens. Live responses (``--live`` or
`ResponseStore.add_live`) are small batches kept in memory and generated the same way, stamped "now".
Responses a person gives through the anonymous link (`ResponseStore.add_recorded`) are live batches of one whose
answers and embedded data are the ones given, not drawn; their free texts and embedded values extend the
survey's lookup tables (`ResponseStore.vocabulary`), which only ever grow, so indexes stay valid.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .catalog import CHANNELS, REGIONS, QuestionSpec, SurveySpec

CHUNK = 50_000
_B62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_LIVE_STREAM = 1_000_000  # offsets live batches' random streams away from the base chunks'
DISTRIBUTION_CHANNELS = ("anonymous", "email")
#: (latitude, longitude) as exports print them: respondents cluster in cities, so a table serves.
LOCATIONS = (
    ("40.7128", "-74.006"), ("34.0522", "-118.2437"), ("41.8781", "-87.6298"), ("43.6532", "-79.3832"),
    ("51.5074", "-0.1278"), ("48.8566", "2.3522"), ("52.52", "13.405"), ("50.1109", "8.6821"),
    ("59.3293", "18.0686"), ("41.3874", "2.1686"), ("35.6762", "139.6503"), ("1.3521", "103.8198"),
    ("-33.8688", "151.2093"), ("19.076", "72.8777"), ("-23.5505", "-46.6333"), ("19.4326", "-99.1332"),
)


def answer_slots(question: QuestionSpec) -> list[str]:
    """Keys under which a question's answers appear in exports: QID1, QID1_3 (matrix row), QID2_x1 (carried-forward
    row), QID2_TEXT, 2_QID1 (second loop & merge iteration). A multiple-answer question has none of its own: its
    selections are the rows its carry-forward matrix shows (see `layout`)."""
    if question.kind == "matrix":
        slots = [f"{question.qid}_{row.id}" for row in question.rows]
    elif question.kind == "text":
        slots = [f"{question.qid}_TEXT"]
    elif question.kind == "multi":
        slots = []
    else:
        slots = [question.qid]
    if question.loop:
        return [f"{n}_{slot}" for n in range(1, len(question.loop) + 1) for slot in slots]
    return slots


def slot_models(question: QuestionSpec) -> list:
    """The `RatingModel` of each answer slot: a matrix's per row, a looped question's per iteration."""
    slots = answer_slots(question)
    if question.row_models:
        return [question.row_models[i % len(question.row_models)] for i in range(len(slots))]
    return [question.model] * len(slots)


@dataclass
class Block:
    """Columnar responses ``first .. first+len-1`` of one survey. Answers hold choice indexes (-1 = blank)."""

    first: int
    response_id: np.ndarray  # str
    recorded_ms: np.ndarray  # int64 epoch milliseconds
    duration: np.ndarray  # int seconds
    progress: np.ndarray  # int percent
    finished: np.ndarray  # 0/1
    ip_octet: np.ndarray  # last octet of a documentation-range IP address
    location: np.ndarray  # index into LOCATIONS
    distribution: np.ndarray  # index into DISTRIBUTION_CHANNELS
    region: np.ndarray  # index into REGIONS
    channel: np.ndarray  # index into CHANNELS
    answers: dict[str, np.ndarray]  # slot key -> choice index (text: theme index), -1 when unanswered

    def __len__(self) -> int:
        return len(self.response_id)

    def take(self, mask_or_slice: np.ndarray | slice) -> "Block":
        """A sub-block (rows selected by a boolean mask or a slice); ``first`` loses meaning for masks."""
        pick = mask_or_slice
        first = self.first + (pick.start or 0) if isinstance(pick, slice) else self.first
        return Block(
            first=first,
            response_id=self.response_id[pick],
            recorded_ms=self.recorded_ms[pick],
            duration=self.duration[pick],
            progress=self.progress[pick],
            finished=self.finished[pick],
            ip_octet=self.ip_octet[pick],
            location=self.location[pick],
            distribution=self.distribution[pick],
            region=self.region[pick],
            channel=self.channel[pick],
            answers={k: v[pick] for k, v in self.answers.items()},
        )


def _rating(rng: np.random.Generator, question: QuestionSpec, model, frac: np.ndarray) -> np.ndarray:
    """Choice indexes of a rating question; the scale points are the choices other than the N/A one."""
    scale = [i for i, c in enumerate(question.choices) if c.id != question.na_choice]
    mean = model.mean_start + (model.mean_end - model.mean_start) * frac
    low = float(question.choices[scale[0]].recode)
    points = np.clip(np.rint(rng.normal(mean, model.sd)), low, low + len(scale) - 1).astype(np.int64)
    index = np.asarray(scale)[points - int(low)]
    na_draw = rng.random(len(frac))
    if question.na_choice is not None and model.na_probability > 0:
        na_index = next(i for i, c in enumerate(question.choices) if c.id == question.na_choice)
        index = np.where(na_draw < model.na_probability, na_index, index)
    return index


def _tone(question: QuestionSpec, index: np.ndarray) -> np.ndarray:
    """How good a rating answer is, 0..1 (NaN when blank or N/A), to steer open-text themes."""
    recodes = np.array([float(c.recode) for c in question.choices])
    scale = [float(c.recode) for c in question.choices if c.id != question.na_choice]
    lo, hi = min(scale), max(scale)
    tone = (recodes[np.clip(index, 0, None)] - lo) / ((hi - lo) or 1.0)  # a one-point scale is neutral
    na = np.array([c.id == question.na_choice for c in question.choices])
    return np.where((index < 0) | na[np.clip(index, 0, None)], np.nan, tone)


def generate_block(
    survey: SurveySpec, seed: int, stream: int, first: int, recorded_ms: np.ndarray, frac: np.ndarray
) -> Block:
    """All fields of ``len(recorded_ms)`` responses from one random stream; the draw order never changes."""
    n = len(recorded_ms)
    rng = np.random.default_rng([seed, survey.number, stream])
    codes = _B62[rng.integers(0, 62, size=(n, 15))]
    response_id = np.char.add("R_", codes.view("S15").ravel().astype("U15"))
    duration = np.clip(rng.lognormal(np.log(150), 0.7, n), 15, 3600).astype(np.int64)
    finished = (rng.random(n) >= 0.07).astype(np.int64)
    progress = np.where(finished == 1, 100, rng.integers(10, 90, n))
    # a partial response reached only its first k questions (k may be 0: it answered nothing)
    reached = np.where(finished == 1, len(survey.questions), rng.integers(0, max(len(survey.questions), 1), n))
    block = Block(
        first=first,
        response_id=response_id,
        recorded_ms=recorded_ms,
        duration=duration,
        progress=progress,
        finished=finished,
        ip_octet=rng.integers(1, 255, n),
        location=rng.integers(0, len(LOCATIONS), n),
        distribution=(rng.random(n) < 0.3).astype(np.int64),
        region=rng.choice(len(REGIONS), n, p=[0.4, 0.3, 0.2, 0.1]),
        channel=rng.choice(len(CHANNELS), n, p=[0.45, 0.3, 0.2, 0.05]),
        answers={},
    )
    tones: dict[str, np.ndarray] = {}
    for position, question in enumerate(survey.questions):
        shown = reached > position
        for slot, model in zip(answer_slots(question), slot_models(question)):
            skip = rng.random(n) >= question.answer_probability
            if question.force_response:
                skip &= finished == 0
            if question.kind == "text":
                block.answers[slot] = np.full(n, -1)  # filled below, once the tone is known
                block.answers[slot + "#skip"] = ~shown | skip
                continue
            index = _rating(rng, question, model, frac)
            index = np.where(shown & ~skip, index, -1)
            block.answers[slot] = index
            tones[slot] = _tone(question, index)
    for question in survey.questions:
        if question.kind != "text":
            continue
        slot = answer_slots(question)[0]
        skip = block.answers.pop(slot + "#skip")
        half = len(question.themes) // 2
        tone = tones.get(survey.text_driver or "", np.full(n, np.nan))
        good = np.where(np.isnan(tone), rng.random(n) < 0.5, tone >= 0.6)
        theme = np.where(good, rng.integers(0, half, n), half + rng.integers(0, len(question.themes) - half, n))
        block.answers[slot] = np.where(skip, -1, theme)
    return block


def base_vocabulary(survey: SurveySpec) -> dict[str, tuple[str, ...]]:
    """The built-in lookup tables of a survey's free-valued fields: open-text slots hold theme indexes, region and
    channel hold indexes into REGIONS and CHANNELS."""
    tables = {answer_slots(q)[0]: q.themes for q in survey.questions if q.kind == "text"}
    return {**tables, "region": REGIONS, "channel": CHANNELS}


@dataclass(frozen=True)
class RecordedAnswers:
    """A response exactly as it was given: an index per answer slot (-1 = unanswered) and per embedded field."""

    answers: dict[str, int]
    embedded: dict[str, int]


@dataclass
class LiveBatch:
    first: int
    count: int
    recorded_ms: int
    recorded: RecordedAnswers | None = None  # set for a batch of one response given through the survey link


class ResponseStore:
    """The responses of every survey: generated history plus live batches (the only state kept)."""

    def __init__(self, seed: int, anchor: dt.datetime) -> None:
        self.seed = seed
        self.anchor_ms = int(anchor.timestamp() * 1000)
        self._live: dict[str, list[LiveBatch]] = {}
        self._extra_values: dict[tuple[str, str], list[str]] = {}  # (survey id, table) -> values given live
        self._lock = threading.Lock()

    def total(self, survey: SurveySpec) -> int:
        with self._lock:
            return survey.responses + sum(b.count for b in self._live.get(survey.id, []))

    def add_live(self, survey: SurveySpec, count: int, when: dt.datetime | None = None) -> int:
        """Record ``count`` new responses now (or at ``when``); returns the new total."""
        moment = when or dt.datetime.now(dt.timezone.utc)
        with self._lock:
            batches = self._live.setdefault(survey.id, [])
            first = survey.responses + sum(b.count for b in batches)
            batches.append(LiveBatch(first=first, count=count, recorded_ms=int(moment.timestamp() * 1000)))
            return first + count

    def vocabulary(self, survey: SurveySpec) -> dict[str, tuple[str, ...]]:
        """The lookup tables of open-text slots, region and channel: built-in values, then values given live."""
        with self._lock:
            return {key: base + tuple(self._extra_values.get((survey.id, key), ()))
                    for key, base in base_vocabulary(survey).items()}

    def add_recorded(self, survey: SurveySpec, choices: dict[str, int], texts: dict[str, str],
                     embedded: dict[str, str], when: dt.datetime | None = None) -> str:
        """Record one finished response with exactly these answers: ``choices`` maps a rating slot (QID1,
        QID1_3) to a choice index, ``texts`` an open-text slot (QID2_TEXT) to what was typed, ``embedded`` the
        survey's embedded fields to their values. Returns the new response's id."""
        moment = when or dt.datetime.now(dt.timezone.utc)
        with self._lock:
            answers = {**choices, **{slot: self._intern(survey, slot, text) for slot, text in texts.items()}}
            fields = {key: self._intern(survey, key, value) for key, value in embedded.items()}
            recorded = RecordedAnswers(answers, fields)
            batches = self._live.setdefault(survey.id, [])
            first = survey.responses + sum(b.count for b in batches)
            batch = LiveBatch(first, 1, int(moment.timestamp() * 1000), recorded)
            batches.append(batch)
            batch_no = len(batches) - 1
        return str(self._live_block(survey, batch_no, batch).response_id[0])

    def _intern(self, survey: SurveySpec, table: str, value: str) -> int:
        """The index of ``value`` in one of the survey's lookup tables, appending it when new (lock held)."""
        extra = self._extra_values.setdefault((survey.id, table), [])
        known = [*base_vocabulary(survey)[table], *extra]
        if value in known:
            return known.index(value)
        extra.append(value)
        return len(known)

    def _base_chunk(self, survey: SurveySpec, chunk: int) -> Block:
        total = survey.responses
        first = chunk * CHUNK
        index = np.arange(first, min(first + CHUNK, total), dtype=np.int64)
        rng = np.random.default_rng([self.seed, survey.number, chunk, 7])
        frac = (index + rng.random(len(index))) / max(total, 1)
        span_ms = survey.history_days * 86_400_000
        # frac grows with the index, so recording order is index order (continuation cuts by index)
        recorded = self.anchor_ms - span_ms + (frac * span_ms).astype(np.int64)
        return generate_block(survey, self.seed, chunk, first, recorded, frac)

    def _live_block(self, survey: SurveySpec, batch_no: int, batch: LiveBatch) -> Block:
        recorded = np.full(batch.count, batch.recorded_ms, dtype=np.int64) + np.arange(batch.count)
        frac = np.ones(batch.count)
        block = generate_block(survey, self.seed, _LIVE_STREAM + batch_no, batch.first, recorded, frac)
        given = batch.recorded
        if given is not None:
            # the generated fields serve as metadata (id, duration, location); answers are the ones given
            block.finished[:], block.progress[:] = 1, 100
            block.distribution[:] = DISTRIBUTION_CHANNELS.index("anonymous")
            for slot in block.answers:
                block.answers[slot][:] = given.answers.get(slot, -1)
            block.region[:] = given.embedded.get("region", -1)  # -1: blank, as when the link did not set it
            block.channel[:] = given.embedded.get("channel", -1)
        return block

    def blocks(self, survey: SurveySpec, first: int = 0, stop: int | None = None) -> Iterator[Block]:
        """Responses with index in [first, stop) in recording order, one chunk at a time."""
        stop = self.total(survey) if stop is None else stop
        base = survey.responses
        for chunk in range(first // CHUNK, (min(stop, base) + CHUNK - 1) // CHUNK if base else 0):
            lo, hi = chunk * CHUNK, min((chunk + 1) * CHUNK, base)
            if hi <= first or lo >= stop:
                continue
            block = self._base_chunk(survey, chunk)
            yield block.take(slice(max(first, lo) - lo, min(stop, hi) - lo))
        with self._lock:
            live = list(self._live.get(survey.id, []))
        for batch_no, batch in enumerate(live):
            lo, hi = batch.first, batch.first + batch.count
            if hi <= first or lo >= stop:
                continue
            block = self._live_block(survey, batch_no, batch)
            yield block.take(slice(max(first, lo) - lo, min(stop, hi) - lo))
