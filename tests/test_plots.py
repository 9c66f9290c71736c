"""Plot builders: inspect the returned plotly figures (layout and traces), never pixels on screen."""
from __future__ import annotations

import base64
import io
import re
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from vitviz.figures import plots
from vitviz.figures.map_pictures import head_panels, heads_html, map_picture, maps_html, picture_png
from vitviz.figures.plots import figure_title


def _decode(uri: str) -> np.ndarray:
    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def _plot_px(fig) -> tuple[float, float]:
    """(width, height) in px of the plot area (figure minus margins)."""
    m = fig.layout.margin
    return fig.layout.width - m.l - m.r, fig.layout.height - m.t - m.b


def _display(h: int = 224, w: int = 224) -> np.ndarray:
    return (np.arange(h * w * 3).reshape(h, w, 3) % 251).astype(np.uint8)


# --- titles ---------------------------------------------------------------------------------------

def test_figure_title_carries_model_label_and_untrained_mark():
    assert figure_title("Attention rollout", "DINOv2 ViT-S/14", untrained=True, extra="cat, 224×224 px") == \
        "Attention rollout · DINOv2 ViT-S/14 (untrained) · cat, 224×224 px"
    assert figure_title("Attention rollout", "DINOv2 ViT-S/14") == "Attention rollout · DINOv2 ViT-S/14"
    assert "untrained" not in figure_title("x", "ViT-B/16", untrained=False)


def test_figure_title_marks_untrained_once_and_skips_empty_parts():
    assert figure_title("Map", "ViT-B/16 (untrained)", untrained=True) == "Map · ViT-B/16 (untrained)"
    assert figure_title("Map", "ViT-B/16", extra="  ") == "Map · ViT-B/16"


def test_long_titles_wrap_and_the_top_margin_grows():
    title = figure_title("Mean attention distance per head", "DINOv2 ViT-S/14 (self-supervised backbone)",
                         untrained=True, extra="6 images, input 224×224 px")
    fig = plots.rgb_figure(np.zeros((4, 4, 3)), title)
    text = fig.layout.title.text
    assert "<br>" in text and all(len(line) <= 72 for line in text.split("<br>"))
    assert "DINOv2 ViT-S/14" in text.replace("<br>", " ") and "(untrained)" in text
    assert fig.layout.margin.t >= 26 * (text.count("<br>") + 1)


# --- square images, overlays and marked patches ---------------------------------------------------

def test_image_figure_sends_a_png_with_square_pixels():
    display = _display(224, 160)
    fig = plots.image_figure(display, "input", patch_size=(16, 16), highlight=(2, 3))
    trace = fig.data[0]
    assert trace.type == "image" and trace.z is None
    assert np.array_equal(_decode(trace.source), display)
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    box = fig.layout.shapes[-1]
    assert (box.x0, box.x1, box.y0, box.y1) == (3 * 16 - 0.5, 4 * 16 - 0.5, 2 * 16 - 0.5, 3 * 16 - 0.5)
    # The PNG is far smaller than the nested-list z it replaces.
    assert len(fig.to_json()) < 0.5 * len(str(display.tolist()))


def test_other_image_figures_are_pngs_too():
    figs = [plots.rgb_figure(np.random.default_rng(0).random((16, 16, 3))),
            plots.patch_strip(np.zeros((20, 14, 14, 3), np.uint8), 16),
            plots.filters_figure(np.random.default_rng(0).normal(size=(28, 3, 14, 14)))]
    for fig in figs:
        assert fig.data[0].type == "image" and fig.data[0].z is None and fig.data[0].source
        assert fig.layout.yaxis.scaleanchor == "x"


