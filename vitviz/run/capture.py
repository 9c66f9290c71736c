"""One forward pass → logits, every block's attention probabilities, optionally block outputs.

timm runs attention through fused ``scaled_dot_product_attention``, which never materialises
the probabilities, so hooks on ``attn_drop`` see nothing (jacobgil/vit-explain #23). vitviz's
default ``"qkv"`` method instead replaces, for the duration of the call, the ``forward`` of each
block's timm ``Attention`` with one that computes every attention matrix exactly once:

    probs = softmax(q_norm(q) · k_norm(k)ᵀ · scale)      (float32, rows sum to 1)
    out   = proj(norm(probs · v))                          (cast back to the model's dtype)

— timm's own unfused expression, with the same ``q_norm``/``k_norm``, mask, gate and output norm —
and hands ``probs`` to the callback before using the very same tensor for the values. So the
probabilities shown are the ones the forward used, and the logits equal a plain ``model(x)``'s to
float rounding (fused SDPA and the explicit product sum in a different order: on random ViT-Ti/S/B
the largest difference is ~1e-6 of the logit scale in float32). For attention modules of another
shape, the ``"unfused"`` method switches ``fused_attn`` off for the call and hooks ``attn_drop``.

Every replaced ``forward``, every hook and every ``fused_attn`` flag is restored, even when the
forward or a callback raises. Probabilities are float32 whatever the model's dtype (for a float16
or bfloat16 model the values are computed in float32 and cast back).

**Layer features** (:func:`layer_patch_tokens`, :func:`patch_features`). Layer ℓ (0-based, as the
attention layers) is the output of block ℓ, passed through the model's final norm (timm's
``model.norm``, the LayerNorm before pooling) and with prefix tokens (class, distillation,
registers) dropped: the patch features DINOv2 visualises at the last layer (``x_norm_patchtokens``)
and feeds from intermediate layers (``get_intermediate_layers(norm=True)``); the norm puts every
layer on one scale. Models that normalise after pooling instead (``fc_norm``, e.g. with
``global_pool="avg"``) have an identity ``norm``, so their features are the raw block outputs.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Literal, Optional

import torch
from torch import nn

from vitviz.errors import UnsupportedModelError
from vitviz.inputs.preprocess import TokenLayout, token_layout
from vitviz.model_parts import num_classes, submodule, transformer_blocks

AttentionCallback = Callable[[int, torch.Tensor], None]
Method = Literal["auto", "qkv", "unfused"]


@dataclass
class CaptureResult:
    """What one captured forward pass returns.

    Attributes:
        output: ``model(x)``: logits ``(B, classes)``, or pooled features for a headless model.
        attention: ``(layers, B, heads, tokens, tokens)`` float32 probabilities, rows sum to 1;
            None when not kept. Token order is described by ``layout``.
        tokens: ``(layers, B, tokens, D)`` output of every block, when asked for.
        layout: grid, patch size and prefix tokens of this input.
        has_head: whether ``output`` are class logits.
    """

    output: torch.Tensor
    attention: Optional[torch.Tensor]
    tokens: Optional[torch.Tensor]
    layout: TokenLayout
    has_head: bool

    @property
    def logits(self) -> Optional[torch.Tensor]:
        return self.output if self.has_head else None


def attention_modules(model: nn.Module) -> list[nn.Module]:
    """The ``attn`` module of every transformer block, in depth order."""
    blocks = getattr(model, "blocks", None)
    if blocks is None or not all(hasattr(b, "attn") for b in blocks):
        raise UnsupportedModelError(f"{type(model).__name__} has no transformer blocks with attention")
    return [b.attn for b in blocks]


def _supports_qkv(attn: nn.Module) -> bool:
    return (isinstance(getattr(attn, "qkv", None), nn.Linear) and hasattr(attn, "num_heads")
            and all(hasattr(attn, name) for name in ("scale", "q_norm", "k_norm", "attn_drop", "proj", "proj_drop"))
            and type(attn).__name__ == "Attention")


def _supports_unfused(attn: nn.Module) -> bool:
    return hasattr(attn, "fused_attn") and isinstance(getattr(attn, "attn_drop", None), nn.Module)


def resolve_method(model: nn.Module, method: Method = "auto") -> Literal["qkv", "unfused"]:
    """Pick the capture method every block supports (``"qkv"`` preferred)."""
    mods = attention_modules(model)
    if method in ("auto", "qkv") and all(_supports_qkv(a) for a in mods):
        return "qkv"
    if method in ("auto", "unfused") and all(_supports_unfused(a) for a in mods):
        return "unfused"
    raise UnsupportedModelError(f"cannot capture attention of {type(model).__name__} with method '{method}'")


def _split_qkv(attn: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(B, heads, N, head_dim)`` q, k, v of a timm ``Attention`` for input ``x``, after q/k norms."""
    batch, n, _ = x.shape
    heads = getattr(attn, "num_heads")
    qkv = submodule(attn, "qkv")(x)
    q, k, v = qkv.reshape(batch, n, 3, heads, qkv.shape[-1] // (3 * heads)).permute(2, 0, 3, 1, 4).unbind(0)
    return submodule(attn, "q_norm")(q), submodule(attn, "k_norm")(k), v


def attention_probs(attn: nn.Module, q: torch.Tensor, k: torch.Tensor, attn_mask: Optional[torch.Tensor] = None,
                    is_causal: bool = False, *, out: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``softmax(q · kᵀ · scale [+ mask])`` in float32: ``(B, heads, N, N)``, rows sum to 1.

    ``q`` and ``k`` are ``(B, heads, N, head_dim)`` after the module's ``q_norm``/``k_norm``;
    the mask follows SDPA's convention (boolean: True = attend; float: added to the scores).
    With ``out`` (float32, that shape) the probabilities are written there and ``out`` is returned.
    """
    batch, heads, n, dim = q.shape
    keys = k.shape[-2]
    if out is not None and (out.shape != (batch, heads, n, keys) or out.dtype != torch.float32):
        raise UnsupportedModelError(f"attention of shape {(batch, heads, n, keys)} does not fit the capture's "
                                    f"{tuple(out.shape)} {out.dtype} buffer: the token layout does not match the model")
    # The scale is folded into the product (no scaled copy of q; beta=0 ignores the zero "input"). The
    # softmax writes to ``out``, never over its own scores: an aliased out= is not a documented contract
    # on every device, and gradient-based explanations need these ops differentiable.
    scores = torch.baddbmm(q.new_zeros((), dtype=torch.float32).expand(batch * heads, n, keys),
                           q.float().reshape(batch * heads, n, dim), k.float().reshape(batch * heads, keys, dim).mT,
                           beta=0, alpha=getattr(attn, "scale")).view(batch, heads, n, keys)
    if is_causal:
        scores.masked_fill_(torch.ones(n, keys, dtype=torch.bool, device=scores.device).triu_(1), float("-inf"))
    elif attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores.masked_fill_(~attn_mask, float("-inf"))
        else:
            scores.add_(attn_mask.float())
    return scores.softmax(dim=-1) if out is None else torch.softmax(scores, dim=-1, out=out)


def _probs_forward(attn: nn.Module, report: Callable[[torch.Tensor], None],
                   probs_out: Optional[torch.Tensor] = None) -> Callable[..., torch.Tensor]:
    """A replacement ``attn.forward``: timm's unfused attention with the probabilities computed once.

    Mirrors ``timm.layers.Attention.forward`` (gate, output norm, projection); ``report(probs)``
    sees the float32 probabilities before they weight the values; they are written into
    ``probs_out`` when given (see :func:`attention_probs`).
    """
    gate_layer = getattr(attn, "gate", None)
    out_norm = getattr(attn, "norm", None)

    def forward(x: torch.Tensor, attn_mask: Optional[torch.Tensor] = None, is_causal: bool = False) -> torch.Tensor:
        batch, n, _ = x.shape
        gate = gate_layer(x).sigmoid() if gate_layer is not None else None
        q, k, v = _split_qkv(attn, x)
        probs = attention_probs(attn, q, k, attn_mask, is_causal, out=probs_out)
        report(probs)
        out = submodule(attn, "attn_drop")(probs) @ v.float()
        out = out.to(v.dtype).transpose(1, 2).reshape(batch, n, -1)
        if out_norm is not None:
            out = out_norm(out)
        if gate is not None:
            out = out * gate
        return submodule(attn, "proj_drop")(submodule(attn, "proj")(out))

    return forward


@contextmanager
def attention_hooks(model: nn.Module, callback: AttentionCallback, method: Method = "auto", *,
                    probs_out: Optional[torch.Tensor] = None) -> Iterator[str]:
    """Call ``callback(layer, probs)`` with ``(B, heads, N, N)`` float32 probabilities during forwards.

    Yields the method in use. With ``"qkv"`` each attention module's ``forward`` is replaced (an
    instance attribute) by one that computes the probabilities once and uses them for the values;
    with ``"unfused"`` ``fused_attn`` is switched off and ``attn_drop`` hooked. Forwards, hooks and
    flags are restored on exit, also on error. ``probs_out``, a float32 ``(layers, B, heads, N, N)``
    tensor, receives every layer's probabilities of one forward (``"qkv"``: the softmax writes there,
    nothing else is allocated for them; ``"unfused"``: copied), and ``probs`` is then its layer.
    """
    chosen = resolve_method(model, method)
    mods = attention_modules(model)
    handles: list[torch.utils.hooks.RemovableHandle] = []
    saved_flags = [getattr(a, "fused_attn", None) for a in mods]
    saved_forwards = [a.__dict__.get("forward") for a in mods]
    try:
        for layer, attn in enumerate(mods):
            if chosen == "qkv":
                attn.forward = _probs_forward(attn, functools.partial(callback, layer),
                                              None if probs_out is None else probs_out[layer])
            else:
                # torch types Module.__setattr__'s value as Tensor | Module; a plain attribute is set as well.
                attn.fused_attn = False  # type: ignore[assignment]

                def on_drop(_m, _inp, out, layer=layer):
                    callback(layer, out.float() if probs_out is None else probs_out[layer].copy_(out))
                handles.append(submodule(attn, "attn_drop").register_forward_hook(on_drop))
        yield chosen
    finally:
        for handle in handles:
            handle.remove()
        for attn, flag, forward in zip(mods, saved_flags, saved_forwards):
            if flag is not None:
                attn.fused_attn = flag
            if forward is None:
                attn.__dict__.pop("forward", None)
            else:
                attn.forward = forward


ModuleHook = Callable[[nn.Module, tuple, Any], None]  # the output is Any, as torch types a forward hook's


@contextmanager
def forward_hooks(hooks: Iterable[tuple[nn.Module, ModuleHook]]) -> Iterator[None]:
    """Register ``hook(module, inputs, output)`` as a forward hook on each ``(module, hook)`` pair for the
    duration of the block; every hook is removed on exit, also on error or when registering fails part-way.

    Whatever a hook returns is dropped (a forward hook's return value would replace the module's output).
    """
    def observe(module: nn.Module, inputs: tuple, out: object, hook: ModuleHook) -> None:
        hook(module, inputs, out)

    handles: list[torch.utils.hooks.RemovableHandle] = []
    try:
        for module, hook in hooks:
            handles.append(module.register_forward_hook(functools.partial(observe, hook=hook)))
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def block_output_hooks(model: nn.Module, callback: AttentionCallback) -> Iterator[None]:
    """Call ``callback(layer, tokens)`` with every block's ``(B, N, D)`` output; hooks always removed.

    Whatever ``callback`` returns is dropped (a forward hook's return value would replace the output).
    """
    def report(layer: int, _module: nn.Module, _inputs: tuple, out: torch.Tensor) -> None:
        callback(layer, out)

    with forward_hooks((blk, functools.partial(report, i)) for i, blk in enumerate(transformer_blocks(model))):
        yield


def final_norm(model: nn.Module) -> nn.Module:
    """The model's norm after the last block (timm's ``model.norm``), an identity when it has none."""
    norm = getattr(model, "norm", None)
    return norm if isinstance(norm, nn.Module) else nn.Identity()


def patch_features(model: nn.Module, block_output: torch.Tensor, layout: TokenLayout, *,
                   norm: bool = True) -> torch.Tensor:
    """``(B, T, D)`` block output → ``(B, gh, gw, D)`` float32 patch features (module docstring).

    The final norm is applied when ``norm``; prefix tokens are dropped; patches are row-major.
    """
    batch, tokens, dim = block_output.shape
    if tokens != layout.num_tokens:
        raise UnsupportedModelError(f"block output has {tokens} tokens, the layout expects {layout.num_tokens}")
    with torch.inference_mode():
        out = final_norm(model)(block_output) if norm else block_output
    return out[:, layout.num_prefix_tokens:].float().reshape(batch, *layout.grid, dim)


def layer_patch_tokens(model: nn.Module, x: torch.Tensor, *, norm: bool = True) -> tuple[torch.Tensor, TokenLayout]:
    """Every layer's patch features for input ``x`` ``(B, 3, H, W)`` in one forward pass.

    Returns ``(layers, B, gh, gw, D)`` float32 on the CPU — layer ℓ is block ℓ's output after the
    final norm (when ``norm``), prefix tokens dropped (module docstring) — and the token layout.
    Each block's features are reduced as it finishes, so the raw outputs are never all held.
    """
    layout = token_layout(model, (int(x.shape[-2]), int(x.shape[-1])))
    layers: list[torch.Tensor] = []
    with torch.inference_mode(), block_output_hooks(
            model, lambda _layer, out: layers.append(patch_features(model, out, layout, norm=norm).cpu())):
        model(x)
    return torch.stack(layers), layout


def _attention_buffer(model: nn.Module, x: torch.Tensor, layout: TokenLayout) -> torch.Tensor:
    """An empty float32 ``(layers, B, heads, T, T)`` tensor for one forward's attention probabilities."""
    mods = attention_modules(model)
    heads = {int(getattr(a, "num_heads", 0)) for a in mods}
    if len(heads) != 1 or 0 in heads:
        raise UnsupportedModelError(f"cannot capture attention of {type(model).__name__}: heads per block {heads}")
    t = layout.num_tokens
    return torch.empty((len(mods), int(x.shape[0]), heads.pop(), t, t), dtype=torch.float32, device=x.device)


