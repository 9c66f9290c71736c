"""``distance``'s saved progress: ``OUT/distance-state/part-K.json`` files, each part's float64 sums,
count, counted paths and the run's settings, written whole (temp file, fsync, rename) so a reader
never sees half of one; see :mod:`vitviz.run.distance_stream` for how parts are summed and resumed.
"""
from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Optional

import numpy as np

from vitviz.errors import VitvizError
from vitviz.loading.models import LoadedModel
from vitviz.inputs.preprocess import TokenLayout
from vitviz.model_parts import attention_heads, transformer_blocks

STATE_DIR = "distance-state"
STATE_VERSION = 1

def run_settings(loaded: LoadedModel, folder: Path, layout: TokenLayout, hw: tuple[int, int]) -> dict:
    """What progress must share to be summed with this run's (stored in every part)."""
    model = loaded.model
    return {"model": loaded.name, "pretrained": loaded.pretrained, "input_hw": list(hw),
            "layers": len(transformer_blocks(model)), "heads": attention_heads(model),
            "grid": list(layout.grid), "patch_size": list(layout.patch_size),
            "prefix_tokens": list(layout.prefix_names), "folder": str(Path(folder).resolve()),
            "convention": "mean attention distance, px of the network input, prefix tokens dropped, "
                          "rows not renormalised"}


def part_path(state_dir: Path, k: int) -> Path:
    """Where part ``k`` is kept."""
    return state_dir / f"part-{k}.json"


def part_index(path: Path) -> Optional[int]:
    """K of a ``part-K.json`` path, else None (temp files and anything else)."""
    stem = path.name[len("part-"):-len(".json")]
    return int(stem) if path.name.startswith("part-") and path.name.endswith(".json") and stem.isdigit() else None


def saved_parts(state_dir: Path) -> dict[int, Path]:
    """Every part in ``state_dir`` by its index (none when the folder does not exist)."""
    if not state_dir.is_dir():
        return {}
    return {k: p for p in state_dir.iterdir() if (k := part_index(p)) is not None}


def read_part(path: Path, settings: dict) -> dict:
    """A part's ``sums``, ``count`` and ``names``, checked against this run's ``settings``.

    Raises:
        VitvizError: unreadable, of another run's settings (naming what differs), or inconsistent.
    """
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


def write_part(path: Path, settings: dict, sums: np.ndarray, count: int, names: list[str]) -> None:
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


class RunningPart:
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
