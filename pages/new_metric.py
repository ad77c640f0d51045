"""+ Metric: Source → Survey → Question (+ segments) → Metric type → sentiment mapping → Sync data.

Reached from the Metrics Library or from a journey step (`?step=ID` preselects the step).
"""

from __future__ import annotations

import streamlit as st

from ui import cards, routes
from ui.actions import run_sync
from ui.frame import app_runtime, current_person
from ui.text import plain
from workspace import wizard
from workspace.errors import NotConnected, WorkspaceError

settings = app_runtime().settings
person = current_person()

st.title("New metric")
if not person.edits_metrics:
    st.info("Viewers can look at metrics but not add them. Ask an editor or integration manager.",
            icon=":material/lock:")
    st.stop()

step_id = st.query_params.get("step")
step = wizard.step_context(settings, int(step_id)) if step_id and step_id.isdigit() else None
if step is not None:
    st.caption(f"The new metric will be placed on the step **{plain(step.step_name)}** of "
               f"**{plain(step.journey_name)}**.")

st.selectbox("Source", wizard.SOURCES, key="wizard_source")

try:
    with st.spinner("Listing the surveys Qualtrics shows this account…"):
        surveys = wizard.surveys(settings, refresh=st.session_state.pop("wizard_refresh_surveys", False))
except NotConnected as exc:
    st.warning(f"{exc}", icon=":material/link_off:")
    st.page_link(routes.INTEGRATIONS, label="Open Settings › Integrations", icon=":material/power:")
    st.stop()
except WorkspaceError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()



def from_url(param: str, choices: list[str]) -> int | None:
    """The index of the choice the URL names: the wizard's picks live in the URL, so a reload keeps them."""
    value = st.query_params.get(param)
    return choices.index(value) if value in choices else None


def to_url(param: str, value: str | None, *later: str) -> None:
    """Record a pick in the URL; a changed pick drops the later ones, which belonged to the old choice."""
    if st.query_params.get(param) != value:
        for name in later:
            st.query_params.pop(name, None)
    if value is None:
        st.query_params.pop(param, None)
    else:
        st.query_params[param] = value


names = {s.id: s.name for s in surveys}
survey_id = st.selectbox(
    "Survey", list(names), format_func=lambda sid: f"{names[sid]} ({sid})", index=from_url("survey", list(names)),
    placeholder=f"Search {len(names)} surveys by name or id", key="wizard_survey",
    help=wizard.COLLABORATOR_RULE,
)
left, right = st.columns([4, 1], vertical_alignment="center")
left.caption(wizard.COLLABORATOR_RULE)
if right.button("Refresh list", key="wizard_refresh", icon=":material/refresh:"):
    st.session_state["wizard_refresh_surveys"] = True
    st.rerun()
to_url("survey", survey_id, "question", "type")
if survey_id is None:
    st.stop()

try:
    with st.spinner("Reading the survey's questions…"):
        questions = wizard.questions(settings, survey_id)
except WorkspaceError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()
not_offered = wizard.skipped(settings, survey_id)
if not_offered:
    count = len(not_offered)
    with st.expander(f"{count} question{'s' if count != 1 else ''} of this survey cannot be "
                     f"{'metrics' if count != 1 else 'a metric'} — why",
                     icon=":material/block:"):
        st.dataframe(wizard.skipped_table(not_offered), hide_index=True, width="stretch", column_config={
            "question": st.column_config.TextColumn("Question"),
            "text": st.column_config.TextColumn("Text"),
            "reason": st.column_config.TextColumn("Why it is not offered"),
        })
if not questions:
    st.info("This survey has no rating questions that can become a metric (single-answer scales and matrix "
            "rows). Pick another survey.", icon=":material/info:")
    st.stop()

by_id = {q.id: q for q in questions}
question_id = st.selectbox("Question", list(by_id), format_func=lambda qid: wizard.question_label(by_id[qid]),
                           index=from_url("question", list(by_id)), placeholder="Choose the question to track",
                           key=f"wizard_question_{survey_id}")
to_url("question", question_id, "type")
if question_id is None:
    st.stop()
