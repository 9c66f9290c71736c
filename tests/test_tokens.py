"""What the tokens know: patch-token PCA colours, token similarity, where the layer features come from."""
from __future__ import annotations

import json

import numpy as np
import pytest
import plotly.colors
import torch

from conftest import SAMPLES, make_vit
from vitviz.figures import plots
from vitviz.analysis.tokens import (border_mask, fit_token_pca, joint_token_pca, token_pca, token_similarity)
from vitviz.errors import VitvizError


def _orthonormal(d: int, k: int, seed: int = 0) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, k)))
    return q.T  # (k, d)


def _reference_pca(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Straightforward PCA for comparison: SVD of the centred (N, D) matrix; components up to sign."""
    xc = x - x.mean(0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    return vt[:k], (s**2 / (s**2).sum())[:k]


# --- PCA: hand-worked values ----------------------------------------------------------------------

def test_the_docstrings_worked_example():
    t = np.zeros((3, 3, 2))
    t[..., 0] = -1.0
    t[1, 1, 0] = 8.0
    pca = token_pca(t)
    np.testing.assert_allclose(pca.fit.mean, [0, 0], atol=1e-12)
    np.testing.assert_allclose(pca.components[0], [1, 0], atol=1e-12)  # border mean −1 < 0 → +e0
    np.testing.assert_allclose(pca.explained_variance_ratio, [1, 0], atol=1e-12)
    expected = np.full((3, 3), -1.0)
    expected[1, 1] = 8.0
    np.testing.assert_allclose(pca.scores[..., 0], expected, atol=1e-6)
    assert pca.fit.low[0] == pytest.approx(-1.0) and pca.fit.high[0] == pytest.approx(7.28)  # 1st / 99th pct
    red = np.zeros((3, 3))
    red[1, 1] = 1.0
    np.testing.assert_allclose(pca.rgb[..., 0], red, atol=1e-6)
    assert pca.foreground.tolist() == (expected > 0).tolist() and pca.foreground.sum() == 1
    negated = token_pca(-t)
    np.testing.assert_allclose(negated.components[0], [-1, 0], atol=1e-12)
    np.testing.assert_array_equal(negated.scores, pca.scores)


def test_components_and_variances_of_tokens_built_from_known_directions():
    """Tokens = mean + Σ_j a_j(patch)·u_j with zero-mean, uncorrelated a_j of variances 9, 4, 1."""
    gh, gw, d = 4, 6, 8
    u = _orthonormal(d, 3)
    rows, cols = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
    inside = ~border_mask((gh, gw))
    a1 = np.where(inside, 1.0, -0.5)                   # object (interior) vs frame
    a2 = np.where(cols < gw // 2, 1.0, -1.0)           # left vs right half
    a3 = np.where(rows % 2 == 0, 1.0, -1.0)            # alternate rows
    a = np.stack([a1 - a1.mean(), a2 - a2.mean(), a3 - a3.mean()], -1)
    # Make the three patterns exactly uncorrelated (Gram–Schmidt over the patches) and scale to std 3, 2, 1.
    flat = a.reshape(-1, 3)
    q, _ = np.linalg.qr(flat)
    q *= np.sign(np.sum(q * flat, axis=0))  # keep each pattern's orientation
    q = q / q.std(0) * np.array([3.0, 2.0, 1.0])
    mean = np.linspace(-1, 1, d)
    tokens = (mean + q @ u).reshape(gh, gw, d)
    pca = token_pca(tokens)
    np.testing.assert_allclose(pca.explained_variance_ratio, np.array([9, 4, 1]) / 14, atol=1e-12)
    np.testing.assert_allclose(np.abs(np.sum(pca.components * u, axis=1)), 1.0, atol=1e-10)
    np.testing.assert_allclose(pca.fit.mean, mean, atol=1e-12)
    np.testing.assert_allclose(pca.fit.score_std, [3, 2, 1], atol=1e-10)
    # Sign: component 1's border patches score below the mean; components 2 and 3 (left/right halves,
    # alternate rows) are balanced on the border, so their largest-|score| patch is positive.
    border = border_mask((gh, gw))
    assert pca.scores[..., 0][border].mean() < 0
    for j in (1, 2):
        s = pca.scores[..., j].ravel()
        assert abs(s[border.ravel()].mean()) < 1e-6 and s[np.argmax(np.abs(s))] > 0
    # Component 1 is the interior pattern, positive inside: the interior is the foreground.
    assert pca.foreground.tolist() == inside.tolist()
    # An independent PCA agrees (up to sign).
    ref_components, ref_ratio = _reference_pca(tokens.reshape(-1, d), 3)
    np.testing.assert_allclose(np.abs(np.sum(pca.components * ref_components, axis=1)), 1.0, atol=1e-10)
    np.testing.assert_allclose(pca.explained_variance_ratio, ref_ratio, atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 5, 64), (10, 10, 16), (2, 3, 40)])
def test_scatter_and_gram_paths_give_the_reference_pca(shape):
    """N ≤ D (Gram matrix), N > D (scatter matrix) and a tiny grid without interior all match an SVD."""
    rng = np.random.default_rng(1)
    tokens = rng.normal(size=shape) * np.linspace(3, 0.1, shape[-1])
    pca = token_pca(tokens)
    ref_components, ref_ratio = _reference_pca(tokens.reshape(-1, shape[-1]), 3)
    np.testing.assert_allclose(np.abs(np.sum(pca.components * ref_components, axis=1)), 1.0, atol=1e-8)
    np.testing.assert_allclose(pca.explained_variance_ratio, ref_ratio, atol=1e-10)
    np.testing.assert_allclose(pca.components @ pca.components.T, np.eye(3), atol=1e-10)
    assert pca.rgb.shape == shape[:2] + (3,) and pca.rgb.dtype == np.float32
    assert pca.rgb.min() >= 0 and pca.rgb.max() <= 1
    assert pca.rgb.max() == 1 and pca.rgb.min() == 0  # 1st and 99th percentiles lie inside the range


def test_fewer_distinct_tokens_than_components_pads_the_missing_colours():
    t = np.zeros((4, 4, 10))
    t[1:3, 1:3, 0] = 1.0  # one direction of variance only
    pca = token_pca(t)
    np.testing.assert_allclose(pca.explained_variance_ratio[0], 1.0)
    np.testing.assert_allclose(pca.explained_variance_ratio[1:], 0.0, atol=1e-12)
    np.testing.assert_array_equal(pca.rgb[..., 0] > 0.5, t[..., 0] > 0)
    identical = token_pca(np.ones((3, 3, 4)))
    assert np.all(identical.rgb == 0) and not identical.foreground.any()
    np.testing.assert_array_equal(identical.explained_variance_ratio, 0.0)


# --- sign convention ------------------------------------------------------------------------------

def test_colours_and_mask_do_not_change_when_tokens_are_negated_or_shifted():
    rng = np.random.default_rng(2)
    tokens = rng.normal(size=(7, 9, 24))
    tokens[2:5, 3:6] += 2.0  # an "object"
    base = token_pca(tokens)
    for variant, flips in ((-tokens, -1), (tokens + rng.normal(size=24) * 10, 1), (-3 * tokens, -1)):
        other = token_pca(variant)
        np.testing.assert_allclose(other.components, flips * base.components, atol=1e-8)
        np.testing.assert_allclose(other.rgb, base.rgb, atol=1e-5)
        np.testing.assert_array_equal(other.foreground, base.foreground)
    np.testing.assert_allclose(token_pca(-3 * tokens).scores, 3 * base.scores, rtol=1e-5, atol=1e-5)


def test_the_object_in_the_interior_is_the_positive_side():
    tokens = np.zeros((6, 6, 3))
    tokens[..., 0] = 5.0
    tokens[2:4, 2:4, 0] = -5.0  # object tokens point the "negative" way along e0
    pca = token_pca(tokens)
    np.testing.assert_allclose(pca.components[0], [-1, 0, 0], atol=1e-12)
    assert pca.foreground[2:4, 2:4].all() and pca.foreground.sum() == 4


def test_without_interior_the_largest_score_is_made_positive():
    t = np.zeros((2, 4, 2))
    t[..., 0] = [[0, 0, 0, -6], [0, 0, 1, 1]]
    pca = token_pca(t)
    # Every patch is a border patch: the largest |score| (patch (0, 3)) decides.
    assert pca.scores[0, 3, 0] > 0
    np.testing.assert_allclose(token_pca(-t).scores, pca.scores)


# --- joint fit and foreground ---------------------------------------------------------------------

def test_a_joint_fit_on_one_image_is_the_single_image_fit():
    tokens = np.random.default_rng(3).normal(size=(6, 5, 12))
    single = token_pca(tokens)
    (joint,) = joint_token_pca([tokens])
    for name in ("rgb", "scores", "foreground"):
        np.testing.assert_array_equal(getattr(joint, name), getattr(single, name))
    np.testing.assert_array_equal(joint.components, single.components)
    assert joint.fit.num_images == 1 and joint.fit.num_patches == 30


def test_a_joint_fit_is_the_pca_of_every_patch_of_the_set():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(4, 4, 10)), rng.normal(size=(3, 5, 10)) + 1.0
    pa, pb = joint_token_pca([a, b])
    assert pa.fit is pb.fit and pa.fit.num_patches == 16 + 15 and pa.fit.num_images == 2
    stacked = np.concatenate([a.reshape(-1, 10), b.reshape(-1, 10)])
    ref_components, ref_ratio = _reference_pca(stacked, 3)
    np.testing.assert_allclose(np.abs(np.sum(pa.components * ref_components, axis=1)), 1.0, atol=1e-8)
    np.testing.assert_allclose(pa.explained_variance_ratio, ref_ratio, atol=1e-10)
    np.testing.assert_allclose(pa.fit.mean, stacked.mean(0), atol=1e-12)
    # The second image is shifted by +1 in every dimension: its patches lie on one side of component 1.
    assert pa.rgb.shape == (4, 4, 3) and pb.rgb.shape == (3, 5, 3)
    # One image twice: both get the single-image scores (the percentiles interpolate over twice the patches).
    twice = joint_token_pca([a, a])
    np.testing.assert_allclose(twice[0].rgb, twice[1].rgb)
    np.testing.assert_allclose(twice[0].scores, token_pca(a).scores, atol=1e-5)


def test_foreground_threshold_is_in_standard_deviations_of_the_first_score():
    tokens = np.random.default_rng(5).normal(size=(8, 8, 6))
    fit = fit_token_pca(tokens)
    s1 = fit.scores(tokens)[..., 0]
    for threshold in (-1.0, 0.0, 0.5, 2.0):
        np.testing.assert_array_equal(fit.transform(tokens, threshold=threshold).foreground,
                                      s1 > threshold * s1.std())
    assert not fit.transform(tokens, threshold=100).foreground.any()


def test_where_fits_on_the_selected_patches_only():
    """DINOv2's second PCA: refit on the foreground of a first one."""
    rng = np.random.default_rng(6)
    tokens = rng.normal(size=(6, 6, 8))
    first = token_pca(tokens)
    second = token_pca(tokens, where=first.foreground)
    selected = tokens[first.foreground]
    np.testing.assert_allclose(second.fit.mean, selected.mean(0), atol=1e-12)
    assert second.fit.num_patches == int(first.foreground.sum())
    ref_components, _ = _reference_pca(selected, 3)
    np.testing.assert_allclose(np.abs(np.sum(second.components * ref_components, axis=1)), 1.0, atol=1e-8)
    with pytest.raises(VitvizError, match="selects none"):
        token_pca(tokens, where=np.zeros((6, 6), bool))


def test_bad_inputs_are_named():
    with pytest.raises(VitvizError, match=r"\(gh, gw, D\)"):
        token_pca(np.zeros((4, 4)))
    with pytest.raises(VitvizError, match="share their dimension"):
        fit_token_pca([np.zeros((2, 2, 3)), np.zeros((2, 2, 4))])
    with pytest.raises(VitvizError, match="dimensions"):
        fit_token_pca(np.random.rand(3, 3, 4)).scores(np.zeros((3, 3, 5)))


# --- similarity -----------------------------------------------------------------------------------

def test_similarity_invariants():
    t = np.zeros((2, 3, 4))
    t[0, 0] = [1, 0, 0, 0]
    t[0, 1] = [0, 2, 0, 0]      # orthogonal to (0, 0)
    t[0, 2] = [-3, 0, 0, 0]     # opposite
    t[1, 0] = [5, 0, 0, 0]      # same direction, longer
    t[1, 1] = [1, 1, 0, 0]      # 45°
    # t[1, 2] stays zero
    sim = token_similarity(t, (0, 0))
    np.testing.assert_allclose(sim, [[1, 0, -1], [1, np.sqrt(0.5), 0]], atol=1e-7)
    assert sim.dtype == np.float32 and sim.shape == (2, 3)
    np.testing.assert_array_equal(token_similarity(t, 0), sim)  # row-major index
    np.testing.assert_array_equal(token_similarity(t, np.array([2.0, 0, 0, 0])), sim)  # a vector
    np.testing.assert_array_equal(token_similarity(torch.from_numpy(t), (0, 0)), sim)
    np.testing.assert_array_equal(token_similarity(t, (1, 2)), 0)  # a zero token is similar to nothing


def test_similarity_of_random_tokens_against_a_direct_computation():
    t = np.random.default_rng(7).normal(size=(5, 4, 32))
    for r, c in ((0, 0), (3, 2), (4, 3)):
        sim = token_similarity(t, (r, c))
        q = t[r, c]
        direct = np.array([[t[i, j] @ q / np.linalg.norm(t[i, j]) / np.linalg.norm(q) for j in range(4)]
                           for i in range(5)])
        np.testing.assert_allclose(sim, direct, atol=1e-6)
        assert sim[r, c] == pytest.approx(1.0, abs=1e-6) and sim.min() >= -1 and sim.max() <= 1
        np.testing.assert_array_equal(token_similarity(t, r * 4 + c), sim)


def test_similarity_rejects_a_patch_outside_the_grid():
    t = np.ones((3, 3, 2))
    for query in ((3, 0), (0, -1), 9, -1):
        with pytest.raises(IndexError):
            token_similarity(t, query)
    with pytest.raises(VitvizError):
        token_similarity(t, np.ones(3))


# --- where layer features come from ---------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{}, {"reg_tokens": 4}])
def test_layer_features_are_block_outputs_after_the_final_norm_without_prefix_tokens(kwargs):
    from vitviz.run.capture import capture, layer_patch_tokens

    model = make_vit(depth=3, **kwargs)
    x = torch.randn(2, 3, 64, 80)
    features, layout = layer_patch_tokens(model, x)
    prefix = 1 + kwargs.get("reg_tokens", 0)
    assert layout.num_prefix_tokens == prefix and layout.grid == (4, 5)
    assert features.shape == (3, 2, 4, 5, 192) and features.dtype == torch.float32
    with torch.no_grad():
        last = model.forward_features(x)  # timm: blocks, then the final norm
    torch.testing.assert_close(features[-1], last[:, prefix:].reshape(2, 4, 5, 192), rtol=1e-5, atol=1e-5)
    raw = capture(model, x, keep_tokens=True).tokens
    with torch.no_grad():
        normed = model.norm(raw[1])
    torch.testing.assert_close(features[1], normed[:, prefix:].reshape(2, 4, 5, 192), rtol=1e-5, atol=1e-5)
    unnormed, _ = layer_patch_tokens(model, x, norm=False)
    torch.testing.assert_close(unnormed[0], raw[0][:, prefix:].reshape(2, 4, 5, 192))


def test_the_analysis_keeps_every_layers_features_and_their_pca():
    from vitviz.run.capture import layer_patch_tokens
    from vitviz.loading.catalog import get_spec
    from vitviz.inputs.images import load_image
    from vitviz.loading.models import _finish
    from vitviz.run.pipeline import analyze_prepared
    from vitviz.inputs.preprocess import prepare_image

    model = make_vit(depth=2)
    loaded = _finish(get_spec("vit_tiny_patch16_224.augreg_in21k_ft_in1k"), model, "untrained")
    prepared = prepare_image(load_image(SAMPLES / "cat.jpg"), loaded.data_config, (96, 96))
    result = analyze_prepared(loaded, prepared, with_token_pca=True)
    features, _ = layer_patch_tokens(model, prepared.tensor)
    assert result.patch_tokens.shape == (2, 6, 6, 192)
    np.testing.assert_allclose(result.patch_tokens, features[:, 0].numpy(), rtol=1e-5, atol=1e-5)
    assert len(result.token_pca) == 2
    for layer, pca in enumerate(result.token_pca):
        np.testing.assert_array_equal(pca.rgb, token_pca(result.patch_tokens[layer]).rgb)
        assert pca.rgb.shape == (6, 6, 3)


# --- figures --------------------------------------------------------------------------------------

def test_token_pca_figure_draws_one_square_cell_per_patch_beside_the_input():
    rng = np.random.default_rng(8)
    rgb = rng.random((4, 5, 3)).astype(np.float32)
    mask = rgb[..., 0] > 0.5
    display = (rng.random((56, 70, 3)) * 255).astype(np.uint8)
    title = plots.figure_title("Token PCA, layer 11", "DINOv2 ViT-S/14", extra="cat, 56×70 px")
    fig = plots.token_pca_figure(rgb, display, patch_size=(14, 14), foreground=mask, scores=rng.normal(size=(4, 5, 3)),
                                 explained=[0.44, 0.14, 0.1], title=title)
    assert [t.type for t in fig.data] == ["image", "image"]
    cells = fig.data[1]
    z = np.asarray(cells.z)
    expected = (rgb * 255).round().astype(np.uint8)
    expected[~mask] = 0
    np.testing.assert_array_equal(z, expected)
    assert (cells.dx, cells.dy, cells.x0, cells.y0) == (14, 14, 6.5, 6.5)  # patch (0, 0) centred at 6.5 px
    assert cells.xaxis == "x2" and fig.layout.yaxis2.scaleanchor == "x2"
    assert "PC1–3: 44 %, 14 %, 10 % of the variance" in [a.text for a in fig.layout.annotations]
    assert fig.layout.title.text.startswith("Token PCA, layer 11 · DINOv2 ViT-S/14")
    assert "background" in cells.text[0][0] if not mask[0, 0] else "foreground" in cells.text[0][0]
    picked = plots.token_pca_figure(rgb, display, patch_size=(14, 14), picker=True)
    markers = picked.data[-1]
    assert markers.type == "scatter" and markers.xaxis == "x2" and len(markers.x) == 20
    assert (markers.x[7], markers.y[7]) == (2.5 * 14 - 0.5, 1.5 * 14 - 0.5)  # patch (1, 2)
    assert plots.tile_at(7, (4, 5)) == (1, 2)


def test_token_similarity_figure_has_a_fixed_scale_and_frames_the_query():
    sim = np.linspace(-1, 1, 20).reshape(4, 5)
    display = np.zeros((56, 70, 3), np.uint8)
    fig = plots.token_similarity_figure(sim, display, patch_size=(14, 14), query=(1, 2), title="t", picker=True)
    heat = fig.data[1]
    assert heat.type == "heatmap" and (heat.zmin, heat.zmax) == (-1, 1)
    assert [c[1] for c in heat.colorscale][0] == plotly.colors.sequential.Cividis[0]
    np.testing.assert_array_equal(np.asarray(heat.z), sim)
    box = fig.layout.shapes[-1]
    assert (box.x0, box.x1, box.y0, box.y1) == (27.5, 41.5, 13.5, 27.5)
    assert fig.data[-1].type == "scatter" and len(fig.data[-1].x) == 20
    bare = plots.token_similarity_figure(sim, query=(0, 0))
    assert bare.layout.yaxis.autorange == "reversed" and bare.layout.yaxis.scaleanchor == "x"
    with pytest.raises(IndexError):
        plots.token_similarity_figure(sim, query=(4, 0))


# --- command line ---------------------------------------------------------------------------------

def test_analyze_writes_token_pca_for_every_layer(tmp_path):
    from vitviz.cli.main import main

    out = tmp_path / "o"
    code = main(["analyze", str(SAMPLES / "flower.jpg"), "--model", "vit_tiny_patch16_224.augreg_in21k_ft_in1k",
                 "--untrained", "--image-size", "64", "--out", str(out)])
    assert code == 0
    npz = np.load(out / "flower" / "analysis.npz")
    rgb = npz["token_pca_rgb"]
    assert rgb.shape == (12, 4, 4, 3) and rgb.dtype == np.float32
    assert rgb.min() >= 0 and rgb.max() <= 1
    assert npz["token_pca_foreground"].shape == (12, 4, 4)
    summary = json.loads((out / "flower" / "summary.json").read_text())
    explained = np.array(summary["token_pca_explained_variance"])
    assert explained.shape == (12, 3) and np.all(explained >= 0) and np.all(explained.sum(1) <= 1 + 1e-9)
    assert np.all(np.diff(explained, axis=1) <= 1e-12)
    assert "token_pca" in summary["conventions"]


# --- real weights ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dinov2_samples(weights_dir):
    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.run.pipeline import analyze_image

    loaded = load_model("vit_small_patch14_dinov2.imgfocus", weights_dir=weights_dir, device="cpu")
    return {name: analyze_image(loaded, load_image(SAMPLES / f"{name}.jpg"), with_token_pca=True)
            for name in ("cat", "flower")}


def _centre(grid, margin=4):
    mask = np.zeros(grid, bool)
    mask[margin:-margin, margin:-margin] = True
    return mask


@pytest.mark.real_weights
def test_dinov2_last_layer_foreground_is_the_subject_not_the_border(dinov2_samples):
    """224 px, 16×16 patches. Measured: cat (the face fills the frame, background only in the corners)
    centre 8×8 98 %, border ring 33 % foreground; flower (one flower on a dark, blurred background)
    centre 97 %, border 0 %. The first component explains 44 % (cat) and 76 % (flower) at layer 11."""
    for name, centre_min, border_max in (("cat", 0.9, 0.5), ("flower", 0.9, 0.1)):
        pca = dinov2_samples[name].token_pca[-1]
        fg = pca.foreground
        centre, border = fg[_centre(fg.shape)].mean(), fg[border_mask(fg.shape)].mean()
        assert centre >= centre_min and border <= border_max, (name, centre, border)
        assert pca.explained_variance_ratio[0] > 0.3, name


@pytest.mark.real_weights
def test_dinov2_last_layer_similarity_separates_the_flower_from_its_background(dinov2_samples):
    """Measured at layer 11 from the centre patch (8, 8): mean similarity 0.80 to the flower's
    (foreground) patches, −0.24 to the background's; at layer 0 0.40 and 0.13."""
    result = dinov2_samples["flower"]
    fg = result.token_pca[-1].foreground
    last = token_similarity(result.patch_tokens[-1], (8, 8))
    first = token_similarity(result.patch_tokens[0], (8, 8))
    assert last[8, 8] == pytest.approx(1.0, abs=1e-3)
    assert last[fg].mean() - last[~fg].mean() > 0.5
    assert last[fg].mean() - last[~fg].mean() > first[fg].mean() - first[~fg].mean()
