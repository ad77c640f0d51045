"""Streamlit building blocks shared by the pages: the frame, cards and safe text.

Like the pages, this package only draws: data comes from `workspace`.
"""
