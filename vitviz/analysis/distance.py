"""Mean attention distance (paper Fig. 7 right, App. D.7).

For layer ℓ and head h, with patch queries q and patch keys k,

    d(ℓ, h) = mean over images and q of  Σ_k a_qk · ‖c_q − c_k‖

where ``c`` are patch centres in pixels of the network input (so for square patches
``‖c_q − c_k‖ = P · grid distance``). Prefix tokens are dropped as queries and as keys and, by
default, rows are NOT renormalised: attention a patch pays to the class token counts as zero
distance, as in the paper's own code (google-research/vision_transformer#162). With
``renormalize=True`` each query's patch row is rescaled to sum 1 first.

Worked values: uniform attention on 14×14 patches of 16 px is 116.49 px; on 24×24 (384 px)
200.05 px; attention to self only is 0.

Hybrids: a token's patch is one cell of the CNN stem's feature map, so ``c`` is that cell's centre
and the pitch is the stem's stride times the projection kernel (``TokenLayout.patch_size``).
R50+ViT-B/16 at 224 px: stride 16, 1×1 projection → 14×14 cells of 16 px, uniform 116.49 px as
for ViT-B/16; R26+ViT-S/32: stride 32 → 7×7 cells of 32 px, uniform 115.50 px. The distance is
between cell centres; each cell's own receptive field (hundreds of px for R50) is not counted.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Union

import numpy as np
import torch

from vitviz.errors import VitvizError
from vitviz.inputs.preprocess import TokenLayout
from vitviz.analysis.arrays import as_tensor, layers_per_chunk


@lru_cache(maxsize=16)
def _distance_matrix(layout: TokenLayout) -> torch.Tensor:
    centres = torch.from_numpy(layout.patch_centers_px()).double()
    return torch.cdist(centres, centres).float()


def patch_distance_matrix(layout: TokenLayout, device: Union[str, torch.device] = "cpu") -> torch.Tensor:
    """``(N, N)`` pixel distances between patch centres, row-major patch order."""
    return _distance_matrix(layout).to(device)


@lru_cache(maxsize=16)
def _token_distance_matrix(layout: TokenLayout) -> torch.Tensor:
    """``(T, T)`` :func:`patch_distance_matrix` with zero rows and columns for the prefix tokens."""
    p = layout.num_prefix_tokens
    out = torch.zeros(layout.num_tokens, layout.num_tokens)
    out[p:, p:] = _distance_matrix(layout)
    return out


def _per_image(probs: torch.Tensor, distances: torch.Tensor, num_patches: int) -> torch.Tensor:
    """``(B, heads, Q, K)`` probabilities and ``(Q, K)`` distances → ``(B, heads)`` float64
    ``Σ_q Σ_k a_qk·d_qk / num_patches``: each query's row in the probabilities' dtype, the sum over
    queries in float64."""
    return torch.linalg.vecdot(probs, distances).double().sum(dim=-1) / num_patches


def mean_attention_distance(
    attn: Union[torch.Tensor, np.ndarray], layout: TokenLayout, *, renormalize: bool = False
) -> np.ndarray:
    """Mean attention distance ``(layers, heads)`` in pixels, averaged over queries and images.

    Args:
        attn: ``(layers, heads, T, T)`` for one image or ``(layers, B, heads, T, T)``.
        layout: token layout of that input.
        renormalize: rescale each patch-query row over patch keys to sum 1 first.
    """
    attn = as_tensor(attn)
    if attn.ndim == 4:
        attn = attn.unsqueeze(1)
    if attn.ndim != 5 or attn.shape[-1] != layout.num_tokens:
        raise VitvizError(f"attention of shape {tuple(attn.shape)} does not fit {layout.num_tokens} tokens")
    acc = MeanDistanceAccumulator(layout, attn.shape[0], attn.shape[2], renormalize=renormalize)
    per_chunk = layers_per_chunk(attn[0].numel())
    for low in range(0, attn.shape[0], per_chunk):
        acc._add(low, attn[low:low + per_chunk])
    return acc.result()


class MeanDistanceAccumulator:
    """Running mean attention distance over many images, holding only ``(layers, heads)`` sums.

    Pass it as ``on_attention`` to :func:`vitviz.run.capture.capture` with ``keep_attention=False``
    so no attention map outlives its block.
    """

    def __init__(self, layout: TokenLayout, num_layers: int, num_heads: int, *, renormalize: bool = False):
        self.layout = layout
        self.renormalize = renormalize
        self._sums = torch.zeros(num_layers, num_heads, dtype=torch.float64)
        self._counts = torch.zeros(num_layers, dtype=torch.long)

    def update(self, layer: int, probs: torch.Tensor) -> None:
        """Add one block's ``(B, heads, T, T)`` probabilities."""
        self._add(layer, probs[None])

    def _add(self, first_layer: int, probs: torch.Tensor) -> None:
        """Add ``(layers, B, heads, T, T)`` probabilities of consecutive layers from ``first_layer``."""
        if probs.shape[-1] != self.layout.num_tokens:
            raise VitvizError(f"attention has {probs.shape[-1]} tokens, expected {self.layout.num_tokens}")
        p, n = self.layout.num_prefix_tokens, self.layout.num_patches
        if self.renormalize:
            patch = probs[..., p:, p:].float()
            patch = patch / patch.sum(dim=-1, keepdim=True).clamp_min(1e-12)
            per_image = _per_image(patch, patch_distance_matrix(self.layout, probs.device), n)
        else:
            # Prefix rows and columns of the distances are 0, so the whole maps give the patch block's
            # sum without copying the block out (on ViT-Ti/16 that copy cost more than the sum).
            per_image = _per_image(probs.float(), _token_distance_matrix(self.layout).to(probs.device), n)
        # per_image is float64, so the sum over the batch adds no float32 rounding that depends on
        # how the images were batched or sharded.
        layers = slice(first_layer, first_layer + probs.shape[0])
        self._sums[layers] += per_image.sum(dim=1).cpu()
        self._counts[layers] += probs.shape[1]

    __call__ = update

    @property
    def num_images(self) -> int:
        return int(self._counts.min())

    @property
    def sums(self) -> np.ndarray:
        """``(layers, heads)`` float64 sums over images of each image's mean distance (px), a copy."""
        return self._sums.numpy().copy()

    def result(self) -> np.ndarray:
        """``(layers, heads)`` mean distance in pixels; raises if some layer saw no image."""
        if int(self._counts.min()) == 0:
            raise VitvizError("no images were added to the mean attention distance")
        return (self._sums / self._counts[:, None]).numpy()


def reference_distances(layout: TokenLayout) -> dict[str, float]:
    """Mean distance of two reference patterns on this grid, for the plot's guide lines.

    ``"uniform"``: every patch query attends equally to all patches (the largest "global" value);
    ``"3×3 window"``: each query attends equally to the patches of its 3×3 neighbourhood,
    clipped at the border and renormalised (a CNN-like local receptive field).
    """
    n = layout.num_patches
    grid_pos = torch.from_numpy(layout.patch_centers_px() / np.asarray(layout.patch_size)).double()
    chebyshev = (grid_pos[:, None, :] - grid_pos[None, :, :]).abs().amax(dim=-1)
    window = (chebyshev <= 1).double()
    patterns = {"uniform": torch.full((n, n), 1.0 / n, dtype=torch.float64),
                "3×3 window": window / window.sum(dim=-1, keepdim=True)}
    distances = patch_distance_matrix(layout)
    # Patch-to-patch rows only (no prefix tokens): the same reduction the analysis uses.
    return {name: float(_per_image(rows[None, None], distances.double(), n)) for name, rows in patterns.items()}
