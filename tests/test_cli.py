"""The command line: analyze's exact outputs, models listing, and one-line errors."""
import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, SAMPLES
from vitviz.cli.main import main
from vitviz.cli.common import safe_stem

REAL = "vit_small_patch14_dinov2.imgfocus"


@pytest.mark.real_weights
def test_analyze_writes_the_documented_files(weights_dir, tmp_path, capsys):
    images = [SAMPLES / "cat.jpg", SAMPLES / "astronaut.jpg"]
    out = tmp_path / "out"
    code = main(["analyze", *map(str, images), "--model", REAL, "--weights-dir", str(weights_dir),
                 "--device", "cpu", "--out", str(out)])
    assert code == 0
    for stem in ("cat", "astronaut"):
        npz = np.load(out / stem / "analysis.npz")
        # DINOv2 ViT-S/14 at 224 px: 12 layers, 6 heads, 16×16 patches + CLS, no head.
        assert set(npz.files) == {"attention", "rollout", "mean_attention_distance", "pos_embed_similarity",
                                  "filters_pca", "filters_explained_variance", "grid", "patch_size",
                                  "num_prefix_tokens", "token_pca_rgb", "token_pca_foreground", "rollout_without_sinks"}
        # every sample has a DINOv2 sink: the map the dashboard's rollout figures show, checkable here
        from vitviz.analysis import rollout_map
        from vitviz.inputs.preprocess import TokenLayout

        sinks = json.loads((out / stem / "summary.json").read_text())["attention_sinks"]
        tokens = tuple(1 + r * 16 + c for r, c in sinks)
        assert sinks and npz["rollout_without_sinks"].shape == (16, 16)
        layout = TokenLayout(grid=(16, 16), patch_size=(14, 14), prefix_names=("cls",))
        np.testing.assert_allclose(npz["rollout_without_sinks"], rollout_map(
            npz["attention"], layout, query=0, exclude_keys=tokens), rtol=1e-5, atol=1e-7)
        assert npz["attention"].shape == (12, 6, 257, 257) and npz["attention"].dtype == np.float32
        np.testing.assert_allclose(npz["attention"].sum(-1), 1.0, atol=1e-4)
        assert npz["rollout"].shape == (16, 16)
        assert npz["mean_attention_distance"].shape == (12, 6)
        assert npz["pos_embed_similarity"].shape == (16, 16, 16, 16)
        assert npz["filters_pca"].shape == (28, 3, 14, 14)
        assert npz["filters_explained_variance"].shape == (28,)
        assert list(npz["grid"]) == [16, 16] and int(npz["patch_size"]) == 14 and int(npz["num_prefix_tokens"]) == 1
        assert npz["token_pca_rgb"].shape == (12, 16, 16, 3) and npz["token_pca_rgb"].dtype == np.float32
        assert npz["token_pca_rgb"].min() >= 0 and npz["token_pca_rgb"].max() <= 1
        assert npz["token_pca_foreground"].shape == (12, 16, 16) and npz["token_pca_foreground"].dtype == bool
        summary = json.loads((out / stem / "summary.json").read_text())
        explained = np.array(summary["token_pca_explained_variance"])
        assert explained.shape == (12, 3) and np.all(np.diff(explained, axis=1) <= 0) and np.all(explained.sum(1) <= 1)
        assert "token_pca" in summary["conventions"]
        assert summary["facts"]["layers"] == 12 and summary["facts"]["heads"] == 6
        assert summary["facts"]["hidden_size"] == 384 and summary["facts"]["mlp_size"] == 1536
        assert summary["top5"] == [] and summary["pretrained"] is True
        assert "rollout" in summary["conventions"] and "mean_attention_distance" in summary["conventions"]
    rows = list(csv.DictReader(open(out / "mean_attention_distance.csv")))
    assert len(rows) == 12 * 6 and rows[0]["num_images"] == "2"
    per_image = [np.load(out / s / "analysis.npz")["mean_attention_distance"] for s in ("cat", "astronaut")]
    assert float(rows[7]["mean_attention_distance_px"]) == pytest.approx(np.mean(per_image, 0)[1, 1], abs=1e-3)


