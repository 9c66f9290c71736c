"""vitviz speed and memory benchmark: ratios measured side by side in one run.

    python bench/run.py [--quick] [--device cpu|cuda] [--model NAME]

Prints a table of medians (warm-up excluded) and, as its last line,
``analysis/forward=<x> peer/analysis=<y> stream/forward=<z> rss16/rss64=<w>``.
Weights are random (speed does not depend on them); ``--quick`` uses ViT-S/16 and fewer repeats.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image

from vitviz.inputs.images import SAMPLES

REPO = Path(__file__).resolve().parents[1]

FULL_MODEL = "vit_base_patch16_224.augreg2_in21k_ft_in1k"
QUICK_MODEL = "vit_small_patch16_224.augreg_in21k_ft_in1k"


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 2, sync: Callable[[], None] = lambda: None) -> float:
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(first: Callable[[], object], second: Callable[[], object], repeats: int, warmup: int = 2,
                        sync: Callable[[], None] = lambda: None) -> tuple[float, float]:
    """Median seconds of ``first`` and of ``second``, run alternately so both see the same machine state
    (this 2-core VM drifts by ±30 % over seconds: separate runs of each skew their ratio)."""
    for _ in range(warmup):
        first(), second()
    sync()
    pairs = []
    for _ in range(repeats):
        start = time.perf_counter(); first(); sync(); mid = time.perf_counter()  # noqa: E702
        second(); sync(); end = time.perf_counter()  # noqa: E702
        pairs.append((mid - start, end - mid))
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def synthetic_images(count: int, seed: int = 0):
    """Photo-sized RGB images made on the fly (a generator: nothing is kept)."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8))


def rss_child(model_name: str, count: int, device: str) -> None:
    """Stream ``count`` images through the distance computation; print this process's peak RSS (KiB)."""
    from vitviz.loading.models import load_model
    from vitviz.run.pipeline import dataset_mean_distance

    loaded = load_model(model_name, pretrained=False, device=device, use_cache=False)
    result = dataset_mean_distance(loaded, synthetic_images(count), batch_size=8)
    assert result.num_images == count
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def peak_rss(model_name: str, count: int, device: str) -> int:
    out = subprocess.run([sys.executable, __file__, "--rss-child", str(count), "--model", model_name,
                          "--device", device], capture_output=True, text=True, check=True, cwd=REPO)
    return int(out.stdout.strip().splitlines()[-1])


def dashboard_timings(model_name: str) -> dict[str, float]:
    """AppTest timings: a new image on a warm model, and a widget change that needs no forward pass."""
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as empty:
        os.environ["VITVIZ_WEIGHTS_DIR"] = empty  # offline and no weights: the untrained path
        at = AppTest.from_file(str(REPO / "app" / "vitviz_app.py"), default_timeout=600)
        at.run()
        at.selectbox(key="vv_model").set_value(model_name).run()
        at.checkbox(key="vv_untrained").check().run()
        at.switch_page("views/attention.py").run()  # warm: model loaded, first image analysed
        timings = {}
        start = time.perf_counter()
        at.selectbox(key="vv_sample").set_value("coffee").run()
        timings["first view of a new image (s)"] = time.perf_counter() - start
        changes = []
        for value in (0.3, 0.5, 0.7, 0.4, 0.6):
            start = time.perf_counter()
            at.slider(key="vv_opacity").set_value(value).run()
            changes.append(time.perf_counter() - start)
        for layer in (2, 5, 8):
            start = time.perf_counter()
            at.slider(key="vv_layer").set_value(layer).run()
            changes.append(time.perf_counter() - start)
        timings["widget change, warm cache (ms)"] = statistics.median(changes) * 1000
        assert not at.exception, at.exception
    return timings


RATIO_MODELS = ["vit_tiny_patch16_224.augreg_in21k_ft_in1k", "vit_small_patch16_224.augreg_in21k_ft_in1k",
                "vit_base_patch16_224.augreg2_in21k_ft_in1k", "vit_large_patch16_224.augreg_in21k_ft_in1k"]
MEMORY_CASES = [("vit_small_patch14_dinov2.lvd142m", 224), ("vit_small_patch14_dinov2.lvd142m", 518),
                ("vit_base_patch16_224.augreg2_in21k_ft_in1k", 224)]


def ratio_table(device: str, repeats: int = 9) -> list[tuple[str, str]]:
    """analysis/forward for ViT-Ti, S, B and L (random init, one 224 px image)."""
    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.run.pipeline import analyze_prepared
    from vitviz.inputs.preprocess import prepare_image

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    rows = []
    for name in RATIO_MODELS:
        loaded = load_model(name, pretrained=False, device=device, use_cache=False)
        prepared = prepare_image(load_image(SAMPLES / "cat.jpg"), loaded.data_config)
        x = prepared.tensor.to(device)

        def forward(model=loaded.model, x=x):
            with torch.inference_mode():
                return model(x)

        t_forward, t_analysis = interleaved_medians(forward, lambda m=loaded: analyze_prepared(m, prepared), repeats,
                                                    sync=sync)
        rows.append((f"analysis/forward {name.split('.')[0]}",
                     f"{t_analysis / t_forward:.2f} ({t_analysis * 1000:.0f} / {t_forward * 1000:.0f} ms)"))
        del loaded
    return rows


