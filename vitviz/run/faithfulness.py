"""How faithful is each map? Deletion and insertion curves, run on the model.

The arithmetic (cell orders, steps, areas, the random baseline) is
:mod:`vitviz.analysis.faithfulness`; this module perturbs the input and scores it.

* **Baseline**: a removed cell becomes 0 in the normalised input — the model's own mean colour
  (its data config's ``mean``), uniform over the cell. Not blur: a blurred cell keeps its colour and
  coarse shape, which the model can still read. Deletion at step ``i`` sets the first ``k_i`` cells of
  the order to the baseline; insertion starts from the all-baseline input and shows the first ``k_i``
  cells of the image.
* **Ends exact**: deletion at fraction 0 and insertion at 1 are the score of one forward of the
  unperturbed input alone; deletion at 1 and insertion at 0 that of one forward of the all-baseline
  input. The ``S − 1`` steps between, of every map and random order, run in batches of
  ``batch_size`` (equal to one at a time up to float rounding).
* **Score** (``target``): for a classifier ``"probability"`` (default: softmax probability of the
  class) or ``"logit"``; the class is given (index or name, :func:`vitviz.run.explain.resolve_class`) or
  the unperturbed input's top-1. For a model without a head ``"similarity"`` (default: cosine
  similarity of the pooled output feature to the unperturbed input's, 1 at the start of deletion) or
  ``"norm"``, the label-free target of :mod:`vitviz.run.explain`, ``‖pooled feature‖₂``.
* **Maps**: for a ViT (:func:`vit_faithfulness`) on its own patch grid: plain rollout (the
  analysis's own), gradient rollout (of the class; for a model without a head, of the label-free
  target, named ``gradient rollout (label-free)``), and the head-averaged attention of the class
  token (or, without one, of the mean patch query) of each chosen layer (default: the last). For a
  CNN (:func:`cnn_faithfulness`): Grad-CAM of the last stage, averaged over :data:`CNN_GRID` = 14 × 14
  equal cells of the input (16 px cells at 224 px). Every map is measured against the random
  baseline's mean of 8 orders (seed 0).

Cost: ``2 + 2·(maps + 8)·(S − 1)`` forwards; a ViT with 3 maps at 16 steps makes 332, in batches.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Literal, Mapping, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vitviz.analysis.faithfulness import (DEFAULT_STEPS, RANDOM, RANDOM_REPEATS, RANDOM_SEED, Faithfulness,
                                    MapCurves, cell_of_pixel, map_curves, patch_order, pool_to_grid, prefix_masks,
                                    random_orders, step_counts)
from vitviz.analysis.predictions import class_names
from vitviz.analysis.rollout import attention_map
from vitviz.errors import VitvizError
from vitviz.analysis.rollout import default_query
from vitviz.model_parts import num_classes
from vitviz.run.explain import LABEL_FREE_TARGET, ClassArg, grad_cam, gradient_rollout, resolve_class

if TYPE_CHECKING:
    from vitviz.loading.models import LoadedModel
    from vitviz.run.pipeline import ImageAnalysis
    from vitviz.inputs.preprocess import PreparedImage

Target = Literal["probability", "logit", "similarity", "norm"]
#: Cells a CNN's map is pooled to and its input perturbed in (a CNN has no patch grid of its own).
CNN_GRID = (14, 14)
BASELINE = "0 in the normalised input: the model's mean colour"
DEFAULT_BATCH = 32

__all__ = ["CNN_GRID", "BASELINE", "Target", "target_class", "deletion_insertion", "vit_maps", "vit_faithfulness",
           "cnn_faithfulness", "MapCurves", "Faithfulness"]


def target_class(model: nn.Module, output: torch.Tensor | np.ndarray, class_index: Optional[ClassArg]) -> Optional[int]:
    """The class to score: ``class_index`` resolved, or the top-1 of ``output`` (one image's logits).

    None for a model without a head, which takes no class.
    """
    if num_classes(model) == 0:
        if class_index is not None:
            raise VitvizError(f"{type(model).__name__} has no classifier head: its faithfulness is label-free "
                              f"(class_index=None)")
        return None
    if class_index is not None:
        return resolve_class(model, class_index)
    values = output.detach().float().cpu().numpy() if isinstance(output, torch.Tensor) else np.asarray(output)
    return int(np.argmax(values.reshape(-1)))


def _scorer(model: nn.Module, clean: torch.Tensor, target: Optional[Target],
            index: Optional[int]) -> tuple[Callable[[torch.Tensor], torch.Tensor], str]:
    """``score(outputs) → (B,)`` float32 and its description; ``clean`` is the unperturbed ``(1, ·)`` output."""
    headless = num_classes(model) == 0
    target = target or ("similarity" if headless else "probability")
    if target in ("probability", "logit"):
        if headless or index is None:
            raise VitvizError(f"the target '{target}' needs a classifier head and a class: use similarity or norm")
        names = class_names(model)
        label = f"class {index}" + (f" ({names[index]})" if names is not None else "")
        if target == "probability":
            return lambda out: out.float().softmax(dim=-1)[:, index], f"probability of {label}"
        return lambda out: out.float()[:, index], f"logit of {label}"
    what = "pooled output feature" if headless else "output logits"
    if target == "similarity":
        reference = clean[0].float()
        return (lambda out: F.cosine_similarity(out.float(), reference[None], dim=-1),
                f"cosine similarity of the {what} to the unperturbed image's")
    if target == "norm":
        return lambda out: out.float().norm(dim=-1), (LABEL_FREE_TARGET if headless else f"L2 norm of the {what}")
    raise VitvizError(f"unknown target '{target}': use probability, logit, similarity or norm")


def deletion_insertion(
    model: nn.Module,
    x: torch.Tensor,
    maps: Mapping[str, np.ndarray],
    *,
    target: Optional[Target] = None,
    class_index: Optional[ClassArg] = None,
    steps: int = DEFAULT_STEPS,
    repeats: int = RANDOM_REPEATS,
    seed: int = RANDOM_SEED,
    batch_size: int = DEFAULT_BATCH,
) -> Faithfulness:
    """Deletion and insertion curves of every map and of the random baseline, for the first image of ``x``.

    Args:
        model: any image model in eval mode (``model(x)`` gives ``(B, classes)`` or ``(B, D)``).
        x: ``(B, 3, H, W)`` normalised input on the model's device and dtype; only ``x[:1]`` is used.
        maps: name → ``(gh, gw)`` map, all on one grid of cells over the input
            (:func:`~vitviz.analysis.faithfulness.cell_of_pixel`); ``"random"`` is reserved.
        target / class_index: the score (module docstring).
        steps: ``S``, see :func:`~vitviz.analysis.faithfulness.step_counts`.
        repeats / seed: the random baseline's orders.
        batch_size: perturbed inputs per forward.
    """
    if not maps:
        raise VitvizError("no maps to measure")
    if RANDOM in maps:
        raise VitvizError(f"'{RANDOM}' is the baseline's name: give the map another")
    shapes = {np.shape(m) for m in maps.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise VitvizError(f"the maps must share one (rows, cols) grid, got shapes {sorted(shapes)}")
    if batch_size < 1:
        raise VitvizError(f"batch size must be at least 1, got {batch_size}")
    rows, cols = next(iter(shapes))
    grid = (int(rows), int(cols))
    cells = grid[0] * grid[1]
    x = x[:1]
    counts = step_counts(cells, steps)
    fractions = counts / cells
    orders = np.concatenate([np.stack([patch_order(m) for m in maps.values()]), random_orders(cells, repeats, seed)])
    between = torch.from_numpy(prefix_masks(orders, counts)[:, 1:-1].reshape(-1, cells))   # (M·(S−1), n)
    pixel_cell = torch.from_numpy(cell_of_pixel(grid, x.shape[-2:])).to(x.device)
    blank = torch.zeros_like(x)
    with torch.inference_mode():
        clean_out = model(x)
        index = target_class(model, clean_out[0], class_index)
        score, description = _scorer(model, clean_out, target, index)
        clean, base = float(score(clean_out)[0]), float(score(model(blank))[0])
        # Jobs: every mask row for deletion (insert = False), then every one again for insertion.
        jobs = len(between)
        scores = np.empty(2 * jobs, dtype=np.float64)
        for start in range(0, 2 * jobs, batch_size):
            job = torch.arange(start, min(start + batch_size, 2 * jobs))
            touched = between[job % jobs].to(x.device)[:, pixel_cell]                # (b, H, W): cell in the prefix
            insert = (job >= jobs).to(x.device)[:, None, None]
            shown = touched == insert                 # insertion shows the prefix, deletion everything else
            scores[start:start + len(job)] = score(model(torch.where(shown[:, None], x, blank))).cpu().numpy()
    inner = scores.reshape(2, len(orders), len(counts) - 2)
    ones = np.ones((len(orders), 1))
    deletion = np.concatenate([clean * ones, inner[0], base * ones], axis=1)
    insertion = np.concatenate([base * ones, inner[1], clean * ones], axis=1)
    m = len(maps)
    curves = [map_curves(name, fractions, deletion[i], insertion[i]) for i, name in enumerate(maps)]
    curves.append(map_curves(RANDOM, fractions, deletion[m:], insertion[m:]))
    return Faithfulness(maps=tuple(curves), fractions=fractions, grid=grid, target=description, baseline=BASELINE,
                        clean_score=clean, baseline_score=base, repeats=int(repeats), seed=int(seed), class_index=index)


def vit_maps(model: nn.Module, x: torch.Tensor, analysis: "ImageAnalysis", *, class_index: Optional[int] = None,
             layers: Optional[Sequence[int]] = None) -> dict[str, np.ndarray]:
    """The ViT maps compared, each ``(gh, gw)``: rollout, gradient rollout, attention per layer.

    ``rollout`` is ``analysis.figure_rollout`` (attention sinks left out where there are any); ``gradient rollout`` explains ``class_index``'s logit
    (:func:`vitviz.run.explain.gradient_rollout`, top-1 when None) — for a model without a head it is
    ``gradient rollout (label-free)``, of :data:`vitviz.run.explain.LABEL_FREE_TARGET`; ``class-token attention, layer L`` is
    :func:`vitviz.analysis.attention_map` of layer ``L`` (0-based), heads averaged, for every
    ``L`` in ``layers`` (default: the last) — ``mean patch attention, layer L`` without a class token.
    """
    attention = analysis.attention
    layout = analysis.layout
    maps = {"rollout": np.asarray(analysis.figure_rollout)}  # as the Explanations page shows it
    if num_classes(model) > 0:
        maps["gradient rollout"] = gradient_rollout(model, x, class_index)
    else:
        maps["gradient rollout (label-free)"] = gradient_rollout(model, x, None)
    query = default_query(layout)
    who = "class-token" if layout.has_class_token else "mean patch"
    for layer in ([attention.shape[0] - 1] if layers is None else layers):
        maps[f"{who} attention, layer {int(layer)}"] = attention_map(attention, layout, int(layer), None, query)
    return maps


def vit_faithfulness(loaded: "LoadedModel", analysis: "ImageAnalysis", *, class_index: Optional[ClassArg] = None,
                     layers: Optional[Sequence[int]] = None, target: Optional[Target] = None,
                     steps: int = DEFAULT_STEPS, repeats: int = RANDOM_REPEATS, seed: int = RANDOM_SEED,
                     batch_size: int = DEFAULT_BATCH) -> Faithfulness:
    """Deletion and insertion of a ViT's maps (:func:`vit_maps`) for the image of ``analysis``.

    The class (a classifier's; top-1 of ``analysis.logits`` when None) is the one gradient rollout
    explains and the one scored.
    """
    x = analysis.prepared.tensor.to(device=loaded.device, dtype=loaded.dtype)
    index = target_class(loaded.model, analysis.output, class_index)
    maps = vit_maps(loaded.model, x, analysis, class_index=index, layers=layers)
    return deletion_insertion(loaded.model, x, maps, target=target, class_index=index, steps=steps,
                              repeats=repeats, seed=seed, batch_size=batch_size)


def cnn_faithfulness(loaded: "LoadedModel", prepared: "PreparedImage", *, class_index: Optional[ClassArg] = None,
                     grid: Sequence[int] = CNN_GRID, target: Optional[Target] = None, steps: int = DEFAULT_STEPS,
                     repeats: int = RANDOM_REPEATS, seed: int = RANDOM_SEED,
                     batch_size: int = DEFAULT_BATCH) -> Faithfulness:
    """Deletion and insertion of a CNN's Grad-CAM (last stage), pooled to ``grid`` cells of the input.

    The class (top-1 of the unperturbed input when None) is the one Grad-CAM explains and the one scored.
    """
    model = loaded.model
    if num_classes(model) == 0:
        raise VitvizError(f"'{loaded.name}' has no classifier head: Grad-CAM needs a class to explain")
    x = prepared.tensor.to(device=loaded.device, dtype=loaded.dtype)
    if class_index is None:
        with torch.inference_mode():
            top = target_class(model, model(x)[0], None)
        assert top is not None  # a model with a head has a top-1 class
        class_index = top
    cam = grad_cam(model, x, class_index)
    maps = {"Grad-CAM": pool_to_grid(cam.map, grid)}
    return deletion_insertion(model, x, maps, target=target, class_index=cam.class_index, steps=steps,
                              repeats=repeats, seed=seed, batch_size=batch_size)