question = by_id[question_id]

offer = wizard.segment_choices(settings, survey_id)
segments: list[str] | None = None
if offer.fields:
    segments = st.multiselect(
        "Segments", offer.fields, default=offer.default, key=f"wizard_segments_{survey_id}",
        help="Embedded-data fields kept with every response, so journeys can be filtered by them "
             "(for example region or channel). They apply to every metric of this survey.")

type_names = list(wizard.METRIC_TYPES)
suggested = wizard.suggested_type_name(question)
chosen_type = st.query_params.get("type") if st.query_params.get("type") in type_names else suggested
type_name = st.segmented_control("Metric type", type_names, default=chosen_type,
                                 key=f"wizard_type_{survey_id}_{question_id}")
type_name = type_name or chosen_type
to_url("type", type_name)
st.caption(f"Scale {wizard.scale_text(question)}; suggested type: {suggested}.")
mismatch = wizard.type_warning(question, type_name)
if mismatch:
    st.warning(mismatch, icon=":material/warning:")
twins = wizard.duplicates(settings, survey_id, question_id, type_name)
if twins:
    st.warning(f"This question is already tracked as {type_name} by "
               + ", ".join(f"“{plain(m.title)}”" for m in twins)
               + ". A second metric would show the same score; open the existing one instead, or save anyway "
               "(for example to place it with another target).", icon=":material/content_copy:")
    for twin in twins:
        st.page_link(routes.METRIC, label=f"Open metric {twin.id}", query_params={"id": str(twin.id)})

st.markdown("**Map every answer to a sentiment**")
st.caption("Defaults follow the usual bands and exclude answers such as N/A or Don't know. "
           + ("For CSAT the score of an answer is its Qualtrics recode value; change it here if needed."
              if type_name == "CSAT" else "Scores are only used by CSAT."))
table = cards.mapping_editor(wizard.default_table(question, type_name), type_name,
                             key=f"wizard_mapping_{survey_id}_{question_id}_{type_name}", editable=True)

try:
    mapping = wizard.mapping_from_table(table, type_name)
except WorkspaceError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()

preview = wizard.preview(settings, survey_id, question_id, type_name, mapping)
if preview is None:
    st.caption("A preview of the score appears here once this question's answers have been synced.")
else:
    score_col, chart_col = st.columns([1, 2])
    score_col.metric(f"{type_name} preview", preview.display, help=preview.interval_display)
    score_col.caption(preview.n_display)
    chart_col.bar_chart(preview.sentiments, x="sentiment", y="count", height=160)

title = st.text_input("Title", value=wizard.title_for(question, type_name), key=f"wizard_title_{survey_id}_{question_id}_{type_name}")

if st.button("Sync data", type="primary", key="wizard_sync", icon=":material/sync:"):
    try:
        metric = wizard.create(settings, survey_id, question_id, type_name, title, mapping,
                               owner=person.email or person.name, step_id=step.step_id if step else None,
                               segments=segments)
    except WorkspaceError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
    with st.status("Syncing responses from Qualtrics…", expanded=True) as status:
        result = run_sync(settings, survey_id, lambda report: wizard.sync_now(settings, metric.id, report),
                          key="wizard_sync", by=person.email or person.name)
        if result is None:  # another sync of this survey runs (run_sync said so); this metric waits for the next
            status.update(label="The metric was saved; its answers come with the next sync of this survey",
                          state="complete")
            st.page_link(routes.METRIC, label="Open the metric", query_params={"id": str(metric.id)})
            st.stop()
        if result.ok:
            status.update(label=f"Synced {result.responses:,} responses", state="complete", expanded=False)
        else:
            status.update(label="Sync cancelled" if result.status == "cancelled" else "Sync failed", state="error")
    if result.ok:
        st.switch_page(routes.METRIC, query_params={"id": str(metric.id)})
    st.error(f"{result.message} The metric was saved and will sync again automatically; you can also press "
             "Sync data on its page.", icon=":material/error:")
    st.page_link(routes.METRIC, label="Open the metric", query_params={"id": str(metric.id)})