def test_analyze_with_logits_on_untrained_model(tmp_path):
    out = tmp_path / "o"
    code = main(["analyze", str(SAMPLES / "coffee.jpg"), str(SAMPLES / "coffee.jpg"), "--model",
                 "vit_tiny_patch16_224.augreg_in21k_ft_in1k", "--untrained", "--image-size", "160", "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["coffee", "coffee-2", "mean_attention_distance.csv"]
    npz = np.load(out / "coffee" / "analysis.npz")
    assert npz["logits"].shape == (1000,) and npz["attention"].shape == (12, 3, 101, 101)
    summary = json.loads((out / "coffee" / "summary.json").read_text())
    assert summary["label"].endswith("(untrained)") and summary["pretrained"] is False
    assert len(summary["top5"]) == 5


def run_cli(*args, env_extra=None):
    import os

    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "vitviz", *args], cwd=REPO, capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.mark.parametrize("args, message", [
    (["analyze", "vitviz/samples/cat.jpg", "--model", "vit_nonexistent", "--out", "/tmp/x"], "unknown model"),
    (["analyze", "no/such.jpg", "--model", "vit_tiny_patch16_224.augreg_in21k_ft_in1k", "--untrained",
      "--out", "/tmp/x"], "no such file"),
    (["analyze", "vitviz/samples/cat.jpg", "--model", "vit_tiny_patch16_224.augreg_in21k_ft_in1k",
      "--untrained", "--image-size", "100", "--out", "/tmp/x"], "multiples of the patch size"),
])
def test_errors_are_one_line_without_traceback(args, message, tmp_path):
    args = [a if a != "/tmp/x" else str(tmp_path) for a in args]
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_weights_offline_from_the_cli(tmp_path):
    result = run_cli("analyze", "vitviz/samples/cat.jpg", "--model", "vit_base_patch16_224.augreg2_in21k_ft_in1k",
                     "--weights-dir", str(tmp_path), "--out", str(tmp_path / "o"),
                     env_extra={"HF_HUB_CACHE": str(tmp_path / "hf"), "HF_ENDPOINT": "http://127.0.0.1:9"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(tmp_path) in result.stderr and "python -m vitviz download" in result.stderr


def test_models_lists_registry_and_local_weights_without_torch(tmp_path):
    (tmp_path / "mine.safetensors").write_bytes(b"")
    (tmp_path / "mine.json").write_text(json.dumps({"architecture": "vit_tiny_patch16_224", "label": "Mine"}))
    code = ("import sys, runpy; sys.argv=['vitviz','models','--weights-dir',%r]; "
            "runpy.run_module('vitviz', run_name='__main__')" % str(tmp_path))
    check = subprocess.run([sys.executable, "-c", code + "\n"], cwd=REPO, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "mine" in check.stdout and "Mine" in check.stdout and f"local: {tmp_path}" in check.stdout
    assert "vit_base_patch16_224.augreg2_in21k_ft_in1k" in check.stdout and "resnet50.a1_in1k" in check.stdout


def test_importing_vitviz_loads_no_model_framework():
    code = ("import sys, vitviz, vitviz.loading.catalog, vitviz.cli.main; "
            "bad = [m for m in ('torch', 'timm', 'streamlit') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name, stem", [
    ("cat.jpg", "cat"), ("../../etc/passwd.png", "passwd"), ("..jpg", "image"), ("a b/ç d$.png", "d"),
    (".hidden.jpg", "hidden"),
])
def test_output_folder_names_are_sanitised(name, stem):
    from pathlib import Path

    assert safe_stem(Path(name)) == stem


def test_version_prints_the_package_version(capsys):
    import vitviz

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"vitviz {vitviz.__version__}\n"


def read_pyproject() -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_version_has_a_single_source():
    pyproject = read_pyproject()
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "vitviz.__version__"}
    assert pyproject["project"]["scripts"] == {"vitviz": "vitviz.cli.main:main"}


def test_requirements_install_this_checkout_with_the_ranges_of_pyproject():
    """One list of dependencies (pyproject.toml); requirements*.txt install the checkout with its extras."""
    from packaging.requirements import Requirement

    def lines(name):
        return [line.split("#")[0].strip() for line in (REPO / name).read_text().splitlines() if line.split("#")[0].strip()]

    assert lines("requirements.txt") == ["-e .[app]"]
    assert lines("requirements-dev.txt") == ["-e .[app,dev]"]
    project = read_pyproject()["project"]
    library = {Requirement(r).name.lower() for r in project["dependencies"]}
    assert {"torch", "timm", "huggingface_hub", "safetensors"} <= library and "streamlit" not in library
    assert [Requirement(r).name for r in project["optional-dependencies"]["app"]] == ["streamlit"]
    assert all(Requirement(r).specifier for r in project["dependencies"])  # ranges, never unbounded


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_adds_the_traceback_to_the_one_line_error(where, tmp_path, capsys):
    args = ["analyze", str(SAMPLES / "cat.jpg"), "--model", "vit_nonexistent", "--out", str(tmp_path)]
    assert main(args) == 2
    quiet = capsys.readouterr().err
    assert quiet.startswith("vitviz: error: ") and "unknown model" in quiet and len(quiet.splitlines()) == 1

    assert main(["--verbose", *args] if where == "before" else [*args, "--verbose"]) == 2
    loud = capsys.readouterr().err.splitlines()
    assert loud[0] == "Traceback (most recent call last):"
    assert any("vitviz/loading/catalog.py" in line or "vitviz/loading/models.py" in line for line in loud)
    assert loud[-1] == quiet.strip()  # the same one-line message ends it


def test_paper_command_writes_one_offline_html_with_every_figure(tmp_path, capsys):
    import re

    from conftest import SAMPLES

    out = tmp_path / "paper"
    images = [str(SAMPLES / "cat.jpg"), str(SAMPLES / "rocket.jpg")]
    assert main(["paper", *images, "--model", "vit_tiny_patch16_224.augreg_in21k_ft_in1k", "--untrained",
                 "--device", "cpu", "--out", str(out)]) == 0
    html_files = list(out.glob("paper-figures-*.html"))
    assert len(html_files) == 1 and str(html_files[0]) in capsys.readouterr().out
    text = html_files[0].read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=[\"']https?:", text)  # opens offline
    assert text.count("Plotly.newPlot(") >= 6 and "(untrained)" in text
    assert "cat" in text and "rocket" in text  # Fig. 6 names the images it was given