def test_attention_overlay_is_square_per_patch_and_marks_sinks():
    grid_map = np.arange(256, dtype=float).reshape(16, 16)
    fig = plots.attention_overlay(_display(), grid_map, (14, 14), query_patch=(0, 0), marked=[(15, 15), (2, 8)])
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    heat = fig.data[1]
    assert heat.type == "heatmap" and np.asarray(heat.z).shape == (16, 16)
    assert np.allclose(np.diff(heat.x), 14) and np.allclose(np.diff(heat.y), 14)
    sinks = {s.name: s for s in fig.layout.shapes if s.name}
    assert set(sinks) == {"sink (15, 15)", "sink (2, 8)"}
    box = sinks["sink (2, 8)"]
    assert (box.x0, box.x1, box.y0, box.y1) == (8 * 14 - 0.5, 9 * 14 - 0.5, 2 * 14 - 0.5, 3 * 14 - 0.5)
    assert box.label.text == "sink" and box.line.dash == "dash" and box.line.color == plots.MARK
    assert heat.text[2][8] == " — sink" and heat.text[0][0] == ""
    # The query frame is still the solid orange one, unnamed.
    assert any(s.line.color == plots.HIGHLIGHT and s.name is None for s in fig.layout.shapes)


def test_attention_overlay_marked_label_and_bad_patch():
    fig = plots.attention_overlay(_display(), np.zeros((16, 16)), (14, 14), marked=[(1, 1)], marked_label="high norm")
    assert fig.layout.shapes[0].name == "high norm (1, 1)" and fig.layout.shapes[0].label.text == "high norm"
    assert fig.data[1].text[1][1] == " — high norm"
    with pytest.raises(IndexError):
        plots.attention_overlay(_display(), np.zeros((16, 16)), (14, 14), marked=[(16, 0)])


def _panel_px(fig, i: int) -> tuple[float, float]:
    xa = fig.layout["xaxis" if i == 1 else f"xaxis{i}"]
    ya = fig.layout["yaxis" if i == 1 else f"yaxis{i}"]
    w, h = fig.layout.width - fig.layout.margin.l - fig.layout.margin.r, \
        fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    return (xa.domain[1] - xa.domain[0]) * w, (ya.domain[1] - ya.domain[0]) * h


# --- position-embedding tiles ---------------------------------------------------------------------

def _similarity(gh: int, gw: int) -> np.ndarray:
    rows, cols = np.indices((gh, gw))
    d = np.hypot(rows[:, :, None, None] - rows[None, None], cols[:, :, None, None] - cols[None, None])
    return np.cos(d / max(gh, gw) * np.pi)  # 1 on the diagonal, −1 far away


def test_similarity_tiles_paper_axes_and_size():
    sim = _similarity(16, 16)
    fig = plots.similarity_tiles(sim, figure_title("Position embedding similarity", "DINOv2 ViT-S/14"))
    # One numbering everywhere: 0-based, as the row/column pickers, the URL, the read-outs and the CSVs.
    assert fig.layout.xaxis.title.text == "input patch column (0-based)"
    assert fig.layout.yaxis.title.text == "input patch row (0-based)"
    assert list(fig.layout.xaxis.ticktext) == [str(j) for j in range(16)]
    assert list(fig.layout.yaxis.ticktext) == [str(i) for i in range(16)]
    w, h = _plot_px(fig)
    assert w >= 600 and h >= 600 and w == h
    assert fig.layout.yaxis.scaleanchor == "x"
    small = plots.similarity_tiles(sim, height=300)  # raised so the mosaic stays ≥ 600 px
    assert min(_plot_px(small)) >= 600


def test_similarity_tiles_is_a_light_image_with_the_similarity_colours():
    sim = _similarity(7, 7)
    fig = plots.similarity_tiles(sim)
    assert not any(t.type == "heatmap" for t in fig.data)
    rgba = _decode(fig.data[0].source)
    mosaic = plots.similarity_mosaic(sim)
    assert rgba.shape == mosaic.shape + (4,) == (55, 55, 4)
    assert rgba[7, 0, 3] == 0 and rgba[0, 7, 3] == 0  # gaps between tiles are transparent
    lut = plots.colour_lut(plots.SIMILARITY)
    # Tile (1, 2) at position (1, 2) is its own embedding: similarity 1, the scale's top colour.
    assert np.array_equal(rgba[1 * 8 + 1, 2 * 8 + 2, :3], lut[-1]) and rgba[9, 18, 3] == 255
    assert np.array_equal(rgba[0, 6, :3], lut[np.round((sim[0, 0, 0, 6] + 1) / 2 * 255).astype(int)])
    bar = fig.data[1].marker
    assert bar.showscale and (bar.cmin, bar.cmax) == (-1, 1) and bar.colorscale
    # 37×37 (DINOv2 at 518 px) would be 2 M heatmap cells; the PNG keeps the JSON small.
    assert len(plots.similarity_tiles(_similarity(37, 37)).to_json()) < 2_000_000


