"""Every dashboard page under streamlit's AppTest: real weights, an untrained model, widgets, links, bad input.

Assertions read the data inside the produced plotly figures and compare it with vitviz computed
directly, so a page that shows the wrong layer, head or image fails. The app caches attention as
float16 (display maps), so maps computed from it agree with float32 to ~1e-3 relative
(helpers in tests/apptest.py).
"""
import json
import logging
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from apptest import (APP, CNN, F16, PRELOAD_CHART, REAL, TINY, arr, figures, heads_html_of, heatmap, map_components,
                     map_data, new_app, open_page, title_of)
from conftest import SAMPLES
from vitviz.analysis import attention_map, find_attention_sinks, rollout_map
from vitviz.inputs.images import load_image
from vitviz.loading.models import load_model
from vitviz.run.pipeline import analyze_image, dataset_mean_distance

PAGES = ["walkthrough", "filters", "position", "attention", "matrix", "distance", "tokens", "explain", "compare", "cnn",
         "paper", "facts"]


@pytest.fixture()
def app(weights_dir, monkeypatch):
    return new_app(weights_dir, monkeypatch)


@pytest.fixture(scope="module")
def expected(weights_dir):
    loaded = load_model(REAL, weights_dir=weights_dir, device="cpu")
    return analyze_image(loaded, load_image(SAMPLES / "cat.jpg"))


def test_only_a_sessions_first_run_draws_the_hidden_chart_that_preloads_plotly(app):
    """The first run starts the browser loading plotly before the page's own charts exist; later runs
    leave the keyed container empty, so the page's elements keep their places."""
    def preload_charts():
        return [c for c in app.get("plotly_chart") if c.proto.id.endswith(PRELOAD_CHART)]

    first = preload_charts()
    assert len(first) == 1 and json.loads(first[0].proto.spec)["data"] == []
    assert figures(app), "the page's own charts are still there"
    app.run()
    assert preload_charts() == [] and figures(app)


def test_walkthrough_steps_forward_and_back(app, expected):
    assert app.title[0].value.startswith("Walk-through")
    image = figures(app)[0]["data"][0]
    assert image["type"] == "image"
    app.button(key="vv_next").click().run()
    assert app.select_slider(key="vv_step").value == 2 and app.query_params["step"] == "2"
    shapes = figures(app)[0]["layout"]["shapes"]
    assert len(shapes) == 2 * (16 + 1)  # 16×16 patches of 14 px at 224 px
    app.select_slider(key="vv_illus").set_value(56).run()
    assert len(figures(app)[0]["layout"]["shapes"]) == 2 * (4 + 1)
    for _ in range(6):
        app.button(key="vv_next").click().run()
        assert not app.exception and not app.error
    assert app.select_slider(key="vv_step").value == 8
    assert any("no classifier head" in m.value for m in app.markdown)  # a DINOv2 backbone
    app.button(key="vv_back").click().run()
    assert app.select_slider(key="vv_step").value == 7
    np.testing.assert_allclose(heatmap(figures(app)[0]), expected.figure_rollout, rtol=1e-5)  # the sink left out
    assert "sinks left out" in title_of(figures(app)[0])


def test_walkthrough_flattened_patch_vector(app, expected):
    app.select_slider(key="vv_step").set_value(3).run()
    app.number_input(key="vv_patch").set_value(17).run()
    vector = arr(next(f for f in figures(app) if f["data"][0]["type"] == "scattergl")["data"][0]["y"])
    display = expected.prepared.display
    assert len(vector) == 14 * 14 * 3
    np.testing.assert_array_equal(np.array(vector).reshape(14, 14, 3), display[14:28, 14:28])  # row 1, column 1


ROLLOUT = "attention-rollout"


