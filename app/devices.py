"""Where a session computes: the device picker's ``auto``, and what happens when a GPU runs out of memory
(the GPU's models and results are dropped, the CPU's stay; the session is switched to the CPU and rerun, so the
device is decided once per run).
"""
from __future__ import annotations

from typing import Hashable

import streamlit as st

from vitviz_dashboard.caches import models, results


FORCE_CPU = "_vv_force_cpu"


def auto_device() -> str:
    """What the device picker's ``auto`` means: the library's rule (:func:`vitviz.loading.models.resolve_device`),
    ``cuda`` when a GPU is usable, else ``cpu``."""
    from vitviz.loading.models import resolve_device as library_device

    return library_device("auto").type


def resolve_device(choice: str) -> str:
    """``auto`` → :func:`auto_device`; a session that ran out of GPU memory stays on the CPU."""
    if st.session_state.get(FORCE_CPU):
        return "cpu"
    return auto_device() if choice == "auto" else choice


# --------------------------------------------------------------------------- out of GPU memory
class GpuOutOfMemory(Exception):
    """Raised (after the GPU's entries were freed) when a computation ran out of GPU memory."""


def is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


class oom_fallback:
    """Turn a GPU out-of-memory error into :class:`GpuOutOfMemory` after freeing the GPU's entries."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and not isinstance(exc, GpuOutOfMemory) and is_oom(exc):
            free_gpu_memory()
            raise GpuOutOfMemory(str(exc)[:200]) from exc
        return False


def on_gpu(key: Hashable) -> bool:
    """Whether a cache key names a model or a result on a GPU (its device field is ``cuda…``)."""
    return isinstance(key, tuple) and any(isinstance(part, str) and part.startswith("cuda") for part in key)


def free_gpu_memory() -> None:
    """Drop the models and results that live on a GPU and return their memory to the driver; every other
    session's CPU models and results stay (``st.cache_resource.clear()`` emptied them all)."""
    import torch

    models().discard(on_gpu)
    results().discard(on_gpu)
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def switch_to_cpu_and_rerun() -> None:
    """After an out-of-memory error: this session runs on the CPU from the next run on (decided once)."""
    st.session_state[FORCE_CPU] = True
    st.rerun()
