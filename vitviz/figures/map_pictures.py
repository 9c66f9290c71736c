"""Attention maps over the image as pictures: JPEGs and light HTML, no plot.

Numpy in, data URIs and HTML strings out; no Streamlit here (the dashboard's Attention page shows
them, a notebook can ``IPython.display.HTML`` them, a script can write them into a page).

Why not plotly: on a layer-slider step a plotly chart is rebuilt in the browser (SVG per cell and per
click target, colour bar, image load), while swapping a JPEG costs a few ms (``bench/ui.py``; figures in
``bench/RESULTS.md``). The values travel beside the picture
for hover read-outs and downloads.

Conventions, as :func:`vitviz.figures.plots.attention_overlay`: map cell ``(r, c)`` covers image pixels
``[r·ph, (r+1)·ph) × [c·pw, (c+1)·pw)``; a picture is ``(1 − opacity)·image + opacity·colour``
with the colour from :data:`vitviz.figures.plots.SEQUENTIAL` over ``[0, max]`` (for the heads: one range
shared by all panels), shown by a colour bar; the query patch has a solid orange frame, each
marked patch (e.g. an attention sink) a dashed magenta one.
"""
from __future__ import annotations

import base64
import html
import io
from typing import Optional, Sequence

import numpy as np
from PIL import ImageColor

from vitviz.text.i18n import t
from vitviz.figures.raster import colour_index, jpeg_uri
from vitviz.figures.style import HIGHLIGHT, MARK, SEQUENTIAL, colour_lut

_LUT = colour_lut(SEQUENTIAL)  # (256, 3) uint8, low → high


def _frame(panel: np.ndarray, row: int, col: int, ph: int, pw: int, colour: str, width: int,
           dash: int = 0) -> None:
    """Draw the frame of patch (row, col) into ``panel`` in place; ``dash`` > 0: dashes of that length."""
    rgb = np.array(ImageColor.getrgb(colour), np.uint8)
    h, w = panel.shape[:2]
    y0, y1, x0, x1 = row * ph, min((row + 1) * ph, h), col * pw, min((col + 1) * pw, w)
    keep_y = (np.arange(y0, y1) - y0) // dash % 2 == 0 if dash else np.ones(y1 - y0, bool)
    keep_x = (np.arange(x0, x1) - x0) // dash % 2 == 0 if dash else np.ones(x1 - x0, bool)
    for edge in (slice(y0, y0 + width), slice(y1 - width, y1)):
        panel[edge, np.arange(x0, x1)[keep_x]] = rgb
    for edge in (slice(x0, x0 + width), slice(x1 - width, x1)):
        panel[np.arange(y0, y1)[keep_y], edge] = rgb


