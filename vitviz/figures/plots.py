"""Plotly figures for vitviz results. Each builder takes arrays/dataclasses and returns a Figure.

No Streamlit here: the app, a notebook or a script can show or save these. Colour maps are
perceptually uniform and readable with colour-vision deficiencies (viridis / cividis); heads are
told apart by a colour-blind-safe qualitative palette (Paul Tol's, plotly's "Safe") plus marker
shape, so colour is never the only cue. Figures leave background colours to the host theme
(light or dark), keep image pixels and patches square (``scaleanchor``), and keep legends outside
the data. Titles are meant to stand alone on a projector: build them with :func:`figure_title`.
"""
from __future__ import annotations

import base64
import io
from typing import Mapping, Optional, Sequence, Union

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from vitviz.text.i18n import t, tn
from vitviz.figures.titles import (TITLE_SIZE, TITLE_WIDTH, rewrap_title, text_width, title_chars, title_layout,  # noqa: F401
                     title_top, wrap_chars, wrap_title)

_text_width = text_width  # the names the builders below (and older tests) use
_wrap_title = wrap_chars
_title_top = title_top

SEQUENTIAL = "Viridis"
SIMILARITY = "Cividis"
#: One distinct colour per head: Paul Tol's colour-blind-safe qualitative palette (plotly's "Safe",
#: 11 colours) then five of Tol's "light"/"vibrant" colours, so ViT-B (12) and ViT-L (16) heads all
#: differ in colour; heads past its length reuse the colours with hollow markers.
HEAD_COLOURS: tuple[str, ...] = tuple(plotly.colors.qualitative.Safe) + (
    "#EE8866", "#FFAABB", "#BBCC33", "#0077BB", "#EE7733")
#: Marker symbol per compared model (the colour is the head).
MODEL_SYMBOLS: tuple[str, ...] = ("circle", "diamond", "square", "triangle-up", "cross", "star")
#: Dash style per compared model's reference lines.
MODEL_DASHES: tuple[str, ...] = ("dot", "dash", "dashdot", "longdash", "longdashdot")
HIGHLIGHT = "#ff7f0e"
#: Outline of marked patches (e.g. attention sinks): Tol's vibrant magenta, dashed, unlike the
#: solid orange query frame.
MARK = "#EE3377"
#: Reference and baseline lines (uniform attention, a 3×3 window, random order): 5.7:1 on white,
#: above WCAG AA's 3:1 for graphics and 4.5:1 for the text labels drawn in it.
REFERENCE = "#666666"
FONT_SIZE = 14
#: Height (px) of a horizontal colour bar and its numbers laid above a plot, under its title.
COLOURBAR_ABOVE = 58
#: Width (px) of a figure in half of a page's main column at 1440 px (for ``title_width``).
HALF_WIDTH = 440


def figure_title(what: str, model_label: str, *, untrained: bool = False, extra: str = "") -> str:
    """A title that stands alone on a projector: ``"what · model (untrained) · extra"``.

    ``figure_title("Attention rollout", "DINOv2 ViT-S/14", untrained=True, extra="cat, 224×224 px")``
    gives ``"Attention rollout · DINOv2 ViT-S/14 (untrained) · cat, 224×224 px"``. A label that
    already ends with "(untrained)" is not marked twice; empty parts are left out.
    """
    label = model_label.strip()
    mark = t("plot.untrained")
    if untrained and not label.endswith(mark):
        label = f"{label} {mark}" if label else mark
    return " · ".join(part for part in (what.strip(), label, extra.strip()) if part)


def _layout(fig: go.Figure, title: str = "", height: Optional[int] = None, square: bool = False, *,
            margin: Optional[dict] = None, title_width: Optional[float] = None, wrap: bool = True) -> go.Figure:
    """Title (wrapped for ``title_width`` or the figure's width, unless ``wrap`` is False), margins, height,
    font size; ``square`` keeps units square. Axes with tick labels get plotly's automargin, so their
    numbers and titles are never clipped by a narrow margin (templates differ on that default)."""
    if wrap:
        title = wrap_title(title, title_width or fig.layout.width)
    m = dict(l=10, r=10, t=title_top(title), b=10)
    m.update(margin or {})
    fig.update_layout(title=title_layout(title), margin=m, height=height, font=dict(size=FONT_SIZE))
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    if square:
        _square(fig)
    return fig


def _square(fig: go.Figure, x: str = "x", y: str = "y") -> None:
    """One unit on the y axis ``y`` as long as one on ``x``: square pixels, patches and tiles."""
    name = "yaxis" if y == "y" else f"yaxis{y[1:]}"
    xname = "xaxis" if x == "x" else f"xaxis{x[1:]}"
    fig.layout[name].update(scaleanchor=x, scaleratio=1, constrain="domain")
    fig.layout[xname].update(constrain="domain")