def test_a_click_on_any_tile_maps_back_to_its_row_and_column():
    gh, gw = 5, 7
    sim = _similarity(gh, gw)
    fig = plots.similarity_tiles(sim, selected=(2, 3))
    picker = fig.data[2]
    assert picker.name == "pick a tile" and len(picker.x) == gh * gw
    mosaic = plots.similarity_mosaic(sim)
    for index, (x, y, custom) in enumerate(zip(picker.x, picker.y, picker.customdata)):
        row, col = plots.picked_tile({"curve_number": 2, "point_index": index, "customdata": list(custom)}, (gh, gw))
        assert (row, col) == plots.picked_tile({"point_index": index}, (gh, gw)) == divmod(index, gw)
        # The marker sits on that tile: its cell holds the tile's own values.
        assert int(round(y)) // (gh + 1) == row and int(round(x)) // (gw + 1) == col
        assert mosaic[int(round(y)), int(round(x))] == sim[row, col][int(round(y)) % (gh + 1), int(round(x)) % (gw + 1)]
    frame = [s for s in fig.layout.shapes if s.name == "selected (2, 3)"][0]
    assert frame.x0 < 3 * (gw + 1) < frame.x1 and frame.y0 < 2 * (gh + 1) < frame.y1


def test_picked_tile_and_tile_at_reject_what_is_not_a_tile():
    assert plots.tile_at(17, (4, 5)) == (3, 2)
    assert plots.picked_tile({"pointIndex": 6}, (4, 5)) == (1, 1)
    with pytest.raises(IndexError):
        plots.tile_at(20, (4, 5))
    with pytest.raises(IndexError):
        plots.picked_tile({"customdata": [4, 0]}, (4, 5))
    with pytest.raises(KeyError):
        plots.picked_tile({"x": 1.0}, (4, 5))


def test_similarity_tile_has_square_cells_and_frames_the_position():
    fig = plots.similarity_tile(_similarity(8, 8), 3, 5, "one tile")
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.constrain == "domain"
    box = fig.layout.shapes[0]
    assert (box.x0, box.y0) == (4.5, 2.5)


# --- distances ------------------------------------------------------------------------------------

def test_distance_figure_one_colour_per_head_with_a_legend():
    dist = np.random.default_rng(0).uniform(10, 100, size=(12, 12))
    fig = plots.distance_figure({"ViT-B/16": dist}, {"uniform": 80.0}, num_images=6)
    points = fig.data[0]
    colours = np.asarray(points.marker.color).reshape(12, 12)
    assert len(set(colours[0])) == 12 and (colours == colours[0]).all()  # per head, same in every layer
    heads = [t for t in fig.data if t.legend == "legend2"]
    assert [t.name for t in heads] == [f"head {h}" for h in range(12)]
    assert [t.marker.color for t in heads] == list(colours[0])
    assert plots.head_style(15)[0] not in {plots.head_style(h)[0] for h in range(15)}


def test_distance_figure_title_names_models_and_image_count():
    a, b = np.ones((4, 3)), np.ones((4, 6))
    fig = plots.distance_figure({"ViT-S/16": a, "DINOv2 ViT-S/14": b}, num_images=5, untrained=True,
                                title="224×224 px")
    title = fig.layout.title.text.replace("<br>", " ")
    assert "ViT-S/16 (untrained)" in title and "DINOv2 ViT-S/14" in title
    assert "5 images" in title and "224×224 px" in title and title.startswith("Mean attention distance")
    one = plots.distance_figure({"ViT-S/16": a}, num_images=1).layout.title.text
    assert "1 image" in one and "1 images" not in one
    assert plots.distance_figure({"ViT-S/16": a}, title="as given").layout.title.text == "as given"


