"""The token sequence at each step of the paper's Eq. 1, read from the model's own forward.

``z_0 = [x_class; x_p¹E; …; x_pᴺE] + E_pos``: vitviz records the patch projections ``x_p E``
(output of ``patch_embed``) and the sequence after prefix tokens are prepended and position
embeddings added (input of ``pos_drop``), with hooks that are always removed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class EmbeddingStages:
    """One image's tokens before the encoder.

    Attributes:
        prefix_tokens: ``(p, D)`` learned class / distillation / register tokens, before position embedding.
        patch_tokens: ``(N, D)`` linear projections of the patches, row-major.
        sequence: ``(T, D)`` prefix tokens + patch tokens with position embeddings added: z_0.
        num_prefix_tokens: prefix tokens at the start of ``sequence``.
    """

    prefix_tokens: np.ndarray
    patch_tokens: np.ndarray
    sequence: np.ndarray
    num_prefix_tokens: int

    @property
    def position_added(self) -> np.ndarray:
        """``(N, D)`` what was added to each patch token (its position embedding)."""
        return self.sequence[self.num_prefix_tokens:] - self.patch_tokens


def embedding_stages(model: nn.Module, x: torch.Tensor) -> EmbeddingStages:
    """Record ``x_p E`` and ``z_0`` for the first image of ``x`` during one ``forward_features``."""
    seen: dict[str, torch.Tensor] = {}
    handles = [
        model.patch_embed.register_forward_hook(lambda _m, _i, out: seen.__setitem__("patches", out)),
        model.pos_drop.register_forward_hook(lambda _m, inp, _o: seen.__setitem__("z0", inp[0])),
    ]
    try:
        with torch.inference_mode():
            model.forward_features(x[:1])
    finally:
        for handle in handles:
            handle.remove()
    patches = seen["patches"][0].float().cpu()
    patches = patches.reshape(-1, patches.shape[-1])  # (H, W, D) with dynamic size, else (N, D)
    prefix = [getattr(model, n) for n in ("cls_token", "dist_token", "reg_token") if getattr(model, n, None) is not None]
    prefix_tokens = torch.cat([t.detach().float().cpu().reshape(-1, t.shape[-1]) for t in prefix]) if prefix else \
        torch.zeros(0, patches.shape[-1])
    return EmbeddingStages(prefix_tokens=prefix_tokens.numpy(), patch_tokens=patches.numpy(), sequence=seen["z0"][0].float().cpu().numpy(),
                           num_prefix_tokens=int(getattr(model, "num_prefix_tokens", 0)))