def _legend_right(fig: go.Figure) -> None:
    fig.update_layout(legend=dict(x=1.02, xanchor="left", y=1, yanchor="top", font=dict(size=FONT_SIZE - 1)))


def _legend_below(fig: go.Figure, plot_height: int) -> None:
    """Legend under the x-axis title, clear of the data (the bottom margin grows to hold it)."""
    fig.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=-62 / max(plot_height, 1), yanchor="top",
                                  font=dict(size=FONT_SIZE - 1)))


def head_style(head: int, symbol: str = "circle") -> tuple[str, str]:
    """(colour, marker symbol) of head ``head``: palette colour; hollow after the first cycle."""
    colour = HEAD_COLOURS[head % len(HEAD_COLOURS)]
    return colour, symbol if head < len(HEAD_COLOURS) else f"{symbol}-open"


def _patch_box(row: int, col: int, ph: float = 1, pw: float = 1, x0: float = 0, y0: float = 0) -> dict:
    """An orange frame around patch (row, col); ``ph``/``pw`` = 1 on a grid-index axis."""
    return dict(type="rect", x0=x0 + col * pw - 0.5, x1=x0 + (col + 1) * pw - 0.5,
                y0=y0 + row * ph - 0.5, y1=y0 + (row + 1) * ph - 0.5, line=dict(color=HIGHLIGHT, width=3))


def _marked_box(row: int, col: int, ph: float, pw: float, label: str) -> dict:
    """A dashed magenta frame around patch (row, col) named and labelled ``"label (row, col)"``."""
    box = _patch_box(row, col, ph, pw)
    box.update(line=dict(color=MARK, width=2.5, dash="dash"), name=f"{label} ({row}, {col})",
               label=dict(text=label, textposition="top left", font=dict(color=MARK, size=FONT_SIZE - 2)))
    return box


