"""The token × token attention matrix view (vitviz.figures.matrix_view, the Matrix page) and analyze's rollout and size options.

The view's PNG and values are read back from the HTML and compared with the attention computed directly;
colours are checked against the viridis table by hand-worked indices. The CLI's rollout is compared with
``rollout_map`` on the attention it saved, its mean distance with a distance sum written out here.
"""
import io
import json
import re

import numpy as np
import pytest
from PIL import Image
from apptest import REAL, TINY, new_app, open_page
from conftest import SAMPLES
from vitviz.analysis import rollout_map
from vitviz.cli.main import main
from vitviz.inputs.images import load_image
from vitviz.figures.matrix_view import (VIRIDIS, colour_scale, layer_matrix, matrix_html, matrix_rgb, png_bytes, read_view,
                                token_names)
from vitviz.loading.models import load_model
from vitviz.run.pipeline import analyze_image
from vitviz.inputs.preprocess import TokenLayout

F16 = dict(rtol=2e-3, atol=3e-5)  # the app caches attention as float16 (as tests/test_app.py)


def lut_index(rgb: np.ndarray) -> np.ndarray:
    """Each pixel's index in the viridis table (every pixel must be one of its colours).

    Sampled at 256 points, plotly's viridis gives entries 103 and 104 the same colour; such a pixel reads as
    the first of them.
    """
    codes = VIRIDIS.astype(np.int64) @ [65536, 256, 1]
    first = {}
    for i, code in enumerate(codes):
        first.setdefault(int(code), i)
    pixel = rgb.reshape(-1, 3).astype(np.int64) @ [65536, 256, 1]
    assert set(map(int, np.unique(pixel))) <= set(first), "a pixel is not a viridis colour"
    return np.array([first[int(p)] for p in pixel]).reshape(rgb.shape[:2])


def colours_within_one_step(rgb: np.ndarray, index: np.ndarray) -> bool:
    """Whether every pixel has the viridis colour of ``index`` or of a neighbouring index (float16 rounding)."""
    return bool(np.all(np.any([np.all(rgb == VIRIDIS[np.clip(index.astype(int) + d, 0, 255)], axis=-1)
                               for d in (-1, 0, 1)], axis=0)))


# --------------------------------------------------------------------------- vitviz.figures.matrix_view
def test_token_names_are_prefix_tokens_then_patches_row_major():
    assert token_names(("cls", "reg0"), (2, 3)) == ["cls", "reg0", "(0, 0)", "(0, 1)", "(0, 2)", "(1, 0)", "(1, 1)",
                                                     "(1, 2)"]
    assert token_names((), (1, 2)) == ["(0, 0)", "(0, 1)"]
    layout = TokenLayout(grid=(3, 4), patch_size=(16, 16), prefix_names=("cls", "dist"))
    names = token_names(layout.prefix_names, layout.grid)
    assert len(names) == layout.num_tokens == 14
    for i in range(layout.num_tokens):  # the same order as the layout's own patch_of
        assert names[i] == (layout.prefix_names[i] if layout.patch_of(i) is None else str(layout.patch_of(i)))


def test_png_decodes_to_t_by_t_pixels_whose_colours_follow_the_values():
    m = np.array([[0.0, 0.1, 0.3], [0.2, 0.4, 0.15], [0.05, 0.35, 0.25]], dtype=np.float32)
    rgb = np.asarray(Image.open(io.BytesIO(png_bytes(matrix_rgb(m)))))
    assert rgb.shape == (3, 3, 3) and rgb.dtype == np.uint8
    index = lut_index(rgb)
    # linear over [0, max = 0.4]: index = round(255 · v / 0.4); 0.1 → 63.75 → 64, 0.3 → 191.25 → 191
    assert index.tolist() == [[0, 64, 191], [128, 255, 96], [32, 223, 159]]
    flat = np.argsort(m, axis=None)
    assert np.all(np.diff(index.ravel()[flat]) > 0)  # monotone: larger value, later colour
    assert tuple(VIRIDIS[0]) == (68, 1, 84) and tuple(VIRIDIS[255]) == (253, 231, 37)  # viridis' two ends
    # log over 5 decades below the maximum: 0.4 → 255, 4e-6 (and 0) → 0, 0.4·10^-2 → 255·3/5 = 153
    logm = np.array([[0.4, 4e-6, 0.0], [0.4e-2, 0.4e-4, 0.4e-1]])
    assert colour_scale(logm, log=True).lo == pytest.approx(4e-6)
    assert lut_index(matrix_rgb(logm, log=True)).tolist() == [[255, 0, 0], [153, 51, 204]]


