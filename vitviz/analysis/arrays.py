"""Tensors from what the analyses are given (tensors, NumPy arrays, nested lists), without copying."""
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


def as_tensor(x: Union[torch.Tensor, np.ndarray]) -> torch.Tensor:
    """``x`` itself if it is a tensor, else a tensor sharing the array's memory (read-only arrays too)."""
    return x if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
