"""The token sequence at each step of the paper's Eq. 1, read from the model's own forward.

``z_0 = [x_class; x_p¹E; …; x_pᴺE] + E_pos``: vitviz records the patch projections ``x_p E``
(output of ``patch_embed``) and the sequence after prefix tokens are prepended and position
embeddings added (input of ``pos_drop``), with hooks that are always removed.

For a hybrid the patch projection's input is not pixels but the CNN stem's feature map (output of
``patch_embed.backbone``, e.g. R50: ``(1024, 14, 14)`` at 224 px), recorded as ``stem_features``:
``patch_tokens = stem_features · Wᵀ + b`` for the 1×1 projection ``W`` ``(D, C)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from torch import nn

from vitviz.model_parts import submodule


@dataclass(frozen=True)
class EmbeddingStages:
    """One image's tokens before the encoder.

    Attributes:
        prefix_tokens: ``(p, D)`` learned class / distillation / register tokens, before position embedding.
        patch_tokens: ``(N, D)`` linear projections of the patches, row-major.
        sequence: ``(T, D)`` prefix tokens + patch tokens with position embeddings added: z_0.
        num_prefix_tokens: prefix tokens at the start of ``sequence``.
        stem_features: for a hybrid, ``(N, C)`` the CNN stem's feature map, one row per cell in
            row-major order (the rows the projection maps to D); None for a plain ViT.
    """

    prefix_tokens: np.ndarray
    patch_tokens: np.ndarray
    sequence: np.ndarray
    num_prefix_tokens: int
    stem_features: Optional[np.ndarray] = None

    @property
    def position_added(self) -> np.ndarray:
        """``(N, D)`` what was added to each patch token (its position embedding)."""
        return self.sequence[self.num_prefix_tokens:] - self.patch_tokens


def embedding_stages(model: nn.Module, x: torch.Tensor) -> EmbeddingStages:
    """Record ``x_p E`` and ``z_0`` for the first image of ``x`` during one ``forward_features``."""
    seen: dict[str, torch.Tensor] = {}
    patch_embed = submodule(model, "patch_embed")
    handles = [
        patch_embed.register_forward_hook(lambda _m, _i, out: seen.__setitem__("patches", out)),
        submodule(model, "pos_drop").register_forward_hook(lambda _m, inp, _o: seen.__setitem__("z0", inp[0])),
    ]
    backbone = getattr(patch_embed, "backbone", None)
    if backbone is not None:
        def on_stem(_m, _i, out) -> None:
            seen["stem"] = out[-1] if isinstance(out, (list, tuple)) else out  # as HybridEmbed.forward takes it
        handles.append(backbone.register_forward_hook(on_stem))
    try:
        with torch.inference_mode():
            getattr(model, "forward_features")(x[:1])
    finally:
        for handle in handles:
            handle.remove()
    patches = seen["patches"][0].float().cpu()
    patches = patches.reshape(-1, patches.shape[-1])  # (H, W, D) with dynamic size, else (N, D)
    prefix = [getattr(model, n) for n in ("cls_token", "dist_token", "reg_token") if getattr(model, n, None) is not None]
    prefix_tokens = torch.cat([t.detach().float().cpu().reshape(-1, t.shape[-1]) for t in prefix]) if prefix else \
        torch.zeros(0, patches.shape[-1])
    stem = None
    if "stem" in seen:  # (1, C, h, w) → (h·w, C), row-major like the tokens
        stem = seen["stem"][0].float().cpu().flatten(1).transpose(0, 1).numpy()
    return EmbeddingStages(prefix_tokens=prefix_tokens.numpy(), patch_tokens=patches.numpy(), sequence=seen["z0"][0].float().cpu().numpy(),
                           num_prefix_tokens=int(getattr(model, "num_prefix_tokens", 0)), stem_features=stem)