def test_distance_figure_reference_lines_per_model_named_after_it():
    series = {"ViT-B/16": np.ones((12, 12)) * 50, "DINOv2 ViT-S/14": np.ones((12, 6)) * 40}
    refs = {"ViT-B/16": {"uniform": 104.3, "3×3": 18.0}, "DINOv2 ViT-S/14": {"uniform": 91.2}}
    fig = plots.distance_figure(series, refs)
    lines = {s.name: s for s in fig.layout.shapes}
    assert set(lines) == {"ViT-B/16: uniform", "ViT-B/16: 3×3", "DINOv2 ViT-S/14: uniform"}
    assert lines["ViT-B/16: uniform"].y0 == 104.3 and lines["DINOv2 ViT-S/14: uniform"].y0 == 91.2
    assert lines["ViT-B/16: uniform"].line.dash != lines["DINOv2 ViT-S/14: uniform"].line.dash
    notes = [a.text for a in fig.layout.annotations]
    assert "uniform (ViT-B/16): 104.3 px" in notes and "uniform (DINOv2 ViT-S/14): 91.2 px" in notes
    # Flat references with one model are that model's.
    single = plots.distance_figure({"ViT-B/16": np.ones((2, 2))}, {"uniform": 104.3})
    assert single.layout.shapes[0].name == "ViT-B/16: uniform"
    shared = plots.distance_figure(series, {"uniform": 104.3})
    assert shared.layout.shapes[0].name == "uniform"


def test_distance_figure_legends_and_labels_stay_out_of_the_data():
    fig = plots.distance_figure({"A": np.ones((3, 4)), "B": np.ones((3, 4))}, {"uniform": 2.0}, title="t")
    assert fig.layout.legend.y > 1 and fig.layout.legend.yanchor == "bottom"
    assert fig.layout.legend2.y < 0 and fig.layout.legend2.yanchor == "top"
    assert all(a.x >= 1 and a.xanchor == "left" for a in fig.layout.annotations)
    assert fig.layout.yaxis.range[1] > 2.0  # the highest line is inside the y range


# --- CNN vs ViT depth -----------------------------------------------------------------------------

def _comparison(radius):
    n = len(radius)
    return SimpleNamespace(vit_heads=np.arange(12.0).reshape(4, 3), vit_depth=np.linspace(0.25, 1, 4),
                           vit_mean=np.arange(4.0), vit_std=np.ones(4), cnn_layer_depth=np.linspace(0, 1, n),
                           cnn_layer_radius=np.asarray(radius, float), cnn_stage_depth=np.array([0.5, 1.0]),
                           cnn_effective_radius=np.array([3.0, 9.0]), cnn_stage_names=("s1", "s2"),
                           effective_share=0.5)


def test_cnn_receptive_field_never_shrinks_along_depth():
    raw = [1, 3, 7, 2, 11, 5, 11, 19]  # stride-2 shortcuts have small fields of their own
    fig = plots.depth_comparison_figure(_comparison(raw), "ViT-S/16", "MobileNetV2", "t")
    rf = fig.data[2]
    assert list(rf.y) == [1, 3, 7, 7, 11, 11, 11, 19]
    assert np.all(np.diff(rf.y) >= 0) and list(rf.customdata) == raw
    assert "largest" in rf.name and "largest so far" in rf.hovertemplate and "this layer" in rf.hovertemplate
    assert fig.layout.legend.y < 0 and fig.layout.legend.yanchor == "top"  # below the plot
    assert [t.name.split(":")[0] for t in fig.data] == ["ViT-S/16", "ViT-S/16", "MobileNetV2", "MobileNetV2"]


def test_explained_variance_legend_is_outside_the_plot():
    fig = plots.explained_variance_figure(np.array([0.5, 0.3, 0.2]))
    assert fig.layout.legend.x > 1 and fig.layout.legend.xanchor == "left"
    assert list(fig.data[1].y) == pytest.approx([0.5, 0.8, 1.0])


