"""Mean attention distance (paper Fig. 7 right) over a folder of any size: streamed, resumable, data-parallel.

What is kept: for every counted image its ``(layers, heads)`` mean attention distance in pixels of
the network input (the convention of :mod:`vitviz.analysis.distance`, prefix tokens dropped, rows
not renormalised), added in float64 to a running sum, and the number of images. Summing does not
depend on the order of the images, on where a run was interrupted or on how many processes shared
them (up to float64 rounding), so resuming and data parallelism are both plain sums. Each image's
value comes from a float32 forward pass whose last bits depend on the batch shape and thread count
(BLAS blocking), so two runs split differently agree to float32 rounding: ~1e-7 relative (6e-8 on
ViT-S/16 over 60 images), which can flip the CSV's 4th decimal. E.g. uniform attention in every
head of every image on 14×14 patches of 16 px gives 116.49 px whatever the split.

Images: every file under FOLDER (sub-folders included; hidden names and the output folder left
out) whose suffix is an image suffix, in the sorted order of its POSIX path relative to FOLDER;
each is read by :func:`vitviz.images.load_image` and prepared by
:func:`vitviz.preprocess.prepare_image`, exactly as ``analyze`` does, in DataLoader workers. A file
that cannot be read or decoded is skipped and reported with its reason, never fatal; files with
other suffixes are not considered (only counted).

Progress: ``OUT/distance-state/part-K.json`` holds part K's float64 sums, its count, the relative
paths it counted and the run's settings (model, input size, folder). Each process writes only its
own part, atomically (a temp file of its own in the same folder, fsync, ``os.replace``, fsync of the
folder), at most every ``save_every`` seconds, after its last batch, and when SIGINT/SIGTERM, an
error or the ``on_batch`` hook stop it (after the batch in flight). A rerun skips every path counted
in any part, so an interrupted run resumes (after SIGKILL too, from the last save), and a run on a
folder that has grown counts only the new images. Progress of other settings is refused.

One run per output folder: a run holds ``OUT/.vitviz-distance.lock`` (``flock``, see
:class:`vitviz.run_guard.RunLock`): rank 0 takes it exclusively, then every rank holds it shared
until it returns, so a second run on the same OUT is refused while any process of the first is
alive, and two runs never write parts at the same time. Ranks started by a launcher (torchrun)
watch it (:class:`vitviz.run_guard.LauncherWatch`): when it dies they stop after the batch in
flight with their progress saved, as on SIGTERM (after 30 s more they save and exit regardless).

Data parallel: under ``torchrun`` (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` set) rank 0 lists the
folder and the paths still to count and broadcasts them; rank r takes every ``world``-th of them
from r on; each rank streams its shard with its own DataLoader and writes ``part-r``; at the end
the sums and counts are all-reduced (gloo on CPU, NCCL on GPUs, one GPU per rank at
``cuda:LOCAL_RANK``). Part k belongs to rank ``k % world``, so progress saved by any number of
processes resumes under any other number: every part is summed exactly once.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .analysis import MeanDistanceAccumulator
from .capture import capture
from .cli import IMAGE_SUFFIXES  # the suffixes analyze takes from a folder (stdlib-only module)
from .errors import VitvizError
from .images import load_image
from .models import LoadedModel
from .preprocess import SizeArg, TokenLayout, check_input_hw, input_hw, prepare_image, token_layout
from .run_guard import LauncherWatch, RunLock, launched_by_torchrun

STATE_DIR = "distance-state"
STATE_VERSION = 1
LOCK_NAME = ".vitviz-distance.lock"


class Interrupted(Exception):
    """The run stopped early (signal, hook or launcher gone); its progress is saved and a rerun resumes it."""

    def __init__(self, counted: int, state_dir: Path, reason: str = "interrupted"):
        super().__init__(f"{reason}, with {counted} image(s) counted by this process; progress saved in "
                         f"{state_dir}: run the same command again to resume")
        self.counted = counted
        self.state_dir = state_dir
        self.reason = reason


# ----------------------------------------------------------------------------------------- ranks
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


def ranks_from_env(env: Optional[dict] = None) -> Ranks:
    """``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` as torchrun (or srun with them exported) sets them."""
    env = os.environ if env is None else env
    try:
        ranks = Ranks(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)))
    except ValueError as exc:
        raise VitvizError(f"RANK, WORLD_SIZE and LOCAL_RANK must be integers: {exc}") from exc
    if ranks.world_size < 1 or not 0 <= ranks.rank < ranks.world_size:
        raise VitvizError(f"RANK {ranks.rank} is not within WORLD_SIZE {ranks.world_size}")
    return ranks


def default_workers(ranks: Ranks, env: Optional[dict] = None) -> int:
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


def _broadcast(obj: Any, ranks: Ranks) -> Any:
    if not ranks.distributed:
        return obj
    import torch.distributed as dist

    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _gather(obj: Any, ranks: Ranks) -> list:
    if not ranks.distributed:
        return [obj]
    import torch.distributed as dist

    out: list = [None] * ranks.world_size
    dist.all_gather_object(out, obj)
    return out


def _all_sum(values: np.ndarray, ranks: Ranks, device: torch.device) -> np.ndarray:
    """Elementwise float64 sum over ranks (counts below 2^53 stay exact)."""
    if not ranks.distributed:
        return values
    import torch.distributed as dist

    tensor = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64)).to(device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.cpu().numpy()


# ----------------------------------------------------------------------------------------- files
def check_folders(folder: str | os.PathLike, out: str | os.PathLike) -> None:
    """Refuse a ``folder`` that is not a folder, and an ``out`` that is ``folder`` itself: the plot written
    there would be counted as an image by the next run (an ``out`` below ``folder`` is left out instead).

    Raises:
        VitvizError: one line saying which.
    """
    root = Path(folder)
    if not root.is_dir():
        raise VitvizError(f"{root}: " + ("is a file, not a folder" if root.exists() else "no such folder"))
    if Path(out).resolve() == root.resolve():
        raise VitvizError(f"--out {out} is the image folder itself: its PNG would be counted as an image next "
                          f"time; use another folder (a sub-folder is fine, it is left out)")


def check_run_options(batch_size: int, workers: int, save_every: float) -> None:
    """Refuse a batch size below 1, fewer than 0 workers, and a save interval that is not a number >= 0."""
    if batch_size < 1 or workers < 0:
        raise VitvizError("batch size must be at least 1 and workers at least 0")
    if not save_every >= 0:  # also NaN, which would never save until the end
        raise VitvizError(f"--save-every {save_every:g} must be a number of seconds, 0 or more")


def find_images(folder: Path, exclude: Optional[Path] = None) -> tuple[list[str], int]:
    """Image files under ``folder`` as sorted POSIX paths relative to it, and how many others were seen.

    Hidden files and folders (name starting with ".") and ``exclude`` (the output folder, when it
    lies inside) are left out; symbolic links to folders are not followed.

    Raises:
        VitvizError: ``folder`` is not a folder, or it or a folder below cannot be listed.
    """
    root = Path(folder)
    if not root.is_dir():
        raise VitvizError(f"{root}: no such folder")
    skip = exclude.resolve() if exclude is not None else None
    found, others = [], 0

    def unlistable(exc: OSError) -> None:  # os.walk would pass over it in silence: "no images", or fewer
        raise VitvizError(f"{exc.filename}: cannot list the folder ({exc.strerror or type(exc).__name__}); fix "
                          f"its permissions or move it out of {root}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlistable):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and (skip is None or (here / d).resolve() != skip))
        for name in filenames:
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() in IMAGE_SUFFIXES:
                found.append((here / name).relative_to(root).as_posix())
            else:
                others += 1
    return sorted(found), others


class ImageFiles(Dataset):
    """``(relative path, (3, H, W) tensor or None, reason or None)`` per file, prepared as ``analyze`` does."""

    def __init__(self, root: Path, names: Sequence[str], data_config: dict, hw: tuple[int, int]):
        self.root, self.names, self.data_config, self.hw = Path(root), list(names), dict(data_config), hw

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> tuple[str, Optional[torch.Tensor], Optional[str]]:
        name = self.names[index]
        path = self.root / name
        try:
            tensor = prepare_image(load_image(path), self.data_config, self.hw).tensor[0]
        except VitvizError as exc:  # ImageError: empty, not an image, damaged, too large
            return name, None, _reason(exc, path)
        except Exception as exc:  # anything else a file in the wild can make a decoder raise
            return name, None, f"{type(exc).__name__}: {_reason(exc, path)}"
        return name, tensor, None


def _reason(exc: BaseException, path: Path) -> str:
    text = " ".join(str(exc).split())  # one line
    prefix = f"{path}: "
    return (text[len(prefix):] if text.startswith(prefix) else text)[:300] or type(exc).__name__


@dataclass
class DecodedBatch:
    """What a DataLoader batch holds: the decoded images stacked, and the files that failed with why."""

    names: list[str]
    pixels: Optional[torch.Tensor]
    failed: list[tuple[str, str]]


def collate_decoded(items: Sequence[tuple[str, Optional[torch.Tensor], Optional[str]]]) -> DecodedBatch:
    """Stack the images that decoded; keep ``(name, reason)`` for those that did not."""
    good = [(name, t) for name, t, _ in items if t is not None]
    return DecodedBatch(names=[n for n, _ in good], pixels=torch.stack([t for _, t in good]) if good else None,
                        failed=[(name, reason) for name, t, reason in items if t is None])


def _worker_init(_worker_id: int) -> None:
    # Ctrl-C and SIGTERM go to the whole process group: the main process finishes its batch, saves
    # progress and shuts the workers down; a worker that died first would only turn that into an error.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


# ----------------------------------------------------------------------------------------- progress state
def run_settings(loaded: LoadedModel, folder: Path, layout: TokenLayout, hw: tuple[int, int]) -> dict:
    """What progress must share to be summed with this run's (stored in every part)."""
    model = loaded.model
    return {"model": loaded.name, "pretrained": loaded.pretrained, "input_hw": list(hw),
            "layers": len(model.blocks), "heads": int(model.blocks[0].attn.num_heads),
            "grid": list(layout.grid), "patch_size": list(layout.patch_size),
            "prefix_tokens": list(layout.prefix_names), "folder": str(Path(folder).resolve()),
            "convention": "mean attention distance, px of the network input, prefix tokens dropped, "
                          "rows not renormalised"}


def _part_path(state_dir: Path, k: int) -> Path:
    return state_dir / f"part-{k}.json"


def _part_index(path: Path) -> Optional[int]:
    stem = path.name[len("part-"):-len(".json")]
    return int(stem) if path.name.startswith("part-") and path.name.endswith(".json") and stem.isdigit() else None


def _parts(state_dir: Path) -> dict[int, Path]:
    if not state_dir.is_dir():
        return {}
    return {k: p for p in state_dir.iterdir() if (k := _part_index(p)) is not None}


def _read_part(path: Path, settings: dict) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        sums = np.asarray(data["sums"], dtype=np.float64)
        count, names = int(data["count"]), list(data["names"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VitvizError(f"cannot read saved progress {path} ({exc}); start over with --restart") from exc
    if data.get("version") != STATE_VERSION or data.get("settings") != settings:
        theirs = data.get("settings") or {}
        diff = ", ".join(f"{k}: saved {theirs.get(k)!r}, now {v!r}" for k, v in settings.items() if theirs.get(k) != v)
        raise VitvizError(f"{path.parent} holds progress of another run ({diff or 'another format'}); use another "
                          f"--out, or --restart to discard it")
    if sums.shape != (settings["layers"], settings["heads"]) or count != len(names):
        raise VitvizError(f"saved progress {path} is inconsistent; start over with --restart")
    return {"sums": sums, "count": count, "names": names}


def _write_part(path: Path, settings: dict, sums: np.ndarray, count: int, names: list[str]) -> None:
    """Write one part atomically: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temp name of this process and thread: the launcher watch may save while the main thread does.
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    payload = {"version": STATE_VERSION, "settings": settings, "count": int(count),
               "sums": np.asarray(sums, dtype=np.float64).tolist(), "names": names}
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(payload, fh)  # floats as repr: float64 round-trips exactly
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    with contextlib.suppress(OSError):  # the rename itself survives a power cut (not on every platform)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


class _Running:
    """This process's part: committed sums, count and names, saved consistently even mid-update.

    ``add`` replaces ``_committed`` in one assignment, so a signal between two bytecodes sees either
    the batch fully counted or not at all.
    """

    def __init__(self, sums: np.ndarray, count: int, names: list[str]):
        self.names = list(names)
        self._committed = (np.array(sums, dtype=np.float64), int(count), len(self.names))

    def add(self, batch_sums: np.ndarray, names: list[str]) -> None:
        sums, count, n = self._committed
        self.names[n:] = names
        self._committed = (sums + batch_sums, count + len(names), n + len(names))

    def snapshot(self) -> tuple[np.ndarray, int, list[str]]:
        sums, count, n = self._committed
        return sums, count, self.names[:n]


class _StopFlag:
    """SIGINT/SIGTERM set a flag the loop checks after each batch; a second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.signal: Optional[int] = None
        self.reason = "interrupted"

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.signal == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal = signum

    def launcher_gone(self, pid: int) -> None:
        """What :class:`LauncherWatch` calls (from its thread): stop as on SIGTERM."""
        self.reason = f"stopped because its launcher (pid {pid}) is gone"
        self.signal = signal.SIGTERM

    @contextlib.contextmanager
    def installed(self) -> Iterator["_StopFlag"]:
        if threading.current_thread() is not threading.main_thread():  # e.g. inside a web server
            yield self
            return
        old = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)


# ----------------------------------------------------------------------------------------- the run
@dataclass
class StreamProgress:
    """What a progress callback sees after each batch of this process."""

    done: int
    total: int
    counted: int
    skipped: int
    elapsed_s: float
    rank: int = 0
    world_size: int = 1


@dataclass
class StreamResult:
    """Mean attention distance over a folder, summed over every process and every earlier part.

    Attributes:
        sums: ``(layers, heads)`` float64 sums of per-image distances (px).
        num_images: images in the sums.
        layout: token layout of the input size used.
        hw: network input size ``(H, W)``.
        skipped: ``(relative path, reason)`` of every file this run could not read, sorted.
        counted_now: images computed by this run (all processes).
        counted_before: images taken from saved progress (all parts).
        not_in_folder: images in saved progress that the folder no longer holds (still in the sums).
        other_files: files under the folder without an image suffix (not considered).
        world_size: processes that shared the run.
    """

    sums: np.ndarray
    num_images: int
    layout: TokenLayout
    hw: tuple[int, int]
    skipped: list[tuple[str, str]]
    counted_now: int
    counted_before: int
    not_in_folder: int = 0
    other_files: int = 0
    world_size: int = 1
    settings: dict = field(default_factory=dict)

    @property
    def mean(self) -> np.ndarray:
        """``(layers, heads)`` mean distance in px of the network input."""
        if self.num_images == 0:
            raise VitvizError("no image could be counted")
        return self.sums / self.num_images


def stream_mean_distance(
    loaded: LoadedModel,
    folder: str | os.PathLike,
    out: str | os.PathLike,
    size: SizeArg = None,
    *,
    batch_size: int = 32,
    workers: int = 2,
    save_every: float = 60.0,
    restart: bool = False,
    ranks: Ranks = Ranks(),
    progress: Optional[Callable[[StreamProgress], None]] = None,
    on_batch: Optional[Callable[[list[str]], None]] = None,
    watch_launcher: Optional[bool] = None,
) -> StreamResult:
    """Mean attention distance of ``loaded`` over every image under ``folder`` (module docstring).

    Call it on every rank inside :func:`process_group` when ``ranks.distributed``. Progress is kept
    in ``out/distance-state/`` and the run holds ``out/.vitviz-distance.lock``; nothing else is written here
    (see :func:`write_outputs`).

    Args:
        size: square side or ``(H, W)`` of the network input (default: the model's).
        batch_size: images per forward pass.
        workers: DataLoader processes decoding images (0: decode in this process).
        save_every: seconds between progress saves.
        restart: discard saved progress first.
        progress: called after each batch with this process's :class:`StreamProgress`.
        on_batch: called with the relative paths each batch counted, once they are in the sums
            (a test seam: raising ``KeyboardInterrupt`` there stops the run as Ctrl-C does).
        watch_launcher: stop when the parent process dies (default: when ``ranks.distributed`` or
            started by torchrun).

    Raises:
        Interrupted: stopped by SIGINT/SIGTERM, ``on_batch`` or the launcher's death; progress is saved.
        VitvizError: no such folder, no image files in it, progress of other settings, another run
            holds ``out``.
    """
    if loaded.spec.kind != "vit":
        raise VitvizError(f"'{loaded.name}' is a CNN; the mean attention distance needs a ViT")
    check_run_options(batch_size, workers, save_every)
    root, out_dir = Path(folder), Path(out)
    check_folders(root, out_dir)
    hw = input_hw(loaded.data_config, size)
    check_input_hw(loaded.model, hw)
    layout = token_layout(loaded.model, hw)
    settings = run_settings(loaded, root, layout, hw)
    state_dir = out_dir / STATE_DIR
    stop = _StopFlag()
    holder: dict[str, Callable[[], None]] = {}

    def expired() -> None:  # the launcher is gone and the main thread did not stop in time
        with contextlib.suppress(Exception):
            holder.get("save", lambda: None)()
        print(f"vitviz: rank {ranks.rank}: {stop.reason}; progress saved in {state_dir}", file=sys.stderr, flush=True)
        os._exit(130)

    if watch_launcher is None:
        watch_launcher = ranks.distributed or launched_by_torchrun()
    watch = LauncherWatch(stop.launcher_gone, on_expired=expired) if watch_launcher else contextlib.nullcontext()
    with RunLock(out_dir / LOCK_NAME) as lock, watch:
        return _stream(loaded, root, out_dir, hw, layout, settings, state_dir, lock, stop, holder,
                       batch_size=batch_size, workers=workers, save_every=save_every, restart=restart, ranks=ranks,
                       progress=progress, on_batch=on_batch)


def _stream(loaded: LoadedModel, root: Path, out_dir: Path, hw: tuple[int, int], layout: TokenLayout,
            settings: dict, state_dir: Path, lock: RunLock, stop: _StopFlag, holder: dict, *, batch_size: int,
            workers: int, save_every: float, restart: bool, ranks: Ranks,
            progress: Optional[Callable[[StreamProgress], None]],
            on_batch: Optional[Callable[[list[str]], None]]) -> StreamResult:
    """:func:`stream_mean_distance` once ``lock`` (not yet taken) and the launcher watch are set up."""
    layers, heads = settings["layers"], settings["heads"]

    # Rank 0 alone lists the folder and reads every part, so all ranks shard the same list; its
    # errors travel in the broadcast, so every rank raises them instead of waiting forever.
    plan: dict[str, Any]
    if ranks.is_main:
        try:
            lock.exclusive()
            for stale in state_dir.glob(".part-*.tmp") if state_dir.is_dir() else ():
                stale.unlink()  # left by a killed run; the lock says no one is writing now
            if restart:
                for path in _parts(state_dir).values():
                    path.unlink()
            files, others = find_images(root, exclude=out_dir)
            if not files:
                raise VitvizError(f"{root}: the folder holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
            counted: set[str] = set()
            for path in _parts(state_dir).values():
                names = _read_part(path, settings)["names"]
                if counted.intersection(names):
                    raise VitvizError(f"saved progress in {state_dir} counts some images twice; start over "
                                      f"with --restart")
                counted.update(names)
            listed = set(files)
            plan = {"todo": [f for f in files if f not in counted], "before": len(counted),
                    "gone": len(counted - listed), "others": others}
            if ranks.distributed:
                lock.share()  # the other ranks join; a second run stays refused while any of them lives
        except Exception as exc:  # every rank must hear of it, or the others wait in the broadcast
            if not ranks.distributed:
                raise
            plan = {"error": str(exc) if isinstance(exc, VitvizError) else f"rank 0: {type(exc).__name__}: {exc}"}
    else:
        plan = {}
    plan = _broadcast(plan, ranks)
    if "error" in plan:
        raise VitvizError(plan["error"])
    if not ranks.is_main:
        lock.shared()
    shard = plan["todo"][ranks.rank::ranks.world_size]

    # This rank's parts: k % world == rank; part `rank` is the one it writes, the others only add.
    base_sums, base_count = np.zeros((layers, heads)), 0
    own = _Running(np.zeros((layers, heads)), 0, [])
    for k, path in sorted(_parts(state_dir).items()):
        if k % ranks.world_size != ranks.rank:
            continue
        part = _read_part(path, settings)
        if k == ranks.rank:
            own = _Running(part["sums"], part["count"], part["names"])
        else:
            base_sums, base_count = base_sums + part["sums"], base_count + part["count"]
    own_path = _part_path(state_dir, ranks.rank)

    def save() -> None:
        sums, count, names = own.snapshot()
        _write_part(own_path, settings, sums, count, names)

    holder["save"] = save

    loader = DataLoader(ImageFiles(root, shard, loaded.data_config, hw), batch_size=batch_size, shuffle=False,
                        num_workers=workers, collate_fn=collate_decoded,
                        worker_init_fn=_worker_init if workers else None)
    skipped: list[tuple[str, str]] = []
    done = counted_now = 0
    start = last_save = time.monotonic()
    with stop.installed():
        try:
            for batch in loader:
                skipped += batch.failed
                if batch.pixels is not None:
                    acc = MeanDistanceAccumulator(layout, layers, heads)
                    x = batch.pixels.to(device=loaded.device, dtype=loaded.dtype)
                    capture(loaded.model, x, keep_attention=False, on_attention=acc)
                    own.add(acc.sums, batch.names)
                    counted_now += len(batch.names)
                done += len(batch.names) + len(batch.failed)
                if progress is not None:
                    progress(StreamProgress(done, len(shard), counted_now, len(skipped), time.monotonic() - start,
                                            ranks.rank, ranks.world_size))
                if on_batch is not None and batch.names:
                    on_batch(list(batch.names))
                if stop.signal is not None:
                    raise KeyboardInterrupt
                if time.monotonic() - last_save >= save_every:
                    save()
                    last_save = time.monotonic()
        except KeyboardInterrupt:
            save()
            raise Interrupted(counted_now, state_dir, stop.reason) from None
        except BaseException:
            with contextlib.suppress(Exception):  # keep what was counted; the original error is what matters
                save()
            raise
        save()
    if stop.signal is not None:  # asked to stop after this rank's last batch: the others stop too, so no
        raise Interrupted(counted_now, state_dir, stop.reason)  # all-reduce (it would wait for them)

    sums, count, _ = own.snapshot()
    local = np.concatenate([(sums + base_sums).ravel(), [count + base_count, counted_now]])
    try:
        total = _all_sum(local, ranks, loaded.device)
        all_skipped = sorted(s for part in _gather(skipped, ranks) for s in part)
    except Exception:
        if stop.signal is None:
            raise
        raise Interrupted(counted_now, state_dir, stop.reason) from None  # a rank stopped while this one waited
    return StreamResult(sums=total[:-2].reshape(layers, heads), num_images=int(round(total[-2])), layout=layout,
                        hw=hw, skipped=all_skipped, counted_now=int(round(total[-1])),
                        counted_before=plan["before"], not_in_folder=plan["gone"], other_files=plan["others"],
                        world_size=ranks.world_size, settings=settings)


# ----------------------------------------------------------------------------------------- display and files
class ProgressLine:
    """A one-line progress display on stderr: rewritten in place on a terminal, a line every 30 s in a log."""

    def __init__(self, stream: Any = None, *, interval: Optional[float] = None):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.25 if self.tty else 30.0)
        self._last = -1e9
        self._shown = False

    def __call__(self, p: StreamProgress) -> None:
        now = time.monotonic()
        if now - self._last < self.interval and p.done < p.total:
            return
        self._last = now
        rate = p.done / p.elapsed_s if p.elapsed_s > 0 else 0.0
        eta = (p.total - p.done) / rate if rate > 0 else float("nan")
        share = p.done / p.total if p.total else 1.0
        bar = "#" * int(share * 24)
        who = f" (shard of rank 0 of {p.world_size})" if p.world_size > 1 else ""
        text = (f"vitviz: [{bar:<24}] {p.done}/{p.total} images {share:5.1%}, {rate:.1f} img/s, "
                f"ETA {_duration(eta)}, {p.skipped} skipped{who}")
        if self.tty:
            self.stream.write("\r" + text + "\033[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """End the line (once) so later messages start on their own line."""
        if self._shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()
        self._shown = False


def _duration(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


@dataclass(frozen=True)
class DistanceFiles:
    csv: Path
    png: Path
    html: Path
    skipped: Path
    summary: Path


def write_outputs(result: StreamResult, loaded: LoadedModel, folder: str | os.PathLike,
                  out: str | os.PathLike) -> DistanceFiles:
    """``mean_attention_distance.csv`` (``analyze``'s format), ``.png`` (Pillow), ``.html`` (the app's
    plotly figure, offline), ``skipped.txt`` (``path<TAB>reason`` per line, empty when none) and
    ``summary.json`` into ``out``; the PNG and HTML only when at least one image was counted."""
    from .analysis import reference_distances
    from .distance_png import distance_png
    from .export import DISTANCE_HEADER, distance_rows, write_table_csv
    from .plots import distance_figure
    from .report import FIGURE_CONFIG

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = DistanceFiles(csv=out_dir / "mean_attention_distance.csv", png=out_dir / "mean_attention_distance.png",
                          html=out_dir / "mean_attention_distance.html", skipped=out_dir / "skipped.txt",
                          summary=out_dir / "summary.json")
    files.skipped.write_text("".join(f"{name}\t{reason}\n" for name, reason in result.skipped), encoding="utf-8")
    summary = {"folder": str(Path(folder).resolve()), "model": loaded.name, "label": loaded.label,
               "weights": loaded.source, "pretrained": loaded.pretrained, "input_size": list(result.hw),
               "num_images": result.num_images, "counted_this_run": result.counted_now,
               "counted_before": result.counted_before, "not_in_folder_any_more": result.not_in_folder,
               "skipped": len(result.skipped), "processes": result.world_size,
               "convention": result.settings.get("convention", "")}
    files.summary.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if result.num_images == 0:  # e.g. after --restart: no table or plot of an earlier run stays behind
        for stale in (files.csv, files.png, files.html):
            stale.unlink(missing_ok=True)
        return files
    mean = result.mean
    write_table_csv(files.csv, DISTANCE_HEADER, distance_rows(mean, result.num_images))
    where = f"{Path(folder).resolve().name}, {result.hw[0]}×{result.hw[1]} px"
    refs = reference_distances(result.layout)
    distance_png(mean, refs, model_label=loaded.label, num_images=result.num_images, extra=where).save(files.png)
    fig = distance_figure({loaded.label: mean}, refs, num_images=result.num_images, title=where)
    fig.write_html(str(files.html), include_plotlyjs=True, full_html=True, config=FIGURE_CONFIG)
    return files
