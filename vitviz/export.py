"""CSV and NPZ writers shared by the CLI and the dashboard's downloads.

Tables are plain CSV (header row, ``\\n`` line ends, labels quoted by the csv module when they hold
commas or quotes), numbers with 6 significant digits unless a writer says otherwise. Column
names are English in every language of the interface: they are data, not prose.
"""
from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import IO, Any, Iterable, Mapping, Optional, Sequence, SupportsFloat

import numpy as np


def table_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with a header row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write_table_csv(path: str | os.PathLike, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """Write :func:`table_csv` to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    target.write_text(table_csv(header, rows), encoding="utf-8")
    return target


def matrix_csv(matrix: np.ndarray, columns: Sequence[str], index_name: str) -> str:
    """A 2-D array as CSV: one row per index, one column per name."""
    return table_csv([index_name, *columns],
                     ([i, *(f"{v:.6g}" for v in row)] for i, row in enumerate(np.atleast_2d(matrix))))


def grid_csv(grid_map: np.ndarray) -> str:
    """A ``(gh, gw)`` patch map as CSV: one row per patch row, columns ``col_0 …``."""
    return matrix_csv(grid_map, [f"col_{c}" for c in range(grid_map.shape[1])], "row")


DISTANCE_HEADER = ("layer", "head", "mean_attention_distance_px", "num_images")


def distance_rows(mean: np.ndarray, num_images: int) -> list[tuple[int, int, str, int]]:
    """Rows of ``mean_attention_distance.csv`` (long format) from a ``(layers, heads)`` array in px."""
    return [(layer, head, f"{mean[layer, head]:.4f}", int(num_images))
            for layer in range(mean.shape[0]) for head in range(mean.shape[1])]


FAITHFULNESS_HEADER = ("map", "curve", "step", "fraction", "score", "score_std")
FAITHFULNESS_AUC_HEADER = ("map", "deletion_auc", "insertion_auc", "deletion_auc_std", "insertion_auc_std")


def _g(value: Optional[SupportsFloat]) -> str:
    return "" if value is None else f"{float(value):.6g}"


def faithfulness_rows(result) -> list[tuple]:
    """Rows of ``faithfulness.csv`` (long format) from a :class:`vitviz.analysis.faithfulness.Faithfulness`.

    One row per map, curve (deletion, insertion) and step ``0 … S``; ``fraction`` is the share of
    cells removed or revealed; ``score_std`` is the spread over the random orders (random rows only).
    """
    rows = []
    for curves in result.maps:
        for kind in ("deletion", "insertion"):
            spread = curves.std(kind)
            for step, (fraction, score) in enumerate(zip(result.fractions, curves.curve(kind))):
                rows.append((curves.name, kind, step, f"{fraction:.6g}", _g(score),
                             _g(None if spread is None else spread[step])))
    return rows


def faithfulness_auc_rows(result) -> list[tuple]:
    """Rows of ``faithfulness_auc.csv``: per map its deletion and insertion area (std: random only)."""
    return [(m.name, _g(m.deletion_auc), _g(m.insertion_auc), _g(m.deletion_auc_std), _g(m.insertion_auc_std))
            for m in result.maps]


def write_npz(file: str | os.PathLike | IO[bytes], arrays: Mapping[str, np.ndarray]) -> None:
    """``np.savez_compressed(file, **arrays)``: each array stored under its name.

    ``allow_pickle`` is savez's own keyword, so it cannot name an array (numpy would take the array as
    its flag and not store it): refused.
    """
    if "allow_pickle" in arrays:
        raise ValueError("an array in an NPZ file cannot be named 'allow_pickle'")
    # Typed Any: mypy cannot tell that no key is savez's bool keyword allow_pickle (ruled out above).
    named: dict[str, Any] = dict(arrays)
    np.savez_compressed(file, **named)


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """``np.savez_compressed`` into memory."""
    buf = io.BytesIO()
    write_npz(buf, {k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def file_stem(*parts: str) -> str:
    """A download file name from labels: ``vitviz-<parts>``, lower case, only ``[a-z0-9._-]``.

    >>> file_stem("attention", "DINOv2 ViT-S/14 (untrained)")
    'vitviz-attention-dinov2-vit-s-14-untrained'
    """
    text = "-".join(p for p in parts if p)
    slug = re.sub(r"[^a-z0-9._]+", "-", text.lower()).strip("-.")
    return f"vitviz-{slug}"[:120]
