"""The server's shared stores and their byte budgets.

- :func:`results`: one byte-bounded LRU (:class:`vitviz.cache.ByteLRU`) of ``$VITVIZ_CACHE_BYTES`` (default 2 GiB)
  for every result the sessions share; :func:`cached` puts a result in it under a tuple key.
- :func:`models`: a second one of ``$VITVIZ_MODEL_BYTES`` (default 3 GiB) for the loaded models.
- Memory goes back to the system after an eviction (:func:`release_memory`); :func:`settle_heap` takes a
  model load's objects out of the garbage collector's reach.

Created once per server (``st.cache_resource``); nothing here draws.
"""
from __future__ import annotations

import os
from typing import Callable, TypeVar

import streamlit as st

from vitviz.cache import ByteLRU


V = TypeVar("V")


CACHE_BYTES_VAR = "VITVIZ_CACHE_BYTES"


MODEL_BYTES_VAR = "VITVIZ_MODEL_BYTES"


DEFAULT_CACHE_BYTES = 2 * 1024 ** 3


DEFAULT_MODEL_BYTES = 3 * 1024 ** 3


def _bytes_from_env(var: str, default: int) -> int:
    text = os.environ.get(var, "").strip().upper().removesuffix("B").removesuffix("I")
    if not text:
        return default
    scale = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}.get(text[-1], 1)
    try:
        return max(1, int(float(text.rstrip("KMG")) * scale))
    except ValueError:
        return default


def cache_budget() -> int:
    """Bytes all cached results may hold together: ``$VITVIZ_CACHE_BYTES`` (e.g. ``4G``), default 2 GiB."""
    return _bytes_from_env(CACHE_BYTES_VAR, DEFAULT_CACHE_BYTES)


def model_budget() -> int:
    """Bytes the loaded models' weights may hold together: ``$VITVIZ_MODEL_BYTES``, default 3 GiB."""
    return _bytes_from_env(MODEL_BYTES_VAR, DEFAULT_MODEL_BYTES)


def per_analysis_budget() -> int:
    return cache_budget() // 4


@st.cache_resource(show_spinner=False)
def results() -> ByteLRU:
    """The server's one cache of results (a resource: created once, shared by all sessions)."""
    return ByteLRU(cache_budget(), on_evict=release_memory)


@st.cache_resource(show_spinner=False)
def models() -> ByteLRU:
    """The server's loaded models, bounded by :func:`model_budget`."""
    return ByteLRU(model_budget(), on_evict=release_memory)


def cached(kind: str, key: tuple, make: Callable[[], V]) -> V:
    """``make()`` once per server for ``(kind, *key)``, kept in :func:`results` by its bytes
    (:func:`vitviz.run.pipeline.analysis_nbytes`: its arrays, tensors and text, HTML and data URIs included)."""
    from vitviz.run.pipeline import analysis_nbytes

    return results().get_or_compute((kind, *key), make, analysis_nbytes)


def release_memory() -> None:
    """Hand freed memory back to the operating system after an eviction (glibc keeps it otherwise: the
    server stayed at 3 GB after a class had left). A no-op where ``malloc_trim`` does not exist."""
    _malloc_trim()


def _malloc_trim() -> None:
    global _TRIM
    if _TRIM is None:
        try:
            import ctypes

            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM = None


def settle_heap() -> None:
    """Move every object alive now out of the cyclic garbage collector's reach (``gc.freeze``).

    A model load leaves hundreds of thousands of long-lived objects (torch, timm, the model's
    modules); every later full collection walked them all, ~300 ms on this 2-core CPU, at random
    moments of a slider step. Frozen objects are still freed by reference counting when a cache
    drops them; only cycles among them wait (``gc.unfreeze`` would hand them back). So it runs after a
    model load only (rare), never per analysis: every session alive at a freeze (its Streamlit session
    object, its uploads, its state: cycles) stayed in memory for good after it closed.
    """
    import gc

    gc.freeze()
