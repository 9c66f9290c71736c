"""Attention rollout and single-head maps: worked examples and invariants."""
import numpy as np
import pytest
import torch

from vitviz.analysis import attention_map, attention_rollout, rollout_map
from vitviz.analysis.rollout import discard_lowest
from vitviz.errors import VitvizError
from vitviz.inputs.preprocess import TokenLayout

LAY = TokenLayout(grid=(3, 4), patch_size=(16, 16), prefix_names=("cls",))


def random_attention(layers=4, heads=3, tokens=LAY.num_tokens, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(layers, heads, tokens, tokens, generator=g).mul(3).softmax(-1)


def test_uniform_attention_gives_uniform_map():
    t = LAY.num_tokens
    attn = torch.full((6, 2, t, t), 1.0 / t)
    m = rollout_map(attn, LAY)
    assert m.shape == (3, 4)
    # Ã = (U + I)/2 with U = J/t idempotent, so Ã^L = I/2^L + (1 - 2^-L) U: off-diagonal (1 - 2^-L)/t.
    np.testing.assert_allclose(m, np.full((3, 4), (1 - 2.0**-6) / t), rtol=1e-5)


def test_rollout_rows_sum_to_one_for_every_option():
    attn = random_attention()
    for fusion in ("mean", "max", "min"):
        for ratio in (0.0, 0.5, 0.9):
            r = attention_rollout(attn, head_fusion=fusion, discard_ratio=ratio)
            np.testing.assert_allclose(r.sum(-1).numpy(), 1.0, atol=1e-5)
            assert (r >= 0).all()


def test_two_layer_example_worked_by_hand():
    # 2 tokens, one head. A1 = [[.5,.5],[0,1]], A2 = [[1,0],[.5,.5]].
    a1 = torch.tensor([[0.5, 0.5], [0.0, 1.0]])
    a2 = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    attn = torch.stack([a1, a2])[:, None]  # (layers, heads, T, T)
    # (A+I) renormalised: Ã1 = [[.75,.25],[0,1]], Ã2 = [[1,0],[.25,.75]]; R = Ã2 Ã1.
    expected = torch.tensor([[0.75, 0.25], [0.1875, 0.8125]])
    torch.testing.assert_close(attention_rollout(attn), expected)
    # From layer 1 only, R = Ã2.
    torch.testing.assert_close(attention_rollout(attn, start_layer=1), torch.tensor([[1.0, 0.0], [0.25, 0.75]]))


def test_matches_vit_explain_formulation_without_discard():
    """(A+I) renormalised equals jacobgil/vit-explain's (A+I)/2 when nothing is discarded."""
    attn = random_attention(seed=3).numpy()
    result = np.eye(attn.shape[-1])
    for layer in attn:
        a = (layer.mean(0) + np.eye(attn.shape[-1])) / 2
        a = a / a.sum(-1, keepdims=True)
        result = a @ result
    np.testing.assert_allclose(attention_rollout(attn).numpy(), result, rtol=1e-5, atol=1e-7)


def test_head_fusion_max_and_min_pick_extremes():
    attn = random_attention(layers=1, seed=4)
    t = attn.shape[-1]
    eye = torch.eye(t)
    for fusion, reduce in (("max", attn[0].amax(0)), ("min", attn[0].amin(0))):
        step = reduce + eye
        torch.testing.assert_close(attention_rollout(attn, head_fusion=fusion), step / step.sum(-1, keepdim=True))
    with pytest.raises(VitvizError, match="head fusion"):
        attention_rollout(attn, head_fusion="median")


def test_discard_zeroes_lowest_per_row_but_keeps_prefix_to_prefix():
    t = 5
    a = torch.tensor([[0.01, 0.3, 0.29, 0.2, 0.2]] * t)  # CLS→CLS is the smallest entry
    out = discard_lowest(a, 0.5, num_prefix_tokens=1)  # int(0.5 * 4) = 2 per row
    assert out[0, 0] == pytest.approx(0.01)  # prefix→prefix spared
    assert out[0].eq(0).sum() == 2
    assert out[1, 0] == 0  # patch row: CLS column may go
    assert out[1].eq(0).sum() == 2
    with pytest.raises(VitvizError, match=r"\[0, 1\)"):
        discard_lowest(a, 1.0, 1)
    with pytest.raises(VitvizError):
        discard_lowest(a, -0.1, 1)


def test_batched_rollout_equals_per_image():
    a, b = random_attention(seed=5), random_attention(seed=6)
    both = torch.stack([a, b], dim=1)  # (layers, B, heads, T, T)
    r = attention_rollout(both, discard_ratio=0.3)
    torch.testing.assert_close(r[0], attention_rollout(a, discard_ratio=0.3))
    torch.testing.assert_close(r[1], attention_rollout(b, discard_ratio=0.3))


def test_attention_map_selects_layer_head_and_query():
    attn = random_attention(seed=7)
    m = attention_map(attn, LAY, layer=2, head=1)
    np.testing.assert_allclose(m, attn[2, 1, 0, 1:].reshape(3, 4).numpy())
    m_mean = attention_map(attn, LAY, layer=2, head=None, query=5)
    np.testing.assert_allclose(m_mean, attn[2, :, 5, 1:].mean(0).reshape(3, 4).numpy(), rtol=1e-6)
    # A patch query on a row-major grid: token 1 + r*gw + c.
    assert LAY.token_name(1 + 1 * 4 + 2) == "patch (1, 2)"
    with pytest.raises(VitvizError, match="layer"):
        attention_map(attn, LAY, layer=4, head=0)
    with pytest.raises(VitvizError, match="head"):
        attention_map(attn, LAY, layer=0, head=3)
    with pytest.raises(VitvizError, match="query"):
        attention_map(attn, LAY, layer=0, head=0, query=LAY.num_tokens)


def test_mean_query_for_models_without_class_token():
    lay = TokenLayout(grid=(2, 2), patch_size=(16, 16), prefix_names=())
    attn = random_attention(layers=2, tokens=4, seed=8)
    r = attention_rollout(attn, num_prefix_tokens=0)
    np.testing.assert_allclose(rollout_map(attn, lay, query="mean"), r.mean(0).reshape(2, 2).numpy(), rtol=1e-6)


def test_start_layer_out_of_range():
    with pytest.raises(VitvizError, match="start layer"):
        attention_rollout(random_attention(layers=2), start_layer=2)


def test_no_excluded_keys_leaves_rollout_unchanged():
    attn = random_attention(seed=9)
    for fusion in ("mean", "max"):
        base = attention_rollout(attn, head_fusion=fusion, discard_ratio=0.3, start_layer=1)
        same = attention_rollout(attn, head_fusion=fusion, discard_ratio=0.3, start_layer=1, exclude_keys=())
        assert torch.equal(base, same)
    np.testing.assert_array_equal(rollout_map(attn, LAY, exclude_keys=[]), rollout_map(attn, LAY))


def test_excluded_key_worked_by_hand():
    # 3 tokens, one layer, one head; leave key 2 out. Row 2 had all its mass on key 2.
    a = torch.tensor([[0.2, 0.3, 0.5], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])[None, None]
    # Without key 2 and renormalised: [[.4,.6,0],[.5,.5,0],[0,0,0]]; + I, rows renormalised:
    expected = torch.tensor([[0.7, 0.3, 0.0], [0.25, 0.75, 0.0], [0.0, 0.0, 1.0]])
    torch.testing.assert_close(attention_rollout(a, num_prefix_tokens=0, exclude_keys=[2]), expected)


def test_excluded_keys_rows_sum_to_one_and_receive_nothing():
    attn = random_attention(seed=10)
    sink = 1 + 2 * 4 + 3  # patch (2, 3)
    for fusion in ("mean", "max", "min"):
        for ratio in (0.0, 0.5):
            r = attention_rollout(attn, head_fusion=fusion, discard_ratio=ratio, exclude_keys=[sink, 0])
            np.testing.assert_allclose(r.sum(-1).numpy(), 1.0, atol=1e-5)
            off_diagonal = torch.cat([r[:sink, sink], r[sink + 1:, sink], r[1:, 0]])
            assert off_diagonal.abs().max() == 0
    m = rollout_map(attn, LAY, exclude_keys=[sink])
    assert m[2, 3] == 0
    expected = attention_rollout(attn, exclude_keys=[sink])[0, 1:].reshape(3, 4).numpy()
    np.testing.assert_allclose(m, expected, rtol=1e-6)  # one row carried as a vector: float rounding differs
    with pytest.raises(VitvizError, match="leave out"):
        attention_rollout(attn, exclude_keys=[LAY.num_tokens])


@pytest.mark.parametrize("query", [0, 7, "mean"])
@pytest.mark.parametrize("settings", [{}, {"head_fusion": "max", "discard_ratio": 0.5},
                                      {"head_fusion": "min", "start_layer": 2}, {"exclude_keys": (3, 9)}])
@pytest.mark.parametrize("chunk_layers", [1, 3, 4])
def test_rollout_map_row_equals_the_full_matrix_product(query, settings, chunk_layers, monkeypatch):
    """rollout_map carries one row as a vector, fusing heads a chunk of layers at a time (1, 3 of 4 —
    a chunk boundary inside the model —, all); it must equal the row of the full (T, T) rollout."""
    from vitviz.analysis import arrays
    from vitviz.analysis.rollout import attention_rollout, token_row_map
    from vitviz.inputs.preprocess import TokenLayout

    monkeypatch.setattr(arrays, "CHUNK_BYTES", chunk_layers * 21 * 21 * 4)
    torch.manual_seed(3)
    layout = TokenLayout(grid=(4, 5), patch_size=(16, 16), prefix_names=("cls",))
    attn = torch.rand(4, 3, 21, 21).softmax(dim=-1)
    full = attention_rollout(attn, num_prefix_tokens=1, **settings)
    np.testing.assert_allclose(rollout_map(attn, layout, query=query, **settings),
                               token_row_map(full, layout, query), rtol=1e-5, atol=1e-7)


def test_float16_attention_is_fused_in_float32():
    """A float16 cache (the app's) is summed over heads in float32: the same map as from float32 input."""
    attn = random_attention(seed=5)
    half = rollout_map(attn.half(), LAY, query=0)
    assert half.dtype == np.float32
    np.testing.assert_allclose(half, rollout_map(attn.half().float(), LAY, query=0), rtol=1e-6, atol=1e-9)
