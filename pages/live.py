"""Live: a journey's scores for a workshop, refreshing themselves as the room answers on its phones.

Two faces: the facilitator's page (cards, how answers arrive and why, QR codes in the sidebar, the button to
the wall view) and the wall view itself (``?journey=N&wall=1``, optional ``&hide=N``): full screen, no
sidebar or widgets. Both read stored figures only; one background feed per survey brings the answers in.
Respondents' comments are shown as text.
"""

from __future__ import annotations

import streamlit as st

from ui import cards, wall
from ui.frame import app_runtime, wall_mode
from ui.text import count_of, plain
from workspace import journey_view, live

settings = app_runtime().settings

options = journey_view.journey_options(settings)
if not options:
    st.title("Live")
    st.info("Live mode shows a journey's scores on a wall screen. Create a journey and place metrics on its steps "
            "first.", icon=":material/cast:")
    st.stop()

requested = st.query_params.get("journey", "")
journey_id = int(requested) if requested.isdigit() and int(requested) in options else next(iter(options))
hide_text = st.query_params.get("hide", "0")
hide_until = int(hide_text) if hide_text.isdigit() else 0

if wall_mode():
    st.html(wall.CHROME_STYLE)

    @st.fragment(run_every=live.WALL_REFRESH_SECONDS)
    def wall_screen() -> None:
        wall.wall_board(live.journey_view(settings, journey_id), hide_until=hide_until,
                        refresh_seconds=live.WALL_REFRESH_SECONDS)

    wall_screen()
    st.stop()

with st.sidebar:
    journey_id = st.selectbox("Journey", list(options), index=list(options).index(journey_id),
                              format_func=options.get, key="live_journey")
    hide_until = int(st.number_input("Hide scores until this many answers (0: show at once)", min_value=0,
                                     max_value=10_000, value=hide_until, step=1, key="live_hide"))
st.query_params["journey"] = str(journey_id)
wall_url = f"/live?journey={journey_id}&wall=1" + (f"&hide={hide_until}" if hide_until else "")

st.html(cards.WALL_STYLE)
head, button = st.columns([4, 1], vertical_alignment="center")
head.title(f":material/cast: {plain(options[journey_id])}", anchor=False)
button.link_button("Open wall view", wall_url, icon=":material/fullscreen:", type="primary", width="stretch")


@st.fragment(run_every=live.REFRESH_SECONDS)
def live_board() -> None:
    view = live.journey_view(settings, journey_id)
    with st.container(key="live_board"):
        frozen = view.frozen
        if frozen is not None:
            since = f" Last answers arrived {cards.ago(frozen.frozen_since)}." if frozen.frozen_since else ""
            st.warning(f"{frozen.note}{since}", icon=":material/pause_circle:")
        for note in view.notes:
            if frozen is None or note != frozen.note:
                st.info(note, icon=":material/sync:")
        if view.pushed:
            st.caption("Qualtrics pushes each answer to this app the moment it is submitted.")
        st.markdown(f"**{view.answered:,}** answered since the session began ({cards.ago(view.started)}).")
        if not view.steps:
            st.info("No metrics on this journey's steps yet. Place metrics on steps in Journeys.")
            return
        tiles = [(f"{step.stage} › {step.step}", card) for step in view.steps for card in step.cards]
        for row_start in range(0, len(tiles), 3):
            for (where, card), column in zip(tiles[row_start:row_start + 3], st.columns(3)):
                with column:
                    cards.wall_card(card, where)
        if view.comments:
            st.subheader(f"Latest comments · {count_of(len(view.comments), 'comment')}", anchor=False)
            for comment in view.comments:
                with st.container(border=True):
                    st.text(comment.text)
                    where = " · ".join(part for part in (comment.survey_name, ", ".join(comment.steps)) if part)
                    st.caption(f"{plain(where)} · {cards.ago(comment.recorded_date)}")


live_board()

with st.sidebar:
    view = live.journey_view(settings, journey_id)
    if view.surveys:
        st.markdown("**Answer the survey**")
        for survey in view.surveys:
            st.image(wall.qr_data_uri(survey.link), width=200)
            st.caption(f"{plain(survey.name)} · {survey.answered:,} answered · {survey.short_link}")
