"""Slide pictures drawn with Pillow alone: charts, image panels and box diagrams on one canvas size.

Plotly writes PNGs only through kaleido and a browser it drives; a deck must build on a machine
without either (``python -m vitviz talk`` on a cluster node, the dashboard's download button), so
the talk's pictures are rasters, as :mod:`vitviz.figures.distance_png` is for the distance plot; they are also
about 30× faster to make than kaleido's exports (``bench/RESULTS.md``).

Conventions: every picture is :data:`WIDTH` × :data:`HEIGHT` px (ratio 2.3, the free area of a
16:9 slide under its title and above its takeaway). Text is at least :data:`MIN_TEXT` px tall
in the picture, so at the Talk page's 1232 px display width at 1280×720 (scale 0.67) it shows at
20 px, and stays ≥ 16 px down to 981 px. Text is drawn with Noto Sans CJK (Hangul and Latin) where the system has it,
else DejaVu Sans, else Pillow's own font (then Hangul cannot show; the deck's text is unaffected).
Series colours come from :data:`vitviz.figures.plots.HEAD_COLOURS` (colour-blind-safe), one per series.
Deterministic: the same inputs give the same pixels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np
from PIL import Image, ImageColor, ImageDraw

from vitviz.figures import raster as core
from vitviz.figures.distance_png import nice_ticks
from vitviz.figures.style import HEAD_COLOURS, HIGHLIGHT, colour_lut

font = core.font  # one font rule for every picture: a Hangul-capable face first

WIDTH, HEIGHT = 1840, 800
MIN_TEXT = 30
TICK, LABEL, LEGEND = 30, 32, 30
INK, AXIS, GRID, GUIDE, PAPER = (29, 29, 31), (60, 60, 60), (225, 225, 225), (119, 119, 119), (255, 255, 255)
HIGHLIGHT_RGB = ImageColor.getrgb(HIGHLIGHT)  # the patch in question, orange as everywhere in vitviz


def colour(i: int) -> tuple[int, int, int]:
    """Series colour ``i`` (cycling through :data:`vitviz.figures.plots.HEAD_COLOURS`)."""
    rgb = ImageColor.getrgb(HEAD_COLOURS[i % len(HEAD_COLOURS)])
    assert len(rgb) == 3  # the palette is rgb(...) and #rrggbb, without alpha
    return rgb


def canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    return image, ImageDraw.Draw(image)


def text_width(draw: ImageDraw.ImageDraw, text: str, size: int) -> float:
    return core.text_width(draw, text, font(size))


def write(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int = LABEL, *,
          fill=INK, anchor: str = "la") -> None:
    draw.text(xy, text, fill=fill, font=font(size), anchor=anchor)


def wrap(draw: ImageDraw.ImageDraw, text: str, size: int, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` px (at spaces; a word too long stays whole)."""
    return core.wrap(draw, text, font(size), width)


def vertical_text(image: Image.Image, text: str, centre: tuple[float, float], size: int = LABEL) -> None:
    """``text`` rotated 90° (reading bottom to top) centred at ``centre``."""
    probe = ImageDraw.Draw(image)
    w = int(text_width(probe, text, size)) + 8
    strip = Image.new("RGB", (w, int(size * 1.5)), PAPER)
    ImageDraw.Draw(strip).text((4, 0), text, fill=INK, font=font(size))
    strip = strip.rotate(90, expand=True)
    image.paste(strip, (int(centre[0] - strip.width / 2), int(centre[1] - strip.height / 2)))


@dataclass(frozen=True)
class Series:
    """One chart series: points ``(xs, ys)`` (None values skipped), drawn as markers and/or a line;
    lists or 1-D numpy arrays."""

    name: str
    xs: Union[Sequence[float], np.ndarray]
    ys: Union[Sequence[Optional[float]], np.ndarray]
    colour: tuple[int, int, int]
    line: bool = True
    markers: bool = True
    radius: int = 10
    hollow: bool = False


