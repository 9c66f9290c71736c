"""Deletion and insertion curves: hand-worked arithmetic, a toy model with a known answer, exact ends,
an independent loop-by-loop reference, the CLI files, the figure, and the real MobileNetV2."""
import csv
import json

import numpy as np
import pytest
import torch
from torch import nn

from conftest import SAMPLES, make_vit
from vitviz.analysis.faithfulness import (cell_of_pixel, curve_auc, map_curves, patch_order, pool_to_grid,
                                          prefix_masks, random_orders, step_counts)
from vitviz.cli.main import main
from vitviz.errors import VitvizError
from vitviz.run.faithfulness import deletion_insertion

MOBILENET = "mobilenetv2_100.tv_in1k_int8"


# ----------------------------------------------------------------------------- arithmetic
def test_order_is_descending_with_ties_in_index_order():
    assert patch_order(np.array([[1, 3], [3, 0]])).tolist() == [1, 2, 0, 3]
    assert patch_order(np.zeros((3, 3))).tolist() == list(range(9))
    assert patch_order(np.array([[0.0, -0.0, 2.0]])).tolist() == [2, 0, 1]   # −0.0 ties with 0.0
    assert patch_order(np.array([[-1.0, -np.inf, np.inf]])).tolist() == [2, 0, 1]
    with pytest.raises(VitvizError, match="NaN"):
        patch_order(np.array([[1.0, np.nan]]))


def test_step_counts_and_their_fractions():
    assert step_counts(196, 16).tolist() == [0, 12, 24, 36, 49, 61, 73, 85, 98, 110, 122, 134, 147, 159, 171,
                                             183, 196]
    assert step_counts(4, 10).tolist() == [0, 1, 2, 3, 4]      # more steps than cells: every cell
    assert step_counts(5, 1).tolist() == [0, 5]
    fractions = step_counts(196, 16) / 196
    assert fractions[0] == 0.0 and fractions[-1] == 1.0


def test_area_under_the_curve_by_hand():
    f = step_counts(196, 16) / 196
    assert curve_auc(f, np.full(17, 0.7)) == pytest.approx(0.7, abs=1e-15)       # constant c → c
    assert curve_auc(f, 1 - f) == pytest.approx(0.5, abs=1e-15)                  # linear 1 → 0 → ½
    # Uneven steps: ¼ · (1 + 1)/2 + ¾ · (1 + 0)/2 = 0.625.
    assert curve_auc([0, 0.25, 1], [1, 1, 0]) == pytest.approx(0.625, abs=1e-15)
    with pytest.raises(VitvizError, match="from 0 to 1"):
        curve_auc([0, 0.5], [1, 1])


def test_random_orders_are_seeded_permutations():
    orders = random_orders(10, 3, seed=7)
    rng = np.random.default_rng(7)
    assert np.array_equal(orders, [rng.permutation(10) for _ in range(3)])
    assert np.array_equal(orders, random_orders(10, 3, seed=7))
    assert not np.array_equal(orders, random_orders(10, 3, seed=8))


def test_prefix_masks_mark_the_first_cells_of_the_order():
    masks = prefix_masks(np.array([2, 0, 1]), np.array([0, 1, 3]))
    assert masks.tolist() == [[[False, False, False], [False, False, True], [True, True, True]]]
    with pytest.raises(VitvizError, match="permutation"):
        prefix_masks(np.array([0, 0, 1]), np.array([0, 3]))


