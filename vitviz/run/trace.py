"""One patch followed through the encoder: the paper's Eq. (1)–(4) with the model's own numbers.

:func:`trace_patch` runs ``model(x)`` once (first image, inference mode) with forward hooks on timm's
own modules (:func:`vitviz.run.capture.forward_hooks`, always removed) and keeps, for one patch's token,
what every operation of the encoder produced. Nothing of the block is re-implemented: each value is
a module's input or output, except the attention row, which fused SDPA never materialises and which is
therefore computed from the ``qkv`` linear's output exactly as timm's unfused path does.

Conventions
-----------
* Token order: prefix tokens first (class, distillation, registers, in timm's order), then patches
  row-major, so patch ``(row, col)`` is token ``token_index = prefix + row · gw + col``. Worked value:
  DINOv2 ViT-S/14 at 224 px has a 16 × 16 grid and one prefix token; patch (3, 5) is token
  1 + 3·16 + 5 = 54; its ``patch_values`` hold 14·14·3 = 588 numbers; the score scale is 1/√64 = 0.125.
* Layers ``l`` are timm's ``blocks[l]``, 0-based; a layer range keeps those rows only (``layers``), the
  forward is always the whole model.

====================  =====================================================================================
array                 what it is (hook)
====================  =====================================================================================
patch_values (P²C,)   the window of ``patch_embed.proj``'s input under the patch — normalised pixels —
                      flattened in the conv weight's order (C, P, P): x_p
embedding (D,)        ``patch_embed.proj``'s output at (row, col): x_p E + b, with E = weight.reshape(D, -1)ᵀ
position (D,)         ``pos_drop``'s input minus ``embedding``: the position embedding the model added
                      (resampled to this grid when the input is not the native size)
prefix_z0 (p, D)      the prefix tokens' rows of z₀ (class token + its position embedding, …)
z0 (D,)               ``blocks[0].norm1``'s input for the token: z₀ (Eq. 1)
z_in (L, D)           ``blocks[l].norm1``'s input: the block's input z_{l−1}
ln1 (L, D)            ``blocks[l].norm1``'s output: LN(z_{l−1})
q (L, H, Dh)          the q part of ``attn.qkv``'s output, split as timm splits it (3, H, Dh), after ``q_norm``
scores (L, H, T)      q · k_j · ``attn.scale`` (= 1/√Dh) for every key j (k after ``k_norm``)
attn (L, H, T)        softmax over j of ``scores``: the token's attention row
head_context (L, D)   ``attn.proj``'s input: Σ_j attn_hj v_hj, heads concatenated (head-major)
attn_out (L, D)       ``attn.proj``'s output: MSA(LN(z)) for the token
z_mid (L, D)          ``norm2``'s input: z_{l−1} + ls1(attn_out) (Eq. 2; LayerScale where the model has it)
ln2 (L, D)            ``norm2``'s output
mlp_hidden (L, 4D)    ``mlp.act``'s output: the hidden units after GELU
z_out (L, D)          ``blocks[l]``'s output: z_l (Eq. 3)
final (D,)            ``model.head``'s input: what the head sees — for a class-token model the class token
                      after the final norm (Eq. 4)
logit_lens_* (L, 5)   with a head: ``model.forward_head(model.norm(z_l))`` for every layer (timm's pooling
                      and head; a distilled DeiT averages its class and distillation heads, as its forward
                      does): top-5 class indices and their softmax probabilities
cls_cosine_to_last    without a head: cos(f_l, f_{L−1}) with f_l = ``model.forward_head(model.norm(z_l),
 (L,)                 pre_logits=True)`` (the normed class token); the last entry is 1
====================  =====================================================================================
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from vitviz.run.capture import forward_hooks
from vitviz.errors import UnsupportedModelError, VitvizError
from vitviz.inputs.preprocess import TokenLayout, token_layout
from vitviz.model_parts import num_classes, submodule, transformer_blocks

LENS_K = 5
# The arrays written to trace.npz, in the order the module docstring lists them.
ARRAY_FIELDS = ("patch_values", "embedding", "position", "prefix_z0", "z0", "z_in", "ln1", "q", "scores", "attn",
                "head_context", "attn_out", "z_mid", "ln2", "mlp_hidden", "z_out", "final", "logit_lens_classes",
                "logit_lens_probs", "cls_cosine_to_last")


@dataclass(frozen=True)
class PatchTrace:
    """One patch's token through the encoder (module docstring for each array's convention).

    Per-layer arrays have one row per entry of ``layers``. Exactly one of ``logit_lens_classes`` /
    ``logit_lens_probs`` (a model with a head) and ``cls_cosine_to_last`` (without) is set, the other None.
    """

    token_index: int
    patch: tuple[int, int]
    layout: TokenLayout
    layers: np.ndarray
    num_heads: int
    head_dim: int
    scale: float
    patch_values: np.ndarray
    embedding: np.ndarray
    position: np.ndarray
    prefix_z0: np.ndarray
    z0: np.ndarray
    z_in: np.ndarray
    ln1: np.ndarray
    q: np.ndarray
    scores: np.ndarray
    attn: np.ndarray
    head_context: np.ndarray
    attn_out: np.ndarray
    z_mid: np.ndarray
    ln2: np.ndarray
    mlp_hidden: np.ndarray
    z_out: np.ndarray
    final: np.ndarray
    logit_lens_classes: Optional[np.ndarray] = None
    logit_lens_probs: Optional[np.ndarray] = None
    cls_cosine_to_last: Optional[np.ndarray] = None

    @property
    def has_head(self) -> bool:
        return self.logit_lens_classes is not None

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array for ``trace.npz``: the traced values plus ``token_index``, ``patch`` (row, col),
        ``grid`` (gh, gw), ``patch_size`` (ph, pw), ``num_prefix_tokens``, ``layers`` and ``scale``."""
        out: dict[str, np.ndarray] = {
            "token_index": np.array(self.token_index), "patch": np.array(self.patch), "grid": np.array(self.layout.grid),
            "patch_size": np.array(self.layout.patch_size), "num_prefix_tokens": np.array(self.layout.num_prefix_tokens),
            "layers": self.layers, "scale": np.array(self.scale, dtype=np.float32)}
        for name in ARRAY_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def _check_supported(model: nn.Module) -> None:
    blocks = getattr(model, "blocks", None)
    proj = getattr(getattr(model, "patch_embed", None), "proj", None)
    if blocks is None or not isinstance(proj, nn.Conv2d):
        raise UnsupportedModelError(f"{type(model).__name__} is not a ViT with a convolutional patch projection")
    if getattr(model.patch_embed, "backbone", None) is not None:
        raise UnsupportedModelError("the trace follows pixels into the patch projection; a hybrid's projection "
                                    "takes CNN features instead")
    for i, blk in enumerate(blocks):
        attn = getattr(blk, "attn", None)
        ok = (type(attn).__name__ == "Attention" and isinstance(getattr(attn, "qkv", None), nn.Linear)
              and all(hasattr(attn, n) for n in ("num_heads", "scale", "q_norm", "k_norm", "proj"))
              and all(hasattr(blk, n) for n in ("norm1", "norm2", "mlp")) and hasattr(blk.mlp, "act"))
        if not ok:
            raise UnsupportedModelError(f"block {i} of {type(model).__name__} is not a timm pre-norm Block with "
                                        "Attention (qkv) and an MLP; the trace needs those modules")


