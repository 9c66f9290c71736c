"""What the tokens know, layer by layer: patch-token PCA as colours, and token-to-token similarity.

**Input.** One layer's patch tokens of one image as ``(gh, gw, D)``: the grid of the image, prefix
tokens (class, distillation, registers) already dropped — they have no place in the picture.
vitviz takes them from block ℓ's output after the model's final norm
(:func:`vitviz.run.capture.layer_patch_tokens`); the functions here accept any features.

**PCA** (the DINO / DINOv2 picture in which object parts take colours). The ``(N, D)`` matrix of
the fitted patches — one image, or every patch of a set for a joint fit — is centred on its mean
token and its top-``k`` principal directions are taken. A patch's *scores* are its centred token
projected on them. Explained-variance ratios are over all components (the total variance), so
the top ``k`` sum to at most 1.

**Sign rule.** Principal directions have no sign of their own. Each component's sign is chosen
so that the fitted patches on the image border (outermost row and column of each grid) score
below the fitted mean on average — equivalently, as scores are centred, the interior scores above
it. Photos mostly frame their subject away from the edges, so the positive side of the first
component tends to be the object. When there is no interior or no border patch among the fitted
ones (grids of 1 or 2 rows or columns, or a ``where`` mask), or the border mean is 0 (within
1e-9 of the largest |score|), the patch with the largest |score| (the first in row-major order,
image by image, among those within 1e-9 of it) is made positive instead. Both rules look at the
scores only, so negating every token, or adding one vector to all of them, leaves the scores,
colours and mask unchanged (the components flip with the tokens).

**Colours.** Component 1 is red, 2 green, 3 blue. Each component's scores are mapped linearly
from its 1st percentile (0) to its 99th percentile (1) over the fitted patches and clipped, as
the CNN stage PCA does (:mod:`vitviz.analysis.cnn_features`): one outlying patch (an attention
sink) does not wash out the rest. In a joint fit the range is the set's, so one colour means the
same direction in every image. A component without spread (all scores equal) maps to 0; with
fewer than three components the missing channels are 0.

**Foreground.** Patches whose first-component score is above ``threshold`` standard deviations of
that score over the fitted patches; the default 0 is "above the fitted mean". Measured on DINOv2
ViT-S/14 (``vit_small_patch14_dinov2.imgfocus``), 224 px, last layer, one image per fit: the
flower sample (one flower on a blurred background) is foreground in 97 % of the central 8×8
patches and 0 % of the border ring, the first component explaining 76 %; the cat's face fills
the frame: 98 % centre, 33 % border (its background corners), 44 %. A joint fit over the six
samples behaves differently: its first component partly tells the images apart (96 % of the
cat's patches are foreground, 7 % of the rocket's), so fit per image to find objects.

Worked values: a 3×3 grid whose centre token is ``(8, 0)`` and whose 8 border tokens are
``(-1, 0)`` has mean ``(0, 0)``, one component ``(1, 0)`` explaining 100 % (the border mean of
its scores is −1 < 0, so ``(1, 0)`` and not ``(−1, 0)``), scores 8 (centre) and −1 (border),
red 1 at the centre and 0 on the border (percentiles −1 and 7.28), and the centre alone as
foreground. Negated tokens give the component ``(−1, 0)`` and the very same scores.

**Similarity.** ``token_similarity(tokens, query)`` is the cosine similarity of the query patch's
token to every patch's token, in [−1, 1]: 1 for the query itself (and any token pointing the same
way), 0 for orthogonal tokens, −1 for opposite ones; a zero token has similarity 0 to all.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, ContextManager, Optional, Sequence, Union

import numpy as np

from vitviz.errors import VitvizError

if TYPE_CHECKING:  # for TokenArray only: this module converts tensors, it never needs torch itself
    import torch

try:  # installed with scikit-learn
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - then BLAS keeps its own thread count
    threadpool_limits = None

TokenArray = Union[np.ndarray, "torch.Tensor"]  # any array numpy can read
TokenSet = Union[list[TokenArray], tuple[TokenArray, ...]]  # grids fitted together (a list or tuple of them)
#: Percentiles of each component's scores that map to 0 and 1.
COLOUR_PERCENTILES = (1.0, 99.0)
_TIE = 1e-9


def _grid_tokens(tokens: TokenArray) -> np.ndarray:
    """``(gh, gw, D)`` as float64 numpy (a torch tensor is moved to the CPU first)."""
    if hasattr(tokens, "detach"):
        tokens = tokens.detach().float().cpu().numpy()
    arr = np.asarray(tokens, dtype=np.float64)
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise VitvizError(f"patch tokens must be (gh, gw, D), got shape {arr.shape}")
    return arr


def _as_set(tokens: Union[TokenArray, TokenSet]) -> list[np.ndarray]:
    if isinstance(tokens, (list, tuple)):
        if not tokens:
            raise VitvizError("no token grids to fit")
        return [_grid_tokens(t) for t in tokens]
    return [_grid_tokens(tokens)]


def border_mask(grid: Sequence[int]) -> np.ndarray:
    """``(gh, gw)`` True on the outermost row and column of the grid."""
    gh, gw = int(grid[0]), int(grid[1])
    mask = np.zeros((gh, gw), dtype=bool)
    mask[0], mask[-1], mask[:, 0], mask[:, -1] = True, True, True, True
    return mask


@dataclass(frozen=True)
class TokenPCAFit:
    """A PCA of patch tokens, fitted on one image or a set (module docstring).

    Attributes:
        mean: ``(D,)`` mean token of the fitted patches.
        components: ``(k, D)`` orthonormal principal directions, signs by the module's rule.
        explained_variance_ratio: ``(k,)`` share of the total variance, descending.
        low: ``(k,)`` score mapped to colour 0 (1st percentile over the fitted patches).
        high: ``(k,)`` score mapped to colour 1 (99th percentile).
        score_std: ``(k,)`` standard deviation of each component's scores over the fitted patches.
        num_patches: patches the fit saw.
        num_images: token grids the fit saw.
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray
    low: np.ndarray
    high: np.ndarray
    score_std: np.ndarray
    num_patches: int
    num_images: int

    @property
    def k(self) -> int:
        return int(self.components.shape[0])

    def scores(self, tokens: TokenArray) -> np.ndarray:
        """``(gh, gw, k)`` projections of ``tokens`` ``(gh, gw, D)`` on the components, float64."""
        arr = _grid_tokens(tokens)
        if arr.shape[-1] != self.mean.shape[0]:
            raise VitvizError(f"tokens have {arr.shape[-1]} dimensions, the fit {self.mean.shape[0]}")
        return (arr - self.mean) @ self.components.T

    def colours(self, scores: np.ndarray) -> np.ndarray:
        """``(..., k)`` scores → ``(..., 3)`` float32 colours in [0, 1] (module docstring)."""
        span = self.high - self.low
        scaled = np.where(span > 0, (scores - self.low) / np.where(span > 0, span, 1.0), 0.0)
        rgb = np.zeros(scores.shape[:-1] + (3,), dtype=np.float32)
        n = min(3, self.k)
        rgb[..., :n] = np.clip(scaled[..., :n], 0.0, 1.0)
        return rgb

    def transform(self, tokens: TokenArray, *, threshold: float = 0.0) -> "TokenPCA":
        """Colours, scores and foreground of one image's ``(gh, gw, D)`` tokens under this fit."""
        scores = self.scores(tokens)
        foreground = scores[..., 0] > threshold * self.score_std[0] if self.k else np.zeros(scores.shape[:2], bool)
        if self.k and self.score_std[0] == 0:
            foreground = np.zeros_like(foreground)
        return TokenPCA(rgb=self.colours(scores), scores=scores.astype(np.float32), foreground=foreground,
                        threshold=float(threshold), fit=self)