def test_layer_matrix_is_one_head_or_the_mean_of_heads():
    attn = np.random.default_rng(0).dirichlet(np.ones(5), size=(2, 3, 5)).astype(np.float16)
    np.testing.assert_array_equal(layer_matrix(attn, 1, 2), attn[1, 2].astype(np.float32))
    np.testing.assert_allclose(layer_matrix(attn, 0), (attn[0, 0].astype(np.float32) + attn[0, 1] + attn[0, 2]) / 3,
                               rtol=1e-6)
    with pytest.raises(IndexError):
        layer_matrix(attn, 2)


def test_html_is_self_contained_and_carries_the_matrix():
    rng = np.random.default_rng(1)
    m = rng.dirichlet(np.ones(1 + 2 * 3), size=7).astype(np.float32)
    display = rng.integers(0, 255, (2 * 14, 3 * 14, 3), dtype=np.uint8)
    page = matrix_html(m, display, (2, 3), (14, 14), ("cls",), log=True)
    assert not re.search(r"https?:|//[a-z]|\burl\(|\bfetch\(|\bimport\b|XMLHttpRequest|WebSocket", page)
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!data:)""", page)  # only data URIs are loaded
    view = read_view(page)
    assert view["T"] == 7 and view["png"].shape == (7, 7, 3)
    np.testing.assert_array_equal(view["png"], matrix_rgb(m, log=True))
    np.testing.assert_array_equal(view["values"], m.astype(np.float16).astype(np.float32))
    assert '"prefix": ["cls"]' in page and '"gh": 2, "gw": 3' in page
    with pytest.raises(ValueError):
        matrix_html(m[:6, :6], display, (2, 3), (14, 14), ("cls",))
    with pytest.raises(ValueError, match="not a matrix view: no data-tokens"):
        read_view("<!doctype html><p>a page, not a matrix view</p>")


# --------------------------------------------------------------------------- the CLI
def test_cli_rollout_options_equal_rollout_map(tmp_path):
    out = tmp_path / "o"
    assert main(["analyze", str(SAMPLES / "cat.jpg"), "--model", TINY, "--untrained", "--image-size", "96",
                 "--fusion", "max", "--discard", "0.5", "--start-layer", "3", "--out", str(out)]) == 0
    npz = np.load(out / "cat" / "analysis.npz")
    layout = TokenLayout(grid=tuple(npz["grid"]), patch_size=(16, 16), prefix_names=("cls",))
    expected = rollout_map(npz["attention"], layout, head_fusion="max", discard_ratio=0.5, start_layer=3)
    np.testing.assert_allclose(npz["rollout"], expected, rtol=1e-5, atol=1e-7)
    assert not np.allclose(npz["rollout"], rollout_map(npz["attention"], layout), rtol=1e-3)  # the options matter
    summary = json.loads((out / "cat" / "summary.json").read_text())
    assert summary["rollout"] == {"fusion": "max", "discard_ratio": 0.5, "start_layer": 3, "query": "cls"}
    out2 = tmp_path / "defaults"
    assert main(["analyze", str(SAMPLES / "cat.jpg"), "--model", TINY, "--untrained", "--image-size", "96",
                 "--out", str(out2)]) == 0
    again = np.load(out2 / "cat" / "analysis.npz")
    np.testing.assert_allclose(again["rollout"], rollout_map(again["attention"], layout), rtol=1e-5, atol=1e-7)
    assert json.loads((out2 / "cat" / "summary.json").read_text())["rollout"] == {
        "fusion": "mean", "discard_ratio": 0.0, "start_layer": 0, "query": "cls"}


def test_cli_non_square_size_gives_the_grid_and_distances_in_input_px(tmp_path):
    out = tmp_path / "o"
    assert main(["analyze", str(SAMPLES / "cat.jpg"), "--model", TINY, "--untrained", "--image-size", "64x112",
                 "--out", str(out)]) == 0
    npz = np.load(out / "cat" / "analysis.npz")
    assert list(npz["grid"]) == [64 // 16, 112 // 16] and int(npz["patch_size"]) == 16
    assert npz["attention"].shape[-1] == 1 + 4 * 7 and npz["rollout"].shape == (4, 7)
    assert json.loads((out / "cat" / "summary.json").read_text())["input_size"] == [64, 112]
    # Σ_k a_qk·‖c_q − c_k‖ over patch queries and keys, averaged over queries; centres at (r + ½)·16, (c + ½)·16 px
    attn = npz["attention"][:, :, 1:, 1:].astype(np.float64)
    centres = np.array([((r + 0.5) * 16, (c + 0.5) * 16) for r in range(4) for c in range(7)])
    dist = np.sqrt(((centres[:, None] - centres[None]) ** 2).sum(-1))
    np.testing.assert_allclose(npz["mean_attention_distance"], (attn * dist).sum(-1).mean(-1), rtol=1e-4)
    assert dist.max() == pytest.approx(np.hypot(3 * 16, 6 * 16))  # corner to corner of 64×112 px, centre to centre


@pytest.mark.parametrize("size, message", [("100x160", "multiples of the patch size 16 px"),
                                           ("96by", "is not N or HxW"), ("2000", "at most 1024 px")])
def test_cli_bad_size_exits_2_with_one_line(tmp_path, capsys, size, message):
    out = tmp_path / "never"
    assert main(["analyze", str(SAMPLES / "cat.jpg"), "--model", TINY, "--untrained", "--image-size", size,
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vitviz: error:") and message in err[0], err
    assert not out.exists()  # refused before anything was written


def test_cli_bad_rollout_options_exit_2_with_one_line(tmp_path, capsys):
    for extra, message in ((["--start-layer", "12"], "out of range 0–11"), (["--discard", "1"], "must be in [0, 1)")):
        assert main(["analyze", str(SAMPLES / "cat.jpg"), "--model", TINY, "--untrained", *extra,
                     "--out", str(tmp_path / "x")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err


# --------------------------------------------------------------------------- the dashboard page
def view_of(at) -> dict:
    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    frames = [n for n in walk(at.main) if getattr(n, "type", None) == "iframe"]
    assert len(frames) == 1
    return read_view(frames[0].proto.srcdoc)


@pytest.mark.real_weights
def test_matrix_page_shows_the_links_layer_and_head_and_keeps_them_in_the_url(weights_dir, monkeypatch):
    loaded = load_model(REAL, weights_dir=weights_dir, device="cpu")
    expected = analyze_image(loaded, load_image(SAMPLES / "cat.jpg"))
    at = open_page(new_app(weights_dir, monkeypatch, layer="3", head="2"), "matrix")
    view = view_of(at)
    want = expected.attention[3, 2]
    assert view["T"] == 257 and view["png"].shape == (257, 257, 3)  # DINOv2 ViT-S/14, 224 px: cls + 16×16
    np.testing.assert_allclose(view["values"], want, **F16)
    assert colours_within_one_step(view["png"], colour_scale(want, log=True).index(want))  # float16: ≤ 1 colour
    assert dict(at.query_params) == {"sample": "cat", "layer": "3", "head": "2"}
    assert any("layer 3, head 2, 257 × 257 tokens" in h.value for h in at.get("html"))  # the text alternative
    at.slider(key="vv_layer").set_value(7).run()
    at.selectbox(key="vv_head").set_value("mean").run()
    at.toggle(key="vv_matrix_log").set_value(False).run()
    view = view_of(at)
    np.testing.assert_allclose(view["values"], expected.attention[7].mean(0), **F16)
    mean = expected.attention[7].mean(0)
    assert colours_within_one_step(view["png"], colour_scale(mean).index(mean))
    assert dict(at.query_params) == {"sample": "cat", "layer": "7", "log": "0"}  # linear scale is in the link too
    open_page(at, "attention")  # the Attention page shows the same layer and head
    assert at.slider(key="vv_layer").value == 7 and at.selectbox(key="vv_head").value == "mean"
