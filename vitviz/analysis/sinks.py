"""Attention sinks and high-norm tokens: patches that distort attention maps for reasons other than content.

**Received share.** For layer ℓ, head h and key token k, with T tokens (prefix tokens first, then
patches row-major) and a_qk the attention probability of query q on key k,

    share(ℓ, h, k) = T · mean over all T queries q of a_qk(ℓ, h)

— the attention key k receives as a multiple of uniform (1/T per key). Every query counts,
prefix queries (CLS, registers) included; prefix *keys* are scored too (the CLS key usually
receives far more than uniform), but only patches can be called sinks. ``share(ℓ, k)`` is the
mean over heads. Because every row sums to 1, the shares of one layer average exactly 1 over
the T keys. Worked values: uniform attention gives 1 everywhere; if every query puts 0.5 on
key k and spreads 0.5 evenly over the other T − 1 keys, k gets 0.5·T (128.5 for 16×16 patches
plus CLS, T = 257) and each other key 0.5·T/(T − 1).

**Sink.** A patch whose share is ≥ ``threshold`` in at least ``min_layers`` layers. Its score is
its ``min_layers``-th largest per-layer share, so "sink" ⇔ "score ≥ threshold". Defaults
(20×, one layer) come from DINOv2 ViT-S/14 (``vit_small_patch14_dinov2.imgfocus``) on the six
bundled samples at 224 px: in each, one patch receives 29–43× uniform in layer 0 (head 5 puts
66–100 % of its attention there, averaged over the queries; single queries range from 0 % to
nearly all) and about uniform (0.3–2.6×) in every later layer, while no other patch exceeds 14×
in any layer — 20× sits in that gap. The CLS rollout peaks on that patch in all six; left out
(``rollout_map(..., exclude_keys=sinks.sink_tokens)``) the peak moves onto the image. Asking for
many layers (e.g. 5× in a third of the layers) finds none of those layer-0 sinks.

**High-norm token** (Darcet et al. 2024, "Vision Transformers Need Registers"). A patch whose
block-output L2 norm exceeds ``k`` × the median patch-token norm of that layer (prefix tokens do
not enter the median and are not flagged, but their ratio is reported). Darcet et al. find such
tokens in large, long-trained models, separated from the bulk of patches by a gap (they cut
DINOv2 ViT-g at norm 150). Worked value: patch norms (1, 1, 1, 4) give median 1 and ratio 4,
an outlier for k = 3. On DINOv2 ViT-S/14 the largest patch norm in any layer of the six samples
is 1.92× the median (astronaut), so any k from 2 to 4 gives the same (empty) answer there: its
layer-0 sinks are not high-norm tokens (their norms stay within 1.4× the median).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np
import torch

from vitviz.errors import VitvizError
from vitviz.inputs.preprocess import TokenLayout
from vitviz.analysis.arrays import as_tensor

DEFAULT_SINK_THRESHOLD = 20.0
DEFAULT_SINK_MIN_LAYERS = 1
DEFAULT_NORM_RATIO = 3.0


def received_share_by_head(attention: Union[torch.Tensor, np.ndarray]) -> np.ndarray:
    """Attention each key receives per layer and head, as a multiple of uniform (module docstring).

    Args:
        attention: ``(layers, heads, T, T)`` probabilities, or ``(layers, B, heads, T, T)``
            (then also averaged over the images).

    Returns:
        ``(layers, heads, T)`` float32; every ``[ℓ, h]`` row averages 1 over its T keys.
    """
    attn = as_tensor(attention)
    if attn.ndim not in (4, 5) or attn.shape[-1] != attn.shape[-2]:
        raise VitvizError(f"attention must be (layers, heads, T, T) or (layers, B, heads, T, T), got {tuple(attn.shape)}")
    if attn.ndim == 5:  # pool the images' queries: (layers, heads, B·T, T)
        attn = attn.permute(0, 2, 1, 3, 4).flatten(2, 3)
    scale = attn.shape[-1] / attn.shape[-2]  # mean over the queries × T keys = column sum × T / queries
    # One layer at a time, summed in float64: a whole float16 cache converted at once would be 4× its
    # size. Summing with dtype=float64 reads the float32 layer once; .double().mean() first wrote a
    # float64 copy, 30× slower for a float16 cache (bench/RESULTS.md), same values.
    return torch.stack([attn[layer].float().sum(dim=-2, dtype=torch.float64) * scale
                        for layer in range(attn.shape[0])]).float().cpu().numpy()


def received_share(attention: Union[torch.Tensor, np.ndarray]) -> np.ndarray:
    """:func:`received_share_by_head` averaged over heads: ``(layers, T)`` float32."""
    return received_share_by_head(attention).mean(axis=1)


@dataclass(frozen=True)
class AttentionSinks:
    """Which patches are attention sinks, and the measure behind it.

    Attributes:
        received: ``(layers, T)`` share each token receives (head mean), multiple of uniform.
        received_by_head: ``(layers, heads, T)`` the same per head.
        score: ``(gh, gw)`` each patch's ``min_layers``-th largest per-layer share.
        layers_outsized: ``(gh, gw)`` number of layers where the patch's share ≥ ``threshold``.
        sinks: ``(row, col)`` of every sink, highest score first.
        threshold: share (multiple of uniform) that counts as outsized.
        min_layers: layers a patch must be outsized in.
        layout: token layout the indices refer to.
    """

    received: np.ndarray
    received_by_head: np.ndarray
    score: np.ndarray
    layers_outsized: np.ndarray
    sinks: tuple[tuple[int, int], ...]
    threshold: float
    min_layers: int
    layout: TokenLayout

    @property
    def sink_tokens(self) -> tuple[int, ...]:
        """Token indices of the sinks (prefix offset included), ready for ``rollout_map(exclude_keys=...)``."""
        p, gw = self.layout.num_prefix_tokens, self.layout.grid[1]
        return tuple(p + r * gw + c for r, c in self.sinks)

    @property
    def patch_received(self) -> np.ndarray:
        """``(layers, gh, gw)`` head-mean share of every patch."""
        return self.received[:, self.layout.num_prefix_tokens:].reshape(-1, *self.layout.grid)

    def outsized_layers(self, row: int, col: int) -> list[int]:
        """Layers in which patch ``(row, col)`` receives at least ``threshold``."""
        return [int(l) for l in np.flatnonzero(self.patch_received[:, row, col] >= self.threshold)]


def find_attention_sinks(
    attention: Union[torch.Tensor, np.ndarray],
    layout: TokenLayout,
    *,
    threshold: float = DEFAULT_SINK_THRESHOLD,
    min_layers: int = DEFAULT_SINK_MIN_LAYERS,
) -> AttentionSinks:
    """Patches receiving ≥ ``threshold`` × uniform attention in ≥ ``min_layers`` layers (module docstring).

    Args:
        attention: one image's ``(layers, heads, T, T)`` probabilities (or ``(layers, B, heads, T, T)``).
        layout: token layout of that input.
        threshold: outsized share, as a multiple of uniform (> 1).
        min_layers: how many layers a patch must be outsized in (1 … layers).
    """
    by_head = received_share_by_head(attention)
    layers, _, tokens = by_head.shape
    if tokens != layout.num_tokens:
        raise VitvizError(f"attention has {tokens} tokens, layout expects {layout.num_tokens}")
    if not threshold > 1.0:
        raise VitvizError(f"sink threshold must be above 1 (uniform), got {threshold}")
    if not 1 <= min_layers <= layers:
        raise VitvizError(f"min_layers must be in 1–{layers}, got {min_layers}")
    received = by_head.mean(axis=1)
    patches = received[:, layout.num_prefix_tokens:]  # (layers, N)
    score = -np.sort(-patches, axis=0)[min_layers - 1]
    outsized = (patches >= threshold).sum(axis=0)
    order = np.argsort(-score, kind="stable")
    gw = layout.grid[1]
    sinks = tuple((int(i) // gw, int(i) % gw) for i in order if score[i] >= threshold)
    return AttentionSinks(received=received, received_by_head=by_head, score=score.reshape(layout.grid),
                          layers_outsized=outsized.reshape(layout.grid), sinks=sinks,
                          threshold=float(threshold), min_layers=int(min_layers), layout=layout)


@dataclass(frozen=True)
class NormOutliers:
    """High-norm patch tokens (Darcet et al. 2024) and the measure behind them.

    Attributes:
        ratio: ``(layers, T)`` each token's norm over the median patch-token norm of its layer
            (prefix tokens included as columns, never flagged).
        median: ``(layers,)`` median patch-token norm.
        max_patch_ratio: ``(layers,)`` largest patch ratio per layer.
        mask: ``(layers, gh, gw)`` patches with ratio > ``k``.
        outliers: ``(layer, row, col)`` of every flagged patch, by layer then row-major.
        k: ratio above which a patch counts as high-norm.
        layout: token layout the indices refer to.
    """

    ratio: np.ndarray
    median: np.ndarray
    max_patch_ratio: np.ndarray
    mask: np.ndarray
    outliers: tuple[tuple[int, int, int], ...]
    k: float
    layout: TokenLayout

    @property
    def patches(self) -> tuple[tuple[int, int], ...]:
        """``(row, col)`` of patches that are high-norm in at least one layer, row-major."""
        return tuple(sorted({(r, c) for _, r, c in self.outliers}))


def find_norm_outliers(
    token_norms: Union[torch.Tensor, np.ndarray],
    layout: TokenLayout,
    *,
    k: float = DEFAULT_NORM_RATIO,
) -> NormOutliers:
    """Patch tokens whose block-output L2 norm exceeds ``k`` × the layer's median patch norm.

    Args:
        token_norms: ``(layers, T)`` L2 norms of every block's output tokens, e.g.
            ``capture(model, x, keep_tokens=True).tokens[:, 0].norm(dim=-1)`` for image 0
            (the analysis pipeline does not keep block outputs).
        layout: token layout of that input.
        k: outlier ratio (> 1).
    """
    norms = as_tensor(token_norms).double().cpu().numpy()
    if norms.ndim != 2 or norms.shape[1] != layout.num_tokens:
        raise VitvizError(f"token norms must be (layers, {layout.num_tokens}), got {norms.shape}")
    if not k > 1.0:
        raise VitvizError(f"norm outlier ratio must be above 1, got {k}")
    patches = norms[:, layout.num_prefix_tokens:]
    median = np.median(patches, axis=1)
    ratio = norms / np.maximum(median, np.finfo(np.float64).tiny)[:, None]
    patch_ratio = ratio[:, layout.num_prefix_tokens:]
    mask = (patch_ratio > k).reshape(-1, *layout.grid)
    outliers = tuple((int(l), int(r), int(c)) for l, r, c in zip(*np.nonzero(mask)))
    return NormOutliers(ratio=ratio.astype(np.float32), median=median.astype(np.float32),
                        max_patch_ratio=patch_ratio.max(axis=1).astype(np.float32), mask=mask,
                        outliers=outliers, k=float(k), layout=layout)
