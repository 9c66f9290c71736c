"""The mean-attention-distance plot (paper Fig. 7 right) as a PNG drawn with Pillow alone.

Plotly writes PNGs only through the optional kaleido package (and a browser it drives); this
raster version needs nothing beyond the runtime requirements, so ``python -m vitviz distance``
writes its PNG on any install, on a cluster node without a browser too. It draws what
:func:`vitviz.figures.plots.distance_figure` draws for one model: one marker per (layer, head) at its
distance in pixels of the network input, colour = head in the same colour-blind-safe palette
(hollow markers past its 16 colours), dashed grey reference lines (uniform attention, a 3×3
window) labelled in the right margin, the head legend below, and a title that names the model,
the image count and the input. Deterministic: the same numbers give the same bytes.
"""
from __future__ import annotations

import math
from typing import Mapping, Optional

import numpy as np
from PIL import Image, ImageColor, ImageDraw

from vitviz.figures import raster
from vitviz.figures.style import HEAD_COLOURS, figure_title

WIDTH, HEIGHT = 1400, 860
AXIS, GRID, GUIDE, TEXT = (60, 60, 60), (225, 225, 225), (119, 119, 119), (29, 29, 31)


def nice_ticks(top: float, count: int = 6) -> list[float]:
    """Round tick values from 0 to at most ``top``: steps of 1, 2 or 5 × 10^k, about ``count`` of them.

    >>> nice_ticks(130)
    [0.0, 20.0, 40.0, 60.0, 80.0, 100.0, 120.0]
    """
    if not top > 0:
        return [0.0]
    power = 10 ** math.floor(math.log10(top / count))
    step = min((m * power for m in (1, 2, 5, 10)), key=lambda st: abs(top / st - count))
    return [round(float(i * step), 12) for i in range(int(top / step + 1e-9) + 1)]


def distance_png(mean: np.ndarray, references: Optional[Mapping[str, float]] = None, *, model_label: str,
                 num_images: int, extra: str = "") -> Image.Image:
    """The plot as an RGB image: ``mean`` is ``(layers, heads)`` in px; ``references`` ``{name: px}``.

    The title is ``"Mean attention distance · <model> · N images · <extra>"`` (``model_label``
    carries "(untrained)" for random weights, as :attr:`vitviz.loading.models.LoadedModel.label` does).
    """
    mean = np.asarray(mean, dtype=np.float64)
    layers, heads = mean.shape
    refs = dict(references or {})
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    title_font, label_font, tick_font = raster.font(26), raster.font(20), raster.font(17)
    say = raster.plain if raster.ascii_only(26) else str

    count = f"{num_images} image" + ("" if num_images == 1 else "s")
    title = say(figure_title("Mean attention distance", model_label,
                             extra=" · ".join(p for p in (count, extra) if p)))
    title_lines = raster.wrap(draw, title, title_font, WIDTH - 60, sep=" · ", mark=" ·")
    y = 18
    for line in title_lines:
        draw.text((30, y), line, fill=TEXT, font=title_font)
        y += 34

    ref_texts = [say(f"{name}: {value:.1f} px") for name, value in refs.items()]
    right = 40 + max((raster.text_width(draw, t, tick_font) for t in ref_texts), default=0)
    legend_rows = math.ceil(heads / 8)
    left, top = 110, y + 24
    bottom = HEIGHT - 90 - 30 * legend_rows
    plot_right = WIDTH - right
    finite = mean[np.isfinite(mean)]
    ymax = max([float(finite.max()) if finite.size else 0.0] + list(refs.values())) * 1.08 or 1.0

    def px(layer: float, value: float) -> tuple[float, float]:
        x = left + (layer + 0.5) / layers * (plot_right - left)
        return x, bottom - value / ymax * (bottom - top)

    for tick in nice_ticks(ymax):
        _, ty = px(0, tick)
        draw.line([(left, ty), (plot_right, ty)], fill=GRID, width=1)
        label = f"{tick:g}"
        draw.text((left - 10 - raster.text_width(draw, label, tick_font), ty - 10), label, fill=TEXT, font=tick_font)
    step = max(1, math.ceil(layers / 24))
    for layer in range(0, layers, step):
        tx, _ = px(layer, 0)
        draw.line([(tx, bottom), (tx, bottom + 6)], fill=AXIS, width=1)
        label = str(layer)
        draw.text((tx - raster.text_width(draw, label, tick_font) / 2, bottom + 9), label, fill=TEXT, font=tick_font)
    draw.line([(left, top), (left, bottom), (plot_right, bottom)], fill=AXIS, width=2)

    last = -1e9
    for (name, value), text in sorted(zip(refs.items(), ref_texts), key=lambda t: -t[0][1]):
        _, ry = px(0, value)
        raster.dashed_hline(draw, left, plot_right, ry, GUIDE, dash=8, width=2)
        ty = max(ry, last + 22)  # top to bottom, labels nudged apart so none overlap
        last = ty
        draw.text((plot_right + 8, ty - 10), text, fill=TEXT, font=tick_font)

    colours = [ImageColor.getrgb(c) for c in HEAD_COLOURS]
    for layer in range(layers):
        for head in range(heads):
            if np.isfinite(mean[layer, head]):
                x, yv = px(layer, mean[layer, head])
                raster.marker(draw, x, yv, colours[head % len(colours)], r=7, hollow=head >= len(colours))

    x_title = "network depth (layer)"
    draw.text(((left + plot_right - raster.text_width(draw, x_title, label_font)) / 2, bottom + 34), x_title, fill=TEXT,
              font=label_font)
    y_title = "mean attention distance (input px)"
    box = draw.textbbox((0, 0), y_title, font=label_font)
    strip = Image.new("RGB", (int(box[2]) + 4, int(box[3]) + 6), (255, 255, 255))
    ImageDraw.Draw(strip).text((2, 0), y_title, fill=TEXT, font=label_font)
    strip = strip.rotate(90, expand=True)
    image.paste(strip, (18, int((top + bottom - strip.height) / 2)))

    ly = bottom + 70
    draw.text((left, ly), "colour = head:", fill=TEXT, font=tick_font)
    column = (plot_right - left - 130) / 8
    for head in range(heads):
        row, col = divmod(head, 8)
        hx, hy = left + 150 + col * column, ly + 30 * row + 11
        raster.marker(draw, hx, hy, colours[head % len(colours)], r=7, hollow=head >= len(colours))
        draw.text((hx + 14, hy - 10), f"head {head}", fill=TEXT, font=tick_font)
    return image
