"""Deletion and insertion curves (Petsiuk, Das & Saenko 2018, RISE): the arithmetic, no model.

A saliency map on a ``(gh, gw)`` grid of cells (a ViT's patches, or equal cells of a CNN's
input) says which cells matter most. Removing them in that order should make the model's score
fall fast (*deletion*: low area under the curve is faithful); revealing them in that order on a
blank input should make it rise fast (*insertion*: high area is faithful). A random order is the
baseline every map is compared with. Conventions:

* **Order** (:func:`patch_order`): cells by descending map value; equal values in ascending
  row-major index (``r·gw + c``), so the order is deterministic. ``[[1, 3], [3, 0]]`` → ``[1, 2, 0, 3]``.
* **Steps** (:func:`step_counts`): ``S`` steps touch ``k_i = ⌊i·n/S⌋`` cells at step
  ``i = 0 … S`` of ``n``; the fraction is ``k_i / n``, exactly 0 at the first step and 1 at the last.
  14×14 cells in 16 steps: 0, 12, 24, 36, 49, 61, 73, 85, 98, 110, 122, 134, 147, 159, 171, 183, 196.
  ``S > n`` is every cell one by one (``S = n``).
* **Area** (:func:`curve_auc`): the trapezoid rule over the fraction in [0, 1], in the score's
  own unit: a constant score ``c`` has area ``c``; a score falling linearly from 1 to 0 has 0.5.
* **Random baseline** (:func:`random_orders`): the mean curve of :data:`RANDOM_REPEATS` = 8
  orders drawn by ``numpy.random.default_rng(RANDOM_SEED = 0)``, one ``permutation(n)`` after
  another; its area is the mean of the 8 areas (the trapezoid is linear), reported with their
  standard deviation (``ddof=0``).
* **Cells on pixels** (:func:`cell_of_pixel`): pixel ``(y, x)`` of an ``H × W`` input lies in cell
  ``(⌊y·gh/H⌋, ⌊x·gw/W⌋)`` — a ViT's own patch when ``H = gh·ph``; 16 px cells for a 224 px input on
  14 × 14 cells.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from vitviz.errors import VitvizError

DEFAULT_STEPS = 16
RANDOM_REPEATS = 8
RANDOM_SEED = 0
RANDOM = "random"
CURVES = ("deletion", "insertion")


def patch_order(grid_map: np.ndarray) -> np.ndarray:
    """Row-major cell indices of a ``(gh, gw)`` map, largest value first; ties in ascending index.

    ``patch_order([[1, 3], [3, 0]])`` is ``[1, 2, 0, 3]``: the two 3s in index order, then 1, then 0.

    Raises:
        VitvizError: the map is not 2-D or holds NaN.
    """
    values = np.asarray(grid_map, dtype=np.float64)
    if values.ndim != 2:
        raise VitvizError(f"a map to order is (rows, cols), got shape {values.shape}")
    if np.isnan(values).any():
        raise VitvizError("the map holds NaN: its cells cannot be ordered")
    return np.argsort(-values.ravel(), kind="stable")   # stable: equal values stay in index order


def step_counts(num_cells: int, steps: int = DEFAULT_STEPS) -> np.ndarray:
    """Cells touched at steps ``0 … S``: ``⌊i·n/S⌋``, with ``S`` at most ``n`` (module docstring)."""
    if num_cells < 1 or steps < 1:
        raise VitvizError(f"need at least one cell and one step, got {num_cells} cells and {steps} steps")
    steps = min(int(steps), int(num_cells))
    return (np.arange(steps + 1, dtype=np.int64) * int(num_cells)) // steps


def random_orders(num_cells: int, repeats: int = RANDOM_REPEATS, seed: int = RANDOM_SEED) -> np.ndarray:
    """``(repeats, n)`` random cell orders: ``default_rng(seed).permutation(n)`` drawn ``repeats`` times."""
    if repeats < 1:
        raise VitvizError(f"the random baseline needs at least one order, got {repeats}")
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(int(num_cells)) for _ in range(int(repeats))])


def prefix_masks(orders: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``(M, S+1, n)`` bool: ``[m, i, j]`` is whether cell ``j`` is among the first ``counts[i]`` of ``orders[m]``.

    ``orders`` is ``(M, n)`` (each row a permutation of ``0 … n−1``) or one order ``(n,)``.
    """
    orders = np.atleast_2d(np.asarray(orders, dtype=np.int64))
    m, n = orders.shape
    if not (np.sort(orders, axis=1) == np.arange(n)).all():
        raise VitvizError(f"every order must be a permutation of the {n} cells")
    rank = np.empty_like(orders)
    np.put_along_axis(rank, orders, np.arange(n)[None].repeat(m, 0), axis=1)   # rank[m, cell] = position
    return rank[:, None, :] < np.asarray(counts, dtype=np.int64)[None, :, None]


