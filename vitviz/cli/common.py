"""What the commands share: the conventions written beside every output, output file stems, image
arguments (files and folders, ``--image-size``), the rollout and explanation options, progress lines.

Standard library only at import time (``python -m vitviz models`` answers at once); commands import torch when they run.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from vitviz.errors import VitvizError

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


CONVENTIONS = {
    "attention": "softmax(q k^T * scale) per block and head, rows sum to 1; token 0.. are prefix tokens "
                 "(see num_prefix_tokens), then patches in row-major order",
    "rollout": "Abnar & Zuidema 2020: heads fused by summary rollout.fusion (mean unless --fusion), in every row "
               "the rollout.discard_ratio share of smallest entries set to 0 (prefix->prefix kept; 0 unless "
               "--discard), (A + I) rows renormalised, multiplied from layer rollout.start_layer (0 unless "
               "--start-layer) up; row of the class token (or mean over patch queries without one) "
               "over the patch columns, not renormalised",
    "mean_attention_distance": "sum_k a_qk * |c_q - c_k| over patch queries and keys, prefix tokens dropped, "
                               "rows not renormalised, averaged over queries (and images), pixels of the "
                               "network input",
    "pos_embed_similarity": "cosine similarity of patch position embeddings (prefix rows dropped), resampled "
                            "as the model does for this grid; [i, j] is the tile of patch (i, j)",
    "filters_pca": "principal components of the centred patch-embedding filters (D rows of C*P*P), "
                   "explained variance ratio over all components; absent for a hybrid (its projection is 1x1 "
                   "over CNN stem features, see 'filters')",
    "token_pca": "per layer l (block l's output after the model's final norm, prefix tokens dropped): PCA of "
                 "the gh*gw patch tokens of this image, centred on their mean; token_pca_rgb = components 1-3 as "
                 "red, green, blue, each mapped from its 1st (0) to 99th (1) percentile over the patches and "
                 "clipped; each component's sign makes the border patches' mean score negative (else the "
                 "largest-|score| patch positive); token_pca_foreground = first-component score > 0 (the mean); "
                 "token_pca_explained_variance = ratios over all components",
    "rollout_without_sinks": "the default rollout (mean fusion, no discard, from layer 0) with the attention sinks "
                             "(summary attention_sinks: patches receiving >= 20x the uniform share in >= 1 layer, "
                             "find_attention_sinks) left out as keys in every layer, rows renormalised; written only "
                             "when sinks are found; the dashboard's rollout figures show it by default",
    "patch_size": "input pixels per patch token; for a hybrid the CNN stem's stride (stem_stride) times its "
                  "projection kernel, so distances are in pixels of the network input either way",
}


# Written only with --explain.
RELEVANCE_CONVENTION = ("Chefer, Gur & Wolf 2021 gradient-weighted rollout: R = I; per block from the first up, "
                        "R <- R + mean_heads((dtarget/dA * A)^+) R; row of the class token (or mean over patch "
                        "queries without one) over the patch columns, not renormalised; target: the class logit, "
                        "or for a model without a head the L2 norm of the pooled output feature")


GRAD_CAM_CONVENTION = ("Selvaraju et al. 2017: ReLU(sum_k alpha_k A_k), alpha_k = spatial mean of d logit / d A_k, "
                       "A = the stage's activations; upsampled bilinearly to the network input, divided by its "
                       "maximum (an all-zero map stays zero)")


def safe_stem(path: Path) -> str:
    """A folder name from a file name: letters, digits, ``._-`` only; never ``..`` or hidden."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem).strip("._") or "image"
    return stem[:80]


DEFAULT_ROLLOUT = {"fusion": "mean", "discard_ratio": 0.0, "start_layer": 0}


