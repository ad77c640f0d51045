"""Data Hub: responses pushed by Qualtrics Workflows, their open texts on the journey steps they concern.

Integration managers create the push key and see how to set up the Workflow; everybody sees the themes,
places comments on steps and sees what arrived. Comments are respondents' words: they are shown with
st.text / plain(), never rendered.
"""

from __future__ import annotations

import json

import streamlit as st

from ui import cards
from ui.frame import app_runtime, current_person
from ui.text import plain
from workspace import downloads, journey_view
from workspace.datahub import endpoint, insights, samples, store, worker
from workspace.datahub.mining import InsightKind, Theme

NEW_KEY = "datahub_new_key"  # this session's freshly created key, shown until dismissed
SAMPLE_RESULT = "datahub_sample_result"
KIND_BADGES = {InsightKind.GAIN: "blue", InsightKind.PAIN: "red", InsightKind.OBSERVATION: "gray"}
QUOTE_CHARS = 400       # of a comment quoted under a theme
EDITOR_CHARS = 300      # of a comment in the placement table
EDITOR_ROWS = 500
NO_STEP = "— no step —"

runtime = app_runtime()
settings = runtime.settings
person = current_person()


def comments(n: int) -> str:
    return f"{n:,} comment" if n == 1 else f"{n:,} comments"


st.title("Data Hub")
st.caption("Qualtrics Workflows push survey responses here; each open-text answer is placed on the journey "
           "step it concerns, read for sentiment and grouped into themes.")

summary = store.overview(settings)
if summary.unread:
    worker.notify(settings)  # after a restart, texts stored but not read yet
received, with_text, pushes, last = st.columns(4)
received.metric("Responses received", f"{summary.sources:,}")
with_text.metric("With open text", f"{summary.with_text:,}")
pushes.metric("Pushes (retries included)", f"{summary.deliveries:,}")
last.metric("Last received", cards.ago(summary.last_received))
if summary.unread:
    st.caption(f"Reading {comments(summary.unread)}: they join tones and themes within seconds; reload to see them.")

options = journey_view.journey_options(settings)
journey_id = None
if summary.sources and options:
    journey_id = st.selectbox("Journey", list(options), format_func=options.get, key="datahub_journey")


tab_names = ["Themes by step", "Place comments", "Received responses"] + (
    ["Set up Qualtrics"] if person.manages_integrations else [])
tabs = st.tabs(tab_names)


def empty_state() -> None:
    if person.manages_integrations:
        st.info("No responses have arrived yet. Create a Data Hub key under **Set up Qualtrics** and add a Web "
                "Service task to a Qualtrics Workflow, or press **Send sample responses** there to try it with "
                "the comments this app already has.", icon=":material/hub:")
    else:
        st.info("No responses have arrived yet. An integration manager sets up the Qualtrics Workflow that "
                "pushes them here.", icon=":material/hub:")


def excerpt(text: str, length: int, limit: int) -> str:
    return store.shown_text(text, length, limit) if len(text) > limit or length > len(text) else text


def theme_block(theme: Theme) -> None:
    with st.container(border=True):
        st.markdown(f":{KIND_BADGES[theme.kind]}-badge[{theme.kind.value}] **{plain(theme.label)}**")
        st.caption(f"{comments(theme.count)} · {theme.positive_share:.0%} positive · "
                   f"{theme.negative_share:.0%} negative")
        for example in theme.examples:
            st.text(f"“{excerpt(example, len(example), QUOTE_CHARS)}”")


def no_journey() -> None:
    st.info("Create a journey with steps in **Journeys**: comments are placed on the step their Step field "
            "names or their words concern.", icon=":material/route:")


def journey_chosen() -> bool:
    """Whether there is something to show per step; otherwise say what to do first."""
    if summary.sources == 0:
        empty_state()
    elif journey_id is None:
        no_journey()
    return bool(summary.sources) and journey_id is not None


placed = insights.placed_texts(settings, journey_id) if journey_id is not None else []

with tabs[0]:
    if journey_chosen():
        unassigned = [t for t in placed if t.step_id is None]
        if unassigned:
            st.info(f"{comments(len(unassigned))} concern no step of this journey by their words or Step field. "
                    "Place them under **Place comments**, or send the step's name as Step in the Workflow body.",
                    icon=":material/link_off:")
        for step in insights.journey_insights(settings, journey_id, placed):
            st.subheader(f"{plain(step.stage)} › {plain(step.step)}", anchor=False)
            if not step.count:
                waiting = f" ({comments(step.unread)} being read)" if step.unread else ""
                st.caption(f"No comments on this step yet{waiting}: send \"Step\": \"{plain(step.step)}\" in the "
                           "Workflow body, or place comments here under Place comments.")
                continue
            st.caption(f"{comments(step.count)} · {step.positive_share:.0%} positive · "
                       f"{step.negative_share:.0%} negative")
            columns = st.columns(2)
            for index, theme in enumerate(step.themes):
                with columns[index % 2]:
                    theme_block(theme)