def test_attention_overlay_sends_the_photo_as_jpeg():
    display = _display(224, 224)
    fig = plots.attention_overlay(display, np.random.default_rng(1).random((16, 16)), (14, 14))
    assert fig.data[0].source.startswith("data:image/jpeg;base64,")


def test_picked_tile_reads_customdata_as_streamlit_sends_it():
    # What st.plotly_chart's selection event holds for a click on tile (2, 3) of a 16×16 grid
    # (captured from Chromium): customdata arrives as a dict with string keys.
    point = {"curve_number": 2, "point_number": 35, "point_index": 35, "x": 58.5, "y": 41.5,
             "customdata": {"0": 2, "1": 3}}
    assert plots.picked_tile(point, (16, 16)) == (2, 3)
    assert plots.picked_tile({"customdata": [5, 7]}, (16, 16)) == (5, 7)


def test_head_panels_blend_each_map_over_the_image_with_frames():
    display = np.full((32, 32, 3), 200, np.uint8)
    maps = np.zeros((4, 2, 2))
    maps[1, 0, 1] = 1.0  # head 1: all attention on patch (0, 1)
    panels, top = head_panels(maps, display, (16, 16), opacity=1.0, query_patch=(1, 0), marked=[(1, 1)])
    lut = plots.colour_lut(plots.SEQUENTIAL).astype(int)
    assert panels.shape == (4, 32, 32, 3) and panels.dtype == np.uint8 and top == 1.0
    np.testing.assert_array_equal(panels[1, 4:12, 20:28], np.broadcast_to(lut[-1], (8, 8, 3)))  # the top colour
    np.testing.assert_array_equal(panels[1, 4:12, 4:12], np.broadcast_to(lut[0], (8, 8, 3)))
    orange = [int(plots.HIGHLIGHT[i:i + 2], 16) for i in (1, 3, 5)]
    magenta = [int(plots.MARK[i:i + 2], 16) for i in (1, 3, 5)]
    for panel in panels:  # query frame solid (3 px) and sink frame dashed (2 px) in every panel
        np.testing.assert_array_equal(panel[16:19, 0:16], np.broadcast_to(orange, (3, 16, 3)))
        assert (panel[16, 16:20] == magenta).all() and not (panel[16, 20:24] == magenta).all(axis=-1).any()
    half, _ = head_panels(maps, display, (16, 16), opacity=0.5)
    np.testing.assert_allclose(half[1, 8, 24], np.round(0.5 * 200 + 0.5 * lut[-1]), atol=1)
    with pytest.raises(ValueError, match="outside the 2×2 grid"):
        head_panels(maps, display, (16, 16), marked=[(2, 0)])


@pytest.mark.parametrize("grid, patch, image", [((4, 5), (7, 6), (28, 30)),  # whole cells: the broadcast path
                                                ((4, 5), (7, 6), (26, 33))])  # cut or extended edge cells
