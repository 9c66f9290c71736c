"""Mean attention distance against hand-worked values and a naive reference."""
import numpy as np
import pytest
import torch

from vitviz.analysis import MeanDistanceAccumulator, mean_attention_distance, patch_distance_matrix, reference_distances
from vitviz.errors import VitvizError
from vitviz.inputs.preprocess import TokenLayout


def layout(g=14, p=16, prefix=("cls",)):
    return TokenLayout(grid=(g, g) if isinstance(g, int) else g, patch_size=(p, p), prefix_names=prefix)


def patch_attention(lay, patch_rows, prefix_col=0.0, layers=1, heads=1):
    """Full (layers, heads, T, T) attention from a (N, N) patch-to-patch matrix."""
    t, p = lay.num_tokens, lay.num_prefix_tokens
    a = torch.zeros(layers, heads, t, t, dtype=torch.float64)
    a[..., p:, p:] = torch.as_tensor(patch_rows, dtype=torch.float64)
    if p:
        a[..., :p, :] = 1.0 / t
        a[..., p:, 0] = prefix_col
    return a


def test_uniform_attention_14x14_is_116_49_px():
    lay = layout()
    n = lay.num_patches
    d = mean_attention_distance(patch_attention(lay, np.full((n, n), 1 / n)), lay)
    assert d.shape == (1, 1)
    assert d[0, 0] == pytest.approx(116.49, abs=0.005)


def test_uniform_attention_384px_is_200_05_px():
    lay = layout(g=24)
    n = lay.num_patches
    d = mean_attention_distance(patch_attention(lay, np.full((n, n), 1 / n)), lay)
    assert d[0, 0] == pytest.approx(200.05, abs=0.005)


def test_attention_to_self_is_zero():
    lay = layout()
    d = mean_attention_distance(patch_attention(lay, np.eye(lay.num_patches)), lay)
    assert d[0, 0] == pytest.approx(0.0, abs=1e-9)


def test_uniform_3x3_window_is_16_70_px():
    lay = layout()
    centres = lay.patch_centers_px() / 16
    grid_dist = np.abs(centres[:, None, :] - centres[None, :, :]).max(-1)
    window = (grid_dist <= 1).astype(float)
    rows = window / window.sum(1, keepdims=True)  # clipped at the border, renormalised
    d = mean_attention_distance(patch_attention(lay, rows), lay)
    assert d[0, 0] == pytest.approx(16.70, abs=0.005)


def test_prefix_mass_counts_as_zero_unless_renormalized():
    lay = layout()
    n = lay.num_patches
    rows = np.full((n, n), 0.5 / n)  # half of every patch row goes to CLS
    a = patch_attention(lay, rows, prefix_col=0.5)
    assert mean_attention_distance(a, lay)[0, 0] == pytest.approx(116.49 / 2, abs=0.005)
    assert mean_attention_distance(a, lay, renormalize=True)[0, 0] == pytest.approx(116.49, abs=0.005)


def test_distance_matrix_in_pixels_and_rectangular_patches():
    lay = TokenLayout(grid=(2, 3), patch_size=(10, 20), prefix_names=())
    d = patch_distance_matrix(lay)
    assert d.shape == (6, 6)
    assert d[0, 1].item() == pytest.approx(20.0)  # one column right: pw
    assert d[0, 3].item() == pytest.approx(10.0)  # one row down: ph
    assert d[0, 5].item() == pytest.approx(np.hypot(10, 40))


def naive_distance(attn, lay):
    """Reference by loops over layers, heads and queries (like the paper's code)."""
    attn = np.asarray(attn, dtype=np.float64)
    p = lay.num_prefix_tokens
    c = lay.patch_centers_px()
    out = np.zeros(attn.shape[:2])
    for layer in range(attn.shape[0]):
        for head in range(attn.shape[1]):
            total = 0.0
            for q in range(lay.num_patches):
                row = attn[layer, head, p + q, p:]
                total += (row * np.linalg.norm(c - c[q], axis=1)).sum()
            out[layer, head] = total / lay.num_patches
    return out


@pytest.mark.parametrize("chunk_layers", [1, 2, 3])
def test_matches_naive_loop_on_random_attention_nonsquare_grid(chunk_layers, monkeypatch):
    """Also when the layers are reduced in chunks (1, 2 of 3 — a chunk boundary inside —, all)."""
    from vitviz.analysis import arrays

    lay = TokenLayout(grid=(3, 5), patch_size=(16, 16), prefix_names=("cls", "reg0"))
    monkeypatch.setattr(arrays, "CHUNK_BYTES", chunk_layers * 4 * lay.num_tokens ** 2 * 4)
    torch.manual_seed(1)
    attn = torch.randn(3, 4, lay.num_tokens, lay.num_tokens).softmax(-1)
    np.testing.assert_allclose(mean_attention_distance(attn, lay), naive_distance(attn, lay), rtol=1e-5)


def test_streaming_accumulator_equals_batch_mean():
    lay = layout(g=4, prefix=("cls",))
    torch.manual_seed(2)
    images = [torch.randn(2, 3, lay.num_tokens, lay.num_tokens).softmax(-1) for _ in range(5)]
    acc = MeanDistanceAccumulator(lay, num_layers=2, num_heads=3)
    for first in (images[:2], images[2:]):  # two batches of 2 and 3 images
        batch = torch.stack(first, dim=1)  # (layers, B, heads, T, T)
        for layer in range(2):
            acc(layer, batch[layer])
    expected = np.mean([mean_attention_distance(a, lay) for a in images], axis=0)
    assert acc.num_images == 5
    np.testing.assert_allclose(acc.result(), expected, rtol=1e-6)


def test_accumulator_refuses_empty_and_wrong_token_count():
    lay = layout(g=4)
    acc = MeanDistanceAccumulator(lay, 1, 1)
    with pytest.raises(VitvizError, match="no images"):
        acc.result()
    with pytest.raises(VitvizError, match="tokens"):
        acc.update(0, torch.ones(1, 1, 5, 5))


def test_reference_lines_are_the_worked_values():
    refs = reference_distances(layout())
    assert refs["uniform"] == pytest.approx(116.49, abs=0.005)
    assert refs["3×3 window"] == pytest.approx(16.70, abs=0.005)
    assert reference_distances(layout(g=24))["uniform"] == pytest.approx(200.05, abs=0.005)
