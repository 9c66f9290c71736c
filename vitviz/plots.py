"""Plotly figures for vitviz results. Each builder takes arrays/dataclasses and returns a Figure.

No Streamlit here: the app, a notebook or a script can show or save these. Colour maps are
perceptually uniform and readable with colour-vision deficiencies (viridis / cividis), and
figures leave background colours to the host theme (light or dark).
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

SEQUENTIAL = "Viridis"
SIMILARITY = "Cividis"


def _layout(fig: go.Figure, title: str = "", height: Optional[int] = None, square: bool = False) -> go.Figure:
    fig.update_layout(title=title or None, margin=dict(l=10, r=10, t=40 if title else 10, b=10), height=height)
    if square:
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def _patch_box(row: int, col: int, ph: int = 1, pw: int = 1) -> dict:
    """An orange frame around patch (row, col); ``ph``/``pw`` = 1 on a grid-index axis."""
    return dict(type="rect", x0=col * pw - 0.5, x1=(col + 1) * pw - 0.5, y0=row * ph - 0.5, y1=(row + 1) * ph - 0.5,
                line=dict(color="#ff7f0e", width=3))


def image_figure(display: np.ndarray, title: str = "", patch_size: Optional[Sequence[int]] = None,
                 highlight: Optional[tuple[int, int]] = None) -> go.Figure:
    """The network input image, optionally with the patch grid and one highlighted patch."""
    height, width = display.shape[:2]
    fig = go.Figure(go.Image(z=display, hovertemplate="x %{x}px, y %{y}px<extra></extra>"))
    if patch_size is not None:
        ph, pw = patch_size
        shapes = [dict(type="line", x0=x - 0.5, x1=x - 0.5, y0=-0.5, y1=height - 0.5) for x in range(0, width + 1, pw)]
        shapes += [dict(type="line", y0=y - 0.5, y1=y - 0.5, x0=-0.5, x1=width - 0.5) for y in range(0, height + 1, ph)]
        for s in shapes:
            s["line"] = dict(color="white", width=1)
        if highlight is not None:
            shapes.append(_patch_box(*highlight, ph, pw))
        fig.update_layout(shapes=shapes)
    fig.update_xaxes(showticklabels=False).update_yaxes(showticklabels=False)
    return _layout(fig, title)


def add_patch_picker(fig: go.Figure, grid: Sequence[int], patch_size: Sequence[int] = (1, 1),
                     values: Optional[np.ndarray] = None, value_name: str = "value") -> int:
    """Add near-invisible markers at patch centres (row-major) so a click selects a patch.

    The markers carry the hover text (patch and, if given, its value from ``values``) and the
    heatmaps below stop answering hover, so the markers receive clicks. Returns the trace index;
    a selected point's index is the patch index ``r·gw + c``.
    """
    gh, gw = grid
    ph, pw = patch_size
    rows, cols = np.divmod(np.arange(gh * gw), gw)
    for trace in fig.data:
        if trace.type == "heatmap":
            trace.hoverinfo = "skip"
            trace.hovertemplate = None
    text = [f"patch ({r}, {c})" for r, c in zip(rows, cols)]
    if values is not None:
        text = [f"{t}<br>{value_name} {v:.4g}" for t, v in zip(text, np.asarray(values).ravel())]
    # Same centres as the heatmap cells: (c + 0.5)·pw − 0.5 in pixels, or c on a grid axis (pw = 1).
    fig.add_trace(go.Scatter(x=(cols + 0.5) * pw - 0.5, y=(rows + 0.5) * ph - 0.5, mode="markers",
                             marker=dict(size=max(6, min(ph, 24)), opacity=0.01, symbol="square"),
                             text=text, hovertemplate="%{text}<br>click to select<extra></extra>",
                             showlegend=False, name="pick a patch"))
    fig.update_layout(hovermode="closest")
    return len(fig.data) - 1


def attention_overlay(display: np.ndarray, grid_map: np.ndarray, patch_size: Sequence[int], *,
                      opacity: float = 0.6, title: str = "", value_name: str = "attention",
                      query_patch: Optional[tuple[int, int]] = None) -> go.Figure:
    """A ``(gh, gw)`` map drawn over the image, one cell per patch; hover shows patch and value."""
    ph, pw = patch_size
    gh, gw = grid_map.shape
    fig = image_figure(display, patch_size=None)
    fig.add_trace(go.Heatmap(
        z=grid_map, x=(np.arange(gw) + 0.5) * pw - 0.5, y=(np.arange(gh) + 0.5) * ph - 0.5,
        colorscale=SEQUENTIAL, opacity=opacity, colorbar=dict(title=value_name, thickness=12),
        customdata=np.stack(np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij"), -1),
        hovertemplate="patch (%{customdata[0]}, %{customdata[1]})<br>" + value_name + " %{z:.4f}<extra></extra>",
    ))
    if query_patch is not None:
        fig.add_shape(**_patch_box(*query_patch, ph, pw))
    return _layout(fig, title)


def heads_grid(maps: np.ndarray, *, columns: int = 6, title: str = "", subtitle: str = "head",
               labels: Optional[Sequence[int]] = None) -> go.Figure:
    """Small multiples of ``(n, gh, gw)`` maps, one shared colour scale; ``labels`` number the panels."""
    heads = maps.shape[0]
    columns = min(columns, heads)
    rows = int(np.ceil(heads / columns))
    labels = list(range(heads)) if labels is None else [int(v) for v in labels]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[f"{subtitle} {labels[h]}" for h in range(heads)],
                        horizontal_spacing=0.01, vertical_spacing=0.06)
    zmax = float(np.nanmax(maps)) if maps.size else 1.0
    for h in range(heads):
        fig.add_trace(go.Heatmap(z=maps[h], coloraxis="coloraxis",
                                 hovertemplate=f"{subtitle} {labels[h]}<br>row %{{y}}, col %{{x}}<br>%{{z:.4f}}<extra></extra>"),
                      row=h // columns + 1, col=h % columns + 1)
    fig.update_layout(coloraxis=dict(colorscale=SEQUENTIAL, cmin=0, cmax=zmax))
    fig.update_xaxes(showticklabels=False).update_yaxes(showticklabels=False, autorange="reversed")
    return _layout(fig, title, height=140 * rows + 60)


def tile_images(images: np.ndarray, columns: int, pad: int = 1) -> np.ndarray:
    """``(n, h, w, 3)`` floats in [0, 1] → one ``(rows·(h+pad), columns·(w+pad), 3)`` mosaic (NaN-free)."""
    n, h, w, c = images.shape
    rows = int(np.ceil(n / columns))
    mosaic = np.ones((rows * (h + pad) - pad, columns * (w + pad) - pad, c))
    for i in range(n):
        r, col = divmod(i, columns)
        mosaic[r * (h + pad):r * (h + pad) + h, col * (w + pad):col * (w + pad) + w] = images[i]
    return mosaic


def filters_to_rgb(filters: np.ndarray) -> np.ndarray:
    """``(k, C, ph, pw)`` → ``(k, ph, pw, 3)`` in [0, 1], each filter min-max scaled on its own."""
    f = filters.astype(np.float64)
    if f.shape[1] == 1:
        f = np.repeat(f, 3, axis=1)
    f = f[:, :3].transpose(0, 2, 3, 1)
    lo = f.min(axis=(1, 2, 3), keepdims=True)
    hi = f.max(axis=(1, 2, 3), keepdims=True)
    return (f - lo) / np.where(hi > lo, hi - lo, 1.0)


def filters_figure(filters: np.ndarray, *, columns: int = 7, title: str = "") -> go.Figure:
    """A mosaic of filters or principal components, in reading order (paper Fig. 7 left)."""
    rgb = filters_to_rgb(filters)
    mosaic = tile_images(rgb, columns)
    ph, pw = filters.shape[-2:]
    fig = go.Figure(go.Image(z=(mosaic * 255).astype(np.uint8), hoverinfo="skip"))
    # Label each tile with its index for hover: an invisible scatter at the tile centres.
    idx = np.arange(len(filters))
    fig.add_trace(go.Scatter(x=(idx % columns) * (pw + 1) + pw / 2, y=(idx // columns) * (ph + 1) + ph / 2,
                             mode="markers", marker=dict(opacity=0, size=max(ph, 10)), text=[f"#{i}" for i in idx],
                             hovertemplate="%{text}<extra></extra>", showlegend=False))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    return _layout(fig, title)


def explained_variance_figure(ratio: np.ndarray, title: str = "") -> go.Figure:
    """Explained variance ratio per component, with the cumulative share."""
    k = np.arange(1, len(ratio) + 1)
    fig = go.Figure([go.Bar(x=k, y=ratio, name="per component"),
                     go.Scatter(x=k, y=np.cumsum(ratio), name="cumulative", mode="lines+markers")])
    fig.update_xaxes(title="component").update_yaxes(title="share of variance", rangemode="tozero")
    return _layout(fig, title, height=300)


def similarity_tiles(sim: np.ndarray, title: str = "") -> go.Figure:
    """Paper Fig. 7 centre: for every patch (i, j), its tile of cosine similarities to all positions."""
    gh, gw = sim.shape[:2]
    mosaic = np.full((gh * (gh + 1) - 1, gw * (gw + 1) - 1), np.nan)
    for i in range(gh):
        for j in range(gw):
            mosaic[i * (gh + 1):i * (gh + 1) + gh, j * (gw + 1):j * (gw + 1) + gw] = sim[i, j]
    rows, cols = np.indices(mosaic.shape)
    custom = np.stack([rows // (gh + 1), cols // (gw + 1), rows % (gh + 1), cols % (gw + 1)], -1)
    fig = go.Figure(go.Heatmap(
        z=mosaic, colorscale=SIMILARITY, zmin=-1, zmax=1, customdata=custom, colorbar=dict(title="cosine", thickness=12),
        hovertemplate="tile of patch (%{customdata[0]}, %{customdata[1]})<br>vs position (%{customdata[2]}, "
                      "%{customdata[3]})<br>similarity %{z:.3f}<extra></extra>", hoverongaps=False))
    fig.update_yaxes(autorange="reversed", showticklabels=False).update_xaxes(showticklabels=False)
    return _layout(fig, title, square=True)


def similarity_tile(sim: np.ndarray, row: int, col: int, title: str = "") -> go.Figure:
    """One large tile: similarity of patch (row, col)'s position embedding to every position."""
    fig = go.Figure(go.Heatmap(z=sim[row, col], colorscale=SIMILARITY, zmin=-1, zmax=1,
                               colorbar=dict(title="cosine", thickness=12),
                               hovertemplate="position (%{y}, %{x})<br>similarity %{z:.3f}<extra></extra>"))
    fig.add_shape(**_patch_box(row, col))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, square=True)


