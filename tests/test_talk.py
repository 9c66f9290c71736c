"""The talk's slides (vitviz.talk): order, one picture or table each, the paper's numbers, colours, Korean text."""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import torch
from PIL import Image
from timm.data import resolve_data_config

from vitviz.figures import paper_results as pr
from vitviz.loading.models import LoadedModel
from vitviz.run.pipeline import analyze_image
from vitviz.loading.registry import ModelSpec
from vitviz.talk import ORDER, talk_slides
from vitviz.talk import raster
from vitviz.talk.slides import fig3_picture, fig5_picture, fig6_map, fig7_right_picture

from conftest import SAMPLES, make_vit

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def distinct_colours(image, palette, *, min_pixels: int = 50,
                     tolerance: int = 6) -> set:
    """Which of ``palette``'s colours cover at least ``min_pixels`` pixels of ``image`` (within ``tolerance``
    per channel): a picture's series are drawn in distinct colours when each of theirs is found."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16).reshape(-1, 3)
    found: set[tuple[int, int, int]] = set()
    for rgb in palette:
        close = np.all(np.abs(pixels - np.asarray(rgb, dtype=np.int16)) <= tolerance, axis=1)
        if int(close.sum()) >= min_pixels:
            r, g, b = rgb
            found.add((int(r), int(g), int(b)))
    return found


@pytest.fixture(scope="module")
def deck_inputs():
    model = make_vit("vit_tiny_patch16_224", num_classes=10)
    spec = ModelSpec(name="vit_tiny_patch16_224", label="ViT-Ti/16 (test model)", family="ViT")
    loaded = LoadedModel(spec=spec, model=model, device=torch.device("cpu"), dtype=torch.float32, source="untrained",
                         data_config=resolve_data_config({}, model=model))
    analysis = analyze_image(loaded, Image.open(SAMPLES / "cat.jpg").convert("RGB"))
    return loaded, analysis


@pytest.fixture(scope="module")
def slides_en(deck_inputs):
    return talk_slides(*deck_inputs, lang="en", image_name="cat.jpg")


def test_slides_follow_the_talk_and_hold_one_picture_or_one_table(slides_en):
    assert [s.key for s in slides_en] == list(ORDER)
    assert ORDER.index("patches") < ORDER.index("flatten") < ORDER.index("embed") < ORDER.index("cls") \
        < ORDER.index("pos") < ORDER.index("encoder") < ORDER.index("classify") < ORDER.index("table1") \
        < ORDER.index("table2") < ORDER.index("fig3") < ORDER.index("fig5") < ORDER.index("bias") \
        < ORDER.index("fig7_left") < ORDER.index("fig7_centre") < ORDER.index("fig7_right") < ORDER.index("fig6") \
        < ORDER.index("significance")
    for number, slide in enumerate(slides_en, 1):
        assert (slide.picture is None) != (slide.table is None), slide.key
        assert slide.title.startswith(f"{number}. ") and slide.takeaway and "⟦" not in slide.title + slide.takeaway
        if slide.picture is not None:
            assert slide.image().size == (raster.WIDTH, raster.HEIGHT)
    by_key = {s.key: s for s in slides_en}
    assert "ViT-Ti/16 (untrained)" in by_key["patches"].title  # computed slides name the model, untrained marked
    assert "Table 2" in by_key["table2"].source and "Table 5" in by_key["fig3"].source
    # Table 1: the paper's three rows and the model's own (highlighted) with its numbers.
    table1 = by_key["table1"].table
    assert [r[0] for r in table1.rows[:3]] == ["ViT-Base", "ViT-Large", "ViT-Huge"]
    assert table1.highlight == [3] and table1.rows[3][1:5] == [12, 192, 768, 3]


def test_takeaways_carry_the_models_numbers(slides_en, deck_inputs):
    _, a = deck_inputs
    by_key = {s.key: s for s in slides_en}
    assert "224 × 224 px → 14 × 14 = 196 patches of 16 × 16 px" in by_key["patches"].takeaway
    assert "768 numbers" in by_key["flatten"].takeaway  # 16·16·3
    top = a.predictions[0]
    assert f"“{top.label}” at {top.probability:.0%}" in by_key["classify"].takeaway


def test_korean_deck_is_in_hangul(deck_inputs):
    slides = talk_slides(*deck_inputs, lang="ko")
    assert all(HANGUL.search(s.title) for s in slides)
    assert all(HANGUL.search(s.takeaway) for s in slides)
    assert any(HANGUL.search(str(c)) for s in slides if s.table is not None for c in s.table.columns)


def test_table5_imagenet_row_agrees_with_table6():
    """Fig. 3's JFT-300M points are also printed in Table 6 (7 epochs for B/32, B/16, L/32; 14 for L/16)."""
    table6 = {(r[0], r[1]): r[2] for r in pr.TABLE6_ROWS}  # ImageNet column
    jft = dict(zip(pr.TABLE5_MODELS, pr.TABLE5_IMAGENET["JFT-300M"]))
    assert jft["ViT-B/32"] == table6[("ViT-B/32", 7)] == 80.73
    assert jft["ViT-B/16"] == table6[("ViT-B/16", 7)] == 84.15
    assert jft["ViT-L/32"] == table6[("ViT-L/32", 7)] == 84.37
    assert jft["ViT-L/16"] == table6[("ViT-L/16", 14)] == 87.12
    assert pr.TABLE5_IMAGENET["ImageNet"][4] is None  # no ViT-H/14 pre-trained on ImageNet alone
    assert all(len(v) == len(pr.TABLE5_MODELS) for v in pr.TABLE5_IMAGENET.values())


