"""Figures as a lecturer sees them: titles that wrap instead of running off the figure, axes whose numbers
are whole, series in their own colours also in the exported page, and no server path in what is shown."""
from __future__ import annotations

import json
import re

import numpy as np
import plotly.io as pio
import pytest
import torch
from timm.data import resolve_data_config

from vitviz.text import i18n
from vitviz.figures import paper, plots
from vitviz.loading.models import LoadedModel, source_name
from vitviz.figures.titles import TITLE_SIZE, TITLE_WIDTH, text_width, title_chars, title_top, wrap_title
from vitviz.loading.registry import ModelSpec
from vitviz.figures.report import REPORT_TEMPLATE, paper_report_html, report_figure
from vitviz.run.pipeline import analyze_samples

from conftest import SAMPLES, make_vit

LONG = ("Fig. 1 (model overview) for DINOv2 ViT-S/14 (self-supervised backbone, no classifier head) — "
        "P = 14, 16 × 16 = 256 patches at 224 × 224 px, L = 12, D = 384, 6 heads")


def _lines(title: str) -> list[str]:
    return title.split("<br>")


# ----------------------------------------------------------------------------- wrapping
def test_wrap_title_keeps_every_line_within_the_width_and_loses_nothing():
    for width, size in [(None, TITLE_SIZE), (1000, 15), (480, TITLE_SIZE), (300, 12)]:
        wrapped = wrap_title(LONG, width, size)
        limit = title_chars(min(width or TITLE_WIDTH, TITLE_WIDTH), size)
        assert all(text_width(line) <= limit for line in _lines(wrapped)), (width, wrapped)
        assert wrapped.replace("<br>", " ") == LONG  # a break replaces one space; the marks stay
    assert len(_lines(wrap_title(LONG, 300))) > len(_lines(wrap_title(LONG)))  # narrower: more lines
    assert wrap_title("Short title") == "Short title"


def test_wrap_title_breaks_at_the_strongest_separator_outside_brackets():
    # The dash before the numbers, not the comma inside the model's label.
    assert _lines(wrap_title(LONG, size=15)) == [
        "Fig. 1 (model overview) for DINOv2 ViT-S/14",
        "(self-supervised backbone, no classifier head) —",
        "P = 14, 16 × 16 = 256 patches at 224 × 224 px, L = 12, D = 384, 6 heads"]
    title = "Attention rollout · DINOv2 ViT-S/14 · from layer 0, mean fusion, discard 0%, cat, 224×224 px, more"
    assert _lines(wrap_title(title, 500))[0].endswith(" ·")
    # An existing break stays a break; each line is wrapped on its own.
    two = "Paper's Table 2<br>" + "reported numbers, not computed for " + "a very long model label " * 4
    assert _lines(wrap_title(two))[0] == "Paper's Table 2"


def test_hangul_wraps_at_its_drawn_width():
    ko = "유효 수용 영역 (effective RF) · MobileNetV2 · blocks.6 가운데 유닛"
    en = "Effective RF · MobileNetV2 · blocks.6 centre unit"
    width = 480  # half of the page at 1440 px
    assert wrap_title(en, width) == en
    assert _lines(wrap_title(ko, width)) == ["유효 수용 영역 (effective RF) · MobileNetV2 ·", "blocks.6 가운데 유닛"]


@pytest.mark.parametrize("build", [
    lambda title: plots.attention_overlay(np.zeros((32, 32, 3), np.uint8), np.random.default_rng(0).random((2, 2)),
                                          (16, 16), title=title),
    lambda title: plots.filters_figure(np.random.default_rng(0).random((28, 3, 4, 4)), title=title),
    lambda title: plots.similarity_tiles(np.random.default_rng(0).random((3, 3, 3, 3)), title),
    lambda title: plots.distance_figure({"ViT": np.random.default_rng(0).random((4, 3)) * 100}, title=title),
    lambda title: plots.explained_variance_figure(np.array([0.5, 0.3, 0.2]), title),
    lambda title: plots.rgb_figure(np.zeros((4, 4, 3)), title),
], ids=["overlay", "filters", "tiles", "distance", "variance", "rgb"])
def test_every_builder_wraps_its_title_and_pins_it_above_the_plot(build):
    fig = build(LONG)
    title = fig.layout.title
    assert title.text.replace("<br>", " ") == LONG
    assert all(text_width(line) <= title_chars(TITLE_WIDTH) for line in _lines(title.text))
    # Pinned to the figure's top, its lines going down into a top margin that holds them all.
    assert (title.yref, title.y, title.yanchor) == ("container", 1, "top")
    assert fig.layout.margin.t >= title_top(title.text)


def test_fig1_title_wraps_for_a_1440_px_page(tiny):
    fig = tiny["fig1"]
    lines = _lines(fig.layout.title.text)
    assert len(lines) >= 2 and all(text_width(line) <= title_chars(TITLE_WIDTH, 15) for line in lines)
    assert fig.layout.margin.t >= title_top(fig.layout.title.text, 15)


