"""Attention rollout (Abnar & Zuidema 2020; ViT paper App. D.8) and single-head maps.

Rollout convention, per layer ℓ from ``start_layer`` up:

1. fuse heads: mean (default), max or min over heads;
2. optionally leave keys out (``exclude_keys``, e.g. an attention sink found by
   :func:`vitviz.analysis.sinks.find_attention_sinks`): their columns of the fused matrix are
   zeroed and every row is renormalised to sum 1 — "sink left out and the rest renormalised". A
   row whose whole mass was on left-out keys stays 0 (step 4 then makes it the identity row);
3. optionally discard, in every row, the ``discard_ratio`` share of smallest entries
   (set to 0); entries from a prefix token to a prefix token (e.g. CLS→CLS) are kept;
4. add the identity for the residual path, ``A + I``, and renormalise every row to sum 1;
5. multiply: ``R = Ã_ℓ · … · Ã_start``.

``R[i, j]`` is how much token j flows into token i at the top. The map for a query token is its
row over the patch columns, reshaped to ``(gh, gw)``, *not* renormalised (prefix columns keep
their share). Without steps 2 and 3, ``(A + I)`` renormalised equals vit-explain's ``(A + I) / 2``.

Keys are left out *after* head fusion, not per head: on DINOv2 ViT-S/14 one head of layer 0
puts 66–100 % of every query's attention on a single patch; renormalised on its own, that head
hands the same mass to its next favourite patch, which becomes the new peak (measured on the
six samples: max/mean of the CLS map 12–24 per head vs 6–11 after fusion). A left-out patch
receives nothing from any other token, so its own value in the map is 0.
"""
from __future__ import annotations

from typing import Literal, Optional, Sequence, Union

import numpy as np
import torch

from vitviz.errors import VitvizError
from vitviz.inputs.preprocess import TokenLayout
from vitviz.analysis.arrays import as_tensor, layers_per_chunk

HeadFusion = Literal["mean", "max", "min"]
Query = Union[int, Literal["mean"]]


def default_query(layout: TokenLayout) -> Query:
    """The query a model's maps are read from: the class token (token 0) when the model has one, else the mean over
    the patch queries (a model without a class token, e.g. global average pooling). One rule for every page, the
    CLI and the paper's figures."""
    return 0 if layout.has_class_token else "mean"


def fuse_heads(attn: torch.Tensor, fusion: HeadFusion = "mean") -> torch.Tensor:
    """Reduce the heads axis (third from last) of ``(..., heads, T, T)``, in at least float32.

    A float16 input is summed in float32 as it is read, never widened whole first.
    """
    dtype = torch.promote_types(attn.dtype, torch.float32)
    if fusion == "mean":
        return attn.mean(dim=-3, dtype=dtype)
    if fusion == "max":
        return attn.amax(dim=-3).to(dtype)
    if fusion == "min":
        return attn.amin(dim=-3).to(dtype)
    raise VitvizError(f"unknown head fusion '{fusion}': use mean, max or min")


def discard_lowest(attn: torch.Tensor, ratio: float, num_prefix_tokens: int) -> torch.Tensor:
    """Zero the ``ratio`` share of smallest entries in every row of ``(..., T, T)``, sparing prefix→prefix."""
    if not 0.0 <= ratio < 1.0:
        raise VitvizError(f"discard ratio must be in [0, 1), got {ratio}")
    tokens = attn.shape[-1]
    count = int(ratio * (tokens - num_prefix_tokens))
    if count == 0:
        return attn
    ranked = attn.clone()
    ranked[..., :num_prefix_tokens, :num_prefix_tokens] = float("inf")
    lowest = ranked.topk(count, dim=-1, largest=False).indices
    return attn.scatter(-1, lowest, 0.0)


def exclude_key_columns(attn: torch.Tensor, keys: Sequence[int]) -> torch.Tensor:
    """Zero the ``keys`` columns of ``(..., T, T)`` and renormalise every row to sum 1.

    A row whose whole mass was on ``keys`` stays all zero (no division by zero).
    """
    tokens = attn.shape[-1]
    index = sorted({int(k) for k in keys})
    if not index:
        return attn
    if index[0] < 0 or index[-1] >= tokens:
        raise VitvizError(f"key tokens to leave out must be in 0–{tokens - 1}, got {list(keys)}")
    kept = attn.clone()
    kept[..., index] = 0.0
    total = kept.sum(dim=-1, keepdim=True)
    return torch.where(total > 0, kept / total.clamp_min(torch.finfo(kept.dtype).tiny), kept)


def _layer_links(layer_attn: torch.Tensor, head_fusion: HeadFusion, exclude_keys: Sequence[int],
                 discard_ratio: float, num_prefix_tokens: int) -> torch.Tensor:
    """Attention as rollout uses it (steps 1–3): heads fused in float32, keys left out, discarded.

    ``layer_attn`` is one layer's ``(heads, T, T)`` or several layers' ``(layers, heads, T, T)``.
    """
    fused = fuse_heads(layer_attn, head_fusion)
    fused = exclude_key_columns(fused, exclude_keys)
    return discard_lowest(fused, discard_ratio, num_prefix_tokens)