def distance_figure(series: Mapping[str, np.ndarray], references: Mapping[str, float], *, title: str = "") -> go.Figure:
    """Mean attention distance per head vs layer (paper Fig. 7 right), several models overlaid.

    ``series`` maps a model label to its ``(layers, heads)`` distances in pixels; ``references``
    draws horizontal guide lines (e.g. uniform attention, a 3×3 window).
    """
    symbols = ["circle", "diamond", "square", "triangle-up", "x"]
    fig = go.Figure()
    for n, (label, dist) in enumerate(series.items()):
        layers, heads = dist.shape
        offset = (n - (len(series) - 1) / 2) * 0.15
        x = np.repeat(np.arange(layers), heads) + offset
        fig.add_trace(go.Scatter(
            x=x, y=dist.ravel(), mode="markers", name=label, marker=dict(symbol=symbols[n % len(symbols)], size=7),
            customdata=np.stack([np.repeat(np.arange(layers), heads), np.tile(np.arange(heads), layers)], -1),
            hovertemplate=label + "<br>layer %{customdata[0]}, head %{customdata[1]}<br>%{y:.1f} px<extra></extra>"))
    for name, value in references.items():
        fig.add_hline(y=value, line=dict(dash="dot", width=1), annotation_text=f"{name}: {value:.1f} px",
                      annotation_position="top left")
    fig.update_xaxes(title="network depth (layer)", dtick=1).update_yaxes(title="mean attention distance (px)",
                                                                          rangemode="tozero")
    return _layout(fig, title, height=420)


