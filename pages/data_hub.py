"""Data Hub: responses pushed by Qualtrics Workflows, their open texts mined into themes per journey step.

Integration managers create the push key and see how to set up the Workflow; everybody sees the themes
and what arrived. Comments are respondents' words: they are shown with st.text / plain(), never rendered.
"""

from __future__ import annotations

import json

import streamlit as st

from ui import cards
from ui.frame import app_runtime, current_person
from ui.text import plain
from workspace import datahub, datahub_insights, datahub_samples, journey_view
from workspace.mining import InsightKind, Theme

NEW_KEY = "datahub_new_key"  # this session's freshly created key, shown until dismissed
SAMPLE_RESULT = "datahub_sample_result"
KIND_BADGES = {InsightKind.GAIN: "blue", InsightKind.PAIN: "red", InsightKind.OBSERVATION: "gray"}

runtime = app_runtime()
settings = runtime.settings
person = current_person()

st.title("Data Hub")
st.caption("Qualtrics Workflows push survey responses here; their open-text answers are grouped into themes "
           "and read for sentiment, step by step along your journeys.")

summary = datahub.overview(settings)
received, with_text, pushes, last = st.columns(4)
received.metric("Responses received", f"{summary.sources:,}")
with_text.metric("With open text", f"{summary.with_text:,}")
pushes.metric("Pushes (retries included)", f"{summary.deliveries:,}")
last.metric("Last received", cards.ago(summary.last_received))

tab_names = ["Themes by step", "Received responses"] + (["Set up Qualtrics"] if person.manages_integrations else [])
tabs = st.tabs(tab_names)


def empty_state() -> None:
    if person.manages_integrations:
        st.info("No responses have arrived yet. Create a Data Hub key under **Set up Qualtrics** and add a Web "
                "Service task to a Qualtrics Workflow, or press **Send sample responses** there to try it with "
                "the comments this app already has.", icon=":material/hub:")
    else:
        st.info("No responses have arrived yet. An integration manager sets up the Qualtrics Workflow that "
                "pushes them here.", icon=":material/hub:")


def theme_block(theme: Theme) -> None:
    with st.container(border=True):
        st.markdown(f":{KIND_BADGES[theme.kind]}-badge[{theme.kind.value}] **{plain(theme.label)}**")
        st.caption(f"{theme.count:,} comments · {theme.positive_share:.0%} positive · "
                   f"{theme.negative_share:.0%} negative")
        for example in theme.examples:
            st.text(f"“{example}”")


with tabs[0]:
    options = journey_view.journey_options(settings)
    if summary.sources == 0:
        empty_state()
    elif not options:
        st.info("Create a journey with steps in **Journeys**: themes show on the steps that responses name "
                "(their Step field) or where their survey's metrics sit.", icon=":material/route:")
    else:
        journey_id = st.selectbox("Journey", list(options), format_func=options.get, key="datahub_journey")
        unlinked = datahub_insights.unlinked_sources(settings)
        if unlinked:
            st.info(f"{unlinked:,} responses with open text are on no journey step yet. Send the step's name "
                    "as Step in the Workflow body, or place a metric of their survey on a step.",
                    icon=":material/link_off:")
        for step in datahub_insights.journey_insights(settings, journey_id):
            st.subheader(f"{plain(step.stage)} › {plain(step.step)}", anchor=False)
            if not step.count:
                st.caption(f"No comments on this step yet: send \"Step\": \"{plain(step.step)}\" in the Workflow "
                           "body, or place a metric of the pushing survey here.")
                continue
            st.caption(f"{step.count:,} comments · {step.positive_share:.0%} positive · "
                       f"{step.negative_share:.0%} negative")
            columns = st.columns(2)
            for index, theme in enumerate(step.themes):
                with columns[index % 2]:
                    theme_block(theme)

with tabs[1]:
    if summary.sources == 0:
        empty_state()
    else:
        st.dataframe(datahub.latest_sources(settings, limit=100), hide_index=True, width="stretch")

if person.manages_integrations:
    with tabs[2]:
        url = datahub.endpoint_url(settings)
        st.subheader("Data Hub key", anchor=False)
        new_key = st.session_state.get(NEW_KEY)
        if new_key:
            st.warning("Copy this key now: it is shown only once. Journey Pulse keeps only its fingerprint.",
                       icon=":material/key:")
            st.code(new_key, language=None)
            if st.button("I have copied the key"):
                del st.session_state[NEW_KEY]
                st.rerun()
        key = datahub.active_key(settings)
        if key is None:
            st.caption("No key yet: the endpoint refuses every push until you create one.")
            if st.button("Create key", type="primary"):
                st.session_state[NEW_KEY] = datahub.create_key(settings, person.email or person.name)
                st.rerun()
        else:
            st.caption(f"Active key {plain(key.hint)}… created by {plain(key.created_by or 'unknown')}, "
                       f"{cards.ago(key.created_at)}.")
            rotate, revoke = st.columns(2)
            if rotate.button("Rotate key", help="A new key replaces this one at once; update the Workflow task."):
                st.session_state[NEW_KEY] = datahub.create_key(settings, person.email or person.name)
                st.rerun()
            if revoke.button("Revoke key", help="Pushes are refused until a new key is created."):
                datahub.revoke_key(settings)
                st.session_state.pop(NEW_KEY, None)
                st.rerun()

        st.subheader("Qualtrics Workflow", anchor=False)
        st.markdown(
            "1. In Qualtrics, open the survey's project › **Workflows** › **Create a workflow** › *Started when "
            "an event is received* › **Survey response** (newly created responses).\n"
            "2. **Add task** › **Web Service**. Method **POST**, URL below, authentication by API key: add a "
            "header **X-API-KEY** with the key (or Basic authentication with the key as password).\n"
            "3. Body type **JSON**, with piped text as in the example. *Step* is optional: without it, comments "
            "show on the steps where the survey's metrics sit. Any other field (region, channel…) is kept as "
            "embedded data.\n"
            "4. Save and submit a test response: it appears under **Received responses**.")
        st.code(url, language=None)
        st.code(json.dumps(datahub.WORKFLOW_BODY_EXAMPLE, indent=2), language="json")
        st.caption("Fields read as open text: " + plain(", ".join(datahub.text_fields(settings)))
                   + " and any field ending in \\_TEXT. The endpoint answers in well under a second; a retried "
                     "push updates the same response instead of adding one.")
        with st.form("datahub_text_fields"):
            names = st.text_input("More open-text fields (comma-separated)",
                                  ", ".join(datahub.text_fields(settings)[len(datahub.DEFAULT_TEXT_FIELDS):]))
            if st.form_submit_button("Save open-text fields"):
                datahub.set_text_fields(settings, names.split(","))
                st.rerun()
        st.caption("From a shell:")
        st.code(datahub.curl_example(url), language="bash")

        st.subheader("Try it without Qualtrics", anchor=False)
        st.caption("Sends up to 100 comments this app already has (synced open-text answers, or the embedded "
                   "sandbox's) through the endpoint above, one POST each, as a Workflow would.")
        key_for_samples = new_key or st.text_input("Data Hub key", type="password", key="datahub_sample_key")
        if st.button("Send sample responses", disabled=not key_for_samples):
            with st.spinner("Sending…"):
                st.session_state[SAMPLE_RESULT] = datahub_samples.send_samples(settings, key_for_samples,
                                                                               runtime.sandbox)
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
