"""`python -m vitviz distance`: streamed mean attention distance over a folder, resumed, and under torchrun.

The reference is the per-image analysis (:func:`vitviz.run.pipeline.analyze_image`, what ``analyze``
writes per image) averaged over the readable images; the streamed run must equal it whatever the
batching, an interruption or the number of processes.

Tolerances: the sums are float64 and order-free, but each image's distance comes from a float32
forward whose last bits depend on the batch shape and thread count (BLAS blocking): runs agree to
float32 rounding, so the float64 means are compared to 1e-6 relative (observed: 1.5e-8 here, 6e-8 on
ViT-S/16), and the CSV, which writes 4 decimals as ``analyze`` does, to one unit of its last digit
(a float32-level difference can flip it).
"""
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO
from vitviz.cli.main import main
from vitviz.run.distance_stream import STATE_DIR, Interrupted, find_images, stream_mean_distance
from vitviz.run.ranks import Ranks, ranks_from_env
from vitviz.inputs.images import load_image
from vitviz.loading.models import load_model
from vitviz.run.pipeline import analyze_image

MODEL = "tiny-vit"
LAYERS, HEADS = 2, 3
GOOD = ["a.png", "b.jpg", "c.png", "d.webp", "sub/e.jpg", "sub/f.bmp"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A 2-block ViT-Ti (3 heads) at 48 px (3×3 patches of 16 px) in a weights folder: the same
    weights in every process, which ``--untrained`` with its fixed seed would give too."""
    from safetensors.torch import save_file
    import timm

    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(1)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, depth=LAYERS, img_size=48, num_classes=0)
    save_file(model.state_dict(), folder / f"{MODEL}.safetensors")
    (folder / f"{MODEL}.json").write_text(json.dumps({
        "architecture": "vit_tiny_patch16_224", "kwargs": {"depth": LAYERS, "img_size": 48, "num_classes": 0},
        "num_classes": 0, "label": "Tiny test ViT", "input_size": [3, 48, 48],
        "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}))
    return folder


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Six small images of different sizes and modes (one in a sub-folder's), one corrupt JPEG,
    one text file, one hidden file."""
    folder = tmp_path_factory.mktemp("images")
    (folder / "sub").mkdir()
    rng = np.random.default_rng(0)
    for i, name in enumerate(GOOD):
        h, w = 40 + 13 * i, 90 - 7 * i
        pixels = (rng.random((h, w, 3)) * 255).astype(np.uint8)
        pixels[: h // 2] //= 3  # some structure, so the images' attention differs
        image = Image.fromarray(pixels)
        if name == "c.png":
            image = image.convert("RGBA")
        image.save(folder / name)
    (folder / "aa-broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not JPEG data")
    (folder / "notes.txt").write_text("not an image\n")
    (folder / ".hidden.jpg").write_bytes(b"never looked at")
    return folder


@pytest.fixture(scope="module")
def reference(weights, images):
    """Mean over the six images of the per-image analysis' ``(layers, heads)`` distances."""
    loaded = load_model(MODEL, weights_dir=weights, device="cpu", use_cache=False)
    per_image = [analyze_image(loaded, load_image(images / name)).mean_distance for name in GOOD]
    return np.mean(per_image, axis=0)


def cli(images, weights, out, *extra):
    return main(["distance", str(images), "--model", MODEL, "--weights-dir", str(weights), "--out", str(out),
                 "--device", "cpu", "--quiet", *extra])


def read_csv(path):
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    values = np.array([float(r["mean_attention_distance_px"]) for r in rows]).reshape(LAYERS, HEADS)
    return rows, values


def state_parts(out):
    return {p.name: json.loads(p.read_text()) for p in sorted((out / STATE_DIR).glob("part-*.json"))}


def saved_mean(out):
    """The float64 mean from every saved part: what the CSV rounds."""
    parts = state_parts(out).values()
    return sum(np.array(p["sums"]) for p in parts) / sum(p["count"] for p in parts)


LAST_DIGIT = 1e-4 + 1e-9  # one unit of the CSV's 4th decimal


@pytest.fixture(scope="module")
def single(images, weights, tmp_path_factory):
    """One process, batches of 4, decoding in a DataLoader worker."""
    out = tmp_path_factory.mktemp("single")
    assert cli(images, weights, out, "--batch-size", "4", "--workers", "1") == 0
    return out


def test_single_process_equals_the_per_image_analysis(single, reference, capsys):
    rows, values = read_csv(single / "mean_attention_distance.csv")
    assert [(r["layer"], r["head"]) for r in rows] == [(str(l), str(h)) for l in range(LAYERS) for h in range(HEADS)]
    assert {r["num_images"] for r in rows} == {"6"}
    # The CSV (analyze's format) holds the mean rounded to its 4 decimals (batches of 4 here, of 1 there).
    np.testing.assert_allclose(values, reference, rtol=0, atol=0.5e-4 + 1e-6)
    # The float64 sums kept for resuming hold it to float32 rounding.
    part = state_parts(single)["part-0.json"]
    assert part["count"] == 6 and sorted(part["names"]) == sorted(GOOD)
    np.testing.assert_allclose(saved_mean(single), reference, rtol=1e-6)


def test_unreadable_files_are_listed_not_fatal(single):
    lines = (single / "skipped.txt").read_text().splitlines()
    assert len(lines) == 1 and lines[0] == "aa-broken.jpg\tthe image data is damaged (Truncated File Read)"
    summary = json.loads((single / "summary.json").read_text())
    assert summary["num_images"] == 6 and summary["skipped"] == 1 and summary["processes"] == 1
    assert summary["label"] == "Tiny test ViT" and summary["input_size"] == [48, 48]


def test_png_and_html_show_the_plot(single, reference):
    png = Image.open(single / "mean_attention_distance.png")
    assert png.format == "PNG" and png.size == (1400, 860)
    from PIL import ImageColor

    from vitviz.figures.plots import HEAD_COLOURS

    pixels = np.asarray(png.convert("RGB")).reshape(-1, 3)
    for head in range(HEADS):  # every head's colour is drawn (markers and legend keys)
        colour = np.array(ImageColor.getrgb(HEAD_COLOURS[head]))
        assert (np.abs(pixels.astype(int) - colour).sum(1) == 0).sum() > 50
    html = (single / "mean_attention_distance.html").read_text(encoding="utf-8")
    assert "plotly" in html and "Mean attention distance" in html and "6 images" in html


def test_interrupted_run_resumes_without_recounting(images, weights, single, tmp_path, capsys):
    out = tmp_path / "resumed"
    loaded = load_model(MODEL, weights_dir=weights, device="cpu", use_cache=False)
    seen = []

    def stop_after_first_batch(names):
        seen.extend(names)
        raise KeyboardInterrupt  # what Ctrl-C does, after the batch is counted

    with pytest.raises(Interrupted):
        stream_mean_distance(loaded, images, out, batch_size=3, workers=0, on_batch=stop_after_first_batch)
    part = state_parts(out)["part-0.json"]
    assert part["count"] == 2 and part["names"] == seen == ["a.png", "b.jpg"]

    capsys.readouterr()
    assert cli(images, weights, out, "--batch-size", "2", "--workers", "0") == 0
    assert "(4 this run, 2 from saved progress)" in capsys.readouterr().out
    part = state_parts(out)["part-0.json"]
    assert part["count"] == 6 and part["names"][:2] == ["a.png", "b.jpg"] and sorted(part["names"]) == sorted(GOOD)
    _, resumed = read_csv(out / "mean_attention_distance.csv")
    _, whole = read_csv(single / "mean_attention_distance.csv")
    np.testing.assert_allclose(resumed, whole, rtol=0, atol=LAST_DIGIT)
    np.testing.assert_allclose(saved_mean(out), saved_mean(single), rtol=1e-6)

    # Nothing left to do: a rerun counts nothing new and writes the same table.
    assert cli(images, weights, out) == 0
    assert "(0 this run, 6 from saved progress)" in capsys.readouterr().out


def test_progress_of_other_settings_is_refused_until_restart(images, weights, single, tmp_path, capsys):
    out = tmp_path / "o"
    assert cli(images, weights, out, "--workers", "0") == 0
    capsys.readouterr()
    assert cli(images, weights, out, "--workers", "0", "--image-size", "32") == 2
    err = capsys.readouterr().err
    assert "progress of another run" in err and "input_hw" in err and "--restart" in err
    assert cli(images, weights, out, "--workers", "0", "--image-size", "32", "--restart") == 0
    assert "(6 this run, 0 from saved progress)" in capsys.readouterr().out


def test_two_processes_under_torchrun_give_the_single_process_csv(images, weights, single, tmp_path, capsys):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "vitviz",
         "distance", str(images), "--model", MODEL, "--weights-dir", str(weights), "--out", str(out),
         "--device", "cpu", "--batch-size", "4", "--workers", "1", "--quiet"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "(6 this run, 0 from saved progress, 2 processes)" in run.stdout
    _, ddp = read_csv(out / "mean_attention_distance.csv")
    _, whole = read_csv(single / "mean_attention_distance.csv")
    np.testing.assert_allclose(ddp, whole, rtol=0, atol=LAST_DIGIT)
    np.testing.assert_allclose(saved_mean(out), saved_mean(single), rtol=1e-6)
    # Each rank streamed its own shard (every other image of the sorted list) and kept its own part.
    parts = state_parts(out)
    assert sorted(parts) == ["part-0.json", "part-1.json"]
    # Sorted: a.png, aa-broken.jpg, b.jpg, c.png, d.webp, sub/e.jpg, sub/f.bmp; rank r takes r, r + 2, …
    assert parts["part-0.json"]["names"] == ["a.png", "b.jpg", "d.webp", "sub/f.bmp"]
    assert parts["part-1.json"]["names"] == ["c.png", "sub/e.jpg"]
    # Rank 1 met the corrupt file: its list is gathered to rank 0, which writes and prints it.
    assert (out / "skipped.txt").read_text().startswith("aa-broken.jpg\t")
    assert "aa-broken.jpg" in run.stderr

    # Progress saved by 2 processes resumes in 1: both parts are summed, nothing is recounted.
    capsys.readouterr()
    assert cli(images, weights, out, "--workers", "0") == 0
    assert "(0 this run, 6 from saved progress)" in capsys.readouterr().out
    _, again = read_csv(out / "mean_attention_distance.csv")
    np.testing.assert_array_equal(again, ddp)


def test_a_folder_without_one_readable_image_exits_2(weights, tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "x.png").write_bytes(b"")
    assert main(["distance", str(folder), "--model", MODEL, "--weights-dir", str(weights), "--out",
                 str(tmp_path / "o"), "--device", "cpu", "--quiet", "--workers", "0"]) == 2
    assert "no image under" in capsys.readouterr().err
    assert (tmp_path / "o" / "skipped.txt").read_text() == "x.png\tthe file is empty\n"


def test_find_images_lists_image_files_below_the_folder_but_not_the_output(images, tmp_path):
    names, others = find_images(images)
    assert names == ["a.png", "aa-broken.jpg"] + GOOD[1:] and others == 1
    (images / "out").mkdir(exist_ok=True)
    (images / "out" / "mean_attention_distance.png").write_bytes(b"")
    try:
        assert find_images(images, exclude=images / "out")[0] == names
        assert "out/mean_attention_distance.png" in find_images(images)[0]
    finally:
        (images / "out" / "mean_attention_distance.png").unlink()
        (images / "out").rmdir()


def test_ranks_come_from_torchruns_environment():
    assert ranks_from_env({}) == Ranks(0, 1, 0)
    assert ranks_from_env({"RANK": "3", "WORLD_SIZE": "8", "LOCAL_RANK": "1"}) == Ranks(3, 8, 1)
    from vitviz.errors import VitvizError

    with pytest.raises(VitvizError, match="not within"):
        ranks_from_env({"RANK": "2", "WORLD_SIZE": "2"})


def test_png_axis_ticks_are_round_numbers():
    from vitviz.figures.distance_png import nice_ticks

    assert nice_ticks(130) == [0, 20, 40, 60, 80, 100, 120]
    assert nice_ticks(34.6) == [0, 5, 10, 15, 20, 25, 30]
    assert nice_ticks(1.0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]


# ----------------------------------------------------------------------------- one run per --out, kills, launchers
SLOW_RUN = """\
import os, sys, time
sys.path.insert(0, os.environ["VITVIZ_REPO"])
import vitviz.run.distance_stream as stream
real = stream.capture

def slow(*args, **kwargs):  # every forward takes SLOW_S seconds more, so a test can act mid-run
    time.sleep(float(os.environ["SLOW_S"]))
    return real(*args, **kwargs)

stream.capture = slow
from vitviz.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def slow_run(tmp_path, images, weights, out, *launcher, slow_s=1.0, **popen):
    """``distance`` in a subprocess (under ``launcher``, e.g. torchrun), one image per batch, saving each."""
    script = tmp_path / "slow_distance.py"
    script.write_text(SLOW_RUN)
    env = {**os.environ, "VITVIZ_REPO": str(REPO), "SLOW_S": str(slow_s), "OMP_NUM_THREADS": "1",
           "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, *launcher, str(script), "distance", str(images), "--model", MODEL, "--weights-dir",
         str(weights), "--out", str(out), "--device", "cpu", "--batch-size", "1", "--workers", "0",
         "--save-every", "0", "--quiet"], cwd=REPO, env=env, **popen)


def wait_for_parts(out, parts, proc, timeout=120.0):
    """Wait until each of ``parts`` is saved with at least one image counted."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, "the run ended before the test could act"
        saved = state_parts(out)  # parts are replaced whole: a half-written one would fail here
        if all(saved.get(p, {}).get("count", 0) >= 1 for p in parts):
            return saved
        time.sleep(0.1)
    raise AssertionError(f"no progress saved in {timeout} s")


def test_a_second_run_on_the_same_out_is_refused_and_a_killed_run_resumes(images, weights, single, tmp_path,
                                                                          capsys):
    import signal

    out = tmp_path / "o"
    first = slow_run(tmp_path, images, weights, out, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_parts(out, ["part-0.json"], first)
        capsys.readouterr()
        assert cli(images, weights, out, "--workers", "0") == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"another run holds {out} (pid {first.pid} on " in err[0]
    finally:
        first.send_signal(signal.SIGKILL)  # no chance to save: what was saved last must do
        first.wait(30)
    saved = state_parts(out)["part-0.json"]
    assert 1 <= saved["count"] < 6 and len(saved["names"]) == saved["count"]
    assert not (out / "mean_attention_distance.csv").exists()

    assert cli(images, weights, out, "--workers", "0", "--batch-size", "2") == 0
    assert f"({6 - saved['count']} this run, {saved['count']} from saved progress)" in capsys.readouterr().out
    _, resumed = read_csv(out / "mean_attention_distance.csv")
    _, whole = read_csv(single / "mean_attention_distance.csv")
    np.testing.assert_allclose(resumed, whole, rtol=0, atol=LAST_DIGIT)
    np.testing.assert_allclose(saved_mean(out), saved_mean(single), rtol=1e-6)
    assert not list((out / STATE_DIR).glob(".*.tmp"))


def test_ranks_stop_when_torchrun_dies_and_a_rerun_resumes(images, weights, single, tmp_path, capsys):
    """torchrun starts each rank in a session of its own: SIGKILL to torchrun alone used to leave them
    running (and a rerun at once then saved overlapping parts)."""
    import signal
    import time

    out = tmp_path / "ddp"
    run = slow_run(tmp_path, images, weights, out, "-m", "torch.distributed.run", "--standalone",
                   "--nproc_per_node=2", slow_s=1.5, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_parts(out, ["part-0.json", "part-1.json"], run)
        run.send_signal(signal.SIGKILL)  # the launcher only; the ranks hold its pipes until they end
        killed = time.monotonic()
        _, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    took = time.monotonic() - killed
    assert took < 15, f"ranks ran on for {took:.1f} s after torchrun died"
    assert stderr.count("stopped because its launcher (pid ") == 2, stderr[-3000:]
    parts = state_parts(out)
    counted = [set(p["names"]) for p in parts.values()]
    assert sum(map(len, counted)) < 6 and not counted[0] & counted[1]  # stopped mid-way, no image twice
    assert not (out / "mean_attention_distance.csv").exists()

    capsys.readouterr()
    assert cli(images, weights, out, "--workers", "0") == 0  # the lock is free: every rank has ended
    done = sum(map(len, counted))
    assert f"({6 - done} this run, {done} from saved progress)" in capsys.readouterr().out
    _, resumed = read_csv(out / "mean_attention_distance.csv")
    _, whole = read_csv(single / "mean_attention_distance.csv")
    np.testing.assert_allclose(resumed, whole, rtol=0, atol=LAST_DIGIT)
    np.testing.assert_allclose(saved_mean(out), saved_mean(single), rtol=1e-6)


def test_launcher_watch_sees_its_parent_die(tmp_path):
    """A process whose parent dies is adopted: the watch reports the old parent once, within its interval."""
    code = """\
import os, sys, time
sys.path.insert(0, os.environ["VITVIZ_REPO"])
from vitviz.run.run_guard import LauncherWatch
seen = []
with LauncherWatch(seen.append, interval=0.05, grace=60) as watch:
    print(watch.parent, flush=True)
    end = time.monotonic() + 20
    while not seen and time.monotonic() < end:
        time.sleep(0.02)
    time.sleep(0.3)  # reported once, not again
with open(sys.argv[1] + ".tmp", "w") as fh:
    fh.write(f"{seen} {os.getppid()}")
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
"""
    launcher = ("import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]], "
                "stdout=subprocess.PIPE, text=True); print(p.stdout.readline().strip(), flush=True); time.sleep(60)")
    report = tmp_path / "report.txt"
    parent = subprocess.Popen([sys.executable, "-c", launcher, code, str(report)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "VITVIZ_REPO": str(REPO)})
    assert int(parent.stdout.readline()) == parent.pid  # the child watches this process
    parent.kill()
    parent.wait(10)
    import time

    end = time.monotonic() + 20
    while not report.exists() and time.monotonic() < end:
        time.sleep(0.05)
    seen, new_parent = report.read_text().rsplit(" ", 1)
    assert seen == f"[{parent.pid}]" and int(new_parent) != parent.pid
