"""Every dashboard page under streamlit's AppTest: real weights, an untrained model, widgets, bad input.

Assertions read the data inside the produced plotly figures and compare it with vitviz computed
directly, so a page that shows the wrong layer, head or image fails.
"""
import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO, SAMPLES
from vitviz.analysis import attention_map, rollout_map
from vitviz.images import load_image
from vitviz.models import load_model
from vitviz.pipeline import analyze_image, dataset_mean_distance

APP = str(REPO / "app" / "vitviz_app.py")
REAL = "vit_small_patch14_dinov2.imgfocus"
TINY = "vit_tiny_patch16_224.augreg_in21k_ft_in1k"


@pytest.fixture()
def app(weights_dir, monkeypatch):
    monkeypatch.setenv("VITVIZ_WEIGHTS_DIR", str(weights_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["sample"] = "cat"
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def expected(weights_dir):
    loaded = load_model(REAL, weights_dir=weights_dir, device="cpu")
    return analyze_image(loaded, load_image(SAMPLES / "cat.jpg"))


def figures(at):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def arr(value):
    """Plotly ≥ 6 sends numeric arrays as base64 typed arrays ({"dtype", "bdata", "shape"})."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return out.reshape([int(n) for n in str(shape).split(",")]) if shape else out
    return np.array(value, dtype=float)


def heatmap(fig):
    return arr(next(t for t in fig["data"] if t["type"] == "heatmap")["z"])


def open_page(at, name):
    at.switch_page(f"views/{name}.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_walkthrough_steps_forward_and_back(app, expected):
    assert app.title[0].value.startswith("Walk-through")
    image = figures(app)[0]["data"][0]
    assert image["type"] == "image"
    app.button(key="vv_next").click().run()
    assert app.select_slider(key="vv_step").value == "Patch grid"
    shapes = figures(app)[0]["layout"]["shapes"]
    assert len(shapes) == 2 * (16 + 1)  # 16×16 patches of 14 px at 224 px
    app.select_slider(key="vv_illus").set_value(56).run()
    assert len(figures(app)[0]["layout"]["shapes"]) == 2 * (4 + 1)
    for _ in range(6):
        app.button(key="vv_next").click().run()
        assert not app.exception and not app.error
    assert app.select_slider(key="vv_step").value == "Prediction"
    assert any("no classifier head" in m.value for m in app.markdown)  # a DINOv2 backbone
    app.button(key="vv_back").click().run()
    assert app.select_slider(key="vv_step").value == "Transformer encoder"
    np.testing.assert_allclose(heatmap(figures(app)[0]), expected.rollout, rtol=1e-5)


def test_walkthrough_flattened_patch_vector(app, expected):
    app.select_slider(key="vv_step").set_value("Flattened patches").run()
    app.number_input(key="vv_patch").set_value(17).run()
    vector = arr(next(f for f in figures(app) if f["data"][0]["type"] == "scattergl")["data"][0]["y"])
    display = expected.prepared.display
    assert len(vector) == 14 * 14 * 3
    np.testing.assert_array_equal(np.array(vector).reshape(14, 14, 3), display[14:28, 14:28])  # row 1, column 1


def test_attention_page_follows_layer_head_and_rollout_controls(app, expected):
    open_page(app, "attention")
    layout = expected.layout
    np.testing.assert_allclose(heatmap(figures(app)[0]), attention_map(expected.attention, layout, 11), rtol=1e-5)
    app.slider(key="vv_layer").set_value(3).run()
    app.selectbox(key="vv_head").set_value("head 2").run()
    np.testing.assert_allclose(heatmap(figures(app)[0]), attention_map(expected.attention, layout, 3, 2), rtol=1e-5)
    np.testing.assert_allclose(heatmap(figures(app)[1]), rollout_map(expected.attention, layout), rtol=1e-5)
    app.slider(key="vv_discard").set_value(0.5).run()
    app.selectbox(key="vv_fusion").set_value("max").run()
    np.testing.assert_allclose(heatmap(figures(app)[1]),
                               rollout_map(expected.attention, layout, head_fusion="max", discard_ratio=0.5), rtol=1e-5)
    heads = figures(app)[2]
    assert len([t for t in heads["data"] if t["type"] == "heatmap"]) == 6
    app.selectbox(key="vv_query").set_value(1 + 5 * 16 + 7).run()  # patch (5, 7)
    np.testing.assert_allclose(heatmap(figures(app)[0]),
                               attention_map(expected.attention, layout, 3, 2, query=1 + 5 * 16 + 7), rtol=1e-5)


def test_position_page_tiles_and_single_tile(app, expected):
    open_page(app, "position")
    tiles, tile = figures(app)[:2]
    sim = expected.static.pos_similarity
    np.testing.assert_allclose(heatmap(tiles)[:16, :16], sim[0, 0], rtol=1e-5)
    np.testing.assert_allclose(heatmap(tile), sim[8, 8], rtol=1e-5)
    app.number_input(key="vv_pos_row").set_value(2).run()
    app.number_input(key="vv_pos_col").set_value(13).run()
    np.testing.assert_allclose(heatmap(figures(app)[1]), sim[2, 13], rtol=1e-5)


def test_filters_page_components_and_raw(app, expected):
    open_page(app, "filters")
    evr = arr(next(f for f in figures(app) if f["data"][0]["type"] == "bar")["data"][0]["y"])
    np.testing.assert_allclose(evr, expected.static.filter_pca.explained_variance_ratio, rtol=1e-6)
    app.radio(key="vv_filter_view").set_value("Raw filters").run()
    assert "raw filters" in figures(app)[0]["layout"]["title"]["text"]


def test_distance_page_single_image_and_sample_set(app, expected, weights_dir):
    open_page(app, "distance")
    fig = figures(app)[0]
    np.testing.assert_allclose(arr(fig["data"][0]["y"]), expected.mean_distance.ravel(), rtol=1e-5)
    lines = [a["text"] for a in fig["layout"]["annotations"]]
    assert any(t.startswith("uniform") for t in lines) and any(t.startswith("3×3 window") for t in lines)
    app.radio(key="vv_dist_mode").set_value("All bundled samples").run()
    assert not app.exception and not app.error
    loaded = load_model(REAL, weights_dir=weights_dir, device="cpu")
    over_samples = dataset_mean_distance(loaded, [load_image(p) for p in sorted(SAMPLES.glob("*.jpg"))])
    np.testing.assert_allclose(arr(figures(app)[0]["data"][0]["y"]), over_samples.mean.ravel(), rtol=1e-5)
    assert figures(app)[0]["layout"]["title"]["text"].startswith("6 image(s)")


def test_facts_page_matches_table_one_format(app):
    open_page(app, "facts")
    table = app.dataframe[0].value
    first = table.iloc[0]
    assert (first["layers"], first["hidden size D"], first["MLP size"], first["heads"]) == (12, 384, 1536, 6)
    assert list(table["model"])[1:] == ["paper: ViT-Base", "paper: ViT-Large", "paper: ViT-Huge"]


def test_input_size_changes_the_grid(app):
    app.select_slider(key="vv_size").set_value(336).run()
    open_page(app, "position")
    assert "24×24 tiles" in figures(app)[0]["layout"]["title"]["text"]


def test_untrained_tiny_model_is_labelled_and_predicts(app):
    picker = app.selectbox(key="vv_model")
    assert picker.format_func(TINY).endswith("unavailable offline")  # no local weights, no hub here
    assert not picker.format_func(REAL).endswith("unavailable offline")
    picker.set_value(TINY).run()
    assert any("unavailable" in w.value for w in app.sidebar.warning)
    assert any("untrained" in i.value for i in app.info)  # nothing computed until asked for
    app.checkbox(key="vv_untrained").check().run()
    app.select_slider(key="vv_step").set_value("Prediction").run()
    bars = next(f for f in figures(app) if f["data"][0]["type"] == "bar")["data"][0]
    assert len(bars["y"]) == 5 and all(0 <= p <= 1 for p in arr(bars["x"]))
    open_page(app, "facts")
    assert app.subheader[0].value.endswith("(untrained)")
    assert app.dataframe[0].value.iloc[0]["heads"] == 3


def test_bad_upload_shows_the_error_and_the_app_recovers(app):
    app.radio(key="vv_source").set_value("Upload").run()
    app.file_uploader(key="vv_upload").upload("holiday.jpg", b"definitely not a jpeg" * 20, "image/jpeg").run()
    assert not app.exception
    assert any("not an image format" in e.value for e in app.error)
    app.file_uploader(key="vv_upload").upload("rocket.jpg", (SAMPLES / "rocket.jpg").read_bytes(), "image/jpeg").run()
    assert not app.error and figures(app)
    app.radio(key="vv_source").set_value("Sample").run()
    assert not app.error and figures(app)


def test_sidebar_choices_survive_page_switches(app):
    app.selectbox(key="vv_sample").set_value("rocket").run()
    for name in ("attention", "facts", "walkthrough"):
        open_page(app, name)
        assert app.selectbox(key="vv_sample").value == "rocket"
    assert app.query_params["sample"] == "rocket" and app.query_params["model"] == REAL


def test_cnn_page_compares_receptive_fields_with_attention_distance(app, expected):
    open_page(app, "cnn")
    assert any("unavailable" in w.value for w in app.warning)  # offline: no ResNet weights here
    assert not figures(app)
    app.checkbox(key="vv_cnn_untrained").check().run()
    assert not app.exception and not app.error
    comp = figures(app)[-1]
    vit_heads, _, theoretical, effective = comp["data"]
    np.testing.assert_allclose(arr(vit_heads["y"]), expected.mean_distance.ravel(), rtol=1e-5)
    assert arr(theoretical["y"]).max() == 427 / 2 and arr(theoretical["x"]).max() == 1.0
    assert len(arr(effective["y"])) == 5
    app.select_slider(key="vv_cnn_stage").set_value("layer4").run()
    channels = [t for t in figures(app)[0]["data"] if t["type"] == "heatmap"]
    assert len(channels) == 16 and arr(channels[0]["z"]).shape == (7, 7)
