"""The dashboard as a class uses it: a second and a third session on caches the first one filled, a
setting toggled away and back, a page after another page, and links a stranger wrote.

Every test here starts more than one session in this process, whose Streamlit caches persist across
sessions as they do on a server (AppTest sessions share ``st.cache_*`` with each other).
"""
import numpy as np
import pytest

from apptest import new_app, open_page

SAMPLE_SET = "samples"  # "All bundled samples"


def _distance_over_samples(at) -> None:
    open_page(at, "distance")
    at.radio(key="vv_dist_mode").set_value(SAMPLE_SET).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_distance_over_the_samples_works_for_every_session_and_after_a_toggle(weights_dir, monkeypatch):
    """Fig. 7 (right) over the bundled samples: a cached computation that drew its progress bar was
    replayed for the next user and failed (CacheReplayClosureError) — in a second session, after
    "This image" and back, and after another page."""
    first = new_app(weights_dir, monkeypatch)
    _distance_over_samples(first)
    first.radio(key="vv_dist_mode").set_value("this").run()
    first.radio(key="vv_dist_mode").set_value(SAMPLE_SET).run()
    assert not first.exception and not first.error, (first.exception, [e.value for e in first.error])
    for _ in range(2):  # a second and a third student
        other = new_app(weights_dir, monkeypatch)
        open_page(other, "attention")
        _distance_over_samples(other)
        assert "6 images" in str(other.get("plotly_chart")[-1].proto.spec)


@pytest.mark.parametrize("value", ["1", "true"])
def test_a_presenter_link_is_the_whole_presenter_mode(weights_dir, monkeypatch, value):
    """``?present=true`` is accepted as on by the parameter table; the frame (projector CSS, closed sidebar)
    read ``== "1"`` and gave half a presenter mode."""
    at = new_app(weights_dir, monkeypatch, present=value)
    assert at.toggle(key="vv_present").value is True
    assert any("font-size: 19px" in h.proto.body for h in at.get("html"))


def test_a_huge_upload_is_kept_scaled_down_to_what_the_analyses_use(weights_dir, monkeypatch):
    """An 8000×6000 PNG of a few hundred KB decodes to 137 MiB: the session keeps a 2048 px copy instead."""
    import io

    from PIL import Image

    from vitviz.inputs.images import MAX_SIDE, load_image

    big = Image.new("RGB", (8000, 6000), (200, 120, 40))
    big.paste((20, 60, 200), (2000, 1500, 6000, 4500))
    buf = io.BytesIO()
    big.save(buf, "PNG")
    at = new_app(weights_dir, monkeypatch)
    at.radio(key="vv_source").set_value("Upload").run()
    at.file_uploader(key="vv_upload").upload("huge.png", buf.getvalue(), "image/png").run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    kept = load_image(at.session_state["_vv_selection"].image_bytes)
    assert kept.size == (MAX_SIDE, 1536)
    assert kept.getpixel((1024, 768)) == (20, 60, 200) and kept.getpixel((10, 10)) == (200, 120, 40)


def test_models_that_share_a_short_label_are_told_apart():
    """Two ViT-B/16s (AugReg2 and original) and two DINOv2 ViT-S/14s showed as identical picker entries, and
    the Distance page keyed its series by label, so one model's curve overwrote the other's."""
    from vitviz.loading.catalog import distinct_labels, list_models

    specs = [s for s in list_models(None) if s.label.startswith(("ViT-B/16", "ViT-S/16", "DINOv2 ViT-S/14"))]
    labels = distinct_labels(specs)
    assert len(set(labels.values())) == len(specs)
    assert labels["vit_small_patch16_224.augreg_in21k_ft_in1k"] == "ViT-S/16"  # unique: stays short
    assert labels["vit_base_patch16_224.augreg2_in21k_ft_in1k"].startswith("ViT-B/16 (AugReg2")


def test_distance_compares_a_16_px_model_at_a_14_px_models_size(two_vit_folder, monkeypatch):
    """At 252 px (18 patches of 14 px) a /16 model cannot run at the main model's size: it runs at its own
    (the whole view was an error); the main model's curve stays its own."""
    from apptest import arr, figures

    at = new_app(two_vit_folder, monkeypatch, model="vit_small_patch14_dinov2.imgfocus", size="252")
    open_page(at, "distance")
    at.multiselect(key="vv_compare").set_value(["tiny16"]).run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    fig = figures(at)[0]
    names = [trace.get("name") or "" for trace in fig["data"]]
    assert any(n.startswith("ViT-Ti/16") for n in names) and any(n.startswith("DINOv2") for n in names), names
    ys = [arr(trace["y"]) for trace in fig["data"] if trace.get("name", "").startswith(("ViT-Ti", "DINOv2"))]
    assert len(ys) >= 2 and not np.allclose(ys[0][: len(ys[1])], ys[1][: len(ys[0])])