def head_panels(maps: np.ndarray, background: np.ndarray, patch_size: Sequence[int], *, opacity: float = 0.6,
                query_patch: Optional[tuple[int, int]] = None,
                marked: Sequence[tuple[int, int]] = ()) -> tuple[np.ndarray, float]:
    """``(n, gh, gw)`` maps over an ``(H, W, 3)`` uint8 image → ``(n, H, W, 3)`` uint8 panels and the
    colour range's top (the largest value of all maps; 1 when they are all 0).

    Frames are 3 px (query) and 2 px (marked) wide in image pixels. Raises ``ValueError`` for a
    query or marked patch outside the ``gh × gw`` grid.
    """
    maps = np.asarray(maps, dtype=np.float32)
    heads, gh, gw = maps.shape
    for r, c in [*([query_patch] if query_patch is not None else []), *marked]:
        if not (0 <= r < gh and 0 <= c < gw):
            raise ValueError(f"patch ({r}, {c}) is outside the {gh}×{gw} grid")
    img_h, img_w = background.shape[:2]
    ph, pw = int(patch_size[0]), int(patch_size[1])
    top = float(np.nanmax(maps)) if maps.size and np.nanmax(maps) > 0 else 1.0
    index = colour_index(maps, 0.0, top, len(_LUT))
    cell_r = np.minimum(np.arange(img_h) // ph, gh - 1)
    cell_c = np.minimum(np.arange(img_w) // pw, gw - 1)
    # Blend at cell resolution, then spread each cell over its pixels: ~10× less work than per pixel.
    colours = opacity * _LUT[index].astype(np.float32)  # (n, gh, gw, 3)
    base = (1 - opacity) * background[..., :3].astype(np.float32) + 0.5  # + 0.5: round when truncating
    panels = np.empty((heads, img_h, img_w, 3), np.uint8)
    if (img_h, img_w) == (gh * ph, gw * pw):  # the usual case: each cell is one ph × pw block of pixels
        # The same sums as below, by broadcasting each cell's colour over its block: no upsampled copy.
        blocks = base.reshape(gh, ph, gw, pw, 3)
        for h in range(heads):
            np.clip(blocks + colours[h][:, None, :, None], 0, 255, out=panels[h].reshape(gh, ph, gw, pw, 3),
                    casting="unsafe")
    else:
        for h in range(heads):
            np.clip(base + colours[h][cell_r][:, cell_c], 0, 255, out=panels[h], casting="unsafe")
    for panel in panels:
        for r, c in marked:
            _frame(panel, int(r), int(c), ph, pw, MARK, 2, dash=4)
        if query_patch is not None:
            _frame(panel, int(query_patch[0]), int(query_patch[1]), ph, pw, HIGHLIGHT, 3)
    return panels, top


def map_picture(grid_map: np.ndarray, background: np.ndarray, patch_size: Sequence[int], *, opacity: float = 0.6,
                query_patch: Optional[tuple[int, int]] = None,
                marked: Sequence[tuple[int, int]] = ()) -> tuple[str, float]:
    """One ``(gh, gw)`` map over the image (see :func:`head_panels`) as a JPEG data URI, and its colour range's top."""
    panels, top = head_panels(np.asarray(grid_map)[None], background, patch_size, opacity=opacity,
                              query_patch=query_patch, marked=marked)
    return jpeg_uri(panels[0])[0], top


def picture_png(picture: str) -> bytes:
    """A picture's data URI (e.g. from :func:`map_picture`) as PNG bytes, for a download that opens everywhere."""
    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(base64.b64decode(picture.split(",", 1)[1]))).save(out, format="PNG")
    return out.getvalue()


def peak_text(grid_map: np.ndarray) -> str:
    """A ``(gh, gw)`` map in words, for a text alternative: where it is strongest, and how strong."""
    grid_map = np.asarray(grid_map)
    flat = int(np.nanargmax(grid_map)) if np.isfinite(grid_map).any() else 0
    r, c = np.unravel_index(flat, grid_map.shape)
    return t("ui.alt_map_peak", row=int(r), col=int(c), share=f"{float(grid_map[r, c]):.3g}")


def colour_stops() -> str:
    """The :data:`vitviz.figures.plots.SEQUENTIAL` scale as CSS ``linear-gradient`` stops, low (0 %) to high (100 %)."""
    return ", ".join(f"rgb({r},{g},{b}) {i / (len(_LUT) - 1):.1%}"
                     for i in np.linspace(0, len(_LUT) - 1, 9).round().astype(int) for r, g, b in [_LUT[i]])


def _title_html(title: str) -> str:
    """A plot-style title (" · "-joined, ``<br>`` line breaks allowed) as escaped HTML."""
    return "<br>".join(html.escape(line) for line in title.split("<br>"))


def heads_html(maps: np.ndarray, background: np.ndarray, patch_size: Sequence[int], *, title: str = "",
               columns: int = 3, opacity: float = 0.6, value_name: Optional[str] = None,
               query_patch: Optional[tuple[int, int]] = None, marked: Sequence[tuple[int, int]] = (),
               labels: Optional[Sequence[str]] = None, max_width: Optional[int] = None) -> str:
    """Every head's map over the image (:func:`head_panels`) as an HTML ``<figure>``.

    ``columns`` panels per row, each a JPEG with its label above ("head h", or ``labels``) and an
    ``alt`` naming its strongest patch; the title as a caption above; a horizontal colour bar
    ``0 … max`` named ``value_name`` (default: "attention" in the current language) below. ``max_width`` (px) caps the figure's width (the panels
    shrink with narrower columns: phones). Self-contained: inline styles only, fonts inherited.
    """
    panels, top = head_panels(maps, background, patch_size, opacity=opacity, query_patch=query_patch,
                              marked=marked)
    heads = len(panels)
    value_name = t("plot.attention") if value_name is None else value_name
    names = list(labels) if labels is not None else [t("plot.head_n", n=h) for h in range(heads)]
    cells = []
    for h, panel in enumerate(panels):
        alt = f"{names[h]}: {peak_text(maps[h])}"
        cells.append(
            f'<figure style="margin:0;min-width:0"><figcaption style="text-align:center;font-size:13px;'
            f'line-height:1.3">{html.escape(names[h])}</figcaption><img src="{jpeg_uri(panel)[0]}" '
            f'width="{panel.shape[1]}" height="{panel.shape[0]}" alt="{html.escape(alt)}" '
            f'style="display:block;width:100%;height:auto"></figure>')  # sized: no relayout as each loads
    bar = (f'<div style="margin-top:8px;font-size:13px" aria-hidden="true">'
           f'<div style="height:12px;background:linear-gradient(to right, {colour_stops()});border-radius:2px"></div>'
           f'<div style="display:flex;justify-content:space-between;line-height:1.4"><span>0</span>'
           f'<span>{html.escape(value_name)}</span><span>{top:.3g}</span></div></div>')
    width = f"max-width:{int(max_width)}px;" if max_width else ""
    caption = (f'<figcaption style="font-size:17px;font-weight:600;line-height:1.3;margin:0 0 8px">{_title_html(title)}</figcaption>'
               if title else "")
    return (f'<figure class="vv-heads" style="margin:0;{width}" aria-label="{html.escape(title.replace("<br>", " "))}">'
            f'{caption}<div style="display:grid;grid-template-columns:repeat({max(1, min(columns, heads))}, minmax(0, 1fr));'
            f'gap:6px">{"".join(cells)}</div>{bar}</figure>')


def maps_html(maps: np.ndarray, *, labels: Sequence[str], title: str = "", columns: int = 8, min_px: int = 96,
              max_width: Optional[int] = None) -> str:
    """``(n, gh, gw)`` maps on their own (no image below, e.g. a CNN's channels) as :func:`heads_html`
    does heads: the colours alone (opacity 1 over black), each cell enlarged to a whole number of pixels
    so a panel is at least ``min_px`` wide or high before the page scales it, one colour range
    ``0 … max`` shared by all panels."""
    gh, gw = np.asarray(maps).shape[1:]
    scale = max(1, -(-min_px // max(gh, gw)))  # ceil
    black = np.zeros((gh * scale, gw * scale, 3), np.uint8)
    return heads_html(maps, black, (scale, scale), opacity=1.0, columns=columns, title=title, value_name="",
                      labels=labels, max_width=max_width)
