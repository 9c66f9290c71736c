"""ViT attention distance next to CNN receptive fields, on one relative-depth axis.

Depth is normalised to (0, 1]: a ViT block ℓ of L sits at (ℓ+1)/L; a CNN layer at its position
among the network's conv/pool layers. Both networks are measured in pixels of their own input:
the ViT by mean attention distance, the CNN by receptive-field radius (theoretical size / 2, and
the effective radius holding the ERF's mass share).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from vitviz.analysis.receptive_field import EffectiveRF, LayerRF


@dataclass(frozen=True)
class DepthComparison:
    vit_depth: np.ndarray
    vit_heads: np.ndarray
    cnn_layer_depth: np.ndarray
    cnn_layer_radius: np.ndarray
    cnn_stage_names: tuple[str, ...]
    cnn_stage_depth: np.ndarray
    cnn_theoretical_radius: np.ndarray
    cnn_effective_radius: np.ndarray
    effective_share: float = 0.5

    @property
    def vit_mean(self) -> np.ndarray:
        return self.vit_heads.mean(axis=1)

    @property
    def vit_std(self) -> np.ndarray:
        return self.vit_heads.std(axis=1)


def depth_comparison(vit_distance: np.ndarray, layers: Sequence[LayerRF], stages: Sequence[LayerRF],
                     effective: Sequence[EffectiveRF]) -> DepthComparison:
    """Put a ViT's ``(layers, heads)`` distances and a CNN's receptive fields on one depth axis."""
    total = max(layer.depth for layer in layers)
    blocks = vit_distance.shape[0]
    return DepthComparison(
        vit_depth=(np.arange(blocks) + 1) / blocks,
        vit_heads=np.asarray(vit_distance, dtype=np.float64),
        cnn_layer_depth=np.array([l.depth / total for l in layers]),
        cnn_layer_radius=np.array([l.size / 2 for l in layers], dtype=np.float64),
        cnn_stage_names=tuple(s.name for s in stages),
        cnn_stage_depth=np.array([s.depth / total for s in stages]),
        cnn_theoretical_radius=np.array([s.size / 2 for s in stages], dtype=np.float64),
        cnn_effective_radius=np.array([e.radius for e in effective], dtype=np.float64),
        effective_share=float(effective[0].share) if effective else 0.5,
    )
