"""vitviz.run.trace: one patch's numbers through the encoder equal what timm computes.

Each traced array is compared with (a) timm's own outputs where timm exposes them (block outputs
from ``forward_intermediates``, ``forward_features``, ``model(x)``) and (b) an independent, plain
re-implementation of the pre-norm block in this file (``torch.nn.functional`` on the weights), with
timm's fused attention on and off. Tolerance: 1e-5 of the reference's scale (``max(1, max |ref|)``)
plus 1e-5 relative, in float32.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import SAMPLES, make_vit
from vitviz.errors import UnsupportedModelError, VitvizError
from vitviz.run.trace import (block_weights, check_patch, parse_layer_range, parse_patch, projection_weights,
                          trace_patch)

PATCH = (3, 5)


def close(actual, expected, what: str = "") -> None:
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=1e-5, atol=1e-5 * scale,
                               err_msg=what)


@contextmanager
def fused(model, flag: bool):
    saved = [b.attn.fused_attn for b in model.blocks]
    for b in model.blocks:
        b.attn.fused_attn = flag
    try:
        yield
    finally:
        for b, s in zip(model.blocks, saved):
            b.attn.fused_attn = s


def randomise_layer_scale_and_qk_norm(model) -> None:
    """Random init leaves LayerScale at 1e-5 and q/k norms at identity, which would hide their errors."""
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for b in model.blocks:
            for ls in (getattr(b, "ls1", None), getattr(b, "ls2", None)):
                if hasattr(ls, "gamma"):
                    ls.gamma.copy_(torch.rand(ls.gamma.shape, generator=g) + 0.5)
            for norm in (b.attn.q_norm, b.attn.k_norm):
                if hasattr(norm, "weight") and norm.weight is not None:
                    norm.weight.copy_(torch.rand(norm.weight.shape, generator=g) + 0.5)
                    norm.bias.copy_(torch.rand(norm.bias.shape, generator=g) - 0.5)


@torch.no_grad()
def ln(z, norm):
    return F.layer_norm(z, (z.shape[-1],), norm.weight, norm.bias, norm.eps)


def maybe_ln(z, norm):
    return z if isinstance(norm, torch.nn.Identity) else ln(z, norm)


def gain(ls):
    return ls.gamma if hasattr(ls, "gamma") else 1.0


def reference(model, x, t: int) -> dict:
    """The token's values by a plain pre-norm block written out here, fed with timm's z0; block
    outputs also checked against timm's ``forward_intermediates``."""
    out: dict = {}
    with torch.no_grad():
        x = x[:1]
        z = model.norm_pre(model.patch_drop(model._pos_embed(model.patch_embed(x))))   # z0 as timm builds it
        out["z0"] = z[0, t]
        timm_blocks = model.forward_intermediates(x, norm=False, output_fmt="NLC", intermediates_only=True,
                                                  return_prefix_tokens=model.num_prefix_tokens > 0)
        if model.num_prefix_tokens:
            timm_blocks = [torch.cat([prefix, spatial], dim=1) for spatial, prefix in timm_blocks]
        rows: dict = {k: [] for k in ("z_in", "ln1", "q", "scores", "attn", "head_context", "attn_out", "z_mid", "ln2",
                                      "mlp_hidden", "z_out")}
        full = []
        for i, b in enumerate(model.blocks):
            a = b.attn
            heads = a.num_heads
            h1 = ln(z, b.norm1)
            qkv = h1 @ a.qkv.weight.T + (a.qkv.bias if a.qkv.bias is not None else 0)
            n, dim = z.shape[1], z.shape[2]
            q, k, v = qkv.reshape(1, n, 3, heads, dim // heads).permute(2, 0, 3, 1, 4)
            q, k = maybe_ln(q, a.q_norm), maybe_ln(k, a.k_norm)
            scores = (q @ k.transpose(-1, -2)) / (dim // heads) ** 0.5                 # (1, H, T, T)
            probs = torch.exp(scores - scores.amax(-1, keepdim=True))
            probs = probs / probs.sum(-1, keepdim=True)
            ctx = (probs @ v).transpose(1, 2).reshape(1, n, dim)
            attn_out = ctx @ a.proj.weight.T + a.proj.bias
            mid = z + gain(b.ls1) * attn_out
            h2 = ln(mid, b.norm2)
            hidden = F.gelu(h2 @ b.mlp.fc1.weight.T + b.mlp.fc1.bias)
            new = mid + gain(b.ls2) * (hidden @ b.mlp.fc2.weight.T + b.mlp.fc2.bias)
            close(new[0], timm_blocks[i][0], f"reference block {i} vs timm forward_intermediates")
            for name, value in (("z_in", z[0, t]), ("ln1", h1[0, t]), ("q", q[0, :, t]), ("scores", scores[0, :, t]),
                                ("attn", probs[0, :, t]), ("head_context", ctx[0, t]), ("attn_out", attn_out[0, t]),
                                ("z_mid", mid[0, t]), ("ln2", h2[0, t]), ("mlp_hidden", hidden[0, t]),
                                ("z_out", timm_blocks[i][0, t])):
                rows[name].append(value)
            full.append(timm_blocks[i])
            z = timm_blocks[i]
        out.update({k: torch.stack(v) for k, v in rows.items()})
        out["final"] = model.forward_features(x)[0, 0]   # the class token after the final norm
        out["logits"] = model(x)[0]
        out["block_outputs"] = torch.cat(full)
    return out


def lens_reference(model, block_outputs):
    """Final norm and head on every layer's class token (distilled: mean of the class and distillation heads)."""
    with torch.no_grad():
        normed = ln(block_outputs, model.norm)
        logits = model.head(normed[:, 0])
        if hasattr(model, "head_dist"):
            logits = (logits + model.head_dist(normed[:, 1])) / 2
        return logits.softmax(-1)


def check_against_reference(model, x, tr, ref) -> None:
    for name in ("z0", "z_in", "ln1", "q", "scores", "attn", "head_context", "attn_out", "z_mid", "ln2", "mlp_hidden",
                 "z_out", "final"):
        close(getattr(tr, name), ref[name].numpy(), name)
    # x_p: the normalised pixels under the patch, flattened as the conv weight (C, P, P); x_p E + b.
    (ph, pw), (r, c) = tr.layout.patch_size, tr.patch
    close(tr.patch_values, x[0, :, r * ph:(r + 1) * ph, c * pw:(c + 1) * pw].reshape(-1).numpy(), "patch_values")
    e, bias = projection_weights(model)
    close(tr.embedding, tr.patch_values.astype(np.float64) @ e + bias, "embedding = x_p E + b")
    close(tr.embedding + tr.position, tr.z0, "z0 = x_p E + E_pos (no norm_pre in these models)")
    np.testing.assert_allclose(tr.attn.sum(-1), 1.0, atol=1e-5)


MODELS = {
    "vit_tiny_16": lambda: make_vit("vit_tiny_patch16_224", depth=2),
    "vit_tiny_16_qknorm_layerscale": lambda: make_vit("vit_tiny_patch16_224", depth=2, qk_norm=True, init_values=1e-5),
    "deit_tiny_distilled": lambda: make_vit("deit_tiny_distilled_patch16_224", depth=2),
    "vit_small_14_reg4_dinov2": lambda: make_vit("vit_small_patch14_reg4_dinov2", depth=2),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def random_model(request):
    model = MODELS[request.param]()
    randomise_layer_scale_and_qk_norm(model)
    return request.param, model


@pytest.mark.parametrize("fused_attn", [True, False])
def test_every_array_equals_timm_and_a_plain_block(random_model, fused_attn):
    name, model = random_model
    torch.manual_seed(2)
    x = torch.randn(1, 3, 224, 224)
    with fused(model, fused_attn):
        tr = trace_patch(model, x, PATCH)
        ref = reference(model, x, tr.token_index)
    gw = tr.layout.grid[1]
    assert tr.token_index == model.num_prefix_tokens + PATCH[0] * gw + PATCH[1]
    check_against_reference(model, x, tr, ref)
    if model.num_classes:
        probs = lens_reference(model, ref["block_outputs"])
        top = probs.topk(5, dim=-1)
        np.testing.assert_array_equal(tr.logit_lens_classes, top.indices.numpy())
        close(tr.logit_lens_probs, top.values.numpy(), "logit lens")
        np.testing.assert_array_equal(tr.logit_lens_classes[-1], ref["logits"].topk(5).indices.numpy())
        assert tr.cls_cosine_to_last is None
    else:
        feats = ln(ref["block_outputs"], model.norm)[:, 0].double()
        cos = (feats @ feats[-1]) / feats.norm(dim=-1) / feats[-1].norm()
        close(tr.cls_cosine_to_last, cos.numpy(), "cls cosine")
        assert tr.logit_lens_classes is None


def test_hooks_and_flags_are_left_as_they_were(random_model):
    _name, model = random_model
    flags = [b.attn.fused_attn for b in model.blocks]
    count = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
    with pytest.raises(VitvizError):
        trace_patch(model, torch.zeros(1, 3, 224, 224), (99, 0))
    with pytest.raises(RuntimeError):   # fails inside the forward, with every hook registered
        trace_patch(model, torch.zeros(1, 4, 224, 224), (0, 0))
    assert sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules()) == count
    trace_patch(model, torch.zeros(1, 3, 224, 224), (0, 0))
    assert [b.attn.fused_attn for b in model.blocks] == flags
    assert sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules()) == count


def test_a_layer_range_keeps_those_rows():
    model = make_vit("vit_tiny_patch16_224", depth=4)
    x = torch.randn(1, 3, 224, 224)
    whole, part = trace_patch(model, x, (1, 2)), trace_patch(model, x, (1, 2), layers=[1, 2])
    assert part.layers.tolist() == [1, 2]
    for name in ("z_in", "q", "attn", "mlp_hidden", "z_out", "logit_lens_probs"):
        np.testing.assert_array_equal(getattr(part, name), getattr(whole, name)[1:3])
    np.testing.assert_array_equal(part.final, whole.final)


def test_a_model_without_class_token_traces_pooled_features():
    """A global-average-pool model (registers, no class token): patch tokens start after the registers and the
    logit lens of the last layer is the model's own prediction."""
    model = make_vit("vit_base_patch16_reg4_gap_256", depth=1)
    x = torch.randn(1, 3, 224, 224)
    tr = trace_patch(model, x, (0, 1))
    assert tr.layout.prefix_names == ("reg0", "reg1", "reg2", "reg3") and tr.token_index == 5
    with torch.no_grad():
        close(tr.final, model.forward_head(model.forward_features(x), pre_logits=True)[0].numpy())
        np.testing.assert_array_equal(tr.logit_lens_classes[-1], model(x)[0].topk(5).indices.numpy())


def test_block_weights_reproduce_the_layer_norm_and_layer_scale():
    model = make_vit("vit_small_patch14_reg4_dinov2", depth=1)
    randomise_layer_scale_and_qk_norm(model)
    tr = trace_patch(model, torch.randn(1, 3, 56, 56), (1, 1))
    w = block_weights(model, 0)
    z = tr.z_in[0].astype(np.float64)
    normed = (z - z.mean()) / np.sqrt(z.var() + w.norm1_eps) * w.norm1_weight + w.norm1_bias
    close(tr.ln1[0], normed)
    close(tr.z_mid[0], tr.z_in[0] + w.ls1 * tr.attn_out[0])
    close(tr.mlp_hidden[0], F.gelu(torch.from_numpy(w.fc1_weight @ tr.ln2[0] + w.fc1_bias)).numpy())
    assert w.fc1_weight.shape == (4 * 384, 384)


def test_unsupported_models_and_bad_patches_say_so():
    with pytest.raises(VitvizError, match="outside the 14 × 14 patch grid"):
        check_patch(trace_patch(make_vit(depth=1), torch.zeros(1, 3, 224, 224), (0, 0)).layout, (0, 14))
    hybrid = make_vit("vit_small_r26_s32_224", depth=1)
    with pytest.raises(UnsupportedModelError):
        trace_patch(hybrid, torch.zeros(1, 3, 224, 224), (0, 0))


@pytest.mark.parametrize("text, expected", [("3,5", (3, 5)), (" 0 , 12 ", (0, 12))])
def test_parse_patch(text, expected):
    assert parse_patch(text) == expected


@pytest.mark.parametrize("text", ["3", "3,5,1", "a,b", "-1,2", "", "3;5"])
def test_parse_patch_refuses(text):
    with pytest.raises(VitvizError, match="--patch"):
        parse_patch(text)


def test_parse_layer_range():
    assert parse_layer_range(None, 3) == [0, 1, 2] == parse_layer_range("all", 3)
    assert parse_layer_range("1-2", 12) == [1, 2] and parse_layer_range("4", 12) == [4]
    for bad in ("2-1", "0-12", "x", "1-2-3"):
        with pytest.raises(VitvizError, match="--layer-range"):
            parse_layer_range(bad, 12)


# --------------------------------------------------------------------------- the real DINOv2 ViT-S/14


@pytest.fixture(scope="module")
def dinov2(weights_dir):
    from vitviz.loading.models import load_model

    return load_model("vit_small_patch14_dinov2.imgfocus", weights_dir=weights_dir, device="cpu")


@pytest.mark.parametrize("size", [(224, 224), (224, 280)])
@pytest.mark.parametrize("fused_attn", [True, False])
def test_real_dinov2_equals_timm(dinov2, size, fused_attn):
    from vitviz.inputs.images import load_image
    from vitviz.inputs.preprocess import prepare_image

    model = dinov2.model
    x = prepare_image(load_image(SAMPLES / "cat.jpg"), dinov2.data_config, size).tensor
    patch = (7, 15) if size[1] == 280 else (7, 9)   # the 224 × 280 grid is 16 × 20: column 15 exists only there
    with fused(model, fused_attn):
        tr = trace_patch(model, x, patch)
        ref = reference(model, x, tr.token_index)
    assert tr.layout.grid == (size[0] // 14, size[1] // 14) and tr.q.shape == (12, 6, 64)
    assert tr.token_index == 1 + patch[0] * (size[1] // 14) + patch[1]
    check_against_reference(model, x, tr, ref)
    feats = ln(ref["block_outputs"], model.norm)[:, 0].double()
    close(tr.cls_cosine_to_last, ((feats @ feats[-1]) / feats.norm(dim=-1) / feats[-1].norm()).numpy())
    assert tr.cls_cosine_to_last[-1] == pytest.approx(1.0, abs=1e-6)
    w = block_weights(model, 0)
    assert w.ls1 is not None and np.abs(w.ls1).max() > 1e-3   # DINOv2's trained LayerScale is in the residual


# --------------------------------------------------------------------------- the steps' numbers (pure)


def test_step_numbers_by_hand():
    from vitviz.analysis.trace_steps import (attention_over_patches, depth_profile, firing_units, layer_norm_parts,
                                             projection_terms, top_entries)

    idx, val = top_entries(np.array([0.5, -3.0, 2.0, 3.0]), 3)
    assert idx.tolist() == [1, 3, 2] and val.tolist() == [-3.0, 3.0, 2.0]   # |−3| = |3|: lower index first
    parts = layer_norm_parts(np.array([1.0, 2.0, 3.0, 6.0]), np.ones(4), np.zeros(4), 0.0)
    assert parts.mean == 3.0 and parts.var == 3.5
    np.testing.assert_allclose(parts.output, [-1.069045, -0.534522, 0.0, 1.603567], atol=1e-6)
    parts = layer_norm_parts(np.array([1.0, 2.0, 3.0, 6.0]), np.full(4, 2.0), np.full(4, 0.5), 0.0)
    np.testing.assert_allclose(parts.output, [-1.638090, -0.569045, 0.5, 3.707134], atol=1e-6)
    # x = (1, 2, -1), E[:, 0] = (3, -1, 4): terms 3, -2, -4; + b 0.5 = -2.5
    terms = projection_terms(np.array([1.0, 2.0, -1.0]), np.array([[3.0, 0], [-1.0, 0], [4.0, 0]]), np.array([0.5, 0]),
                             0, k=2)
    assert terms.indices.tolist() == [2, 0] and terms.products.tolist() == [-4.0, 3.0]
    assert terms.rest == -2.0 and terms.total == -2.5 and terms.bias == 0.5
    prof = depth_profile(np.array([[3.0, 4.0], [1.0, 0.0]]), np.array([[6.0, 8.0], [0.0, 2.0]]))
    assert prof.norm_in.tolist() == [5.0, 1.0] and prof.norm_out.tolist() == [10.0, 2.0]
    assert prof.cosine.tolist() == [1.0, 0.0]
    assert firing_units(np.array([[0.1, -0.2, 0.0], [1.0, 2.0, 3.0]])).tolist() == [1, 3]
    prefix, grid = attention_over_patches(np.arange(7.0), 1, (2, 3))
    assert prefix.tolist() == [0.0] and grid.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_fig1_outlines_the_highlighted_boxes_only():
    from vitviz.figures import paper, paper_fig1
    from vitviz.analysis import model_facts

    model = make_vit(depth=1)
    layout = trace_patch(model, torch.zeros(1, 3, 224, 224), (0, 0)).layout
    plain = paper.fig1_architecture(model_facts(model, layout), layout)
    fig = paper.fig1_architecture(model_facts(model, layout), layout, highlight=["norm2", "mlp"])
    outlines = [s for s in fig.layout.shapes if s.line.color == paper_fig1.HIGHLIGHT]
    assert len(fig.layout.shapes) == len(plain.layout.shapes) + 2 and len(outlines) == 2
    assert [(o.x0, o.y0, o.x1, o.y1) for o in outlines] == [paper_fig1.FIG1_BOXES["norm2"], paper_fig1.FIG1_BOXES["mlp"]]
    assert fig.layout.meta["highlight"] == ["norm2", "mlp"] and plain.layout.meta["highlight"] == []
    # Each outline encloses the box it names: the block's MLP box spans y 51-60 (sublayer at 43), x 120-152.
    x0, y0, x1, y1 = paper_fig1.FIG1_BOXES["mlp"]
    assert x0 < 120 and x1 > 152 and y0 < 51 and y1 > 60
