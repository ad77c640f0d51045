"""The lane's words: short default titles, a tone that is the score's own sentiment, the target as its own mark,
and every name in the lane shown as text."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from qualtrics.definitions import parse_definition
from tests.test_pages import connect, nps_metric, settings  # noqa: F401  (fixture)
from ui import cards
from workspace import metrics, scores, views, wizard
from workspace.metrics import _old_default_title, default_title

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "qualtrics-real"


def test_default_titles_are_the_type_and_the_questions_short_label(settings, sandbox):
    connect(settings)
    titles = {}
    for kind in ("nps", "csat", "ces", "matrix"):
        for question in wizard.questions(settings, sandbox.survey_ids[kind]):
            titles[(kind, question.id)] = wizard.title_for(question, wizard.suggested_type_name(question))
    assert titles[("nps", "QID1")] == "NPS · Recommend Journey Pulse"
    assert titles[("ces", "QID1")] == "CES · Get your issue resolved"
    assert titles[("matrix", "QID1_2")] == "CSAT · Sign up", "a matrix row is named by its row label"
    assert all(len(t) <= 40 for t in titles.values()), titles


@pytest.mark.skipif(not REAL.exists(), reason="../shared/fixtures/qualtrics-real is not in this checkout")
def test_default_titles_of_real_surveys_stay_short_and_use_an_authors_export_tag():
    definition = json.loads((REAL / "get_survey_SV_3gbwq8aJgqPwQDP_beskar_csat.json").read_text())
    questions = parse_definition(definition.get("result", definition)).questions
    overall = next(q for q in questions if q.id == "QID16")
    assert default_title(overall, "csat") == "CSAT · Beskar armor"
    assert all(len(default_title(q, "csat")) <= 36 for q in questions)
    renamed = dataclasses.replace(overall, export_tag="Armor_satisfaction")
    assert default_title(renamed, "csat") == "CSAT · Armor satisfaction"


def test_old_whole_question_titles_are_shortened_at_start_and_typed_titles_are_kept(settings, sandbox):
    connect(settings)
    question = next(q for q in wizard.questions(settings, sandbox.survey_ids["nps"]) if q.id == "QID1")
    old = metrics.create_metric(settings, sandbox.survey_ids["nps"], "QID1", "nps",
                                title=_old_default_title(question, metrics.MetricType.NPS))
    typed = metrics.create_metric(settings, sandbox.survey_ids["nps"], "QID1", "nps", title="Renewal NPS")
    assert metrics.shorten_default_titles(settings) == 1
    assert metrics.get_metric(settings, old.id).title == "NPS · Recommend Journey Pulse"
    assert metrics.get_metric(settings, typed.id).title == "Renewal NPS"
    assert metrics.shorten_default_titles(settings) == 0


def test_the_same_score_reads_the_same_tone_with_or_without_a_target(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    plain_card = scores.metric_card(settings, metric.id)
    value = plain_card.score.value
    above = metrics.update_metric(settings, metric.id, target=value + 10)
    with_target = scores.metric_card(settings, above.id)
    assert cards.tone(with_target) == cards.tone(plain_card)
    assert views.target_mark(with_target) == f"below target {value + 10:.1f}"
    metrics.update_metric(settings, metric.id, target=value - 10)
    assert views.target_mark(scores.metric_card(settings, metric.id)) == f"on target {value - 10:.1f}"
    metrics.update_metric(settings, metric.id, target=value - 10, direction="lower")
    assert views.target_mark(scores.metric_card(settings, metric.id)).startswith("above target")
    assert views.target_mark(plain_card) is None


def test_lane_shows_step_stage_and_title_markup_as_text(settings, sandbox):
    connect(settings)
    metric = metrics.update_metric(settings, nps_metric(settings, sandbox).id,
                                   title='<a href="http://evil.example" target="_self">x</a>')
    card = scores.metric_card(settings, metric.id)
    lane = cards.lane_html([("<b>Stage</b>", [(1, "<img src=x onerror=alert(1)>", [card])])], can_add=True)
    assert "<b>Stage" not in lane and "<img" not in lane and "evil.example\" target" not in lane
    assert "&lt;img src=x onerror=alert(1)&gt;" in lane
