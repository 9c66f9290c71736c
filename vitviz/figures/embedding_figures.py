"""Figures of the patch embedding and the position embeddings (paper Fig. 7 left and centre): filters as RGB
tiles, their explained variance, and the mosaic of position-embedding similarities with its tile picker.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
import plotly.graph_objects as go

from vitviz.text.i18n import t
from vitviz.figures.titles import title_top, wrap_title
from vitviz.figures.style import (HEAD_COLOURS, COLOURBAR_ABOVE, HIGHLIGHT, SIMILARITY, colour_lut, finish,
                                  legend_right, patch_box)
from vitviz.figures.raster import png_uri
from vitviz.figures.maps import tile_at, tile_images


def filters_to_rgb(filters: np.ndarray) -> np.ndarray:
    """``(k, C, ph, pw)`` → ``(k, ph, pw, 3)`` in [0, 1], each filter min-max scaled on its own."""
    f = filters.astype(np.float64)
    if f.shape[1] == 1:
        f = np.repeat(f, 3, axis=1)
    f = f[:, :3].transpose(0, 2, 3, 1)
    lo = f.min(axis=(1, 2, 3), keepdims=True)
    hi = f.max(axis=(1, 2, 3), keepdims=True)
    return (f - lo) / np.where(hi > lo, hi - lo, 1.0)


def filters_figure(filters: np.ndarray, *, columns: int = 7, title: str = "",
                   height: Optional[int] = None) -> go.Figure:
    """A mosaic of filters or principal components, in reading order (paper Fig. 7 left); square pixels."""
    rgb = filters_to_rgb(filters)
    mosaic = tile_images(rgb, columns)
    ph, pw = filters.shape[-2:]
    fig = go.Figure(go.Image(source=png_uri((mosaic * 255).astype(np.uint8)), hoverinfo="skip"))
    # Label each tile with its index for hover: an invisible scatter at the tile centres.
    idx = np.arange(len(filters))
    fig.add_trace(go.Scatter(x=(idx % columns) * (pw + 1) + pw / 2, y=(idx // columns) * (ph + 1) + ph / 2,
                             mode="markers", marker=dict(opacity=0, size=max(ph, 10)), text=[f"#{i}" for i in idx],
                             hovertemplate="%{text}<extra></extra>", showlegend=False))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    return finish(fig, title, height=height, square=True)


def explained_variance_figure(ratio: np.ndarray, title: str = "", *, height: int = 340) -> go.Figure:
    """Explained variance ratio per component, with the cumulative share; legend right of the plot."""
    k = np.arange(1, len(ratio) + 1)
    fig = go.Figure([go.Bar(x=k, y=ratio, name=t("plot.per_component"), marker=dict(color=HEAD_COLOURS[0]),
                            hovertemplate=t("plot.component_hover", n="%{x}", share="%{y:.1%}") + "<extra></extra>"),
                     go.Scatter(x=k, y=np.cumsum(ratio), name=t("plot.cumulative"), mode="lines+markers",
                                marker=dict(color=HEAD_COLOURS[4], symbol="diamond"), line=dict(color=HEAD_COLOURS[4]),
                                hovertemplate=t("plot.components_hover", n="%{x}", share="%{y:.1%}") + "<extra></extra>")])
    fig.update_xaxes(title=t("plot.component")).update_yaxes(title=t("plot.variance_share"), rangemode="tozero",
                                                               tickformat=".0%")
    legend_right(fig)
    return finish(fig, title, height=height, margin=dict(l=70, b=60))


def _tile_centres(n: int, size: int) -> np.ndarray:
    """Centre of tile ``i`` (of ``size`` cells plus a 1-cell gap) on the mosaic's index axis."""
    return np.arange(n) * (size + 1) + (size - 1) / 2