def test_attention_page_follows_layer_head_and_rollout_controls(app, expected):
    open_page(app, "attention")
    layout = expected.layout
    np.testing.assert_allclose(map_data(app)["values"], attention_map(expected.attention, layout, 11), **F16)
    app.slider(key="vv_layer").set_value(3).run()
    app.selectbox(key="vv_head").set_value("2").run()
    np.testing.assert_allclose(map_data(app)["values"], attention_map(expected.attention, layout, 3, 2), **F16)
    assert "layer 3, head 2" in map_data(app)["title"] and "DINOv2" in map_data(app)["title"]
    sinks = expected.sink_tokens  # DINOv2 on the cat: the rollout leaves its sink out by default
    np.testing.assert_allclose(map_data(app, ROLLOUT)["values"], rollout_map(expected.attention, layout,
                                                                             exclude_keys=sinks), rtol=1e-5)
    app.slider(key="vv_discard").set_value(0.5).run()
    app.selectbox(key="vv_fusion").set_value("max").run()
    np.testing.assert_allclose(map_data(app, ROLLOUT)["values"], rollout_map(
        expected.attention, layout, head_fusion="max", discard_ratio=0.5, exclude_keys=sinks), **F16)
    heads = heads_html_of(app)  # the heads are pictures in HTML, not a chart
    assert "All 6 heads" in heads and "layer 3" in heads and heads.count("<img ") == 6
    for h in range(6):  # each panel's text alternative names its strongest patch (float16 cache: ties allowed)
        found = re.search(rf'alt="head {h}: The map is strongest at patch \(row (\d+), column (\d+)\)', heads)
        expected_map = attention_map(expected.attention, layout, 3, h)
        assert found and expected_map[int(found[1]), int(found[2])] >= expected_map.max() * 0.99
    app.selectbox(key="vv_query").set_value(1 + 5 * 16 + 7).run()  # patch (5, 7)
    np.testing.assert_allclose(map_data(app)["values"],
                               attention_map(expected.attention, layout, 3, 2, query=1 + 5 * 16 + 7), **F16)
    assert dict(app.query_params) == {"sample": "cat", "layer": "3", "head": "2", "query": str(1 + 5 * 16 + 7),
                                      "fusion": "max", "discard": "0.5"}


def test_attention_sinks_are_marked_explained_and_can_be_left_out(app, expected):
    sinks = find_attention_sinks(expected.attention, expected.layout)
    assert sinks.sinks, "DINOv2 on the cat has an attention sink (see vitviz.analysis.sinks)"
    open_page(app, "attention")
    row, col = sinks.sinks[0]
    for key in ("attention-map", ROLLOUT):  # framed in the maps' pictures, named on hover
        assert [row, col] in map_data(app, key)["marked"]
    assert any(f"Attention sink at patch ({row}, {col})" in m.value for m in app.markdown)
    assert any("attention sink is a patch" in c.value.lower() for c in app.caption)
    # Left out by default where found (the paper-style figure), and the toggle puts them back.
    assert app.radio(key="vv_sinks").value == "drop" and "sinks" not in app.query_params
    dropped = rollout_map(expected.attention, expected.layout, exclude_keys=sinks.sink_tokens)
    np.testing.assert_allclose(map_data(app, ROLLOUT)["values"], dropped, rtol=1e-5)
    assert "sinks left out" in map_data(app, ROLLOUT)["title"]
    app.radio(key="vv_sinks").set_value("keep").run()
    np.testing.assert_allclose(map_data(app, ROLLOUT)["values"], expected.rollout, rtol=1e-5)
    assert "sinks left out" not in map_data(app, ROLLOUT)["title"]
    assert app.query_params["sinks"] == "keep"


def test_position_page_tiles_and_single_tile(app, expected):
    open_page(app, "position")
    tiles, tile = figures(app)[:2]
    assert tiles["layout"]["xaxis"]["title"]["text"] == "input patch column (0-based)"
    assert tiles["layout"]["yaxis"]["title"]["text"] == "input patch row (0-based)"
    sim = expected.static.pos_similarity
    np.testing.assert_allclose(heatmap(tile), sim[8, 8], rtol=1e-5)
    app.number_input(key="vv_pos_row").set_value(2).run()
    app.number_input(key="vv_pos_col").set_value(13).run()
    np.testing.assert_allclose(heatmap(figures(app)[1]), sim[2, 13], rtol=1e-5)
    assert app.query_params["row"] == "2" and app.query_params["col"] == "13"


def test_filters_page_components_and_raw(app, expected):
    open_page(app, "filters")
    evr = arr(next(f for f in figures(app) if f["data"][0]["type"] == "bar")["data"][0]["y"])
    np.testing.assert_allclose(evr, expected.static.filter_pca.explained_variance_ratio, rtol=1e-6)
    assert any("differs from the paper's" in c.value and "14×14 px patches" in c.value for c in app.caption)
    app.radio(key="vv_filter_view").set_value("raw").run()
    assert "raw filters" in title_of(figures(app)[0])


