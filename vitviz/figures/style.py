"""The look every vitviz figure shares: palettes, the projector title, layout, patch frames, embedded pictures.

Colour maps are perceptually uniform and readable with colour-vision deficiencies (viridis / cividis);
heads are told apart by a colour-blind-safe qualitative palette (Paul Tol's, plotly's "Safe") plus marker
shape, so colour is never the only cue. Figures leave background colours to the host theme (light or dark),
keep image pixels and patches square (``scaleanchor``), and keep legends outside the data. Titles are meant
to stand alone on a projector: build them with :func:`figure_title`; :func:`finish` wraps and pins them.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from vitviz.text.i18n import t
from vitviz.figures.titles import title_layout, title_top, wrap_title


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


def finish(fig: go.Figure, title: str = "", height: Optional[int] = None, square: bool = False, *,
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
        square_axes(fig)
    return fig


def square_axes(fig: go.Figure, x: str = "x", y: str = "y") -> None:
    """One unit on the y axis ``y`` as long as one on ``x``: square pixels, patches and tiles."""
    name = "yaxis" if y == "y" else f"yaxis{y[1:]}"
    xname = "xaxis" if x == "x" else f"xaxis{x[1:]}"
    fig.layout[name].update(scaleanchor=x, scaleratio=1, constrain="domain")
    fig.layout[xname].update(constrain="domain")


def legend_right(fig: go.Figure) -> None:
    fig.update_layout(legend=dict(x=1.02, xanchor="left", y=1, yanchor="top", font=dict(size=FONT_SIZE - 1)))


def legend_below(fig: go.Figure, plot_height: int) -> None:
    """Legend under the x-axis title, clear of the data (the bottom margin grows to hold it)."""
    fig.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=-62 / max(plot_height, 1), yanchor="top",
                                  font=dict(size=FONT_SIZE - 1)))


def head_style(head: int, symbol: str = "circle") -> tuple[str, str]:
    """(colour, marker symbol) of head ``head``: palette colour; hollow after the first cycle."""
    colour = HEAD_COLOURS[head % len(HEAD_COLOURS)]
    return colour, symbol if head < len(HEAD_COLOURS) else f"{symbol}-open"


def patch_box(row: int, col: int, ph: float = 1, pw: float = 1, x0: float = 0, y0: float = 0) -> dict:
    """An orange frame around patch (row, col); ``ph``/``pw`` = 1 on a grid-index axis."""
    return dict(type="rect", x0=x0 + col * pw - 0.5, x1=x0 + (col + 1) * pw - 0.5,
                y0=y0 + row * ph - 0.5, y1=y0 + (row + 1) * ph - 0.5, line=dict(color=HIGHLIGHT, width=3))


def marked_box(row: int, col: int, ph: float, pw: float, label: str) -> dict:
    """A dashed magenta frame around patch (row, col) named and labelled ``"label (row, col)"``."""
    box = patch_box(row, col, ph, pw)
    box.update(line=dict(color=MARK, width=2.5, dash="dash"), name=f"{label} ({row}, {col})",
               label=dict(text=label, textposition="top left", font=dict(color=MARK, size=FONT_SIZE - 2)))
    return box


def mark_text(grid: Sequence[int], marked: Sequence[tuple[int, int]], label: str) -> list[list[str]]:
    """Per-cell hover suffix: ``" — label"`` on marked cells, empty elsewhere."""
    text = [["" for _ in range(int(grid[1]))] for _ in range(int(grid[0]))]
    for row, col in marked:
        if not (0 <= row < grid[0] and 0 <= col < grid[1]):
            raise IndexError(f"marked patch ({row}, {col}) is outside the {grid[0]}×{grid[1]} grid")
        text[int(row)][int(col)] = f" — {label}"
    return text


def patch_hover() -> str:
    """The hover line "patch (row, col)" (0-based) in the current language, for a heatmap with (row, col) customdata."""
    return t("plot.patch") + " (%{customdata[0]}, %{customdata[1]})"


def patch_heatmap(grid_map: np.ndarray, patch_size: Sequence[int], **style) -> go.Heatmap:
    """One heatmap cell per patch, centred on the patch in input pixels, ``customdata`` = (row, col)."""
    ph, pw = patch_size
    gh, gw = grid_map.shape
    return go.Heatmap(z=grid_map, x=(np.arange(gw) + 0.5) * pw - 0.5, y=(np.arange(gh) + 0.5) * ph - 0.5,
                      customdata=np.stack(np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij"), -1), **style)


def colour_lut(colorscale: str, n: int = 256) -> np.ndarray:
    """``(n, 3)`` uint8 RGB samples of a plotly colour scale from its low to its high end."""
    colours = plotly.colors.sample_colorscale(colorscale, list(np.linspace(0.0, 1.0, n)), colortype="tuple")
    return np.clip(np.round(np.asarray(colours, dtype=np.float64) * 255), 0, 255).astype(np.uint8)
