"""Live: a journey's scores in large type for a wall screen, refreshing themselves as answers arrive, with the
newest open-text comments under them (shown as text: respondents typed them)."""

from __future__ import annotations

import segno
import streamlit as st

from ui import cards
from ui.frame import app_runtime
from ui.text import plain
from workspace import journey_view, live

settings = app_runtime().settings

options = journey_view.journey_options(settings)
if not options:
    st.title("Live")
    st.info("Live mode shows a journey's scores on a wall screen. Create a journey and place metrics on its steps "
            "first.", icon=":material/cast:")
    st.stop()

requested = st.query_params.get("journey", "")
default_id = int(requested) if requested.isdigit() and int(requested) in options else next(iter(options))
with st.sidebar:
    journey_id = st.selectbox("Journey", list(options), index=list(options).index(default_id),
                              format_func=options.get, key="live_journey")
    st.caption("Press F11 (or your browser's full-screen key) for the wall screen. Scores refresh every "
               f"{live.REFRESH_SECONDS} seconds.")
st.query_params["journey"] = str(journey_id)

st.html(cards.WALL_STYLE)

st.title(f":material/cast: {plain(options[journey_id])}", anchor=False)


@st.fragment(run_every=live.REFRESH_SECONDS)
def live_board() -> None:
    live.refresh(settings, journey_id)
    steps = live.board(settings, journey_id)
    with st.container(key="live_board"):
        if not steps:
            st.info("No metrics on this journey's steps yet. Place metrics on steps in Journeys.")
            return
        tiles = [(f"{step.stage} › {step.step}", card) for step in steps for card in step.cards]
        for row_start in range(0, len(tiles), 3):
            for (where, card), column in zip(tiles[row_start:row_start + 3], st.columns(3)):
                with column:
                    cards.wall_card(card, where)
        latest = live.comments(settings, journey_id)
        if latest:
            st.subheader("Latest comments", anchor=False)
            for comment in latest:
                with st.container(border=True):
                    st.text(comment.text)
                    where = " · ".join(part for part in (comment.survey_name, ", ".join(comment.steps)) if part)
                    st.caption(f"{plain(where)} · {cards.ago(comment.recorded_date)}")


live_board()

with st.sidebar:
    survey_ids = live.survey_ids(settings, journey_id)
    if survey_ids:
        st.markdown("**Answer the survey**")
        for survey_id in survey_ids:
            link = live.public_link(settings, survey_id)
            st.image(segno.make(link, error="m").png_data_uri(scale=6, border=2), width=200)
            st.caption(link)
