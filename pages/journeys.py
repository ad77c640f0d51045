"""Journeys: stages and steps in order, a metrics lane under the steps, charts across steps and time.

The URL carries the journey, the date range and the segment filters, so a view can be shared.
"""

from __future__ import annotations

import datetime as dt
import time

import streamlit as st

from ui import cards, charts, routes
from ui.frame import app_runtime, current_person
from ui.actions import act
from ui.text import plain
from workspace import journeys, journey_view, scores
from workspace.errors import WorkspaceError

settings = app_runtime().settings
person = current_person()

head, action = st.columns([4, 1], vertical_alignment="bottom")
head.title("Journeys")

FLASH, UNDO, CONFIRM = "journeys_flash", "journeys_undo", "journeys_confirm"
UNDO_SECONDS = 60


def create_journey() -> None:
    """The form's callback: runs before the page, so the new journey is picked, named in the URL and the
    popover closed in the very run that shows it."""
    try:
        created = journey_view.create_with_stages(settings, st.session_state["new_journey_name"],
                                                  st.session_state["new_journey_stages"], owner=person.email)
    except WorkspaceError as exc:
        st.session_state["new_journey_error"] = str(exc)
        return
    st.session_state.pop("new_journey_error", None)
    st.session_state["journey_pick"] = created.id
    st.session_state["new_journey_popover"] = False
    st.query_params["journey"] = str(created.id)
    st.session_state[FLASH] = f"Journey “{plain(created.name)}” created. Add its stages and steps under Edit journey."


if person.edits_journeys:
    with action.popover("New journey", icon=":material/add:", key="new_journey_popover", on_change="rerun"):
        with st.form("new_journey", clear_on_submit=True, border=False):
            st.text_input("Name", placeholder="e.g. Onboarding", key="new_journey_name")
            st.text_input("Stages (optional, comma separated)", placeholder="Discover, Sign up, Use",
                          key="new_journey_stages")
            st.form_submit_button("Create journey", type="primary", on_click=create_journey)
        if st.session_state.get("new_journey_error"):
            st.error(st.session_state["new_journey_error"], icon=":material/error:")

if st.session_state.get(FLASH):
    st.success(st.session_state.pop(FLASH), icon=":material/check_circle:")

options = journey_view.journey_options(settings)
if not options:
    st.info("No journeys yet. A journey lays out the stages and steps your customers go through; metrics placed "
            "on its steps show how each step feels. "
            + ("Press **New journey** to create one." if person.edits_journeys else "Ask an editor to create one."),
            icon=":material/route:")
    st.stop()

requested = st.query_params.get("journey", "")
if requested.isdigit() and int(requested) in options:
    st.session_state["journey_pick"] = int(requested)      # a shared URL names the journey
elif st.session_state.get("journey_pick") not in options:
    st.session_state["journey_pick"] = next(iter(options))


def journey_picked() -> None:
    st.query_params["journey"] = str(st.session_state["journey_pick"])


# The picker and the filters share one row, so the lane starts high enough to be seen at 1280×720.
filters_row = st.container(horizontal=True, vertical_alignment="bottom")
with filters_row:
    journey_id = st.selectbox("Journey", list(options), format_func=options.get, key="journey_pick",
                              on_change=journey_picked, width=280)
st.query_params["journey"] = str(journey_id)
journey = journeys.get_journey(settings, journey_id)

# --- filters (kept in the URL) ---------------------------------------------------------------------
flt_state = journey_view.filter_from_query(st.query_params.to_dict())
segment_options = journey_view.segment_options(settings, journey)
with filters_row:
    today = dt.date.today()
    chosen = st.date_input("Date range", value=(flt_state.start or today - dt.timedelta(days=182), flt_state.end or today),
                           max_value=today, key=f"range_{journey_id}", width=260)
    picks: dict[str, list[str]] = {}
    for field, values in segment_options.items():
        picks[field] = st.multiselect(field.capitalize(), values, default=[v for v in flt_state.segments.get(field, [])
                                                                           if v in values],
                                      key=f"segment_{journey_id}_{field}", width=220)
if journey.description:
    st.caption(plain(journey.description))
flt = journey_view.build_filter(chosen, picks)
st.query_params.update(journey_view.filter_to_query(flt))

# --- steps and the metrics lane --------------------------------------------------------------------
if not journey.stages:
    st.info("This journey has no stages yet. " + ("Add stages and steps under **Edit journey** below."
                                                   if person.edits_journeys else ""), icon=":material/view_column:")
