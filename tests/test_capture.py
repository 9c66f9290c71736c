"""Attention capture: faithful to the forward, complete, and leaves the model as it was."""
import pytest
import torch

from conftest import make_vit
from vitviz.run.capture import attention_hooks, attention_probs, capture, resolve_method
from vitviz.errors import UnsupportedModelError


def plain_forward(model, x):
    with torch.inference_mode():
        return model(x)


def hook_count(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.fixture(scope="module")
def x():
    torch.manual_seed(1)
    return torch.randn(2, 3, 224, 224)


def test_capture_keeps_fused_attention_and_logits_unchanged(tiny_vit, x):
    assert all(b.attn.fused_attn for b in tiny_vit.blocks), "timm should run fused SDPA here"
    ref = plain_forward(tiny_vit, x)
    result = capture(tiny_vit, x)
    # The capture forward computes attention explicitly (once) instead of through fused SDPA:
    # equal to float rounding, not bit-identical.
    torch.testing.assert_close(result.output, ref, rtol=1e-5, atol=1e-5)
    assert result.attention.dtype == torch.float32
    assert result.attention.shape == (4, 2, 3, 197, 197)
    torch.testing.assert_close(result.attention.sum(-1), torch.ones(4, 2, 3, 197), atol=1e-5, rtol=0)
    assert (result.attention >= 0).all()


def test_qkv_method_equals_unfused_reference(tiny_vit, x):
    fast = capture(tiny_vit, x, method="qkv")
    slow = capture(tiny_vit, x, method="unfused")
    torch.testing.assert_close(fast.attention, slow.attention, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(slow.output, fast.output, atol=1e-4, rtol=1e-4)
    assert all(b.attn.fused_attn for b in tiny_vit.blocks), "unfused capture must restore fused_attn"


def test_qkv_method_applies_qk_norm():
    model = make_vit(depth=2, qk_norm=True)
    with torch.no_grad():  # make the norms matter: non-trivial affine parameters
        for b in model.blocks:
            b.attn.q_norm.weight.uniform_(0.5, 2.0)
            b.attn.k_norm.bias.uniform_(-1.0, 1.0)
    x = torch.randn(1, 3, 224, 224)
    torch.testing.assert_close(capture(model, x, method="qkv").attention,
                               capture(model, x, method="unfused").attention, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("method", ["qkv", "unfused"])
def test_a_given_buffer_receives_every_layers_probabilities(tiny_vit, x, method):
    """`probs_out`: each layer's probabilities land in its slice, and the callback is handed that slice."""
    layers, tokens = len(tiny_vit.blocks), 197
    buffer = torch.full((layers, 2, 3, tokens, tokens), float("nan"))
    seen = []
    with torch.inference_mode(), attention_hooks(tiny_vit, lambda layer, probs: seen.append((layer, probs.data_ptr())),
                                                 method, probs_out=buffer):
        tiny_vit(x)
    assert seen == [(layer, buffer[layer].data_ptr()) for layer in range(layers)]
    torch.testing.assert_close(buffer, capture(tiny_vit, x, method="unfused").attention, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal"])
def test_probabilities_weight_the_values_as_sdpa_does_under_every_mask_kind(tiny_vit, mask):
    """The in-place path (scale folded into the product, softmax over its own scores) keeps SDPA's
    mask conventions: boolean True = attend, float added to the scores, causal = no later keys."""
    attn = tiny_vit.blocks[0].attn
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(2, 3, 9, 64, generator=g) for _ in range(3))
    kwargs = {"none": {}, "causal": {"is_causal": True},
              "bool": {"attn_mask": torch.rand(2, 1, 9, 9, generator=g) > 0.3},
              "float": {"attn_mask": torch.randn(9, 9, generator=g)}}[mask]
    if mask == "bool":
        kwargs["attn_mask"][..., 0] = True  # every query keeps a key: no all -inf row
    probs = attention_probs(attn, q, k, **kwargs)
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=attn.scale, **kwargs)
    torch.testing.assert_close(probs @ v, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(probs.sum(-1), torch.ones(2, 3, 9), rtol=0, atol=1e-6)
    if mask == "causal":
        assert (probs.triu(1) == 0).all()


def test_probabilities_are_differentiable_for_gradient_explanations(tiny_vit):
    attn = tiny_vit.blocks[0].attn
    g = torch.Generator().manual_seed(4)
    q, k = (torch.randn(1, 3, 9, 64, generator=g, requires_grad=True) for _ in range(2))
    weights = torch.randn(1, 3, 9, 9, generator=g)
    (attention_probs(attn, q, k) * weights).sum().backward()
    got = q.grad.clone(), k.grad.clone()
    q.grad = k.grad = None
    (((q * attn.scale) @ k.transpose(-2, -1)).softmax(-1) * weights).sum().backward()
    torch.testing.assert_close(got, (q.grad, k.grad))


def test_a_buffer_of_the_wrong_token_count_is_refused(tiny_vit, x):
    with pytest.raises(UnsupportedModelError, match="does not fit"):
        with torch.inference_mode(), attention_hooks(tiny_vit, lambda *_: None, "qkv",
                                                     probs_out=torch.empty(len(tiny_vit.blocks), 2, 3, 50, 50)):
            tiny_vit(x)
    assert all("forward" not in b.attn.__dict__ for b in tiny_vit.blocks)


def test_block_output_callbacks_cannot_replace_the_output(tiny_vit, x):
    """A callback that returns something (e.g. ``list.append``'s None, or a tensor from ``copy_``) is only told."""
    from vitviz.run.capture import block_output_hooks

    ref = plain_forward(tiny_vit, x)
    with block_output_hooks(tiny_vit, lambda _layer, out: torch.zeros_like(out)):
        torch.testing.assert_close(plain_forward(tiny_vit, x), ref)


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("method", ["qkv", "unfused"])
def test_hooks_removed_and_flags_restored_after_exception(tiny_vit, x, method):
    before = hook_count(tiny_vit)

    def explode(layer, probs):
        if layer == 2:
            raise Boom("stop in block 2")

    with pytest.raises(Boom):
        capture(tiny_vit, x, on_attention=explode, keep_tokens=True, method=method)
    assert hook_count(tiny_vit) == before
    assert all(b.attn.fused_attn for b in tiny_vit.blocks)
    with pytest.raises(Boom):
        with attention_hooks(tiny_vit, lambda *_: None, method):
            raise Boom("raised inside the context")
    assert hook_count(tiny_vit) == before
    # The qkv method swaps each attention module's forward for the call; none may stay behind.
    assert all("forward" not in b.attn.__dict__ for b in tiny_vit.blocks)


def test_qkv_capture_computes_each_attention_once(tiny_vit, x):
    """The probabilities handed out are the ones the values use: one q·kᵀ per block, no fused SDPA."""
    import torch.nn.functional as F

    calls = []
    original = F.scaled_dot_product_attention

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    F.scaled_dot_product_attention = counting
    try:
        capture(tiny_vit, x, method="qkv")
        assert calls == []  # the fused kernel (a second attention computation) is not run
        plain_forward(tiny_vit, x)
        assert len(calls) == len(tiny_vit.blocks)  # ...but a plain forward still uses it
    finally:
        F.scaled_dot_product_attention = original


def test_non_square_input_gives_non_square_grid(tiny_vit):
    x = torch.randn(1, 3, 160, 320)
    result = capture(tiny_vit, x)
    assert result.layout.grid == (10, 20)
    assert result.attention.shape[-1] == 1 + 10 * 20
    torch.testing.assert_close(result.output, plain_forward(tiny_vit, x), rtol=1e-5, atol=1e-5)


def test_block_tokens_are_block_outputs(tiny_vit, x):
    result = capture(tiny_vit, x, keep_tokens=True)
    assert result.tokens.shape == (4, 2, 197, 192)
    with torch.inference_mode():
        feats = tiny_vit.forward_features(x)  # last block output, then final norm
    torch.testing.assert_close(tiny_vit.norm(result.tokens[-1]), feats)


def test_streaming_callback_without_keeping_attention(tiny_vit, x):
    seen = []
    result = capture(tiny_vit, x, keep_attention=False, on_attention=lambda layer, a: seen.append((layer, a.shape)))
    assert result.attention is None
    assert seen == [(i, (2, 3, 197, 197)) for i in range(4)]


@pytest.mark.parametrize("name, kwargs, prefix", [
    ("deit_tiny_distilled_patch16_224", {"depth": 2}, ("cls", "dist")),
    ("vit_small_patch14_reg4_dinov2", {"depth": 2, "img_size": 224}, ("cls", "reg0", "reg1", "reg2", "reg3")),
    ("vit_medium_patch16_reg4_gap_256", {"depth": 2}, ("reg0", "reg1", "reg2", "reg3")),
    ("vit_tiny_patch16_224", {"depth": 2, "class_token": False, "global_pool": "avg"}, ()),
])
def test_prefix_tokens_of_distilled_register_and_global_pool_models(name, kwargs, prefix):
    model = make_vit(name, **kwargs)
    size = 224
    x = torch.randn(1, 3, size, size)
    result = capture(model, x)
    patch = model.patch_embed.patch_size[0]
    assert result.layout.prefix_names == prefix
    assert result.layout.num_prefix_tokens == model.num_prefix_tokens
    assert result.layout.grid == (size // patch, size // patch)
    assert result.attention.shape[-1] == len(prefix) + (size // patch) ** 2
    torch.testing.assert_close(result.output, plain_forward(model, x), rtol=1e-5, atol=1e-5)
    assert resolve_method(model) == "qkv"


def test_model_parts_reads_a_vits_blocks_and_heads_and_refuses_what_is_no_module(tiny_vit):
    from vitviz.model_parts import attention_heads, submodule, transformer_blocks

    assert transformer_blocks(tiny_vit) == list(tiny_vit.blocks) and len(transformer_blocks(tiny_vit)) == 4
    assert attention_heads(tiny_vit) == tiny_vit.blocks[0].attn.num_heads == 3
    assert submodule(tiny_vit, "patch_embed") is tiny_vit.patch_embed
    with pytest.raises(UnsupportedModelError, match="cls_token is a Parameter, not a module"):
        submodule(tiny_vit, "cls_token")
    with pytest.raises(AttributeError):  # as tiny_vit.stages
        submodule(tiny_vit, "stages")
    resnet = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3))
    with pytest.raises(AttributeError):
        transformer_blocks(resnet)
