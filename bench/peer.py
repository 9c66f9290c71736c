"""The classic peer pipeline, implemented here only to compare against.

It follows jacobgil/vit-explain and the ViT paper's published snippet: switch timm's fused
attention off, hook every block's ``attn_drop`` to copy attention to NumPy, roll out in NumPy with
per-layer ``(A + I) / 2`` normalisation, and compute mean distances with a Python loop over layers
and heads.
"""
from __future__ import annotations

import numpy as np
import torch


def peer_analysis(model: torch.nn.Module, x: torch.Tensor, grid: tuple[int, int], patch: int, prefix: int):
    """Return (logits, attention list, rollout map (gh, gw), distances (layers, heads)) the classic way."""
    attentions: list[np.ndarray] = []
    hooks = []
    saved = [blk.attn.fused_attn for blk in model.blocks]
    for blk in model.blocks:
        blk.attn.fused_attn = False
        hooks.append(blk.attn.attn_drop.register_forward_hook(
            lambda _m, _i, out: attentions.append(out.detach().cpu().numpy())))
    try:
        with torch.no_grad():
            logits = model(x)
    finally:
        for h in hooks:
            h.remove()
        for blk, flag in zip(model.blocks, saved):
            blk.attn.fused_attn = flag

    # vit-explain's rollout (mean fusion, no discard).
    tokens = attentions[0].shape[-1]
    result = np.eye(tokens)
    for attention in attentions:
        fused = attention[0].mean(axis=0)
        a = (fused + np.eye(tokens)) / 2
        a = a / a.sum(axis=-1, keepdims=True)
        result = a @ result
    mask = result[0, prefix:].reshape(grid)

    # Distances: a Python loop over layers and heads, as in the paper's snippet.
    gh, gw = grid
    ys, xs = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
    pos = np.stack([ys.ravel(), xs.ravel()], 1)
    dist = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1) * patch
    distances = np.zeros((len(attentions), attentions[0].shape[1]))
    for layer, attention in enumerate(attentions):
        for head in range(attention.shape[1]):
            a = attention[0, head, prefix:, prefix:]
            distances[layer, head] = (a * dist).sum(axis=-1).mean()
    return logits, attentions, mask, distances
