"""Issue 12 finding 7: names and titles reach plotly escaped, and Markdown autolinks do not survive plain()."""

from __future__ import annotations

import re

import pandas as pd

from ui import charts
from ui.text import plain

LINK = '<a href="http://evil.example/" target="_self">click</a>'
# The patterns GitHub-flavoured Markdown links by itself (mdast-util-gfm-autolink-literal), on the text left
# after Markdown escapes are resolved.
GFM_URL = re.compile(r"(https?://|www(?=\.))[-.\w]+", re.IGNORECASE)
GFM_EMAIL = re.compile(r"[-.\w+]+@[-\w]+(\.[-\w]+)+")


def unescaped(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def test_plain_leaves_no_bare_url_www_or_email_for_markdown_to_link():
    for text in ["see http://evil.example/x", "HTTPS://evil.example", "www.evil.example", "mail ops@evil.example",
                 "mailto:ops@evil.example"]:
        shown = unescaped(plain(text))
        assert not GFM_URL.search(shown) and not GFM_EMAIL.search(shown), shown
        assert shown.replace("\u2060", "") == text, "the text reads as written"


def lane_table(stage: str, step: str, title: str) -> pd.DataFrame:
    return pd.DataFrame([{"stage_id": 1, "stage": stage, "stage_position": 0, "step_id": 1, "step": step,
                          "step_position": 0, "metric_id": 1, "title": title, "type": "nps", "value": 10.0,
                          "display": "10.0", "respondents": 50, "n_display": "n = 50", "interval_low": 0.0,
                          "interval_high": 20.0, "low_confidence": False, "target": None, "on_target": None}])


def test_step_stage_and_metric_names_reach_plotly_as_text():
    trend = pd.DataFrame({"period": pd.to_datetime(["2026-11-02"]), "value": [10.0], "low": [0.0], "high": [20.0],
                          "display": ["10.0"], "respondents": [50], "low_confidence": [False]})
    figures = [charts.steps(lane_table(LINK, LINK, LINK), "nps"),
               charts.step_trends({f"{LINK} · {LINK}": trend}, "nps"),
               charts.trend(trend, "nps", title=LINK, target=5.0, target_label=LINK)]
    for figure in figures:
        drawn = list(strings(figure.to_dict()))
        assert not any("<a " in text for text in drawn), drawn
        assert any("&lt;a href" in text for text in drawn)


def strings(node: object):
    """Every string in a figure's dict (names, labels, annotations, hover texts)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from strings(value)
    elif hasattr(node, "tolist"):
        yield from strings(node.tolist())
