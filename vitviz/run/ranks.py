"""This process's place in a data-parallel run (torchrun's ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``), its
device, ``torch.distributed`` set up and torn down, and the three collectives ``distance`` needs.

Alone (no torchrun) every function here is the identity or does nothing, so callers need no branches.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import os
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Optional

import numpy as np
import torch

from vitviz.errors import VitvizError

@dataclass(frozen=True)
class Ranks:
    """This process's place in a data-parallel run (``rank 0 of 1`` when alone)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def ranks_from_env(env: Optional[Mapping[str, str]] = None) -> Ranks:
    """``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` as torchrun (or srun with them exported) sets them."""
    env = os.environ if env is None else env
    try:
        ranks = Ranks(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)))
    except ValueError as exc:
        raise VitvizError(f"RANK, WORLD_SIZE and LOCAL_RANK must be integers: {exc}") from exc
    if ranks.world_size < 1 or not 0 <= ranks.rank < ranks.world_size:
        raise VitvizError(f"RANK {ranks.rank} is not within WORLD_SIZE {ranks.world_size}")
    return ranks


def default_workers(ranks: Ranks, env: Optional[Mapping[str, str]] = None) -> int:
    """DataLoader workers per process: the node's CPU cores shared by its processes, 1 to 4."""
    env = os.environ if env is None else env
    per_node = int(env.get("LOCAL_WORLD_SIZE", 1) or 1) if ranks.distributed else 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, cores // max(per_node, 1)))


def rank_device(device: str, ranks: Ranks) -> str:
    """The device for this rank: ``cuda:LOCAL_RANK`` when it runs on GPUs, else ``device`` unchanged."""
    wants_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if not (ranks.distributed and wants_cuda):
        return device
    count = torch.cuda.device_count()
    if ranks.local_rank >= count:
        raise VitvizError(f"LOCAL_RANK {ranks.local_rank} has no GPU: this node has {count}; start at most "
                          f"{count} processes per node (torchrun --nproc_per_node={count})")
    return f"cuda:{ranks.local_rank}"


@contextlib.contextmanager
def process_group(ranks: Ranks, device: torch.device, timeout_s: float = 4 * 3600) -> Iterator[None]:
    """``torch.distributed`` for the run: NCCL when ``device`` is a GPU, gloo on CPU; nothing when alone.

    The timeout is long because ranks whose shard is done wait in the final all-reduce for the
    slowest one.
    """
    if not ranks.distributed:
        yield
        return
    import torch.distributed as dist

    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, rank=ranks.rank, world_size=ranks.world_size,
                            timeout=_dt.timedelta(seconds=timeout_s))
    try:
        yield
    finally:
        dist.destroy_process_group()


def broadcast(obj: Any, ranks: Ranks) -> Any:
    if not ranks.distributed:
        return obj
    import torch.distributed as dist

    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather(obj: Any, ranks: Ranks) -> list:
    if not ranks.distributed:
        return [obj]
    import torch.distributed as dist

    out: list = [None] * ranks.world_size
    dist.all_gather_object(out, obj)
    return out


def all_sum(values: np.ndarray, ranks: Ranks, device: torch.device) -> np.ndarray:
    """Elementwise float64 sum over ranks (counts below 2^53 stay exact)."""
    if not ranks.distributed:
        return values
    import torch.distributed as dist

    tensor = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64)).to(device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.cpu().numpy()
