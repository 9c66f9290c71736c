"""Per-image analyses for a server with many sessions: each session's request joins a batched forward.

:class:`BatchedAnalyzer` is :func:`vitviz.run.pipeline.analyze_image` behind a
:class:`vitviz.run.batching.MicroBatcher`: the image is decoded and preprocessed in the caller's thread
(outside any lock), then requests for the same loaded model and input size that meet in the queue
run as one :func:`vitviz.run.pipeline.analyze_prepared_batch`, and each caller gets its own
:class:`~vitviz.run.pipeline.ImageAnalysis` (equal to a single-image analysis to float rounding) as
soon as its part of the batch is done (:func:`vitviz.run.pipeline.iter_analyses`). A
request that finds nothing running runs at once, alone, as before.

A batch is capped by **images** (``$VITVIZ_BATCH``; ``1`` turns batching off) and by the **bytes**
its forward holds at once (:data:`BATCH_BYTES`, estimated from the model and size with
:func:`transient_nbytes`): ViT-S/14 needs ~21 MiB per image at 224 px, so 8 fit; at 518 px one image
needs ~550 MiB, so larger inputs run one at a time, as before.

Without ``$VITVIZ_BATCH`` a model on a GPU batches up to 8 images and a model on the CPU runs each
image alone: on a 2-core CPU batches took the same server CPU time as single forwards and made first
pages later (``bench/hall.py``; the runs are in ``bench/RESULTS.md``), because the forward is only part
of a first page's work there and a batch finishes several sessions at once, whose pages then render at
the same time.

**Threads on the CPU** (:func:`share_cores`, called once at server start). torch's default gives every
thread that computes an intra-op team of one thread per core, and its OpenMP workers spin while they wait:
a server's script threads (each run a new one) each got a team for their small tensor ops, and a
two-thread analysis forward on two cores that the sessions' Python also wants cost more CPU than a
one-thread one (several times more while the spinning worker waited for a descheduled partner on a
loaded machine; ``bench/RESULTS.md``). So after :func:`share_cores` every thread computes on
one core, and the analysis forward uses all of them only when no other request is queued behind it
(:func:`forward_threads`): one student's new image keeps the two-thread forward; in a burst each
forward runs on one core while the other core renders the pages. The forward's numbers do not depend
on the thread count (bit-identical on this CPU; the rollout's matrix products may differ in the last
bit of float32).
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Optional

from PIL import Image

from vitviz.run.batching import MicroBatcher
from vitviz.loading.models import LoadedModel
from vitviz.inputs.preprocess import SizeArg, check_input_hw, input_hw, prepare_image
from vitviz.model_parts import attention_heads, transformer_blocks

BATCH_VAR = "VITVIZ_BATCH"
DEFAULT_BATCH = 8
BATCH_BYTES = 256 * 1024 ** 2
LOG = logging.getLogger(__name__)
_FULL_THREADS: Optional[int] = None  # torch's intra-op threads before share_cores (None: it was not called)


def share_cores() -> None:
    """From now on every thread of this process runs its torch ops on one thread; only the analysis
    forward on the CPU uses more (:func:`forward_threads`). For a server with many sessions (module
    docstring); idempotent."""
    global _FULL_THREADS
    import torch

    if _FULL_THREADS is None:
        _FULL_THREADS = torch.get_num_threads()
    torch.set_num_threads(1)


def forward_threads(waiting: int) -> Optional[int]:
    """Intra-op threads for an analysis forward on the CPU with ``waiting`` requests queued behind it:
    torch's default (all cores) when none waits, one otherwise; None (leave torch's setting) when
    :func:`share_cores` was not called."""
    if _FULL_THREADS is None:
        return None
    return _FULL_THREADS if waiting == 0 else 1


def batch_limit(device_type: str = "cuda") -> int:
    """Images per batched forward: ``$VITVIZ_BATCH`` (a whole number ≥ 1) when set, else 8 on a GPU
    and 1 on the CPU (module docstring)."""
    default = DEFAULT_BATCH if device_type == "cuda" else 1
    try:
        return max(1, int(os.environ.get(BATCH_VAR, default)))
    except ValueError:
        return default


def transient_nbytes(loaded: LoadedModel, hw: tuple[int, int]) -> int:
    """Bytes one image adds to a batched analysis while it runs (an estimate, float32 throughout).

    Every layer's attention probabilities ``layers · heads · T² · 4``, the block outputs and patch
    features ``2 · layers · T · D · 4``, and the input ``3 · H · W · 4``. ViT-S/14 at 224 px
    (T = 257, 12 layers, 6 heads, D = 384): 19.0 + 1.8 + 0.6 MiB ≈ 21.4 MiB.
    """
    from vitviz.inputs.preprocess import token_layout

    model = loaded.model
    layout = token_layout(model, hw)
    layers = len(transformer_blocks(model))
    heads = attention_heads(model)
    t = layout.num_tokens
    dim = int(getattr(model, "embed_dim", 0) or 0)
    return 4 * (layers * heads * t * t + 2 * layers * t * dim + 3 * hw[0] * hw[1])


class BatchedAnalyzer:
    """``analyze(loaded, image, size)`` — :func:`vitviz.run.pipeline.analyze_image` with cross-caller batching.

    Args:
        lock: held around every batched forward (the server's forward lock), or None.
        max_images: images per batch at most (default :func:`batch_limit` of the model's device).
        max_bytes: bytes a batch's forward may hold at once (default :data:`BATCH_BYTES`); one image
            always runs, however large.
        max_delay: seconds to wait for more requests (:class:`vitviz.run.batching.MicroBatcher`; default 0).
    """

    def __init__(self, lock: Optional[threading.Lock] = None, *, max_images: Optional[int] = None,
                 max_bytes: int = BATCH_BYTES, max_delay: float = 0.0):
        self.max_images = max_images
        self.max_bytes = max_bytes
        self.batcher: MicroBatcher = MicroBatcher(self._run, max_batch=self._limit, max_delay=max_delay, lock=lock,
                                                  name="vitviz-analysis-batcher")

    def analyze(self, loaded: LoadedModel, image: Image.Image, size: SizeArg = None):
        """The image's :class:`~vitviz.run.pipeline.ImageAnalysis`, computed in a batch with whoever else waits."""
        from vitviz.errors import VitvizError

        if loaded.spec.kind != "vit":
            raise VitvizError(f"'{loaded.name}' is a CNN; attention analyses need a ViT")
        hw = input_hw(loaded.data_config, size)
        check_input_hw(loaded.model, hw)
        prepared = prepare_image(image, loaded.data_config, hw)
        # One queue key per loaded model and size (a queued request holds its model, so the id is not
        # reused meanwhile); the key carries the per-image bytes its batch limit is computed from.
        key = (id(loaded), hw, transient_nbytes(loaded, hw), loaded.device.type)
        return self.batcher(key, (loaded, prepared))

    def _limit(self, key) -> int:
        images = self.max_images or batch_limit(key[3])
        return max(1, min(images, self.max_bytes // max(1, key[2])))

    def _run(self, key, items: list):
        from vitviz.run.pipeline import iter_analyses

        loaded = items[0][0]
        if len(items) > 1:  # the operator sees batching at work (a lone request logs nothing)
            LOG.info("batched forward: %d images at %d×%d px, %s", len(items), *key[1], loaded.name)
        threads = forward_threads(self.batcher.pending()) if key[3] == "cpu" else None
        return _with_threads(threads, iter_analyses(loaded, [prepared for _loaded, prepared in items]))


def _with_threads(threads: Optional[int], results):
    """``results`` (a generator: each analysis as it is ready) computed with ``threads`` intra-op threads,
    then one again (None: as they are)."""
    if threads is None or threads == 1:
        yield from results
        return
    import torch

    torch.set_num_threads(threads)
    try:
        yield from results
    finally:
        torch.set_num_threads(1)


_SHARED: dict[int, BatchedAnalyzer] = {}
_SHARED_LOCK = threading.Lock()


def shared_analyzer(lock: Optional[threading.Lock] = None) -> BatchedAnalyzer:
    """The process's one :class:`BatchedAnalyzer` for ``lock`` (created on first use), so every session
    of a server meets in the same queue."""
    with _SHARED_LOCK:
        analyzer = _SHARED.get(id(lock))
        if analyzer is None:
            analyzer = _SHARED[id(lock)] = BatchedAnalyzer(lock)
        return analyzer
