"""``distance``'s display and files: the one-line progress display, and the CSV, PNG, HTML,
``skipped.txt`` and ``summary.json`` written from a :class:`vitviz.run.distance_stream.StreamResult`.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

if TYPE_CHECKING:
    from vitviz.run.distance_stream import StreamProgress, StreamResult
    from vitviz.loading.models import LoadedModel

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
    from vitviz.analysis import reference_distances
    from vitviz.figures.distance_png import distance_png
    from vitviz.export import DISTANCE_HEADER, distance_rows, write_table_csv
    from vitviz.figures.charts import distance_figure
    from vitviz.figures.report import FIGURE_CONFIG

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
