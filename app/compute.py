"""Cached computations shared by every session of one server, and the limits that keep it alive.

- **Models**: ``st.cache_resource`` per (name, weights folder, device, pretrained). Streamlit holds
  a lock per cache key, so a model loading (or downloading) blocks only sessions asking for that
  model; the device is resolved (``auto`` → ``cpu``/``cuda``) before it becomes a key.
- **Forwards**: one at a time server-wide (:data:`FORWARD_LOCK`): sessions share the cores or the
  GPU anyway, and eight concurrent forwards only multiply peak memory.
- **Analyses**: a byte-bounded LRU (:class:`vitviz.cache.ByteLRU`), total ``$VITVIZ_CACHE_BYTES``
  (default 2 GiB). Entries are stored compactly (attention in float16) with read-only arrays,
  because every session reads the same objects. One analysis may use at most a quarter of the
  budget; the input-size slider stops there (``sidebar._size_picker``).
- **Derived maps** (rollout per setting, per-head maps per layer) are cached per analysis.
- **GPU out of memory**: caches are freed, the session is switched to the CPU and rerun, so the
  device is decided once per run.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import streamlit as st

from vitviz.cache import ByteLRU
from vitviz.images import SAMPLES, load_image

CACHE_BYTES_VAR = "VITVIZ_CACHE_BYTES"
DEFAULT_CACHE_BYTES = 2 * 1024 ** 3
FORWARD_LOCK = threading.Lock()
FORCE_CPU = "_vv_force_cpu"


def cache_budget() -> int:
    """Bytes all cached analyses may hold together: ``$VITVIZ_CACHE_BYTES`` (e.g. ``4G``), default 2 GiB."""
    text = os.environ.get(CACHE_BYTES_VAR, "").strip().upper()
    if not text:
        return DEFAULT_CACHE_BYTES
    scale = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}.get(text[-1], 1)
    try:
        return max(1, int(float(text.rstrip("KMG")) * scale))
    except ValueError:
        return DEFAULT_CACHE_BYTES


def per_analysis_budget() -> int:
    return cache_budget() // 4


@st.cache_resource(show_spinner=False)
def analysis_cache() -> ByteLRU:
    """The server's one analysis cache (a resource: created once, shared by all sessions)."""
    return ByteLRU(cache_budget())


def short_label(label: str) -> str:
    """A model label without its parenthesised description: "DINOv2 ViT-S/14", for titles and pickers."""
    return re.sub(r"\s*\([^)]*\)", "", label).strip() or label