def _palette(n: int) -> list[tuple[int, int, int]]:
    return [raster.colour(i) for i in range(n)]


def _plot_area(image: Image.Image) -> Image.Image:
    """The picture left of its legend (the legend alone would show every colour)."""
    return image.crop((0, 0, 1150, raster.HEIGHT))


def test_series_are_drawn_in_distinct_colours(slides_en):
    assert distinct_colours(_plot_area(fig3_picture()), _palette(5)) == set(_palette(5))
    assert distinct_colours(_plot_area(fig5_picture()), _palette(3)) == set(_palette(3))
    # 12 heads at distinct distances (head k at 10 + 8k px in every layer): every head's colour in the plot
    distance = np.tile(10.0 + 8.0 * np.arange(12), (12, 1))
    right = fig7_right_picture(distance, {"uniform": 116.5, "3×3 window": 17.0})
    assert distinct_colours(_plot_area(right), _palette(12)) == set(_palette(12))
    assert len(set(_palette(12))) == 12
    bias = next(s for s in slides_en if s.key == "bias").image()  # ViT heads, ViT mean, ResNet-50
    assert distinct_colours(bias, _palette(3)) == set(_palette(3))


def test_fig3_points_sit_where_table5_puts_them():
    """Read a marker's centre back from the picture: ViT-H/14 on JFT-300M at 88.04 %, on a 70–90 % axis."""
    pixels = np.asarray(fig3_picture())
    rgb = np.asarray(raster.colour(4))
    ys, xs = np.nonzero(np.all(np.abs(pixels.astype(int) - rgb) <= 2, axis=-1))
    plot = xs < raster.WIDTH - 400  # leave the legend out
    right = xs[plot].max()
    column = ys[plot][xs[plot] > right - 20]  # the rightmost marker (JFT-300M)
    top, bottom = 30, raster.HEIGHT - 120
    expected = bottom - (88.04 - 70) / 20 * (bottom - top)
    assert abs(np.median(column) - expected) < 4


def test_fig6_leaves_the_sinks_out_and_is_the_library_rollout(deck_inputs):
    _, a = deck_inputs
    layout = a.layout
    gw = layout.grid[1]
    sink_token = layout.num_prefix_tokens + 5  # patch (0, 5) as a sink, left out of the figure's rollout
    without = a.rollout.copy()
    without[0, 5] = 0
    a2 = dataclasses.replace(a, sink_tokens=(sink_token,), rollout_without_sinks=without)
    grid_map, sinks = fig6_map(a2)
    assert sinks == ((0, 5),) and grid_map is without
    assert (sink_token - layout.num_prefix_tokens) // gw == 0
    slide = next(s for s in talk_slides(loaded_of(deck_inputs), a2) if s.key == "fig6")
    assert "1 attention sink left out" in slide.takeaway  # the plural form follows the count (tn)
    grid_map, sinks = fig6_map(a)  # none found: the plain rollout
    assert grid_map is a.rollout and sinks == ()


def loaded_of(deck_inputs):
    return deck_inputs[0]


def test_text_is_at_least_the_minimum_size():
    assert min(raster.TICK, raster.LABEL, raster.LEGEND) >= raster.MIN_TEXT
    # drawn at 1840 px, shown at 1232 px on the Talk page at 1280×720 (the browser test measures it): 30 px → 20 px
    assert raster.MIN_TEXT * 1232 / raster.WIDTH >= 16


