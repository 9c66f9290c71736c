"""Patchify, patch-embedding filter PCA, and position-embedding similarity."""
import numpy as np
import pytest
import torch

from conftest import make_vit
from vitviz.analysis import (
    filter_components,
    patch_embedding_filters,
    patch_position_embeddings,
    patchify,
    position_embedding_similarity,
    unpatchify,
)


# ----------------------------------------------------------------------------- patchify
def test_patchify_row_major_order_and_roundtrip():
    img = np.arange(32 * 48 * 3).reshape(32, 48, 3)
    p = patchify(img, 16)
    assert p.grid == (2, 3)
    assert p.patches.shape == (6, 16, 16, 3)
    assert p.sequence.shape == (6, 16 * 16 * 3)
    np.testing.assert_array_equal(p.patches[1], img[0:16, 16:32])  # second patch: top row, 2nd column
    np.testing.assert_array_equal(p.patches[3], img[16:32, 0:16])  # fourth: second row, 1st column
    np.testing.assert_array_equal(unpatchify(p.patches, p.grid), img)


def test_patchify_refuses_partial_patches():
    with pytest.raises(ValueError, match="whole number"):
        patchify(np.zeros((30, 32, 3)), 16)


def test_flattened_sequence_times_projection_equals_timm_patch_embedding(tiny_vit):
    """x_p · E (paper Eq. 1) with E from the conv weight reproduces timm's patch tokens."""
    torch.manual_seed(3)
    x = torch.randn(1, 3, 64, 48)
    seq = patchify(x[0].permute(1, 2, 0).numpy(), 16).sequence  # (N, P*P*C), (row, col, channel) order
    weight = tiny_vit.patch_embed.proj.weight.detach()  # (D, C, P, P)
    e = weight.permute(0, 2, 3, 1).reshape(weight.shape[0], -1).T.numpy()  # (P*P*C, D)
    ours = seq @ e + tiny_vit.patch_embed.proj.bias.detach().numpy()
    with torch.no_grad():
        timm_tokens = tiny_vit.patch_embed(x).reshape(-1, weight.shape[0]).numpy()
    np.testing.assert_allclose(ours, timm_tokens, rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------- filters
def test_filter_components_orthonormal_and_variance_bounded(tiny_vit):
    filters = patch_embedding_filters(tiny_vit)
    assert filters.shape == (192, 3, 16, 16)
    pcs = filter_components(filters, k=28)
    flat = pcs.components.reshape(28, -1).astype(np.float64)
    np.testing.assert_allclose(flat @ flat.T, np.eye(28), atol=1e-5)
    evr = pcs.explained_variance_ratio
    assert evr.shape == (28,) and np.all(np.diff(evr) <= 1e-12) and 0 < evr.sum() <= 1 + 1e-9


def test_filter_components_agree_with_scikit_learn_pca():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    filters = (rng.normal(size=(64, 1)) * rng.normal(size=(1, 3 * 4 * 4)) + 0.1 * rng.normal(size=(64, 48)))
    filters = filters.reshape(64, 3, 4, 4)
    ours = filter_components(filters, k=5)
    ref = PCA(n_components=5).fit(filters.reshape(64, -1))
    np.testing.assert_allclose(ours.explained_variance_ratio, ref.explained_variance_ratio_, rtol=1e-6)
    for mine, theirs in zip(ours.components.reshape(5, -1), ref.components_):
        assert abs(float(np.dot(mine, theirs))) == pytest.approx(1.0, abs=1e-5)  # same axis, any sign


def test_filter_k_capped_at_rank():
    pcs = filter_components(np.random.default_rng(1).normal(size=(6, 3, 2, 2)), k=28)
    assert pcs.components.shape == (6, 3, 2, 2)


# ----------------------------------------------------------------------------- position embeddings
def test_similarity_diagonal_is_one_and_tiles_are_symmetric(tiny_vit):
    sim = position_embedding_similarity(patch_position_embeddings(tiny_vit))
    assert sim.shape == (14, 14, 14, 14)
    diag = np.einsum("ijij->ij", sim)
    np.testing.assert_allclose(diag, 1.0, atol=1e-6)
    np.testing.assert_allclose(sim[2, 3, 7, 1], sim[7, 1, 2, 3])
    assert sim.min() >= -1 - 1e-9 and sim.max() <= 1 + 1e-9


def test_similarity_of_a_hand_made_embedding():
    pos = np.zeros((1, 3, 2))
    pos[0, 0] = [1, 0]
    pos[0, 1] = [1, 1]
    pos[0, 2] = [-1, 0]
    sim = position_embedding_similarity(pos)
    assert sim[0, 0, 0, 1] == pytest.approx(1 / np.sqrt(2))
    assert sim[0, 0, 0, 2] == pytest.approx(-1.0)


def pos_embed_added_in_forward(model, x):
    """What the model adds to each patch token at this input size, read from its own forward."""
    seen = {}
    handles = [
        model.patch_embed.register_forward_hook(lambda m, i, out: torch.zeros_like(out)),  # tokens := 0
        model.pos_drop.register_forward_hook(lambda m, i, out: seen.setdefault("x", i[0])),
    ]
    try:
        with torch.no_grad():
            model.forward_features(x)
    finally:
        for h in handles:
            h.remove()
    return seen["x"][0, model.num_prefix_tokens:].numpy()


@pytest.mark.parametrize("kwargs", [{}, {"no_embed_class": True}, {"reg_tokens": 2, "no_embed_class": True}])
def test_resampled_grid_matches_what_the_model_adds(kwargs):
    model = make_vit(depth=1, **kwargs)
    x = torch.zeros(1, 3, 160, 288)  # 10×18 grid, not the native 14×14
    ours = patch_position_embeddings(model, (10, 18))
    assert ours.shape == (10, 18, 192)
    np.testing.assert_allclose(ours.reshape(-1, 192), pos_embed_added_in_forward(model, x), atol=1e-5)


def test_embedding_stages_follow_equation_one():
    from vitviz.analysis import embedding_stages

    model = make_vit(depth=1)
    torch.manual_seed(5)
    x = torch.randn(1, 3, 64, 96)
    stages = embedding_stages(model, x)
    assert stages.patch_tokens.shape == (24, 192) and stages.sequence.shape == (25, 192)
    # z_0 = [x_class; x_p E] + E_pos: the class row is cls_token + its position embedding ...
    np.testing.assert_array_equal(stages.prefix_tokens, model.cls_token[0].detach().numpy())
    cls = (model.cls_token[0, 0] + model.pos_embed[0, 0]).detach().numpy()
    np.testing.assert_allclose(stages.sequence[0], cls, atol=1e-5)
    # ... and what was added to the patches is the (resampled) patch position embedding.
    np.testing.assert_allclose(stages.position_added, patch_position_embeddings(model, (4, 6)).reshape(24, 192),
                               atol=1e-5)
    assert len(model.patch_embed._forward_hooks) == 0 and len(model.pos_drop._forward_hooks) == 0