def similarity_mosaic(sim: np.ndarray) -> np.ndarray:
    """``(gh, gw, gh, gw)`` similarities → the Fig. 7 mosaic, ``(gh·(gh+1)−1, gw·(gw+1)−1)`` float.

    The tile of input patch (i, j) is ``mosaic[i·(gh+1):i·(gh+1)+gh, j·(gw+1):j·(gw+1)+gw]``
    (= ``sim[i, j]``); the one-cell gaps between tiles are NaN.
    """
    gh, gw = sim.shape[:2]
    mosaic = np.full((gh * (gh + 1) - 1, gw * (gw + 1) - 1), np.nan)
    for i in range(gh):
        for j in range(gw):
            mosaic[i * (gh + 1):i * (gh + 1) + gh, j * (gw + 1):j * (gw + 1) + gw] = sim[i, j]
    return mosaic


def _similarity_rgba(mosaic: np.ndarray) -> np.ndarray:
    """Mosaic in [−1, 1] → RGBA uint8 in the :data:`SIMILARITY` scale; NaN gaps transparent."""
    lut = colour_lut(SIMILARITY)
    finite = np.isfinite(mosaic)
    index = np.round((np.clip(np.where(finite, mosaic, 0.0), -1, 1) + 1) / 2 * (len(lut) - 1)).astype(int)
    rgba = np.zeros(mosaic.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = lut[index]
    rgba[..., 3] = np.where(finite, 255, 0)
    return rgba


def similarity_tiles(sim: np.ndarray, title: str = "", *, height: int = 760,
                     selected: Optional[tuple[int, int]] = None, picker: bool = True,
                     width: Optional[int] = None) -> go.Figure:
    """Paper Fig. 7 centre: for every input patch (row, col), its tile of cosine similarities to all positions.

    Traces: 0 the mosaic as an image (RGBA PNG data URI in the :data:`SIMILARITY` scale on
    [−1, 1], gaps transparent; :func:`similarity_mosaic` gives its values: a 37×37 grid would be
    2 M heatmap cells), 1 an invisible marker carrying the colour bar, 2 (with ``picker``)
    ``gh·gw`` near-invisible square markers at the tile centres, row-major, ``customdata =
    (row, col)`` (0-based), so a click on any tile selects it: :func:`picked_tile` maps the
    clicked point to ``(row, col)``. Axes are titled "input patch column (0-based)" / "input patch row
    (0-based)" with ticks 0…gw−1 / 0…gh−1 at the tile centres: the paper counts from 1, vitviz counts
    from 0 everywhere (the row/column pickers, the URL's ``row``/``col``, read-outs, CSVs, the CLI's arrays). ``selected=(row, col)`` frames
    that tile. Square cells; the plot area is a square of at least 600 px: ``height`` below 600 +
    margins is raised, and ``width`` (default: just wide enough) too.
    """
    gh, gw = sim.shape[:2]
    mosaic = similarity_mosaic(sim)
    fig = go.Figure(go.Image(source=png_uri(_similarity_rgba(mosaic)), hoverinfo="skip"))
    xc, yc = _tile_centres(gw, gw), _tile_centres(gh, gh)
    tick = dict(size=12 if max(gh, gw) <= 16 else 10)
    fig.update_xaxes(title=t("plot.patch_column0"), tickmode="array", tickvals=xc, ticktext=[str(j) for j in range(gw)],
                     showgrid=False, zeroline=False, ticks="", tickfont=tick, range=[-1, mosaic.shape[1]])
    fig.update_yaxes(title=t("plot.patch_row0"), tickmode="array", tickvals=yc, ticktext=[str(i) for i in range(gh)],
                     showgrid=False, zeroline=False, ticks="", tickfont=tick, range=[mosaic.shape[0], -1])
    wrapped = wrap_title(title)
    # The colour bar lies above the grid (not beside it: on a phone its 110 px margin left the grid ~180 px),
    # and the grid keeps to the top of its area (constraintoward), so a narrow screen leaves room only below.
    margin = dict(l=56, r=20, t=title_top(wrapped) + COLOURBAR_ABOVE, b=60)
    side = max(600, height - margin["t"] - margin["b"])
    height = side + margin["t"] + margin["b"]
    width = max(int(width or 0), side + margin["l"] + margin["r"])
    # The image carries no colour scale: an empty marker trace shows the colour bar.
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
                             marker=dict(color=[0.0], colorscale=SIMILARITY, cmin=-1, cmax=1, showscale=True,
                                         colorbar=dict(title=dict(text=t("plot.cosine"), side="right"),
                                                       thickness=12, orientation="h", x=0, xanchor="left",
                                                       # under the title, in px from the top (in the plot's
                                                       # coordinates it lifted the title off the figure)
                                                       yref="container", y=1 - title_top(wrapped) / height,
                                                       yanchor="top", ypad=0, len=260, lenmode="pixels",
                                                       tickvals=[-1, -0.5, 0, 0.5, 1]))))
    if picker:
        # Marker side ≈ 90 % of a tile, in px of the square plot area.
        size = max(8, int(0.9 * side * gh / mosaic.shape[0]))
        r, c = np.divmod(np.arange(gh * gw), gw)
        fig.add_trace(go.Scatter(
            x=xc[c], y=yc[r], mode="markers", name="pick a tile", showlegend=False,
            marker=dict(size=size, opacity=0.01, symbol="square", color="white"),
            selected=dict(marker=dict(opacity=0.01)), unselected=dict(marker=dict(opacity=0.01)),
            customdata=np.stack([r, c], -1),
            hovertemplate=t("plot.tile_hover", row="%{customdata[0]}", col="%{customdata[1]}")
                          + "<br>" + t("plot.tile_click_hover") + "<extra></extra>"))
        fig.update_layout(hovermode="closest")
    if selected is not None:
        i, j = selected
        fig.add_shape(type="rect", x0=j * (gw + 1) - 1, x1=j * (gw + 1) + gw, y0=i * (gh + 1) - 1,
                      y1=i * (gh + 1) + gh, line=dict(color=HIGHLIGHT, width=3), name=f"selected ({i}, {j})")
    finish(fig, wrapped, height=height, square=True, margin=margin)
    fig.update_layout(width=width)
    fig.update_yaxes(constraintoward="top")
    return fig


