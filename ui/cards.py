"""Cards: the integration card's parts and the metric card (title, type, score, n, interval).

Colours follow the sentiment palette of .streamlit/config.toml (Okabe-Ito: blue positive, amber
neutral, vermillion negative), always with a word beside them so colour is never the only signal.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING

import streamlit as st

from ui import routes
from ui.text import plain
from workspace.scores import MetricCard
from workspace.views import target_mark, target_text

if TYPE_CHECKING:  # the Qualtrics client (requests) comes with the Integrations page, not with every card
    from workspace.connection import IntegrationStatus

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
    """Positive / Neutral / Negative / No score: the sentiment of the score itself, from fixed bands per type,
    so the same score reads the same word on every card. Whether it meets its target is told apart
    (:func:`target_mark`), never folded into this word."""
    score = card.score
    if score.value is None:
        return "No score"
    if card.type == "nps":
        value, good, poor = score.value, _GOOD_NPS, _POOR_NPS
    elif card.type == "csat":
        value, good, poor = score.satisfied_pct or 0.0, _GOOD_SHARE, _POOR_SHARE
    else:
        value, good, poor = score.value, _GOOD_SHARE, _POOR_SHARE
    if value >= good:
        return "Positive"
    return "Neutral" if value >= poor else "Negative"


def marks(card: MetricCard) -> list[tuple[str, str]]:
    """The marks beside a score, as (kind, words): its tone, its target, low confidence — each its own mark."""
    if card.score.value is None:
        return [("target", target_text(card))] if card.target is not None else []
    out = [("tone", tone(card))]
    mark = target_mark(card)
    if mark:
        out.append(("target", mark))
    if card.low_confidence:
        out.append(("low", "Low confidence"))
    return out


def metric_card(card: MetricCard, *, key: str, link: bool = True) -> None:
    """One metric's card (library, metric page). `key` keeps widget ids unique."""
    feel = tone(card)
    colour = TONE_COLOURS[feel]
    with st.container(border=True, key=f"card_{key}"):
        st.markdown(f"**{plain(card.title)}**")
        st.markdown(f"## :{colour}[{card.display}]")
        st.caption(" · ".join([card.type_name, card.n_display] + ([card.interval_display] if card.interval_display else [])))
        badge = {"tone": colour, "target": "gray" if card.on_target is not False else "violet", "low": "orange"}
        flags = [f":{badge[kind]}-badge[{words}{' (n < 30)' if kind == 'low' else ''}]" for kind, words in marks(card)]
        if flags:
            st.markdown(" ".join(flags))
        st.caption(f"{card.sync_status} · last sync {ago(card.last_sync)}")
        if card.sync_error:
            st.caption(f":red[{plain(card.sync_error)}]")
        if link:
            st.page_link(routes.METRIC, label="Details", icon=":material/arrow_forward:",
                         query_params={"id": str(card.metric_id)})


# ---------------------------------------------------------------- the journey lane
#
# The lane is one CSS grid: a column per step (fixed minimum width, scrolling sideways when the stages do
# not fit), and per metric slot four rows — title, score, details, marks — that every card in the slot
# shares through `subgrid`. So all cards of a slot have one height and their scores sit on one baseline
# whatever their titles, and nothing needs cutting. Colours come in light/dark pairs through CSS
# light-dark(): Streamlit sets `color-scheme` on the app to the active theme. Every pair is checked for
# WCAG AA contrast (4.5:1) against the card background in tests/test_contrast.py.

LANE_PALETTE = {
    "light": {"card": "#FFFFFF", "text": "#1B2330", "muted": "#4B5563", "border": "#C9D1DB",
              "Positive": "#0B5CAD", "Neutral": "#8A5300", "Negative": "#B03A00", "No score": "#5F6B7A",
              "mark": "#5B3E96", "warn": "#8A5300"},
    "dark": {"card": "#1A212B", "text": "#E8ECF1", "muted": "#B4BDC9", "border": "#3A4452",
             "Positive": "#7CC4F0", "Neutral": "#F0B429", "Negative": "#FF8A5C", "No score": "#B4BDC9",
             "mark": "#C4B0F5", "warn": "#F0B429"},
}
LANE_TEXT_PAIRS = ("text", "muted", "Positive", "Neutral", "Negative", "No score", "mark", "warn")


def _pair(name: str) -> str:
    return f"light-dark({LANE_PALETTE['light'][name]}, {LANE_PALETTE['dark'][name]})"


# Inline styles, not a stylesheet: a <style> beside the markup makes Streamlit's HTML element re-render
# without end, and a separate style element may arrive after the lane and leave it unstyled.
_CSS = {
    "lane": "overflow-x: auto; padding-bottom: 0.5rem",
    "grid": "display: grid; column-gap: 0.75rem; align-items: stretch; width: max-content; min-width: 100%",
    "stage": f"font-weight: 700; font-size: 1rem; padding: 0.25rem 0.1rem; border-bottom: 2px solid {_pair('border')}; "
             "margin-bottom: 0.25rem; overflow-wrap: anywhere",
    "step": "font-weight: 600; font-size: 0.95rem; padding: 0.2rem 0.1rem 0.4rem; overflow-wrap: anywhere",
    "card": "display: grid; grid-template-rows: subgrid; row-gap: 0.2rem; margin-bottom: 0.6rem; "
            f"padding: 0.6rem 0.7rem; border: 1px solid {_pair('border')}; border-left-width: 0.35rem; "
            f"border-radius: 0.5rem; background: {_pair('card')}; color: {_pair('text')}; text-decoration: none",
    "title": "font-weight: 600; font-size: 0.9rem; line-height: 1.3; overflow-wrap: anywhere",
    "score": "font-size: 1.9rem; font-weight: 700; line-height: 1.3; font-variant-numeric: tabular-nums; "
             "align-self: end; white-space: nowrap",
    "meta": f"font-size: 0.8rem; color: {_pair('muted')}; line-height: 1.35",
    "marks": "display: flex; flex-wrap: wrap; gap: 0.25rem; align-content: flex-start",
    "mark": "font-size: 0.75rem; line-height: 1.3; padding: 0.05rem 0.45rem; border-radius: 0.75rem; "
            "border: 1px solid currentColor; white-space: nowrap",
    "empty": f"font-size: 0.85rem; color: {_pair('muted')}; padding: 0.4rem 0.1rem",
    "add": f"font-size: 0.85rem; color: {_pair('Positive')}; padding: 0.2rem 0.1rem; text-decoration: underline",
}
_MARK_COLOUR = {"target": "mark", "low": "warn"}
ROWS_PER_CARD = 4