def png_uri(image: np.ndarray) -> str:
    """An ``(H, W, 3)`` (or RGBA ``(H, W, 4)``) uint8 image as a PNG data URI (compact, unlike a nested-list ``z``)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def photo(image: np.ndarray, max_side: int = 0) -> tuple[str, float]:
    """An RGB photo as a JPEG data URI (quality 90), shrunk to ``max_side`` px when larger, and the
    shrink factor (1.0 = full size). 5–10× smaller than PNG: for images under a semi-transparent map,
    where exact pixels are not the point."""
    from PIL import Image

    picture = Image.fromarray(np.ascontiguousarray(image[..., :3], dtype=np.uint8))
    width = picture.size[0]
    if max_side and max(picture.size) > max_side:
        picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"), width / picture.size[0]


def _photo_uri(image: np.ndarray) -> str:
    return photo(image)[0]


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
            shapes.append(_patch_box(*highlight, ph, pw))
        fig.update_layout(shapes=shapes)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    return _layout(fig, title, height=height, square=True)


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


def _mark_text(grid: Sequence[int], marked: Sequence[tuple[int, int]], label: str) -> list[list[str]]:
    """Per-cell hover suffix: ``" — label"`` on marked cells, empty elsewhere."""
    text = [["" for _ in range(int(grid[1]))] for _ in range(int(grid[0]))]
    for row, col in marked:
        if not (0 <= row < grid[0] and 0 <= col < grid[1]):
            raise IndexError(f"marked patch ({row}, {col}) is outside the {grid[0]}×{grid[1]} grid")
        text[int(row)][int(col)] = f" — {label}"
    return text


def _patch_hover() -> str:
    """The hover line "patch (row, col)" (0-based) in the current language, for a heatmap with (row, col) customdata."""
    return t("plot.patch") + " (%{customdata[0]}, %{customdata[1]})"


def _patch_heatmap(grid_map: np.ndarray, patch_size: Sequence[int], **style) -> go.Heatmap:
    """One heatmap cell per patch, centred on the patch in input pixels, ``customdata`` = (row, col)."""
    ph, pw = patch_size
    gh, gw = grid_map.shape
    return go.Heatmap(z=grid_map, x=(np.arange(gw) + 0.5) * pw - 0.5, y=(np.arange(gh) + 0.5) * ph - 0.5,
                      customdata=np.stack(np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij"), -1), **style)


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
    marks = dict(text=_mark_text(grid_map.shape, marked, marked_label)) if len(marked) else {}
    fig.add_trace(_patch_heatmap(
        grid_map, patch_size, colorscale=SEQUENTIAL, opacity=opacity,
        colorbar=dict(title=dict(text=value_name), thickness=14), **marks,
        hovertemplate=_patch_hover() + ("%{text}" if marks else "") + "<br>"
                      + value_name + " %{z:.4f}<extra></extra>",
    ))
    if query_patch is not None:
        fig.add_shape(**_patch_box(*query_patch, ph, pw))
    for row, col in marked:
        fig.add_shape(**_marked_box(int(row), int(col), ph, pw, marked_label))
    return _layout(fig, title, height=height, square=True, title_width=title_width)


def heads_grid(maps: np.ndarray, *, columns: int = 6, title: str = "", subtitle: str = "",
               labels: Optional[Sequence[int]] = None, background: Optional[np.ndarray] = None,
               patch_size: Optional[Sequence[int]] = None, query_patch: Optional[tuple[int, int]] = None,
               opacity: float = 0.6, width: int = 1000, value_name: str = "",
               marked: Sequence[tuple[int, int]] = (), marked_label: str = "sink") -> go.Figure:
    """Small multiples of ``(n, gh, gw)`` maps (heads, CNN channels) with one shared colour scale.

    Every panel is square per patch (``scaleanchor``); the figure is ``width`` px wide and its
    height follows from the number of columns and rows so panels are not stretched. ``labels``
    number the panels ("``subtitle`` ``label``"). With ``background`` (the display image,
    ``H×W×3`` uint8) each map is drawn over the image at ``opacity``, one cell per patch of
    ``patch_size`` (default: image size / grid); ``query_patch`` frames that patch in every panel,
    and each of ``marked`` gets a dashed, labelled frame in every panel (see :func:`attention_overlay`).
    Trace order: per panel an optional ``image`` trace, then exactly one ``heatmap``.
    """
    heads, gh, gw = maps.shape
    subtitle = subtitle or t("plot.head")
    _mark_text((gh, gw), marked, marked_label)  # checks every marked patch lies on the grid
    columns = max(1, min(columns, heads))
    rows = int(np.ceil(heads / columns))
    labels = list(range(heads)) if labels is None else [int(v) for v in labels]
    if background is not None:
        img_h, img_w = background.shape[:2]
        ph, pw = patch_size if patch_size is not None else (img_h / gh, img_w / gw)
        aspect = img_h / img_w
    else:
        ph, pw = 1, 1
        aspect = gh / gw
    wrapped = wrap_title(title, width - 20)
    left, right, bottom = 10, 90, 10
    gap_h, gap_v, sub_title = 10, 34, 30
    top = (_title_top(wrapped) if wrapped else 0) + sub_title
    plot_w = width - left - right
    panel_w = (plot_w - gap_h * (columns - 1)) / columns
    panel_h = panel_w * aspect
    plot_h = rows * panel_h + (rows - 1) * gap_v
    height = int(round(plot_h + top + bottom))
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[f"{subtitle} {labels[h]}" for h in range(heads)],
                        horizontal_spacing=gap_h / plot_w, vertical_spacing=gap_v / plot_h if rows > 1 else 0.0)
    zmax = float(np.nanmax(maps)) if maps.size else 1.0
    # One small JPEG shared by all panels: a panel is ~150 px wide, a full-size PNG per panel was ~0.7 MB.
    uri, shrink = photo(background, max_side=2 * int(panel_w)) if background is not None else (None, 1.0)
    hover = "%s %d<br>" + _patch_hover().replace("%", "%%") + "<br>%s%%{z:.4f}<extra></extra>"
    cells = np.stack(np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij"), -1)
    for h in range(heads):
        r, c = h // columns + 1, h % columns + 1
        if uri is not None:
            # A shrunk image keeps the full-size pixel coordinates: pixels of ``shrink`` units, the
            # first centred so the image still spans [-0.5, W - 0.5].
            fig.add_trace(go.Image(source=uri, hoverinfo="skip", dx=shrink, dy=shrink,
                                   x0=(shrink - 1) / 2, y0=(shrink - 1) / 2), row=r, col=c)
            xs, ys = (np.arange(gw) + 0.5) * pw - 0.5, (np.arange(gh) + 0.5) * ph - 0.5
        else:
            xs, ys = np.arange(gw), np.arange(gh)
        fig.add_trace(go.Heatmap(z=maps[h], x=xs, y=ys, coloraxis="coloraxis", customdata=cells,
                                 opacity=opacity if uri is not None else 1.0,
                                 hovertemplate=hover % (subtitle, labels[h], f"{value_name} " if value_name else "")),
                      row=r, col=c)
        if query_patch is not None:
            fig.add_shape(**_patch_box(*query_patch, ph, pw), row=r, col=c)
        for mr, mc in marked:
            fig.add_shape(**_marked_box(int(mr), int(mc), ph, pw, marked_label), row=r, col=c)
    fig.update_layout(coloraxis=dict(colorscale=SEQUENTIAL, cmin=0, cmax=zmax,
                                     colorbar=dict(thickness=14, title=dict(text=value_name) if value_name else None)))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    x_range = [-0.5, img_w - 0.5] if uri is not None else [-0.5, gw - 0.5]
    y_range = [img_h - 0.5, -0.5] if uri is not None else [gh - 0.5, -0.5]
    for i in range(1, rows * columns + 1):
        x, y = ("x", "y") if i == 1 else (f"x{i}", f"y{i}")
        _square(fig, x, y)
        fig.layout["xaxis" if i == 1 else f"xaxis{i}"].update(range=x_range, visible=i <= heads)
        fig.layout["yaxis" if i == 1 else f"yaxis{i}"].update(range=y_range, visible=i <= heads)
    fig.update_annotations(font=dict(size=FONT_SIZE))  # the panel titles
    _layout(fig, wrapped, height=height, margin=dict(l=left, r=right, t=top, b=bottom), wrap=False)
    fig.update_layout(width=width)
    return fig


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
    return _layout(fig, title, height=height, square=True)


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
    _legend_right(fig)
    return _layout(fig, title, height=height, margin=dict(l=70, b=60))


def _tile_centres(n: int, size: int) -> np.ndarray:
    """Centre of tile ``i`` (of ``size`` cells plus a 1-cell gap) on the mosaic's index axis."""
    return np.arange(n) * (size + 1) + (size - 1) / 2


