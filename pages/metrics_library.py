"""Metrics Library: every metric with its score, n, interval, trend, last sync and status."""

from __future__ import annotations

import streamlit as st

from ui import cards, routes
from ui.frame import app_runtime, current_person
from workspace import scores, views

settings = app_runtime().settings
person = current_person()

title, action = st.columns([4, 1], vertical_alignment="bottom")
title.title("Metrics Library")
if person.edits_metrics and action.button("+ Metric", type="primary", key="add_metric"):
    st.switch_page(routes.NEW_METRIC)

table = views.library(settings)
if table.empty:
    st.info("No metrics yet. A metric follows one Qualtrics question as CSAT, CES or NPS. "
            + ("Press **+ Metric** to create the first one." if person.edits_metrics
               else "Ask an editor to add one."), icon=":material/monitoring:")
    st.stop()

search, kinds, status = st.columns([3, 2, 2])
query = search.text_input("Search", placeholder="Title, survey or question", key="library_search")
chosen_types = kinds.multiselect("Type", ["NPS", "CSAT", "CES"], key="library_types")
chosen_status = status.multiselect("Status", sorted(table["status"].unique()), key="library_status")

shown = table
if query:
    needle = query.strip().lower()
    shown = shown[shown[["title", "survey", "question"]].apply(
        lambda row: any(needle in str(v).lower() for v in row), axis=1)]
if chosen_types:
    shown = shown[shown["type"].isin(chosen_types)]
if chosen_status:
    shown = shown[shown["status"].isin(chosen_status)]

view = st.segmented_control("View", ["Cards", "Table"], default="Cards", key="library_view")
if view == "Table":
    picked = st.dataframe(
        shown.assign(last_sync=shown["last_sync"].map(cards.ago)), hide_index=True, key="library_table",
        width="stretch", on_select="rerun", selection_mode="single-row",
        column_order=["title", "type", "survey", "question", "score", "n", "interval", "trend", "last_sync", "status",
                      "low_confidence"],
        column_config={
            "title": st.column_config.TextColumn("Title", width="medium"),
            "type": st.column_config.TextColumn("Type", width="small"),
            "survey": st.column_config.TextColumn("Survey", width="medium"),
            "question": st.column_config.TextColumn("Question", width="small"),
            "score": st.column_config.TextColumn("Score", width="small"),
            "n": st.column_config.NumberColumn("n", format="%d", width="small"),
            "interval": st.column_config.TextColumn("95% interval"),
            "trend": st.column_config.LineChartColumn("Trend (weekly)", width="small"),
            "last_sync": st.column_config.TextColumn("Last sync", width="small"),
            "status": st.column_config.TextColumn("Status", width="small"),
            "low_confidence": st.column_config.CheckboxColumn("Low confidence", width="small"),
        },
    )
    st.caption("Select a row to open its metric.")
    rows = picked.selection.rows if picked is not None else []
    if rows:
        st.switch_page(routes.METRIC, query_params={"id": str(int(shown.iloc[rows[0]]["id"]))})
else:
    metric_cards = {c.metric_id: c for c in scores.metric_cards(settings, list(shown["id"]))}
    columns = st.columns(3)
    for i, metric_id in enumerate(shown["id"]):
        with columns[i % 3]:
            cards.metric_card(metric_cards[metric_id], key=f"library_{metric_id}")
if shown.empty:
    st.caption("No metric matches these filters.")
