"""The Compare page under streamlit's AppTest: the same image through two models, read back from the figures.

Every map and series on the page is compared with vitviz computed directly (the app caches attention as
float16, so maps computed from it agree with float32 to ~1e-3 relative). An untrained model 2 has random
weights drawn when it is loaded, so its expected values come from the app's own cached model object.
"""
import sys

import numpy as np
import pytest
from apptest import CNN, F16, REAL, TINY, arr, figures, map_components, map_data, new_app, open_page, title_of
from conftest import SAMPLES
from vitviz.analysis import attention_map, reference_distances
from vitviz.inputs.images import load_image
from vitviz.loading.models import load_model
from vitviz.run.pipeline import analyze_cnn, analyze_image

@pytest.fixture(scope="module")
def expected(weights_dir):
    loaded = load_model(REAL, weights_dir=weights_dir, device="cpu")
    return analyze_image(loaded, load_image(SAMPLES / "cat.jpg"))


def facts_table(at) -> dict[str, dict[str, str]]:
    """The facts dataframe as {fact: {column: value}}."""
    frame = at.dataframe[0].value
    return {row["fact"]: dict(row) for _, row in frame.iterrows()}


def test_vit_against_cnn_shows_rollout_grad_cam_depth_and_facts(weights_dir, monkeypatch, expected):
    """?model2=<CNN>: DINOv2's rollout next to the CNN's Grad-CAM of its own top-1 class, each at its own input."""
    from vitviz.run.explain import grad_cam

    at = open_page(new_app(weights_dir, monkeypatch, model2=CNN), "compare")
    assert at.selectbox(key="vv_model2").value == CNN  # also the default: left out of the link
    (depth_fig,) = figures(at)
    rollout = map_data(at, "compare-map1")  # a picture with its values (app/map_view.py), not a chart
    np.testing.assert_allclose(rollout["values"], expected.figure_rollout, rtol=1e-3, atol=1e-6)
    assert "Attention rollout" in rollout["title"] and "DINOv2 ViT-S/14" in rollout["title"]

    cnn = load_model(CNN, weights_dir=weights_dir, device="cpu")
    result = analyze_cnn(cnn, load_image(SAMPLES / "cat.jpg"))
    top = result.predictions[0]
    assert top.label == "Egyptian cat"
    cam = grad_cam(cnn.model, result.prepared.tensor, top.index)
    shown = map_data(at, "compare-map2")  # a picture of the full map, read out per stage cell
    np.testing.assert_allclose(shown["values"], cam.cell_means(), rtol=1e-4, atol=1e-6)
    assert shown["size"] == list(result.prepared.tensor.shape[-2:])  # the CNN's own input, not the ViT's
    assert "Grad-CAM" in shown["title"] and "MobileNetV2" in shown["title"] and "Egyptian cat" in shown["title"]
    assert "untrained" not in shown["title"]

    vit_heads = depth_fig["data"][0]  # depth_comparison_figure: trace 0 = the ViT's heads
    np.testing.assert_allclose(arr(vit_heads["y"]), expected.mean_distance.ravel(), rtol=1e-5)
    assert "DINOv2 ViT-S/14" in title_of(depth_fig) and "MobileNetV2" in title_of(depth_fig)

    table = facts_table(at)
    params = sum(p.numel() for p in cnn.model.parameters())
    assert table["params"]["MobileNetV2"] == f"{params / 1e6:.1f}M"
    assert table["params"]["DINOv2 ViT-S/14"] == f"{expected.facts.params / 1e6:.1f}M"
    assert table["heads"]["DINOv2 ViT-S/14"] == "6" and table["heads"]["MobileNetV2"] == "—"
    assert table["stages"]["MobileNetV2"] == str(len(result.stages))
    assert table["top-1 prediction"]["MobileNetV2"].startswith("Egyptian cat")
    assert table["top-1 prediction"]["DINOv2 ViT-S/14"] == "none (backbone)"  # a headless backbone
    assert table["tokens"]["DINOv2 ViT-S/14"] == "257 = 256 patches + 1 prefix"
    # Every figure carries its data downloads (the map's picture also as PNG).
    keys = {b.proto.id.rsplit("-", 1)[-1] for b in at.get("download_button")}
    assert len(at.get("download_button")) == 3 + 3 + 2 and keys == {"png", "npz", "csv"}


