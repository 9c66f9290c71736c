"""``python -m vitviz trace IMAGE --model NAME --patch ROW,COL --out DIR``: one patch through the encoder.

Writes ``DIR/<image stem>/trace.npz`` (the arrays of :class:`vitviz.run.trace.PatchTrace`, float32 unless
an index) and ``summary.json`` (model, input, patch, token index, and the conventions below), so any number
the dashboard's Encoder page shows can be checked from the command line.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

from vitviz.errors import VitvizError

TRACE_CONVENTIONS = {
    "tokens": "prefix tokens first (class, distillation, registers), then patches row-major: "
              "token_index = num_prefix_tokens + row * grid[1] + col",
    "layers": "timm's blocks[l], 0-based; per-layer arrays have one row per entry of 'layers'",
    "patch_values": "the normalised pixels under the patch, flattened as the conv weight (C, P, P): x_p",
    "embedding": "patch_embed.proj output at (row, col): x_p E + b with E = weight.reshape(D, -1).T",
    "position": "pos_drop input minus embedding: the position embedding the model added (resampled for this grid)",
    "prefix_z0": "z0 rows of the prefix tokens (class token + its position embedding, ...)",
    "z0": "input of blocks[0].norm1 for the token (Eq. 1)",
    "z_in": "input of blocks[l].norm1: the block's input",
    "ln1": "output of blocks[l].norm1",
    "q": "(L, H, Dh) q part of attn.qkv's output, split (3, H, Dh) as timm does, after attn.q_norm",
    "scores": "(L, H, T) q . k_j * attn.scale (= 1/sqrt(Dh)) for every key token j, k after attn.k_norm",
    "attn": "(L, H, T) softmax over j of scores: the token's attention row (rows sum to 1)",
    "head_context": "input of attn.proj: sum_j attn_hj v_hj, heads concatenated head-major",
    "attn_out": "output of attn.proj (multi-head self-attention of the token)",
    "z_mid": "input of blocks[l].norm2: z_in + ls1(attn_out) (Eq. 2, LayerScale where the model has it)",
    "ln2": "output of blocks[l].norm2",
    "mlp_hidden": "output of mlp.act: hidden units after GELU",
    "z_out": "output of blocks[l] (Eq. 3)",
    "final": "input of model.head: for a class-token model the class token after the final norm (Eq. 4)",
    "logit_lens": "with a head: softmax(model.forward_head(model.norm(z_l))) per layer, top-5 class indices "
                  "(logit_lens_classes) and probabilities (logit_lens_probs); a distilled DeiT averages its two heads",
    "cls_cosine_to_last": "without a head: cos(f_l, f_last), f_l = model.forward_head(model.norm(z_l), pre_logits=True) "
                          "(the normed class token)",
}


def add_trace_command(sub: argparse._SubParsersAction, common: argparse.ArgumentParser,
                      run_args: Callable[..., None]) -> None:
    """Register ``trace`` with the command line's shared model/size/output options."""
    p = sub.add_parser("trace", parents=[common],
                       help="one patch followed through every operation of the encoder, with the model's numbers")
    p.add_argument("image", help="image file")
    run_args(p, "ViT model name (see 'models')", rectangles=True)
    p.add_argument("--patch", required=True, metavar="ROW,COL", help="the patch to follow, 0-based (e.g. 3,5)")
    p.add_argument("--layer-range", default="all", metavar="all|A-B",
                   help="layers to write, 0-based and inclusive (default all)")
    p.set_defaults(func=cmd_trace)


def cmd_trace(args: argparse.Namespace) -> int:
    from vitviz.cli.common import parse_image_size, safe_stem, say
    from vitviz.export import write_npz
    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.model_parts import transformer_blocks
    from vitviz.inputs.preprocess import check_input_hw, input_hw, prepare_image, token_layout
    from vitviz.run.run_guard import check_out_folder
    from vitviz.run.trace import check_patch, parse_layer_range, parse_patch, trace_patch

    patch = parse_patch(args.patch)          # bad syntax fails before anything is loaded
    check_out_folder(args.out)               # so does an --out that is a file or not writable
    loaded = load_model(args.model, weights_dir=args.weights_dir, device=args.device,
                        pretrained=not args.untrained, progress=say)
    if loaded.spec.kind != "vit":
        raise VitvizError(f"'{args.model}' is not a ViT; trace follows a patch through a transformer encoder")
    size = parse_image_size(args.image_size)
    hw = input_hw(loaded.data_config, size)
    check_input_hw(loaded.model, hw)
    check_patch(token_layout(loaded.model, hw), patch)   # off the grid: one line before the image is read
    layers = parse_layer_range(args.layer_range, len(transformer_blocks(loaded.model)))
    image_path = Path(args.image)
    prepared = prepare_image(load_image(image_path), loaded.data_config, size)
    x = prepared.tensor.to(device=loaded.device, dtype=loaded.dtype)
    trace = trace_patch(loaded.model, x, patch, layers=layers)
    folder = Path(args.out) / safe_stem(image_path)
    folder.mkdir(parents=True, exist_ok=True)
    write_npz(folder / "trace.npz", trace.arrays())
    summary = {
        "image": str(image_path), "model": loaded.name, "label": loaded.label, "weights": loaded.source,
        "pretrained": loaded.pretrained, "input_size": list(prepared.hw), "grid": list(trace.layout.grid),
        "patch_size": list(trace.layout.patch_size), "prefix_tokens": list(trace.layout.prefix_names),
        "patch": list(trace.patch), "token_index": trace.token_index, "layers": trace.layers.tolist(),
        "heads": trace.num_heads, "head_dim": trace.head_dim, "conventions": TRACE_CONVENTIONS,
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"{image_path} patch {trace.patch} (token {trace.token_index}) -> {folder / 'trace.npz'}")
    return 0
