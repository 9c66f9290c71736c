"""Dynamic batching across callers: requests that meet in a queue run as one batch, each caller gets its own result.

What serving systems call a dynamic batcher (Triton's ``dynamic_batching``, TorchServe's
``batch_size``/``max_batch_delay``, Ray Serve's ``@serve.batch``), for threads of one process — the
sessions of a Streamlit server. Framework-free: :class:`MicroBatcher` knows nothing of models; it
calls ``run_batch(key, items)`` and hands ``results[i]`` to the caller of ``items[i]``.

**Policy** (chosen so that a lone request waits for nothing):

- One worker thread runs batches one after another, each under ``lock`` when one is given (the
  server's forward lock, so batches and other forwards never overlap).
- A request that finds the worker idle runs at once, alone (``max_delay=0``, the default): its
  latency is the single request's. Requests that arrive while a batch runs (or while the worker
  waits for ``lock``) queue up; when the worker is free it takes the **oldest** request and, with
  it, every queued request of the **same key** in arrival order, up to ``max_batch(key)``. So a
  burst is batched by the time the first of it takes, and nothing waits on a timer. Requests of
  other keys keep their place; the oldest request always goes next, so none starves.
- With ``max_delay > 0`` the worker, having found a request, waits up to that many seconds from
  its arrival for more of its key (Triton's ``max_queue_delay``): more batching, more latency.
- **Results go out as they are ready**: ``run_batch`` may be a generator; each result is handed to
  its caller as soon as it is yielded, not when the whole batch is done.
- **Errors go to their callers.** When ``run_batch`` raises for a batch of several, each request
  not yet answered is run again alone, so a request that fails (a bad input, out of memory) fails
  for its caller only and the others get their results. A batch of one passes its exception
  straight on. ``run_batch`` returning the wrong number of results is an error for every caller of
  the batch still waiting.

Worked example (``max_batch=8``, one key, requests A…J arriving while idle at t = 0, then B…J
within A's run): A runs alone at t = 0; when it ends, B–I run as one batch of 8; then J alone.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Callable, Generic, Hashable, Iterable, Optional, TypeVar, Union

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class BatchStats:
    """What the batcher has run: ``batches`` forwards for ``items`` requests, the largest of ``largest``;
    ``sizes`` counts batches by size; ``retried`` counts batches re-run one by one after an error."""

    batches: int = 0
    items: int = 0
    largest: int = 0
    retried: int = 0
    sizes: dict[int, int] = field(default_factory=dict)


@dataclass
class _Request(Generic[K, T]):
    key: K
    item: T
    arrived: float
    future: Future


class MicroBatcher(Generic[K, T, R]):
    """Run ``run_batch(key, items) -> results`` for requests of one key that meet in the queue (module docstring).

    Args:
        run_batch: computes the results, one per item, in order, for items of one key (a list, or a
            generator that yields each as it is ready).
        max_batch: the most items per batch: an int, or a function of the key (e.g. fewer for larger inputs).
        max_delay: seconds the worker may wait, from the oldest request's arrival, for more of its key (0: never).
        lock: held around every ``run_batch`` call (e.g. a server-wide forward lock), or None.
        name: the worker thread's name.
    """

    def __init__(self, run_batch: Callable[[K, list[T]], Iterable[R]], *,
                 max_batch: Union[int, Callable[[K], int]] = 8, max_delay: float = 0.0,
                 lock: Optional[threading.Lock] = None, name: str = "vitviz-batcher"):
        if max_delay < 0:
            raise ValueError("max_delay must be ≥ 0")
        self.run_batch = run_batch
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.lock = lock
        self.name = name
        self.stats = BatchStats()
        self._queue: deque[_Request[K, T]] = deque()
        self._cond = threading.Condition()
        self._worker: Optional[threading.Thread] = None

    def submit(self, key: K, item: T) -> Future:
        """Queue ``item`` under ``key``; the future holds its result (or its exception)."""
        request = _Request(key, item, time.monotonic(), Future())
        with self._cond:
            self._queue.append(request)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._worker.start()
            self._cond.notify_all()
        return request.future

    def __call__(self, key: K, item: T) -> R:
        """:meth:`submit` and wait: the caller's own result, or its exception raised here."""
        return self.submit(key, item).result()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    # --- the worker -----------------------------------------------------------------------
    def _limit(self, key: K) -> int:
        limit = self.max_batch(key) if callable(self.max_batch) else self.max_batch
        return max(1, int(limit))

    def _take(self) -> list[_Request[K, T]]:
        """The oldest request and up to ``max_batch - 1`` more of its key, in arrival order (under ``_cond``)."""
        first = self._queue[0]
        limit = self._limit(first.key)
        if self.max_delay > 0:
            deadline = first.arrived + self.max_delay
            while sum(r.key == first.key for r in self._queue) < limit and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
        batch: list[_Request[K, T]] = []
        rest: deque[_Request[K, T]] = deque()
        for request in self._queue:
            if request.key == first.key and len(batch) < limit:
                batch.append(request)
            else:
                rest.append(request)
        self._queue = rest
        return batch

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    # idle: wait for work; after a minute without any, end (submit starts a new worker)
                    if not self._cond.wait(60.0) and not self._queue:
                        self._worker = None
                        return
            if self.lock is not None:
                with self.lock:
                    batch = self._take_locked()
                    self._run(batch)
            else:
                batch = self._take_locked()
                self._run(batch)

    def _take_locked(self) -> list[_Request[K, T]]:
        with self._cond:
            return self._take()

    def _run(self, batch: list[_Request[K, T]]) -> None:
        # Requests whose caller gave up (a cancelled future) are dropped before the work.
        batch = [r for r in batch if r.future.set_running_or_notify_cancel()]
        if not batch:
            return
        key = batch[0].key
        stats = self.stats
        stats.batches += 1
        stats.items += len(batch)
        stats.largest = max(stats.largest, len(batch))
        stats.sizes[len(batch)] = stats.sizes.get(len(batch), 0) + 1
        done = 0
        try:
            # Each result goes to its caller as soon as run_batch yields it (a generator hands the
            # first caller its result while the others' are still being finished).
            for result in self.run_batch(key, [r.item for r in batch]):
                if done == len(batch):
                    raise _CountError(f"run_batch returned more than {len(batch)} results for {len(batch)} items")
                batch[done].future.set_result(result)
                done += 1
            if done != len(batch):
                raise _CountError(f"run_batch returned {done} results for {len(batch)} items")
        except BaseException as exc:  # noqa: BLE001 - handed to the callers, never lost in this thread
            rest = batch[done:]
            if len(batch) == 1 or isinstance(exc, _CountError) or not isinstance(exc, Exception):
                for r in rest:
                    r.future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                return
            stats.retried += 1
            for r in rest:  # one by one: each caller gets its own result or its own error
                try:
                    (result,) = list(self.run_batch(key, [r.item]))
                except Exception as single:  # noqa: BLE001
                    r.future.set_exception(single)
                else:
                    r.future.set_result(result)


class _CountError(RuntimeError):
    """run_batch returned a different number of results than it was given items."""
