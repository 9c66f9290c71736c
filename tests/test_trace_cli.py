"""``python -m vitviz trace``: the npz holds exactly the library's arrays; bad input is one line and exit 2."""
import json

import numpy as np
import pytest

from conftest import SAMPLES
from vitviz.cli.main import main
from vitviz.inputs.images import load_image
from vitviz.loading.models import load_model
from vitviz.inputs.preprocess import prepare_image
from vitviz.run.trace import trace_patch

MODEL = "vit_small_patch14_dinov2.imgfocus"


@pytest.mark.parametrize("size, patch, layer_range, layers", [
    (None, (3, 5), "all", list(range(12))),
    ("224x280", (15, 19), "2-4", [2, 3, 4]),
])
def test_trace_npz_equals_the_library(tmp_path, weights_dir, capsys, size, patch, layer_range, layers):
    image = SAMPLES / "cat.jpg"
    argv = ["trace", str(image), "--model", MODEL, "--weights-dir", str(weights_dir), "--device", "cpu",
            "--patch", f"{patch[0]},{patch[1]}", "--layer-range", layer_range, "--out", str(tmp_path)]
    assert main(argv + (["--image-size", size] if size else [])) == 0
    loaded = load_model(MODEL, weights_dir=weights_dir, device="cpu")
    hw = tuple(int(s) for s in size.split("x")) if size else None
    expected = trace_patch(loaded.model, prepare_image(load_image(image), loaded.data_config, hw).tensor, patch,
                           layers=layers).arrays()
    with np.load(tmp_path / "cat" / "trace.npz") as saved:
        assert sorted(saved.files) == sorted(expected)
        for name, value in expected.items():
            np.testing.assert_array_equal(saved[name], value, err_msg=name)
        assert saved["q"].shape == (len(layers), 6, 64) and saved["cls_cosine_to_last"].shape == (len(layers),)
        assert "logit_lens_classes" not in saved.files       # DINOv2 has no classifier head
        for name in ("patch_values", "embedding", "z0", "ln1", "q", "scores", "attn", "attn_out", "z_mid", "ln2",
                     "mlp_hidden", "z_out", "final"):
            assert saved[name].dtype == np.float32, name
    summary = json.loads((tmp_path / "cat" / "summary.json").read_text())
    grid = (16, 20) if size else (16, 16)
    assert summary["token_index"] == 1 + patch[0] * grid[1] + patch[1] and summary["grid"] == list(grid)
    assert summary["layers"] == layers and "attn" in summary["conventions"]
    assert "token" in capsys.readouterr().out


@pytest.mark.parametrize("patch, extra, message", [
    ("16,0", [], "outside the 16 × 16 patch grid"),
    ("0,20", ["--image-size", "224x280"], "outside the 16 × 20 patch grid"),
    ("3", [], "is not ROW,COL"),
    ("x,1", [], "is not ROW,COL"),
    ("1,1", ["--layer-range", "3-1"], "--layer-range"),
])
def test_bad_patch_or_range_is_one_line_and_exit_2(tmp_path, weights_dir, capsys, patch, extra, message):
    argv = ["trace", str(SAMPLES / "cat.jpg"), "--model", MODEL, "--weights-dir", str(weights_dir), "--device", "cpu",
            "--patch", patch, "--out", str(tmp_path), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "cat").exists()
