"""Top-k class predictions with human-readable ImageNet names (shipped with timm).

Convention: probabilities are the softmax over all classes of the model's logits.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from vitviz.analysis.arrays import as_tensor
from vitviz.model_parts import num_classes


@dataclass(frozen=True)
class Prediction:
    index: int
    label: str
    probability: float


def class_names(model: nn.Module) -> Optional[tuple[str, ...]]:
    """Class names for the model's head (ImageNet-1k/21k via timm), or None if unknown/headless."""
    classes = num_classes(model)
    if classes == 0:
        return None
    from timm.data import infer_imagenet_subset

    subset = infer_imagenet_subset(model)
    return _names(subset, classes) if subset is not None else None


@lru_cache(maxsize=4)
def _names(subset: str, num_classes: int) -> Optional[tuple[str, ...]]:
    """timm's descriptions for an ImageNet subset, read once per process."""
    from timm.data import ImageNetInfo

    info = ImageNetInfo(subset)
    if info.num_classes() != num_classes:
        return None
    return tuple(info.index_to_description(i) for i in range(num_classes))


def top_k(
    logits: Union[torch.Tensor, np.ndarray], k: int = 5, names: Optional[Sequence[str]] = None
) -> list[Prediction]:
    """The ``k`` most probable classes of one ``(classes,)`` logit vector, best first."""
    logits = as_tensor(logits)
    probs = logits.detach().float().reshape(-1).softmax(dim=0).cpu()
    values, indices = probs.topk(min(k, probs.numel()))
    return [
        Prediction(int(i), names[int(i)] if names is not None else f"class {int(i)}", float(v))
        for v, i in zip(values, indices)
    ]