def chart(series: Sequence[Series], *, x_title: str, y_title: str, y_range: tuple[float, float],
          x_range: tuple[float, float], x_ticks: Sequence[tuple[float, str]] = (), log_x: bool = False,
          guides: Sequence[tuple[str, float]] = (), legend_columns: int = 1) -> Image.Image:
    """An x/y chart with the legend on the right (outside the data) and dashed labelled ``guides``.

    ``x_ticks``: ``(value, label)`` pairs (default: round numbers; on a log axis, powers of ten).
    """
    image, draw = canvas()
    legend_w = 0.0
    names = [s.name for s in series]
    col_w = max((text_width(draw, n, LEGEND) for n in names), default=0) + 70
    legend_w = col_w * legend_columns + 30
    guide_w = max((text_width(draw, g, TICK) for g, _ in guides), default=0) + (20 if guides else 0)
    left, top, right, bottom = 140, 30, WIDTH - legend_w - guide_w - 20, HEIGHT - 120

    def fx(x: float) -> float:
        lo, hi = (math.log10(v) for v in x_range) if log_x else x_range
        v = math.log10(x) if log_x else x
        return left + (v - lo) / (hi - lo) * (right - left)

    def fy(y: float) -> float:
        return bottom - (y - y_range[0]) / (y_range[1] - y_range[0]) * (bottom - top)

    span = y_range[1] - y_range[0]
    for tick in nice_ticks(span, 6):
        value = y_range[0] + tick
        draw.line([(left, fy(value)), (right, fy(value))], fill=GRID, width=2)
        write(draw, (left - 12, fy(value)), f"{value:g}", TICK, anchor="rm")
    if not x_ticks:
        if log_x:
            x_ticks = [(10.0 ** e, f"{10 ** e:g}") for e in range(math.ceil(math.log10(x_range[0])),
                                                                    math.floor(math.log10(x_range[1])) + 1)]
        else:
            x_ticks = [(x_range[0] + v, f"{x_range[0] + v:g}") for v in nice_ticks(x_range[1] - x_range[0], 8)]
    for value, label in x_ticks:
        draw.line([(fx(value), bottom), (fx(value), bottom + 8)], fill=AXIS, width=2)
        write(draw, (fx(value), bottom + 12), label, TICK, anchor="ma")
    draw.line([(left, top), (left, bottom), (right, bottom)], fill=AXIS, width=3)
    write(draw, ((left + right) / 2, HEIGHT - 50), x_title, LABEL, anchor="ma")
    vertical_text(image, y_title, (40, (top + bottom) / 2))

    placed: list[float] = []
    for label, value in sorted(guides, key=lambda g: -g[1]):
        y = fy(value)
        core.dashed_hline(draw, left, right, y, GUIDE)
        ty = max([y] + [p + TICK + 6 for p in placed])
        placed.append(ty)
        write(draw, (right + 10, ty), label, TICK, anchor="lm", fill=GUIDE)

    for s in series:
        points = [(fx(x), fy(y)) for x, y in zip(s.xs, s.ys) if y is not None and math.isfinite(y)]
        if s.line and len(points) > 1:
            draw.line(points, fill=s.colour, width=5, joint="curve")
        if s.markers:
            for x, y in points:
                core.marker(draw, x, y, s.colour, r=s.radius, hollow=s.hollow)

    lx0 = WIDTH - legend_w + 10
    for i, s in enumerate(series):
        row, col = divmod(i, legend_columns)
        lx, ly = lx0 + col * col_w, top + 10 + row * (LEGEND + 16)
        if s.line:
            draw.line([(lx, ly + LEGEND / 2), (lx + 44, ly + LEGEND / 2)], fill=s.colour, width=5)
        if s.markers:
            core.marker(draw, lx + 22, ly + LEGEND / 2, s.colour, r=s.radius, hollow=s.hollow)
        write(draw, (lx + 56, ly + LEGEND / 2), s.name, LEGEND, anchor="lm")
    return image


def hbars(labels: Sequence[str], values: Sequence[float], *, x_title: str, x_max: float = 1.0,
          value_text: Sequence[str] = ()) -> Image.Image:
    """Horizontal bars, top to bottom, one colour per bar, the value written at each bar's end."""
    image, draw = canvas()
    left = max((text_width(draw, lab, LABEL) for lab in labels), default=0) + 60
    right, top, bottom = WIDTH - 220, 30, HEIGHT - 120
    step = (bottom - top) / max(len(labels), 1)
    for tick in nice_ticks(x_max, 5):
        x = left + tick / x_max * (right - left)
        draw.line([(x, top), (x, bottom)], fill=GRID, width=2)
        write(draw, (x, bottom + 12), f"{tick:g}", TICK, anchor="ma")
    for i, (label, value) in enumerate(zip(labels, values)):
        y0 = top + i * step + step * 0.15
        y1 = top + (i + 1) * step - step * 0.15
        draw.rectangle([left, y0, left + max(value, 0) / x_max * (right - left), y1], fill=colour(i))
        write(draw, (left - 16, (y0 + y1) / 2), label, LABEL, anchor="rm")
        text = value_text[i] if i < len(value_text) else f"{value:.3g}"
        write(draw, (left + max(value, 0) / x_max * (right - left) + 12, (y0 + y1) / 2), text, LABEL, anchor="lm")
    draw.line([(left, top), (left, bottom)], fill=AXIS, width=3)
    write(draw, ((left + right) / 2, HEIGHT - 50), x_title, LABEL, anchor="ma")
    return image