else:
    lane = scores.journey_lane(settings, journey.id, flt)
    st.html(cards.lane_html([(stage.name, [(step.id, step.name, lane.get(step.id, [])) for step in stage.steps])
                             for stage in journey.stages], can_add=person.edits_metrics))
    st.caption("Each card opens its metric. The word on a card is the sentiment of its score; a target, when set, "
               "is its own mark. Scroll sideways when the stages do not fit.")

    table = scores.journey_scores(settings, journey.id, flt)
    if not table.empty:
        st.subheader("Scores across steps")
        st.caption("Dots are scores, whiskers their 95% intervals. Use a chart's camera icon to download it as PNG.")
        for metric_type in journey_view.types_in(table):
            st.plotly_chart(charts.steps(table, metric_type), key=f"steps_{metric_type}")
        period = st.segmented_control("Trends by", ["week", "month"], default="week", key="journey_period") or "week"
        for metric_type, frames in journey_view.step_trends(settings, journey, table, period, flt).items():
            st.plotly_chart(charts.step_trends(frames, metric_type), key=f"trends_{metric_type}")
        st.download_button("Download scorecard (CSV)", journey_view.scorecard_csv(table, flt),
                           file_name=journey_view.scorecard_name(journey), mime="text/csv", key="scorecard",
                           icon=":material/download:")

# --- editing ---------------------------------------------------------------------------------------


def typed_name(column, label: str, key: str, stored: str, **kwargs) -> str | None:
    """A name field of the edit panel: the new name when the user typed one here, else None.

    A keyed text input keeps what this session last showed, so comparing it with the stored name alone would
    take a rename made elsewhere (another tab, another app server) for an edit here and rename it back. The
    field remembers the name it was drawn from: unchanged since then, it follows the store instead.
    """
    drawn_key = f"{key}__drawn"
    if key not in st.session_state or st.session_state[key] == st.session_state.get(drawn_key):
        st.session_state[key] = stored
    st.session_state[drawn_key] = stored
    typed = column.text_input(label, key=key, **kwargs)
    return typed if typed != stored else None


def ask_to_delete(kind: str, name: str, placements: int, steps: int, delete) -> None:
    """Ask before a stage or step goes (a stale click must not delete), then offer Undo for a minute."""
    parts = ([f"its {steps} step{'s' if steps != 1 else ''}"] if steps else []) + \
        ([f"{placements} metric placement{'s' if placements != 1 else ''}"] if placements else [])
    with st.container(border=True):
        st.warning(f"Delete the {kind} “{plain(name)}”" + (f" with {' and '.join(parts)}" if parts else "")
                   + "? The metrics themselves stay in the library.", icon=":material/warning:")
        yes, no = st.columns(2)
        if yes.button(f"Delete {kind}", type="primary", key=f"confirm_delete_{kind}"):
            st.session_state.pop(CONFIRM, None)
            try:
                deleted = delete()
            except WorkspaceError as exc:
                st.error(str(exc), icon=":material/error:")
                return
            st.session_state[UNDO] = {"deleted": deleted, "at": time.monotonic(),
                                      "message": f"Deleted the {kind} “{plain(name)}”."}
            st.rerun()
        if no.button("Keep it", key=f"cancel_delete_{kind}"):
            st.session_state.pop(CONFIRM, None)
            st.rerun()


