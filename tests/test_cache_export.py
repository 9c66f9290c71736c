"""The dashboard's byte-bounded cache, the compact shared analyses, the shared CSV/NPZ writers, and its locks."""
import csv
import io
import threading
import time

import numpy as np
import pytest
import torch

from conftest import SAMPLES, make_vit
from vitviz.cache import ByteLRU
from vitviz.export import DISTANCE_HEADER, distance_rows, file_stem, grid_csv, npz_bytes, table_csv, write_npz
from vitviz_dashboard import caches, devices


# ----------------------------------------------------------------------------- ByteLRU
def test_byte_lru_evicts_least_recently_used_until_the_total_fits():
    cache = ByteLRU(100)
    cache.put("a", 1, 40)
    cache.put("b", 2, 40)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3, 40)  # 120 > 100: b (least recent) goes
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3
    assert cache.total_bytes == 80 and len(cache) == 2
    cache.put("huge", 4, 101)  # larger than the whole budget: returned by callers, never kept
    assert "huge" not in cache and cache.total_bytes == 80
    cache.put("a", 5, 10)  # replacing an entry replaces its size
    assert cache.total_bytes == 50 and cache.get("a") == 5


def test_byte_lru_computes_a_key_once_for_concurrent_callers_and_caches_no_failure():
    cache = ByteLRU(1000)
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return "value"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow, lambda v: 10)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["value"] * 4 and len(calls) == 1

    def broken():
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("x", broken, lambda v: 1)
    assert "x" not in cache
    assert cache.get_or_compute("x", lambda: 7, lambda v: 1) == 7


def test_byte_lru_slow_key_does_not_block_other_keys():
    cache = ByteLRU(1000)
    release = threading.Event()
    started = threading.Event()

    def blocked():
        started.set()
        release.wait(10)
        return 1

    worker = threading.Thread(target=lambda: cache.get_or_compute("slow", blocked, lambda v: 1))
    worker.start()
    started.wait(5)
    start = time.monotonic()
    assert cache.get_or_compute("fast", lambda: 2, lambda v: 1) == 2
    assert time.monotonic() - start < 1.0
    release.set()
    worker.join()


# ----------------------------------------------------------------------------- compact, read-only analyses
@pytest.fixture(scope="module")
def small_analysis():
    from vitviz.inputs.images import load_image
    from vitviz.run.pipeline import analyze_prepared
    from vitviz.inputs.preprocess import prepare_image

    model = make_vit(depth=3)
    from vitviz.loading.models import _finish
    from vitviz.loading.catalog import get_spec

    loaded = _finish(get_spec("vit_tiny_patch16_224.augreg_in21k_ft_in1k"), model, "untrained")
    prepared = prepare_image(load_image(SAMPLES / "cat.jpg"), loaded.data_config, (224, 224))
    return analyze_prepared(loaded, prepared, with_token_pca=True)


def test_frozen_compact_keeps_reductions_and_makes_every_array_read_only(small_analysis):
    from vitviz.run.pipeline import analysis_nbytes, frozen_compact

    full = small_analysis
    compact = frozen_compact(full)
    assert compact.attention.dtype == np.float16 and full.attention.dtype == np.float32
    np.testing.assert_allclose(compact.attention, full.attention, rtol=2 ** -10, atol=6e-8)
    assert compact.rollout is full.rollout and compact.mean_distance.dtype != np.float16
    assert compact.patch_tokens.dtype == np.float16 and full.patch_tokens.dtype == np.float32
    np.testing.assert_allclose(compact.patch_tokens, full.patch_tokens, rtol=2 ** -10, atol=6e-8)
    assert compact.token_pca is full.token_pca
    for array in (compact.attention, compact.rollout, compact.mean_distance, compact.token_norms,
                  compact.prepared.display, compact.patch_tokens, compact.token_pca[0].rgb,
                  compact.token_pca[-1].fit.components):
        with pytest.raises(ValueError):  # one session cannot change what every session sees
            array[(0,) * array.ndim] = 1
    saved = full.attention.nbytes - compact.attention.nbytes + full.patch_tokens.nbytes - compact.patch_tokens.nbytes
    assert analysis_nbytes(full) - analysis_nbytes(compact) == saved
    assert saved == (full.attention.nbytes + full.patch_tokens.nbytes) // 2


def test_token_norms_are_the_block_outputs_norms(small_analysis):
    from vitviz.run.capture import capture

    model = make_vit(depth=3)
    result = capture(model, small_analysis.prepared.tensor, keep_tokens=True)
    np.testing.assert_allclose(small_analysis.token_norms, result.tokens[:, 0].norm(dim=-1).numpy(), rtol=1e-5)
    assert small_analysis.token_norms.shape == (3, small_analysis.layout.num_tokens)


@pytest.mark.parametrize("size", [224, 448])
def test_the_size_estimate_matches_what_an_analysis_holds(size):
    from vitviz.inputs.images import load_image
    from vitviz.loading.models import _finish
    from vitviz.run.pipeline import analysis_nbytes, analyze_prepared, estimate_analysis_nbytes, frozen_compact
    from vitviz.inputs.preprocess import prepare_image
    from vitviz.loading.catalog import get_spec

    model = make_vit(depth=2)
    loaded = _finish(get_spec("vit_tiny_patch16_224.augreg_in21k_ft_in1k"), model, "untrained")
    result = frozen_compact(analyze_prepared(loaded, prepare_image(load_image(SAMPLES / "cat.jpg"),
                                                                   loaded.data_config, (size, size))))
    layout = result.layout
    estimate = estimate_analysis_nbytes(2, 3, layout.num_prefix_tokens, layout.grid, layout.patch_size,
                                        embed_dim=int(model.embed_dim))
    actual = analysis_nbytes(result)
    assert actual <= estimate  # the size slider never admits more than the budget
    assert estimate < 1.25 * actual + 4 * 2**20


