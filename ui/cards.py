"""Cards: the integration card's parts and the metric card (title, type, score, n, interval).

Colours follow the sentiment palette of .streamlit/config.toml (Okabe-Ito: blue positive, amber
neutral, vermillion negative), always with a word beside them so colour is never the only signal.
"""

from __future__ import annotations

import datetime as dt
import html

import streamlit as st

from ui import routes

from ui.text import plain
from workspace.connection import IntegrationStatus
from workspace.scores import MetricCard

BADGE_COLOURS = {"Active": "green", "Inactive": "gray", "Error": "red"}
TONE_COLOURS = {"Positive": "blue", "Neutral": "orange", "Negative": "red", "No score": "gray"}

# Score bands used to colour a card when the metric has no target. NPS above 30 and CSAT/CES with
# three in four respondents positive are commonly read as good; below zero / one in two as poor.
_GOOD_SHARE, _POOR_SHARE = 75.0, 50.0
_GOOD_NPS, _POOR_NPS = 30.0, 0.0


def status_badge(status: str) -> None:
    st.badge(status, color=BADGE_COLOURS.get(status, "gray"))


def ago(timestamp: str | None) -> str:
    """"3 min ago" for an ISO timestamp; "never" for None."""
    if not timestamp:
        return "never"
    try:
        when = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    seconds = (dt.datetime.now(dt.timezone.utc) - when).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return when.strftime("%d %b %Y")


def integration_details(status: IntegrationStatus, can_act: bool = True) -> None:
    """The card's facts, only those true in its state: the account, data center and permissions only while
    a grant is stored (never after Disconnect); "Connected by" only when connected, else "Enabled by"."""
    rows = [("Qualtrics", "Embedded Qualtrics sandbox" if status.is_sandbox else (status.base_url or "not set"))]
    if status.connected:
        if status.account:
            rows.append(("Account", status.account))
        if status.data_center:
            rows.append(("Data center", status.data_center))
    if status.created_by and status.enabled:
        rows.append(("Connected by" if status.connected else "Enabled by", status.created_by))
    rows.append(("Last successful sync", ago(status.last_successful_sync)))
    for name, value in rows:
        label, text = st.columns([1, 3])
        label.caption(name)
        text.text(value)
    if status.uses_api_token:
        st.info("An API token from the environment (QUALTRICS_API_TOKEN) is used for syncing; it takes "
                "precedence over the authorization stored here.", icon=":material/key:")
    if status.error_message and status.status == "Error":
        st.error(status.error_message, icon=":material/error:")
    if not status.connected:
        return
    if status.missing_permissions:
        missing = ", ".join(status.missing_permissions)
        st.warning(f"The connected Qualtrics account lacks these permissions: {missing}. Ask your Qualtrics "
                   "brand administrator to grant them, then "
                   + ("click Reauthorize." if can_act else "ask an integration manager to reauthorize."),
                   icon=":material/warning:")
    elif status.granted_permissions:
        st.caption("Permissions checked: " + ", ".join(status.granted_permissions))


def tone(card: MetricCard) -> str:
    """Positive / Neutral / Negative / No score: on target or not when a target is set, else the bands."""
    score = card.score
    if score.value is None:
        return "No score"
    if card.on_target is not None:
        return "Positive" if card.on_target else "Negative"
    if card.type == "nps":
        value, good, poor = score.value, _GOOD_NPS, _POOR_NPS
    elif card.type == "csat":
        value, good, poor = score.satisfied_pct or 0.0, _GOOD_SHARE, _POOR_SHARE
    else:
        value, good, poor = score.value, _GOOD_SHARE, _POOR_SHARE
    if value >= good:
        return "Positive"
    return "Neutral" if value >= poor else "Negative"


def metric_card(card: MetricCard, *, key: str, link: bool = True, compact: bool = False) -> None:
    """One metric's card. `key` keeps widget ids unique when a metric shows on several steps."""
    feel = tone(card)
    colour = TONE_COLOURS[feel]
    with st.container(border=True, key=f"card_{key}"):
        st.markdown(f"**{plain(card.title)}**")
        st.markdown(f"{'###' if compact else '##'} :{colour}[{card.display}]")
        details = [card.type_name, card.n_display]
        if compact:
            st.caption(" · ".join(details))
            if card.interval_display:
                st.caption(card.interval_display)
        else:
            st.caption(" · ".join(details + ([card.interval_display] if card.interval_display else [])))
        flags = []
        if card.score.value is not None:
            flags.append(f":{colour}-badge[{feel}]")
        if card.low_confidence and card.score.value is not None:
            flags.append(":orange-badge[:material/warning: Low confidence (n < 30)]")
        if card.target is not None:
            flags.append(f":gray-badge[Target {card.target:g}, {card.direction} is better]")
        if flags:
            st.markdown(" ".join(flags))
        if not compact:
            st.caption(f"{card.sync_status} · last sync {ago(card.last_sync)}")
            if card.sync_error:
                st.caption(f":red[{plain(card.sync_error)}]")
        if link:
            st.page_link(routes.METRIC, label="Details", icon=":material/arrow_forward:",
                         query_params={"id": str(card.metric_id)})


WALL_COLOURS = {"Positive": "#56B4E9", "Neutral": "#E69F00", "Negative": "#D55E00", "No score": "#999999"}


def wall_card(card: MetricCard, step: str) -> None:
    """A metric in type readable across a room: the step, the score, n; colour and word for the tone."""
    feel = tone(card)
    low = " · low confidence" if card.low_confidence and card.score.value is not None else ""
    st.html(f"""
<div class="wall-card" style="border-left: 0.6rem solid {WALL_COLOURS[feel]}">
  <div class="wall-step">{html.escape(step)}</div>
  <div class="wall-title">{html.escape(card.title)}</div>
  <div class="wall-score">{html.escape(card.display)}</div>
  <div class="wall-meta">{html.escape(card.type_name)} · {html.escape(card.n_display)} · {feel}{low}</div>
</div>""")


WALL_STYLE = """<style>
.wall-card { padding: 1rem 1.4rem; margin-bottom: 1rem; border-radius: 0.6rem;
             background: var(--st-secondary-background-color, rgba(127,127,127,0.08)); }
.wall-step { font-size: 1.4rem; opacity: 0.75; }
.wall-title { font-size: 1.9rem; font-weight: 600; line-height: 1.2; }
.wall-score { font-size: 5.5rem; font-weight: 700; line-height: 1.1; font-variant-numeric: tabular-nums; }
.wall-meta { font-size: 1.4rem; opacity: 0.8; }
</style>"""