def auto_device() -> str:
    """What the device picker's ``auto`` means: ``cuda`` when a GPU is usable, else ``cpu``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(choice: str) -> str:
    """``auto`` → :func:`auto_device`; a session that ran out of GPU memory stays on the CPU."""
    if st.session_state.get(FORCE_CPU):
        return "cpu"
    return auto_device() if choice == "auto" else choice


@dataclass(frozen=True)
class Selection:
    """What the sidebar chose for this run; every page reads it."""

    model: str
    pretrained: bool
    device: str  # resolved: "cpu" or "cuda"
    weights_dir: Optional[str]
    image_label: str
    image_key: str  # sha256 of the bytes: cache key, never a file name
    image_bytes: bytes
    size: Optional[tuple[int, int]]
    model_label: str = ""
    presenter: bool = False

    @property
    def short_label(self) -> str:
        return short_label(self.model_label) if self.model_label else self.model

    @property
    def untrained(self) -> bool:
        return not self.pretrained


@st.cache_resource(max_entries=4, show_spinner=False)
def model(name: str, folder: Optional[str], device: str, pretrained: bool):
    """A loaded model, shared by every session (a failed load is not cached, so a retry starts clean)."""
    from vitviz.models import load_model

    loaded = load_model(name, weights_dir=folder, device=device, pretrained=pretrained, use_cache=False)
    settle_heap()
    return loaded


def model_for(sel: Selection):
    return model(sel.model, sel.weights_dir, sel.device, sel.pretrained)


def analysis(sel: Selection):
    """The per-image results for the current selection (computed once per server, then cached)."""
    from vitviz.pipeline import analysis_nbytes, frozen_compact

    loaded = model_for(sel)

    def compute():
        from vitviz.serving import shared_analyzer

        image = load_image(sel.image_bytes)
        with oom_fallback():
            # Token PCAs are fitted per layer when the tokens page asks (token_pca below), not for every image.
            # Sessions asking at the same time share one batched forward, run under FORWARD_LOCK (vitviz.serving).
            result = frozen_compact(shared_analyzer(FORWARD_LOCK).analyze(loaded, image, sel.size))
        settle_heap()
        return result

    return analysis_cache().get_or_compute(analysis_id(sel), compute, analysis_nbytes)


def settle_heap() -> None:
    """Move every object alive now out of the cyclic garbage collector's reach (``gc.freeze``).

    A model load leaves hundreds of thousands of long-lived objects (torch, timm, the model's
    modules); every later full collection walked them all, ~300 ms on this 2-core CPU, at random
    moments of a slider step. Frozen objects are still freed by reference counting when a cache
    drops them; only cycles among them wait (``gc.unfreeze`` would hand them back).
    """
    import gc

    gc.freeze()


_PREFETCH = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vitviz-prefetch")
_PREFETCH_WAITING = threading.BoundedSemaphore(4)  # at most 4 queued: a fast scrub drops the rest
LOG = logging.getLogger("vitviz.app")


def prefetch(fn: Callable[..., object], *args) -> None:
    """Call ``fn(*args)`` — a cached computation a user is likely to ask for next (the layer beside
    the slider's) — on the server's one background thread, so that step is a cache hit.

    Best effort: with 4 calls already waiting it is dropped, and an error is logged, not shown. The
    call runs with this run's language and script context (so Streamlit's caches know the session).
    """
    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

    from vitviz import i18n

    if not _PREFETCH_WAITING.acquire(blocking=False):
        return
    lang, ctx = i18n.language(), get_script_run_ctx()

    def run() -> None:
        try:
            add_script_run_ctx(threading.current_thread(), ctx)
            i18n.set_language(lang)
            fn(*args)
        except Exception:  # noqa: BLE001 - the user never asked for this; the real request will show any error
            LOG.warning("prefetch of %s failed", getattr(fn, "__name__", fn), exc_info=True)
        finally:
            _PREFETCH_WAITING.release()

    _PREFETCH.submit(run)


@st.cache_resource(max_entries=64, show_spinner=False)
def rollout(analysis_id: str, query, fusion: str, discard: float, start: int, drop: tuple[int, ...],
            _result) -> np.ndarray:
    """A rollout map for one setting of one analysis (``analysis_id`` names the analysis)."""
    from vitviz.analysis import rollout_map

    out = rollout_map(_result.attention, _result.layout, query=query, head_fusion=fusion, discard_ratio=discard,
                      start_layer=start, exclude_keys=drop)
    out.setflags(write=False)
    return out


@st.cache_resource(max_entries=64, show_spinner=False)
def head_maps(analysis_id: str, layer: int, query, _result) -> np.ndarray:
    """``(heads, gh, gw)`` attention maps of one layer for one query."""
    from vitviz.analysis import attention_map

    heads = _result.attention.shape[1]
    out = np.stack([attention_map(_result.attention, _result.layout, layer, h, query) for h in range(heads)])
    out.setflags(write=False)
    return out


@st.cache_resource(max_entries=32, show_spinner=False)
def grad_cam(key: str, class_index: int, stage: Optional[str], _loaded, _prepared):
    """Grad-CAM of one class on a CNN stage (None: the last) for one image; ``key`` names model, weights and image."""
    from vitviz.explain import grad_cam as compute_cam

    x = _prepared.tensor.to(device=_loaded.device, dtype=_loaded.dtype)
    with FORWARD_LOCK, oom_fallback():
        return compute_cam(_loaded.model, x, class_index, stage)


@st.cache_resource(max_entries=64, show_spinner=False)
def token_pca(analysis_id: str, layer: int, _result):
    """The PCA of one layer's patch tokens of one analysis (fitted in float32 from the cached float16 tokens)."""
    from vitviz.analysis.tokens import token_pca as fit

    return fit(np.asarray(_result.patch_tokens[layer], dtype=np.float32))