def predictions_figure(labels: Sequence[str], probabilities: Sequence[float], title: str = "") -> go.Figure:
    """Horizontal bars of the top-k predictions, best on top."""
    fig = go.Figure(go.Bar(x=list(probabilities)[::-1], y=list(labels)[::-1], orientation="h",
                           hovertemplate="%{y}<br>%{x:.2%}<extra></extra>"))
    fig.update_xaxes(title="probability", tickformat=".0%", range=[0, 1])
    return _layout(fig, title, height=60 + 32 * len(labels))


def patch_strip(patches: np.ndarray, count: int, title: str = "") -> go.Figure:
    """The first ``count`` patches of ``(N, ph, pw, 3)`` uint8 in sequence order, side by side."""
    shown = patches[:count].astype(np.float64) / 255.0
    mosaic = tile_images(shown, columns=len(shown), pad=2)
    fig = go.Figure(go.Image(z=(mosaic * 255).astype(np.uint8), hoverinfo="skip"))
    fig.update_xaxes(showticklabels=False).update_yaxes(showticklabels=False)
    return _layout(fig, title, height=160)


def vector_figure(vector: np.ndarray, title: str = "", x_title: str = "index") -> go.Figure:
    """A long vector (a flattened patch, a token embedding) as a line over its index."""
    fig = go.Figure(go.Scattergl(y=vector, mode="lines", hovertemplate=x_title + " %{x}<br>%{y:.3f}<extra></extra>"))
    fig.update_xaxes(title=x_title)
    return _layout(fig, title, height=220)


