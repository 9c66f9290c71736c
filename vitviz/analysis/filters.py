"""Patch-embedding filters and their principal components (paper Fig. 7 left).

Convention: the projection weight ``(D, C, ph, pw)`` is read as D filters of ``C·ph·pw``
numbers; PCA centres them (subtracts the mean filter) and takes the right singular vectors.
Explained-variance ratios are over all components, so the top-k sum to at most 1. Each
component's sign is fixed so its largest-magnitude entry is positive (SVD signs are arbitrary).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from ..errors import UnsupportedModelError

PAPER_NUM_COMPONENTS = 28


@dataclass(frozen=True)
class FilterComponents:
    """Top principal components of the patch-embedding filters.

    Attributes:
        components: ``(k, C, ph, pw)``, orthonormal when flattened.
        explained_variance_ratio: ``(k,)``, descending.
        mean: ``(C, ph, pw)`` mean filter that was subtracted.
    """

    components: np.ndarray
    explained_variance_ratio: np.ndarray
    mean: np.ndarray


def patch_embedding_filters(model: nn.Module) -> np.ndarray:
    """The raw linear-projection filters ``(D, C, ph, pw)`` as float32."""
    proj = getattr(getattr(model, "patch_embed", None), "proj", None)
    weight = getattr(proj, "weight", None)
    if weight is None or weight.ndim != 4:
        raise UnsupportedModelError(f"{type(model).__name__} has no convolutional patch projection")
    return weight.detach().float().cpu().numpy()


def filter_components(filters: np.ndarray, k: int = PAPER_NUM_COMPONENTS) -> FilterComponents:
    """Top-``k`` principal components of ``filters`` ``(D, C, ph, pw)`` (k is capped at the rank)."""
    d = filters.shape[0]
    flat = filters.reshape(d, -1).astype(np.float64)
    mean = flat.mean(axis=0)
    _, singular, vt = np.linalg.svd(flat - mean, full_matrices=False)
    variance = singular**2
    k = min(k, vt.shape[0])
    comps = vt[:k]
    signs = np.sign(comps[np.arange(k), np.abs(comps).argmax(axis=1)])
    comps = comps * signs[:, None]
    total = variance.sum()
    ratio = variance[:k] / total if total > 0 else np.zeros(k)
    return FilterComponents(
        components=comps.reshape(k, *filters.shape[1:]).astype(np.float32),
        explained_variance_ratio=ratio,
        mean=mean.reshape(filters.shape[1:]).astype(np.float32),
    )
