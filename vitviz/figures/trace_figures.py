"""Small figures of the Encoder page (one patch through the encoder, :mod:`vitviz.run.trace`): plotly in, arrays out.

Every figure is a line over depth (layers 0-based, as :mod:`vitviz.run.trace`), the current layer marked by a
dashed orange line; titles come from the caller (they name the model), axis labels from the catalogue.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go

from vitviz.analysis.trace_steps import DepthProfile
from vitviz.text.i18n import t
from vitviz.figures.style import FONT_SIZE, HIGHLIGHT
from vitviz.figures.titles import TITLE_SIZE

_COLOURS = ("#2563eb", "#059669", "#d97706")


def _finish(fig: go.Figure, title: str, height: int, margin: dict) -> go.Figure:
    """Title, size and font as :mod:`vitviz.figures.plots` lays out its figures (title lines are the caller's)."""
    lines = title.count("<br>") + 1 if title else 0
    fig.update_layout(title=dict(text=title or None, font=dict(size=TITLE_SIZE), x=0.01, xanchor="left"),
                      margin=dict(dict(l=10, r=10, t=16 + 26 * lines if lines else 10, b=10), **margin),
                      height=height, font=dict(size=FONT_SIZE))
    return fig


def _mark_layer(fig: go.Figure, layer: Optional[int]) -> None:
    if layer is not None:
        fig.add_vline(x=layer, line=dict(color=HIGHLIGHT, width=2, dash="dash"))


def depth_figure(profile: DepthProfile, layers: Sequence[int], *, layer: Optional[int] = None, title: str = "",
                 height: int = 300) -> go.Figure:
    """The token's norm entering (‖z_in‖) and leaving (‖z_out‖) each block, and cos(z_out, z_in) on a right axis."""
    x = np.asarray(layers)
    fig = go.Figure([
        go.Scatter(x=x, y=profile.norm_in, name=t("encoder.norm_in"), mode="lines+markers",
                   line=dict(color=_COLOURS[0]), marker=dict(symbol="circle")),
        go.Scatter(x=x, y=profile.norm_out, name=t("encoder.norm_out"), mode="lines+markers",
                   line=dict(color=_COLOURS[1]), marker=dict(symbol="square")),
        go.Scatter(x=x, y=profile.cosine, name=t("encoder.cosine_in_out"), mode="lines+markers", yaxis="y2",
                   line=dict(color=_COLOURS[2], dash="dot"), marker=dict(symbol="diamond")),
    ])
    fig.update_layout(yaxis=dict(title=t("encoder.norm_axis"), rangemode="tozero"),
                      yaxis2=dict(title=t("encoder.cosine_axis"), overlaying="y", side="right", range=[-1.05, 1.05],
                                  tickvals=[-1, -0.5, 0, 0.5, 1], showgrid=False, tickmode="array"),
                      xaxis=dict(title=t("encoder.layer_axis"), dtick=1),
                      legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0))
    _mark_layer(fig, layer)
    return _finish(fig, title, height + 40, dict(l=60, r=60, b=90))


def firing_figure(counts: np.ndarray, units: int, layers: Sequence[int], *, layer: Optional[int] = None,
                  title: str = "", height: int = 260) -> go.Figure:
    """How many of the ``units`` MLP hidden units are > 0 after the activation, per layer."""
    fig = go.Figure(go.Bar(x=np.asarray(layers), y=np.asarray(counts), marker_color=_COLOURS[0],
                           hovertemplate=t("encoder.layer_axis") + " %{x}: %{y} / " + str(units) + "<extra></extra>"))
    fig.update_layout(yaxis=dict(title=t("encoder.firing_axis", units=units), range=[0, units]),
                      xaxis=dict(title=t("encoder.layer_axis"), dtick=1))
    _mark_layer(fig, layer)
    return _finish(fig, title, height, dict(l=60, b=50))


def cosine_to_last_figure(cosine: np.ndarray, layers: Sequence[int], *, layer: Optional[int] = None,
                          title: str = "", height: int = 300) -> go.Figure:
    """For a model without a head: cos(f_l, f_last) of the normed class token per layer (last = 1)."""
    fig = go.Figure(go.Scatter(x=np.asarray(layers), y=np.asarray(cosine), mode="lines+markers",
                               line=dict(color=_COLOURS[0]),
                               hovertemplate=t("encoder.layer_axis") + " %{x}: %{y:.3f}<extra></extra>"))
    fig.update_layout(yaxis=dict(title=t("encoder.cosine_last_axis"), range=[-1.05, 1.05]),
                      xaxis=dict(title=t("encoder.layer_axis"), dtick=1))
    _mark_layer(fig, layer)
    return _finish(fig, title, height, dict(l=60, b=50))
