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

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

import numpy as np

from vitviz.errors import VitvizError
from vitviz.inputs.images import load_image
from vitviz_dashboard.caches import MODEL_BYTES_VAR, cached, model_budget, models, settle_heap
from vitviz_dashboard.selection import Selection, images_key
from vitviz_dashboard.devices import oom_fallback


FORWARD_LOCK = threading.Lock()


LOG = logging.getLogger("vitviz.app")


class ModelTooLargeError(VitvizError):
    """A model's weights alone exceed the server's model budget."""


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
    rollout reads (:func:`vitviz.analysis.default_query`: the class token, else the mean of the patches)."""
    from vitviz.analysis import rollout_map
    from vitviz.analysis import default_query

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