# ----------------------------------------------------------------------------- the paper's charts
def test_table2_bars_have_their_own_colours_and_whole_axis_numbers():
    fig = paper.table2_figure("ViT-S")
    colours = [trace.marker.color for trace in fig.data]
    assert len(fig.data) == 5 and all(colours) and len(set(colours)) == len(colours)
    assert not any(re.fullmatch(r"#0000\d\d", c) for c in colours)  # not a placeholder (near black)
    for fig in (paper.table2_figure("ViT-S"), paper.fig5_compute_figure(model_label="ViT-S")):
        # The y numbers ("100") and the axis title have room: automargin on, a margin wider than "100".
        assert fig.layout.yaxis.automargin is True and fig.layout.xaxis.automargin is True
        assert fig.layout.margin.l >= 60 and fig.layout.yaxis.title.standoff >= 8
        assert fig.layout.margin.t >= title_top(fig.layout.title.text)


def _figure_json(html_text: str) -> list[dict]:
    """Each ``Plotly.newPlot(id, data, layout, config)`` of an exported page as {"data", "layout"}."""
    out = []
    for match in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', html_text):
        decoder = json.JSONDecoder()
        data, end = decoder.raw_decode(html_text, match.end())
        rest = html_text[end:].lstrip().lstrip(",").lstrip()
        layout, _ = decoder.raw_decode(rest)
        out.append({"data": data, "layout": layout})
    return out


def test_export_from_inside_streamlit_draws_in_colour(tiny):
    """Streamlit sets plotly's default template to one whose colours are placeholders its page replaces
    (#000001, …): figures built in the server and exported as they were showed black bars and legends."""
    import streamlit.elements.plotly_chart  # noqa: F401  (configures Streamlit's template)

    assert "streamlit" in pio.templates
    old = pio.templates.default
    pio.templates.default = "streamlit"
    try:
        built = paper.table2_figure("ViT-S")  # built as the server builds it
        assert built.layout.template.layout.colorway[0] == "#000001"
        html_text = paper_report_html("t", [paper.Section("Table 2", figure=built, anchor="table2-chart")])
    finally:
        pio.templates.default = old
    assert "#000001" not in html_text and "#000002" not in html_text
    (figure,) = _figure_json(html_text)
    colours = [trace["marker"]["color"] for trace in figure["data"]]
    assert len(set(colours)) == 5
    assert figure["layout"]["template"]["layout"]["colorway"] == list(pio.templates[REPORT_TEMPLATE].layout.colorway)
    assert report_figure(built).layout.template.layout.colorway[0] != "#000001"
    assert built.layout.template.layout.colorway[0] == "#000001"  # the app's own figure is left as it was


# ----------------------------------------------------------------------------- no server path shown
def test_source_name_is_the_file_name_only():
    assert source_name("local:/srv/vitviz/weights/vit_small.safetensors") == "local: vit_small.safetensors"
    assert source_name(r"local:C:\weights\vit.pth") == "local: vit.pth"
    assert source_name("hub") == "hub" and source_name("untrained") == "untrained"


def test_report_header_names_the_weights_file_not_the_folder(tiny_model, tmp_path):
    model, analyses = tiny_model
    folder = tmp_path / "secret-server-folder"
    spec = ModelSpec(name="vit_tiny_patch16_224", label="ViT-Ti/16 test", family="ViT")
    loaded = LoadedModel(spec=spec, model=model, device=torch.device("cpu"), dtype=torch.float32,
                         source=f"local:{folder}/vit_tiny.safetensors", data_config=resolve_data_config({}, model=model))
    assert loaded.source.endswith("secret-server-folder/vit_tiny.safetensors")  # the CLI's JSON keeps it
    for lang in ("en", "ko"):
        with i18n.use(lang):
            text = paper.paper_report(loaded, analyses, ["cat"])
        assert "secret-server-folder" not in text and str(tmp_path) not in text
        assert "local: vit_tiny.safetensors" in text


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def tiny_model():
    model = make_vit(depth=2, num_classes=0)
    spec = ModelSpec(name="vit_tiny_patch16_224", label="ViT-Ti/16 test", family="ViT")
    loaded = LoadedModel(spec=spec, model=model, device=torch.device("cpu"), dtype=torch.float32, source="untrained",
                         data_config=resolve_data_config({}, model=model))
    return model, analyze_samples(loaded, [SAMPLES / "cat.jpg"])


@pytest.fixture(scope="module")
def tiny(tiny_model):
    model, analyses = tiny_model
    spec = ModelSpec(name="vit_tiny_patch16_224", label="DINOv2 ViT-S/14 (self-supervised backbone, no classifier "
                                                      "head)", family="ViT")
    loaded = LoadedModel(spec=spec, model=model, device=torch.device("cpu"), dtype=torch.float32, source="hub",
                         data_config=resolve_data_config({}, model=model))
    return paper.paper_figures(loaded, analyses, ["cat"])


def test_pictures_have_no_stray_tick_marks():
    """Axes without numbers draw no tick marks either (Streamlit's template draws them: dashes along a picture)."""
    rng = np.random.default_rng(0)
    for fig in (plots.filters_figure(rng.random((28, 3, 4, 4))), plots.rgb_figure(np.zeros((4, 4, 3))),
                plots.image_figure(np.zeros((8, 8, 3), np.uint8)),
                paper.fig6_rollout_figure([np.zeros((32, 32, 3), np.uint8)], [rng.random((2, 2))], ["cat"])):
        axes = [fig.layout[name] for name in fig.layout if name.startswith(("xaxis", "yaxis"))]
        assert axes and all(axis.ticks == "" for axis in axes)
