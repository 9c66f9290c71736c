"""One forward pass → logits, every block's attention probabilities, optionally block outputs.

timm runs attention through fused ``scaled_dot_product_attention``, which never materialises
the probabilities, so hooks on ``attn_drop`` see nothing (jacobgil/vit-explain #23). vitviz
instead hooks each block's ``qkv`` projection and computes ``softmax(q kᵀ · scale)`` from its
output, after the block's own ``q_norm``/``k_norm`` — the same expression timm's unfused path
evaluates — while the fused kernel still produces the values. The forward is unchanged, so the
logits equal those of a plain ``model(x)``. For attention modules of another shape, the
``"unfused"`` method switches ``fused_attn`` off for the call and hooks ``attn_drop``.

Every hook is removed, and every ``fused_attn`` flag restored, even when the forward raises.
Probabilities are computed in float32 whatever the model's dtype.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Literal, Optional

import torch
from torch import nn

from .errors import UnsupportedModelError
from .preprocess import TokenLayout, token_layout

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
            and hasattr(attn, "scale") and hasattr(attn, "q_norm") and hasattr(attn, "k_norm")
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


def attention_from_qkv(attn: nn.Module, qkv: torch.Tensor) -> torch.Tensor:
    """``softmax(q_norm(q) · k_norm(k)ᵀ · scale)`` from a timm ``Attention``'s qkv output.

    Args:
        attn: the module (for heads, norms, scale).
        qkv: ``(B, N, 3·heads·head_dim)`` output of ``attn.qkv``.

    Returns:
        ``(B, heads, N, N)`` float32 probabilities.
    """
    batch, n, width = qkv.shape
    heads = attn.num_heads
    q, k, _ = qkv.reshape(batch, n, 3, heads, width // (3 * heads)).permute(2, 0, 3, 1, 4).unbind(0)
    q, k = attn.q_norm(q), attn.k_norm(k)
    scores = (q.float() * attn.scale) @ k.float().transpose(-2, -1)
    return scores.softmax(dim=-1)


@contextmanager
def attention_hooks(model: nn.Module, callback: AttentionCallback, method: Method = "auto") -> Iterator[str]:
    """Call ``callback(layer, probs)`` with ``(B, heads, N, N)`` probabilities during forwards.

    Yields the method in use. Hooks and ``fused_attn`` flags are restored on exit, also on error.
    """
    chosen = resolve_method(model, method)
    mods = attention_modules(model)
    handles: list[torch.utils.hooks.RemovableHandle] = []
    saved_flags = [getattr(a, "fused_attn", None) for a in mods]
    try:
        for layer, attn in enumerate(mods):
            if chosen == "qkv":
                def on_qkv(_m, _inp, out, layer=layer, attn=attn):
                    callback(layer, attention_from_qkv(attn, out))
                handles.append(attn.qkv.register_forward_hook(on_qkv))
            else:
                attn.fused_attn = False

                def on_drop(_m, _inp, out, layer=layer):
                    callback(layer, out.float())
                handles.append(attn.attn_drop.register_forward_hook(on_drop))
        yield chosen
    finally:
        for handle in handles:
            handle.remove()
        for attn, flag in zip(mods, saved_flags):
            if flag is not None:
                attn.fused_attn = flag


@contextmanager
def block_output_hooks(model: nn.Module, callback: AttentionCallback) -> Iterator[None]:
    """Call ``callback(layer, tokens)`` with every block's ``(B, N, D)`` output; hooks always removed."""
    handles = [blk.register_forward_hook(lambda _m, _i, out, layer=i: callback(layer, out))
               for i, blk in enumerate(model.blocks)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


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
    attention: list[torch.Tensor] = []
    tokens: list[torch.Tensor] = []

    def on_attn(layer: int, probs: torch.Tensor) -> None:
        if on_attention is not None:
            on_attention(layer, probs)
        if keep_attention:
            attention.append(probs)

    with torch.inference_mode(), attention_hooks(model, on_attn, method):
        if keep_tokens:
            with block_output_hooks(model, lambda _layer, out: tokens.append(out)):
                output = model(x)
        else:
            output = model(x)
    return CaptureResult(
        output=output,
        attention=torch.stack(attention) if keep_attention else None,
        tokens=torch.stack(tokens) if keep_tokens else None,
        layout=layout,
        has_head=int(getattr(model, "num_classes", 0) or 0) > 0,
    )