def test_cells_on_pixels_and_pooling():
    # 4×6 px on 2×3 cells: 2×2 px blocks; a ViT grid of 16 px patches is y // 16, x // 16.
    assert cell_of_pixel((2, 3), (4, 6)).tolist() == [[0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2],
                                                      [3, 3, 4, 4, 5, 5], [3, 3, 4, 4, 5, 5]]
    ys, xs = np.mgrid[:64, :48]
    assert np.array_equal(cell_of_pixel((4, 3), (64, 48)), (ys // 16) * 3 + xs // 16)
    pixel_map = np.arange(24, dtype=float).reshape(4, 6)
    expected = pixel_map.reshape(2, 2, 3, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(pool_to_grid(pixel_map, (2, 3)), expected)


def test_random_summary_is_the_mean_curve_with_the_spread_of_its_areas():
    f = np.array([0.0, 0.5, 1.0])
    curves = map_curves("random", f, np.array([[1, 1, 0], [1, 0, 0]]), np.array([[0, 0, 1], [0, 1, 1]]))
    assert curves.deletion.tolist() == [1, 0.5, 0] and curves.deletion_auc == pytest.approx(0.5)
    # Areas 0.75 and 0.25: mean 0.5, std 0.25; the mean curve's area is the mean area.
    assert curves.deletion_auc_std == pytest.approx(0.25) and curves.deletion_std.tolist() == [0, 0.5, 0]
    assert curves.insertion_auc == pytest.approx(0.5) and curves.insertion_auc_std == pytest.approx(0.25)


# ----------------------------------------------------------------------------- a toy model with a known answer
class PlantedSum(nn.Module):
    """Logit = sum of the input's pixels in three planted 8×8 patches of a 32×32 input (4×4 patches)."""

    num_classes = 1
    PLANTED = (5, 10, 15)   # row-major patch indices

    def forward(self, x):
        total = x.new_zeros(x.shape[0])
        for index in self.PLANTED:
            r, c = divmod(index, 4)
            total = total + x[:, :, 8 * r:8 * r + 8, 8 * c:8 * c + 8].sum(dim=(1, 2, 3))
        return total[:, None]


def test_a_map_of_the_planted_patches_beats_random_by_the_worked_amount():
    planted = np.zeros((4, 4))
    planted.flat[[5, 10, 15]] = [3, 2, 1]
    result = deletion_insertion(PlantedSum(), torch.ones(1, 3, 32, 32), {"planted": planted}, target="logit",
                                steps=16)
    # Each planted patch holds 3·64 = 192; removing them one per step: 576, 384, 192, 0, … (13 zeros).
    good = result["planted"]
    assert good.deletion.tolist() == [576, 384, 192] + [0] * 14
    assert good.insertion.tolist() == [0, 192, 384] + [576] * 14
    # Area: (1/16)·(480 + 288 + 96) = 54; insertion (1/16)·(96 + 288 + 480 + 13·576) = 522.
    assert good.deletion_auc == pytest.approx(54.0) and good.insertion_auc == pytest.approx(522.0)
    assert result.clean_score == 576 and result.baseline_score == 0 and result.target == "logit of class 0"
    rnd = result.random   # expected area of a random order: 576 · ½ = 288; 8 orders spread by ~85
    assert rnd.deletion_auc > good.deletion_auc + 2 * rnd.deletion_auc_std
    assert rnd.insertion_auc < good.insertion_auc - 2 * rnd.insertion_auc_std
    assert 150 < rnd.deletion_auc < 430 and rnd.deletion_auc + rnd.insertion_auc == pytest.approx(576)


# ----------------------------------------------------------------------------- a tiny untrained ViT
@pytest.fixture(scope="module")
def vit10():
    return make_vit(depth=2, img_size=64, num_classes=10)


def image(seed=0, size=64):
    return torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_the_ends_are_the_unperturbed_and_the_all_baseline_scores_exactly(vit10):
    x = image()
    result = deletion_insertion(vit10, x, {"a": np.random.default_rng(0).random((4, 4))}, steps=4, repeats=2)
    with torch.inference_mode():
        clean = torch.softmax(vit10(x).float(), -1)[0]
        blank = torch.softmax(vit10(torch.zeros_like(x)).float(), -1)[0]
    c = int(clean.argmax())
    assert result.class_index == c
    for curves in result.maps:
        assert curves.deletion[0] == clean[c].item() and curves.deletion[-1] == blank[c].item()
        assert curves.insertion[0] == blank[c].item() and curves.insertion[-1] == clean[c].item()


def test_headless_targets_similarity_and_norm():
    model = make_vit(depth=2, img_size=64, num_classes=0)
    x = image(1)
    with torch.inference_mode():
        feature, blank = model(x)[0].float(), model(torch.zeros_like(x))[0].float()
    sim = deletion_insertion(model, x, {"a": np.ones((4, 4))}, steps=2, repeats=1)
    assert sim.class_index is None and "cosine similarity" in sim.target
    assert sim.clean_score == pytest.approx(1.0, abs=1e-6)
    assert sim.baseline_score == pytest.approx(float(feature @ blank / feature.norm() / blank.norm()), rel=1e-5)
    norm = deletion_insertion(model, x, {"a": np.ones((4, 4))}, target="norm", steps=2, repeats=1)
    assert norm.clean_score == feature.norm().item() and norm.target == "L2 norm of the pooled output feature"
    with pytest.raises(VitvizError, match="classifier head"):
        deletion_insertion(model, x, {"a": np.ones((4, 4))}, target="probability")
    with pytest.raises(VitvizError, match="label-free"):
        deletion_insertion(model, x, {"a": np.ones((4, 4))}, class_index=3)


def reference_curves(model, x, order, counts, c):
    """Loop by loop: copy the image, set the first k patches of the order to 0 (deletion) or keep only them."""
    deletion, insertion = [], []
    with torch.inference_mode():
        for k in counts:
            removed, shown = x.clone(), torch.zeros_like(x)
            for cell in order[:k]:
                r, col = divmod(int(cell), 4)
                removed[:, :, 16 * r:16 * r + 16, 16 * col:16 * col + 16] = 0
                shown[:, :, 16 * r:16 * r + 16, 16 * col:16 * col + 16] = x[:, :, 16 * r:16 * r + 16,
                                                                            16 * col:16 * col + 16]
            deletion.append(torch.softmax(model(removed), -1)[0, c].item())
            insertion.append(torch.softmax(model(shown), -1)[0, c].item())
    return np.array(deletion), np.array(insertion)


def test_curves_equal_a_loop_by_loop_reference_and_batching_changes_nothing(vit10):
    x = image(2)
    rng = np.random.default_rng(3)
    maps = {"first": rng.random((4, 4)), "second": rng.random((4, 4))}
    one = deletion_insertion(vit10, x, maps, class_index=4, steps=3, repeats=2, seed=11, batch_size=1)
    many = deletion_insertion(vit10, x, maps, class_index=4, steps=3, repeats=2, seed=11, batch_size=5)
    counts = step_counts(16, 3)
    random = random_orders(16, 2, seed=11)
    expected = {name: reference_curves(vit10, x, patch_order(m), counts, 4) for name, m in maps.items()}
    pair = [reference_curves(vit10, x, order, counts, 4) for order in random]
    expected["random"] = tuple(np.mean([p[i] for p in pair], axis=0) for i in range(2))
    for result in (one, many):
        assert result.names == ["first", "second", "random"]
        for name, (deletion, insertion) in expected.items():
            np.testing.assert_allclose(result[name].deletion, deletion, rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(result[name].insertion, insertion, rtol=1e-5, atol=1e-7)
    for a, b in zip(one.maps, many.maps):   # batched vs one at a time: float rounding at most
        np.testing.assert_allclose(a.deletion, b.deletion, rtol=1e-5, atol=1e-7)
        assert a.deletion_auc == pytest.approx(b.deletion_auc, rel=1e-5)


def test_maps_must_share_a_grid_and_not_be_called_random(vit10):
    with pytest.raises(VitvizError, match="one \\(rows, cols\\) grid"):
        deletion_insertion(vit10, image(), {"a": np.ones((4, 4)), "b": np.ones((2, 2))})
    with pytest.raises(VitvizError, match="baseline's name"):
        deletion_insertion(vit10, image(), {"random": np.ones((4, 4))})


def test_vit_maps_are_rollout_gradient_rollout_and_class_token_attention():
    from vitviz.analysis import attention_map
    from vitviz.run.explain import gradient_rollout
    from vitviz.run.faithfulness import vit_faithfulness, vit_maps
    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.run.pipeline import analyze_image

    loaded = load_model("vit_tiny_patch16_224.augreg_in21k_ft_in1k", pretrained=False, device="cpu")
    analysis = analyze_image(loaded, load_image(SAMPLES / "cat.jpg"), 64)
    x = analysis.prepared.tensor
    maps = vit_maps(loaded.model, x, analysis, class_index=7, layers=[0, 11])
    assert list(maps) == ["rollout", "gradient rollout", "class-token attention, layer 0",
                          "class-token attention, layer 11"]
    assert np.array_equal(maps["rollout"], analysis.figure_rollout)
    np.testing.assert_array_equal(maps["gradient rollout"], gradient_rollout(loaded.model, x, 7))
    np.testing.assert_allclose(maps["class-token attention, layer 11"],
                               analysis.attention[11].mean(0)[0, 1:].reshape(4, 4), rtol=1e-6)
    np.testing.assert_array_equal(maps["class-token attention, layer 0"],
                                  attention_map(analysis.attention, analysis.layout, 0))
    result = vit_faithfulness(loaded, analysis, steps=4, repeats=2)
    top1 = int(np.argmax(analysis.logits))
    assert result.class_index == top1 and result.names == ["rollout", "gradient rollout",
                                                           "class-token attention, layer 11", "random"]
    assert result.target.startswith(f"probability of class {top1} (")


# ----------------------------------------------------------------------------- command line and figure
def read_csv(path):
    return list(csv.DictReader(open(path)))


def test_analyze_cli_writes_faithfulness_next_to_the_untouched_outputs(tmp_path):
    out = tmp_path / "o"
    args = ["analyze", str(SAMPLES / "coffee.jpg"), "--model", "vit_tiny_patch16_224.augreg_in21k_ft_in1k",
            "--untrained", "--image-size", "64", "--out", str(out)]
    assert main(args + ["--faithfulness", "--faithfulness-steps", "4"]) == 0
    rows = read_csv(out / "coffee" / "faithfulness.csv")
    names = ["rollout", "gradient rollout", "class-token attention, layer 11", "random"]
    assert list(rows[0]) == ["map", "curve", "step", "fraction", "score", "score_std"]
    assert len(rows) == len(names) * 2 * 5 and [r["map"] for r in rows[::10]] == names
    assert [float(r["fraction"]) for r in rows[:5]] == [0, 0.25, 0.5, 0.75, 1]
    assert all(r["score_std"] == "" for r in rows if r["map"] != "random")
    assert all(r["score_std"] != "" for r in rows if r["map"] == "random")
    areas = {r["map"]: r for r in read_csv(out / "coffee" / "faithfulness_auc.csv")}
    assert list(areas) == names and areas["random"]["deletion_auc_std"] != ""
    for name in names:   # each area is the trapezoid of its curve as written (6 significant digits)
        for kind in ("deletion", "insertion"):
            curve = [r for r in rows if r["map"] == name and r["curve"] == kind]
            auc = curve_auc([float(r["fraction"]) for r in curve], [float(r["score"]) for r in curve])
            assert float(areas[name][f"{kind}_auc"]) == pytest.approx(auc, rel=1e-4)
    summary = json.loads((out / "coffee" / "summary.json").read_text())
    assert summary["faithfulness"]["steps"] == 4 and summary["faithfulness"]["random_orders"] == 8
    assert set(summary["faithfulness"]["auc"]) == set(names)
    plain = tmp_path / "plain"   # without the flag: the same files as before, no faithfulness
    assert main(args[:-1] + [str(plain)]) == 0
    assert sorted(p.name for p in (plain / "coffee").iterdir()) == ["analysis.npz", "summary.json"]
    assert "faithfulness" not in json.loads((plain / "coffee" / "summary.json").read_text())


def test_cnn_cli_writes_grad_cam_faithfulness_on_14x14_cells(tmp_path):
    out = tmp_path / "cnn"
    assert main(["cnn", str(SAMPLES / "cat.jpg"), "--model", "resnet18.a1_in1k", "--untrained", "--image-size", "64",
                 "--out", str(out), "--explain", "285", "--faithfulness", "--faithfulness-steps", "2"]) == 0
    rows = read_csv(out / "cat" / "faithfulness.csv")
    assert [r["map"] for r in rows[::6]] == ["Grad-CAM", "random"]
    assert [float(r["fraction"]) for r in rows[:3]] == [0, 0.5, 1]
    faith = json.loads((out / "summary.json").read_text())["faithfulness"]
    assert faith["grid"] == [14, 14] and faith["class_index"] == 285 and "Egyptian cat" in faith["target"]


def test_faithfulness_figure_has_one_styled_line_per_map_and_curve():
    from vitviz.figures.plots import REFERENCE, faithfulness_figure

    planted = np.zeros((4, 4))
    planted.flat[[5, 10, 15]] = [3, 2, 1]
    maps = {"planted": planted, "reversed": -planted}
    result = deletion_insertion(PlantedSum(), torch.ones(1, 3, 32, 32), maps, target="logit", steps=4, repeats=3)
    fig = faithfulness_figure(result, "Deletion and insertion · toy")
    lines = [t for t in fig.data if t.name != "random ± std"]
    assert [(t.legendgroup, t.xaxis) for t in lines] == [
        ("planted", "x"), ("planted", "x2"), ("reversed", "x"), ("reversed", "x2"), ("random", "x"), ("random", "x2")]
    np.testing.assert_allclose(lines[0].y, result["planted"].deletion)
    np.testing.assert_allclose(lines[3].y, result["reversed"].insertion)
    np.testing.assert_allclose(lines[4].y, result.random.deletion)
    legend = [t.name for t in lines if t.showlegend]
    assert legend[0] == (f"planted: deletion AUC {result['planted'].deletion_auc:.3f} · "
                         f"insertion AUC {result['planted'].insertion_auc:.3f}")
    assert legend[2].startswith("random (3 orders, ± std): deletion AUC")
    styles = [(t.line.color, t.marker.symbol) for t in lines[::2]]
    assert len({s[0] for s in styles}) == 3 and len({s[1] for s in styles}) == 3   # colour and marker differ
    assert lines[4].line.dash == "dash" and lines[4].line.color == REFERENCE
    bands = [t for t in fig.data if t.name == "random ± std"]
    assert len(bands) == 4 and not any(t.showlegend for t in bands)
    np.testing.assert_allclose(bands[0].y - bands[1].y, 2 * result.random.deletion_std)
    assert fig.layout.xaxis.title.text == "fraction of 4×4 cells removed"
    assert fig.layout.yaxis.title.text == "score"
    note = [a.text for a in fig.layout.annotations if a.name == "score"]
    assert note == ["score: logit of class 0 · a removed cell becomes 0 in the normalised input: the model's mean "
                    "colour"]


# ----------------------------------------------------------------------------- the real MobileNetV2
@pytest.mark.real_weights
def test_real_grad_cam_against_random_on_the_samples(weights_dir):
    """Measured (14×14 cells, 8 steps, 4 random orders; probability of the top-1 class):

    * cat.jpg, "Egyptian cat" (p 0.63): insertion favours Grad-CAM (0.49 vs random 0.14 ± 0.004), but
      deletion does not (0.44 vs 0.16 ± 0.03). The centre crop is all cat: with the cells Grad-CAM ranks
      highest (the lower half) removed, the rest still reads as Egyptian cat (p ≥ 0.5 until 70 % are
      gone), while scattered mean-colour cells destroy it after 25 %. At 16 steps and 8 orders:
      0.46 vs 0.15 ± 0.02; a 41-px Gaussian blur as the baseline gives the same picture (0.44 vs 0.20).
    * rocket.jpg, top-1 "drilling platform, offshore rig" (class 540): both favour Grad-CAM, deletion
      0.058 vs 0.122 ± 0.019, insertion 0.47 vs 0.16 ± 0.04 (16 steps, 8 orders: deletion 0.06 vs 0.15 ± 0.04).
    """
    from vitviz.run.faithfulness import cnn_faithfulness
    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.inputs.preprocess import prepare_image

    if not (weights_dir / f"{MOBILENET}.safetensors").exists():
        pytest.skip(f"the weights folder holds no {MOBILENET}")
    loaded = load_model(MOBILENET, weights_dir=weights_dir, device="cpu")
    found = {}
    for stem in ("cat", "rocket"):
        prepared = prepare_image(load_image(SAMPLES / f"{stem}.jpg"), loaded.data_config)
        found[stem] = cnn_faithfulness(loaded, prepared, steps=8, repeats=4)
    cat, rocket = found["cat"], found["rocket"]
    assert cat.class_index == 285 and cat.target == "probability of class 285 (Egyptian cat)"
    assert cat.grid == (14, 14) and cat.baseline_score < 0.01 < 0.6 < cat.clean_score
    grad, rnd = cat["Grad-CAM"], cat.random
    assert grad.insertion_auc > rnd.insertion_auc + 3 * rnd.insertion_auc_std
    assert grad.deletion_auc > rnd.deletion_auc   # the measured finding above, kept honest
    grad, rnd = rocket["Grad-CAM"], rocket.random
    assert grad.deletion_auc < rnd.deletion_auc - rnd.deletion_auc_std
    assert grad.insertion_auc > rnd.insertion_auc + 3 * rnd.insertion_auc_std


def test_a_model_without_a_head_is_measured_with_its_label_free_gradient_rollout():
    """No class to explain: the gradient rollout of the label-free target (‖pooled feature‖₂) is compared."""
    from vitviz.run.explain import gradient_rollout
    from vitviz.run.faithfulness import vit_maps
    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.run.pipeline import analyze_image

    loaded = load_model("vit_tiny_patch16_224.augreg_in21k_ft_in1k", pretrained=False, device="cpu")
    loaded.model.reset_classifier(0)
    analysis = analyze_image(loaded, load_image(SAMPLES / "cat.jpg"), 64)
    x = analysis.prepared.tensor
    maps = vit_maps(loaded.model, x, analysis)
    assert list(maps) == ["rollout", "gradient rollout (label-free)", "class-token attention, layer 11"]
    np.testing.assert_array_equal(maps["gradient rollout (label-free)"], gradient_rollout(loaded.model, x, None))