def colour_lut(colorscale: str, n: int = 256) -> np.ndarray:
    """``(n, 3)`` uint8 RGB samples of a plotly colour scale from its low to its high end."""
    colours = plotly.colors.sample_colorscale(colorscale, list(np.linspace(0.0, 1.0, n)), colortype="tuple")
    return np.clip(np.round(np.asarray(colours, dtype=np.float64) * 255), 0, 255).astype(np.uint8)


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
    _layout(fig, wrapped, height=height, square=True, margin=margin)
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
    fig.add_shape(**_patch_box(row, col))
    fig.update_xaxes(title=t("plot.position_column0"), showgrid=False, zeroline=False)
    fig.update_yaxes(title=t("plot.position_row0"), autorange="reversed", showgrid=False, zeroline=False)
    return _layout(fig, title, height=height, square=True, margin=dict(l=60, b=50))


References = Union[Mapping[str, float], Mapping[str, Mapping[str, float]]]


def _by_model(references: Optional[References], models: Sequence[str]) -> dict[str, dict[str, float]]:
    """``{model: {name: px}}`` or ``{name: px}`` → ``{model or "": {name: px}}``.

    Flat references belong to the only model when there is one (so its lines are named after it),
    else they are shared by all models (keyed "").
    """
    if not references:
        return {}
    if all(isinstance(v, Mapping) for v in references.values()):
        return {str(m): {str(k): float(v) for k, v in refs.items()} for m, refs in references.items()}
    owner = str(models[0]) if len(models) == 1 else ""
    return {owner: {str(k): float(v) for k, v in references.items()}}


#: Display names of :func:`vitviz.analysis.reference_distances`' guide lines, per language.
_REFERENCE_KEYS = {"uniform": "plot.ref_uniform", "3×3 window": "plot.ref_window"}


