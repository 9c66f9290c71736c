"""Tensors from what the analyses are given (tensors, NumPy arrays, nested lists), without copying, and
how many layers of them to reduce at once."""
from __future__ import annotations

import warnings
from typing import Union

import numpy as np
import torch

# The analyses only read their inputs, and the dashboard's cache hands out read-only arrays: wrapping
# them is safe, so PyTorch's warning about writing to such a tensor is silenced for this one call site
# (a process-wide filter: warnings.catch_warnings would not be thread-safe in the server).
warnings.filterwarnings("ignore", message="The given NumPy array is not writable", category=UserWarning,
                        module=__name__)


#: float32 bytes a layer-wise reduction (rollout, mean distance) may hold at once.
CHUNK_BYTES = 16 * 2**20


def layers_per_chunk(float32_per_layer: int) -> int:
    """How many layers to reduce in one operation: as many as fit :data:`CHUNK_BYTES` of float32
    temporaries (a whole small model: few operations), at least one (a large input, layer by layer)."""
    return max(1, CHUNK_BYTES // (4 * float32_per_layer))


def as_tensor(x: Union[torch.Tensor, np.ndarray]) -> torch.Tensor:
    """``x`` itself if it is a tensor, else a tensor sharing the array's memory (read-only arrays too)."""
    return x if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
