"""The app's service layer (app/compute.py): one byte-bounded cache for every result, a byte budget for the
models, keys derived from the selection, and the GPU policy that leaves other sessions' CPU work alone."""
import threading
import time

import pytest
import streamlit as st

from apptest import REAL, TINY, new_app, open_page
from vitviz.cache import ByteLRU
from vitviz_dashboard import caches, devices


@pytest.fixture()
def compute(monkeypatch):
    from vitviz_dashboard import compute

    st.cache_resource.clear()  # fresh caches, created with this test's budgets
    yield compute
    st.cache_resource.clear()


def test_a_failed_computation_leaves_no_lock_behind():
    cache = ByteLRU(100)
    for _ in range(3):
        with pytest.raises(ZeroDivisionError):
            cache.get_or_compute("k", lambda: 1 / 0, lambda v: 1)
    assert cache.pending_keys() == 0


def test_three_callers_of_one_key_compute_it_once_and_leave_no_lock():
    cache, calls, gate = ByteLRU(100), [], threading.Event()

    def slow():
        calls.append(1)
        gate.wait(5)
        return "v"

    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get_or_compute("k", slow, lambda v: 1)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    assert cache.pending_keys() == 1  # one lock for the key while its callers wait
    gate.set()
    for thread in threads:
        thread.join()
    assert got == ["v"] * 3 and len(calls) == 1 and cache.pending_keys() == 0


def test_eviction_and_discard_call_back_and_keep_the_total():
    evictions = []
    cache = ByteLRU(10, on_evict=lambda: evictions.append(1))
    for key in "abc":
        cache.put(key, key, 4)
    assert len(cache) == 2 and cache.total_bytes == 8 and len(evictions) == 1
    assert cache.discard(lambda k: k == "b") == 1 and cache.total_bytes == 4 and len(evictions) == 2


def test_a_model_over_the_model_budget_is_refused_before_it_is_built(compute, monkeypatch):
    import vitviz.loading.models

    monkeypatch.setenv("VITVIZ_MODEL_BYTES", "50M")
    st.cache_resource.clear()
    built = []
    real_load = vitviz.loading.models.load_model
    monkeypatch.setattr(vitviz.loading.models, "load_model", lambda *a, **k: built.append(a) or real_load(*a, **k))
    loaded = compute.model(TINY, None, "cpu", False)  # ViT-Ti/16: 5.7 M parameters, 23 MB
    assert caches.models().total_bytes == compute.model_nbytes(loaded) < 50 * 2**20
    with pytest.raises(compute.ModelTooLargeError, match="over this server's model budget of 50 MiB"):
        compute.model("vit_base_patch16_224.augreg2_in21k_ft_in1k", None, "cpu", False)  # 346 MB
    assert len(built) == 1


def test_out_of_gpu_memory_frees_the_gpus_entries_only(compute):
    results, models = caches.results(), caches.models()
    results.put(("analysis", "m", None, "cpu", True, "img", None), "cpu result", 10)
    results.put(("analysis", "m", None, "cuda", True, "img", None), "gpu result", 10)
    models.put(("m", None, "cpu", True), "cpu model", 10)
    models.put(("m", None, "cuda:0", True), "gpu model", 10)
    devices.free_gpu_memory()
    assert len(results) == 1 and ("analysis", "m", None, "cpu", True, "img", None) in results
    assert len(models) == 1 and ("m", None, "cpu", True) in models


def test_every_derived_result_of_a_page_is_in_the_byte_bounded_cache(compute, weights_dir, monkeypatch):
    """The heads' pictures and the matrix view's HTML were Streamlit caches outside the budget."""
    at = new_app(weights_dir, monkeypatch)
    open_page(at, "attention")
    open_page(at, "matrix")
    kinds = {key[0] for key in caches.results()._entries}
    assert {"analysis", "heads_html", "head_maps", "sinks", "matrix_html"} <= kinds
    sel = at.session_state["_vv_selection"]
    assert sel.model == REAL and all(key[1:7] == sel.key for key in caches.results()._entries
                                     if key[0] in ("heads_html", "matrix_html", "sinks"))
    assert caches.results().total_bytes <= caches.cache_budget()
