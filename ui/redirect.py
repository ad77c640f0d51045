"""Sending the browser to another site in the same tab.

`st.link_button` always opens a new tab, and a new tab would leave this one on a stale page. The
consent URL is built by us from configuration (never from user input), so a one-line script is
safe; the link beside it covers browsers that block scripted navigation.
"""

from __future__ import annotations

import html
import json

import streamlit as st


def same_tab_redirect(url: str, link_text: str) -> None:
    """Navigate this tab to `url` now, and show a same-tab link in case the browser does not."""
    target = json.dumps(url).replace("</", "<\\/")
    st.html(f"<script>window.location.assign({target});</script>", unsafe_allow_javascript=True)
    st.markdown(f'<a href="{html.escape(url, quote=True)}" target="_self">{html.escape(link_text)}</a>',
                unsafe_allow_html=True)