@dataclass(frozen=True)
class TokenPCA:
    """One image's tokens under a :class:`TokenPCAFit`.

    Attributes:
        rgb: ``(gh, gw, 3)`` float32 in [0, 1]: components 1–3 as red, green, blue.
        scores: ``(gh, gw, k)`` float32 projections on the components.
        foreground: ``(gh, gw)`` bool, first-component score > ``threshold`` × its std.
        threshold: foreground threshold in standard deviations of the first component's score.
        fit: the PCA these come from (shared by every image of a joint fit).
    """

    rgb: np.ndarray
    scores: np.ndarray
    foreground: np.ndarray
    threshold: float
    fit: TokenPCAFit

    @property
    def components(self) -> np.ndarray:
        return self.fit.components

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        return self.fit.explained_variance_ratio


def _one_blas_thread() -> ContextManager:
    """BLAS on one thread: these decompositions are small, and on a busy machine (a server's other
    sessions) multi-threaded OpenBLAS waits on its threads, 25× slower than one thread when the cores are
    oversubscribed (``bench/RESULTS.md``)."""
    return threadpool_limits(1, user_api="blas") if threadpool_limits is not None else nullcontext()


def _principal(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Top-``k`` directions ``(k, D)`` of centred ``x`` ``(N, D)``, their variances ``(k,)`` (sum of squares) and the total.

    Eigen-decomposes the smaller of the ``D×D`` scatter matrix and the ``N×N`` Gram matrix (a few
    ms for 1369 patches of D = 768, where an ``N×D`` SVD takes ten times longer); a Gram matrix
    whose top ``k`` include a zero eigenvalue (fewer distinct tokens than ``k``) falls back to the SVD.
    """
    n, d = x.shape
    total = float((x * x).sum())
    if d <= n:
        values, vectors = np.linalg.eigh(x.T @ x)
        order = np.argsort(values)[::-1][:k]
        return vectors[:, order].T.copy(), np.clip(values[order], 0.0, None), total
    values, vectors = np.linalg.eigh(x @ x.T)
    order = np.argsort(values)[::-1][:k]
    top = np.clip(values[order], 0.0, None)
    if top[-1] > 1e-10 * max(total, np.finfo(np.float64).tiny):
        return (x.T @ vectors[:, order] / np.sqrt(top)).T, top, total
    _, singular, vt = np.linalg.svd(x, full_matrices=False)
    return vt[:k], singular[:k] ** 2, total


def fit_token_pca(
    tokens: Union[TokenArray, TokenSet],
    k: int = 3,
    *,
    where: Union[None, np.ndarray, Sequence[np.ndarray]] = None,
) -> TokenPCAFit:
    """Fit a PCA on the patch tokens of one image ``(gh, gw, D)`` or of a set (a list of such grids).

    Args:
        tokens: one ``(gh, gw, D)`` grid, or a list of them (grids may differ, ``D`` may not).
        k: components to keep (≥ 1), capped at ``D`` and at the number of fitted patches.
        where: optional ``(gh, gw)`` boolean mask per grid: fit on those patches only (e.g. a
            first fit's ``foreground``, for DINOv2's second PCA on the object alone).
    """
    grids = _as_set(tokens)
    dims = {g.shape[-1] for g in grids}
    if len(dims) != 1:
        raise VitvizError(f"token grids of one fit must share their dimension, got {sorted(dims)}")
    if k < 1:
        raise VitvizError(f"k must be at least 1, got {k}")
    masks: list[np.ndarray]
    if where is None:
        masks = [np.ones(g.shape[:2], dtype=bool) for g in grids]
    else:
        masks = [np.asarray(m, dtype=bool) for m in (where if isinstance(where, (list, tuple)) else [where])]
        if len(masks) != len(grids) or any(m.shape != g.shape[:2] for m, g in zip(masks, grids)):
            raise VitvizError("`where` needs one (gh, gw) mask per token grid")
    x = np.concatenate([g[m] for g, m in zip(grids, masks)])
    on_border = np.concatenate([border_mask(g.shape[:2])[m] for g, m in zip(grids, masks)])
    if x.shape[0] == 0:
        raise VitvizError("no patches to fit: the `where` mask selects none")
    mean = x.mean(axis=0)
    x = x - mean
    k = min(int(k), x.shape[1], x.shape[0])
    with _one_blas_thread():
        components, variances, total = _principal(x, k)
        scores = x @ components.T
    both = on_border.any() and (~on_border).any()
    for j in range(k):
        s = scores[:, j]
        largest = float(np.abs(s).max())
        border_mean = float(s[on_border].mean()) if both else 0.0
        if abs(border_mean) > _TIE * largest:
            flip = border_mean > 0
        else:
            flip = s[int(np.flatnonzero(np.abs(s) >= (1 - _TIE) * largest)[0])] < 0
        if flip:
            components[j], scores[:, j] = -components[j], -s
    low, high = np.percentile(scores, COLOUR_PERCENTILES, axis=0)
    return TokenPCAFit(
        mean=mean,
        components=components,
        explained_variance_ratio=variances / total if total > 0 else np.zeros(k),
        low=low,
        high=high,
        score_std=scores.std(axis=0),
        num_patches=int(x.shape[0]),
        num_images=len(grids),
    )


def token_pca(tokens: TokenArray, k: int = 3, *, threshold: float = 0.0,
              where: Optional[np.ndarray] = None) -> TokenPCA:
    """PCA colours of one image's ``(gh, gw, D)`` patch tokens, fitted on that image (module docstring).

    ``token_pca(t).rgb`` is ``(gh, gw, 3)`` in [0, 1]; ``.foreground`` the first-component mask.
    """
    return fit_token_pca(tokens, k, where=where).transform(tokens, threshold=threshold)


def joint_token_pca(token_sets: Sequence[TokenArray], k: int = 3, *, threshold: float = 0.0) -> list[TokenPCA]:
    """One PCA fitted on every patch of a set, applied to each image: colours comparable across images."""
    fit = fit_token_pca(list(token_sets), k)
    return [fit.transform(t, threshold=threshold) for t in token_sets]


def token_similarity(tokens: TokenArray, query: Union[int, tuple[int, int], TokenArray]) -> np.ndarray:
    """Cosine similarity of one token to every patch token: ``(gh, gw)`` float32 in [−1, 1].

    Args:
        tokens: ``(gh, gw, D)`` patch tokens of one layer.
        query: a patch as ``(row, col)`` or as its row-major index ``row·gw + col`` (prefix tokens
            not counted: use :meth:`vitviz.inputs.preprocess.TokenLayout.patch_of` for a token index), or
            a ``(D,)`` numpy array or tensor (e.g. the class token) compared with every patch.
    """
    grid = _grid_tokens(tokens)
    gh, gw, d = grid.shape
    if isinstance(query, (tuple, list)):
        if len(query) != 2:
            raise VitvizError(f"a query patch is (row, col), got {query!r}; pass a vector as an array")
        row, col = int(query[0]), int(query[1])
        if not (0 <= row < gh and 0 <= col < gw):
            raise IndexError(f"patch ({row}, {col}) is outside the {gh}×{gw} grid")
        q = grid[row, col]
    elif isinstance(query, int) or np.ndim(query) == 0:
        index = int(query)
        if not 0 <= index < gh * gw:
            raise IndexError(f"patch index {index} is outside the {gh}×{gw} grid")
        q = grid.reshape(-1, d)[index]
    else:
        q = _grid_tokens(query.reshape(1, 1, -1))[0, 0]
        if q.shape[0] != d:
            raise VitvizError(f"query vector has {q.shape[0]} dimensions, the tokens {d}")
    norms = np.linalg.norm(grid, axis=-1) * np.linalg.norm(q)
    dots = grid @ q
    sim = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
    return np.clip(sim, -1.0, 1.0).astype(np.float32)