def test_an_error_outside_a_fragment_shows_one_line_and_an_error_id(weights_dir, monkeypatch, caplog):
    """The page itself runs under the guard; what escapes it anyway shows no details (config.toml)."""
    import re

    from vitviz_dashboard import frame, launch

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail from the server")

    at = new_app(weights_dir, monkeypatch)
    monkeypatch.setattr(frame, "header", broken)
    at.switch_page("views/attention.py").run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "RuntimeError" in shown and "secret detail" not in shown
    eid = re.search(r"`([0-9a-f]{8})`", shown).group(1)
    assert any(eid in r.getMessage() and r.exc_info for r in caplog.records)
    assert "--client.showErrorDetails=none" in launch.config_options()


def test_a_link_made_with_an_upload_says_the_upload_cannot_travel(weights_dir, monkeypatch):
    """An upload cannot travel in a link: the link says image=upload, and whoever opens it sees the sample
    with a one-line notice, never silently."""
    at = new_app(weights_dir, monkeypatch, image="upload", layer="3")
    warnings = [w.value for w in at.warning]
    assert any("uploaded image, which a link cannot carry" in w and '"cat"' in w for w in warnings), warnings
    assert at.radio(key="vv_source").value == "Sample" and "image" not in at.query_params
    at.radio(key="vv_source").set_value("Upload").run()
    from conftest import SAMPLES

    at.file_uploader(key="vv_upload").upload("rocket.jpg", (SAMPLES / "rocket.jpg").read_bytes(), "image/jpeg").run()
    assert at.query_params["image"] == "upload" and "sample" not in at.query_params
    assert not [w.value for w in at.warning if "link cannot carry" in w.value]  # told once


def test_a_fragment_the_server_does_not_know_runs_the_whole_page():
    """After a restart the browser asks for fragment runs the new server never created: the whole page runs."""
    from types import SimpleNamespace

    from streamlit.proto.ClientState_pb2 import ClientState
    from streamlit.runtime.app_session import AppSession

    from vitviz_dashboard import serve

    seen = []
    original = AppSession.request_rerun
    try:
        AppSession.request_rerun = lambda self, state: seen.append(state.fragment_id if state else None)
        serve.rerun_pages_whose_fragment_is_gone()
        serve.rerun_pages_whose_fragment_is_gone()  # idempotent
        session = SimpleNamespace(has_fragment=lambda fid: fid == "known")
        for fid in ("known", "gone", ""):
            AppSession.request_rerun(session, ClientState(fragment_id=fid))
    finally:
        AppSession.request_rerun = original
    assert seen == ["known", "", ""]


ALL_PAGES = ["walkthrough", "encoder", "filters", "position", "attention", "matrix", "distance", "tokens", "explain",
             "compare", "cnn", "paper", "facts", "talk"]


def every_ordered_pair(nodes: list[str]) -> list[str]:
    """A walk through ``nodes`` that goes from every node to every other one exactly once (an Eulerian
    circuit of the complete directed graph, Hierholzer's algorithm): 14 pages, 182 page changes."""
    unused = {a: [b for b in nodes if b != a] for a in nodes}
    stack, walk = [nodes[0]], []
    while stack:
        here = stack[-1]
        if unused[here]:
            stack.append(unused[here].pop())
        else:
            walk.append(stack.pop())
    return walk[::-1]


def test_the_walk_covers_every_ordered_pair_once():
    walk = every_ordered_pair(ALL_PAGES)
    pairs = list(zip(walk, walk[1:]))
    assert len(pairs) == len(set(pairs)) == 14 * 13


def test_each_page_after_each_other_page(weights_dir, monkeypatch):
    """A class moves between pages in every order: no page may depend on which page ran before it."""
    at = new_app(weights_dir, monkeypatch)
    walk = every_ordered_pair(ALL_PAGES)
    for before, page in zip(walk, walk[1:]):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (before, page, at.exception)
        assert not at.error, (before, page, [e.value for e in at.error])