with tabs[1]:
    if journey_chosen():
        labels = insights.step_labels(settings, journey_id)
        st.caption("Each comment sits on the step its Step field names, else the step its words concern, else "
                   "none. Choose another step and save: your choice is kept, also when more comments arrive.")
        frame = insights.placement_table(placed, labels, EDITOR_CHARS, NO_STEP, limit=EDITOR_ROWS)
        if len(placed) > len(frame):
            st.caption(f"Showing the {len(frame):,} newest of {comments(len(placed))}, unassigned ones first.")
        edited = st.data_editor(
            # Keyed by the rows shown: when new comments change the table, pending edits start afresh
            # instead of landing on other rows.
            frame, hide_index=True, width="stretch",
            key=f"datahub_places_{journey_id}_{hash(tuple(zip(frame['source_id'], frame['field'])))}",
            disabled=[c for c in frame.columns if c != "Step"],
            column_order=["Comment", "Step", "Placed by"],
            column_config={"Step": st.column_config.SelectboxColumn(
                "Step", options=[NO_STEP, *labels.values()], required=True)})
        if st.button("Save placements", type="primary"):
            changed = insights.save_placements(settings, journey_id, frame, edited, labels, NO_STEP,
                                               person.email or person.name)
            st.toast(f"{comments(changed)} placed." if changed else "Nothing changed.")
            if changed:
                st.rerun()

with tabs[2]:
    if summary.sources == 0:
        empty_state()
    else:
        latest = store.latest_sources(settings, limit=100)
        st.dataframe(latest, hide_index=True, width="stretch")
        st.download_button("Download received responses (CSV)", downloads.csv_bytes(latest),
                           file_name="data-hub-responses.csv", mime="text/csv")

if person.manages_integrations:
    with tabs[3]:
        url = endpoint.endpoint_url(settings)
        st.subheader("Data Hub key", anchor=False)
        new_key = st.session_state.get(NEW_KEY)
        if new_key:
            st.warning("Copy this key now: it is shown only once. Journey Pulse keeps only its fingerprint.",
                       icon=":material/key:")
            st.code(new_key, language=None)
            if st.button("I have copied the key"):
                del st.session_state[NEW_KEY]
                st.rerun()
        key = endpoint.active_key(settings)
        if key is None:
            st.caption("No key yet: the endpoint refuses every push until you create one.")
            if st.button("Create key", type="primary"):
                st.session_state[NEW_KEY] = endpoint.create_key(settings, person.email or person.name)
                st.rerun()
        else:
            st.caption(f"Active key {plain(key.hint)}… created by {plain(key.created_by or 'unknown')}, "
                       f"{cards.ago(key.created_at)}.")
            rotate, revoke = st.columns(2)
            if rotate.button("Rotate key", help="A new key replaces this one at once; update the Workflow task."):
                st.session_state[NEW_KEY] = endpoint.create_key(settings, person.email or person.name)
                st.rerun()
            if revoke.button("Revoke key", help="Pushes are refused until a new key is created."):
                endpoint.revoke_key(settings)
                st.session_state.pop(NEW_KEY, None)
                st.rerun()

        st.subheader("Qualtrics Workflow", anchor=False)
        st.markdown(
            "1. In Qualtrics, open the survey's project › **Workflows** › **Create a workflow** › *Started when "
            "an event is received* › **Survey response** (newly created responses).\n"
            "2. **Add task** › **Web Service**. Method **POST**, URL below, authentication by API key: add a "
            "header **X-API-KEY** with the key (or Basic authentication with the key as password).\n"
            "3. Body type **JSON**, with piped text as in the example. *Step* is optional: without it, each "
            "comment is placed on the step its words concern. Any other field (region, channel…) is kept as "
            "embedded data.\n"
            "4. Save and submit a test response: it appears under **Received responses**.")
        st.code(url, language=None)
        st.code(json.dumps(endpoint.WORKFLOW_BODY_EXAMPLE, indent=2), language="json")
        st.caption("Fields read as open text: " + plain(", ".join(store.text_fields(settings)))
                   + " and any field ending in \\_TEXT. Limits: 1 MB per push; an open text keeps its first "
                     "10,000 characters and its length. The endpoint answers in well under a second; a retried "
                     "push updates the same response instead of adding one.")
        with st.form("datahub_text_fields"):
            names = st.text_input("More open-text fields (comma-separated)",
                                  ", ".join(store.text_fields(settings)[1:]))
            if st.form_submit_button("Save open-text fields"):
                store.set_text_fields(settings, names.split(","))
                st.rerun()
        st.caption(f"From a shell: first put the key in a variable, `export {endpoint.KEY_VARIABLE}='jpdh_…'` "
                   "(the key shown once when you created or rotated it), then:")
        st.code(endpoint.curl_example(url), language="bash")

        st.subheader("Try it without Qualtrics", anchor=False)
        st.caption("Sends up to 100 comments this app already has (synced open-text answers, or the embedded "
                   "sandbox's) through the endpoint above, one POST each, as a Workflow would. They carry no "
                   "Step: each lands on the step its words concern, or stays unassigned.")
        key_for_samples = new_key or st.text_input("Data Hub key", type="password", key="datahub_sample_key")
        if st.button("Send sample responses", disabled=not key_for_samples):
            with st.spinner("Sending…"):
                st.session_state[SAMPLE_RESULT] = samples.send_samples(settings, key_for_samples, runtime.sandbox)
            st.rerun()
        run = st.session_state.pop(SAMPLE_RESULT, None)
        if run is not None and run.sent == 0:
            st.info("There are no comments to send yet: sync a metric of a survey with an open-text question first.")
        elif run is not None and run.failed:
            st.error(f"{run.stored + run.updated:,} of {run.sent:,} sent; {run.failed:,} refused. "
                     f"{plain(run.first_error or '')}", icon=":material/error:")
        elif run is not None:
            st.success(f"Sent {run.sent:,}: {run.stored:,} new, {run.updated:,} already here.")
else:
    st.caption("An integration manager connects Qualtrics Workflows to the Data Hub.")
