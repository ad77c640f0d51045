"""Settings › Integrations: connect Qualtrics (Enable → Authorize → Approve → Active)."""

from __future__ import annotations

import streamlit as st

from ui import cards
from ui.frame import app_runtime, current_person
from ui.redirect import same_tab_redirect
from workspace import connection
from workspace.connection import AuthorizationOutcome
from workspace.errors import WorkspaceError

settings = app_runtime().settings
person = current_person()

st.title("Integrations")

st.subheader("Data integrations")
status = connection.integration_status(settings)
# The authorize button this person sees now, so that every sentence names a button that is on the card.
authorize_button = status.authorize_button if person.manages_integrations else None

# The OAuth callback route sends the browser here with only an outcome flag; show it once.
outcome_flag = st.query_params.get("oauth")
if outcome_flag:
    try:
        outcome = AuthorizationOutcome(outcome_flag)
    except ValueError:
        outcome = AuthorizationOutcome.FAILED
    if outcome == AuthorizationOutcome.CONNECTED:
        st.toast(outcome.message(), icon=":material/check_circle:")
    else:
        st.session_state["integrations_notice"] = outcome.message(authorize_button)
    del st.query_params["oauth"]

if notice := st.session_state.pop("integrations_notice", None):
    st.error(notice, icon=":material/error:")
if done := st.session_state.pop("integrations_done", None):
    st.success(done, icon=":material/check_circle:")

with st.container(border=True):
    head, badge = st.columns([5, 1], vertical_alignment="center")
    head.markdown("#### Qualtrics")
    with badge:
        cards.status_badge(status.status.value)
    st.caption("CSAT, CES and NPS from your Qualtrics surveys, kept up to date automatically. " + status.summary)
    cards.integration_details(status, can_act=person.manages_integrations)

    if not person.manages_integrations:
        st.info("Only integration managers can enable, authorize or disconnect Qualtrics. "
                "Ask one of them if something here needs to change.", icon=":material/lock:")
    else:
        actions = st.container(horizontal=True)
        if "Enable" in status.actions and actions.button("Enable", type="primary", key="enable"):
            connection.enable(settings, by=person.email or person.name)
            st.rerun()
        for label in ("Authorize", "Reauthorize"):
            if label in status.actions and actions.button(label, type="primary", key=label.lower()):
                try:
                    url = connection.begin_authorization(settings, started_by=person.email or person.name)
                except WorkspaceError as exc:
                    st.error(str(exc))
                else:
                    same_tab_redirect(url, "Continue to Qualtrics to approve access")
        if "Disconnect" in status.actions and actions.button("Disconnect", key="disconnect"):
            st.session_state["confirm_disconnect"] = True

        if st.session_state.get("confirm_disconnect"):
            with st.container(border=True):
                st.warning("Disconnect Qualtrics? Stored tokens are deleted and metrics stop updating until "
                           "someone authorizes again. Synced answers and scores stay.")
                yes, no = st.columns(2)
                if yes.button("Disconnect Qualtrics", type="primary", key="confirm_disconnect_yes"):
                    connection.disconnect(settings)
                    st.session_state.pop("confirm_disconnect", None)
                    st.session_state["integrations_done"] = (
                        "Qualtrics is disconnected: the stored tokens are deleted. Synced answers and scores "
                        "stay; click Authorize to connect again.")
                    st.rerun()
                if no.button("Keep connected", key="confirm_disconnect_no"):
                    st.session_state.pop("confirm_disconnect", None)
                    st.rerun()

with st.expander("How the connection works"):
    st.markdown(
        f"""
- **Authorize** opens Qualtrics' consent page in this tab; after **Approve** Qualtrics sends you back here.
  Register this redirect URI with your Qualtrics OAuth client: `{settings.redirect_uri}`.
- The surveys you can pick are the ones the connecting account can see. If a survey is missing, invite the
  person who connected the integration as a collaborator on that Qualtrics project.
- Tokens are stored encrypted and never shown. Metrics sync every {settings.sync_interval // 60} minutes.
"""
    )
