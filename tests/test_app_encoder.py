"""The Encoder page (one patch through the encoder) on the real DINOv2: its numbers are vitviz.run.trace's."""
import numpy as np
import pytest

from apptest import REAL, arr, figures, new_app, open_page
from conftest import SAMPLES
from vitviz.inputs.images import load_image
from vitviz.loading.models import load_model
from vitviz.inputs.preprocess import prepare_image
from vitviz.run.trace import trace_patch

PATCH, LAYER, HEAD = (3, 5), 4, 2


@pytest.fixture(scope="module")
def expected(weights_dir):
    loaded = load_model(REAL, weights_dir=weights_dir, device="cpu")
    x = prepare_image(load_image(SAMPLES / "cat.jpg"), loaded.data_config).tensor
    return trace_patch(loaded.model, x, PATCH)


def go(at, step: int):
    at.session_state["vv_enc_step"] = step
    at.run()
    assert not at.exception, at.exception
    return at


def frame(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_every_step_shows_the_traces_numbers(weights_dir, monkeypatch, expected):
    at = new_app(weights_dir, monkeypatch, model=REAL, patch="3,5", elayer=str(LAYER), ehead=str(HEAD))
    open_page(at, "encoder")
    tr, i = expected, LAYER
    assert at.query_params["patch"] == "3,5" and tr.token_index == 1 + 3 * 16 + 5
    assert any("token **54** of 257" in m.value for m in at.markdown)
    np.testing.assert_allclose(frame(at, "x_p")["x_p"].to_numpy(), tr.patch_values[:6], rtol=1e-6)

    go(at, 2)
    np.testing.assert_allclose(frame(at, "x_p E + b")["x_p E + b"].to_numpy(), tr.embedding[:6], rtol=1e-6)
    d = int(np.argmax(np.abs(tr.embedding)))
    terms = frame(at, "x_i·E")
    assert f"E[i, {d}]" in terms.columns and abs(terms["x_i·E"]).is_monotonic_decreasing

    go(at, 3)
    z0 = frame(at, "E_pos")
    np.testing.assert_allclose(z0["z₀"].to_numpy(), tr.z0[:6], rtol=1e-6)
    np.testing.assert_allclose(z0["E_pos"].to_numpy(), tr.position[:6], rtol=1e-6)

    go(at, 4)
    ln = frame(at, "LN(z)")
    np.testing.assert_allclose(ln["z"].to_numpy(), tr.z_in[i, :6], rtol=1e-6)
    np.testing.assert_allclose(ln["LN(z)"].to_numpy(), tr.ln1[i, :6], rtol=1e-6)
    np.testing.assert_allclose(ln["(z − μ)/σ"].to_numpy() * ln["γ"].to_numpy() + ln["β"].to_numpy(), tr.ln1[i, :6],
                               rtol=1e-4, atol=1e-5)
    assert any(f"{tr.z_in[i].mean():.4f}" in m.value for m in at.markdown)

    go(at, 5)
    np.testing.assert_allclose(frame(at, f"q (h{HEAD})")[f"q (h{HEAD})"].to_numpy(), tr.q[i, HEAD, :6], rtol=1e-6)

    go(at, 6)
    soft = frame(at, "softmax")
    order = np.argsort(-tr.attn[i, HEAD], kind="stable")[:5]
    np.testing.assert_allclose(soft["softmax"].to_numpy(), tr.attn[i, HEAD, order], rtol=1e-6)
    np.testing.assert_allclose(soft["score"].to_numpy(), tr.scores[i, HEAD, order], rtol=1e-6)

    go(at, 8)
    np.testing.assert_allclose(frame(at, "z′ = z + λ₁·MSA")["z′ = z + λ₁·MSA"].to_numpy(), tr.z_mid[i, :6],
                               rtol=1e-6)

    go(at, 9)
    firing = int((tr.mlp_hidden[i] > 0).sum())
    assert any(f"**{firing} fire**" in m.value for m in at.markdown)
    bars = next(f for f in figures(at) if f["data"][0]["type"] == "bar")
    assert arr(bars["data"][0]["y"]).tolist() == (tr.mlp_hidden > 0).sum(-1).tolist()

    go(at, 10)
    np.testing.assert_allclose(frame(at, "z_l")["z_l"].to_numpy(), tr.z_out[i, :6], rtol=1e-6)

    go(at, 11)
    line = next(f for f in figures(at) if f["data"][0]["type"] == "scatter")
    np.testing.assert_allclose(arr(line["data"][0]["y"]), tr.cls_cosine_to_last, rtol=1e-6)
    np.testing.assert_allclose(frame(at, "final")["final"].to_numpy(), tr.final[:6], rtol=1e-6)
    assert at.query_params["estep"] == "11"


def test_a_patch_off_the_grid_falls_back_with_a_notice(weights_dir, monkeypatch):
    at = new_app(weights_dir, monkeypatch, model=REAL, patch="99,0", estep="4")
    open_page(at, "encoder")
    assert any("`patch=99,0`" in w.value and "`patch=8,8`" in w.value for w in at.warning), \
        [w.value for w in at.warning]
    assert any("Block 0 starts with LayerNorm" in m.value for m in at.markdown)
    assert at.session_state["vv_enc_patch"] == (8, 8)   # the default: the grid's centre
