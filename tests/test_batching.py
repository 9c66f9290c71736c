"""Cross-session micro-batching: the batcher's policy (vitviz.run.batching), batched analyses equal single
ones (vitviz.run.pipeline.analyze_prepared_batch) on a random ViT and on the real DINOv2 weights, and the
server-side analyzer (vitviz.run.serving) that joins them."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import IMAGENET_CONFIG as CONFIG
from conftest import SAMPLES
from vitviz.run.batching import MicroBatcher
from vitviz.errors import VitvizError
from vitviz.inputs.images import load_image
from vitviz.loading.models import LoadedModel
from vitviz.run.pipeline import analyze_image, analyze_prepared, analyze_prepared_batch
from vitviz.inputs.preprocess import input_hw, prepare_image
from vitviz.loading.registry import ModelSpec
from vitviz.run.serving import BatchedAnalyzer, transient_nbytes



# --------------------------------------------------------------------------- the batcher's policy
class Gate:
    """A run_batch that records its batches and, for the first one, waits until released."""

    def __init__(self, hold_first: bool = True, lock: threading.Lock | None = None):
        self.batches: list[tuple[object, list]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.hold_first = hold_first
        self.lock = lock
        self.lock_held: list[bool] = []

    def __call__(self, key, items):
        self.batches.append((key, list(items)))
        if self.lock is not None:
            self.lock_held.append(self.lock.locked())
        if self.hold_first and len(self.batches) == 1:
            self.started.set()
            assert self.release.wait(10)
        bad = [i for i in items if i == "bad"]
        if bad:
            raise ValueError("bad item")
        return [f"{key}:{item}" for item in items]


def submit_all(batcher, pairs):
    return [batcher.submit(k, v) for k, v in pairs]


def test_a_lone_request_runs_at_once_alone():
    gate = Gate(hold_first=False)
    batcher = MicroBatcher(gate, max_batch=8)
    t0 = time.perf_counter()
    assert batcher("k", 1) == "k:1"
    assert time.perf_counter() - t0 < 1.0  # no window waited (a loaded CI machine still answers well within 1 s)
    assert gate.batches == [("k", [1])]
    assert batcher.stats.batches == 1 and batcher.stats.largest == 1


def test_requests_that_arrive_during_a_batch_run_together_up_to_the_limit_in_arrival_order():
    gate = Gate()
    batcher = MicroBatcher(gate, max_batch=3)
    first = batcher.submit("k", "a")
    assert gate.started.wait(10)  # "a" runs alone; the rest queue behind it
    rest = submit_all(batcher, [("k", "b"), ("k", "c"), ("k", "d"), ("k", "e")])
    gate.release.set()
    assert first.result(10) == "k:a"
    assert [f.result(10) for f in rest] == ["k:b", "k:c", "k:d", "k:e"]
    assert [items for _k, items in gate.batches] == [["a"], ["b", "c", "d"], ["e"]]
    assert batcher.stats.sizes == {1: 2, 3: 1}


def test_the_oldest_request_goes_next_with_the_others_of_its_key():
    gate = Gate()
    batcher = MicroBatcher(gate, max_batch=8)
    batcher.submit("k1", "a")
    assert gate.started.wait(10)
    futures = submit_all(batcher, [("k2", "b"), ("k1", "c"), ("k2", "d"), ("k3", "e"), ("k1", "f")])
    gate.release.set()
    assert [f.result(10) for f in futures] == ["k2:b", "k1:c", "k2:d", "k3:e", "k1:f"]
    assert gate.batches[1:] == [("k2", ["b", "d"]), ("k1", ["c", "f"]), ("k3", ["e"])]


def test_the_limit_can_depend_on_the_key():
    gate = Gate()
    batcher = MicroBatcher(gate, max_batch=lambda key: 1 if key == "big" else 4)
    batcher.submit("small", 0)
    assert gate.started.wait(10)
    futures = submit_all(batcher, [("big", 1), ("big", 2), ("small", 3), ("small", 4)])
    gate.release.set()
    for f in futures:
        f.result(10)
    assert [items for _k, items in gate.batches[1:]] == [[1], [2], [3, 4]]  # oldest first, the limit per key


def test_an_error_reaches_only_its_caller():
    gate = Gate()
    batcher = MicroBatcher(gate, max_batch=8)
    batcher.submit("k", "a")
    assert gate.started.wait(10)
    good1, bad, good2 = submit_all(batcher, [("k", "x"), ("k", "bad"), ("k", "y")])
    gate.release.set()
    assert good1.result(10) == "k:x" and good2.result(10) == "k:y"
    with pytest.raises(ValueError, match="bad item"):
        bad.result(10)
    # the failed batch of three, then each of its requests alone
    assert [items for _k, items in gate.batches[1:]] == [["x", "bad", "y"], ["x"], ["bad"], ["y"]]
    assert batcher.stats.retried == 1
    with pytest.raises(ValueError, match="bad item"):  # a lone failing request: its error, once
        batcher("k", "bad")
    assert batcher("k", "z") == "k:z"  # and the worker is still there


def test_each_result_goes_out_as_soon_as_it_is_yielded():
    release = threading.Event()

    def run_batch(key, items):
        yield f"{key}:{items[0]}"
        assert release.wait(10)  # the rest of the batch is still being finished
        for item in items[1:]:
            yield f"{key}:{item}"

    lock = threading.Lock()
    batcher = MicroBatcher(run_batch, max_batch=8, lock=lock)
    with lock:  # both requests queue, then run as one batch
        a, b = submit_all(batcher, [("k", "a"), ("k", "b")])
    assert a.result(10) == "k:a"  # while b's part is not done
    assert not b.done()
    release.set()
    assert b.result(10) == "k:b"
    assert batcher.stats.sizes == {2: 1}


def test_an_error_after_some_results_reruns_only_the_rest():
    calls = []

    def run_batch(key, items):
        calls.append(list(items))
        for item in items:
            if item == "bad":
                raise ValueError("bad item")
            yield item.upper()

    lock = threading.Lock()
    batcher = MicroBatcher(run_batch, max_batch=8, lock=lock)
    with lock:
        a, bad, c = submit_all(batcher, [("k", "a"), ("k", "bad"), ("k", "c")])
    assert a.result(10) == "A" and c.result(10) == "C"
    with pytest.raises(ValueError, match="bad item"):
        bad.result(10)
    assert calls == [["a", "bad", "c"], ["bad"], ["c"]]


def test_a_wrong_number_of_results_is_an_error_for_the_batch():
    batcher = MicroBatcher(lambda key, items: items[:-1], max_batch=8)
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        batcher("k", 1)
    lock = threading.Lock()
    batcher = MicroBatcher(lambda key, items: [*items, "extra"], max_batch=8, lock=lock)
    with lock:
        a, b = submit_all(batcher, [("k", 1), ("k", 2)])
    assert (a.result(10), b.result(10)) == (1, 2)  # answered before the extra result showed up
    batcher = MicroBatcher(lambda key, items: items[:1], max_batch=8, lock=lock)
    with lock:
        a, b = submit_all(batcher, [("k", 1), ("k", 2)])
    assert a.result(10) == 1
    with pytest.raises(RuntimeError, match="1 results for 2 items"):  # no silent re-run: a bug in run_batch
        b.result(10)


def test_batches_run_under_the_lock_and_wait_for_it():
    lock = threading.Lock()
    gate = Gate(hold_first=False, lock=lock)
    batcher = MicroBatcher(gate, max_batch=8, lock=lock)
    with lock:  # another forward holds the lock: requests queue, then run as one batch
        futures = submit_all(batcher, [("k", i) for i in range(5)])
        time.sleep(0.2)
        assert gate.batches == []
    assert [f.result(10) for f in futures] == [f"k:{i}" for i in range(5)]
    assert gate.batches == [("k", [0, 1, 2, 3, 4])]
    assert gate.lock_held == [True]


def test_max_delay_waits_for_more_of_the_key():
    gate = Gate(hold_first=False)
    batcher = MicroBatcher(gate, max_batch=2, max_delay=2.0)
    a = batcher.submit("k", "a")
    time.sleep(0.1)
    b = batcher.submit("k", "b")  # within the window: joins a's batch, which is then full and runs
    assert (a.result(10), b.result(10)) == ("k:a", "k:b")
    assert gate.batches == [("k", ["a", "b"])]
    with pytest.raises(ValueError):
        MicroBatcher(gate, max_delay=-1)


# --------------------------------------------------------------------------- batched = single
def assert_same(single, batched, *, atol=2e-5):
    """Every per-image result of two analyses agrees to float tolerance."""
    np.testing.assert_allclose(batched.attention, single.attention, atol=atol, rtol=0)
    np.testing.assert_allclose(batched.rollout, single.rollout, atol=atol, rtol=1e-4)
    np.testing.assert_allclose(batched.mean_distance, single.mean_distance, atol=1e-3, rtol=1e-4)
    np.testing.assert_allclose(batched.output, single.output, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(batched.token_norms, single.token_norms, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(batched.patch_tokens, single.patch_tokens, rtol=1e-4, atol=1e-4)
    assert batched.attention.shape == single.attention.shape
    assert batched.layout == single.layout
    assert [p.index for p in batched.predictions] == [p.index for p in single.predictions]
    for p, q in zip(batched.predictions, single.predictions):
        assert abs(p.probability - q.probability) < 1e-5
    assert np.array_equal(batched.prepared.display, single.prepared.display)
    assert batched.sink_tokens == single.sink_tokens
    if single.rollout_without_sinks is None:
        assert batched.rollout_without_sinks is None
    else:
        np.testing.assert_allclose(batched.rollout_without_sinks, single.rollout_without_sinks, atol=atol, rtol=1e-4)


def sample_images(n: int) -> list[Image.Image]:
    paths = sorted(SAMPLES.glob("*.jpg"))
    return [load_image(paths[i % len(paths)].read_bytes()) for i in range(n)]


def test_a_batch_equals_its_images_one_by_one_on_a_random_vit(tiny_loaded):
    hw = input_hw(tiny_loaded.data_config, 160)
    prepared = [prepare_image(im, tiny_loaded.data_config, hw) for im in sample_images(4)]
    batched = analyze_prepared_batch(tiny_loaded, prepared)
    assert len(batched) == 4
    singles = [analyze_prepared(tiny_loaded, p) for p in prepared]
    for single, result in zip(singles, batched):
        assert_same(single, result)
    # each result owns its arrays: no view of the batch's buffers keeps the others alive
    for name in ("attention", "patch_tokens", "token_norms", "output"):
        assert not np.shares_memory(getattr(batched[0], name), getattr(batched[1], name)), name
    # the images differ, so equal results would mean a mix-up, not agreement
    assert not np.allclose(batched[0].attention, batched[1].attention, atol=1e-3)


def test_a_batch_needs_one_size(tiny_loaded):
    images = sample_images(2)
    prepared = [prepare_image(images[0], tiny_loaded.data_config, (160, 160)),
                prepare_image(images[1], tiny_loaded.data_config, (192, 192))]
    with pytest.raises(VitvizError, match="one input size"):
        analyze_prepared_batch(tiny_loaded, prepared)
    assert analyze_prepared_batch(tiny_loaded, []) == []


@pytest.mark.real_weights
def test_a_batch_equals_its_images_one_by_one_on_dinov2(weights_dir):
    from vitviz.loading.models import load_model

    loaded = load_model("vit_small_patch14_dinov2.imgfocus", weights_dir=weights_dir, device="cpu")
    images = sample_images(3)
    hw = input_hw(loaded.data_config, None)
    prepared = [prepare_image(im, loaded.data_config, hw) for im in images]
    batched = analyze_prepared_batch(loaded, prepared)
    for image, result in zip(images, batched):
        single = analyze_image(loaded, image)
        assert single.layout.grid == (16, 16)
        # DINOv2's attention is sharper and its features larger than a random ViT's: same tolerance on
        # probabilities, relative on features
        assert_same(single, result, atol=5e-5)


# --------------------------------------------------------------------------- the server's analyzer
def run_queued(analyzer, lock, targets, *, one_by_one: bool = False) -> None:
    """Start a thread per callable while ``lock`` is held (another forward is running), wait until their requests
    are queued in ``analyzer`` (``one_by_one``: each queued before the next starts), release the lock, join them."""
    def wait_pending(count: int) -> None:
        deadline = time.monotonic() + 10
        while analyzer.batcher.pending() < count and time.monotonic() < deadline:
            time.sleep(0.01)

    threads = []
    with lock:
        for target in targets:
            threads.append(threading.Thread(target=target))
            threads[-1].start()
            if one_by_one:
                wait_pending(len(threads))
        wait_pending(len(threads))
    for th in threads:
        th.join(30)


def test_the_analyzer_batches_concurrent_sessions_and_each_gets_its_own_result(tiny_loaded):
    lock = threading.Lock()
    analyzer = BatchedAnalyzer(lock, max_images=8)
    images = sample_images(5)
    results: dict[int, object] = {}

    def session(i):
        results[i] = analyzer.analyze(tiny_loaded, images[i], 160)

    # a forward is running: the five sessions' requests meet in the queue
    run_queued(analyzer, lock, [lambda i=i: session(i) for i in range(5)])
    assert analyzer.batcher.stats.sizes == {5: 1}
    for i, image in enumerate(images):
        assert_same(analyze_image(tiny_loaded, image, 160), results[i])


def test_batch_limit_from_the_environment_or_the_device(monkeypatch):
    from vitviz.run.serving import batch_limit

    monkeypatch.delenv("VITVIZ_BATCH", raising=False)
    assert (batch_limit("cuda"), batch_limit("cpu")) == (8, 1)
    monkeypatch.setenv("VITVIZ_BATCH", "4")
    assert (batch_limit("cuda"), batch_limit("cpu")) == (4, 4)
    monkeypatch.setenv("VITVIZ_BATCH", "0")
    assert batch_limit("cpu") == 1
    monkeypatch.setenv("VITVIZ_BATCH", "many")
    assert (batch_limit("cuda"), batch_limit("cpu")) == (8, 1)


def test_a_cpu_model_runs_alone_unless_the_environment_asks_for_batches(tiny_loaded, monkeypatch):
    monkeypatch.delenv("VITVIZ_BATCH", raising=False)
    lock = threading.Lock()
    analyzer = BatchedAnalyzer(lock)
    images = sample_images(3)
    run_queued(analyzer, lock, [lambda im=im: analyzer.analyze(tiny_loaded, im, 160) for im in images])
    assert analyzer.batcher.stats.sizes == {1: 3}


def test_the_analyzer_caps_a_batch_by_bytes_and_refuses_a_cnn(tiny_loaded):
    hw = (160, 160)
    per_image = transient_nbytes(tiny_loaded, hw)
    # 3 layers, 3 heads, T = 101, D = 192: probabilities 3·3·101²·4, tokens 2·3·101·192·4, input 3·160²·4
    assert per_image == 4 * (3 * 3 * 101 ** 2 + 2 * 3 * 101 * 192 + 3 * 160 * 160)
    lock = threading.Lock()
    analyzer = BatchedAnalyzer(lock, max_images=8, max_bytes=2 * per_image + 1)
    images = sample_images(5)
    run_queued(analyzer, lock, [lambda im=im: analyzer.analyze(tiny_loaded, im, 160) for im in images])
    assert analyzer.batcher.stats.largest == 2 and analyzer.batcher.stats.items == 5
    cnn = LoadedModel(spec=ModelSpec(name="resnet18", label="r", family="CNN", kind="cnn"), model=tiny_loaded.model,
                      device=torch.device("cpu"), dtype=torch.float32, source="untrained", data_config=dict(CONFIG))
    with pytest.raises(VitvizError, match="is a CNN"):
        analyzer.analyze(cnn, images[0])


def test_after_share_cores_a_cpu_forward_uses_every_core_only_with_nothing_queued_behind_it(tiny_loaded, monkeypatch):
    from vitviz.run import pipeline, serving

    full = torch.get_num_threads()
    monkeypatch.setattr(serving, "_FULL_THREADS", None)
    assert serving.forward_threads(0) is None  # share_cores not called: torch's setting stays
    seen: list[int] = []
    real = pipeline.iter_analyses

    def recording(loaded, prepared, **kwargs):
        seen.append(torch.get_num_threads())  # in the worker, while the forward runs
        yield from real(loaded, prepared, **kwargs)

    monkeypatch.setattr(pipeline, "iter_analyses", recording)
    try:
        serving.share_cores()
        serving.share_cores()  # idempotent: the full count is the one before the first call
        assert torch.get_num_threads() == 1
        assert (serving.forward_threads(0), serving.forward_threads(3)) == (full, 1)
        lock = threading.Lock()
        analyzer = BatchedAnalyzer(lock)
        images = sample_images(3)
        # three sessions queue up: the first two run with others behind them
        run_queued(analyzer, lock, [lambda im=im: analyzer.analyze(tiny_loaded, im, 160) for im in images],
                   one_by_one=True)
        result = analyzer.analyze(tiny_loaded, images[0], 160)  # a lone request
    finally:
        torch.set_num_threads(full)
    assert seen == [1, 1, full, full]
    assert_same(analyze_image(tiny_loaded, images[0], 160), result)