def cell_of_pixel(grid: Sequence[int], hw: Sequence[int]) -> np.ndarray:
    """``(H, W)`` int64: the row-major cell ``⌊y·gh/H⌋·gw + ⌊x·gw/W⌋`` of every input pixel."""
    gh, gw = int(grid[0]), int(grid[1])
    h, w = int(hw[0]), int(hw[1])
    if not (1 <= gh <= h and 1 <= gw <= w):
        raise VitvizError(f"a {gh}×{gw} grid does not fit a {h}×{w} px input")
    rows = np.arange(h, dtype=np.int64) * gh // h
    cols = np.arange(w, dtype=np.int64) * gw // w
    return rows[:, None] * gw + cols[None, :]


def pool_to_grid(pixel_map: np.ndarray, grid: Sequence[int]) -> np.ndarray:
    """Mean of an ``(H, W)`` map over each cell of :func:`cell_of_pixel`: ``(gh, gw)`` float64.

    A 224 px Grad-CAM map on 14 × 14 cells is the mean of each 16 × 16 px block.
    """
    values = np.asarray(pixel_map, dtype=np.float64)
    if values.ndim != 2:
        raise VitvizError(f"a map to pool is (H, W), got shape {values.shape}")
    cells = cell_of_pixel(grid, values.shape).ravel()
    size = int(grid[0]) * int(grid[1])
    sums = np.bincount(cells, weights=values.ravel(), minlength=size)
    return (sums / np.bincount(cells, minlength=size)).reshape(int(grid[0]), int(grid[1]))