def distance_figure(series: Mapping[str, np.ndarray], references: Optional[References] = None, *,
                    title: str = "", height: int = 560, num_images: Optional[int] = None,
                    untrained: bool = False) -> go.Figure:
    """Mean attention distance per head vs layer (paper Fig. 7 right), several models overlaid.

    With ``num_images`` the title is built here (:func:`figure_title`): ``"Mean attention
    distance · <model> vs <model> · N images · <title>"`` (``untrained`` marks the first model),
    so the models and the image count are always in it; without it ``title`` is used as given.

    ``series`` maps a model label to its ``(layers, heads)`` distances in pixels. Colour = head
    (:data:`HEAD_COLOURS`: 16 distinct colours, hollow markers past 16 heads), marker symbol = model.

    Traces: first one per model with all its points (layer-major, ``dist.ravel()``; no legend
    entry of its own), then the legend keys (``x = y = [None]``): one entry per model in legend
    ``legend`` above the plot ("symbol = model"; grey marker of its symbol, grouped with the
    model's points so a click hides that model), and one "head h" entry per head of the widest
    model in legend ``legend2`` below the plot ("colour = head"). ``references`` draws horizontal
    guide lines, either flat (``{name: px}``, e.g. uniform attention, a 3×3 window: the only
    model's when there is one, else shared by all) or per model (``{model label: {name: px}}``),
    each model's lines in its own dash style (:data:`MODEL_DASHES`, in the order of ``series``);
    every line is a layout shape named
    ``"name"`` or ``"model: name"``, labelled right of the plot by an annotation that starts with
    the name: ``"uniform: 104.3 px"``, or ``"uniform (model): 104.3 px"`` when several models have lines.
    """
    fig = go.Figure()
    labels = list(series)
    if num_images is not None:
        names = [figure_title("", m, untrained=untrained and n == 0) for n, m in enumerate(labels)]
        count = tn("plot.images_n", num_images)
        extra = " · ".join(p for p in (count, title) if p)
        title = figure_title(t("plot.mean_distance"), t("plot.versus").join(names), extra=extra)
    max_heads = max((np.asarray(d).shape[1] for d in series.values()), default=0)
    refs = _by_model(references, labels)
    texts = []
    for model, group in refs.items():
        for name, value in group.items():
            shown = t(_REFERENCE_KEYS[name]) if name in _REFERENCE_KEYS else name
            named = model and len(refs) > 1  # one model: the title names it, the margin stays narrow (phones)
            texts.append((value, model, name, f"{shown} ({model}): {value:.1f} px" if named else f"{shown}: {value:.1f} px"))
    wrapped = wrap_title(title)
    head_rows = int(np.ceil(max_heads / 7)) if max_heads else 0
    right = min(320, 20 + 7 * max((len(ref[3]) for ref in texts), default=0))
    margin = dict(l=70, r=right, t=_title_top(wrapped) + 56, b=84 + 24 * head_rows)  # the model legend sits on top: two lines
    plot_h = height - margin["t"] - margin["b"]
    ymax = 0.0
    for n, label in enumerate(labels):
        dist = np.asarray(series[label], dtype=np.float64)
        layers, heads = dist.shape
        symbol = MODEL_SYMBOLS[n % len(MODEL_SYMBOLS)]
        offset = (n - (len(labels) - 1) / 2) * 0.18
        layer_idx, head_idx = np.repeat(np.arange(layers), heads), np.tile(np.arange(heads), layers)
        styles = [head_style(h, symbol) for h in head_idx]
        fig.add_trace(go.Scatter(
            x=layer_idx + offset, y=dist.ravel(), mode="markers", name=label, legendgroup=f"model {n}",
            showlegend=False, marker=dict(color=[s[0] for s in styles], symbol=[s[1] for s in styles], size=9,
                                          line=dict(width=0.5, color="rgba(80,80,80,0.6)")),
            customdata=np.stack([layer_idx, head_idx], -1),
            hovertemplate=label + "<br>" + t("plot.layer_head_hover", layer="%{customdata[0]}", head="%{customdata[1]}")
                          + "<br>%{y:.1f} px<extra></extra>"))
        ymax = max(ymax, float(np.nanmax(dist)) if dist.size else 0.0)
    for n, label in enumerate(labels):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=label, legendgroup=f"model {n}",
                                 legend="legend", hoverinfo="skip",
                                 marker=dict(color="#888888", size=11, symbol=MODEL_SYMBOLS[n % len(MODEL_SYMBOLS)])))
    for h in range(max_heads):
        colour, symbol = head_style(h)
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=t("plot.head_n", n=h), legendgroup=f"head {h}",
                                 legend="legend2", hoverinfo="skip", marker=dict(color=colour, size=11, symbol=symbol)))
    ymax = max([ymax] + [ref[0] for ref in texts]) * 1.08 or 1.0
    for value, model, name, _ in texts:
        n = labels.index(model) if model in labels else list(refs).index(model)
        fig.add_shape(type="line", xref="paper", x0=0, x1=1, y0=value, y1=value, name=f"{model}: {name}" if model else name,
                      line=dict(dash=MODEL_DASHES[n % len(MODEL_DASHES)], width=1.5, color=REFERENCE), layer="below")
    # Labels in the right margin at their line's height, nudged apart (in px) so none overlap.
    last = -1e9
    for value, _, _, text in sorted(texts, key=lambda ref: ref[0]):
        px = value / ymax * plot_h
        shift = max(px, last + 17) - px
        last = px + shift
        fig.add_annotation(x=1.0, xref="paper", xanchor="left", y=value, yanchor="middle", yshift=shift, xshift=6,
                           text=text, showarrow=False, font=dict(size=FONT_SIZE - 2), align="left")
    depth = max((np.asarray(d).shape[0] for d in series.values()), default=1)
    # Layers only on the axis (plotly's padding added ticks -1 and L, which turned the labels on a phone).
    fig.update_xaxes(title=t("plot.depth_layer"), dtick=1, zeroline=False, range=[-0.6, depth - 0.4])
    fig.update_yaxes(title=t("plot.mean_distance_px"), range=[0, ymax])
    small = dict(size=FONT_SIZE - 1)
    fig.update_layout(
        legend=dict(orientation="h", x=0, xanchor="left", y=1.0 + 6 / max(plot_h, 1), yanchor="bottom", font=small,
                    title=dict(text=t("plot.symbol_model"), font=small)),
        legend2=dict(orientation="h", x=0, xanchor="left", y=-76 / max(plot_h, 1), yanchor="top", font=small,
                     title=dict(text=t("plot.colour_head"), font=small)))
    # The title is pinned to the top (title_layout): this margin also holds the model legend (on a phone a
    # centred two-line title ran into it).
    return _layout(fig, wrapped, height=height, margin=margin, wrap=False)


