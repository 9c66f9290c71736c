"""Attention sinks and high-norm tokens: worked values, invariants, errors, and DINOv2's real sink."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vitviz.analysis import (attention_rollout, find_attention_sinks, find_norm_outliers, received_share,
                             received_share_by_head, rollout_map)
from vitviz.errors import VitvizError
from vitviz.inputs.preprocess import TokenLayout

LAY = TokenLayout(grid=(3, 4), patch_size=(16, 16), prefix_names=("cls",))
LAY16 = TokenLayout(grid=(16, 16), patch_size=(14, 14), prefix_names=("cls",))


def random_attention(layers=4, heads=3, tokens=LAY.num_tokens, seed=0, batch=None):
    g = torch.Generator().manual_seed(seed)
    shape = (layers, heads, tokens, tokens) if batch is None else (layers, batch, heads, tokens, tokens)
    return torch.randn(*shape, generator=g).mul(3).softmax(-1)


def half_on(key: int, tokens: int) -> torch.Tensor:
    """Every query puts 0.5 on ``key`` and spreads 0.5 evenly over the other ``tokens − 1`` keys."""
    a = torch.full((tokens, tokens), 0.5 / (tokens - 1), dtype=torch.float64)
    a[:, key] = 0.5
    return a


# --- worked values --------------------------------------------------------------------------------

def test_uniform_attention_gives_share_one_everywhere():
    t = LAY.num_tokens
    share = received_share_by_head(torch.full((2, 3, t, t), 1.0 / t))
    assert share.shape == (2, 3, t)
    np.testing.assert_allclose(share, 1.0, rtol=1e-6)
    sinks = find_attention_sinks(torch.full((2, 3, t, t), 1.0 / t), LAY, threshold=1.5)
    assert sinks.sinks == () and sinks.sink_tokens == ()


def test_half_of_every_query_on_one_key_gives_half_of_t():
    t = LAY16.num_tokens  # 257
    key = 1 + 15 * 16 + 15  # patch (15, 15)
    share = received_share(half_on(key, t)[None, None])
    assert share[0, key] == pytest.approx(128.5, rel=1e-6)
    others = np.delete(share[0], key)
    np.testing.assert_allclose(others, 0.5 * 257 / 256, rtol=1e-6)


def test_a_one_layer_sink_found_worked_by_hand():
    t = LAY16.num_tokens
    key = 1 + 15 * 16 + 15
    attn = torch.stack([half_on(key, t), torch.full((t, t), 1.0 / t, dtype=torch.float64)])[:, None]  # 2 layers
    sinks = find_attention_sinks(attn, LAY16)
    assert sinks.sinks == ((15, 15),) and sinks.sink_tokens == (key,)
    assert sinks.score[15, 15] == pytest.approx(128.5, rel=1e-6)
    assert sinks.layers_outsized[15, 15] == 1 and sinks.layers_outsized.sum() == 1
    assert sinks.outsized_layers(15, 15) == [0] and sinks.outsized_layers(0, 0) == []
    assert sinks.patch_received.shape == (2, 16, 16) and sinks.patch_received[1, 15, 15] == pytest.approx(1.0)
    # Asking for two layers: the score is the 2nd largest share (1.0), below any threshold.
    both = find_attention_sinks(attn, LAY16, min_layers=2)
    assert both.sinks == () and both.score[15, 15] == pytest.approx(1.0, rel=1e-6)
    # The threshold is inclusive: score ≥ threshold.
    assert find_attention_sinks(attn, LAY16, threshold=128.5 * (1 - 1e-6)).sinks == ((15, 15),)
    assert find_attention_sinks(attn, LAY16, threshold=129.0).sinks == ()


def test_prefix_keys_are_scored_but_never_sinks():
    t = LAY.num_tokens
    attn = half_on(0, t)[None, None]  # every query on CLS
    sinks = find_attention_sinks(attn, LAY, threshold=2.0)
    assert sinks.received[0, 0] == pytest.approx(0.5 * t)
    assert sinks.sinks == ()


def test_sinks_come_highest_score_first_with_the_prefix_offset():
    reg = TokenLayout(grid=(3, 4), patch_size=(16, 16), prefix_names=("cls", "reg0", "reg1"))
    t = reg.num_tokens
    a = torch.zeros(t, t, dtype=torch.float64)
    a[:, 3 + 5] = 0.6  # patch (1, 1)
    a[:, 3 + 11] = 0.4  # patch (2, 3)
    sinks = find_attention_sinks(a[None, None], reg, threshold=2.0)
    assert sinks.sinks == ((1, 1), (2, 3)) and sinks.sink_tokens == (8, 14)
    assert sinks.score[1, 1] == pytest.approx(0.6 * t)


def test_high_norm_worked_example():
    lay = TokenLayout(grid=(2, 2), patch_size=(16, 16), prefix_names=("cls",))
    norms = np.array([[10.0, 1.0, 1.0, 1.0, 4.0]])  # the CLS norm does not enter the median
    out = find_norm_outliers(norms, lay, k=3)
    assert out.median[0] == pytest.approx(1.0)
    np.testing.assert_allclose(out.ratio[0], [10, 1, 1, 1, 4])
    assert out.max_patch_ratio[0] == pytest.approx(4.0)
    assert out.outliers == ((0, 1, 1),) and out.patches == ((1, 1),)
    assert out.mask.shape == (1, 2, 2) and out.mask.sum() == 1
    assert find_norm_outliers(norms, lay, k=4).outliers == ()  # strictly above k


# --- invariants -----------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shares_of_every_layer_and_head_average_one(seed):
    attn = random_attention(seed=seed)
    by_head = received_share_by_head(attn)
    np.testing.assert_allclose(by_head.mean(axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(received_share(attn).mean(axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(received_share(attn), by_head.mean(axis=1), rtol=1e-6)
    sinks = find_attention_sinks(attn, LAY, threshold=1.01)
    assert sinks.received.shape == (4, LAY.num_tokens) and sinks.score.shape == LAY.grid


def test_batched_attention_pools_the_images_queries():
    attn = random_attention(batch=2, seed=4)
    pooled = received_share_by_head(attn)
    per_image = [received_share_by_head(attn[:, b]) for b in range(2)]
    np.testing.assert_allclose(pooled, (per_image[0] + per_image[1]) / 2, rtol=1e-5)


def test_numpy_input_matches_torch():
    attn = random_attention(seed=5)
    np.testing.assert_array_equal(received_share_by_head(attn.numpy()), received_share_by_head(attn))


# --- errors ---------------------------------------------------------------------------------------

def test_bad_shapes_and_settings_are_refused():
    attn = random_attention()
    with pytest.raises(VitvizError, match="attention must be"):
        received_share_by_head(attn[0])  # 3-D
    with pytest.raises(VitvizError, match="attention must be"):
        received_share_by_head(attn[..., :-1])  # not square
    with pytest.raises(VitvizError, match="layout expects"):
        find_attention_sinks(attn, LAY16)
    for threshold in (1.0, 0.5, float("nan")):
        with pytest.raises(VitvizError, match="threshold"):
            find_attention_sinks(attn, LAY, threshold=threshold)
    for min_layers in (0, 5):
        with pytest.raises(VitvizError, match="min_layers"):
            find_attention_sinks(attn, LAY, min_layers=min_layers)
    with pytest.raises(VitvizError, match="token norms"):
        find_norm_outliers(np.ones((4, LAY.num_tokens - 1)), LAY)
    with pytest.raises(VitvizError, match="token norms"):
        find_norm_outliers(np.ones(LAY.num_tokens), LAY)
    with pytest.raises(VitvizError, match="ratio"):
        find_norm_outliers(np.ones((4, LAY.num_tokens)), LAY, k=1.0)


# --- the real DINOv2 sink -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dinov2_astronaut(weights_dir, sample_paths):
    from vitviz.run.capture import capture
    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.inputs.preprocess import input_hw, prepare_image

    loaded = load_model("vit_small_patch14_dinov2.imgfocus", weights_dir=weights_dir, device="cpu")
    image = load_image(next(p for p in sample_paths if p.name == "astronaut.jpg"))
    prepared = prepare_image(image, loaded.data_config, input_hw(loaded.data_config))
    with torch.no_grad():
        result = capture(loaded.model, prepared.tensor, keep_tokens=True)
    assert result.tokens is not None and result.attention is not None
    # Block outputs (layers, B, T, D) → (layers, T) L2 norms of image 0.
    return result.attention[:, 0], result.tokens[:, 0].float().norm(dim=-1), result.layout


@pytest.mark.real_weights
def test_dinov2_astronaut_has_one_layer0_sink_that_is_not_high_norm(dinov2_astronaut):
    attention, norms, layout = dinov2_astronaut
    assert layout.grid == (16, 16) and layout.num_prefix_tokens == 1
    sinks = find_attention_sinks(attention, layout)
    assert sinks.sinks == ((15, 15),)  # the bottom-right patch, whatever the astronaut shows
    assert sinks.outsized_layers(15, 15) == [0]
    share = sinks.patch_received
    assert 25 < share[0, 15, 15] < 45  # docstring: 29–43× uniform in layer 0
    assert np.all((share[1:, 15, 15] > 0.3) & (share[1:, 15, 15] < 2.6))  # about uniform afterwards
    others = np.delete(share.reshape(len(share), -1), 15 * 16 + 15, axis=1)
    assert others.max() < 14  # the gap the 20× default sits in
    # Head 5 carries it: on average most of each query's layer-0 attention goes there.
    assert sinks.received_by_head[0, 5, sinks.sink_tokens[0]] / 257 > 0.6
    assert sinks.received[0, 0] > 1  # the CLS key gets more than uniform
    # Not a Darcet-style high-norm token: no patch is even 2× the median norm.
    outliers = find_norm_outliers(norms, layout)
    assert outliers.outliers == ()
    assert outliers.max_patch_ratio.max() < 2.0
    assert outliers.ratio[:, sinks.sink_tokens[0]].max() < 1.4
    assert find_norm_outliers(norms, layout, k=2).outliers == ()


@pytest.mark.real_weights
def test_rollout_without_the_sink_no_longer_peaks_on_it(dinov2_astronaut):
    attention, _, layout = dinov2_astronaut
    sinks = find_attention_sinks(attention, layout)
    plain = rollout_map(attention, layout)
    assert np.unravel_index(plain.argmax(), plain.shape) == (15, 15)  # the CLS rollout peaks on the sink
    cleaned = rollout_map(attention, layout, exclude_keys=sinks.sink_tokens)
    peak = np.unravel_index(cleaned.argmax(), cleaned.shape)
    assert peak != (15, 15) and cleaned[15, 15] == 0
    assert 3 <= peak[0] <= 12 and 3 <= peak[1] <= 12  # on the image's interior, away from the corner
    joint = attention_rollout(attention, num_prefix_tokens=1, exclude_keys=sinks.sink_tokens)
    np.testing.assert_allclose(joint.sum(-1).numpy(), 1.0, atol=1e-5)
    assert (joint >= 0).all()


def test_the_rollout_figures_show_the_object_not_the_sink_on_every_sample(weights_dir, sample_paths):
    """DINOv2 ViT-S/14: the plain rollout of every bundled sample peaks at the sink vitviz detects; the
    paper-style figures (ImageAnalysis.figure_rollout) leave the sinks out, and peak elsewhere."""
    import numpy as np

    from vitviz.analysis import rollout_map
    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.run.pipeline import analyze_image

    loaded = load_model("vit_small_patch14_dinov2.imgfocus", weights_dir=weights_dir, device="cpu")
    for path in sample_paths:
        result = analyze_image(loaded, load_image(path))
        layout = result.layout
        sinks = [layout.patch_of(i) for i in result.sink_tokens]
        assert sinks, path.stem
        peak = lambda m: tuple(int(v) for v in np.unravel_index(np.argmax(m), layout.grid))  # noqa: E731
        assert peak(result.rollout) in sinks, path.stem  # the problem the issue reported
        assert peak(result.figure_rollout) not in sinks, path.stem
        np.testing.assert_allclose(result.figure_rollout, rollout_map(result.attention, layout, query=0,
                                                                      exclude_keys=result.sink_tokens), rtol=1e-6)