def test_distance_page_single_image_and_sample_set(app, expected, weights_dir):
    open_page(app, "distance")
    fig = figures(app)[0]
    np.testing.assert_allclose(arr(fig["data"][0]["y"]), expected.mean_distance.ravel(), rtol=1e-5)
    assert "DINOv2" in title_of(fig) and "1 image" in title_of(fig)
    app.radio(key="vv_dist_mode").set_value("samples").run()
    assert not app.exception and not app.error
    loaded = load_model(REAL, weights_dir=weights_dir, device="cpu")
    over_samples = dataset_mean_distance(loaded, [load_image(p) for p in sorted(SAMPLES.glob("*.jpg"))])
    np.testing.assert_allclose(arr(figures(app)[0]["data"][0]["y"]), over_samples.mean.ravel(), rtol=1e-5)
    assert "6 images" in title_of(figures(app)[0])


def test_distance_of_a_single_upload_is_the_uploads_not_the_sidebar_image(app, weights_dir):
    open_page(app, "distance")
    app.radio(key="vv_dist_mode").set_value("uploads").run()
    app.file_uploader(key="vv_dist_files").upload("rocket.jpg", (SAMPLES / "rocket.jpg").read_bytes(),
                                                  "image/jpeg").run()
    assert not app.exception and not app.error
    loaded = load_model(REAL, weights_dir=weights_dir, device="cpu")
    rocket = analyze_image(loaded, load_image(SAMPLES / "rocket.jpg")).mean_distance
    cat = analyze_image(loaded, load_image(SAMPLES / "cat.jpg")).mean_distance
    shown = arr(figures(app)[0]["data"][0]["y"])
    np.testing.assert_allclose(shown, rocket.ravel(), rtol=1e-5)
    assert not np.allclose(shown, cat.ravel(), rtol=1e-3)


def test_facts_page_matches_table_one_format(app):
    open_page(app, "facts")
    table = app.dataframe[0].value
    first = table.iloc[0]
    assert (first["layers"], first["hidden size D"], first["MLP size"], first["heads"]) == (12, 384, 1536, 6)
    assert list(table["model"])[1:] == ["paper: ViT-Base", "paper: ViT-Large", "paper: ViT-Huge"]


def test_input_size_changes_the_grid_and_is_in_the_link(app):
    app.select_slider(key="vv_size").set_value(336).run()
    assert app.query_params["size"] == "336"
    open_page(app, "position")
    assert "24×24 tiles" in title_of(figures(app)[0])


