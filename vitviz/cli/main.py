"""Command line: ``python -m vitviz {models,analyze,cnn,paper,distance,talk,download,trace}``.

Errors a user can cause print one line to stderr and exit with status 2; no traceback
unless ``--verbose`` asks for one.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import traceback
from pathlib import Path
from typing import Optional, Sequence

from vitviz import __version__
from vitviz.errors import VitvizError
from vitviz.run.run_guard import check_out_folder

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
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


def expand_images(paths: Sequence[str]) -> list[Path]:
    """Files as given; folders replaced by the image files directly inside them (sorted)."""
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


def _unique(stem: str, taken: set[str]) -> str:
    name, n = stem, 2
    while name in taken:
        name, n = f"{stem}-{n}", n + 1
    taken.add(name)
    return name


def say(message: str) -> None:
    """A progress line on stderr (stdout stays for results)."""
    print(f"vitviz: {message}", file=sys.stderr, flush=True)


def cmd_models(args: argparse.Namespace) -> int:
    from vitviz.loading.catalog import list_models, weights_source

    rows = [(s.name, s.family, s.label, weights_source(s, args.weights_dir)) for s in list_models(args.weights_dir)]
    width = max(len(r[0]) for r in rows)
    for name, family, label, source in rows:
        print(f"{name:<{width}}  {family:<10}  {label}\n{'':<{width}}  {'':<10}  weights: {source}")
    return 0


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


def _rollout_options(model: object, args: argparse.Namespace) -> dict:
    """``--fusion/--discard/--start-layer`` checked against the model before any image is read."""
    depth = len(getattr(model, "blocks", ()))
    if not 0.0 <= args.discard < 1.0:
        raise VitvizError(f"--discard {args.discard:g} must be in [0, 1)")
    if depth and not 0 <= args.start_layer < depth:
        raise VitvizError(f"--start-layer {args.start_layer} is out of range 0–{depth - 1}")
    return {"fusion": args.fusion, "discard_ratio": float(args.discard), "start_layer": int(args.start_layer)}


def cmd_analyze(args: argparse.Namespace) -> int:
    from vitviz.export import DISTANCE_HEADER, distance_rows, write_table_csv
    import numpy as np

    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.analysis import rollout_map
    from vitviz.run.pipeline import analyze_image, default_query
    from vitviz.inputs.preprocess import check_input_hw, input_hw

    out = check_out_folder(args.out)  # cheap checks first: a wrong --out or size costs no model load
    _check_steps(args)
    size = parse_image_size(args.image_size)
    images = expand_images(args.images)
    loaded = load_model(args.model, weights_dir=args.weights_dir, device=args.device,
                        pretrained=not args.untrained, progress=say)
    if loaded.spec.kind == "vit":  # a wrong size (not a multiple of the patch) fails before any image is read
        check_input_hw(loaded.model, input_hw(loaded.data_config, size))
    rollout = _rollout_options(loaded.model, args)
    explain = _explain_target(loaded.model, args.explain, label_free=True)
    out.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    distances = []
    for image_path in images:
        image = load_image(image_path)
        result = analyze_image(loaded, image, size, with_token_pca=True)
        folder = out / _unique(safe_stem(image_path), taken)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {
            "attention": result.attention.astype(np.float32),
            "rollout": (result.rollout if rollout == DEFAULT_ROLLOUT else rollout_map(
                result.attention, result.layout, query=default_query(result.layout), head_fusion=rollout["fusion"],
                discard_ratio=rollout["discard_ratio"], start_layer=rollout["start_layer"])).astype(np.float32),
            "mean_attention_distance": result.mean_distance,
            "grid": np.array(result.layout.grid),
            "patch_size": np.array(result.layout.patch_size[0]),
            "num_prefix_tokens": np.array(result.layout.num_prefix_tokens),
        }
        if result.static.filter_pca is not None:  # None for a hybrid: summary.json says why
            arrays["filters_pca"] = result.static.filter_pca.components
            arrays["filters_explained_variance"] = result.static.filter_pca.explained_variance_ratio
        if result.layout.stem_stride is not None:
            arrays["stem_stride"] = np.array(result.layout.stem_stride)
        if result.token_pca is not None:
            arrays["token_pca_rgb"] = np.stack([p.rgb for p in result.token_pca]).astype(np.float32)
            arrays["token_pca_foreground"] = np.stack([p.foreground for p in result.token_pca])
        if result.rollout_without_sinks is not None:  # what the dashboard's rollout figures show by default
            arrays["rollout_without_sinks"] = result.rollout_without_sinks.astype(np.float32)
        if result.logits is not None:
            arrays["logits"] = result.logits.astype(np.float32)
        if result.static.pos_similarity is not None:
            arrays["pos_embed_similarity"] = result.static.pos_similarity.astype(np.float32)
        if explain is not None:
            from vitviz.run.explain import gradient_rollout

            x = result.prepared.tensor.to(device=loaded.device, dtype=loaded.dtype)
            arrays["relevance"] = gradient_rollout(loaded.model, x, explain["class_index"]).astype(np.float32)
        np.savez_compressed(folder / "analysis.npz", **arrays)
        summary = {
            "image": str(image_path),
            "model": loaded.name,
            "label": loaded.label,
            "weights": loaded.source,
            "pretrained": loaded.pretrained,
            "input_size": list(result.prepared.hw),
            "prefix_tokens": list(result.layout.prefix_names),
            "facts": result.facts.as_dict(),
            "top5": [{"label": p.label, "probability": p.probability, "index": p.index}
                     for p in result.predictions],
            "rollout": {**rollout, "query": "cls" if result.layout.has_class_token else "mean of the patch queries"},
            "attention_sinks": [list(result.layout.patch_of(i)) for i in result.sink_tokens],
            "conventions": CONVENTIONS,
        }
        if result.token_pca is not None:
            summary["token_pca_explained_variance"] = [[round(float(r), 6) for r in p.explained_variance_ratio]
                                                       for p in result.token_pca]
        if result.static.filters_note is not None:
            summary["filters"] = f"not written: {result.static.filters_note}"
        if explain is not None:
            summary["explanation"] = {"method": "gradient rollout (Chefer et al. 2021)", **explain}
            summary["conventions"] = {**CONVENTIONS, "relevance": RELEVANCE_CONVENTION}
        if args.faithfulness:
            from vitviz.run.faithfulness import vit_faithfulness

            faith = vit_faithfulness(loaded, result, class_index=explain["class_index"] if explain else None,
                                     steps=args.faithfulness_steps)
            summary["faithfulness"] = _write_faithfulness(folder, faith)
        (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        distances.append(result.mean_distance)
        top = f"; top-1: {result.predictions[0].label} ({result.predictions[0].probability:.1%})" \
            if result.predictions else ""
        print(f"{image_path} -> {folder}{top}")
    mean = np.mean(distances, axis=0)
    write_table_csv(out / "mean_attention_distance.csv", DISTANCE_HEADER, distance_rows(mean, len(distances)))
    print(f"mean attention distance over {len(distances)} image(s) -> {out / 'mean_attention_distance.csv'}")
    return 0


def cmd_cnn(args: argparse.Namespace) -> int:
    from vitviz.export import write_table_csv
    import numpy as np

    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.run.pipeline import analyze_cnn

    out = check_out_folder(args.out)
    _check_steps(args)
    if Path(args.image).is_dir():  # says when the folder holds no images; cnn takes one file either way
        found = expand_images([args.image])
        raise VitvizError(f"{args.image}: is a folder of {len(found)} image(s); cnn takes one image file, "
                          f"e.g. {found[0]}")
    image = load_image(args.image)  # before the model: a bad image costs no model load
    loaded = load_model(args.model, weights_dir=args.weights_dir, device=args.device, pretrained=not args.untrained,
                        progress=say)
    explain = _explain_target(loaded.model, args.explain, label_free=False)
    result = analyze_cnn(loaded, image, args.image_size)
    out.mkdir(parents=True, exist_ok=True)
    total = max(layer.depth for layer in result.layers)
    write_table_csv(out / "receptive_field.csv", ["layer", "depth", "theoretical_rf_px", "jump_px"],
                    ([layer.name, f"{layer.depth / total:.4f}", layer.size, layer.jump] for layer in result.layers))
    arrays = {}
    for feat, stage, erf in zip(result.features, result.stages, result.effective):
        key = feat.name.replace(".", "_")  # module names ("stages.0") are not file names: keep every part
        arrays[f"{key}/top_channels"] = feat.top_channels
        arrays[f"{key}/top_maps"] = feat.top_maps
        arrays[f"{key}/pca_rgb"] = feat.pca_rgb.astype(np.float32)
        arrays[f"{key}/effective_rf_gradient"] = erf.gradient
        arrays[f"{key}/rf"] = np.array([stage.size, stage.jump, erf.radius], dtype=np.float64)
    np.savez_compressed(out / "stage_features.npz", **arrays)
    summary = {
        "image": str(args.image),
        "model": loaded.name,
        "label": loaded.label,
        "weights": loaded.source,
        "pretrained": loaded.pretrained,
        "input_size": list(result.prepared.hw),
        "predictions": [{"index": p.index, "label": p.label, "probability": p.probability}
                        for p in result.predictions],
    }
    written = [out / "receptive_field.csv", out / "stage_features.npz", out / "summary.json"]
    if explain is not None:
        from vitviz.run.explain import grad_cam

        x = result.prepared.tensor.to(device=loaded.device, dtype=loaded.dtype)
        cam = grad_cam(loaded.model, x, explain["class_index"])
        folder = out / safe_stem(Path(args.image))
        folder.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(folder / "explanation.npz", map=cam.map, class_index=np.array(cam.class_index),
                            stage=np.array(cam.stage))
        summary["explanation"] = {"method": "Grad-CAM (Selvaraju et al. 2017)", **explain, "stage": cam.stage,
                                  "file": str(folder / "explanation.npz"), "convention": GRAD_CAM_CONVENTION}
        written.append(folder / "explanation.npz")
    if args.faithfulness:
        from vitviz.run.faithfulness import cnn_faithfulness

        folder = out / safe_stem(Path(args.image))
        folder.mkdir(parents=True, exist_ok=True)
        faith = cnn_faithfulness(loaded, result.prepared, class_index=explain["class_index"] if explain else None,
                                 steps=args.faithfulness_steps)
        summary["faithfulness"] = _write_faithfulness(folder, faith)
        written += [folder / "faithfulness.csv", folder / "faithfulness_auc.csv"]
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    for stage, erf in zip(result.stages, result.effective):
        print(f"{stage.name:>12}: theoretical RF {stage.size:4d} px (jump {stage.jump:2d}), "
              f"effective radius {erf.radius:6.1f} px")
    if result.predictions:
        best = result.predictions[0]
        print(f"top-1: {best.label} (class {best.index}, {best.probability:.1%})")
    print(f"-> {', '.join(map(str, written))}")
    return 0


FAITHFULNESS_HELP = (
    "also write <out>/<image stem>/faithfulness.csv (columns map, curve, step, fraction, score, score_std: one row per "
    "map, curve and step; curve 'deletion' removes cells in the map's order, 'insertion' reveals them on a "
    "blank input; score_std only for 'random', the mean of 8 seeded random orders) and faithfulness_auc.csv "
    "(map, deletion_auc, insertion_auc and, for random, their std): trapezoid area over the fraction of cells "
    "in [0, 1], lower deletion and higher insertion = more faithful. Removed cells become the model's mean "
    "colour (0 after normalisation). Score: the class's softmax probability ({cls}){free}. Maps: {maps}")


def _check_steps(args: argparse.Namespace) -> None:
    if args.faithfulness and args.faithfulness_steps < 1:  # found before the model runs, not after
        raise VitvizError(f"--faithfulness-steps {args.faithfulness_steps} must be at least 1")


def _write_faithfulness(folder: Path, result) -> dict:
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


def _explain_target(model: object, cls: Optional[str], *, label_free: bool) -> Optional[dict]:
    """What ``--explain CLASS`` explains, resolved before any work: class index and label, or label-free.

    A model without a classifier head is explained label-free when ``label_free`` (ViT gradient
    rollout: the pooled feature's L2 norm; CLASS is then ignored, with a note), else it is an error.
    """
    if cls is None:
        return None
    from vitviz.analysis import class_names
    from vitviz.run.explain import LABEL_FREE_TARGET, num_classes, resolve_class

    if label_free and num_classes(model) == 0:
        say(f"the model has no classifier head: '{cls}' is ignored, the explanation is label-free "
            f"({LABEL_FREE_TARGET})")
        return {"class_index": None, "label": None,
                "target": f"label-free: {LABEL_FREE_TARGET} (the model has no classifier head)"}
    index = resolve_class(model, cls)
    names = class_names(model)
    label = names[index] if names is not None else f"class {index}"
    return {"class_index": index, "label": label, "target": f"logit of class {index} ({label})"}


def cmd_paper(args: argparse.Namespace) -> int:
    from vitviz.loading.models import load_model
    from vitviz.inputs.images import sample_paths
    from vitviz.figures.paper import analyze_samples, write_paper_report

    out = check_out_folder(args.out)
    paths = expand_images(args.images) if args.images else sample_paths()  # folders as analyze takes them
    loaded = load_model(args.model, weights_dir=args.weights_dir, device=args.device, pretrained=not args.untrained,
                        progress=say)
    analyses = analyze_samples(loaded, paths, args.image_size)
    out.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", loaded.name)
    files = write_paper_report(out / f"paper-figures-{stem}.html", loaded, analyses, [p.stem for p in paths],
                               png_dir=out / "png")
    print(f"-> {files.html}" + (f" and {len(files.pngs)} PNG(s) in {out / 'png'}" if files.pngs else ""))
    if files.png_skipped:
        say(f"PNGs not written: {files.png_skipped}")
    return 0


def cmd_distance(args: argparse.Namespace) -> int:
    import torch

    from vitviz.run.distance_outputs import ProgressLine, write_outputs
    from vitviz.run.distance_stream import LOCK_NAME, Interrupted, check_folders, check_run_options, stream_mean_distance
    from vitviz.run.ranks import default_workers, process_group, rank_device, ranks_from_env
    from vitviz.loading.models import load_model
    from vitviz.run.run_guard import probe_lock

    ranks = ranks_from_env()
    if ranks.is_main:  # before the model: a wrong --out or folder, or a run already on --out, costs nothing
        check_folders(args.folder, args.out)
        check_run_options(args.batch_size, 0 if args.workers is None else args.workers, args.save_every)
        probe_lock(check_out_folder(args.out) / LOCK_NAME)
    if args.untrained:
        torch.manual_seed(0)  # the same random weights in every process and every resumed run
    loaded = load_model(args.model, weights_dir=args.weights_dir, device=rank_device(args.device, ranks),
                        pretrained=not args.untrained, progress=say if ranks.is_main else None)
    shown = ProgressLine() if ranks.is_main and not args.quiet else None
    with process_group(ranks, loaded.device):
        try:
            result = stream_mean_distance(
                loaded, args.folder, args.out, args.image_size, batch_size=args.batch_size,
                workers=default_workers(ranks) if args.workers is None else args.workers,
                save_every=args.save_every, restart=args.restart, ranks=ranks, progress=shown)
        except Interrupted as stop:
            if shown is not None:
                shown.close()
            say(f"rank {ranks.rank}: {stop}" if ranks.distributed else str(stop))
            return 130
        finally:
            if shown is not None:
                shown.close()
    if not ranks.is_main:
        return 0 if result.num_images else 2
    files = write_outputs(result, loaded, args.folder, args.out)
    if result.skipped:
        say(f"skipped {len(result.skipped)} unreadable file(s), listed in {files.skipped}:")
        for name, reason in result.skipped[:10]:
            say(f"  {name}: {reason}")
        if len(result.skipped) > 10:
            say(f"  ... and {len(result.skipped) - 10} more")
    if result.other_files:
        say(f"{result.other_files} file(s) without an image suffix ({', '.join(sorted(IMAGE_SUFFIXES))}) "
            f"were not considered")
    if result.not_in_folder:
        say(f"{result.not_in_folder} image(s) counted earlier are no longer in {args.folder}; they stay in the "
            f"mean (--restart recounts from scratch)")
    if not result.num_images:
        raise VitvizError(f"no image under {args.folder} could be read ({len(result.skipped)} skipped, see "
                          f"{files.skipped})")
    how = f"{result.counted_now} this run, {result.counted_before} from saved progress" + (
        f", {result.world_size} processes" if result.world_size > 1 else "")
    print(f"mean attention distance over {result.num_images} image(s) ({how}) -> {files.csv}, {files.png}, "
          f"{files.html}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from vitviz.loading.download import download

    check_out_folder(args.to, "--to")
    for path in download(args.names, args.to, progress=say):
        print(f"saved {path}")
    return 0


def cmd_talk(args: argparse.Namespace) -> int:
    from vitviz.text.i18n import LANGUAGES
    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.figures.paper import sample_paths
    from vitviz.run.pipeline import analyze_image
    from vitviz.talk import talk_slides
    from vitviz.talk.deck import write_pptx

    if args.lang not in LANGUAGES:
        raise VitvizError(f"--lang {args.lang!r} is not one of {', '.join(LANGUAGES)}")
    samples = sample_paths()
    path = Path(args.image) if args.image else next((p for p in samples if p.stem == "cat"), samples[0])
    image = load_image(path)  # a missing or unreadable file is a one-line VitvizError
    loaded = load_model(args.model, weights_dir=args.weights_dir, device=args.device, pretrained=not args.untrained,
                        progress=say)
    slides = talk_slides(loaded, analyze_image(loaded, image, args.image_size), lang=args.lang, image_name=path.name)
    out = write_pptx(Path(args.out) / "talk.pptx", slides)
    print(f"-> {out} ({len(slides)} slides, {args.lang})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    # --verbose works before or after the command; SUPPRESS keeps a subcommand's default
    # from overwriting a --verbose given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="print the traceback of an error, not just its one-line message")
    parser = argparse.ArgumentParser(prog="python -m vitviz", description="Open up pretrained Vision Transformers.",
                                     parents=[common])
    parser.add_argument("--version", action="version", version=f"vitviz {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def weights_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--weights-dir", default=None, help="local weights folder (default: $VITVIZ_WEIGHTS_DIR)")

    p = sub.add_parser("models", parents=[common], help="list the models and where their weights would come from")
    weights_arg(p)
    p.set_defaults(func=cmd_models)

    def run_args(p: argparse.ArgumentParser, model_help: str, *, rectangles: bool = False) -> None:
        """What every command that runs a model takes (``rectangles``: --image-size also takes HxW)."""
        p.add_argument("--model", required=True, help=model_help)
        weights_arg(p)
        p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
        if rectangles:
            p.add_argument("--image-size", default=None, metavar="N|HxW",
                           help="input size in px: N (square) or HxW, e.g. 224x320 (sides multiples of the patch "
                                "size; not square needs a model built with dynamic_img_size, as vitviz loads ViTs; "
                                "default: the model's)")
        else:
            p.add_argument("--image-size", type=int, default=None, help="square input side in px (default: model's)")
        p.add_argument("--untrained", action="store_true", help="use random weights (labelled untrained)")
        p.add_argument("--out", required=True, help="output folder")

    p = sub.add_parser("analyze", parents=[common], help="write every analysis of some images to a folder")
    p.add_argument("images", nargs="+", help="image files or folders of images")
    run_args(p, "model name (see 'models')", rectangles=True)
    p.add_argument("--fusion", choices=["mean", "max", "min"], default="mean",
                   help="rollout written to analysis.npz: head fusion (default mean)")
    p.add_argument("--discard", type=float, default=0.0, metavar="RATIO",
                   help="rollout: share of the smallest entries of every row set to 0, in [0, 1) (default 0; "
                        "prefix->prefix entries kept)")
    p.add_argument("--start-layer", type=int, default=0, metavar="N",
                   help="rollout: multiply from layer N (0-based) up (default 0)")
    p.add_argument("--explain", metavar="CLASS", default=None,
                   help="also write 'relevance' (gradient rollout, Chefer et al. 2021) for this class (index or "
                        "name); label-free for a model without a classifier head")
    p.add_argument("--faithfulness", action="store_true", help=FAITHFULNESS_HELP.format(
        cls="--explain's class, else the top-1",
        free="; for a model without a head the cosine similarity of the pooled feature to the unperturbed image's",
        maps="rollout, gradient rollout (classifiers), class-token attention of the last layer, on the patch grid"))
    p.add_argument("--faithfulness-steps", type=int, default=16, metavar="S",
                   help="steps of the faithfulness curves (default 16; at most one per cell)")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("cnn", parents=[common], help="a CNN's receptive fields and stage feature maps for an image")
    p.add_argument("image", help="image file")
    run_args(p, "CNN model name (e.g. resnet50.a1_in1k)")
    p.add_argument("--explain", metavar="CLASS", default=None,
                   help="also write <out>/<image stem>/explanation.npz: Grad-CAM of this class (index or name) "
                        "at the last stage")
    p.add_argument("--faithfulness", action="store_true", help=FAITHFULNESS_HELP.format(
        cls="--explain's class, else the top-1", free="",
        maps="Grad-CAM of the last stage averaged over 14x14 equal cells of the input"))
    p.add_argument("--faithfulness-steps", type=int, default=16, metavar="S",
                   help="steps of the faithfulness curves (default 16; at most one per cell)")
    p.set_defaults(func=cmd_cnn)

    p = sub.add_parser("paper", parents=[common],
                       help="the ViT paper's figures for a model as one standalone HTML file (opens offline)")
    p.add_argument("images", nargs="*",
                   help="images or folders of images for Fig. 6 and Fig. 7 right (default: the bundled samples)")
    run_args(p, "ViT model name (see 'models')")
    p.set_defaults(func=cmd_paper)

    p = sub.add_parser("distance", parents=[common],
                       help="mean attention distance (paper Fig. 7 right) over every image in a folder: streamed, "
                            "resumable, data-parallel under torchrun")
    p.add_argument("folder", help="folder of images (sub-folders included)")
    run_args(p, "ViT model name (see 'models'); --untrained weights are seeded, the same in every process")
    p.add_argument("--batch-size", type=int, default=32, help="images per forward pass (default 32)")
    p.add_argument("--workers", type=int, default=None,
                   help="DataLoader processes decoding images per process (default: CPU cores / processes on this "
                        "node, at most 4; 0 decodes in the main process)")
    p.add_argument("--save-every", type=float, default=60.0, metavar="SECONDS",
                   help="save progress to OUT/distance-state/ at most this often (default 60); also on Ctrl-C/SIGTERM")
    p.add_argument("--restart", action="store_true", help="discard saved progress in OUT and count every image again")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_distance)

    p = sub.add_parser("talk", parents=[common],
                       help="the study group's talk as DIR/talk.pptx: one picture or table per slide, for a model and image")
    run_args(p, "ViT model name (see 'models')")
    p.add_argument("--lang", default="en", help="language of the slides: en or ko (default en)")
    p.add_argument("--image", default=None, help="image for the computed slides (default: the bundled cat)")
    p.set_defaults(func=cmd_talk)

    p = sub.add_parser("download", parents=[common],
                       help="fetch weights through timm/Hugging Face into a local weights folder")
    p.add_argument("names", nargs="+", help="model names (timm tags)")
    p.add_argument("--to", required=True, help="weights folder to write (files appear only when complete)")
    p.set_defaults(func=cmd_download)

    sub.add_parser("serve", help="start the dashboard (needs the 'app' extra); Streamlit options follow, "
                   "e.g. vitviz serve --server.port 8502")

    from vitviz.cli.trace import add_trace_command  # one patch through the encoder (vitviz/cli/trace.py)
    add_trace_command(sub, common, run_args)
    return parser


def cmd_serve(streamlit_args: Sequence[str]) -> int:
    """``vitviz serve [streamlit options]``: the dashboard (the ``app`` extra) with its configuration."""
    try:
        from vitviz_dashboard.launch import main as serve
    except ImportError as exc:
        print(f"vitviz: error: the dashboard is not installed ({exc.name} is missing): "
              "pip install 'vitviz[app]'", file=sys.stderr)
        return 2
    return serve(list(streamlit_args))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status (2 for an error the user can fix)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"] and not {"-h", "--help"} & set(argv[1:2]):
        return cmd_serve(argv[1:])  # Streamlit's own options (--server.port 8502 …) pass through untouched
    args = build_parser().parse_args(argv)
    try:
        folder = getattr(args, "weights_dir", None)
        if folder is not None and not Path(folder).expanduser().is_dir():  # else silently "no weights in it"
            raise VitvizError(f"--weights-dir {folder}: " + ("is a file, not a folder" if Path(folder).exists()
                                                             else "no such folder"))
        return args.func(args)
    except VitvizError as exc:
        if getattr(args, "verbose", False):
            traceback.print_exc()
        print(f"vitviz: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # the environment, not the input: a full disk, a folder made read-only mid-run
        if getattr(args, "verbose", False):
            traceback.print_exc()
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"vitviz: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("vitviz: error: out of memory; try a smaller --image-size, fewer images or a smaller model",
              file=sys.stderr)
        return 2
