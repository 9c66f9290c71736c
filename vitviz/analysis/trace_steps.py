"""The few numbers each encoder step shows, computed from a :class:`vitviz.run.trace.PatchTrace`'s arrays.

Pure functions on numpy arrays (float64 inside, float32 out). Conventions:

* **Top entries** are ranked by absolute value, largest first; ties keep the lower index first.
* **LayerNorm** ``LN(z) = (z − μ) / sqrt(σ² + eps) · γ + β`` with μ the mean and σ² the biased
  variance over the D channels (as ``torch.nn.LayerNorm``). Worked value: z = (1, 2, 3, 6), γ = 1,
  β = 0, eps = 0: μ = 3, σ² = 3.5, LN(z) = (−1.069, −0.535, 0, 1.604).
* **Projection terms**: ``embedding[d] = Σ_i x_i E[i, d] + b[d]``; the terms ``x_i E[i, d]`` are
  ranked by absolute value.
* **Depth profile**: per layer, ‖z_in‖₂ and ‖z_out‖₂ of the token and cos(z_out, z_in) — how much one
  block turns the token (1 = unchanged direction).
* **Firing MLP units**: hidden units with a value > 0 after the activation (GELU is negative only for
  negative inputs, so this counts the units whose pre-activation is positive).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def top_entries(vector: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """``(indices, values)`` of the ``k`` entries of largest magnitude, largest first (ties: lower index first)."""
    v = np.asarray(vector).reshape(-1)
    order = np.argsort(-np.abs(v.astype(np.float64)), kind="stable")[:max(0, int(k))]
    return order.astype(np.int64), v[order].astype(np.float32)


@dataclass(frozen=True)
class LayerNormParts:
    """LN of one token, term by term: ``output = (z − mean) / std · gain + bias`` with ``std = sqrt(var + eps)``."""

    mean: float
    var: float
    std: float
    standardised: np.ndarray
    output: np.ndarray


def layer_norm_parts(z: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float) -> LayerNormParts:
    """The LayerNorm of ``z`` (D,) with its mean, variance and standardised values (module docstring)."""
    z64 = np.asarray(z, dtype=np.float64)
    mean, var = float(z64.mean()), float(z64.var())
    std = float(np.sqrt(var + eps))
    standardised = (z64 - mean) / std
    output = standardised * np.asarray(gain, np.float64) + np.asarray(bias, np.float64)
    return LayerNormParts(mean, var, std, standardised.astype(np.float32), output.astype(np.float32))


@dataclass(frozen=True)
class ProjectionTerms:
    """One output dimension of ``x_p E + b`` as a sum: the largest terms ``x_i · E[i, d]``.

    Attributes:
        dim: the output dimension d.
        indices / inputs / weights / products: the top terms' input index i, x_i, E[i, d] and x_i · E[i, d].
        rest: the sum of all the other terms.
        bias: b[d].
        total: the whole sum (= the embedding's value at d).
    """

    dim: int
    indices: np.ndarray
    inputs: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    rest: float
    bias: float
    total: float


def projection_terms(x: np.ndarray, e: np.ndarray, b: np.ndarray, dim: int, k: int = 5) -> ProjectionTerms:
    """Output ``dim`` of ``x @ E + b`` written as its ``k`` largest terms, the rest and the bias (module docstring)."""
    x64, col = np.asarray(x, np.float64), np.asarray(e, np.float64)[:, int(dim)]
    products = x64 * col
    idx, _ = top_entries(products, k)
    top = products[idx]
    total = float(products.sum() + float(b[dim]))
    return ProjectionTerms(dim=int(dim), indices=idx, inputs=x64[idx].astype(np.float32),
                           weights=col[idx].astype(np.float32), products=top.astype(np.float32),
                           rest=float(products.sum() - top.sum()), bias=float(b[dim]), total=total)


@dataclass(frozen=True)
class DepthProfile:
    """Per layer: the token's norm entering and leaving the block and the cosine between the two."""

    norm_in: np.ndarray
    norm_out: np.ndarray
    cosine: np.ndarray


def depth_profile(z_in: np.ndarray, z_out: np.ndarray) -> DepthProfile:
    """``(L, D)`` block inputs and outputs of one token → norms and cos(z_out, z_in) per layer."""
    a, b = np.asarray(z_in, np.float64), np.asarray(z_out, np.float64)
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    cosine = (a * b).sum(-1) / np.maximum(na * nb, 1e-30)
    return DepthProfile(na.astype(np.float32), nb.astype(np.float32), cosine.astype(np.float32))


def firing_units(mlp_hidden: np.ndarray) -> np.ndarray:
    """``(L, 4D)`` hidden activations → ``(L,)`` count of units > 0 (module docstring)."""
    return (np.asarray(mlp_hidden) > 0).sum(axis=-1).astype(np.int64)


def attention_over_patches(row: np.ndarray, num_prefix: int, grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One attention (or score) row ``(T,)`` → its prefix entries ``(p,)`` and the patch entries as a ``(gh, gw)``
    map (row-major), not renormalised."""
    row = np.asarray(row)
    if row.shape[-1] != num_prefix + grid[0] * grid[1]:
        raise ValueError(f"a row of {row.shape[-1]} tokens does not fit {num_prefix} prefix tokens and grid {grid}")
    return row[:num_prefix], row[num_prefix:].reshape(grid)