def capture(
    model: nn.Module,
    x: torch.Tensor,
    *,
    keep_attention: bool = True,
    keep_tokens: bool = False,
    on_attention: Optional[AttentionCallback] = None,
    method: Method = "auto",
) -> CaptureResult:
    """Run ``model(x)`` once and collect attention (and block outputs) on the way.

    Args:
        model: a timm ViT in eval mode.
        x: ``(B, 3, H, W)`` input on the model's device and dtype.
        keep_attention: stack and return every block's probabilities.
        keep_tokens: also return every block's output tokens.
        on_attention: called per block with ``(layer, (B, heads, N, N))`` — for streaming
            reductions that must not hold all maps (see :class:`vitviz.analysis.distance.MeanDistanceAccumulator`).
        method: ``"auto"``, ``"qkv"`` or ``"unfused"`` (see module docstring).
    """
    layout = token_layout(model, (int(x.shape[-2]), int(x.shape[-1])))
    tokens: list[torch.Tensor] = []
    # Every layer's probabilities go straight into one tensor: keeping twelve maps and stacking them
    # afterwards more than doubled ViT-Ti/16's capture cost over a fused forward (fresh memory
    # written twice instead of once).
    attention = _attention_buffer(model, x, layout) if keep_attention else None
    on_attn = on_attention if on_attention is not None else (lambda _layer, _probs: None)

    with torch.inference_mode(), attention_hooks(model, on_attn, method, probs_out=attention):
        if keep_tokens:
            with block_output_hooks(model, lambda _layer, out: tokens.append(out)):
                output = model(x)
        else:
            output = model(x)
    return CaptureResult(
        output=output,
        attention=attention,
        tokens=torch.stack(tokens) if keep_tokens else None,
        layout=layout,
        has_head=num_classes(model) > 0,
    )
