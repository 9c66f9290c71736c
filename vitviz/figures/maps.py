"""Figures over the input image: the image and its patch grid, a patch map over it (attention, rollout,
similarity), patch pickers, patch strips, and token PCA / token similarity pictures.

Coordinates are input pixels: pixel (y, x) is centred on (x, y), patch (r, c) spans
``[c·pw − 0.5, (c+1)·pw − 0.5]`` horizontally. Clicks select patches through near-invisible markers
(:func:`add_patch_picker`, :func:`tile_at`).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from vitviz.text.i18n import t
from vitviz.figures.titles import title_top, wrap_title
from vitviz.figures.raster import jpeg_uri, png_uri
from vitviz.figures.style import (FONT_SIZE, SEQUENTIAL, SIMILARITY, finish, mark_text, marked_box, patch_box,
                                  patch_heatmap, patch_hover, square_axes)


def _photo_uri(image: np.ndarray) -> str:
    return jpeg_uri(image)[0]


def image_figure(display: np.ndarray, title: str = "", patch_size: Optional[Sequence[int]] = None,
                 highlight: Optional[tuple[int, int]] = None, *, height: Optional[int] = 460,
                 photo: bool = False) -> go.Figure:
    """The network input image, optionally with the patch grid and one highlighted patch; square pixels.

    The image travels as a PNG data URI (``go.Image(source=...)``), not as a nested-list ``z``;
    ``photo=True`` sends a JPEG instead (much smaller; for images under a map).
    Coordinates are pixels: pixel (y, x) is centred on (x, y), so patch (r, c) spans
    ``[c·pw − 0.5, (c+1)·pw − 0.5]`` horizontally.
    """
    h, w = display.shape[:2]
    source = _photo_uri(display) if photo else png_uri(display)
    fig = go.Figure(go.Image(source=source, hovertemplate="x %{x} px, y %{y} px<extra></extra>"))
    if patch_size is not None:
        ph, pw = patch_size
        shapes = [dict(type="line", x0=x - 0.5, x1=x - 0.5, y0=-0.5, y1=h - 0.5) for x in range(0, w + 1, pw)]
        shapes += [dict(type="line", y0=y - 0.5, y1=y - 0.5, x0=-0.5, x1=w - 0.5) for y in range(0, h + 1, ph)]
        for s in shapes:
            s["line"] = dict(color="white", width=1)
        if highlight is not None:
            shapes.append(patch_box(*highlight, ph, pw))
        fig.update_layout(shapes=shapes)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    return finish(fig, title, height=height, square=True)


def add_patch_picker(fig: go.Figure, grid: Sequence[int], patch_size: Sequence[int] = (1, 1),
                     values: Optional[np.ndarray] = None, value_name: str = "value", *,
                     axes: tuple[str, str] = ("x", "y")) -> int:
    """Add near-invisible markers at patch centres (row-major) so a click selects a patch.

    The markers carry the hover text (patch and, if given, its value from ``values``) and the
    heatmaps below stop answering hover, so the markers receive clicks. Returns the trace index;
    a selected point's index is the patch index ``r·gw + c`` (:func:`tile_at` turns it back).
    ``axes`` names the subplot's axes (e.g. ``("x2", "y2")`` for the second panel).
    """
    gh, gw = grid
    ph, pw = patch_size
    rows, cols = np.divmod(np.arange(gh * gw), gw)
    for trace in fig.data:
        if trace.type == "heatmap":
            trace.hoverinfo = "skip"
            trace.hovertemplate = None
    text = [f"{t('plot.patch')} ({r}, {c})" for r, c in zip(rows, cols)]
    if values is not None:
        text = [f"{t}<br>{value_name} {v:.4g}" for t, v in zip(text, np.asarray(values).ravel())]
    # Same centres as the heatmap cells: (c + 0.5)·pw − 0.5 in pixels, or c on a grid axis (pw = 1).
    fig.add_trace(go.Scatter(x=(cols + 0.5) * pw - 0.5, y=(rows + 0.5) * ph - 0.5, mode="markers",
                             marker=dict(size=max(6, min(ph, 24)), opacity=0.01, symbol="square"),
                             selected=dict(marker=dict(opacity=0.01)), unselected=dict(marker=dict(opacity=0.01)),
                             text=text, hovertemplate="%{text}<br>" + t("plot.click_hover") + "<extra></extra>",
                             showlegend=False, name="pick a patch", xaxis=axes[0], yaxis=axes[1]))
    fig.update_layout(hovermode="closest")
    return len(fig.data) - 1


def tile_at(point_index: int, grid: Sequence[int]) -> tuple[int, int]:
    """(row, col) of a picker point: the pickers number patches and tiles row-major, ``r·gw + c``."""
    gh, gw = int(grid[0]), int(grid[1])
    if not 0 <= int(point_index) < gh * gw:
        raise IndexError(f"point {point_index} is outside a {gh}×{gw} grid")
    row, col = divmod(int(point_index), gw)
    return row, col


def attention_overlay(display: np.ndarray, grid_map: np.ndarray, patch_size: Sequence[int], *,
                      opacity: float = 0.6, title: str = "", value_name: str = "attention",
                      query_patch: Optional[tuple[int, int]] = None, height: Optional[int] = 480,
                      marked: Sequence[tuple[int, int]] = (), marked_label: str = "sink",
                      title_width: Optional[int] = None) -> go.Figure:
    """A ``(gh, gw)`` map drawn over the image, one square cell per patch; hover shows patch and value.

    Trace 0 is the image (PNG data URI), trace 1 the map. ``query_patch`` gets a solid orange
    frame; every ``(row, col)`` in ``marked`` (e.g. ``AttentionSinks.sinks``) a dashed magenta
    frame labelled ``marked_label``, as a layout shape named ``"sink (row, col)"``, and the
    hover of that cell says so. ``title_width``: the width (px) the figure is shown at, when
    narrower than a page (e.g. :data:`HALF_WIDTH`); the title wraps for it.
    """
    ph, pw = patch_size
    fig = image_figure(display, patch_size=None, photo=True)
    # Hover text only with marked cells: a per-cell list of strings is validated element by element
    # (a 224×224 Grad-CAM map at pixel resolution: ~0.1 s per figure for 50 k empty strings).
    marks = dict(text=mark_text(grid_map.shape, marked, marked_label)) if len(marked) else {}
    fig.add_trace(patch_heatmap(
        grid_map, patch_size, colorscale=SEQUENTIAL, opacity=opacity,
        colorbar=dict(title=dict(text=value_name), thickness=14), **marks,
        hovertemplate=patch_hover() + ("%{text}" if marks else "") + "<br>"
                      + value_name + " %{z:.4f}<extra></extra>",
    ))
    if query_patch is not None:
        fig.add_shape(**patch_box(*query_patch, ph, pw))
    for row, col in marked:
        fig.add_shape(**marked_box(int(row), int(col), ph, pw, marked_label))
    return finish(fig, title, height=height, square=True, title_width=title_width)


def patch_strip(patches: np.ndarray, count: int, title: str = "", *, height: int = 160) -> go.Figure:
    """The first ``count`` patches of ``(N, ph, pw, 3)`` uint8 in sequence order, side by side; square pixels."""
    shown = patches[:count].astype(np.float64) / 255.0
    mosaic = tile_images(shown, columns=len(shown), pad=2)
    fig = go.Figure(go.Image(source=png_uri((mosaic * 255).astype(np.uint8)), hoverinfo="skip"))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    return finish(fig, title, height=height, square=True)


def rgb_figure(rgb: np.ndarray, title: str = "", *, height: Optional[int] = 420,
               title_width: Optional[int] = None) -> go.Figure:
    """An ``(h, w, 3)`` image with values in [0, 1] (e.g. a PCA colouring), one square pixel per unit;
    ``title_width``: the width (px) the figure is shown at, when narrower than a page (its title wraps for it)."""
    fig = go.Figure(go.Image(source=png_uri((np.clip(rgb, 0, 1) * 255).astype(np.uint8)),
                             hovertemplate=t("plot.row_col_hover", row="%{y}", col="%{x}") + "<extra></extra>"))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    return finish(fig, title, height=height, square=True, title_width=title_width)


#: Colour of background patches in :func:`token_pca_figure` with a foreground mask (DINOv2's masked view).
BACKGROUND_RGB = (0, 0, 0)


def _variance_text(explained: Optional[Sequence[float]]) -> str:
    """``"PC1–3: 44 %, 14 %, 10 % of the variance"`` in the current language (empty without ratios)."""
    if explained is None or len(explained) == 0:
        return ""
    shares = ", ".join(f"{100 * float(r):.0f} %" for r in explained[:3])
    components = f"PC1–{min(3, len(explained))}" if len(explained) > 1 else "PC1"
    return t("plot.variance_of", components=components, shares=shares)


def token_pca_figure(rgb: np.ndarray, display: Optional[np.ndarray] = None, *,
                     patch_size: Sequence[int] = (1, 1), foreground: Optional[np.ndarray] = None,
                     scores: Optional[np.ndarray] = None, explained: Optional[Sequence[float]] = None,
                     title: str = "", height: Optional[int] = 460, picker: bool = False) -> go.Figure:
    """Patch-token PCA as colours (``TokenPCA.rgb``), one square cell per patch, optionally beside the input.

    Args:
        rgb: ``(gh, gw, 3)`` in [0, 1]: components 1–3 as red, green, blue
            (:mod:`vitviz.analysis.tokens` states the sign and scaling conventions).
        display: ``(H, W, 3)`` uint8 network input; when given, it is the left panel and the
            colours the right one, both in pixels of the network input (pass ``patch_size``).
        patch_size: ``(ph, pw)`` input pixels per patch; ``(1, 1)`` puts the colours on patch-index axes.
        foreground: ``(gh, gw)`` bool; patches outside it are drawn black (``BACKGROUND_RGB``) and
            their hover says "background".
        scores: ``(gh, gw, k)`` component scores, shown on hover.
        explained: explained-variance ratios, written above the colours (the panel title).
        title: the figure title (build it with :func:`figure_title`, naming the layer).
        picker: add click markers on the colour panel (:func:`add_patch_picker`, point index ``r·gw + c``).

    The colour panel is an ``go.Image`` trace whose pixels are the patches (``dx = pw``,
    ``dy = ph``); it is the last trace, or the one before the picker.
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"rgb must be (gh, gw, 3), got {rgb.shape}")
    gh, gw = rgb.shape[:2]
    ph, pw = int(patch_size[0]), int(patch_size[1])
    pixels = (np.clip(rgb, 0.0, 1.0) * 255).round().astype(np.uint8)
    text = [[f"{t('plot.patch')} ({r}, {c})" for c in range(gw)] for r in range(gh)]
    if scores is not None:
        sc = np.asarray(scores)
        for r in range(gh):
            for c in range(gw):
                text[r][c] += "".join(f"<br>PC{j + 1} {sc[r, c, j]:.3g}" for j in range(min(3, sc.shape[-1])))
    if foreground is not None:
        mask = np.asarray(foreground, dtype=bool)
        if mask.shape != (gh, gw):
            raise ValueError(f"foreground must be ({gh}, {gw}), got {mask.shape}")
        pixels[~mask] = BACKGROUND_RGB
        for r in range(gh):
            for c in range(gw):
                text[r][c] += "<br>foreground" if mask[r, c] else "<br>background"
    subtitle = _variance_text(explained)
    cells = go.Image(z=pixels, x0=pw / 2 - 0.5, dx=pw, y0=ph / 2 - 0.5, dy=ph, text=text,
                     hovertemplate="%{text}<extra></extra>", name="token PCA")
    if display is None:
        fig = go.Figure(cells)
        axes = ("x", "y")
        if subtitle:
            fig.add_annotation(text=subtitle, x=0, xref="paper", y=1, yref="paper", yanchor="bottom",
                               xanchor="left", showarrow=False, font=dict(size=FONT_SIZE - 1))
    else:
        fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.03,
                            subplot_titles=(t("plot.network_input"), subtitle or t("plot.pca_rgb")))
        fig.add_trace(go.Image(source=_photo_uri(display), hovertemplate="x %{x} px, y %{y} px<extra></extra>",
                               name="input"), 1, 1)
        fig.add_trace(cells, 1, 2)
        fig.update_annotations(font=dict(size=FONT_SIZE - 1))
        square_axes(fig, "x2", "y2")
        fig.update_xaxes(matches="x")
        fig.update_yaxes(matches="y")
        axes = ("x2", "y2")
    # Fixed ranges: the picker's markers must not pad the axes around the picture.
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, range=[-0.5, gw * pw - 0.5])
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, range=[gh * ph - 0.5, -0.5])
    if picker:  # the markers take over the cells' hover text, so they receive the clicks
        add_patch_picker(fig, (gh, gw), (ph, pw), axes=axes)
        fig.data[-2].update(hoverinfo="skip", hovertemplate=None)
        fig.data[-1].text = [t for row in text for t in row]
    finish(fig, title, height=height, square=True, margin=dict(t=title_top(wrap_title(title)) + 30))
    return fig


