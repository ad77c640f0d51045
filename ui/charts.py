"""Plotly figures for the pages, built from the DataFrames that workspace returns.

Sentiment colours are the Okabe-Ito hues of the theme, so charts read the same for people with
the common colour-vision deficiencies; every chart also labels what its colours mean.

Building a plotly figure costs tens of milliseconds (plotly validates every property), more than the data
behind it now that scores are cached, so figures are kept by the content of their data: a rerun with the
same figures reuses them, and any change in the data makes a new one.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ui.text import for_plotly

SENTIMENT_COLOURS = {"Positive": "#0072B2", "Neutral": "#E69F00", "Negative": "#D55E00",
                     "Excluded": "#999999", "Unmapped": "#CC79A7"}
SERIES_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999"]
AXIS_TITLES = {"nps": "NPS", "csat": "CSAT (mean score)", "ces": "CES (% positive)"}


_FIGURES: OrderedDict[tuple[Any, ...], go.Figure] = OrderedDict()
_FIGURES_KEPT = 64
_figures_lock = threading.Lock()


def _content(data: pd.DataFrame | dict[str, pd.DataFrame]) -> tuple[Any, ...]:
    """A key equal for equal data: column names, index and every value's hash."""
    if isinstance(data, dict):
        return tuple((name, _content(frame)) for name, frame in data.items())
    return (tuple(data.columns), tuple(map(str, data.dtypes)),
            pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes())


def _by_content(build: Callable[..., go.Figure]) -> Callable[..., go.Figure]:
    """Keep ``build``'s figures by the content of their data (the first argument) and the other arguments."""
    @functools.wraps(build)
    def cached(data: Any, *args: Any, **kwargs: Any) -> go.Figure:
        key = (build.__name__, _content(data), args, tuple(sorted(kwargs.items())))
        with _figures_lock:
            fig = _FIGURES.get(key)
            if fig is not None:
                _FIGURES.move_to_end(key)
                return fig
        fig = build(data, *args, **kwargs)
        with _figures_lock:
            _FIGURES[key] = fig
            while len(_FIGURES) > _FIGURES_KEPT:
                _FIGURES.popitem(last=False)
        return fig
    return cached


def _layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig


@_by_content
def trend(frame: pd.DataFrame, metric_type: str, title: str = "", height: int = 320,
          target: float | None = None, target_label: str = "") -> go.Figure:
    """Score per period with its 95% interval as a band; low-confidence periods drawn hollow; the target,
    when set, as a dashed line named by ``target_label``."""
    fig = go.Figure()
    data = frame.dropna(subset=["value"])
    fig.add_trace(go.Scatter(x=list(data["period"]) + list(data["period"])[::-1],
                             y=list(data["high"]) + list(data["low"])[::-1],
                             fill="toself", fillcolor="rgba(0,114,178,0.15)", line=dict(width=0),
                             hoverinfo="skip", name="95% interval"))
    fig.add_trace(go.Scatter(
        x=data["period"], y=data["value"], mode="lines+markers", name=for_plotly(title) if title else AXIS_TITLES[metric_type],
        line=dict(color=SERIES_COLOURS[0], width=2),
        marker=dict(size=8, color=["white" if low else SERIES_COLOURS[0] for low in data["low_confidence"]],
                    line=dict(color=SERIES_COLOURS[0], width=2)),
        customdata=data[["display", "respondents"]],
        hovertemplate="%{customdata[0]} (n = %{customdata[1]:,})<extra></extra>"))
    if target is not None:
        fig.add_hline(y=target, line=dict(color="#999999", dash="dash", width=1.5),
                      annotation_text=for_plotly(target_label or f"target {target:g}"),
                      annotation_position="top left")
    fig.update_yaxes(title=AXIS_TITLES[metric_type])
    return _layout(fig, height)


COUNTED = ("Positive", "Neutral", "Negative")


@_by_content
def sentiments(frame: pd.DataFrame, height: int = 140) -> go.Figure:
    """One stacked bar: how the answers split across sentiments. Percentages are of the answers that count
    (Positive, Neutral, Negative), as the score is; Excluded and Unmapped show their count only."""
    fig = go.Figure()
    counted = frame.loc[frame["sentiment"].isin(COUNTED), "count"].sum()
    for _, row in frame.iterrows():
        if row["count"] == 0:
            continue
        if row["sentiment"] in COUNTED:
            label = f"{row['sentiment']} {row['count'] / counted:.0%}" if counted else row["sentiment"]
        else:
            label = f"{row['sentiment']} {int(row['count']):,} (not counted)"
        fig.add_trace(go.Bar(y=["Answers"], x=[row["count"]], orientation="h", name=row["sentiment"],
                             marker_color=SENTIMENT_COLOURS.get(row["sentiment"], "#999999"),
                             text=label, textposition="inside",
                             hovertemplate=f"{label}: {int(row['count']):,} answers<extra></extra>"))
    fig.update_layout(barmode="stack", showlegend=False, yaxis=dict(visible=False))
    return _layout(fig, height)


@_by_content
def steps(frame: pd.DataFrame, metric_type: str, height: int = 360) -> go.Figure:
    """Each metric of one type across a journey's steps, with 95% interval whiskers."""
    fig = go.Figure()
    data = frame[frame["type"] == metric_type]
    order = data.drop_duplicates("step_id").sort_values(["stage_position", "step_position"])
    labels = {row.step_id: for_plotly(f"{row.stage} › {row.step}") for row in order.itertuples()}
    for i, (title, group) in enumerate(data.groupby("title", sort=False)):
        group = group.dropna(subset=["value"])
        fig.add_trace(go.Scatter(
            x=[labels[s] for s in group["step_id"]], y=group["value"], mode="markers+lines",
            name=for_plotly(title), line=dict(color=SERIES_COLOURS[i % len(SERIES_COLOURS)], dash="dot"),
            marker=dict(size=11),
            error_y=dict(type="data", symmetric=False, array=group["interval_high"] - group["value"],
                         arrayminus=group["value"] - group["interval_low"]),
            customdata=group[["display", "n_display"]],
            hovertemplate="%{customdata[0]} (%{customdata[1]})<extra>%{fullData.name}</extra>"))
    fig.update_xaxes(categoryorder="array", categoryarray=list(labels.values()))
    fig.update_yaxes(title=AXIS_TITLES[metric_type])
    return _layout(fig, height)


@_by_content
def step_trends(frames: dict[str, pd.DataFrame], metric_type: str, height: int = 320) -> go.Figure:
    """One line per step (named by the key) of the same metric type over time. Names, titles and step
    labels are user and survey text: escaped, because plotly renders its HTML subset in them."""
    fig = go.Figure()
    for i, (name, frame) in enumerate(frames.items()):
        data = frame.dropna(subset=["value"])
        fig.add_trace(go.Scatter(x=data["period"], y=data["value"], mode="lines+markers", name=for_plotly(name),
                                 line=dict(color=SERIES_COLOURS[i % len(SERIES_COLOURS)]),
                                 customdata=data[["display", "respondents"]],
                                 hovertemplate="%{customdata[0]} (n = %{customdata[1]:,})"))
    fig.update_yaxes(title=AXIS_TITLES[metric_type])
    return _layout(fig, height)