def attention_rollout(
    attn: Union[torch.Tensor, np.ndarray],
    *,
    head_fusion: HeadFusion = "mean",
    discard_ratio: float = 0.0,
    start_layer: int = 0,
    num_prefix_tokens: int = 1,
    exclude_keys: Sequence[int] = (),
) -> torch.Tensor:
    """Roll attention out through the layers.

    Args:
        attn: ``(layers, heads, T, T)`` or ``(layers, B, heads, T, T)`` probabilities.
        head_fusion / discard_ratio / start_layer: see module docstring.
        num_prefix_tokens: prefix tokens at the start of the sequence (spared by the discard).
        exclude_keys: token indices (prefix tokens first, then patches row-major) left out as
            keys in every layer, after head fusion, the rest renormalised (module docstring,
            step 2). Empty (the default) changes nothing.

    Returns:
        ``(T, T)`` (or ``(B, T, T)``) float32 row-stochastic joint attention.
    """
    attn = as_tensor(attn)
    layers = attn.shape[0]
    if not 0 <= start_layer < layers:
        raise VitvizError(f"start layer {start_layer} is out of range 0–{layers - 1}")
    result: Optional[torch.Tensor] = None
    for layer in range(start_layer, layers):
        fused = _layer_links(attn[layer], head_fusion, exclude_keys, discard_ratio, num_prefix_tokens)
        eye = torch.eye(fused.shape[-1], dtype=fused.dtype, device=fused.device)
        step = fused + eye
        step = step / step.sum(dim=-1, keepdim=True)
        result = step if result is None else step @ result
    assert result is not None
    return result


def token_row_map(matrix: Union[torch.Tensor, np.ndarray], layout: TokenLayout, query: Query = 0) -> np.ndarray:
    """Row ``query`` of a ``(T, T)`` token matrix over the patch columns, as a ``(gh, gw)`` map.

    ``query`` is a token index (0 = first prefix token, usually CLS) or ``"mean"`` for the
    average over all patch queries (for models without a class token).
    """
    matrix = as_tensor(matrix).float()
    p = layout.num_prefix_tokens
    if matrix.shape[-1] != layout.num_tokens:
        raise VitvizError(f"matrix has {matrix.shape[-1]} tokens, layout expects {layout.num_tokens}")
    if query == "mean":
        row = matrix[p:, p:].mean(dim=0)
    elif isinstance(query, (int, np.integer)) and 0 <= query < layout.num_tokens:
        row = matrix[int(query), p:]
    else:
        raise VitvizError(f"query token {query!r} is out of range 0–{layout.num_tokens - 1}")
    return row.reshape(layout.grid).cpu().numpy()


def rollout_map(
    attn: Union[torch.Tensor, np.ndarray],
    layout: TokenLayout,
    *,
    query: Query = 0,
    head_fusion: HeadFusion = "mean",
    discard_ratio: float = 0.0,
    start_layer: int = 0,
    exclude_keys: Sequence[int] = (),
) -> np.ndarray:
    """Rollout of one image's ``(layers, heads, T, T)`` attention as a ``(gh, gw)`` map for ``query``.

    ``exclude_keys`` are token indices left out as keys (see :func:`attention_rollout`); a
    left-out patch shows 0 unless it is the query itself.
    """
    # Only one row of the (T, T) product is shown, so it is carried as a vector from the query
    # side: v ← v·S_ℓ for ℓ = L−1 … start, O(L·T²) instead of O(L·T³). With F the fused (and
    # discarded / excluded) attention and d = rowsum(F) + 1, v·S = w·F + w for w = v / d.
    attn = as_tensor(attn)
    layers, p, tokens = attn.shape[0], layout.num_prefix_tokens, layout.num_tokens
    if attn.ndim != 4 or attn.shape[-1] != tokens:
        raise VitvizError(f"attention must be (layers, heads, {tokens}, {tokens}), got {tuple(attn.shape)}")
    if not 0 <= start_layer < layers:
        raise VitvizError(f"start layer {start_layer} is out of range 0–{layers - 1}")
    v = torch.zeros(tokens, dtype=torch.float32)
    if query == "mean":
        v[p:] = 1.0 / layout.num_patches
    elif isinstance(query, (int, np.integer)) and 0 <= query < tokens:
        v[int(query)] = 1.0
    else:
        raise VitvizError(f"query token {query!r} is out of range 0–{tokens - 1}")
    # Layers are fused a chunk at a time, top down (on ViT-Ti/16 the per-layer operations cost more
    # than their arithmetic).
    per_chunk = layers_per_chunk(tokens * tokens)
    top = layers
    while top > start_layer:
        low = max(start_layer, top - per_chunk)
        links = _layer_links(attn[low:top], head_fusion, exclude_keys, discard_ratio, p)
        degree = links.sum(dim=-1) + 1.0
        for i in range(top - low - 1, -1, -1):
            w = v / degree[i]
            v = torch.addmv(w, links[i].T, w)  # w·F + w
        top = low
    return v[p:].reshape(layout.grid).cpu().numpy()


def attention_map(
    attn: Union[torch.Tensor, np.ndarray],
    layout: TokenLayout,
    layer: int,
    head: Optional[int] = None,
    query: Query = 0,
) -> np.ndarray:
    """Attention of ``query`` to every patch in one layer, ``(gh, gw)``; ``head=None`` averages heads.

    ``attn`` is one image's ``(layers, heads, T, T)``. Values are the raw probabilities (the
    prefix columns are left out, not renormalised away).
    """
    attn = as_tensor(attn)
    layers, heads = attn.shape[0], attn.shape[1]
    if not 0 <= layer < layers:
        raise VitvizError(f"layer {layer} is out of range 0–{layers - 1}")
    if head is not None and not 0 <= head < heads:
        raise VitvizError(f"head {head} is out of range 0–{heads - 1}")
    matrix = attn[layer].float().mean(dim=0) if head is None else attn[layer, head].float()
    return token_row_map(matrix, layout, query)