def test_two_vits_overlay_distances_with_each_models_own_reference_lines(weights_dir, monkeypatch, expected):
    """An untrained ViT-Ti/16 (14×14 patches of 16 px) against DINOv2 (16×16 of 14 px), one layer's attention."""
    at = new_app(weights_dir, monkeypatch, model2=TINY, untrained2="1", cmpmap="layer", layer="3", layer2="1")
    open_page(at, "compare")
    assert at.checkbox(key="vv_untrained2").value and at.slider(key="vv_layer2").value == 1
    assert any("untrained (random) weights" in m.value for m in at.markdown)  # model 2's badge
    tiny = sys.modules["vitviz_dashboard.compute"].model(TINY, str(weights_dir), "cpu", False)  # the app's own random weights
    second = analyze_image(tiny, load_image(SAMPLES / "cat.jpg"))
    map1, map2 = map_data(at, "compare-map1"), map_data(at, "compare-map2")
    (dist,) = figures(at)

    layout = expected.layout
    np.testing.assert_allclose(map1["values"], attention_map(expected.attention, layout, 3, None, 0), **F16)
    np.testing.assert_allclose(map2["values"], attention_map(second.attention, second.layout, 1, None, 0), **F16)
    assert "layer 3" in map1["title"] and "(untrained)" not in map1["title"]
    assert "layer 1" in map2["title"] and "ViT-Ti/16 (untrained)" in map2["title"]
    assert map1["size"] == [224, 224] and map2["size"] == [224, 224]

    points = [tr for tr in dist["data"] if tr.get("y") is not None and not (tr["y"] == [None])]
    np.testing.assert_allclose(arr(points[0]["y"]), expected.mean_distance.ravel(), rtol=1e-5)
    np.testing.assert_allclose(arr(points[1]["y"]), second.mean_distance.ravel(), rtol=1e-5)
    assert "DINOv2 ViT-S/14" in title_of(dist) and "ViT-Ti/16 (untrained)" in title_of(dist)
    lines = {s["name"]: s["y0"] for s in dist["layout"]["shapes"] if s.get("name")}
    ours, theirs = reference_distances(layout), reference_distances(second.layout)
    assert lines["DINOv2 ViT-S/14: uniform"] == pytest.approx(ours["uniform"])
    assert lines["ViT-Ti/16 (untrained): uniform"] == pytest.approx(116.49, abs=0.01)  # 14×14 patches of 16 px
    assert lines["ViT-Ti/16 (untrained): 3×3 window"] == pytest.approx(theirs["3×3 window"])
    assert lines["DINOv2 ViT-S/14: 3×3 window"] == pytest.approx(ours["3×3 window"])
    assert ours["3×3 window"] < theirs["3×3 window"] - 1  # 14 px vs 16 px neighbours: two grids, two sets of lines

    table = facts_table(at)
    assert table["weights"]["ViT-Ti/16 (untrained)"] == "untrained (random)"
    assert table["weights"]["DINOv2 ViT-S/14"] == "pretrained"
    assert (table["layers"]["ViT-Ti/16 (untrained)"], table["heads"]["ViT-Ti/16 (untrained)"]) == ("12", "3")
    assert table["patch size"]["ViT-Ti/16 (untrained)"] == "16×16 px"
    assert table["patch size"]["DINOv2 ViT-S/14"] == "14×14 px"

    at.slider(key="vv_layer2").set_value(7).run()  # model 2's layer alone
    assert at.query_params["layer2"] == "7" and at.query_params["layer"] == "3"
    np.testing.assert_allclose(map_data(at, "compare-map2")["values"],
                               attention_map(second.attention, second.layout, 7, None, 0), **F16)


def test_an_invalid_model2_falls_back_with_a_notice_and_the_url_carries_the_choice(weights_dir, monkeypatch):
    at = new_app(weights_dir, monkeypatch, model2="no_such_model")
    open_page(at, "compare")
    assert any("`model2=no_such_model` is not valid" in w.value and f"`model2={CNN}`" in w.value
               for w in at.warning), [w.value for w in at.warning]
    assert at.selectbox(key="vv_model2").value == CNN  # the first other model with weights
    assert "model2" not in at.query_params  # the default is left out of the link
    at.selectbox(key="vv_model2").set_value(TINY).run()
    assert at.query_params["model2"] == TINY
    assert any("unavailable offline" in w.value for w in at.warning)  # never silently random:
    assert not figures(at) and not map_components(at)  # no chart, no map
    at.checkbox(key="vv_untrained2").check().run()
    assert at.query_params["untrained2"] == "1" and len(figures(at)) == 1 and len(map_components(at)) == 2
    open_page(at, "facts")
    open_page(at, "compare")  # the choice survives a page change
    assert at.selectbox(key="vv_model2").value == TINY and at.checkbox(key="vv_untrained2").value