def token_similarity_figure(sim: np.ndarray, display: Optional[np.ndarray] = None, *,
                            patch_size: Sequence[int] = (1, 1), query: Optional[tuple[int, int]] = None,
                            title: str = "", opacity: float = 0.65, height: Optional[int] = 480,
                            picker: bool = False) -> go.Figure:
    """Cosine similarity of the query patch's token to every patch token, on a fixed [−1, 1] scale.

    Args:
        sim: ``(gh, gw)`` similarities (:func:`vitviz.analysis.tokens.token_similarity`).
        display: ``(H, W, 3)`` uint8 network input drawn under the map (then pass ``patch_size``);
            without it the map is drawn on patch-index axes.
        patch_size: ``(ph, pw)`` input pixels per patch.
        query: ``(row, col)`` of the query patch: a solid orange frame, as the Attention page's query.
        title: the figure title (build it with :func:`figure_title`, naming layer and query).
        opacity: of the map over the image.
        picker: add click markers (:func:`add_patch_picker`) so a click picks the next query.

    Colour map cividis (colour-blind safe), fixed to [−1, 1] so one colour means one similarity on
    every click and layer: dark blue −1 (opposite), grey 0 (orthogonal), yellow 1 (same direction;
    the query itself). The heatmap is the last trace, or the one before the picker.
    """
    sim = np.asarray(sim, dtype=np.float64)
    if sim.ndim != 2:
        raise ValueError(f"sim must be (gh, gw), got {sim.shape}")
    gh, gw = sim.shape
    ph, pw = int(patch_size[0]), int(patch_size[1])
    fig = image_figure(display, patch_size=None, photo=True, height=height) if display is not None else go.Figure()
    fig.add_trace(patch_heatmap(
        sim, (ph, pw), zmin=-1, zmax=1, colorscale=SIMILARITY, opacity=opacity if display is not None else 1.0,
        colorbar=dict(title=dict(text=t("plot.cosine"), side="right"), thickness=14, tickvals=[-1, -0.5, 0, 0.5, 1]),
        hovertemplate=patch_hover() + "<br>" + t("plot.similarity") + " %{z:.3f}<extra></extra>",
        name="token similarity"))
    # Fixed ranges: the picker's markers must not pad the axes around the map.
    fig.update_xaxes(range=[-0.5, gw * pw - 0.5])
    fig.update_yaxes(range=[gh * ph - 0.5, -0.5])
    if display is None:
        fig.update_xaxes(title=t("plot.patch_column0"), showgrid=False, zeroline=False)
        fig.update_yaxes(title=t("plot.patch_row0"), autorange="reversed", showgrid=False, zeroline=False)
    if query is not None:
        row, col = int(query[0]), int(query[1])
        if not (0 <= row < gh and 0 <= col < gw):
            raise IndexError(f"query patch ({row}, {col}) is outside the {gh}×{gw} grid")
        fig.add_shape(**patch_box(row, col, ph, pw))
    if picker:
        add_patch_picker(fig, (gh, gw), (ph, pw), sim, "similarity")
    margin = dict(l=60, b=50) if display is None else None
    return finish(fig, title, height=height, square=True, margin=margin)


def tile_images(images: np.ndarray, columns: int, pad: int = 1) -> np.ndarray:
    """``(n, h, w, 3)`` floats in [0, 1] → one ``(rows·(h+pad), columns·(w+pad), 3)`` mosaic (NaN-free)."""
    n, h, w, c = images.shape
    rows = int(np.ceil(n / columns))
    mosaic = np.ones((rows * (h + pad) - pad, columns * (w + pad) - pad, c))
    for i in range(n):
        r, col = divmod(i, columns)
        mosaic[r * (h + pad):r * (h + pad) + h, col * (w + pad):col * (w + pad) + w] = images[i]
    return mosaic
