"""``analyze`` (a ViT: attention, rollout, distances, tokens, explanations, faithfulness) and ``cnn`` (a CNN:
stage maps, Grad-CAM, receptive fields, faithfulness): one folder of arrays, tables and a ``summary.json``
per image.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from vitviz.errors import VitvizError
from vitviz.run.run_guard import check_out_folder
from vitviz.cli.common import (CONVENTIONS, DEFAULT_ROLLOUT, GRAD_CAM_CONVENTION, RELEVANCE_CONVENTION, check_steps,
                               expand_images, explain_target, parse_image_size, rollout_options, safe_stem, say,
                               unique_stem, write_faithfulness)


def cmd_analyze(args: argparse.Namespace) -> int:
    from vitviz.export import DISTANCE_HEADER, distance_rows, write_table_csv
    import numpy as np

    from vitviz.export import write_npz

    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.analysis import rollout_map
    from vitviz.analysis import default_query
    from vitviz.run.pipeline import analyze_image
    from vitviz.inputs.preprocess import check_input_hw, input_hw

    out = check_out_folder(args.out)  # cheap checks first: a wrong --out or size costs no model load
    check_steps(args)
    size = parse_image_size(args.image_size)
    images = expand_images(args.images)
    loaded = load_model(args.model, weights_dir=args.weights_dir, device=args.device,
                        pretrained=not args.untrained, progress=say)
    if loaded.spec.kind == "vit":  # a wrong size (not a multiple of the patch) fails before any image is read
        check_input_hw(loaded.model, input_hw(loaded.data_config, size))
    rollout = rollout_options(loaded.model, args)
    explain = explain_target(loaded.model, args.explain, label_free=True)
    out.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    distances = []
    for image_path in images:
        image = load_image(image_path)
        result = analyze_image(loaded, image, size, with_token_pca=True)
        folder = out / unique_stem(safe_stem(image_path), taken)
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
        write_npz(folder / "analysis.npz", arrays)
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
            "attention_sinks": [list(_patch(result.layout, i)) for i in result.sink_tokens],
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
            summary["faithfulness"] = write_faithfulness(folder, faith)
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

    from vitviz.export import write_npz

    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.run.pipeline import analyze_cnn

    out = check_out_folder(args.out)
    check_steps(args)
    if Path(args.image).is_dir():  # says when the folder holds no images; cnn takes one file either way
        found = expand_images([args.image])
        raise VitvizError(f"{args.image}: is a folder of {len(found)} image(s); cnn takes one image file, "
                          f"e.g. {found[0]}")
    image = load_image(args.image)  # before the model: a bad image costs no model load
    loaded = load_model(args.model, weights_dir=args.weights_dir, device=args.device, pretrained=not args.untrained,
                        progress=say)
    explain = explain_target(loaded.model, args.explain, label_free=False)
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
    write_npz(out / "stage_features.npz", arrays)
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
        summary["faithfulness"] = write_faithfulness(folder, faith)
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


def _patch(layout, token: int) -> tuple[int, int]:
    """(row, col) of a patch token: an attention sink is always a patch, never a prefix token."""
    patch = layout.patch_of(token)
    assert patch is not None, f"token {token} is a prefix token, not a patch"
    return patch