def predictions_figure(labels: Sequence[str], probabilities: Sequence[float], title: str = "") -> go.Figure:
    """Horizontal bars of the top-k predictions, best on top, each labelled with its probability."""
    probs = list(probabilities)[::-1]
    fig = go.Figure(go.Bar(x=probs, y=list(labels)[::-1], orientation="h", marker=dict(color=HEAD_COLOURS[4]),
                           text=[f"{p:.1%}" for p in probs], textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}<br>%{x:.2%}<extra></extra>"))
    fig.update_xaxes(title=t("plot.probability"), tickformat=".0%", range=[0, 1.12])
    fig.update_yaxes(automargin=True, tickfont=dict(size=FONT_SIZE))
    return _layout(fig, title, height=90 + 36 * len(labels), margin=dict(b=50, r=20))


def patch_strip(patches: np.ndarray, count: int, title: str = "", *, height: int = 160) -> go.Figure:
    """The first ``count`` patches of ``(N, ph, pw, 3)`` uint8 in sequence order, side by side; square pixels."""
    shown = patches[:count].astype(np.float64) / 255.0
    mosaic = tile_images(shown, columns=len(shown), pad=2)
    fig = go.Figure(go.Image(source=png_uri((mosaic * 255).astype(np.uint8)), hoverinfo="skip"))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    return _layout(fig, title, height=height, square=True)


def vector_figure(vector: np.ndarray, title: str = "", x_title: str = "index") -> go.Figure:
    """A long vector (a flattened patch, a token embedding) as a line over its index."""
    fig = go.Figure(go.Scattergl(y=vector, mode="lines", hovertemplate=x_title + " %{x}<br>%{y:.3f}<extra></extra>"))
    fig.update_xaxes(title=x_title)
    return _layout(fig, title, height=240, margin=dict(l=50, b=50))


def token_matrix_figure(tokens: np.ndarray, num_prefix: int, title: str = "") -> go.Figure:
    """A ``(T, D)`` token sequence as an image: one row per token, prefix tokens above an orange line."""
    fig = go.Figure(go.Heatmap(z=tokens, colorscale=SEQUENTIAL, colorbar=dict(thickness=14, title=dict(text=t("plot.value"))),
                               hovertemplate=t("plot.token_dim_hover", token="%{y}", dim="%{x}")
                               + "<br>%{z:.3f}<extra></extra>"))
    if num_prefix:
        fig.add_hline(y=num_prefix - 0.5, line=dict(color=HIGHLIGHT, width=2))
    fig.update_yaxes(autorange="reversed", title=t("plot.token")).update_xaxes(title=t("plot.dimension"))
    return _layout(fig, title, height=340, margin=dict(l=60, b=50))


def rgb_figure(rgb: np.ndarray, title: str = "", *, height: Optional[int] = 420,
               title_width: Optional[int] = None) -> go.Figure:
    """An ``(h, w, 3)`` image with values in [0, 1] (e.g. a PCA colouring), one square pixel per unit;
    ``title_width``: the width (px) the figure is shown at, when narrower than a page (its title wraps for it)."""
    fig = go.Figure(go.Image(source=png_uri((np.clip(rgb, 0, 1) * 255).astype(np.uint8)),
                             hovertemplate=t("plot.row_col_hover", row="%{y}", col="%{x}") + "<extra></extra>"))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    return _layout(fig, title, height=height, square=True, title_width=title_width)


def _discrete_scale(colours: Sequence[str]) -> list:
    """A stepwise colour scale: value ``i`` of ``0..n-1`` (``cmin=-0.5``, ``cmax=n-0.5``) gets ``colours[i]``."""
    n = len(colours)
    scale = []
    for i, colour in enumerate(colours):
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    return scale


def depth_comparison_figure(comp, vit_label: str = "ViT", cnn_label: str = "CNN", title: str = "", *,
                            height: int = 500) -> go.Figure:
    """ViT mean attention distance per head (and mean ± std) vs CNN receptive-field radius, on relative depth.

    Exactly four traces, in this order: 0 the ViT's heads (colour = head, keyed by a "head"
    colour bar), 1 their mean ± std, 2 the CNN's theoretical receptive-field radius as the largest
    reached so far (a running maximum over ``comp.cnn_layer_radius``, so stride-2 shortcut convs
    with small fields do not make the curve dip; each layer's own radius is in ``customdata`` and
    hover), 3 the effective RF radius per stage. The legend sits below the plot.
    """
    layers, heads = comp.vit_heads.shape
    head_idx = np.tile(np.arange(heads), layers)
    colours = [head_style(h)[0] for h in range(heads)]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=np.repeat(comp.vit_depth, heads), y=comp.vit_heads.ravel(), mode="markers",
        name=f"{vit_label}: {t('plot.vit_heads')}",
        marker=dict(size=8, opacity=0.85, color=head_idx, colorscale=_discrete_scale(colours), cmin=-0.5,
                    cmax=heads - 0.5, symbol=[head_style(h)[1] for h in head_idx],
                    line=dict(width=0.5, color="rgba(80,80,80,0.6)"),
                    colorbar=dict(title=dict(text=t("plot.head")), tickvals=list(range(heads)), thickness=14,
                                  len=0.9, y=0.5, yanchor="middle")),
        customdata=np.stack([np.repeat(np.arange(layers), heads), head_idx], -1),
        hovertemplate=vit_label + "<br>" + t("plot.layer_head_hover", layer="%{customdata[0]}", head="%{customdata[1]}")
                      + "<br>%{y:.1f} px<extra></extra>"))
    fig.add_trace(go.Scatter(x=comp.vit_depth, y=comp.vit_mean, mode="lines", name=f"{vit_label}: {t('plot.vit_mean')}",
                             line=dict(color="#555555", width=2),
                             error_y=dict(type="data", array=comp.vit_std, visible=True, color="#555555"),
                             hovertemplate=t("plot.depth_hover", x="%{x:.2f}") + "<br>%{y:.1f} px<extra></extra>"))
    raw = np.asarray(comp.cnn_layer_radius, dtype=np.float64)
    largest = np.maximum.accumulate(raw) if raw.size else raw
    fig.add_trace(go.Scatter(x=comp.cnn_layer_depth, y=largest, mode="lines", line=dict(dash="dash", color="#0072B2", width=2),
                             name=f"{cnn_label}: {t('plot.cnn_rf')}", line_shape="hv",
                             customdata=raw,
                             hovertemplate=t("plot.depth_hover", x="%{x:.2f}") + "<br>"
                                           + t("plot.largest_hover", px="%{y:.0f}") + "<br>"
                                           + t("plot.this_layer_hover", px="%{customdata:.0f}") + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=comp.cnn_stage_depth, y=comp.cnn_effective_radius, mode="lines+markers",
                             name=f"{cnn_label}: {t('plot.cnn_erf', share=f'{comp.effective_share:.0%}')}",
                             text=list(comp.cnn_stage_names), marker=dict(symbol="diamond", size=11, color="#D55E00"),
                             line=dict(color="#D55E00", width=2),
                             hovertemplate="%{text}<br>" + t("plot.depth_hover", x="%{x:.2f}") + "<br>%{y:.1f} px<extra></extra>"))
    fig.update_xaxes(title=t("plot.relative_depth"), range=[0, 1.02])
    fig.update_yaxes(title=t("plot.radius_px"), rangemode="tozero")
    top = title_top(wrap_title(title))
    margin = dict(l=70, r=20, t=top, b=155)
    _legend_below(fig, height - top - margin["b"])
    fig.update_layout(legend=dict(orientation="v"))
    return _layout(fig, title, height=height, margin=margin)


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
        _square(fig, "x2", "y2")
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
    _layout(fig, title, height=height, square=True, margin=dict(t=title_top(wrap_title(title)) + 30))
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
    fig.add_trace(_patch_heatmap(
        sim, (ph, pw), zmin=-1, zmax=1, colorscale=SIMILARITY, opacity=opacity if display is not None else 1.0,
        colorbar=dict(title=dict(text=t("plot.cosine"), side="right"), thickness=14, tickvals=[-1, -0.5, 0, 0.5, 1]),
        hovertemplate=_patch_hover() + "<br>" + t("plot.similarity") + " %{z:.3f}<extra></extra>",
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
        fig.add_shape(**_patch_box(row, col, ph, pw))
    if picker:
        add_patch_picker(fig, (gh, gw), (ph, pw), sim, "similarity")
    margin = dict(l=60, b=50) if display is None else None
    return _layout(fig, title, height=height, square=True, margin=margin)


def faithfulness_figure(result, title: str = "", *, height: int = 500) -> go.Figure:
    """Deletion (left) and insertion (right) curves of every map against the random baseline.

    ``result`` is a :class:`vitviz.analysis.faithfulness.Faithfulness`. Each map is one colour and
    one marker (:func:`head_style` with :data:`MODEL_SYMBOLS`) in both panels, named in the legend
    with both areas: ``"Grad-CAM: deletion AUC 0.060 · insertion AUC 0.591"``. The random baseline is
    a dashed grey line with ``x`` markers and a grey ±1 std band over its orders. Lower deletion
    and higher insertion area is more faithful. x is the fraction of cells removed / revealed,
    y the score; an annotation named ``"score"`` above the panels says what the score is
    (``result.target``) and what a removed cell becomes. Build ``title`` with :func:`figure_title`.

    Traces: per map its deletion (``xaxis``) then insertion (``xaxis2``) line, both named after the
    map and sharing a legend group (the insertion line has no legend entry); then per panel the
    random band (two traces named ``"random ± std"``, no legend entry) and the random line.
    """
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=(t("plot.deletion_title"), t("plot.insertion_title")))
    x = np.asarray(result.fractions, dtype=np.float64)
    verbs = {"deletion": t("plot.removed"), "insertion": t("plot.revealed")}
    maps = [m for m in result.maps if m.name != "random"]
    for n, curves in enumerate(maps):
        colour, symbol = head_style(n, MODEL_SYMBOLS[n % len(MODEL_SYMBOLS)])
        name = t("plot.auc_legend", name=curves.name, deletion=f"{curves.deletion_auc:.3f}",
                 insertion=f"{curves.insertion_auc:.3f}")
        for col, kind in enumerate(("deletion", "insertion"), start=1):
            fig.add_trace(go.Scatter(
                x=x, y=curves.curve(kind), mode="lines+markers", name=name, legendgroup=curves.name,
                showlegend=col == 1, line=dict(color=colour, width=2), marker=dict(color=colour, symbol=symbol, size=8),
                hovertemplate=f"{curves.name}<br>" + t("plot.cells_hover", share="%{x:.0%}", verb=verbs[kind])
                              + f"<br>{t('plot.score')} %{{y:.4g}}<extra></extra>"),
                row=1, col=col)
    for curves in [m for m in result.maps if m.name == "random"]:
        name = t("plot.auc_legend", name=t("plot.random_orders", n=result.repeats),
                 deletion=f"{curves.deletion_auc:.3f} ± {curves.deletion_auc_std:.3f}",
                 insertion=f"{curves.insertion_auc:.3f} ± {curves.insertion_auc_std:.3f}")
        for col, kind in enumerate(("deletion", "insertion"), start=1):
            mean, spread = curves.curve(kind), curves.std(kind)
            for edge, fill in ((mean + spread, None), (mean - spread, "tonexty")):
                fig.add_trace(go.Scatter(x=x, y=edge, mode="lines", line=dict(width=0, color="#999999"), fill=fill,
                                         fillcolor="rgba(136,136,136,0.2)", name="random ± std", showlegend=False,
                                         legendgroup="random", hoverinfo="skip"), row=1, col=col)
            fig.add_trace(go.Scatter(
                x=x, y=mean, mode="lines+markers", name=name, legendgroup="random", showlegend=col == 1,
                line=dict(color=REFERENCE, width=2, dash="dash"), marker=dict(color=REFERENCE, symbol="x", size=8),
                hovertemplate=t("plot.random") + "<br>" + t("plot.cells_hover", share="%{x:.0%}", verb=verbs[kind])
                              + f"<br>{t('plot.score')} %{{y:.4g}}<extra></extra>"),
                row=1, col=col)
    for col, kind in enumerate(("deletion", "insertion"), start=1):
        fig.update_xaxes(title=t("plot.cells_fraction", grid=f"{result.grid[0]}×{result.grid[1]}", verb=verbs[kind]),
                         range=[-0.02, 1.02], tickformat=".0%", row=1, col=col)
    fig.update_yaxes(title=t("plot.score"), row=1, col=1)
    fig.add_annotation(text=t("plot.score_note", target=result.target, baseline=result.baseline), xref="paper",
                       yref="paper", x=0, xanchor="left", y=1, yanchor="bottom", yshift=30, showarrow=False,
                       font=dict(size=FONT_SIZE - 1), name="score")
    top = title_top(wrap_title(title))
    margin = dict(l=70, r=20, t=top + 56, b=90 + 22 * len(result.maps))
    _legend_below(fig, height - margin["t"] - margin["b"])
    fig.update_layout(legend=dict(orientation="v"))
    return _layout(fig, title, height=height, margin=margin)
