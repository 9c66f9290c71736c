"""The dashboard's service layer: every computation the sessions share, cached once per server, and the
limits that keep the server alive for a class.

- **One cache for every result** (:func:`results`): a byte-bounded LRU (:class:`vitviz.cache.ByteLRU`) of
  ``$VITVIZ_CACHE_BYTES`` (default 2 GiB) holding analyses and everything derived from them (rollouts,
  head maps, token PCAs, sinks, explanations, the pages' pictures and HTML). Keys are tuples derived from
  the :class:`Selection` (:attr:`Selection.key`) and the setting, never strings built on a page. Entries
  are stored compactly (attention in float16) with read-only arrays, because every session reads the same
  objects. One analysis may use at most a quarter of the budget; the input-size slider stops there.
- **Models** (:func:`model`): a second byte-bounded LRU of ``$VITVIZ_MODEL_BYTES`` (default 3 GiB) for the
  models' weights. A model larger than that budget on its own is refused before it is built; loading
  one that does not fit beside the others evicts the least recently used (a session still running
  with an evicted model keeps it until its run ends).
- **Forwards**: one at a time server-wide (:data:`FORWARD_LOCK`): sessions share the cores or the
  GPU anyway, and eight concurrent forwards only multiply peak memory.
- Nothing here draws: a cached Streamlit function that draws is replayed for the next user and fails
  (``CacheReplayClosureError``); progress callbacks belong to the caller.
- **GPU out of memory**: the GPU's results and models are dropped (the CPU's stay), the session is
  switched to the CPU and rerun, so the device is decided once per run.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Hashable, Optional, TypeVar

import numpy as np
import streamlit as st

from vitviz.cache import ByteLRU
from vitviz.loading.catalog import short_label  # noqa: F401  (the pages' one import for titles)
from vitviz.errors import VitvizError
from vitviz.inputs.images import SAMPLES, load_image

V = TypeVar("V")
CACHE_BYTES_VAR = "VITVIZ_CACHE_BYTES"
MODEL_BYTES_VAR = "VITVIZ_MODEL_BYTES"
DEFAULT_CACHE_BYTES = 2 * 1024 ** 3
DEFAULT_MODEL_BYTES = 3 * 1024 ** 3
FORWARD_LOCK = threading.Lock()
FORCE_CPU = "_vv_force_cpu"
LOG = logging.getLogger("vitviz.app")


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


class ModelTooLargeError(VitvizError):
    """A model's weights alone exceed the server's model budget."""


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

    @property
    def model_key(self) -> tuple:
        """Which model: name, weights folder, device, pretrained (the models cache's key)."""
        return self.model, self.weights_dir, self.device, self.pretrained

    @property
    def key(self) -> tuple:
        """Which analysis: the model, the image's digest and the input size (every result's key starts so)."""
        return (*self.model_key, self.image_key, self.size)

    def with_model(self, name: str, pretrained: bool = True) -> "Selection":
        """The same image through another model at that model's own input size."""
        return dataclasses.replace(self, model=name, pretrained=pretrained, size=None, model_label="")


def model(name: str, folder: Optional[str], device: str, pretrained: bool):
    """A loaded model shared by every session, within :func:`model_budget` (a failed load caches nothing,
    so a retry starts clean)."""
    from vitviz.loading.models import estimate_model_nbytes, load_model

    def build():
        need, budget = estimate_model_nbytes(name, weights_dir=folder), model_budget()
        if need > budget:
            raise ModelTooLargeError(
                f"{name} needs {need / 2**20:.0f} MiB of weights, over this server's model budget of "
                f"{budget / 2**20:.0f} MiB (${MODEL_BYTES_VAR})")
        loaded = load_model(name, weights_dir=folder, device=device, pretrained=pretrained, use_cache=False)
        settle_heap()
        return loaded

    return models().get_or_compute((name, folder, device, pretrained), build, model_nbytes)


def model_nbytes(loaded) -> int:
    m = loaded.model
    return sum(t.nelement() * t.element_size() for t in (*m.parameters(), *m.buffers()))


def model_for(sel: Selection):
    return model(*sel.model_key)


def analysis(sel: Selection):
    """The per-image results for the current selection (computed once per server, then cached)."""
    from vitviz.run.pipeline import frozen_compact

    loaded = model_for(sel)

    def compute():
        from vitviz.run.serving import shared_analyzer

        image = load_image(sel.image_bytes)
        with oom_fallback():
            # Token PCAs are fitted per layer when the tokens page asks (token_pca below), not for every image.
            # Sessions asking at the same time share one batched forward, run under FORWARD_LOCK (vitviz.run.serving).
            result = frozen_compact(shared_analyzer(FORWARD_LOCK).analyze(loaded, image, sel.size))
        return result  # no settle_heap here: an analysis is a few arrays, and freezing froze the sessions too

    return cached("analysis", sel.key, compute)


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


_PREFETCH = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vitviz-prefetch")
_PREFETCH_WAITING = threading.BoundedSemaphore(4)  # at most 4 queued: a fast scrub drops the rest


def prefetch(fn: Callable[..., object], *args) -> None:
    """Call ``fn(*args)`` — a cached computation a user is likely to ask for next (the layer beside
    the slider's) — on the server's one background thread, so that step is a cache hit.

    Best effort: with 4 calls already waiting it is dropped, and an error is logged, not shown. The
    call runs with this run's language and script context.
    """
    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

    from vitviz.text import i18n

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


# --------------------------------------------------------------------------- results derived from an analysis
def rollout(sel: Selection, fusion: str = "mean", discard: float = 0.0, start: int = 0,
            drop: tuple[int, ...] = ()) -> np.ndarray:
    """The rollout map of one setting (:func:`vitviz.analysis.rollout_map`) from the query the analysis' own
    rollout reads (:func:`vitviz.run.pipeline.default_query`: the class token, else the mean of the patches)."""
    from vitviz.analysis import rollout_map
    from vitviz.run.pipeline import default_query

    result = analysis(sel)
    if (fusion, discard, start) == ("mean", 0.0, 0):  # computed with the analysis, from float32 attention
        if not drop:
            return result.rollout
        if tuple(drop) == result.sink_tokens:
            return result.rollout_without_sinks

    def make():
        out = rollout_map(result.attention, result.layout, query=default_query(result.layout), head_fusion=fusion,
                          discard_ratio=discard, start_layer=start, exclude_keys=drop)
        out.setflags(write=False)
        return out

    return cached("rollout", (*sel.key, fusion, float(discard), int(start), tuple(drop)), make)


def head_maps(sel: Selection, layer: int, query) -> np.ndarray:
    """``(heads, gh, gw)`` attention maps of one layer for one query."""
    from vitviz.analysis import attention_map

    result = analysis(sel)

    def make():
        heads = result.attention.shape[1]
        out = np.stack([attention_map(result.attention, result.layout, layer, h, query) for h in range(heads)])
        out.setflags(write=False)
        return out

    return cached("head_maps", (*sel.key, layer, query), make)


def sinks(sel: Selection):
    """Attention sinks and high-norm tokens of one analysis."""
    from vitviz.analysis import find_attention_sinks, find_norm_outliers

    result = analysis(sel)

    def make():
        found = find_attention_sinks(result.attention, result.layout)
        outliers = (find_norm_outliers(result.token_norms, result.layout) if result.token_norms is not None
                    else None)
        return found, outliers

    return cached("sinks", sel.key, make)


def token_pca(sel: Selection, layer: int):
    """The PCA of one layer's patch tokens of one analysis (fitted in float32 from the cached float16 tokens)."""
    from vitviz.analysis.tokens import token_pca as fit

    result = analysis(sel)
    return cached("token_pca", (*sel.key, layer), lambda: fit(np.asarray(result.patch_tokens[layer], dtype=np.float32)))


def embedding(sel: Selection):
    """Tokens before the encoder (paper Eq. 1) for one analysis's input."""
    from vitviz.analysis import embedding_stages

    result, loaded = analysis(sel), model_for(sel)

    def make():
        with FORWARD_LOCK:
            return embedding_stages(loaded.model, result.prepared.tensor.to(device=loaded.device, dtype=loaded.dtype))

    return cached("embedding", sel.key, make)


def grad_cam(sel: Selection, class_index: int, stage: Optional[str]):
    """Grad-CAM of one class on a CNN stage (None: the last) of ``sel``'s model (a CNN) for its image."""
    from vitviz.run.explain import grad_cam as compute_cam

    loaded, prepared = model_for(sel), cnn_analysis(sel).prepared

    def make():
        x = prepared.tensor.to(device=loaded.device, dtype=loaded.dtype)
        with FORWARD_LOCK, oom_fallback():
            return compute_cam(loaded.model, x, class_index, stage)

    return cached("grad_cam", (*sel.key, int(class_index), stage), make)


def relevance(sel: Selection, class_index: Optional[int]) -> np.ndarray:
    """Gradient rollout of one class (None: top-1, or the label-free target without a head)."""
    from vitviz.run.explain import gradient_rollout

    result, loaded = analysis(sel), model_for(sel)

    def make():
        x = result.prepared.tensor.to(device=loaded.device, dtype=loaded.dtype)
        with FORWARD_LOCK, oom_fallback():
            out = gradient_rollout(loaded.model, x, class_index)
        out.setflags(write=False)
        return out

    return cached("relevance", (*sel.key, class_index), make)


def faithfulness(sel: Selection, class_index: Optional[int], cnn: bool):
    """Deletion and insertion for a CNN's Grad-CAM, or a ViT's maps (:mod:`vitviz.run.faithfulness`)."""
    from vitviz.run.faithfulness import cnn_faithfulness, vit_faithfulness

    loaded = model_for(sel)

    def make():
        with FORWARD_LOCK, oom_fallback():
            if cnn:
                return cnn_faithfulness(loaded, cnn_analysis(sel).prepared, class_index=class_index)
            return vit_faithfulness(loaded, analysis(sel), class_index=class_index)

    return cached("faithfulness", (*sel.key, class_index, cnn), make)


def trace(sel: Selection, patch: tuple[int, int]):
    """One patch's token through the encoder (:func:`vitviz.run.trace.trace_patch`) for the analysis's input."""
    from vitviz.run.trace import trace_patch

    result, loaded = analysis(sel), model_for(sel)

    def make():
        with FORWARD_LOCK, oom_fallback():
            return trace_patch(loaded.model, result.prepared.tensor.to(device=loaded.device, dtype=loaded.dtype),
                               tuple(patch))

    return cached("trace", (*sel.key, tuple(patch)), make)


def projection(sel: Selection):
    """The patch projection as ``(E, b)`` (:func:`vitviz.run.trace.projection_weights`)."""
    from vitviz.run.trace import projection_weights

    return cached("projection", sel.model_key, lambda: projection_weights(model_for(sel).model))


def block(sel: Selection, layer: int):
    """One block's LayerNorm, LayerScale and first MLP weights (:func:`vitviz.run.trace.block_weights`)."""
    from vitviz.run.trace import block_weights

    return cached("block", (*sel.model_key, layer), lambda: block_weights(model_for(sel).model, layer))


def dataset_distance(name: str, folder: Optional[str], device: str, pretrained: bool,
                     size: Optional[tuple[int, int]], images: tuple[bytes, ...],
                     progress: Optional[Callable[[int], None]] = None):
    """Mean attention distance over a set of images, streamed in batches and shared across sessions.
    ``progress(n)`` is the caller's and runs outside any Streamlit cache: a cached function that draws is
    replayed for the next user and fails (CacheReplayClosureError)."""
    from vitviz.inputs.images import fit_within
    from vitviz.run.pipeline import dataset_mean_distance

    def make():
        loaded = model(name, folder, device, pretrained)
        with FORWARD_LOCK, oom_fallback():
            return dataset_mean_distance(loaded, (fit_within(load_image(d)) for d in images), size, batch_size=8,
                                         progress=progress)

    return cached("dataset_distance", (name, folder, device, pretrained, size, images_key(images)), make)


def cnn_analysis(sel: Selection):
    """Stage features, receptive fields and predictions of ``sel``'s model (a CNN) for its image."""
    from vitviz.run.pipeline import analyze_cnn

    loaded = model_for(sel)

    def make():
        with FORWARD_LOCK, oom_fallback():
            return analyze_cnn(loaded, load_image(sel.image_bytes))

    return cached("cnn_analysis", sel.key, make)


def upload_bytes(data: bytes) -> bytes:
    """What a session keeps of an upload: the file itself, or, when it is larger than the analyses use
    (:data:`vitviz.inputs.images.MAX_SIDE`), a PNG of it scaled down, made once per server as soon as it is
    decoded. An 8000×8000 upload of 187 KB decoded to 183 MiB in every analysis that read it."""
    from vitviz.inputs.images import scaled_png

    def make() -> bytes:
        kept = scaled_png(data)
        if kept is not data:
            release_memory()  # the full-size decode is garbage now: hand it back to the system
        return kept

    return cached("upload", (hashlib.sha256(data).hexdigest(),), make)


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
    from vitviz.text.i18n import t

    names = sample_names()
    sels = []
    for name in names:
        data = sample_bytes(name)
        sels.append(dataclasses.replace(sel, image_key=hashlib.sha256(data).hexdigest(), image_bytes=data,
                                        image_label=t("sidebar.sample_label", name=name)))
    return sels, names


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


# ------------------------------------------------------------------------------- the Talk page
def talk_slides(sel: Selection, lang: str):
    """The talk's slides (:func:`vitviz.talk.talk_slides`) for one analysis in ``lang``: data only (titles,
    texts, PNG bytes, tables), about 3 MB, kept in :func:`results` under the analysis's key and the language."""
    from vitviz.talk import talk_slides as build

    loaded, result = model_for(sel), analysis(sel)
    return cached("talk_slides", (*sel.key, lang, sel.image_label),
                  lambda: build(loaded, result, lang=lang, image_name=sel.image_label))


def talk_pptx(sel: Selection, lang: str) -> bytes:
    """The same slides as the bytes of a .pptx file (:func:`vitviz.talk.deck.pptx_bytes`)."""
    from vitviz.talk.deck import pptx_bytes

    slides = talk_slides(sel, lang)
    return cached("talk_pptx", (*sel.key, lang, sel.image_label), lambda: pptx_bytes(slides))