def memory_table() -> list[tuple[str, str]]:
    """MiB one cached dashboard analysis holds (float16 attention, as the app caches it) vs float32."""
    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.run.pipeline import analysis_nbytes, analyze_image, estimate_analysis_nbytes, frozen_compact

    rows = []
    for name, size in MEMORY_CASES:
        loaded = load_model(name, pretrained=False, device="cpu", use_cache=False)
        full = analyze_image(loaded, load_image(SAMPLES / "cat.jpg"), size)
        compact = frozen_compact(full)
        layout = full.layout
        estimate = estimate_analysis_nbytes(len(loaded.model.blocks), full.attention.shape[1],
                                            layout.num_prefix_tokens, layout.grid, layout.patch_size,
                                            embed_dim=int(loaded.model.embed_dim))
        rows.append((f"cached analysis {name.split('.')[0]} @ {size} px (MiB)",
                     f"{analysis_nbytes(compact) / 2**20:.1f} (float32 attention: {analysis_nbytes(full) / 2**20:.1f}; "
                     f"size-slider estimate {estimate / 2**20:.1f}; {layout.num_tokens} tokens)"))
        del loaded, full, compact
    return rows


def cold_start() -> dict[str, float]:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vitviz", "models"], cwd=REPO, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    probe = subprocess.run([sys.executable, "-c", "import sys, vitviz, vitviz.loading.catalog; "
                            "print(sorted(m for m in ('torch', 'timm', 'streamlit') if m in sys.modules))"],
                           cwd=REPO, capture_output=True, text=True, check=True)
    return {"`python -m vitviz models` (s)": statistics.median(times),
            "heavy modules imported by `import vitviz`": probe.stdout.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small model, fewer repeats (< 60 s on 2 CPU cores)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--model", default=None, help=f"timm tag (default {FULL_MODEL}, --quick {QUICK_MODEL})")
    parser.add_argument("--no-dashboard", action="store_true", help="skip the AppTest timings")
    parser.add_argument("--tables", action="store_true",
                        help="only the analysis/forward table (ViT-Ti/S/B/L) and the memory per cached analysis")
    parser.add_argument("--rss-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tables:
        rows = ratio_table(args.device) + memory_table()
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            print(f"{key:<{width}}  {value}")
        return
    model_name = args.model or (QUICK_MODEL if args.quick else FULL_MODEL)
    if args.rss_child is not None:
        rss_child(model_name, args.rss_child, args.device)
        return

    from peer import peer_analysis
    from vitviz.inputs.images import load_image
    from vitviz.loading.models import load_model
    from vitviz.run.pipeline import analyze_prepared, dataset_mean_distance
    from vitviz.inputs.preprocess import prepare_image

    repeats = 5 if args.quick else 10
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    loaded = load_model(model_name, pretrained=False, device=args.device, use_cache=False)
    model = loaded.model
    prepared = prepare_image(load_image(SAMPLES / "cat.jpg"), loaded.data_config)
    x = prepared.tensor.to(device)
    rows: list[tuple[str, str]] = [("model", f"{model_name} (random init), {args.device}, float32, "
                                             f"{prepared.hw[0]}×{prepared.hw[1]} px, torch {torch.__version__}, "
                                             f"{torch.get_num_threads()} threads")]

    def bare_forward():
        with torch.inference_mode():
            return model(x)

    t_forward, t_analysis = interleaved_medians(bare_forward, lambda: analyze_prepared(loaded, prepared),
                                                2 * repeats, sync=sync)
    result = analyze_prepared(loaded, prepared)
    layout = result.layout
    t_peer = median_time(lambda: peer_analysis(model, x, layout.grid, layout.patch_size[0],
                                               layout.num_prefix_tokens), repeats, sync=sync)
    _, _, peer_map, peer_dist = peer_analysis(model, x, layout.grid, layout.patch_size[0], layout.num_prefix_tokens)
    rows += [("bare model(x) (ms)", f"{t_forward * 1000:.1f}"),
             ("vitviz full analysis of one image (ms)", f"{t_analysis * 1000:.1f}"),
             ("peer pipeline (ms)", f"{t_peer * 1000:.1f}"),
             ("rollout max |vitviz − peer|", f"{np.abs(result.rollout - peer_map).max():.2e}"),
             ("distance max |vitviz − peer| (px)", f"{np.abs(result.mean_distance - peer_dist).max():.2e}")]

    batch, count = 8, 16 if args.quick else 32
    images = list(synthetic_images(count))
    tensors = torch.cat([prepare_image(im, loaded.data_config).tensor for im in images]).to(device)

    def bare_batches():
        with torch.inference_mode():
            for i in range(0, count, batch):
                model(tensors[i:i + batch])

    t_bare_batches = median_time(bare_batches, max(2, repeats // 3), warmup=1, sync=sync)
    t_stream = median_time(lambda: dataset_mean_distance(loaded, images, batch_size=batch),
                           max(2, repeats // 3), warmup=1, sync=sync)
    rows += [(f"bare batched forward, {count} images (img/s)", f"{count / t_bare_batches:.1f}"),
             ("streamed mean distance incl. preprocessing (img/s)", f"{count / t_stream:.1f}")]

    rss16, rss64 = peak_rss(model_name, 16, args.device), peak_rss(model_name, 64, args.device)
    rows += [("peak RSS, distances over 16 images (MiB)", f"{rss16 / 1024:.0f}"),
             ("peak RSS, distances over 64 images (MiB)", f"{rss64 / 1024:.0f}")]

    if not args.no_dashboard:
        rows += [(k, f"{v:.3f}" if "(s)" in k else f"{v:.0f}") for k, v in dashboard_timings(model_name).items()]
    rows += [(k, f"{v:.2f}" if isinstance(v, float) else str(v)) for k, v in cold_start().items()]

    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print(f"analysis/forward={t_analysis / t_forward:.2f} peer/analysis={t_peer / t_analysis:.2f} "
          f"stream/forward={t_bare_batches / t_stream:.2f} rss16/rss64={rss16 / rss64:.2f}")


if __name__ == "__main__":
    main()