def check_patch(layout: TokenLayout, patch: tuple[int, int]) -> int:
    """The token index of patch ``(row, col)``, or a one-line :class:`VitvizError` when it is off the grid."""
    row, col = int(patch[0]), int(patch[1])
    gh, gw = layout.grid
    if not (0 <= row < gh and 0 <= col < gw):
        raise VitvizError(f"patch ({row}, {col}) is outside the {gh} × {gw} patch grid: row must be 0–{gh - 1}, "
                          f"column 0–{gw - 1}")
    return layout.num_prefix_tokens + row * gw + col


def _row(t: torch.Tensor) -> np.ndarray:
    """A copy as float32 numpy (hooks see tensors the forward may later change in place)."""
    return t.detach().to("cpu", torch.float32, copy=True).numpy()


def trace_patch(model: nn.Module, x: torch.Tensor, patch: tuple[int, int], *,
                layers: Optional[Sequence[int]] = None) -> PatchTrace:
    """Follow patch ``(row, col)`` of the first image of ``x`` through ``model`` (module docstring).

    Args:
        model: a timm ``VisionTransformer`` (pre-norm blocks with ``Attention``) in eval mode; fused or
            unfused attention, whichever the model is set to, gives the same numbers.
        x: ``(B, 3, H, W)`` normalised input on the model's device and dtype; only ``x[:1]`` is traced.
        patch: ``(row, col)`` in the patch grid of this input.
        layers: the layers to keep (0-based, in order); None keeps all.
    """
    _check_supported(model)
    blocks = transformer_blocks(model)
    depth = len(blocks)
    keep = list(range(depth)) if layers is None else [int(i) for i in layers]
    if not keep or any(not 0 <= i < depth for i in keep):
        raise VitvizError(f"layers {keep} are not within 0–{depth - 1}")
    x = x[:1]
    layout = token_layout(model, (int(x.shape[-2]), int(x.shape[-1])))
    t = check_patch(layout, patch)
    row, col = int(patch[0]), int(patch[1])
    ph, pw = layout.patch_size
    seen: dict[str, np.ndarray] = {}
    per_layer: dict[str, list] = {k: [None] * depth for k in (
        "z_in", "ln1", "q", "scores", "attn", "head_context", "attn_out", "z_mid", "ln2", "mlp_hidden", "z_out")}
    full_outputs: list[Optional[torch.Tensor]] = [None] * depth

    def on_proj(_m, inputs, out) -> None:
        seen["patch_values"] = _row(inputs[0][0, :, row * ph:(row + 1) * ph, col * pw:(col + 1) * pw].reshape(-1))
        seen["embedding"] = _row(out[0, :, row, col])

    def on_pos(_m, inputs, _out) -> None:
        seen["pos_in"] = _row(inputs[0][0, t])

    def on_head(_m, inputs, _out) -> None:
        seen["final"] = _row(inputs[0][0])

    def store(name: str, layer: int, value: torch.Tensor) -> None:
        per_layer[name][layer] = _row(value)

    def on_qkv(attn: nn.Module, layer: int):
        def hook(_m, _inputs, out) -> None:
            n, width = out.shape[1], out.shape[2]
            heads = int(getattr(attn, "num_heads"))
            q, k, _v = out[:1].reshape(1, n, 3, heads, width // (3 * heads)).permute(2, 0, 3, 1, 4).unbind(0)
            q, k = submodule(attn, "q_norm")(q), submodule(attn, "k_norm")(k)
            q_t = q[0, :, t].float()                                            # (H, Dh)
            scores = torch.einsum("hd,hnd->hn", q_t, k[0].float()) * float(getattr(attn, "scale"))
            store("q", layer, q_t)
            store("scores", layer, scores)
            store("attn", layer, scores.softmax(dim=-1))
        return hook

    hooks: list = [(submodule(submodule(model, "patch_embed"), "proj"), on_proj), (submodule(model, "head"), on_head)]
    pos_drop = getattr(model, "pos_drop", None)
    if isinstance(pos_drop, nn.Module):
        hooks.append((pos_drop, on_pos))
    for i, blk in enumerate(blocks):
        def on_norm1(_m, inputs, out, i=i) -> None:
            store("z_in", i, inputs[0][0, t])
            store("ln1", i, out[0, t])
            if i == 0:
                seen["prefix_z0"] = _row(inputs[0][0, :layout.num_prefix_tokens])

        def on_attn_proj(_m, inputs, out, i=i) -> None:
            store("head_context", i, inputs[0][0, t])
            store("attn_out", i, out[0, t])

        def on_norm2(_m, inputs, out, i=i) -> None:
            store("z_mid", i, inputs[0][0, t])
            store("ln2", i, out[0, t])

        def on_block(_m, _inputs, out, i=i) -> None:
            store("z_out", i, out[0, t])
            full_outputs[i] = out[:1].detach().clone()

        attn = submodule(blk, "attn")
        hooks += [(submodule(blk, "norm1"), on_norm1), (submodule(attn, "qkv"), on_qkv(attn, i)),
                  (submodule(attn, "proj"), on_attn_proj), (submodule(blk, "norm2"), on_norm2),
                  (submodule(submodule(blk, "mlp"), "act"), lambda _m, _i, out, i=i: store("mlp_hidden", i, out[0, t])),
                  (blk, on_block)]
    with torch.inference_mode(), forward_hooks(hooks):
        model(x)
    missing = [name for name, rows in per_layer.items() if any(r is None for r in rows)]
    missing += [name for name in ("patch_values", "embedding", "final", "prefix_z0") if name not in seen]
    if missing:
        raise UnsupportedModelError(f"the forward of {type(model).__name__} did not pass through the modules "
                                    f"the trace reads ({', '.join(missing)})")

    lens: dict[str, np.ndarray] = {}
    with torch.inference_mode():
        outputs = [out for out in full_outputs if out is not None]
        assert len(outputs) == depth  # on_block stored them with z_out, which is complete
        stacked = torch.cat(outputs)                                              # (L, T, D)
        norm = getattr(model, "norm", None)
        normed = norm(stacked) if isinstance(norm, nn.Module) else stacked
        forward_head = getattr(model, "forward_head")
        if num_classes(model) > 0:
            probs = forward_head(normed).float().softmax(dim=-1)
            top = probs.topk(min(LENS_K, probs.shape[-1]), dim=-1)
            lens["logit_lens_classes"] = top.indices[keep].cpu().numpy().astype(np.int64)
            lens["logit_lens_probs"] = _row(top.values[keep])
        else:
            feats = forward_head(normed, pre_logits=True).float()
            cosine = torch.nn.functional.cosine_similarity(feats, feats[-1:].expand_as(feats), dim=-1)
            lens["cls_cosine_to_last"] = _row(cosine[keep])

    embedding = seen["embedding"]
    arrays = {name: np.stack([rows[i] for i in keep]) for name, rows in per_layer.items()}
    attn0 = submodule(blocks[0], "attn")
    return PatchTrace(
        token_index=t, patch=(row, col), layout=layout, layers=np.array(keep, dtype=np.int64),
        num_heads=int(getattr(attn0, "num_heads")), head_dim=int(arrays["q"].shape[-1]),
        scale=float(getattr(attn0, "scale")),
        patch_values=seen["patch_values"], embedding=embedding,
        position=(seen["pos_in"] - embedding) if "pos_in" in seen else np.zeros_like(embedding),
        prefix_z0=seen["prefix_z0"], z0=per_layer["z_in"][0], final=seen["final"], **arrays, **lens)


# --------------------------------------------------------------------------- weights the steps show


@dataclass(frozen=True)
class BlockWeights:
    """The parameters one block's steps multiply by (float32 numpy).

    Attributes:
        norm1_weight / norm1_bias / norm1_eps: LN before MSA: ``LN(z) = (z − mean) / sqrt(var + eps) · weight + bias``
            (var the biased variance over D).
        ls1 / ls2: LayerScale's per-channel gains, None when the block has none (plain ViT).
        norm2_weight / norm2_bias / norm2_eps: LN before the MLP.
        fc1_weight / fc1_bias: the MLP's first linear, ``(4D, D)``: hidden = act(fc1_weight · ln2 + fc1_bias).
    """

    norm1_weight: np.ndarray
    norm1_bias: np.ndarray
    norm1_eps: float
    norm2_weight: np.ndarray
    norm2_bias: np.ndarray
    norm2_eps: float
    fc1_weight: Optional[np.ndarray]
    fc1_bias: Optional[np.ndarray]
    ls1: Optional[np.ndarray]
    ls2: Optional[np.ndarray]


def _norm_parts(norm: nn.Module, dim: int) -> tuple[np.ndarray, np.ndarray, float]:
    weight = getattr(norm, "weight", None)
    bias = getattr(norm, "bias", None)
    return (_row(weight) if weight is not None else np.ones(dim, np.float32),
            _row(bias) if bias is not None else np.zeros(dim, np.float32), float(getattr(norm, "eps", 0.0)))


def _gain(layer_scale: Optional[nn.Module]) -> Optional[np.ndarray]:
    """A LayerScale's per-channel gains (its ``gamma``), None without one."""
    gamma = getattr(layer_scale, "gamma", None)
    return _row(gamma) if isinstance(gamma, torch.Tensor) else None


def block_weights(model: nn.Module, layer: int) -> BlockWeights:
    """The LayerNorm, LayerScale and first MLP parameters of ``model.blocks[layer]`` (see :class:`BlockWeights`)."""
    blk = transformer_blocks(model)[layer]
    dim = int(getattr(submodule(submodule(blk, "attn"), "qkv"), "in_features"))
    w1, b1, e1 = _norm_parts(submodule(blk, "norm1"), dim)
    w2, b2, e2 = _norm_parts(submodule(blk, "norm2"), dim)
    fc1 = getattr(submodule(blk, "mlp"), "fc1", None)
    gains = [_gain(getattr(blk, "ls1", None)), _gain(getattr(blk, "ls2", None))]
    return BlockWeights(norm1_weight=w1, norm1_bias=b1, norm1_eps=e1, norm2_weight=w2, norm2_bias=b2, norm2_eps=e2,
                        fc1_weight=_row(fc1.weight) if isinstance(fc1, nn.Linear) else None,
                        fc1_bias=_row(fc1.bias) if isinstance(fc1, nn.Linear) and fc1.bias is not None else None,
                        ls1=gains[0], ls2=gains[1])


def projection_weights(model: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """``(E, b)``: the patch projection as a matrix, ``E`` ``(P²C, D)`` with rows in ``patch_values``' order
    (the conv weight ``(D, C, P, P)`` flattened per output and transposed), and the bias ``(D,)``
    (zeros without one), so ``embedding = patch_values @ E + b``."""
    proj = submodule(submodule(model, "patch_embed"), "proj")
    if not isinstance(proj, nn.Conv2d):
        raise UnsupportedModelError(f"{type(model).__name__} is not a ViT with a convolutional patch projection")
    weight = _row(proj.weight)
    bias = _row(proj.bias) if proj.bias is not None else np.zeros(weight.shape[0], np.float32)
    return weight.reshape(weight.shape[0], -1).T, bias


def parse_patch(text: str) -> tuple[int, int]:
    """``"ROW,COL"`` → ``(row, col)``; anything else is a one-line :class:`VitvizError`."""
    parts = str(text).replace(" ", "").split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        row, col = int(parts[0]), int(parts[1])
    except ValueError:
        raise VitvizError(f"--patch '{text}' is not ROW,COL (two whole numbers, e.g. 3,5)") from None
    if row < 0 or col < 0:
        raise VitvizError(f"--patch '{text}': row and column count from 0")
    return row, col


def parse_layer_range(text: Optional[str], depth: int) -> list[int]:
    """``"all"`` (or None) → every layer; ``"A-B"`` → A…B inclusive; ``"A"`` → that layer (0-based)."""
    if text is None or str(text).strip().lower() == "all":
        return list(range(depth))
    parts = str(text).replace(" ", "").split("-")
    try:
        if len(parts) not in (1, 2):
            raise ValueError
        first, last = int(parts[0]), int(parts[-1])
    except ValueError:
        raise VitvizError(f"--layer-range '{text}' is not 'all', A-B or A (0-based layers)") from None
    if not 0 <= first <= last < depth:
        raise VitvizError(f"--layer-range '{text}' is not within 0–{depth - 1} (first ≤ last)")
    return list(range(first, last + 1))
