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
each is read by :func:`vitviz.inputs.images.load_image` and prepared by
:func:`vitviz.inputs.preprocess.prepare_image`, exactly as ``analyze`` does, in DataLoader workers. A file
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
:class:`vitviz.run.run_guard.RunLock`): rank 0 takes it exclusively, then every rank holds it shared
until it returns, so a second run on the same OUT is refused while any process of the first is
alive, and two runs never write parts at the same time. Ranks started by a launcher (torchrun)
watch it (:class:`vitviz.run.run_guard.LauncherWatch`): when it dies they stop after the batch in
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

from vitviz.analysis import MeanDistanceAccumulator
from vitviz.run.capture import capture
from vitviz.inputs.images import IMAGE_SUFFIXES
from vitviz.run.distance_state import (STATE_DIR, RunningPart, part_path, read_part, run_settings, saved_parts,
                                       write_part)
from vitviz.errors import VitvizError
from vitviz.inputs.images import load_image
from vitviz.loading.models import LoadedModel
from vitviz.inputs.preprocess import SizeArg, TokenLayout, check_input_hw, input_hw, prepare_image, token_layout
from vitviz.run.ranks import Ranks, all_sum, broadcast, gather
from vitviz.run.run_guard import LauncherWatch, RunLock, launched_by_torchrun

LOCK_NAME = ".vitviz-distance.lock"


class Interrupted(Exception):
    """The run stopped early (signal, hook or launcher gone); its progress is saved and a rerun resumes it."""

    def __init__(self, counted: int, state_dir: Path, reason: str = "interrupted"):
        super().__init__(f"{reason}, with {counted} image(s) counted by this process; progress saved in "
                         f"{state_dir}: run the same command again to resume")
        self.counted = counted
        self.state_dir = state_dir
        self.reason = reason


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
    failed = []
    for name, t, reason in items:
        if t is None:
            assert reason is not None  # ImageFiles gives a reason with every image it could not read
            failed.append((name, reason))
    return DecodedBatch(names=[n for n, _ in good], pixels=torch.stack([t for _, t in good]) if good else None,
                        failed=failed)


def _worker_init(_worker_id: int) -> None:
    # Ctrl-C and SIGTERM go to the whole process group: the main process finishes its batch, saves
    # progress and shuts the workers down; a worker that died first would only turn that into an error.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


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

    Call it on every rank inside :func:`vitviz.run.ranks.process_group` when ``ranks.distributed``. Progress is kept
    in ``out/distance-state/`` and the run holds ``out/.vitviz-distance.lock``; nothing else is written here
    (see :func:`vitviz.cli.distance_outputs.write_outputs`).

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
                for path in saved_parts(state_dir).values():
                    path.unlink()
            files, others = find_images(root, exclude=out_dir)
            if not files:
                raise VitvizError(f"{root}: the folder holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
            counted: set[str] = set()
            for path in saved_parts(state_dir).values():
                names = read_part(path, settings)["names"]
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
    plan = broadcast(plan, ranks)
    if "error" in plan:
        raise VitvizError(plan["error"])
    if not ranks.is_main:
        lock.shared()
    shard = plan["todo"][ranks.rank::ranks.world_size]

    # This rank's parts: k % world == rank; part `rank` is the one it writes, the others only add.
    base_sums, base_count = np.zeros((layers, heads)), 0
    own = RunningPart(np.zeros((layers, heads)), 0, [])
    for k, path in sorted(saved_parts(state_dir).items()):
        if k % ranks.world_size != ranks.rank:
            continue
        part = read_part(path, settings)
        if k == ranks.rank:
            own = RunningPart(part["sums"], part["count"], part["names"])
        else:
            base_sums, base_count = base_sums + part["sums"], base_count + part["count"]
    own_path = part_path(state_dir, ranks.rank)

    def save() -> None:
        sums, count, names = own.snapshot()
        write_part(own_path, settings, sums, count, names)

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
        total = all_sum(local, ranks, loaded.device)
        all_skipped = sorted(s for part in gather(skipped, ranks) for s in part)
    except Exception:
        if stop.signal is None:
            raise
        raise Interrupted(counted_now, state_dir, stop.reason) from None  # a rank stopped while this one waited
    return StreamResult(sums=total[:-2].reshape(layers, heads), num_images=int(round(total[-2])), layout=layout,
                        hw=hw, skipped=all_skipped, counted_now=int(round(total[-1])),
                        counted_before=plan["before"], not_in_folder=plan["gone"], other_files=plan["others"],
                        world_size=ranks.world_size, settings=settings)