# ----------------------------------------------------------------------------- shared writers
def test_table_csv_quotes_labels_and_distance_rows_are_the_cli_format():
    text = table_csv(["index", "label"], [(1, 'tabby, tabby cat'), (2, 'say "hi"')])
    assert list(csv.reader(io.StringIO(text))) == [["index", "label"], ["1", "tabby, tabby cat"], ["2", 'say "hi"']]
    mean = np.array([[1.0, 2.5], [3.25, 4.0]])
    rows = distance_rows(mean, 7)
    assert DISTANCE_HEADER == ("layer", "head", "mean_attention_distance_px", "num_images")
    assert rows == [(0, 0, "1.0000", 7), (0, 1, "2.5000", 7), (1, 0, "3.2500", 7), (1, 1, "4.0000", 7)]
    assert grid_csv(np.eye(2)).splitlines() == ["row,col_0,col_1", "0,1,0", "1,0,1"]


def test_npz_bytes_round_trip_and_file_stems():
    data = np.load(io.BytesIO(npz_bytes({"a": np.arange(3), "b": np.eye(2, dtype=np.float16)})))
    assert data["a"].tolist() == [0, 1, 2] and data["b"].dtype == np.float16
    assert file_stem("attention-map", "DINOv2 ViT-S/14 (untrained)") == "vitviz-attention-map-dinov2-vit-s-14-untrained"
    assert file_stem("distance", "", "") == "vitviz-distance"


def test_write_npz_keeps_every_named_array_and_refuses_savez_s_own_keyword(tmp_path):
    write_npz(tmp_path / "x.npz", {"z_in": np.ones((2, 3), np.float32), "layers": np.arange(2)})
    with np.load(tmp_path / "x.npz") as data:
        assert sorted(data.files) == ["layers", "z_in"] and data["z_in"].shape == (2, 3)
    # np.savez_compressed(f, allow_pickle=array) would take the array as its flag and not store it.
    with pytest.raises(ValueError, match="allow_pickle"):
        npz_bytes({"allow_pickle": np.zeros(1)})


def test_cli_writes_the_same_distance_csv_as_the_app(tmp_path):
    from vitviz.cli.main import main

    out = tmp_path / "out"
    assert main(["analyze", str(SAMPLES / "cat.jpg"), "--model", "vit_tiny_patch16_224.augreg_in21k_ft_in1k",
                 "--untrained", "--device", "cpu", "--out", str(out)]) == 0
    written = (out / "mean_attention_distance.csv").read_text()
    summary = np.load(out / "cat" / "analysis.npz")["mean_attention_distance"]
    assert written == table_csv(DISTANCE_HEADER, distance_rows(summary, 1))


# ----------------------------------------------------------------------------- the app's locks
@pytest.fixture()
def compute_module(monkeypatch):
    from vitviz_dashboard import compute  # the one module object the pages and AppTest use too

    return compute


def test_a_model_load_does_not_wait_for_the_forward_lock(compute_module):
    """A (slow) load or hub download must not block other sessions' forwards, nor wait for them."""
    done = threading.Event()
    with compute_module.FORWARD_LOCK:  # another session is running a forward
        worker = threading.Thread(target=lambda: (compute_module.model(
            "vit_tiny_patch16_224.augreg_in21k_ft_in1k", None, "cpu", False), done.set()))
        worker.start()
        assert done.wait(120), "loading a model waited for the forward lock"
    worker.join()


def test_prefetch_runs_in_the_background_in_the_runs_language_and_drops_what_would_pile_up(compute_module):
    from vitviz.text import i18n

    release, started, calls = threading.Event(), threading.Event(), []

    def work(n):
        calls.append((n, i18n.language()))
        started.set()
        release.wait(30)

    i18n.set_language("ko")
    try:
        for n in range(6):  # the first blocks the one worker; 4 may be in flight, the rest are dropped
            compute_module.prefetch(work, n)
            started.wait(10)
    finally:
        i18n.set_language("en")
        release.set()
    deadline = time.monotonic() + 30
    while len(calls) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the last one returns its place
    compute_module.prefetch(lambda: calls.append("after"))  # the queue drained: accepted again
    while "after" not in calls and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls == [(0, "ko"), (1, "ko"), (2, "ko"), (3, "ko"), "after"]


def test_a_failing_prefetch_is_logged_not_raised(compute_module, caplog):
    done = threading.Event()
    compute_module.prefetch(lambda: 1 / 0)
    compute_module.prefetch(done.set)
    assert done.wait(30)
    assert any("prefetch of <lambda> failed" in r.getMessage() for r in caplog.records)


def test_auto_device_resolves_before_it_becomes_a_cache_key(compute_module):
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert devices.resolve_device("auto") == expected
    assert devices.resolve_device("cpu") == "cpu"


def test_cache_budget_reads_the_environment(compute_module, monkeypatch):
    monkeypatch.delenv("VITVIZ_CACHE_BYTES", raising=False)
    assert caches.cache_budget() == 2 * 1024 ** 3
    monkeypatch.setenv("VITVIZ_CACHE_BYTES", "512M")
    assert caches.cache_budget() == 512 * 1024 ** 2 and caches.per_analysis_budget() == 128 * 2**20
    monkeypatch.setenv("VITVIZ_CACHE_BYTES", "lots")
    assert caches.cache_budget() == 2 * 1024 ** 3
