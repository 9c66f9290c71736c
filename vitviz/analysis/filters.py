"""Patch-embedding filters and their principal components (paper Fig. 7 left).

Convention: the projection weight ``(D, C, ph, pw)`` is read as D filters of ``C·ph·pw``
numbers; PCA centres them (subtracts the mean filter) and takes the right singular vectors.
Explained-variance ratios are over all components, so the top-k sum to at most 1. Each
component's sign is fixed so its largest-magnitude entry is positive (SVD signs are arbitrary).

Hybrids (R50+ViT-B/16, R26+ViT-S/32) have no such filters: their projection is a 1×1 convolution
over the CNN stem's feature channels (timm's ``HybridEmbed.proj``: ``(D, 1024, 1, 1)`` for R50),
so there is no ``P×P×3`` picture to draw; :func:`patch_embedding_filters` says so instead of
returning one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from torch import nn

from vitviz.errors import UnsupportedModelError

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


def hybrid_filters_message(model: nn.Module) -> Optional[str]:
    """Why a hybrid has no pixel filters to show (one line), or None for a model whose embedding reads pixels."""
    embed = getattr(model, "patch_embed", None)
    backbone = getattr(embed, "backbone", None)
    if backbone is None:
        return None
    weight = getattr(getattr(embed, "proj", None), "weight", None)
    channels: Optional[int] = None
    kernel: Optional[str] = None
    if weight is not None and weight.ndim == 4:
        channels, kernel = int(weight.shape[1]), "×".join(str(k) for k in weight.shape[2:])
    stride = getattr(embed, "feature_ratio", None)
    stride_text = f" (stride {int(stride[0])} px)" if stride is not None else ""
    what = (f"a {kernel} convolution over the {channels} channels of its {type(backbone).__name__} stem's feature "
            f"map" if channels is not None else f"made from its {type(backbone).__name__} stem's feature map")
    first = next((m for m in backbone.modules() if isinstance(m, nn.Conv2d)), None)
    pixels = (f"; the filters that do read pixels are the stem's first convolution ({first.out_channels} filters of "
              f"{'×'.join(str(k) for k in first.kernel_size)}×{first.in_channels})") if first is not None else ""
    return (f"the model is a hybrid — its patch projection is {what}{stride_text}, not a filter over P×P×3 "
            f"pixels, so there are no patch-embedding filters to draw as in the paper's Fig. 7 (left), which is "
            f"about plain ViTs{pixels}")


def patch_embedding_filters(model: nn.Module) -> np.ndarray:
    """The raw linear-projection filters ``(D, C, ph, pw)`` as float32.

    Raises:
        UnsupportedModelError: no convolutional patch projection, or a hybrid (see the module docstring).
    """
    hybrid = hybrid_filters_message(model)
    if hybrid is not None:
        raise UnsupportedModelError(hybrid)
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
