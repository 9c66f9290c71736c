"""Class-specific explanations: Grad-CAM for CNNs, gradient-weighted attention rollout for ViTs.

Both run one forward and one backward pass of the first image of ``x`` with autograd enabled
(also when called inside ``torch.inference_mode``); gradients are taken with
``torch.autograd.grad``, so nothing accumulates in the parameters' ``.grad``.

* :func:`grad_cam` (Selvaraju et al. 2017) — for timm CNNs. The stage is one of timm's
  ``feature_info`` stages, the same feature maps :func:`vitviz.run.pipeline.analyze_cnn` shows
  (``forward_intermediates``), and the logits are ``forward_head`` of the same pass.
* :func:`gradient_rollout` (Chefer, Gur & Wolf 2021, "Generic Attention-model Explainability for
  Interpreting Bi-Modal and Encoder-Decoder Transformers") — for timm ViTs. Each block's attention
  probabilities come from :func:`vitviz.run.capture.attention_hooks` (the very tensors the forward
  uses, float32), kept with their autograd graph; replaced forwards are restored on exit, also on
  error.

Targets: a classifier's logit of the chosen class (before softmax). A ViT without a head
(``num_classes == 0``, e.g. DINOv2) has no classes: its label-free target is the L2 norm of the
pooled output feature, ``‖model(x)[0]‖₂`` (what a linear probe on that feature would scale with).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vitviz.analysis.cnn_features import stage_names
from vitviz.analysis.predictions import class_names
from vitviz.run.capture import Method, attention_hooks
from vitviz.errors import UnsupportedModelError, VitvizError
from vitviz.model_parts import num_classes
from vitviz.inputs.preprocess import token_layout

ClassArg = Union[int, str]

#: What the label-free target of a headless model is, in words (for summaries).
LABEL_FREE_TARGET = "L2 norm of the pooled output feature"


def resolve_class(model: nn.Module, cls: ClassArg) -> int:
    """A class index from an index or a class name.

    ``cls`` may be an int, a string of digits (an index), or a name matched case-insensitively
    against the model's class names (:func:`vitviz.analysis.class_names`), each name's
    comma-separated synonyms included (ImageNet's ``"tabby, tabby cat"`` answers to ``"tabby cat"``):
    first exactly, then as a prefix. The match must name exactly one class.

    Raises:
        VitvizError: the model has no head, the index is out of range, the names are unknown,
            or the name matches no class or several.
    """
    count = num_classes(model)
    if count == 0:
        raise VitvizError(f"{type(model).__name__} has no classifier head, so it has no classes to explain")
    if isinstance(cls, str) and cls.strip().isdigit():
        cls = int(cls.strip())
    if isinstance(cls, (int, np.integer)) and not isinstance(cls, bool):
        if not 0 <= int(cls) < count:
            raise VitvizError(f"class index {int(cls)} is out of range: the model has {count} classes "
                              f"(0–{count - 1})")
        return int(cls)
    if not isinstance(cls, str) or not cls.strip():
        raise VitvizError(f"a class is an index or a class name, not {cls!r}")
    names = class_names(model)
    if names is None:
        raise VitvizError(f"the class names of this {count}-class head are unknown: give a class index "
                          f"(0–{count - 1})")
    query = cls.strip().lower()
    synonyms = [[s.strip().lower() for s in [name, *name.split(",")] if s.strip()] for name in names]
    for matches in ([i for i, syn in enumerate(synonyms) if query in syn],
                    [i for i, syn in enumerate(synonyms) if any(s.startswith(query) for s in syn)]):
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = "; ".join(f"{i} '{names[i]}'" for i in matches[:8]) + ("; …" if len(matches) > 8 else "")
            raise VitvizError(f"class '{cls}' is ambiguous ({len(matches)} classes: {shown}): give more of the "
                              f"name or the index")
    raise VitvizError(f"no class named '{cls}' (or starting so) among the model's {count} classes")


def _first_image(x: torch.Tensor) -> torch.Tensor:
    """``x[:1]`` as a fresh graph leaf that requires grad (a graph exists even for frozen weights).

    Call with autograd on: a copy made outside inference mode is a normal tensor even when ``x``
    was made inside it.
    """
    if x.ndim != 4:
        raise VitvizError(f"expected a (B, 3, H, W) input, got shape {tuple(x.shape)}")
    return x[:1].detach().clone().requires_grad_(True)


@contextmanager
def _autograd_on() -> Iterator[None]:
    """Autograd on, also inside a caller's ``torch.inference_mode``."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


# ----------------------------------------------------------------------------- Grad-CAM


@dataclass(frozen=True)
class GradCAM:
    """A Grad-CAM map for one image and one class.

    Attributes:
        map: ``(h, w)`` float32 in [0, 1] at the network input's size.
        coarse: ``(gh, gw)`` float32, ``ReLU(Σ_k α_k A_k)`` at the stage's resolution, unscaled.
        class_index: the explained class.
        stage: the stage module whose activations were used (e.g. ``"layer4"``).
    """

    map: np.ndarray
    coarse: np.ndarray
    class_index: int
    stage: str

    def cell_means(self) -> np.ndarray:
        """``(gh, gw)``: ``map`` averaged over each stage cell, on the map's [0, 1] scale (a read-out
        of the picture per cell). The input is split into ``gh × gw`` blocks at
        ``floor(i · h / gh)``: equal blocks when the stage's stride divides the input."""
        (h, w), (gh, gw) = self.map.shape, self.coarse.shape
        ys, xs = np.arange(gh) * h // gh, np.arange(gw) * w // gw  # each cell's first row and column
        sums = np.add.reduceat(np.add.reduceat(self.map.astype(np.float64), ys, axis=0), xs, axis=1)
        return (sums / np.outer(np.diff(ys, append=h), np.diff(xs, append=w))).astype(np.float32)


def grad_cam(model: nn.Module, x: torch.Tensor, class_index: ClassArg, stage: Optional[str] = None) -> GradCAM:
    """Grad-CAM (Selvaraju et al. 2017) of one class for the first image of ``x``.

    With ``A`` the ``(C, gh, gw)`` activations of ``stage`` (default: the last feature stage) and
    ``y_c`` the class logit: ``α_k = mean over positions of ∂y_c/∂A_k``, ``coarse = ReLU(Σ_k α_k A_k)``;
    ``map`` is ``coarse`` upsampled bilinearly (``align_corners=False``) to the input's ``h × w`` and
    divided by its maximum, so it lies in [0, 1] with max 1. When the map is all zero (no position
    speaks for the class) it stays all zero — it is not stretched.

    Args:
        model: a timm CNN with ``feature_info`` and ``forward_intermediates``, and a classifier head.
        x: ``(B, 3, h, w)`` on the model's device and dtype; only the first image is explained.
        class_index: an index or a class name (see :func:`resolve_class`).
        stage: a module name from :func:`vitviz.analysis.cnn_features.stage_names`.
    """
    names = stage_names(model)
    stage = names[-1] if stage is None else stage
    if stage not in names:
        raise VitvizError(f"unknown stage '{stage}': the model's stages are {', '.join(names)}")
    index = resolve_class(model, class_index)
    with _autograd_on():
        inp = _first_image(x)
        final, maps = getattr(model, "forward_intermediates")(inp, intermediates_only=False)
        activations = maps[names.index(stage)]
        logits = getattr(model, "forward_head")(final)
        (grad,) = torch.autograd.grad(logits[0, index], activations)
    with torch.no_grad():
        acts, grads = activations[0].float(), grad[0].float()
        weights = grads.mean(dim=(1, 2))                                # α_k
        coarse = torch.relu(torch.einsum("k,khw->hw", weights, acts))
        full = F.interpolate(coarse[None, None], size=tuple(inp.shape[-2:]), mode="bilinear",
                             align_corners=False)[0, 0].clamp_min(0)     # bilinear can't go below 0; guard rounding
        peak = full.max()
        full = full / peak if peak > 0 else full
    return GradCAM(map=full.cpu().numpy().astype(np.float32), coarse=coarse.cpu().numpy().astype(np.float32),
                   class_index=index, stage=stage)


# ----------------------------------------------------------------------------- gradient-weighted rollout


@contextmanager
def attention_with_graph(model: nn.Module, method: Method = "auto") -> Iterator[list[torch.Tensor]]:
    """Keep every block's attention probabilities of the forwards run inside, with their graph.

    Yields a list that each forward fills with the ``(B, heads, N, N)`` float32 probabilities in
    depth order (:func:`vitviz.run.capture.attention_hooks`; one entry per block per forward). Run the
    forward with autograd enabled to differentiate through them. Forwards and hooks are restored
    on exit, also on error.
    """
    kept: list[torch.Tensor] = []
    with attention_hooks(model, lambda _layer, probs: kept.append(probs), method):
        yield kept


def gradient_rollout(model: nn.Module, x: torch.Tensor, class_index: Optional[ClassArg] = None) -> np.ndarray:
    """Chefer et al. 2021 relevance of every patch for the first image of ``x``: ``(gh, gw)`` float32, ≥ 0.

    ``R = I`` (tokens × tokens); for every block from the first up, ``Ā = mean over heads of
    (∇A ⊙ A)⁺`` — ``A`` the block's attention probabilities, ``∇A = ∂target/∂A``, ``⁺`` the positive
    part — and ``R ← R + Ā · R``. The map is the class token's row of ``R`` over the patch columns
    (without a class token: the mean of the patch rows), reshaped to the grid; not renormalised.

    Target: the logit of ``class_index`` for a classifier (``None``: its top-1 class); for a model
    without a head, the label-free :data:`LABEL_FREE_TARGET` ``‖model(x)[0]‖₂``, and ``class_index``
    must be None.

    Args:
        model: a timm ViT (blocks with timm ``Attention``), eval mode.
        x: ``(B, 3, H, W)`` on the model's device and dtype.
        class_index: an index or a class name (see :func:`resolve_class`), or None.
    """
    headless = num_classes(model) == 0
    if headless and class_index is not None:
        raise VitvizError(f"{type(model).__name__} has no classifier head: explain it label-free "
                          f"(class_index=None, target: {LABEL_FREE_TARGET})")
    index = None if headless or class_index is None else resolve_class(model, class_index)
    layout = token_layout(model, (int(x.shape[-2]), int(x.shape[-1])))
    with _autograd_on(), attention_with_graph(model) as probs:
        inp = _first_image(x)
        output = model(inp)
        if headless:
            target = output[0].float().norm()
        else:
            target = output[0, int(output[0].argmax()) if index is None else index]
        grads: Sequence[Optional[torch.Tensor]] = torch.autograd.grad(target, probs, allow_unused=True)
    used = [g for g in grads if g is not None]
    if len(used) != len(grads):
        raise UnsupportedModelError("the attention probabilities are not on the gradient path of this model's output")
    with torch.no_grad():
        tokens = probs[0].shape[-1]
        relevance = torch.eye(tokens, device=probs[0].device, dtype=torch.float32)
        for attn, grad in zip(probs, used):
            fused = (grad[0].float() * attn[0].float()).clamp_min(0).mean(dim=0)
            relevance = relevance + fused @ relevance
        prefix = layout.num_prefix_tokens
        rows = (relevance[layout.prefix_names.index("cls")] if layout.has_class_token
                else relevance[prefix:].mean(dim=0))
        return rows[prefix:].reshape(layout.grid).cpu().numpy().astype(np.float32)