def curve_auc(fractions: np.ndarray, scores: np.ndarray) -> float:
    """Trapezoid area under ``scores`` over ``fractions`` (ascending, from 0 to 1).

    A constant ``c`` gives ``c``; ``[1, 0.5, 0]`` over ``[0, 0.5, 1]`` gives 0.5.
    """
    f = np.asarray(fractions, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if f.ndim != 1 or f.shape != s.shape or f.size < 2:
        raise VitvizError(f"a curve needs matching 1-D fractions and scores of 2+ points, got {f.shape}, {s.shape}")
    if f[0] != 0.0 or f[-1] != 1.0 or (np.diff(f) <= 0).any():
        raise VitvizError("fractions must rise strictly from 0 to 1")
    return float(np.sum(np.diff(f) * (s[1:] + s[:-1]) / 2.0))


@dataclass(frozen=True)
class MapCurves:
    """One map's deletion and insertion curves, at the steps of :attr:`Faithfulness.fractions`.

    Attributes:
        name: e.g. ``"rollout"``, ``"Grad-CAM"``, or :data:`RANDOM` for the baseline.
        deletion / insertion: ``(S+1,)`` scores.
        deletion_auc / insertion_auc: their :func:`curve_auc`.
        deletion_std / insertion_std: random only: ``(S+1,)`` standard deviation over the orders.
        deletion_auc_std / insertion_auc_std: random only: standard deviation of the orders' areas.
    """

    name: str
    deletion: np.ndarray
    insertion: np.ndarray
    deletion_auc: float
    insertion_auc: float
    deletion_std: Optional[np.ndarray] = None
    insertion_std: Optional[np.ndarray] = None
    deletion_auc_std: Optional[float] = None
    insertion_auc_std: Optional[float] = None

    def curve(self, kind: str) -> np.ndarray:
        """The ``"deletion"`` or ``"insertion"`` scores."""
        if kind not in CURVES:
            raise VitvizError(f"unknown curve '{kind}': use deletion or insertion")
        return self.deletion if kind == "deletion" else self.insertion

    def auc(self, kind: str) -> float:
        self.curve(kind)
        return self.deletion_auc if kind == "deletion" else self.insertion_auc

    def auc_std(self, kind: str) -> Optional[float]:
        self.curve(kind)
        return self.deletion_auc_std if kind == "deletion" else self.insertion_auc_std

    def std(self, kind: str) -> Optional[np.ndarray]:
        self.curve(kind)
        return self.deletion_std if kind == "deletion" else self.insertion_std


def map_curves(name: str, fractions: np.ndarray, deletion: np.ndarray, insertion: np.ndarray) -> MapCurves:
    """:class:`MapCurves` of one order's ``(S+1,)`` curves, or the mean of ``(R, S+1)`` random ones.

    For ``(R, S+1)`` curves the result holds the mean curve, its area (the mean of the areas),
    and the standard deviations (``ddof=0``) of the curves per step and of the areas.
    """
    deletion = np.asarray(deletion, dtype=np.float64)
    insertion = np.asarray(insertion, dtype=np.float64)
    if deletion.ndim == 1:
        return MapCurves(name, deletion, insertion, curve_auc(fractions, deletion), curve_auc(fractions, insertion))
    areas = {kind: np.array([curve_auc(fractions, c) for c in curves])
             for kind, curves in (("deletion", deletion), ("insertion", insertion))}
    return MapCurves(name, deletion.mean(0), insertion.mean(0), float(areas["deletion"].mean()),
                     float(areas["insertion"].mean()), deletion.std(0), insertion.std(0),
                     float(areas["deletion"].std()), float(areas["insertion"].std()))


@dataclass(frozen=True)
class Faithfulness:
    """Deletion and insertion curves of several maps and of the random baseline, for one image.

    Attributes:
        maps: one :class:`MapCurves` per map, in the order given, then the random baseline last.
        fractions: ``(S+1,)`` fraction of cells removed (deletion) or revealed (insertion).
        grid: ``(gh, gw)`` cells the maps order.
        target: what the score is, in words (e.g. ``"probability of class 285 (Egyptian cat)"``).
        baseline: what a removed cell becomes, in words.
        clean_score / baseline_score: the score of the unperturbed input and of the all-baseline one.
        repeats / seed: the random baseline's orders.
        class_index: the class scored, or None for a label-free target.
    """

    maps: tuple[MapCurves, ...]
    fractions: np.ndarray
    grid: tuple[int, int]
    target: str
    baseline: str
    clean_score: float
    baseline_score: float
    repeats: int
    seed: int
    class_index: Optional[int] = None

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.maps]

    def __getitem__(self, name: str) -> MapCurves:
        for curves in self.maps:
            if curves.name == name:
                return curves
        raise KeyError(f"no map '{name}': the maps are {', '.join(self.names)}")

    @property
    def random(self) -> MapCurves:
        return self[RANDOM]

    def summary(self) -> dict:
        """Settings and areas as plain JSON values: ``{"target", …, "auc": {map: {"deletion", "insertion"}}}``.

        The random baseline's entry also holds ``deletion_std`` and ``insertion_std`` (of its orders' areas).
        """
        auc: dict[str, dict[str, Optional[float]]] = {}
        for m in self.maps:
            auc[m.name] = {"deletion": m.deletion_auc, "insertion": m.insertion_auc}
            if m.deletion_auc_std is not None:
                auc[m.name].update(deletion_std=m.deletion_auc_std, insertion_std=m.insertion_auc_std)
        return {"target": self.target, "class_index": self.class_index, "baseline": self.baseline,
                "grid": list(self.grid), "steps": len(self.fractions) - 1, "random_orders": self.repeats,
                "random_seed": self.seed, "clean_score": self.clean_score, "baseline_score": self.baseline_score,
                "auc": auc}
