"""CNN receptive fields (theoretical and effective), stage features, and the ViT comparison."""
import csv

import numpy as np
import pytest
import timm
import torch
from torch import nn

from conftest import SAMPLES
from vitviz.analysis import (
    depth_comparison,
    effective_receptive_field,
    stage_features,
    stage_receptive_fields,
    theoretical_receptive_field,
)
from vitviz.analysis.cnn_features import pca_rgb
from vitviz.analysis.receptive_field import mass_radius
from vitviz.cli.main import main


def conv(k=3, s=1, d=1, c=1):
    return nn.Conv2d(c, c, k, stride=s, padding=d * (k // 2), dilation=d, bias=False)


def test_two_3x3_convs_have_rf_5():
    layers = theoretical_receptive_field(nn.Sequential(conv(), nn.ReLU(), conv()))
    assert [(l.size, l.jump) for l in layers] == [(3, 1), (5, 1)]


def test_stride_2_first_gives_rf_7_jump_2():
    layers = theoretical_receptive_field(nn.Sequential(conv(s=2), conv()))
    assert [(l.size, l.jump) for l in layers] == [(3, 2), (7, 2)]


def test_dilation_and_pooling_count():
    layers = theoretical_receptive_field(nn.Sequential(conv(d=2), nn.MaxPool2d(2, 2), conv()))
    assert [(l.size, l.jump) for l in layers] == [(5, 1), (6, 2), (10, 2)]


def test_resnet50_final_rf_from_first_principles():
    """torchvision/timm ResNet-50: 7×7/2 stem, 3×3/2 max-pool, bottlenecks [3, 4, 6, 3] whose 3×3
    conv carries the stride in the first block of stages 2–4; 1×1 convs add nothing."""
    r, j = 1, 1
    for k, s in [(7, 2), (3, 2)]:
        r, j = r + (k - 1) * j, j * s
    for stage, blocks in enumerate([3, 4, 6, 3]):
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            r, j = r + (3 - 1) * j, j * stride
    assert (r, j) == (427, 32)
    model = timm.create_model("resnet50", pretrained=False)
    layers = theoretical_receptive_field(model)
    assert (layers[-1].size, layers[-1].jump) == (r, j)
    stages = stage_receptive_fields(model, [f["module"] for f in model.feature_info])
    assert [(s.name, s.size, s.jump) for s in stages] == [
        ("act1", 7, 2), ("layer1", 35, 4), ("layer2", 91, 8), ("layer3", 267, 16), ("layer4", 427, 32)]


def test_bit_resnetv2_std_convs_are_counted():
    model = timm.create_model("resnetv2_50x1_bit", pretrained=False)
    assert theoretical_receptive_field(model)[-1].size == 427


def test_erf_of_one_all_ones_3x3_conv_is_the_3x3_window():
    layer = conv()
    nn.init.ones_(layer.weight)
    erf = effective_receptive_field(layer, torch.rand(1, 1, 15, 15))
    support = np.argwhere(erf.gradient > 0)
    assert erf.centre == (7.0, 7.0)
    assert support.min(0).tolist() == [6, 6] and support.max(0).tolist() == [8, 8]
    np.testing.assert_allclose(erf.gradient[6:9, 6:9], 1.0)
    pooled = erf.pooled(5)  # 15×15 → 3×3 blocks: all mass in the middle block
    assert pooled.shape == (3, 3) and pooled[1, 1] == erf.gradient.sum() == 9.0
    assert erf.radius <= np.sqrt(2) + 1e-9


def test_erf_of_resnet_stays_inside_theoretical_rf():
    torch.manual_seed(0)
    model = timm.create_model("resnet18", pretrained=False).eval()
    stages = stage_receptive_fields(model, [f["module"] for f in model.feature_info])
    x = torch.randn(1, 3, 224, 224)
    for index in (1, 2):  # layer1 (RF 35) and layer2 (RF 99) fit inside the 224 px input
        erf = effective_receptive_field(lambda inp: model.forward_intermediates(inp, indices=[index],
                                                                                intermediates_only=True)[0], x)
        support = np.argwhere(erf.gradient > 0)
        half = (stages[index].size - 1) / 2 + stages[index].jump  # one jump of slack for the unit's alignment
        assert np.abs(support - np.array(erf.centre)).max() <= half
        assert 0 < erf.radius < stages[index].size / 2


def test_mass_radius_worked_example():
    g = np.zeros((5, 5))
    g[2, 2], g[2, 3], g[0, 2] = 2.0, 1.0, 1.0
    assert mass_radius(g, (2, 2), 0.5) == 0.0  # the centre holds half the mass
    assert mass_radius(g, (2, 2), 0.75) == 1.0
    assert mass_radius(g, (2, 2), 1.0) == 2.0


def test_pca_colouring_follows_the_dominant_spatial_pattern():
    xs = np.linspace(-1, 1, 12)
    features = np.stack([np.tile(xs, (8, 1)) * w for w in np.linspace(1, 3, 16)])  # varies along x only
    features += 0.01 * np.random.default_rng(0).normal(size=features.shape)
    rgb, explained = pca_rgb(features)
    assert rgb.shape == (8, 12, 3) and rgb.min() >= 0 and rgb.max() <= 1
    assert explained[0] > 0.95
    assert abs(np.corrcoef(rgb[..., 0].mean(0), xs)[0, 1]) > 0.99


def test_stage_features_pick_the_most_active_channels():
    torch.manual_seed(0)
    model = timm.create_model("resnet18", pretrained=False).eval()
    x = torch.randn(1, 3, 128, 128)
    feats = stage_features(model, x, k=4)
    assert [f.name for f in feats] == ["act1", "layer1", "layer2", "layer3", "layer4"]
    with torch.inference_mode():
        last = model.forward_intermediates(x, intermediates_only=True)[-1][0].numpy()
    assert feats[-1].top_maps.shape == (4, 4, 4)
    assert feats[-1].top_channels[0] == int(last.mean(axis=(1, 2)).argmax())


def test_depth_comparison_puts_both_on_zero_to_one():
    model = timm.create_model("resnet18", pretrained=False)
    layers = theoretical_receptive_field(model)
    stages = stage_receptive_fields(model, [f["module"] for f in model.feature_info])

    class Fake:
        def __init__(self, r):
            self.radius, self.share = r, 0.5

    comp = depth_comparison(np.ones((12, 6)) * 50.0, layers, stages, [Fake(i) for i in range(5)])
    assert comp.vit_depth[0] == pytest.approx(1 / 12) and comp.vit_depth[-1] == 1.0
    assert comp.cnn_layer_depth[-1] == 1.0 and 0 < comp.cnn_stage_depth[0] < comp.cnn_stage_depth[-1] <= 1.0
    np.testing.assert_array_equal(comp.vit_mean, 50.0)
    assert comp.cnn_theoretical_radius[-1] == layers[-1].size / 2


def test_cnn_cli_writes_receptive_field_csv_and_stage_features(tmp_path):
    out = tmp_path / "cnn"
    assert main(["cnn", str(SAMPLES / "cat.jpg"), "--model", "resnet50.a1_in1k", "--untrained",
                 "--image-size", "160", "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out / "receptive_field.csv")))
    assert list(rows[0]) == ["layer", "depth", "theoretical_rf_px", "jump_px"]
    assert rows[0]["layer"] == "conv1" and rows[0]["theoretical_rf_px"] == "7"
    assert (rows[-1]["theoretical_rf_px"], rows[-1]["jump_px"], rows[-1]["depth"]) == ("427", "32", "1.0000")
    npz = np.load(out / "stage_features.npz")
    assert npz["layer4/pca_rgb"].shape == (5, 5, 3) and npz["layer1/top_maps"].shape == (16, 40, 40)
    assert npz["layer2/rf"][0] == 91 and npz["layer2/effective_rf_gradient"].shape == (160, 160)


@pytest.mark.real_weights
def test_real_cnn_weights_when_present(weights_dir):
    from vitviz.loading.models import load_model
    from vitviz.loading.weights import scan_weights_dir

    cnns = [lw for lw in scan_weights_dir(weights_dir) if lw.meta.get("family") == "CNN"
            or lw.name.startswith(("resnet", "resnetv2"))]
    if not cnns:
        pytest.skip("the weights folder holds no CNN")
    for lw in cnns:
        loaded = load_model(lw.name, weights_dir=weights_dir, device="cpu")
        assert theoretical_receptive_field(loaded.model)[-1].size > 100


def test_cnn_cli_keeps_dotted_stage_names_apart(tmp_path):
    """BiT's stages are "stages.0" … "stages.3": each needs its own arrays in the npz."""
    out = tmp_path / "bit"
    assert main(["cnn", str(SAMPLES / "cat.jpg"), "--model", "resnetv2_50x1_bit.goog_in21k_ft_in1k", "--untrained",
                 "--image-size", "96", "--out", str(out)]) == 0
    stages = sorted({key.split("/")[0] for key in np.load(out / "stage_features.npz").files})
    assert stages == ["stages_0", "stages_1", "stages_2", "stages_3", "stem_conv"]


# ----------------------------------------------------------------------------- predictions of a CNN's head
MOBILENET = "mobilenetv2_100.tv_in1k_int8"
# Top-1 of the real MobileNetV2 (shared/weights/README.md): ImageNet 285 "Egyptian cat", 967 "espresso".
MOBILENET_TOP1 = {"cat": (285, "Egyptian cat"), "coffee": (967, "espresso")}


def test_stage_maps_and_output_is_one_forward_equal_to_model_call():
    from vitviz.analysis.cnn_features import stage_maps_and_output

    torch.manual_seed(0)
    for num_classes in (10, 0):
        model = timm.create_model("resnet18", pretrained=False, num_classes=num_classes).eval()
        calls = []
        handle = model.conv1.register_forward_hook(lambda *_: calls.append(1))
        x = torch.randn(1, 3, 64, 64)
        with torch.inference_mode():
            maps, output = stage_maps_and_output(model, x)
            assert len(calls) == 1
            expected_maps = model.forward_intermediates(x, intermediates_only=True)
            expected = model(x)
        handle.remove()
        assert output.shape == (1, num_classes or 512) and torch.equal(output, expected)
        assert len(maps) == len(expected_maps) and all(torch.equal(a, b) for a, b in zip(maps, expected_maps))


@pytest.fixture(scope="module")
def real_mobilenet(weights_dir):
    from vitviz.loading.models import load_model

    if not (weights_dir / f"{MOBILENET}.safetensors").exists():
        pytest.skip(f"the weights folder holds no {MOBILENET}")
    return load_model(MOBILENET, weights_dir=weights_dir, device="cpu")


@pytest.mark.real_weights
def test_real_cnn_predictions_come_from_the_analysis_forward(real_mobilenet):
    from vitviz.analysis import class_names, top_k
    from vitviz.inputs.images import load_image
    from vitviz.run.pipeline import analyze_cnn

    calls = []
    handle = real_mobilenet.model.conv_stem.register_forward_hook(lambda *_: calls.append(1))
    try:
        results = {stem: analyze_cnn(real_mobilenet, load_image(SAMPLES / f"{stem}.jpg")) for stem in MOBILENET_TOP1}
    finally:
        handle.remove()
    assert len(calls) == len(MOBILENET_TOP1)  # one forward per image serves maps, ERF and predictions
    for stem, (index, label) in MOBILENET_TOP1.items():
        result = results[stem]
        assert len(result.predictions) == 5
        assert (result.predictions[0].index, result.predictions[0].label) == (index, label), stem
        with torch.inference_mode():  # an independent plain forward of the same input
            logits = real_mobilenet.model(result.prepared.tensor)[0]
        expected = top_k(logits, 5, class_names(real_mobilenet.model))
        assert [p.index for p in result.predictions] == [p.index for p in expected]
        np.testing.assert_allclose([p.probability for p in result.predictions],
                                   [p.probability for p in expected], rtol=1e-5, atol=1e-6)
        assert sum(p.probability for p in result.predictions) <= 1.0 + 1e-6


@pytest.mark.real_weights
@pytest.mark.parametrize("stem", sorted(MOBILENET_TOP1))
def test_real_cnn_cli_writes_predictions_to_summary(weights_dir, real_mobilenet, tmp_path, stem, capsys):
    import json

    out = tmp_path / stem
    assert main(["cnn", str(SAMPLES / f"{stem}.jpg"), "--model", MOBILENET, "--weights-dir", str(weights_dir),
                 "--device", "cpu", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    index, label = MOBILENET_TOP1[stem]
    assert summary["model"] == MOBILENET and summary["pretrained"] is True
    assert summary["label"] == real_mobilenet.label and summary["weights"] == real_mobilenet.source
    assert summary["input_size"] == [224, 224]
    assert len(summary["predictions"]) == 5 and set(summary["predictions"][0]) == {"index", "label", "probability"}
    assert (summary["predictions"][0]["index"], summary["predictions"][0]["label"]) == (index, label)
    assert f"top-1: {label} (class {index}," in capsys.readouterr().out


def test_headless_cnn_has_no_predictions(tmp_path):
    import json

    from safetensors.torch import save_file

    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.run.pipeline import analyze_cnn

    torch.manual_seed(0)
    model = timm.create_model("resnet18", pretrained=False, num_classes=0)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / "bare-resnet.safetensors"))
    (tmp_path / "bare-resnet.json").write_text(json.dumps({"architecture": "resnet18", "num_classes": 0,
                                                            "family": "CNN"}))
    loaded = load_model("bare-resnet", weights_dir=tmp_path, device="cpu", use_cache=False)
    assert loaded.spec.kind == "cnn" and loaded.num_classes == 0
    result = analyze_cnn(loaded, load_image(SAMPLES / "cat.jpg"), 64)
    assert result.predictions == [] and len(result.features) == 5
    out = tmp_path / "out"
    assert main(["cnn", str(SAMPLES / "cat.jpg"), "--model", "bare-resnet", "--weights-dir", str(tmp_path),
                 "--device", "cpu", "--image-size", "64", "--out", str(out)]) == 0
    assert json.loads((out / "summary.json").read_text())["predictions"] == []
