"""Position-embedding similarity (paper Fig. 7 centre).

Convention: only patch positions are compared; prefix-token rows (class, distillation,
registers) are dropped, and models that keep no position embedding for them
(``no_embed_class``) need no dropping. For a grid other than the stored one, the embeddings
are resampled exactly as the model does in its forward pass (timm's
``resample_abs_pos_embed``), so the tiles show what the model actually adds at that size.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from vitviz.errors import UnsupportedModelError, VitvizError


def patch_position_embeddings(model: nn.Module, grid: tuple[int, int] | None = None) -> np.ndarray:
    """The position embedding added to each patch, ``(gh, gw, D)``, for ``grid`` (default: native)."""
    from timm.layers import resample_abs_pos_embed

    pos = getattr(model, "pos_embed", None)
    embed = getattr(model, "patch_embed", None)
    if pos is None or embed is None:
        raise UnsupportedModelError(f"{type(model).__name__} has no learned absolute position embedding")
    native = tuple(int(g) for g in embed.grid_size)
    target = native if grid is None else tuple(int(g) for g in grid)
    prefix = 0 if getattr(model, "no_embed_class", False) else int(getattr(model, "num_prefix_tokens", 0))
    pos = pos.detach().float().cpu()
    if pos.shape[1] != prefix + native[0] * native[1]:
        raise UnsupportedModelError(f"position embedding of {pos.shape[1]} rows does not match the "
                                    f"{native[0]}×{native[1]} grid and {prefix} prefix rows")
    if target != native:
        if not getattr(model, "dynamic_img_size", False):
            raise VitvizError(f"this model only uses its native {native[0]}×{native[1]} grid")
        with torch.no_grad():
            pos = resample_abs_pos_embed(pos, new_size=list(target), old_size=list(native), num_prefix_tokens=prefix)
    return pos[0, prefix:].reshape(target[0], target[1], -1).numpy()


def position_embedding_similarity(pos: np.ndarray) -> np.ndarray:
    """Cosine similarity of every patch position to every other: ``(gh, gw, D)`` → ``(gh, gw, gh, gw)``.

    ``out[i, j]`` is the tile for patch ``(i, j)``: its similarity to every position.
    """
    gh, gw, dim = pos.shape
    flat = pos.reshape(gh * gw, dim).astype(np.float64)
    norms = np.linalg.norm(flat, axis=1, keepdims=True)
    unit = flat / np.maximum(norms, 1e-12)
    return (unit @ unit.T).reshape(gh, gw, gh, gw)
