"""One metric: score, distribution, trend, change, target, mapping, the answers behind it, freshness."""

from __future__ import annotations

import streamlit as st

from ui import cards, charts, routes
from ui.actions import run_sync
from ui.frame import app_runtime, current_person
from ui.text import plain
from workspace import journeys, metrics, scores, views, wizard
from workspace.errors import WorkspaceError

settings = app_runtime().settings
person = current_person()

metric_id = st.query_params.get("id", "")
if not metric_id.isdigit():
    st.info("Choose a metric in the Metrics Library.", icon=":material/monitoring:")
    st.page_link(routes.METRICS_LIBRARY, label="Open the Metrics Library")
    st.stop()
try:
    detail = scores.metric_detail(settings, int(metric_id))
except WorkspaceError as exc:
    st.warning(str(exc), icon=":material/warning:")
    st.page_link(routes.METRICS_LIBRARY, label="Back to the Metrics Library")
    st.stop()
metric, card = detail.metric, detail.card

st.page_link(routes.METRICS_LIBRARY, label="Metrics Library", icon=":material/arrow_back:")
st.title(plain(metric.title), anchor=False)
st.caption(f"{card.type_name} · survey {plain(detail.survey_name or metric.survey_id)} · question {metric.question_id}")
if detail.question_text:
    st.text(detail.question_text)

left, right = st.columns([1, 2])
with left:
    cards.metric_card(card, key="detail", link=False)
    change = views.latest_change(settings, metric.id, period="week")
    if change:
        st.caption(f"This week: {change}.")
    if metric.type == "csat" and card.score.satisfied_pct is not None:
        st.caption(f"{card.score.satisfied_pct:.1f}% satisfied (share of respondents answering positively); "
                   "the CSAT score above is the mean.")
with right:
    st.plotly_chart(charts.sentiments(detail.sentiments), key="sentiments")
    st.caption("Shares are of the answers that count (Positive, Neutral, Negative); Excluded answers such as N/A "
               "are left out of the percentages and shown with their count.")
    period = st.segmented_control("Trend by", ["day", "week", "month"], default="week", key="trend_period")
    st.plotly_chart(charts.trend(scores.trend(settings, metric.id, period=period or "week"), metric.type,
                                 target=metric.target,
                                 target_label=views.target_text(card) if metric.target is not None else ""),
                    key="trend")

fresh = views.freshness(settings, metric)
sync_col, info_col = st.columns([1, 3], vertical_alignment="center")
info_col.caption(f"Last sync {cards.ago(fresh.last_sync)} · next automatic sync "
                 f"{'after the first sync' if fresh.next_sync is None else 'at ' + fresh.next_sync[:16].replace('T', ' ') + ' UTC'}")
if fresh.last_error:
    st.error(f"Last sync failed: {fresh.last_error}", icon=":material/error:")
if person.edits_metrics and sync_col.button("Sync data", key="metric_sync", icon=":material/sync:"):
    result = run_sync(settings, metric.survey_id, lambda report: wizard.sync_now(settings, metric.id, report),
                      key="metric_sync", by=person.email or person.name)
    if result is not None and result.ok:
        st.toast(f"Synced {result.responses:,} new responses.", icon=":material/check_circle:")
        st.rerun()
    if result is not None:
        (st.warning if result.status == "cancelled" else st.error)(result.message, icon=":material/error:")

tab_answers, tab_mapping, tab_settings = st.tabs(["Answers behind the score", "Sentiment mapping", "Target and placement"])

with tab_answers:
    st.caption("Every stored answer, newest first, with the sentiment it maps to. Only Positive, Neutral and "
               "Negative answers count as respondents. The table shows the newest 500; the download has them all.")
    st.dataframe(views.answers_table(settings, metric), hide_index=True, key="answers", width="stretch",
                 column_config={"response_id": st.column_config.TextColumn("Response"),
                                "recorded_date": st.column_config.DatetimeColumn("Recorded (UTC)",
                                                                                 format="D MMM YYYY, HH:mm"),
                                "value": st.column_config.TextColumn("Value"),
                                "label": st.column_config.TextColumn("Answer"),
                                "sentiment": st.column_config.TextColumn("Sentiment"),
                                "counted": st.column_config.CheckboxColumn("Counted"),
                                "finished": st.column_config.CheckboxColumn("Finished")})
    st.download_button("Download all answers (CSV)", lambda: views.answers_csv(settings, metric),
                       file_name=views.answers_file_name(metric), mime="text/csv", key="answers_csv",
                       icon=":material/download:", on_click="ignore")

with tab_mapping:
    st.caption("Change a sentiment" + (" or a CSAT score" if metric.type_name == "CSAT" else "")
               + " and save: the score is recomputed at once from the stored answers, without a new sync.")
    if st.session_state.pop("mapping_saved", None):
        st.success(st.session_state.pop("mapping_message", "Mapping saved."), icon=":material/check_circle:")
    edited = cards.mapping_editor(views.mapping_table(metric), metric.type_name,
                                  key=f"mapping_{metric.id}_{metric.updated_at}", editable=person.edits_metrics)
    if person.edits_metrics:
        save_col, reset_col = st.columns([1, 3])
        chosen = None
        if save_col.button("Save mapping", key="save_mapping", type="primary"):
            chosen = edited, "Mapping saved: the score above is recomputed from the stored answers."
        if reset_col.button("Reset to defaults", key="reset_mapping", icon=":material/restart_alt:",
                            help="The mapping a new metric of this question and type gets"):
            try:
                chosen = views.default_mapping_table(settings, metric), "Mapping reset to the defaults and saved."
            except WorkspaceError as exc:
                st.error(str(exc), icon=":material/error:")
        if chosen is not None:
            try:
                views.save_mapping(settings, metric, chosen[0])
            except WorkspaceError as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                st.session_state["mapping_saved"], st.session_state["mapping_message"] = True, chosen[1]
                st.rerun()

with tab_settings:
    placed = ", ".join(f"{p.journey_name} › {p.step_name}" for p in detail.placements) or "not on any journey yet"
    st.markdown(f"**On journeys:** {plain(placed)}")
    if person.edits_metrics:
        with st.form("target_form"):
            target = st.number_input("Target", value=metric.target, placeholder="No target", key="target")
            direction = st.radio("Better is", ["higher", "lower"], horizontal=True,
                                 index=0 if metric.direction == "higher" else 1, key="direction")
            title = st.text_input("Title", value=metric.title, key="title")
            if st.form_submit_button("Save"):
                try:
                    metrics.update_metric(settings, metric.id, title=title, target=target, direction=direction)
                except WorkspaceError as exc:
                    st.error(str(exc))
                else:
                    st.rerun()
        steps = views.step_options(settings)
        if steps:
            step_id = st.selectbox("Place on a journey step", list(steps), format_func=steps.get, index=None,
                                   key="place_step")
            if step_id is not None and st.button("Place on step", key="place"):
                journeys.place_metric(settings, metric.id, step_id)
                st.rerun()
        if st.button("Delete metric", key="delete"):
            st.session_state["confirm_delete"] = metric.id
        if st.session_state.get("confirm_delete") == metric.id:
            st.warning("Delete this metric and take it off every journey? Its stored answers stay for other "
                       "metrics on the same question.")
            if st.button("Delete for good", type="primary", key="delete_yes"):
                metrics.delete_metric(settings, metric.id)
                st.session_state.pop("confirm_delete", None)
                st.switch_page(routes.METRICS_LIBRARY)