def expand_images(paths: Sequence[str]) -> list[Path]:
    """Files as given; folders replaced by the image files directly inside them (sorted)."""
    from vitviz.inputs.images import IMAGE_SUFFIXES

    images: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise VitvizError(f"{path}: the folder holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
            images += found
        else:
            images.append(path)
    return images


def unique_stem(stem: str, taken: set[str]) -> str:
    name, n = stem, 2
    while name in taken:
        name, n = f"{stem}-{n}", n + 1
    taken.add(name)
    return name


def say(message: str) -> None:
    """A progress line on stderr (stdout stays for results)."""
    print(f"vitviz: {message}", file=sys.stderr, flush=True)


def parse_image_size(text: Optional[str]):
    """``--image-size`` text: ``"N"`` → N (square), ``"HxW"`` → (H, W) (``"224x320"``: 224 px high, 320 wide).

    None keeps the model's size; anything else is a one-line :class:`VitvizError`.
    """
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*", str(text))
    if not match:
        raise VitvizError(f"--image-size '{text}' is not N or HxW in px (e.g. 224 or 224x320)")
    height = int(match.group(1))
    return height if match.group(2) is None else (height, int(match.group(2)))


def rollout_options(model: object, args: argparse.Namespace) -> dict:
    """``--fusion/--discard/--start-layer`` checked against the model before any image is read."""
    depth = len(getattr(model, "blocks", ()))
    if not 0.0 <= args.discard < 1.0:
        raise VitvizError(f"--discard {args.discard:g} must be in [0, 1)")
    if depth and not 0 <= args.start_layer < depth:
        raise VitvizError(f"--start-layer {args.start_layer} is out of range 0–{depth - 1}")
    return {"fusion": args.fusion, "discard_ratio": float(args.discard), "start_layer": int(args.start_layer)}


FAITHFULNESS_HELP = (
    "also write <out>/<image stem>/faithfulness.csv (columns map, curve, step, fraction, score, score_std: one row per "
    "map, curve and step; curve 'deletion' removes cells in the map's order, 'insertion' reveals them on a "
    "blank input; score_std only for 'random', the mean of 8 seeded random orders) and faithfulness_auc.csv "
    "(map, deletion_auc, insertion_auc and, for random, their std): trapezoid area over the fraction of cells "
    "in [0, 1], lower deletion and higher insertion = more faithful. Removed cells become the model's mean "
    "colour (0 after normalisation). Score: the class's softmax probability ({cls}){free}. Maps: {maps}")


def check_steps(args: argparse.Namespace) -> None:
    if args.faithfulness and args.faithfulness_steps < 1:  # found before the model runs, not after
        raise VitvizError(f"--faithfulness-steps {args.faithfulness_steps} must be at least 1")


def write_faithfulness(folder: Path, result) -> dict:
    """Write faithfulness.csv and faithfulness_auc.csv into ``folder``, print the areas; the summary entry."""
    from vitviz.export import (FAITHFULNESS_AUC_HEADER, FAITHFULNESS_HEADER, faithfulness_auc_rows, faithfulness_rows,
                         write_table_csv)

    write_table_csv(folder / "faithfulness.csv", FAITHFULNESS_HEADER, faithfulness_rows(result))
    write_table_csv(folder / "faithfulness_auc.csv", FAITHFULNESS_AUC_HEADER, faithfulness_auc_rows(result))
    for curves in result.maps:
        spread = (f" (± {curves.deletion_auc_std:.3f} / ± {curves.insertion_auc_std:.3f} over {result.repeats} "
                  f"orders)" if curves.deletion_auc_std is not None else "")
        print(f"  faithfulness of {curves.name}: deletion AUC {curves.deletion_auc:.3f}, insertion AUC "
              f"{curves.insertion_auc:.3f}{spread}")
    return {**result.summary(), "files": [str(folder / "faithfulness.csv"), str(folder / "faithfulness_auc.csv")]}


def explain_target(model: "nn.Module", cls: Optional[str], *, label_free: bool) -> Optional[dict]:
    """What ``--explain CLASS`` explains, resolved before any work: class index and label, or label-free.

    A model without a classifier head is explained label-free when ``label_free`` (ViT gradient
    rollout: the pooled feature's L2 norm; CLASS is then ignored, with a note), else it is an error.
    """
    if cls is None:
        return None
    from vitviz.analysis import class_names
    from vitviz.model_parts import num_classes
    from vitviz.run.explain import LABEL_FREE_TARGET, resolve_class

    if label_free and num_classes(model) == 0:
        say(f"the model has no classifier head: '{cls}' is ignored, the explanation is label-free "
            f"({LABEL_FREE_TARGET})")
        return {"class_index": None, "label": None,
                "target": f"label-free: {LABEL_FREE_TARGET} (the model has no classifier head)"}
    index = resolve_class(model, cls)
    names = class_names(model)
    label = names[index] if names is not None else f"class {index}"
    return {"class_index": index, "label": label, "target": f"logit of class {index} ({label})"}