# ------------------------------------------------------------------------------------ the .pptx
def _deck_check(path, slides):
    """Open the file with python-pptx and check it against the slide data; returns the Presentation."""
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE
    from pptx.oxml.ns import qn

    prs = Presentation(str(path))
    assert len(prs.slides) == len(slides) == len(ORDER)
    for slide, data in zip(prs.slides, slides):
        pictures = [sh for sh in slide.shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE]
        tables = [sh for sh in slide.shapes if sh.has_table]
        assert len(pictures) + len(tables) == 1, data.key
        assert bool(pictures) == (data.picture is not None)
        texts = [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]
        assert texts[0] == data.title and data.takeaway in texts  # title first, takeaway as text
        for sh in slide.shapes:  # every run names the East-Asian font
            frames = [sh.text_frame] if sh.has_text_frame else \
                [c.text_frame for row in sh.table.rows for c in row.cells] if sh.has_table else []
            for frame in frames:
                for para in frame.paragraphs:
                    for run in para.runs:
                        assert run._r.rPr.find(qn("a:ea")).get("typeface") == "Noto Sans CJK KR"
        for picture in pictures:  # the picture is the slide's own PNG, not stretched
            assert picture.image.blob == data.picture
            w, h = data.image().size
            assert abs(picture.width / picture.height - w / h) < 0.01
            assert picture.left >= 0 and picture.top + picture.height <= prs.slide_height
    return prs


def test_pptx_has_one_picture_or_table_per_slide_in_order(slides_en, tmp_path):
    from vitviz.talk.deck import write_pptx

    prs = _deck_check(write_pptx(tmp_path / "talk.pptx", slides_en), slides_en)
    titles = [next(sh.text_frame.text for sh in s.shapes if sh.has_text_frame) for s in prs.slides]
    assert titles == [s.title for s in slides_en]
    table2 = next(sh.table for sh in prs.slides[ORDER.index("table2")].shapes if sh.has_table)
    assert table2.cell(1, 1).text == "88.55 ± 0.04"  # the paper's cell, as printed
    fig3 = next(sh for sh in prs.slides[ORDER.index("fig3")].shapes if sh.shape_type == 13)
    picture = Image.open(__import__("io").BytesIO(fig3.image.blob))
    assert distinct_colours(picture, _palette(5)) == set(_palette(5))


def test_cli_writes_the_korean_deck(tmp_path, capsys, monkeypatch, deck_inputs):
    from vitviz.cli import main as cli
    from vitviz.talk import slides as slides_module

    loaded, _ = deck_inputs
    monkeypatch.setattr("vitviz.loading.models.load_model", lambda *a, **k: loaded)
    rc = cli.main(["talk", "--model", "vit_tiny_patch16_224", "--untrained", "--lang", "ko",
                   "--image", str(SAMPLES / "flower.jpg"), "--out", str(tmp_path)])
    assert rc == 0 and (tmp_path / "talk.pptx").exists()
    from pptx import Presentation

    prs = Presentation(str(tmp_path / "talk.pptx"))
    assert len(prs.slides) == len(slides_module.ORDER)
    texts = [sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame]
    assert all(HANGUL.search(t) for t in texts[::3])  # every slide's title
    assert "flower.jpg" in texts[2]  # the first slide's source names the image


@pytest.mark.parametrize("argv, message", [
    (["--lang", "fr"], "--lang 'fr' is not one of en, ko"),
    (["--image", "/no/such/image.jpg"], "no such file"),
])
def test_cli_bad_input_is_one_line_and_exit_2(argv, message, tmp_path, capsys):
    from vitviz.cli import main as cli

    rc = cli.main(["talk", "--model", "vit_tiny_patch16_224", "--untrained", "--out", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "talk.pptx").exists()


def test_a_model_without_class_token_or_head_gets_its_own_takeaways():
    model = make_vit("vit_tiny_patch16_224", class_token=False, global_pool="avg", num_classes=0)
    spec = ModelSpec(name="vit_tiny_patch16_224", label="ViT-Ti/16 GAP (test model)", family="ViT")
    loaded = LoadedModel(spec=spec, model=model, device=torch.device("cpu"), dtype=torch.float32, source="untrained",
                         data_config=resolve_data_config({}, model=model))
    analysis = analyze_image(loaded, Image.open(SAMPLES / "cat.jpg").convert("RGB"))
    by_key = {s.key: s for s in talk_slides(loaded, analysis)}
    assert "no class token" in by_key["classify"].takeaway
    assert "mean patch query" in by_key["fig6"].takeaway
    assert "196 tokens" in by_key["cls"].takeaway and "0 prefix" in by_key["cls"].takeaway