def picked_tile(point: Mapping, grid: Sequence[int]) -> tuple[int, int]:
    """(row, col) of a clicked picker point from a Streamlit/plotly selection ``point`` dict.

    Uses the point's ``customdata`` (``(row, col)``, as the pickers of :func:`similarity_tiles`
    carry; a list, or the ``{"0": row, "1": col}`` dict Streamlit's selection event gives) when present, else its ``point_index`` / ``point_number`` / ``pointIndex`` (row-major,
    :func:`tile_at`). Raises ``IndexError`` outside the ``(gh, gw)`` grid, ``KeyError`` when the
    point carries neither.
    """
    gh, gw = int(grid[0]), int(grid[1])
    custom = point.get("customdata")
    if isinstance(custom, Mapping):  # Streamlit hands an array customdata over as {"0": row, "1": col}
        custom = [custom[k] for k in sorted(custom, key=int)] if all(str(k).isdigit() for k in custom) else None
    if custom is not None and len(custom) >= 2:
        row, col = int(custom[0]), int(custom[1])
        if not (0 <= row < gh and 0 <= col < gw):
            raise IndexError(f"tile ({row}, {col}) is outside a {gh}×{gw} grid")
        return row, col
    for key in ("point_index", "point_number", "pointIndex", "pointNumber"):
        if point.get(key) is not None:
            return tile_at(int(point[key]), grid)
    raise KeyError("the clicked point carries neither customdata nor a point index")


def similarity_tile(sim: np.ndarray, row: int, col: int, title: str = "", *, height: int = 520) -> go.Figure:
    """One large tile: similarity of patch (row, col)'s position embedding to every position; square cells."""
    fig = go.Figure(go.Heatmap(z=sim[row, col], colorscale=SIMILARITY, zmin=-1, zmax=1,
                               colorbar=dict(title=dict(text=t("plot.cosine"), side="right"), thickness=14),
                               hovertemplate=t("plot.position_hover", row="%{y}", col="%{x}") + "<br>"
                               + t("plot.similarity") + " %{z:.3f}<extra></extra>"))
    fig.add_shape(**patch_box(row, col))
    fig.update_xaxes(title=t("plot.position_column0"), showgrid=False, zeroline=False)
    fig.update_yaxes(title=t("plot.position_row0"), autorange="reversed", showgrid=False, zeroline=False)
    return finish(fig, title, height=height, square=True, margin=dict(l=60, b=50))