def fit(pixels: np.ndarray, box: tuple[int, int], *, nearest: bool = True) -> Image.Image:
    """An ``(H, W, 3)`` uint8 array scaled to fit ``box`` ``(w, h)`` keeping its aspect (nearest: crisp cells)."""
    picture = Image.fromarray(np.asarray(pixels, dtype=np.uint8))
    scale = min(box[0] / picture.width, box[1] / picture.height)
    size = (max(1, int(picture.width * scale)), max(1, int(picture.height * scale)))
    return picture.resize(size, Image.Resampling.NEAREST if nearest else Image.Resampling.LANCZOS)


def panels(pictures: Sequence[np.ndarray], captions: Sequence[str], *, nearest: bool = True,
           note: str = "", right: int = 0) -> Image.Image:
    """Pictures side by side, each with a caption under it, centred; ``note`` at the bottom; the last
    ``right`` px left free (for a colour bar)."""
    image, draw = canvas()
    n = max(len(pictures), 1)
    gap = 40
    box_w = (WIDTH - right - gap * (n + 1)) // n
    box_h = HEIGHT - 40 - (LABEL + 20) - (LABEL + 20 if note else 0)
    for i, (pixels, caption) in enumerate(zip(pictures, captions)):
        picture = fit(pixels, (box_w, box_h), nearest=nearest)
        x = gap + i * (box_w + gap) + (box_w - picture.width) // 2
        image.paste(picture, (x, 20))
        write(draw, (x + picture.width / 2, 20 + picture.height + 12), caption, LABEL, anchor="ma")
    if note:
        write(draw, (WIDTH / 2, HEIGHT - 20), note, LABEL, anchor="md")
    return image


def colourise(values: np.ndarray, scale: str, lo: float, hi: float, nan=(255, 255, 255)) -> np.ndarray:
    """A float array → ``(..., 3)`` uint8 through ``scale`` over ``[lo, hi]``; NaN cells get ``nan``."""
    return core.colourise(values, colour_lut(scale), lo, hi, nan)


def colour_bar(image: Image.Image, scale: str, lo: float, hi: float, box: tuple[int, int, int, int],
               title: str) -> None:
    """A vertical colour bar in ``box`` ``(x0, y0, x1, y1)``, ``lo`` at the bottom, its title above."""
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = box
    ramp = colourise(np.linspace(hi, lo, y1 - y0)[:, None].repeat(x1 - x0, axis=1), scale, lo, hi)
    image.paste(Image.fromarray(ramp), (x0, y0))
    draw.rectangle(box, outline=AXIS, width=2)
    for value in (lo, (lo + hi) / 2, hi):
        y = y1 - (value - lo) / ((hi - lo) or 1.0) * (y1 - y0)
        write(draw, (x1 + 10, y), f"{value:.2g}", TICK, anchor="lm")
    write(draw, ((x0 + x1) / 2, y0 - 12), title, TICK, anchor="md")


def box(draw: ImageDraw.ImageDraw, xy: tuple[float, float, float, float], text: str, fill: str, *,
        size: int = LABEL) -> None:
    """A rounded box with centred (possibly multi-line) text."""
    draw.rounded_rectangle(xy, radius=14, fill=ImageColor.getrgb(fill), outline=AXIS, width=3)
    lines = text.split("\n")
    cy = (xy[1] + xy[3]) / 2 - (len(lines) - 1) * (size * 0.62)
    for k, line in enumerate(lines):
        write(draw, ((xy[0] + xy[2]) / 2, cy + k * size * 1.25), line, size, anchor="mm")


def arrow(draw: ImageDraw.ImageDraw, a: tuple[float, float], b: tuple[float, float], fill=AXIS) -> None:
    """A line from ``a`` to ``b`` with a filled head at ``b``."""
    draw.line([a, b], fill=fill, width=4)
    angle = math.atan2(b[1] - a[1], b[0] - a[0])
    head = [(b[0] - 18 * math.cos(angle - s), b[1] - 18 * math.sin(angle - s)) for s in (0.45, -0.45)]
    draw.polygon([b, *head], fill=fill)