def test_input_size_is_capped_by_the_cache_budget(weights_dir, monkeypatch):
    from vitviz.run.pipeline import estimate_analysis_nbytes

    monkeypatch.setenv("VITVIZ_CACHE_BYTES", "400M")  # a quarter (100 MiB) per analysis
    at = new_app(weights_dir, monkeypatch)
    options = at.select_slider(key="vv_size").options
    largest = int(options[-1])
    limit = 400 * 2**20 // 4
    assert estimate_analysis_nbytes(12, 6, 1, (largest // 14,) * 2, (14, 14), embed_dim=384) <= limit
    assert estimate_analysis_nbytes(12, 6, 1, (largest // 14 + 1,) * 2, (14, 14), embed_dim=384) > limit
    assert largest < 448  # 2 × native is offered when memory allows
    assert any(f"Sizes above {largest} px are not offered" in c.value for c in at.sidebar.caption)


def test_untrained_model_is_labelled_on_every_page(app):
    picker = app.selectbox(key="vv_model")
    assert picker.format_func(TINY).endswith("unavailable offline")  # no local weights, no hub here
    assert not picker.format_func(REAL).endswith("unavailable offline")
    picker.set_value(TINY).run()
    assert any("unavailable" in w.value for w in app.sidebar.warning)
    assert any("untrained" in i.value for i in app.info)  # nothing computed until asked for
    app.checkbox(key="vv_untrained").check().run()
    assert app.query_params["untrained"] == "1" and app.query_params["model"] == TINY
    for name in PAGES:
        open_page(app, name)
        assert any("untrained (random) weights" in m.value for m in app.markdown), name  # the title-area badge
        map_titles = [json.loads(c.proto.json)["title"] for c in map_components(app)]  # app/map_view.py
        for text in map_titles + [title_of(fig) for fig in figures(app)]:
            if text and name not in ("cnn", "compare"):  # those two draw both models in one figure
                # The ViT's figures say untrained; the (trained) CNN's Grad-CAM names the CNN and not that.
                assert ("(untrained)" in text) != ("MobileNetV2" in text), (name, text)
    open_page(app, "walkthrough")
    app.select_slider(key="vv_step").set_value(8).run()
    bars = next(f for f in figures(app) if f["data"][0]["type"] == "bar")["data"][0]
    assert len(bars["y"]) == 5 and all(0 <= p <= 1 for p in arr(bars["x"]))
    open_page(app, "facts")
    assert app.subheader[0].value.endswith("(untrained)")
    assert app.dataframe[0].value.iloc[0]["heads"] == 3


def test_bad_upload_shows_the_error_and_clearing_the_upload_clears_the_image(app):
    app.radio(key="vv_source").set_value("Upload").run()
    assert any("Choose an image" in i.value for i in app.info)
    app.file_uploader(key="vv_upload").upload("holiday.jpg", b"definitely not a jpeg" * 20, "image/jpeg").run()
    assert not app.exception
    assert any("not an image format" in e.value for e in app.error)
    app.file_uploader(key="vv_upload").upload("rocket.jpg", (SAMPLES / "rocket.jpg").read_bytes(), "image/jpeg").run()
    assert not app.error and figures(app)
    assert "sample" not in app.query_params
    app.file_uploader(key="vv_upload").clear().run()
    assert not figures(app) and any("Choose an image" in i.value for i in app.info)
    app.radio(key="vv_source").set_value("Sample").run()
    assert not app.error and figures(app)


def test_page_round_trip_keeps_every_view_setting(app):
    app.select_slider(key="vv_step").set_value(4).run()
    app.selectbox(key="vv_sample").set_value("rocket").run()
    open_page(app, "attention")
    app.slider(key="vv_layer").set_value(5).run()
    app.selectbox(key="vv_head").set_value("mean").run()
    app.selectbox(key="vv_head").set_value("1").run()
    app.slider(key="vv_start").set_value(4).run()
    for name in ("facts", "position", "walkthrough", "attention"):
        open_page(app, name)
        assert app.selectbox(key="vv_sample").value == "rocket"
    assert (app.slider(key="vv_layer").value, app.selectbox(key="vv_head").value) == (5, "1")
    assert app.slider(key="vv_start").value == 4
    assert "layer 5, head 1" in map_data(app)["title"]
    open_page(app, "walkthrough")
    assert app.select_slider(key="vv_step").value == 4
    assert {k: app.query_params[k] for k in ("sample", "layer", "head", "start", "step")} == \
        {"sample": "rocket", "layer": "5", "head": "1", "start": "4", "step": "4"}


def test_a_link_reopens_the_view_in_a_fresh_session(weights_dir, monkeypatch):
    at = new_app(weights_dir, monkeypatch, model=TINY, untrained="1", layer="2", head="1", step="5", sample="coffee")
    assert at.selectbox(key="vv_model").value == TINY and at.checkbox(key="vv_untrained").value
    assert at.select_slider(key="vv_step").value == 5 and "Prefix tokens" in at.subheader[0].value
    open_page(at, "attention")
    assert (at.slider(key="vv_layer").value, at.selectbox(key="vv_head").value) == (2, "1")
    assert "layer 2, head 1" in map_data(at)["title"] and "(untrained)" in map_data(at)["title"]
    assert at.selectbox(key="vv_sample").value == "coffee"
    assert not [w for w in at.warning if "is not valid" in w.value]


def test_an_invalid_link_value_falls_back_with_a_notice(weights_dir, monkeypatch):
    at = new_app(weights_dir, monkeypatch, layer="40", step="zero", sample="nonexistent")
    notices = [w.value for w in at.warning]
    assert any("`step=zero` is not valid" in n and "`step=1`" in n for n in notices), notices
    assert any("`sample=nonexistent` is not valid" in n and "`sample=cat`" in n for n in notices), notices
    assert at.select_slider(key="vv_step").value == 1
    open_page(at, "attention")
    assert any("`layer=40` is not valid" in w.value and "`layer=11`" in w.value for w in at.warning)
    assert at.slider(key="vv_layer").value == 11
    open_page(at, "facts")
    assert not at.warning  # said once


def test_presenter_mode_from_the_link(weights_dir, monkeypatch):
    at = new_app(weights_dir, monkeypatch, present="1")
    assert at.toggle(key="vv_present").value
    explanation = "The paper's Fig. 1, one step at a time"
    assert not any(explanation in c.value for c in at.main.caption)  # the caption moves to the title's tooltip
    assert explanation in at.title[0].proto.help
    assert figures(at)[0]["layout"]["height"] <= 400  # sized for a 1280×720 projector
    at.toggle(key="vv_present").set_value(False).run()
    assert "present" not in at.query_params and any(explanation in c.value for c in at.main.caption)


def test_cnn_page_starts_on_a_trained_local_cnn_with_predictions(app, expected):
    open_page(app, "cnn")
    assert app.selectbox(key="vv_cnn").value == CNN and not app.checkbox(key="vv_cnn_untrained").value
    assert not app.warning
    bars = next(f for f in figures(app) if f["data"][0]["type"] == "bar")
    assert list(bars["data"][0]["y"])[-1] == "Egyptian cat"  # best on top (plotted last)
    assert "Top-5 predictions" in title_of(bars) and "MobileNetV2" in title_of(bars)
    comp = figures(app)[-1]
    vit_heads, _, theoretical, effective = comp["data"][:4]
    np.testing.assert_allclose(arr(vit_heads["y"]), expected.mean_distance.ravel(), rtol=1e-5)
    radius = arr(theoretical["y"])
    assert np.all(np.diff(radius) >= 0) and arr(theoretical["x"]).max() == 1.0  # never appears to shrink
    assert len(arr(effective["y"])) == len(app.select_slider(key="vv_cnn_stage").options)
    channels = next(h.proto.body for h in app.get("html") if 'class="vv-heads"' in h.proto.body)  # pictures
    labels = re.findall(r">ch (\d+)</figcaption>", channels)
    assert len(labels) == channels.count("<img ") >= 8 and "MobileNetV2" in channels
    last = app.select_slider(key="vv_cnn_stage").options[-1]
    assert app.select_slider(key="vv_cnn_stage").value == last
    app.checkbox(key="vv_cnn_untrained").check().run()
    assert any("untrained (random) weights" in m.value for m in app.markdown)
    assert any("labels are random" in c.value for c in app.caption)


def test_unexpected_errors_show_an_id_that_is_in_the_server_log(app, monkeypatch, caplog):
    import vitviz.analysis

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(vitviz.analysis, "attention_map", broken)
    with caplog.at_level(logging.ERROR, logger="vitviz.app"):
        app.switch_page("views/attention.py").run()
    assert not app.exception
    message = next(e.value for e in app.error if "Something went wrong" in e.value)
    eid = re.search(r"Error id `([0-9a-f]{8})`", message)[1]
    assert "simulated bug" not in message  # details go to the log, not to the audience
    record = next(r for r in caplog.records if eid in r.getMessage())
    assert "simulated bug" in record.getMessage() and record.exc_info is not None
    monkeypatch.undo()
    open_page(app, "filters")  # the app keeps serving


def test_paper_page_shows_every_figure_and_exports_html(app):
    open_page(app, "paper")
    shown = figures(app)
    assert len(shown) >= 6
    assert all("DINOv2" in title_of(f) for f in shown if title_of(f))
    button = next(b for b in app.get("download_button") if "HTML" in b.proto.label)
    assert button.proto.label.startswith("Download this page")


def test_gpu_out_of_memory_moves_the_session_to_the_cpu_for_the_whole_run(weights_dir, monkeypatch):
    """After an OOM the session reruns on the CPU: no later call in that run goes back to the GPU."""
    import torch

    import vitviz.loading.models
    import vitviz.run.pipeline

    real_load, real_analyze = vitviz.loading.models.load_model, vitviz.run.pipeline.iter_analyses
    requested = []

    def load_model(name, *, device="auto", **kwargs):  # this machine has no GPU: note the request, load on CPU
        requested.append(device)
        loaded = real_load(name, device="cpu", **kwargs)
        loaded.requested_device = device
        return loaded

    def iter_analyses(loaded, prepared, **kwargs):  # the app's forwards run in batches (vitviz.run.serving)
        if getattr(loaded, "requested_device", "cpu") == "cuda":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB")
        return real_analyze(loaded, prepared, **kwargs)

    import streamlit as st

    st.cache_resource.clear()  # models and analyses are cached server-wide: start from none
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(vitviz.loading.models, "load_model", load_model)
    monkeypatch.setattr(vitviz.run.pipeline, "iter_analyses", iter_analyses)
    at = new_app(weights_dir, monkeypatch, sample="flower")  # an image no other test has cached
    assert at.selectbox(key="vv_device").value == "auto"
    assert requested[0] == "cuda"  # auto resolved to the GPU first ...
    first_cpu = requested.index("cpu")
    assert all(d == "cpu" for d in requested[first_cpu:])  # ... and after the OOM, never again
    assert any("GPU ran out of memory" in c.value for c in at.sidebar.caption)
    assert not at.error and figures(at)
    open_page(at, "attention")
    assert requested[-1] == "cpu" and not at.error
    st.cache_resource.clear()  # leave no model loaded under a "cuda" key for other tests


def test_tokens_page_shows_the_layers_pca_and_the_query_patch_similarity(weights_dir, monkeypatch, expected):
    """The link's layer and query are the Attention page's: the PCA colours and the similarity map are those
    of that layer and patch, computed from the cached (float16) tokens."""
    from vitviz.analysis.tokens import token_pca, token_similarity

    layout = expected.layout
    row, col = 4, 9
    query = layout.num_prefix_tokens + row * layout.grid[1] + col
    at = new_app(weights_dir, monkeypatch, layer="5", query=str(query))
    open_page(at, "tokens")
    pca_fig, sim_fig = figures(at)[:2]
    cells = next(t for t in pca_fig["data"] if t["type"] == "image" and "z" in t)
    rgb = arr(cells["z"]).astype(float).reshape(*layout.grid, 3) / 255
    np.testing.assert_allclose(rgb, token_pca(expected.patch_tokens[5]).rgb, atol=0.06)  # layer 5, not another
    assert not np.allclose(rgb, token_pca(expected.patch_tokens[11]).rgb, atol=0.06)
    sim = heatmap(sim_fig)
    np.testing.assert_allclose(sim, token_similarity(expected.patch_tokens[5], (row, col)), atol=5e-3)
    assert sim[row, col] == pytest.approx(1.0, abs=1e-3) and "layer 5, patch (4, 9)" in title_of(sim_fig)
    open_page(at, "attention")  # the same layer and query there
    assert at.slider(key="vv_layer").value == 5 and at.selectbox(key="vv_query").value == query


def test_explanations_page_shows_label_free_rollout_and_the_cnns_grad_cam(app, weights_dir, expected):
    """DINOv2 has no head: its gradient rollout is the label-free one; the CNN's Grad-CAM is of the chosen class."""
    from vitviz.run.explain import grad_cam, gradient_rollout
    from vitviz.run.pipeline import analyze_cnn

    open_page(app, "explain")
    assert any("no classifier head" in c.value for c in app.caption)
    loaded = load_model(REAL, weights_dir=weights_dir, device="cpu")
    relevance = gradient_rollout(loaded.model, expected.prepared.tensor, None)
    shown = {key: map_data(app, key) for key in ("explain-rollout", "explain-gradient-rollout", "explain-cls-attention")}
    np.testing.assert_allclose(shown["explain-gradient-rollout"]["values"], relevance, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(shown["explain-rollout"]["values"], expected.figure_rollout, rtol=1e-3, atol=1e-6)
    last = expected.attention.shape[0] - 1
    np.testing.assert_allclose(shown["explain-cls-attention"]["values"],
                               attention_map(expected.attention, expected.layout, last, None, 0), **F16)
    assert all(m["src"].startswith("data:image/jpeg;base64,") for m in shown.values())
    assert "Gradient rollout" in shown["explain-gradient-rollout"]["title"]
    cnn = load_model(CNN, weights_dir=weights_dir, device="cpu")
    prepared = analyze_cnn(cnn, load_image(SAMPLES / "cat.jpg")).prepared
    picker = app.selectbox(key="vv_cnn_class")
    assert picker.value == 285  # Egyptian cat, the CNN's top-1, first in the list
    picker.set_value(281).run()  # tabby
    cam = grad_cam(cnn.model, prepared.tensor, 281)
    shown = map_data(app, "explain-gradcam")  # a picture like the ViT's maps, read out per stage cell
    np.testing.assert_allclose(shown["values"], cam.cell_means(), rtol=1e-4, atol=1e-6)
    assert "tabby" in shown["title"] and shown["patch_label"] == "cell" and not figures(app)
    assert app.query_params["cnncls"] == "281"  # the class is in the link


def test_a_hybrid_is_walked_through_as_cnn_cells_not_pixel_patches(weights_dir, monkeypatch):
    """R26+ViT-S/32: 7×7 cells of 32 px; step 3 shows a cell's 2048 stem features, step 4 a 1×1 projection."""
    hybrid = "vit_small_r26_s32_224.augreg_in21k_ft_in1k"
    at = new_app(weights_dir, monkeypatch, model=hybrid, untrained="1", step="2")
    assert not at.exception and any("7×7 grid of feature cells" in i.value for i in at.info)
    at.select_slider(key="vv_step").set_value(3).run()
    assert any("2048-dimensional feature vector" in m.value for m in at.markdown)
    vector = figures(at)[-1]
    assert len(arr(vector["data"][0]["y"])) == 2048
    at.select_slider(key="vv_step").set_value(4).run()
    assert any("1×1 convolution over the stem's feature map" in m.value for m in at.markdown)
    open_page(at, "facts")
    assert any("CNN stem" in m.value and "stride 32 px" in m.value for m in at.markdown)


def test_the_servers_warm_up_fills_the_caches_a_first_visit_reads(weights_dir, monkeypatch):
    """`streamlit run app/serve.py` warms up at start: afterwards a first visit without a link (default model,
    default sample) loads no model and runs no forward, so it cannot wait for either."""
    import gc

    import streamlit as st
    import vitviz.loading.models
    import vitviz.run.pipeline

    from vitviz_dashboard import serve

    monkeypatch.setenv("VITVIZ_WEIGHTS_DIR", str(weights_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    st.cache_resource.clear()  # models and analyses are cached server-wide: start from none
    serve.warm_up()
    assert gc.isenabled()  # the warm-up pauses the collector for its imports only

    def refuse(*args, **kwargs):
        raise AssertionError("the first page computed what the warm-up should have cached")

    monkeypatch.setattr(vitviz.loading.models, "load_model", refuse)
    monkeypatch.setattr(vitviz.run.pipeline, "analyze_image", refuse)
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert at.query_params["sample"] == "cat" and at.selectbox(key="vv_model").value == REAL
    image = figures(at)[0]["data"][0]
    assert image["type"] == "image"


def test_korean_paper_download_is_korean_when_built_later(weights_dir, monkeypatch):
    """Streamlit runs a deferred download's callable in a server thread, where the language is the default:
    the Korean Paper export said <html lang="en"> with an English title. The page captures its language."""
    import threading


    from streamlit.delta_generator import DeltaGenerator

    captured = {}
    real = DeltaGenerator.download_button

    def download_button(self, label, data=None, *args, **kwargs):  # st.… or a container's: the page uses both
        if kwargs.get("key") == "paper-html":
            captured["data"] = data
        return real(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", download_button)
    from vitviz.text.i18n import use

    with use("ko"):  # AppTest formats the radios' values in this thread: in the page's language
        app = new_app(weights_dir, monkeypatch, lang="ko")
        open_page(app, "paper")
    assert callable(captured["data"])
    built = {}
    worker = threading.Thread(target=lambda: built.update(page=captured["data"]().decode()))  # a fresh context
    worker.start()
    worker.join()
    head = built["page"].split("<nav>")[0]
    assert '<html lang="ko">' in head and "ViT 논문의 그림" in head and "vitviz로 생성" in head


@pytest.mark.real_weights
def test_the_default_model_is_picked_from_the_folder_scanned_once_per_30_s(weights_dir, monkeypatch):
    from vitviz_dashboard import sidebar

    sidebar.local_names.clear()
    name = "vit_small_patch14_dinov2.imgfocus"
    assert name in sidebar.local_names(str(weights_dir))
    assert sidebar.default_choice(["vit_base_patch16_224", name], {"vit_base_patch16_224": None, name: None},
                                  str(weights_dir)) == name

    def no_scan(*_args, **_kwargs):
        raise AssertionError("the weights folder was scanned again")

    monkeypatch.setattr(sidebar, "find_local_weights", no_scan)  # a later run reads the cached names
    assert sidebar.default_choice([name], {name: None}, str(weights_dir)) == name
    sidebar.local_names.clear()
