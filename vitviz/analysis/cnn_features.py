"""CNN feature maps per stage: the most active channels and a 3-component PCA shown as RGB.

Conventions: stages are timm's ``feature_info`` stages (``forward_intermediates``), after the
stage's last activation. A channel's activity is its mean over the map. The PCA centres the
``(h·w, C)`` matrix of spatial positions; each component's scores are scaled to [0, 1] between
their 1st and 99th percentiles for display.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vitviz.errors import UnsupportedModelError


@dataclass(frozen=True)
class StageFeatures:
    """One stage's feature map for one image.

    Attributes:
        name: stage module (e.g. ``"layer2"``).
        reduction: input pixels per feature-map step.
        top_channels: ``(k,)`` indices of the most active channels, most active first.
        top_maps: ``(k, h, w)`` those channels' maps.
        pca_rgb: ``(h, w, 3)`` first three principal components as colours in [0, 1].
        pca_explained: ``(3,)`` explained-variance ratios of those components.
        channels: the stage's channel count.
    """

    name: str
    reduction: int
    top_channels: np.ndarray
    top_maps: np.ndarray
    pca_rgb: np.ndarray
    pca_explained: np.ndarray
    channels: int


def stage_names(model: nn.Module) -> list[str]:
    """Module names of the model's feature stages (timm ``feature_info``)."""
    info = getattr(model, "feature_info", None)
    if not info or not hasattr(model, "forward_intermediates"):
        raise UnsupportedModelError(f"{type(model).__name__} does not expose feature stages")
    return [f["module"] for f in info]


def stage_maps(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Every stage's ``(B, C, h, w)`` feature map in one forward pass."""
    return list(getattr(model, "forward_intermediates")(x, intermediates_only=True))


def stage_maps_and_output(model: nn.Module, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Every stage's feature map and the model's output, from the same single forward pass.

    The output is ``model.forward_head`` of the final features ``forward_intermediates`` returns
    alongside the stage maps: equal to ``model(x)`` — ``(B, classes)`` logits, or the pooled
    ``(B, C)`` features of a headless model (e.g. 1280 for MobileNetV2 with ``num_classes=0``).
    """
    final, maps = getattr(model, "forward_intermediates")(x, intermediates_only=False)
    return list(maps), getattr(model, "forward_head")(final)


def pca_rgb(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(C, h, w)`` → ``(h, w, 3)`` colours of the top-3 principal components, and their variance ratios."""
    c, h, w = features.shape
    flat = features.reshape(c, h * w).T.astype(np.float64)
    flat -= flat.mean(axis=0)
    _, singular, vt = np.linalg.svd(flat, full_matrices=False)
    k = min(3, vt.shape[0])
    scores = flat @ vt[:k].T
    lo, hi = np.percentile(scores, 1, axis=0), np.percentile(scores, 99, axis=0)
    scaled = np.clip((scores - lo) / np.where(hi > lo, hi - lo, 1.0), 0, 1)
    rgb = np.zeros((h * w, 3))
    rgb[:, :k] = scaled
    variance = singular**2
    ratio = np.zeros(3)
    ratio[:k] = variance[:k] / variance.sum() if variance.sum() > 0 else 0
    return rgb.reshape(h, w, 3), ratio


def stage_features(model: nn.Module, x: torch.Tensor, k: int = 16) -> list[StageFeatures]:
    """Top-``k`` channels and the PCA colouring of every stage, for the first image of ``x``."""
    with torch.inference_mode():
        return describe_stages(model, stage_maps(model, x[:1]), k)


def describe_stages(model: nn.Module, maps: list[torch.Tensor], k: int = 16) -> list[StageFeatures]:
    """:func:`stage_features` for feature maps already computed (e.g. by a gradient pass)."""
    reductions = [int(f["reduction"]) for f in getattr(model, "feature_info")]
    out = []
    for name, reduction, fmap in zip(stage_names(model), reductions, maps):
        arr = fmap[0].detach().float().cpu().numpy()
        order = np.argsort(-arr.mean(axis=(1, 2)), kind="stable")[:k]
        rgb, explained = pca_rgb(arr)
        out.append(StageFeatures(name, reduction, order, arr[order], rgb, explained, arr.shape[0]))
    return out
