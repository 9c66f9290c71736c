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
from typing import Mapping, Optional, Union

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

from vitviz.figures.plots import HEAD_COLOURS, figure_title

WIDTH, HEIGHT = 1400, 860
AXIS, GRID, GUIDE, TEXT = (60, 60, 60), (225, 225, 225), (119, 119, 119), (29, 29, 31)


Font = Union[ImageFont.ImageFont, ImageFont.FreeTypeFont]  # Pillow's own (bitmap or, since 10.1, scalable) or a TrueType font

#: Pillow's built-in font has no "×", "→", "–" or accented letters: they are written in ASCII then.
_ASCII = str.maketrans({"×": "x", "→": "->", "–": "-", "—": "-", "≈": "~", "µ": "u", "±": "+/-"})


def _font(size: int) -> tuple[Font, bool]:
    """DejaVu Sans when the system has it (full coverage), else Pillow's own font; and whether to
    write the text in ASCII."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size), False
    except OSError:
        pass
    try:
        return ImageFont.load_default(size=size), True  # Pillow ≥ 10.1 with FreeType: scalable
    except (TypeError, OSError):
        return ImageFont.load_default(), True


def _plain(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", text.translate(_ASCII))
    return "".join(c for c in text if not unicodedata.combining(c))


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


def _text_width(draw: ImageDraw.ImageDraw, text: str, font: Font) -> int:
    box = draw.textbbox((0, 0), text, font=font)  # whole pixels from (0, 0); typed float for float anchors
    return int(box[2] - box[0])


def _wrap(draw: ImageDraw.ImageDraw, title: str, font: Font, width: int) -> list[str]:
    """Break the title at its " · " separators so each line fits ``width`` px."""
    lines, line = [], ""
    for part in title.split(" · "):
        candidate = f"{line} · {part}" if line else part
        if line and _text_width(draw, candidate, font) > width:
            lines.append(line + " ·")
            line = part
        else:
            line = candidate
    return lines + [line]


def _marker(draw: ImageDraw.ImageDraw, x: float, y: float, colour: tuple, hollow: bool, r: int = 7) -> None:
    box = (x - r, y - r, x + r, y + r)
    if hollow:
        draw.ellipse(box, fill=(255, 255, 255), outline=colour, width=3)
    else:
        draw.ellipse(box, fill=colour, outline=(80, 80, 80), width=1)


def _dashed_hline(draw: ImageDraw.ImageDraw, x0: int, x1: int, y: float, colour: tuple, dash: int = 8) -> None:
    for start in range(x0, x1, 2 * dash):
        draw.line([(start, y), (min(start + dash, x1), y)], fill=colour, width=2)


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
    (title_font, ascii_only), (label_font, _), (tick_font, _) = _font(26), _font(20), _font(17)
    say = _plain if ascii_only else str

    count = f"{num_images} image" + ("" if num_images == 1 else "s")
    title = say(figure_title("Mean attention distance", model_label,
                             extra=" · ".join(p for p in (count, extra) if p)))
    title_lines = _wrap(draw, title, title_font, WIDTH - 60)
    y = 18
    for line in title_lines:
        draw.text((30, y), line, fill=TEXT, font=title_font)
        y += 34

    ref_texts = [say(f"{name}: {value:.1f} px") for name, value in refs.items()]
    right = 40 + max((_text_width(draw, t, tick_font) for t in ref_texts), default=0)
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
        draw.text((left - 10 - _text_width(draw, label, tick_font), ty - 10), label, fill=TEXT, font=tick_font)
    step = max(1, math.ceil(layers / 24))
    for layer in range(0, layers, step):
        tx, _ = px(layer, 0)
        draw.line([(tx, bottom), (tx, bottom + 6)], fill=AXIS, width=1)
        label = str(layer)
        draw.text((tx - _text_width(draw, label, tick_font) / 2, bottom + 9), label, fill=TEXT, font=tick_font)
    draw.line([(left, top), (left, bottom), (plot_right, bottom)], fill=AXIS, width=2)

    last = -1e9
    for (name, value), text in sorted(zip(refs.items(), ref_texts), key=lambda t: -t[0][1]):
        _, ry = px(0, value)
        _dashed_hline(draw, left, plot_right, ry, GUIDE)
        ty = max(ry, last + 22)  # top to bottom, labels nudged apart so none overlap
        last = ty
        draw.text((plot_right + 8, ty - 10), text, fill=TEXT, font=tick_font)

    colours = [ImageColor.getrgb(c) for c in HEAD_COLOURS]
    for layer in range(layers):
        for head in range(heads):
            if np.isfinite(mean[layer, head]):
                x, yv = px(layer, mean[layer, head])
                _marker(draw, x, yv, colours[head % len(colours)], head >= len(colours))

    x_title = "network depth (layer)"
    draw.text(((left + plot_right - _text_width(draw, x_title, label_font)) / 2, bottom + 34), x_title, fill=TEXT,
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
        _marker(draw, hx, hy, colours[head % len(colours)], head >= len(colours))
        draw.text((hx + 14, hy - 10), f"head {head}", fill=TEXT, font=tick_font)
    return image