def test_head_panels_equal_the_blend_computed_pixel_by_pixel(grid, patch, image):
    rng = np.random.default_rng(3)
    maps = rng.random((3, *grid)).astype(np.float32) ** 3
    display = rng.integers(0, 256, (*image, 3), dtype=np.uint8)
    panels, top = head_panels(maps, display, patch, opacity=0.35)
    lut = plots.colour_lut(plots.SEQUENTIAL)
    rows = np.minimum(np.arange(image[0]) // patch[0], grid[0] - 1)
    cols = np.minimum(np.arange(image[1]) // patch[1], grid[1] - 1)
    index = np.clip(np.round(maps / top * 255), 0, 255).astype(int)[:, rows][:, :, cols]
    expected = ((1 - 0.35) * display.astype(np.float32) + 0.5) + 0.35 * lut[index].astype(np.float32)
    np.testing.assert_array_equal(panels, np.clip(expected, 0, 255).astype(np.uint8))


def test_heads_html_is_a_figure_of_labelled_pictures_with_a_colour_bar():
    display = np.full((28, 28, 3), 120, np.uint8)
    maps = np.zeros((6, 2, 2))
    maps[:, 1, 0] = np.arange(1, 7) / 100  # head h peaks at patch (1, 0) with (h + 1) %
    page = heads_html(maps, display, (14, 14), title="All 6 heads · ViT <S> · layer 3", value_name="attention")
    assert page.count("<img ") == 6 and page.count("data:image/jpeg;base64,") == 6
    assert [f"head {h}" for h in range(6)] == re.findall(r">(head \d)</figcaption>", page)
    assert 'alt="head 5: The map is strongest at patch (row 1, column 0), value 0.06."' in page
    assert "All 6 heads · ViT &lt;S&gt; · layer 3" in page and "<S>" not in page  # escaped
    assert "linear-gradient" in page and ">0.06</span>" in page  # the shared colour range's top
    src = re.search(r'src="data:image/jpeg;base64,([^"]+)"', page)[1]
    assert np.asarray(Image.open(io.BytesIO(base64.b64decode(src)))).shape == (28, 28, 3)


def test_maps_html_shows_maps_alone_enlarged_with_one_colour_range():
    maps = np.zeros((3, 7, 7))
    maps[2, 3, 4] = 2.0  # channel 2 peaks at cell (3, 4); the shared range is 0 … 2
    page = maps_html(maps, labels=["ch 10", "ch 11", "ch 12"], title="3 channels", min_px=96)
    assert re.findall(r">(ch \d+)</figcaption>", page) == ["ch 10", "ch 11", "ch 12"] and ">2</span>" in page
    src = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', page)[2]
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(src)))).astype(int)
    lut = plots.colour_lut(plots.SEQUENTIAL).astype(int)
    assert pixels.shape == (98, 98, 3)  # 7 cells of 14 px: the smallest whole scale ≥ 96 px
    assert np.abs(pixels[3 * 14 + 4:4 * 14 - 4, 4 * 14 + 4:5 * 14 - 4] - lut[-1]).max() < 12  # the peak, no image under it
    assert np.abs(pixels[4:10, 4:10] - lut[0]).max() < 12


def test_map_picture_is_the_map_over_the_image_and_downloads_as_png():
    display = np.full((28, 42, 3), 90, np.uint8)  # 2 × 3 patches of 14 px
    grid_map = np.zeros((2, 3))
    grid_map[1, 2] = 0.25
    picture, top = map_picture(grid_map, display, (14, 14), opacity=1.0, query_patch=(0, 0))
    assert top == 0.25 and picture.startswith("data:image/jpeg;base64,")
    png = picture_png(picture)
    assert png.startswith(b"\x89PNG")
    pixels = np.asarray(Image.open(io.BytesIO(png))).astype(int)
    lut = plots.colour_lut(plots.SEQUENTIAL).astype(int)
    assert pixels.shape == (28, 42, 3)
    assert np.abs(pixels[18:24, 32:38] - lut[-1]).max() < 12 and np.abs(pixels[18:24, 18:24] - lut[0]).max() < 12


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str = "#ffffff") -> float:
    """WCAG 2.1 contrast ratio (1–21)."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_reference_lines_meet_wcag_aa_on_white():
    assert contrast("#000000") == pytest.approx(21.0) and contrast("#767676") == pytest.approx(4.54, abs=0.01)
    assert contrast(plots.REFERENCE) >= 4.5  # text labels in the line's colour too
    fig = plots.distance_figure({"m": np.ones((2, 3))}, {"uniform": 1.0, "3×3 window": 0.5})
    assert {s.line.color for s in fig.layout.shapes} == {plots.REFERENCE}
    assert all(contrast(c) >= 3.0 for c in (plots.MARK, plots.REFERENCE))  # marked patches and guide lines


def test_dashboard_caption_and_accent_colours_meet_wcag_aa():
    import re
    import tomllib

    from conftest import REPO

    css = (REPO / "app" / "frame.py").read_text()
    caption = re.search(r'stCaptionContainer"\] p \{ color: (#[0-9a-fA-F]{6})', css).group(1)
    theme = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())["theme"]
    assert theme["base"] == "light" and contrast(caption) >= 4.5 and contrast(theme["primaryColor"]) >= 4.5