if person.edits_journeys:
    # A key keeps the panel open when a chart appears above it (the element would otherwise be new).
    with st.expander("Edit journey", icon=":material/edit:", key=f"edit_journey_{journey.id}", on_change="rerun"):
        with st.form(f"rename_{journey.id}", border=False):
            new_name = st.text_input("Journey name", value=journey.name)
            description = st.text_input("Description", value=journey.description)
            if st.form_submit_button("Save"):
                act(journeys.update_journey, settings, journey.id, name=new_name, description=description)
        st.divider()
        undo = st.session_state.get(UNDO)
        if undo and time.monotonic() - undo["at"] < UNDO_SECONDS:
            note, button = st.columns([4, 1], vertical_alignment="center")
            note.success(undo["message"], icon=":material/delete:")
            if button.button("Undo", key="undo_delete", icon=":material/undo:"):
                st.session_state.pop(UNDO, None)
                act(journeys.restore, settings, undo["deleted"])
        confirm = st.session_state.get(CONFIRM)
        last_stage = len(journey.stages) - 1
        for stage in journey.stages:
            cols = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
            renamed = typed_name(cols[0], "Stage", f"stage_name_{stage.id}", stage.name)
            if renamed is not None:
                act(journeys.rename_stage, settings, stage.id, renamed)
            if cols[1].button("◀", key=f"stage_left_{stage.id}", help="Move stage left", disabled=stage.position == 0):
                act(journeys.move_stage, settings, stage.id, stage.position - 1)
            if cols[2].button("▶", key=f"stage_right_{stage.id}", help="Move stage right",
                              disabled=stage.position >= last_stage):
                act(journeys.move_stage, settings, stage.id, stage.position + 1)
            if cols[3].button("Delete", key=f"stage_delete_{stage.id}"):
                st.session_state[CONFIRM] = ("stage", stage.id)
                st.rerun()
            if confirm == ("stage", stage.id):
                ask_to_delete("stage", stage.name, sum(len(step.metric_ids) for step in stage.steps),
                              len(stage.steps), lambda stage_id=stage.id: journeys.delete_stage(settings, stage_id))
            for step in stage.steps:
                row = st.columns([0.3, 2.7, 1, 1, 1], vertical_alignment="bottom")
                renamed_step = typed_name(row[1], "Step", f"step_name_{step.id}", step.name,
                                          label_visibility="collapsed")
                if renamed_step is not None:
                    act(journeys.rename_step, settings, step.id, renamed_step)
                if row[2].button("▲", key=f"step_up_{step.id}", help="Move step earlier", disabled=step.position == 0):
                    act(journeys.move_step, settings, step.id, step.position - 1)
                if row[3].button("▼", key=f"step_down_{step.id}", help="Move step later",
                                 disabled=step.position >= len(stage.steps) - 1):
                    act(journeys.move_step, settings, step.id, step.position + 1)
                if row[4].button("Delete", key=f"step_delete_{step.id}"):
                    st.session_state[CONFIRM] = ("step", step.id)
                    st.rerun()
                if confirm == ("step", step.id):
                    ask_to_delete("step", step.name, len(step.metric_ids), 0,
                                  lambda step_id=step.id: journeys.delete_step(settings, step_id))
            with st.form(f"add_step_{stage.id}", clear_on_submit=True, border=False):
                step_cols = st.columns([3, 1], vertical_alignment="bottom")
                step_name = step_cols[0].text_input("New step", key=f"new_step_{stage.id}",
                                                    placeholder=f"Add a step to {stage.name}")
                if step_cols[1].form_submit_button("Add step"):
                    act(journeys.add_step, settings, stage.id, step_name)
            st.divider()
        with st.form(f"add_stage_{journey.id}", clear_on_submit=True, border=False):
            stage_cols = st.columns([3, 1], vertical_alignment="bottom")
            stage_name = stage_cols[0].text_input("New stage", placeholder="e.g. Billing")
            if stage_cols[1].form_submit_button("Add stage"):
                act(journeys.add_stage, settings, journey.id, stage_name)

        st.markdown("**Metrics on steps**")
        placement = journey_view.placement_choices(settings, journey)
        if placement.steps and placement.metrics:
            with st.form(f"place_{journey.id}", clear_on_submit=True, border=False):
                cols = st.columns([2, 2, 1], vertical_alignment="bottom")
                metric_id = cols[0].selectbox("Metric", list(placement.metrics), format_func=placement.metrics.get)
                step_id = cols[1].selectbox("Step", list(placement.steps), format_func=placement.steps.get)
                if cols[2].form_submit_button("Place metric"):
                    act(journeys.place_metric, settings, metric_id, step_id)
        for step_id, metric_id, label in placement.placed:
            cols = st.columns([4, 1], vertical_alignment="center")
            cols[0].text(label)
            if cols[1].button("Remove", key=f"unplace_{step_id}_{metric_id}"):
                act(journeys.remove_metric, settings, metric_id, step_id)
        if st.button("Delete this journey", key=f"delete_journey_{journey.id}"):
            st.session_state["confirm_delete_journey"] = journey.id
        if st.session_state.get("confirm_delete_journey") == journey.id:
            st.warning("Delete the journey with its stages and steps? Metrics stay in the library.")
            if st.button("Delete journey for good", type="primary", key="delete_journey_yes"):
                st.session_state.pop("confirm_delete_journey", None)
                del st.query_params["journey"]
                act(journeys.delete_journey, settings, journey.id)
