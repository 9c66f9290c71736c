"""Receptive fields of CNNs: theoretical (from the layers) and effective (from gradients).

Theoretical receptive field (Araujo et al. 2019): every conv/pool layer with kernel k (dilation
d, effective k' = d·(k−1)+1) and stride s maps the previous size r and jump j to
``r ← r + (k'−1)·j`` and ``j ← j·s``. vitviz reads the layers off the network's own FX graph and
propagates (r, j) along every path; where paths join (residual additions, concatenations) it
keeps the largest r, so a ResNet's value is that of its deepest 3×3 path. Sizes are in pixels of
the network input; "radius" is r/2.

Effective receptive field (Luo et al. 2016): the gradient of one feature-map unit near the centre
(summed over channels) with respect to the input; its radius is the smallest distance from that
unit's input centre that holds a given share (default 50 %) of the absolute gradient mass.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from torch import fx, nn

from vitviz.errors import UnsupportedModelError

_POOLS = (nn.MaxPool2d, nn.AvgPool2d)


@dataclass(frozen=True)
class LayerRF:
    """Receptive field after one conv/pool layer.

    Attributes:
        name: qualified module name, e.g. ``"layer2.0.conv2"``.
        depth: position among the conv/pool layers, 1-based, in execution order.
        size: theoretical receptive field size in input pixels.
        jump: distance in input pixels between neighbouring units of its output.
    """

    name: str
    depth: int
    size: int
    jump: int


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _kernel_stride(module: nn.Module) -> tuple[int, int]:
    """Effective kernel and stride along the first spatial axis (vitviz assumes square kernels)."""
    kernel, stride = _pair(module.kernel_size), _pair(module.stride)
    dilation = _pair(getattr(module, "dilation", 1))
    return dilation[0] * (kernel[0] - 1) + 1, stride[0]


class _LeafTracer(fx.Tracer):
    """Keep every conv (incl. timm's StdConv2d) and pooling module a leaf of the graph."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, (nn.Conv2d, *_POOLS)) or super().is_leaf_module(m, qualname)


def _trace(model: nn.Module) -> tuple[list[LayerRF], dict[str, LayerRF]]:
    """Propagate (size, jump) through the FX graph; return conv/pool layers and every module's state."""
    try:
        graph = _LeafTracer().trace(model)
    except Exception as exc:  # FX raises many types for untraceable control flow
        raise UnsupportedModelError(f"cannot trace {type(model).__name__}'s layers: {exc}") from exc
    modules = dict(model.named_modules())
    state: dict[fx.Node, tuple[int, int]] = {}
    layers: list[LayerRF] = []
    after_module: dict[str, LayerRF] = {}
    for node in graph.nodes:
        inputs = [state[a] for a in node.all_input_nodes if a in state]
        if node.op == "placeholder":
            state[node] = (1, 1)
            continue
        if not inputs:
            continue
        size = max(r for r, _ in inputs)
        jump = max(j for _, j in inputs)
        module = modules.get(node.target) if node.op == "call_module" else None
        if isinstance(module, (nn.Conv2d, *_POOLS)):
            kernel, stride = _kernel_stride(module)
            size, jump = size + (kernel - 1) * jump, jump * stride
            layers.append(LayerRF(str(node.target), len(layers) + 1, size, jump))
        elif isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)) or \
                (node.op == "call_method" and node.target in ("mean", "flatten")):
            break  # global pooling: the spatial map ends here
        state[node] = (size, jump)
        if node.op == "call_module":
            after_module[str(node.target)] = LayerRF(str(node.target), len(layers), size, jump)
    if not layers:
        raise UnsupportedModelError(f"{type(model).__name__} has no convolution or pooling layers")
    return layers, after_module


