"""The wizard's and the metric page's smaller rules (issue 10 "Smaller"), through the real pages in AppTest."""

from __future__ import annotations

import pandas as pd

from tests.test_pages import connect, nps_metric, no_exception, open_page, settings  # noqa: F401  (fixture)
from ui import charts, routes
from workspace import metrics, views, wizard


def wizard_at(settings, survey_id: str, question_id: str, type_name: str | None = None):
    query = {"survey": survey_id, "question": question_id} | ({"type": type_name} if type_name else {})
    at = open_page(routes.NEW_METRIC, query=query)
    no_exception(at)
    return at


def test_a_reload_keeps_the_wizards_survey_question_and_type(settings, sandbox):
    connect(settings)
    survey_id = sandbox.survey_ids["csat"]
    at = open_page(routes.NEW_METRIC)
    at.selectbox(key="wizard_survey").set_value(survey_id).run()
    at.selectbox(key=f"wizard_question_{survey_id}").set_value("QID1").run()
    at.segmented_control(key=f"wizard_type_{survey_id}_QID1").set_value("CES").run()
    url = {k: at.query_params[k] for k in ("survey", "question", "type")}
    assert {k: (v[0] if isinstance(v, list) else v) for k, v in url.items()} == {
        "survey": survey_id, "question": "QID1", "type": "CES"}
    reloaded = wizard_at(settings, survey_id, "QID1", "CES")
    assert reloaded.selectbox(key="wizard_survey").value == survey_id
    assert reloaded.selectbox(key=f"wizard_question_{survey_id}").value == "QID1"
    assert reloaded.segmented_control(key=f"wizard_type_{survey_id}_QID1").value == "CES"


def test_nps_on_a_one_to_five_question_is_warned_about(settings, sandbox):
    connect(settings)
    at = wizard_at(settings, sandbox.survey_ids["csat"], "QID1", "NPS")
    assert any("NPS is defined on a 0–10 scale" in w.value and "1–5" in w.value for w in at.warning)
    assert not any("0–10" in w.value for w in wizard_at(settings, sandbox.survey_ids["nps"], "QID1").warning)


def test_a_second_metric_on_the_same_question_and_type_is_warned_about(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    at = wizard_at(settings, metric.survey_id, "QID1", "NPS")
    assert any("already tracked as NPS" in w.value for w in at.warning)
    assert not any("already tracked" in w.value for w in wizard_at(settings, metric.survey_id, "QID1", "CSAT").warning)


def test_an_empty_title_is_refused_alike_in_the_wizard_and_on_the_metric_page(settings, sandbox):
    connect(settings)
    survey_id = sandbox.survey_ids["nps"]
    at = wizard_at(settings, survey_id, "QID1", "NPS")
    [title] = [t for t in at.text_input if t.label == "Title"]
    title.input("   ").run()
    at.button(key="wizard_sync").click().run()
    assert [e.value for e in at.error] == ["A metric needs a title."]
    assert metrics.list_metrics(settings) == []
    metric = nps_metric(settings, sandbox)
    page = open_page(routes.METRIC, query={"id": str(metric.id)})
    page.text_input(key="title").input("")
    page.button[[b.label for b in page.button].index("Save")].click().run()
    assert "A metric needs a title." in [e.value for e in page.error]


def test_nps_mapping_shows_every_row_and_no_csat_score_column_with_the_wizards_headers(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    page = open_page(routes.METRIC, query={"id": str(metric.id)})
    [table] = [d for d in page.data_editor]
    assert len(table.value) == 11
    proto = table.proto
    assert list(proto.column_order) == ["value", "label", "sentiment"]
    wizard_page = wizard_at(settings, metric.survey_id, "QID1", "NPS")
    assert list(wizard_page.data_editor[0].proto.column_order) == list(proto.column_order)
    assert wizard_page.data_editor[0].proto.columns == proto.columns, "same headers in the wizard and the page"
    csat = wizard_at(settings, sandbox.survey_ids["csat"], "QID1", "CSAT")
    assert list(csat.data_editor[0].proto.column_order) == ["value", "label", "sentiment", "score"]


def test_saving_a_mapping_confirms_and_reset_restores_the_defaults(settings, sandbox):
    connect(settings)
    metric = nps_metric(settings, sandbox)
    changed = views.mapping_table(metric)
    changed.loc[changed["value"] == "8", "sentiment"] = "Positive"
    metrics.update_metric(settings, metric.id, mapping=wizard.mapping_from_table(changed, "NPS"))
    page = open_page(routes.METRIC, query={"id": str(metric.id)})
    page.button(key="reset_mapping").click().run()
    no_exception(page)
    assert any("reset to the defaults" in s.value for s in page.success)
    restored = views.mapping_table(metrics.get_metric(settings, metric.id))
    assert restored.loc[restored["value"] == "8", "sentiment"].item() == "Neutral"
    page.button(key="save_mapping").click().run()
    assert any("Mapping saved" in s.value for s in page.success)


def test_sentiment_shares_leave_excluded_answers_out():
    frame = pd.DataFrame({"sentiment": ["Positive", "Neutral", "Negative", "Excluded", "Unmapped"],
                          "count": [50, 30, 20, 100, 0]})
    texts = [bar.text for bar in charts.sentiments(frame).data]
    assert texts == ["Positive 50%", "Neutral 30%", "Negative 20%", "Excluded 100 (not counted)"]


def test_the_survey_list_keeps_one_order(settings, sandbox):
    connect(settings)
    listed = wizard.surveys(settings)
    assert [(s.name.casefold(), s.id) for s in listed] == sorted((s.name.casefold(), s.id) for s in listed)
    assert [s.id for s in wizard.surveys(settings, refresh=True)] == [s.id for s in listed]
