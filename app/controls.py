"""Rows of controls, the layer slider and head picker shared by the Attention and matrix pages (their values in
the URL), and clicks on figures.
"""
from __future__ import annotations

from typing import Optional

import streamlit as st

from vitviz_dashboard import params
from vitviz.text.i18n import t


def controls(name: str, spec, **kwargs):
    """``st.columns(spec)`` for a row of controls named ``name``; on a phone they sit two per line (LAYOUT_CSS)."""
    return st.container(key=f"vv-controls-{name}").columns(spec, **kwargs)


HEAD_MEAN = "mean"


def head_text(head) -> str:
    """"mean of heads" or "head h", in the current language."""
    return t("attention.head_mean") if head in (None, HEAD_MEAN) else t("attention.head_n", n=head)


def layer_and_head_setting(layers: int, heads: int) -> tuple[int, Optional[int]]:
    """The layer and head (None: the mean of heads) that :func:`layer_and_head` will show: the link's or
    the session's values, made valid. For work to be done before the widgets are drawn."""
    layer = params.prepare("layer", layers - 1, lambda v: 0 <= v < layers)
    choice = params.prepare("head", HEAD_MEAN, lambda v: v in _head_options(heads))
    return layer, _head(choice)


def _head_options(heads: int) -> list[str]:
    return [HEAD_MEAN] + [str(h) for h in range(heads)]


def _head(choice: str) -> Optional[int]:
    """The head picker's choice as a head index, None for the mean of heads."""
    return None if choice == HEAD_MEAN else int(choice)


def layer_and_head(layer_column, head_column, layers: int, heads: int) -> tuple[int, Optional[int]]:
    """The Attention page's layer slider and head picker (also the matrix page's: same keys, same URL names).

    Returns the layer and the head (None: the mean of heads).
    """
    layer_and_head_setting(layers, heads)
    layer = layer_column.slider(t("attention.layer"), 0, layers - 1, key="vv_layer", persist_state="session")
    options = _head_options(heads)
    choice = head_column.selectbox(t("attention.head"), options, key="vv_head", persist_state="session",
                                   format_func=head_text)
    params.publish("layer", layer, layers - 1)
    params.publish("head", choice, HEAD_MEAN)
    return layer, _head(choice)


def clicked_point(event, trace: int) -> Optional[int]:
    """Index of the point clicked in trace ``trace`` of a figure's selection event, if any."""
    try:
        points = event.selection.points  # type: ignore[union-attr]
    except AttributeError:
        return None
    for point in points or []:
        if point.get("curve_number") == trace:
            return int(point.get("point_index", point.get("point_number", 0)))
    return None
