"""Command line: ``python -m vitviz {models,analyze,cnn,paper,distance,talk,download,trace}``.

Errors a user can cause print one line to stderr and exit with status 2; no traceback
unless ``--verbose`` asks for one.
"""
from __future__ import annotations

import argparse
import re
import sys
import traceback
from pathlib import Path
from typing import Optional, Sequence

from vitviz import __version__
from vitviz.errors import VitvizError
from vitviz.run.run_guard import check_out_folder
from vitviz.cli.common import FAITHFULNESS_HELP, expand_images, say
from vitviz.cli.analyze import cmd_analyze, cmd_cnn


def cmd_models(args: argparse.Namespace) -> int:
    from vitviz.loading.catalog import list_models, weights_source

    rows = [(s.name, s.family, s.label, weights_source(s, args.weights_dir)) for s in list_models(args.weights_dir)]
    width = max(len(r[0]) for r in rows)
    for name, family, label, source in rows:
        print(f"{name:<{width}}  {family:<10}  {label}\n{'':<{width}}  {'':<10}  weights: {source}")
    return 0


def cmd_paper(args: argparse.Namespace) -> int:
    from vitviz.loading.models import load_model
    from vitviz.inputs.images import sample_paths
    from vitviz.figures.paper import write_paper_report
    from vitviz.run.pipeline import analyze_samples

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
    from vitviz.inputs.images import IMAGE_SUFFIXES
    import torch

    from vitviz.cli.distance_outputs import ProgressLine, write_outputs
    from vitviz.run.distance_stream import (LOCK_NAME, Interrupted, check_folders, check_run_options,
                                            stream_mean_distance)
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
    from vitviz.inputs.images import sample_paths
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