def token_matrix_figure(tokens: np.ndarray, num_prefix: int, title: str = "") -> go.Figure:
    """A ``(T, D)`` token sequence as an image: one row per token, prefix tokens marked."""
    fig = go.Figure(go.Heatmap(z=tokens, colorscale=SEQUENTIAL, colorbar=dict(thickness=12),
                               hovertemplate="token %{y}, dim %{x}<br>%{z:.3f}<extra></extra>"))
    if num_prefix:
        fig.add_hline(y=num_prefix - 0.5, line=dict(color="#ff7f0e", width=2))
    fig.update_yaxes(autorange="reversed", title="token").update_xaxes(title="dimension")
    return _layout(fig, title, height=320)


def rgb_figure(rgb: np.ndarray, title: str = "") -> go.Figure:
    """An ``(h, w, 3)`` image with values in [0, 1] (e.g. a PCA colouring), one pixel per unit."""
    fig = go.Figure(go.Image(z=(np.clip(rgb, 0, 1) * 255).astype(np.uint8),
                             hovertemplate="row %{y}, col %{x}<extra></extra>"))
    fig.update_xaxes(showticklabels=False).update_yaxes(showticklabels=False)
    return _layout(fig, title)


def depth_comparison_figure(comp, vit_label: str = "ViT", cnn_label: str = "CNN", title: str = "") -> go.Figure:
    """ViT mean attention distance per head (and mean ± std) vs CNN receptive-field radius, on relative depth."""
    layers, heads = comp.vit_heads.shape
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=np.repeat(comp.vit_depth, heads), y=comp.vit_heads.ravel(), mode="markers", name=f"{vit_label}: heads",
        marker=dict(size=6, opacity=0.55), customdata=np.stack([np.repeat(np.arange(layers), heads),
                                                                np.tile(np.arange(heads), layers)], -1),
        hovertemplate="layer %{customdata[0]}, head %{customdata[1]}<br>%{y:.1f} px<extra></extra>"))
    fig.add_trace(go.Scatter(x=comp.vit_depth, y=comp.vit_mean, mode="lines", name=f"{vit_label}: mean over heads",
                             error_y=dict(type="data", array=comp.vit_std, visible=True),
                             hovertemplate="depth %{x:.2f}<br>%{y:.1f} px<extra></extra>"))
    fig.add_trace(go.Scatter(x=comp.cnn_layer_depth, y=comp.cnn_layer_radius, mode="lines", line=dict(dash="dash"),
                             name=f"{cnn_label}: theoretical RF radius", line_shape="hv",
                             hovertemplate="depth %{x:.2f}<br>%{y:.0f} px<extra></extra>"))
    fig.add_trace(go.Scatter(x=comp.cnn_stage_depth, y=comp.cnn_effective_radius, mode="lines+markers",
                             name=f"{cnn_label}: effective RF radius ({comp.effective_share:.0%} of gradient mass)",
                             text=list(comp.cnn_stage_names), marker=dict(symbol="diamond", size=9),
                             hovertemplate="%{text}<br>depth %{x:.2f}<br>%{y:.1f} px<extra></extra>"))
    fig.update_xaxes(title="relative depth", range=[0, 1.02]).update_yaxes(title="pixels of the input",
                                                                         rangemode="tozero")
    return _layout(fig, title, height=440)