@st.cache_resource(max_entries=16, show_spinner=False)
def sinks(analysis_id: str, _result):
    """Attention sinks and high-norm tokens of one analysis."""
    from vitviz.analysis import find_attention_sinks, find_norm_outliers

    found = find_attention_sinks(_result.attention, _result.layout)
    outliers = find_norm_outliers(_result.token_norms, _result.layout) if _result.token_norms is not None else None
    return found, outliers


def analysis_id(sel: Selection) -> str:
    return "|".join(map(str, (sel.model, sel.weights_dir, sel.device, sel.pretrained, sel.image_key, sel.size)))


@st.cache_resource(max_entries=8, show_spinner=False)
def embedding(analysis_id: str, name: str, folder: Optional[str], device: str, pretrained: bool, _tensor):
    """Tokens before the encoder (paper Eq. 1) for one analysis's input."""
    from vitviz.analysis import embedding_stages

    loaded = model(name, folder, device, pretrained)
    with FORWARD_LOCK:
        return embedding_stages(loaded.model, _tensor.to(device=loaded.device, dtype=loaded.dtype))


def dataset_distance(name: str, folder: Optional[str], device: str, pretrained: bool,
                     size: Optional[tuple[int, int]], images: tuple[bytes, ...],
                     progress: Optional[Callable[[int], None]] = None):
    """Mean attention distance over a set of images, streamed in batches, kept in the server's byte-bounded
    cache (shared across sessions). ``progress(n)`` is the caller's and runs outside any Streamlit cache:
    a cached function that draws is replayed for the next user and fails (CacheReplayClosureError)."""
    from vitviz.pipeline import analysis_nbytes, dataset_mean_distance

    def compute():
        loaded = model(name, folder, device, pretrained)
        with FORWARD_LOCK, oom_fallback():
            return dataset_mean_distance(loaded, (load_image(d) for d in images), size, batch_size=8,
                                         progress=progress)

    key = ("dataset_distance", name, folder, device, pretrained, size, images_key(images))
    return analysis_cache().get_or_compute(key, compute, analysis_nbytes)


@st.cache_resource(max_entries=4, show_spinner=False)
def cnn_analysis(name: str, folder: Optional[str], device: str, pretrained: bool, image_key: str,
                 _image_bytes: bytes):
    """Stage features, receptive fields and predictions of a CNN for one image."""
    from vitviz.pipeline import analyze_cnn

    loaded = model(name, folder, device, pretrained)
    with FORWARD_LOCK, oom_fallback():
        return analyze_cnn(loaded, load_image(_image_bytes))


def images_key(images: tuple[bytes, ...]) -> str:
    digest = hashlib.sha256()
    for data in images:
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


@st.cache_data(max_entries=32, show_spinner=False)
def sample_bytes(name: str) -> bytes:
    return (SAMPLES / f"{name}.jpg").read_bytes()


def sample_names() -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob("*.jpg"))


def sample_selections(sel: Selection) -> tuple[list[Selection], list[str]]:
    """``sel`` (same model, weights, device and size) on every bundled sample, and the samples' names."""
    from vitviz.i18n import t

    names = sample_names()
    sels = []
    for name in names:
        data = sample_bytes(name)
        sels.append(dataclasses.replace(sel, image_key=hashlib.sha256(data).hexdigest(), image_bytes=data,
                                        image_label=t("sidebar.sample_label", name=name)))
    return sels, names


# --------------------------------------------------------------------------- out of GPU memory
class GpuOutOfMemory(Exception):
    """Raised (after caches were freed) when a computation ran out of GPU memory."""


def is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


class oom_fallback:
    """Turn a GPU out-of-memory error into :class:`GpuOutOfMemory` after freeing every cache."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and not isinstance(exc, GpuOutOfMemory) and is_oom(exc):
            free_gpu_memory()
            raise GpuOutOfMemory(str(exc)[:200]) from exc
        return False


def free_gpu_memory() -> None:
    """Drop every cached model and result (they hold GPU memory) and return it to the driver."""
    import torch

    analysis_cache().clear()
    st.cache_resource.clear()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def switch_to_cpu_and_rerun() -> None:
    """After an out-of-memory error: this session runs on the CPU from the next run on (decided once)."""
    st.session_state[FORCE_CPU] = True
    st.rerun()
