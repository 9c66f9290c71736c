"""The raster core: what every picture vitviz draws with NumPy and Pillow shares.

Used by the map pictures (:mod:`vitviz.figures.map_pictures`), the attention-matrix view
(:mod:`vitviz.figures.matrix_view`), the distance PNG (:mod:`vitviz.figures.distance_png`) and the talk's
pictures (:mod:`vitviz.talk.raster`):

* colours: :func:`colour_index` / :func:`colourise` map values to a 256-colour table
  (:func:`vitviz.figures.style.colour_lut`) linearly over ``[lo, hi]`` (``round(255·(v − lo)/(hi − lo))``,
  clipped; NaN to a colour of its own);
* encoding: :func:`png_bytes` and :func:`png_uri` (lossless), :func:`jpeg_uri` (photos under a map);
* text: :func:`font` (a Hangul-capable font first, so Korean labels draw), :func:`text_width`, :func:`wrap`,
  and :func:`plain` for Pillow's built-in font, which has no "×" or accents;
* marks: :func:`marker` (a filled or hollow disc) and :func:`dashed_hline`.
"""
from __future__ import annotations

import base64
import io
import unicodedata
from functools import lru_cache
from typing import Optional, Sequence, Union

import numpy as np
from PIL import Image, ImageDraw, ImageFont

#: Font files tried in order (Pillow searches the system's font folders by file name); index 1 of the CJK
#: collection is its Korean face. DejaVu covers Latin, Greek and the arrows; Pillow's own font is the last resort.
FONT_FILES: tuple[tuple[str, int], ...] = (("NotoSansCJK-Regular.ttc", 1), ("NotoSansCJKkr-Regular.otf", 0),
                                           ("DejaVuSans.ttf", 0))
#: A font Pillow draws with: a TrueType face, or Pillow's own (bitmap, or scalable since Pillow 10.1).
Font = Union[ImageFont.ImageFont, ImageFont.FreeTypeFont]
#: What Pillow's built-in font cannot draw, written in ASCII instead.
_ASCII = str.maketrans({"×": "x", "→": "->", "–": "-", "—": "-", "≈": "~", "µ": "u", "±": "+/-"})


# ----------------------------------------------------------------------------------------- colours
def colour_index(values: np.ndarray, lo: float, hi: float, n: int = 256) -> np.ndarray:
    """Index into an ``n``-colour table of every value: ``round((n−1)·(v − lo)/(hi − lo))`` clipped to
    ``[0, n−1]`` (``hi == lo``: all 0); NaN counts as ``lo``."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=lo)
    span = (hi - lo) or 1.0
    return np.clip(np.round((v - lo) / span * (n - 1)), 0, n - 1).astype(np.intp)


def colourise(values: np.ndarray, lut: np.ndarray, lo: float, hi: float,
              nan: Optional[Sequence[int]] = None) -> np.ndarray:
    """A float array → ``(..., 3)`` uint8 colours of ``lut`` over ``[lo, hi]``; NaN cells get ``nan`` when given."""
    out = lut[colour_index(values, lo, hi, len(lut))]
    if nan is not None:
        out[~np.isfinite(np.asarray(values, dtype=np.float64))] = nan
    return out


# ---------------------------------------------------------------------------------------- encoding
def png_bytes(rgb: np.ndarray, compress_level: int = 6) -> bytes:
    """An ``(H, W, 3)`` or ``(H, W, 4)`` uint8 array as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def png_uri(rgb: np.ndarray) -> str:
    """:func:`png_bytes` as a data URI (compact, unlike a nested-list plotly ``z``)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(rgb)).decode("ascii")


def jpeg_uri(rgb: np.ndarray, max_side: int = 0, quality: int = 90) -> tuple[str, float]:
    """An RGB photo as a JPEG data URI, shrunk to ``max_side`` px when larger, and the shrink factor
    (1.0 = full size). 5–10× smaller than PNG: for photos under a semi-transparent map."""
    picture = Image.fromarray(np.ascontiguousarray(rgb[..., :3], dtype=np.uint8))
    width = picture.size[0]
    if max_side and max(picture.size) > max_side:
        picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"), width / picture.size[0]


# -------------------------------------------------------------------------------------------- text
@lru_cache(maxsize=None)
def _font(size: int) -> tuple[Font, bool]:
    for name, index in FONT_FILES:
        try:
            return ImageFont.truetype(name, size, index=index), False
        except OSError:
            continue
    try:
        return ImageFont.load_default(size=size), True  # Pillow ≥ 10.1 with FreeType: scalable
    except (TypeError, OSError):
        return ImageFont.load_default(), True


def font(size: int) -> Font:
    """The first of :data:`FONT_FILES` the system has at ``size`` px, else Pillow's own font."""
    return _font(size)[0]


def ascii_only(size: int) -> bool:
    """Whether :func:`font` fell back to Pillow's built-in font, which draws ASCII only: pass text through :func:`plain`."""
    return _font(size)[1]


def plain(text: str) -> str:
    """``text`` in ASCII for Pillow's built-in font: "×" → "x", "→" → "->", accents dropped."""
    text = unicodedata.normalize("NFKD", text.translate(_ASCII))
    return "".join(c for c in text if not unicodedata.combining(c))


def text_width(draw: ImageDraw.ImageDraw, text: str, font: Font) -> float:
    """Drawn width of ``text`` in px."""
    return draw.textlength(text, font=font)


def wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: float, *, sep: str = " ",
         mark: str = "") -> list[str]:
    """``text`` broken at ``sep`` into lines no wider than ``width`` px (a part too long stays whole); a broken
    line ends with ``mark`` (e.g. " ·" for a title broken at " · "). Newlines always break."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for part in para.split(sep):
            trial = f"{line}{sep}{part}" if line else part
            if line and text_width(draw, trial, font) > width:
                lines.append(line + mark)
                line = part
            else:
                line = trial
        lines.append(line)
    return lines


# ------------------------------------------------------------------------------------------- marks
def marker(draw: ImageDraw.ImageDraw, x: float, y: float, fill, *, r: int = 9, hollow: bool = False) -> None:
    """A disc of radius ``r`` at (x, y): filled with a white rim, or (``hollow``) a white disc ringed in ``fill``."""
    box = [x - r, y - r, x + r, y + r]
    if hollow:
        draw.ellipse(box, fill=(255, 255, 255), outline=fill, width=3)
    else:
        draw.ellipse(box, fill=fill, outline=(255, 255, 255), width=2)


def dashed_hline(draw: ImageDraw.ImageDraw, x0: float, x1: float, y: float, fill, *, dash: int = 12,
                 width: int = 3) -> None:
    """A horizontal dashed line from ``x0`` to ``x1`` at ``y``: dashes and gaps of ``dash`` px."""
    for start in np.arange(x0, x1, 2 * dash):
        draw.line([(start, y), (min(start + dash, x1), y)], fill=fill, width=width)
