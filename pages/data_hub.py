"""Data Hub: where responses pushed by Qualtrics Workflows will be mined for themes."""

import streamlit as st

st.title("Data Hub")
st.info(
    "The Data Hub is not available yet. When it is, Qualtrics Workflows will push survey "
    "responses here, and their open-text answers will be grouped into themes and sentiment "
    "for each journey step.",
    icon=":material/construction:",
)
st.markdown(
    "Until then, the open-text comments of a journey's surveys appear in **Live** mode, and "
    "every score's individual answers are listed on its metric page in the **Metrics Library**."
)
