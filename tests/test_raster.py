"""The raster core every Pillow/NumPy picture shares (vitviz.figures.raster): values worked out by hand."""
import base64
import io

import numpy as np
from PIL import Image, ImageDraw

from vitviz.figures import raster
from vitviz.figures.style import SEQUENTIAL, colour_lut
from vitviz.talk import raster as talk_raster


def test_colour_index_is_linear_clipped_and_nan_is_low():
    values = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, np.nan])
    # round(255 · (v − 0) / (1 − 0)), clipped to [0, 255]; NaN counts as lo
    assert raster.colour_index(values, 0.0, 1.0).tolist() == [0, 0, 128, 255, 255, 0]
    assert raster.colour_index(np.array([3.0, 5.0]), 3.0, 3.0).tolist() == [0, 255]  # hi == lo: span 1
    assert raster.colour_index(np.array([0.25]), 0.0, 1.0, n=5).tolist() == [1]


def test_colourise_uses_the_table_and_paints_nan():
    lut = colour_lut(SEQUENTIAL)
    out = raster.colourise(np.array([[0.0, 1.0, np.nan]]), lut, 0.0, 1.0, nan=(1, 2, 3))
    assert out.dtype == np.uint8 and out.shape == (1, 3, 3)
    assert out[0, 0].tolist() == lut[0].tolist() and out[0, 1].tolist() == lut[-1].tolist()
    assert out[0, 2].tolist() == [1, 2, 3]
    # the talk's colourise is the same mapping by a scale's name
    np.testing.assert_array_equal(talk_raster.colourise(np.array([0.0, 1.0]), SEQUENTIAL, 0.0, 1.0), lut[[0, -1]])


def test_png_round_trips_and_jpeg_shrinks_with_its_factor():
    rgb = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(raster.png_bytes(rgb)))), rgb)
    uri = raster.png_uri(rgb)
    assert uri.startswith("data:image/png;base64,") and base64.b64decode(uri.split(",", 1)[1]) == raster.png_bytes(rgb)
    jpeg, shrink = raster.jpeg_uri(np.zeros((100, 40, 3), np.uint8), max_side=50)
    picture = Image.open(io.BytesIO(base64.b64decode(jpeg.split(",", 1)[1])))
    assert picture.format == "JPEG" and picture.size == (20, 50) and shrink == 2.0


def test_wrap_breaks_at_the_separator_and_marks_broken_lines():
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    font = raster.font(20)
    title = "Mean attention distance · ViT-B/16 · 6 images"
    assert raster.wrap(draw, title, font, 10_000, sep=" · ") == [title]
    lines = raster.wrap(draw, title, font, raster.text_width(draw, "Mean attention distance · ViT-B/16", font) + 1,
                        sep=" · ", mark=" ·")
    assert lines == ["Mean attention distance · ViT-B/16 ·", "6 images"]
    assert raster.wrap(draw, "a b\nc", font, 10_000) == ["a b", "c"]


def test_plain_writes_what_pillows_own_font_lacks_in_ascii():
    assert raster.plain("224×224 px → café ± 1") == "224x224 px -> cafe +/- 1"