def _at(column: int | str, row: int | str) -> str:
    return f"grid-column: {column}; grid-row: {row}"


def _lane_card(card: MetricCard, column: int, row: int) -> str:
    e = html.escape
    feel = tone(card)
    spans = "".join(f'<span class="jp-mark jp-{kind}" style="{_CSS["mark"]}; color: '
                    f'{_pair(_MARK_COLOUR.get(kind, feel))}">{e(words)}</span>' for kind, words in marks(card))
    meta = " · ".join(x for x in (card.type_name, card.n_display, card.interval_display) if x)
    return (f'<a class="jp-card" href="metric?id={card.metric_id}" data-metric="{card.metric_id}" '
            f'style="{_CSS["card"]}; border-left-color: {_pair(feel)}; {_at(column, f"{row} / span {ROWS_PER_CARD}")}" '
            f'aria-label="{e(card.title)}: {e(card.display)}, {e(feel)}">'
            f'<span class="jp-title" style="{_CSS["title"]}">{e(card.title)}</span>'
            f'<span class="jp-score" style="{_CSS["score"]}; color: {_pair(feel)}">{e(card.display)}</span>'
            f'<span class="jp-meta" style="{_CSS["meta"]}">{e(meta)}</span>'
            f'<span class="jp-marks" style="{_CSS["marks"]}">{spans}</span></a>')


def lane_html(stages: list[tuple[str, list[tuple[int, str, list[MetricCard]]]]], can_add: bool) -> str:
    """The lane for ``[(stage name, [(step id, step name, cards)])]`` as one grid (see the note above).
    Every name and title is escaped: they are user and survey text."""
    e = html.escape
    columns = sum(max(len(steps), 1) for _, steps in stages)
    slots = max([1] + [len(cards) for _, steps in stages for _, _, cards in steps])
    add_row = 3 + slots * ROWS_PER_CARD
    parts = []
    column = 1
    for stage_name, steps in stages:
        width = max(len(steps), 1)
        parts.append(f'<div class="jp-stage" style="{_CSS["stage"]}; {_at(f"{column} / span {width}", 1)}">'
                     f'{e(stage_name)}</div>')
        if not steps:
            parts.append(f'<div class="jp-empty" style="{_CSS["empty"]}; {_at(column, 2)}">No steps yet</div>')
        for offset, (step_id, step_name, cards) in enumerate(steps):
            col = column + offset
            parts.append(f'<div class="jp-step" style="{_CSS["step"]}; {_at(col, 2)}" data-step="{step_id}">'
                         f'{e(step_name)}</div>')
            for slot, card in enumerate(cards):
                parts.append(_lane_card(card, col, 3 + slot * ROWS_PER_CARD))
            if not cards:
                parts.append(f'<div class="jp-empty" style="{_CSS["empty"]}; {_at(col, 3)}">No metric on this step</div>')
            if can_add:
                parts.append(f'<a class="jp-add" href="new-metric?step={step_id}" style="{_CSS["add"]}; '
                             f'{_at(col, add_row)}">+ Metric</a>')
        column += width
    template = f"grid-template-columns: repeat({columns}, minmax(12.5rem, 1fr)); " \
               f"grid-template-rows: auto auto repeat({slots * ROWS_PER_CARD}, auto) auto"
    return (f'<div class="jp-lane" data-testid="journey-lane" style="{_CSS["lane"]}">'
            f'<div class="jp-grid" style="{_CSS["grid"]}; {template}">' + "".join(parts) + "</div></div>")


# ---------------------------------------------------------------- the mapping table (wizard and metric page)

SENTIMENT_OPTIONS = ("Positive", "Neutral", "Negative", "Excluded")
_ROW_PX, _HEADER_PX = 35, 38


def mapping_editor(table, type_name: str, *, key: str, editable: bool):
    """The answer → sentiment table, the same in the wizard and on the metric page: the same headers, every
    row visible without scrolling (an NPS scale has 11), and the score column only for CSAT, the one type
    that uses it."""
    columns = ["value", "label", "sentiment"] + (["score"] if type_name.upper() == "CSAT" else [])
    return st.data_editor(
        table, key=key, hide_index=True, column_order=columns,
        disabled=["value", "label"] if editable else True,
        height=_HEADER_PX + _ROW_PX * len(table) + 2,
        column_config={
            "value": st.column_config.TextColumn("Exported value", help="What Qualtrics exports for this answer"),
            "label": st.column_config.TextColumn("Answer"),
            "sentiment": st.column_config.SelectboxColumn("Sentiment", options=SENTIMENT_OPTIONS, required=True),
            "score": st.column_config.NumberColumn("Score (CSAT)", format="%g",
                                                   help="The value this answer adds to the CSAT mean"),
        })


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
