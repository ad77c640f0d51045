"""The page script behind app.py: the frame every page shares, who is looking, and the pages.

It lives in ui/, not beside pages/: Streamlit treats a `pages` folder next to its main script as
the old automatic multipage layout and would then run a page without this frame. Every file in
pages/ is registered here instead.
"""

from __future__ import annotations

import streamlit as st

from ui import frame, routes

st.set_page_config(page_title="Journey Pulse", page_icon=":material/route:", layout="wide")

person = frame.signed_in_person()
frame.sidebar(person)
frame.open_access_banner()

PAGES = {
    "": [
        st.Page(routes.JOURNEYS, title="Journeys", icon=":material/route:", default=True),
        st.Page(routes.METRICS_LIBRARY, title="Metrics Library", icon=":material/monitoring:", url_path="metrics"),
        st.Page(routes.LIVE, title="Live", icon=":material/cast:", url_path="live"),
        st.Page(routes.DATA_HUB, title="Data Hub", icon=":material/hub:", url_path="data-hub"),
    ],
    "Settings": [
        st.Page(routes.INTEGRATIONS, title="Integrations", icon=":material/power:", url_path="integrations"),
    ],
    "hidden": [
        st.Page(routes.NEW_METRIC, title="New metric", url_path="new-metric", visibility="hidden"),
        st.Page(routes.METRIC, title="Metric", url_path="metric", visibility="hidden"),
    ],
}

frame.navigation(PAGES).run()
