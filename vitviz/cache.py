"""A thread-safe least-recently-used cache bounded by bytes, not by entries.

The dashboard caches one analysis per (model, image, input size). An entry's size spans three
orders of magnitude (ViT-S/14: ~20 MiB at 224 px, ~300 MiB at 518 px), so a bound on the number of
entries bounds nothing; this cache evicts least-recently-used entries until the total fits.

Two sessions asking for the same missing key compute it once: the second waits on a per-key lock
(so a slow computation of one key never blocks other keys).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, Optional, TypeVar

V = TypeVar("V")


class ByteLRU(Generic[V]):
    """``cache.get_or_compute(key, compute, size_of)``; never holds more than ``max_bytes``.

    An entry larger than ``max_bytes`` on its own is returned but not kept. ``on_evict()`` is called
    (outside the cache's lock) after entries were dropped to make room, e.g. to hand memory back.
    """

    def __init__(self, max_bytes: int, on_evict: Optional[Callable[[], None]] = None):
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._on_evict = on_evict
        self._entries: "OrderedDict[Hashable, tuple[V, int]]" = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, tuple[threading.Lock, int]] = {}  # lock, threads using it

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return self._total

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            self._entries.move_to_end(key)
            return hit[0]

    def put(self, key: Hashable, value: V, nbytes: int) -> None:
        evicted = 0
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._total -= old[1]
            if nbytes <= self.max_bytes:
                while self._entries and self._total + nbytes > self.max_bytes:
                    _, (_, size) = self._entries.popitem(last=False)
                    self._total -= size
                    evicted += 1
                self._entries[key] = (value, int(nbytes))
                self._total += int(nbytes)
        if evicted and self._on_evict is not None:
            self._on_evict()

    def get_or_compute(self, key: Hashable, compute: Callable[[], V], size_of: Callable[[V], int]) -> V:
        hit = self.get(key)
        if hit is not None:
            return hit
        with self._lock:
            key_lock, waiting = self._key_locks.get(key, (threading.Lock(), 0))
            self._key_locks[key] = (key_lock, waiting + 1)
        try:
            with key_lock:
                hit = self.get(key)  # computed by another thread while this one waited
                if hit is not None:
                    return hit
                value = compute()  # an exception caches nothing, so a retry starts clean
                self.put(key, value, size_of(value))
                return value
        finally:  # the key's lock goes with its last waiter, whether its computation returned or raised
            with self._lock:
                lock, waiting = self._key_locks[key]
                if waiting <= 1:
                    del self._key_locks[key]
                else:
                    self._key_locks[key] = (lock, waiting - 1)

    def pending_keys(self) -> int:
        """How many keys have a computation running or waited for (0 when the cache is idle)."""
        with self._lock:
            return len(self._key_locks)

    def discard(self, which: Callable[[Hashable], bool]) -> int:
        """Drop every entry whose key ``which`` accepts; returns how many."""
        with self._lock:
            keys = [k for k in self._entries if which(k)]
            for k in keys:
                self._total -= self._entries.pop(k)[1]
        if keys and self._on_evict is not None:
            self._on_evict()
        return len(keys)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._total = 0