def receptive_fields(model: nn.Module, stage_modules: Sequence[str] = ()) -> tuple[list[LayerRF], list[LayerRF]]:
    """Receptive field after every conv/pool layer and at the output of each stage, from one trace.

    ``stage_modules`` are module names such as timm's ``feature_info`` gives. A stage that FX traces
    through (a ``Sequential`` such as ``layer1``) ends at the last module executed inside it;
    ``depth`` counts the conv/pool layers executed up to that point.

    Raises:
        UnsupportedModelError: the model cannot be traced, has no conv layers, or lacks a stage.
    """
    layers, after = _trace(model)
    stages = []
    for stage in stage_modules:
        if stage in after:
            hit = after[stage]
        else:
            inside = [v for k, v in after.items() if k.startswith(stage + ".")]
            if not inside:
                raise UnsupportedModelError(f"no module '{stage}' in the traced network")
            hit = inside[-1]  # dicts keep execution order
        stages.append(LayerRF(stage, hit.depth, hit.size, hit.jump))
    return layers, stages


def theoretical_receptive_field(model: nn.Module) -> list[LayerRF]:
    """Receptive field after every conv/pool layer of ``model``, in execution order."""
    return receptive_fields(model)[0]


def stage_receptive_fields(model: nn.Module, stage_modules: Sequence[str]) -> list[LayerRF]:
    """Receptive field at the output of each stage module (see :func:`receptive_fields`)."""
    return receptive_fields(model, stage_modules)[1]


@dataclass(frozen=True)
class EffectiveRF:
    """Gradient-based receptive field of one unit.

    Attributes:
        gradient: ``(H, W)`` absolute input gradient, summed over input channels.
        centre: ``(y, x)`` input pixel under the unit.
        radius: pixels from ``centre`` holding ``share`` of the gradient mass.
        share: the mass share used for ``radius``.
    """

    gradient: np.ndarray
    centre: tuple[float, float]
    radius: float
    share: float

    def pooled(self, cell: int) -> np.ndarray:
        """The gradient summed over ``cell``×``cell`` pixel blocks (ragged edges dropped), to draw over the image."""
        h, w = (self.gradient.shape[0] // cell) * cell, (self.gradient.shape[1] // cell) * cell
        return self.gradient[:h, :w].reshape(h // cell, cell, w // cell, cell).sum(axis=(1, 3))


def mass_radius(gradient: np.ndarray, centre: Sequence[float], share: float = 0.5) -> float:
    """Smallest distance from ``centre`` within which ``share`` of ``gradient``'s mass lies."""
    weights = np.abs(gradient).ravel()
    total = weights.sum()
    if total <= 0:
        return 0.0
    ys, xs = np.indices(gradient.shape)
    dist = np.hypot(ys.ravel() - centre[0], xs.ravel() - centre[1])
    order = np.argsort(dist, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(dist[order][np.searchsorted(cumulative, share * total - 1e-12 * total)])


def effective_receptive_fields(
    features_fn: Callable[[torch.Tensor], Sequence[torch.Tensor]], x: torch.Tensor, *, share: float = 0.5
) -> list[EffectiveRF]:
    """Effective receptive field of the centre unit of every feature map ``features_fn(x)`` returns.

    One forward pass; one backward per map (the graph is kept between them).

    Args:
        features_fn: maps a ``(1, 3, H, W)`` input to a sequence of ``(1, C, h, w)`` feature maps.
        x: the input (an image, or noise as in Luo et al.).
        share: gradient-mass share for the radius.
    """
    x = x.detach().clone().requires_grad_(True)
    results = []
    with torch.enable_grad():
        maps = list(features_fn(x))
        for i, features in enumerate(maps):
            h, w = features.shape[-2:]
            row, col = h // 2, w // 2
            (grad,) = torch.autograd.grad(features[0, :, row, col].sum(), x, retain_graph=i < len(maps) - 1)
            grad_map = grad[0].abs().sum(dim=0).float().cpu().numpy()
            height, width = grad_map.shape
            # Unit (row, col) sits over input pixel ≈ (row + 0.5)·H/h − 0.5 for same-padded strided layers.
            centre = ((row + 0.5) * height / h - 0.5, (col + 0.5) * width / w - 0.5)
            results.append(EffectiveRF(grad_map, centre, mass_radius(grad_map, centre, share), share))
    return results


def effective_receptive_field(feature_fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, *,
                              share: float = 0.5) -> EffectiveRF:
    """:func:`effective_receptive_fields` for a single feature map."""
    return effective_receptive_fields(lambda inp: [feature_fn(inp)], x, share=share)[0]
