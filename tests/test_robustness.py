"""Bad input, faults and security: every case gets a clear message, and nothing breaks."""
import io
import re
import subprocess
import sys

import numpy as np
import pytest
import streamlit as st
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import REPO, SAMPLES, damaged_tiff
from vitviz.errors import ImageError
from vitviz.inputs.images import load_image
from vitviz.inputs.preprocess import prepare_image

CONFIG = {"input_size": (3, 224, 224), "interpolation": "bicubic", "mean": (0.5,) * 3, "std": (0.5,) * 3,
          "crop_pct": 0.875, "crop_mode": "center"}


def encode(image, fmt, **kw):
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def palette_with_transparency():
    image = Image.new("P", (30, 20), 1)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(0, (0, 0, 10, 20))  # left third red, the rest index 1 (transparent)
    return encode(image, "PNG", transparency=1)


def bomb():
    return encode(Image.new("1", (50_000, 50_000)), "PNG")  # claims 2.5 gigapixels, a few hundred KB


ODD_BUT_VALID = {
    "CMYK JPEG": (encode(Image.new("CMYK", (30, 20), (0, 255, 255, 0)), "JPEG"), (30, 20), (255, 0, 0)),
    "16-bit PNG": (encode(Image.fromarray((np.arange(600, dtype=np.uint16) * 100).reshape(20, 30)), "PNG"),
                   (30, 20), (0, 0, 0)),
    "16-bit TIFF": (encode(Image.fromarray((np.arange(600, dtype=np.uint16) * 100).reshape(20, 30)), "TIFF"),
                    (30, 20), (0, 0, 0)),
    "palette with transparency": (palette_with_transparency(), (30, 20), (255, 0, 0)),
    "LA": (encode(Image.new("LA", (30, 20), (100, 0)), "PNG"), (30, 20), (255, 255, 255)),
    "grayscale": (encode(Image.new("L", (30, 20), 100), "PNG"), (30, 20), (100, 100, 100)),
    "1×1": (encode(Image.new("RGB", (1, 1), (1, 2, 3)), "PNG"), (1, 1), (1, 2, 3)),
    "4000×20": (encode(Image.new("RGB", (4000, 20), (7, 8, 9)), "PNG"), (4000, 20), (7, 8, 9)),
    "WebP with alpha": (encode(Image.new("RGBA", (30, 20), (0, 0, 0, 0)), "WEBP", lossless=True), (30, 20),
                        (255, 255, 255)),
    "BMP": (encode(Image.new("RGB", (30, 20), (9, 9, 9)), "BMP"), (30, 20), (9, 9, 9)),
}

BAD = {
    "0-byte file": (b"", "empty"),
    "random bytes named .jpg": (bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)), "not an image"),
    "truncated PNG": (encode(Image.new("RGB", (64, 64), (5, 5, 5)), "PNG")[:60], "damaged"),
    "PDF": (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n", "not an image"),
    "text file": (b"just some notes\n" * 20, "not an image"),
    "SVG": (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="9" height="9"/></svg>',
            "not an image"),
    "decompression bomb": (bomb(), "megapixels"),
    "TIFF frame without a width": (damaged_tiff(), r"damaged.{0,4}Missing dimensions"),  # app: "\(" escaped
    "EPS named .jpg": (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n%%EndComments\nshowpage\n%%EOF\n",
                       "not an image format"),
}


@pytest.mark.parametrize("case", list(ODD_BUT_VALID))
def test_odd_but_valid_images_become_rgb(case):
    data, size, first_pixel = ODD_BUT_VALID[case]
    image = load_image(data)
    assert image.mode == "RGB" and image.size == size
    assert image.getpixel((0, 0)) == first_pixel
    prepared = prepare_image(image, CONFIG)
    assert prepared.tensor.shape == (1, 3, 224, 224) and torch.isfinite(prepared.tensor).all()


@pytest.mark.parametrize("case", list(BAD))
def test_bad_files_raise_one_clear_image_error(case):
    data, message = BAD[case]
    with pytest.raises(ImageError, match=message) as err:
        load_image(data)
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------- property-based
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hs.binary(max_size=2048))
def test_random_bytes_give_rgb_or_image_error(data):
    try:
        image = load_image(data)
    except ImageError:
        return
    assert image.mode == "RGB" and image.size[0] > 0 and image.size[1] > 0


MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"]
FORMATS = {"PNG": {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}, "TIFF": {"1", "L", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"},
           "GIF": {"1", "L", "P"}, "BMP": {"1", "L", "P", "RGB"}, "JPEG": {"L", "RGB", "CMYK"}, "WEBP": {"RGB", "RGBA"}}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mode=hs.sampled_from(MODES), fmt=hs.sampled_from(sorted(FORMATS)), width=hs.integers(1, 64),
       height=hs.integers(1, 64), seed=hs.integers(0, 2**16), orientation=hs.sampled_from([None, 3, 6, 8]))
def test_valid_odd_images_keep_their_size(mode, fmt, width, height, seed, orientation):
    if mode not in FORMATS[fmt]:
        return
    rng = np.random.default_rng(seed)
    rgb = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    image = rgb.convert(mode) if mode not in ("I;16", "I", "F") else rgb.convert("L").convert(mode)
    kwargs = {}
    if orientation is not None and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif
    data = encode(image, fmt, **kwargs)
    out = load_image(data)
    assert out.mode == "RGB"
    rotated = "exif" in kwargs and orientation in (6, 8)
    assert out.size == ((height, width) if rotated else (width, height))


# ----------------------------------------------------------------------------- CLI
def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "vitviz", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=180, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("case", ["random bytes named .jpg", "SVG", "decompression bomb", "0-byte file"])
def test_cli_bad_image_is_one_line_and_nonzero(case, tmp_path):
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(BAD[case][0])
    result = run_cli("analyze", str(bad), "--model", "vit_tiny_patch16_224.augreg_in21k_ft_in1k", "--untrained",
                     "--out", str(tmp_path / "o"))
    assert result.returncode == 2, result.stderr
    assert re.search(BAD[case][1], result.stderr) and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_folders_and_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_cli("analyze", str(tmp_path / "empty"), "--model", "vit_tiny_patch16_224.augreg_in21k_ft_in1k",
                     "--untrained", "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "holds no images" in result.stderr and "Traceback" not in result.stderr
    from vitviz.cli.common import expand_images

    assert [p.name for p in expand_images([str(SAMPLES)])][:2] == ["astronaut.jpg", "cat.jpg"]


# ----------------------------------------------------------------------------- the app
@pytest.fixture()
def app(weights_dir, monkeypatch):
    monkeypatch.setenv("VITVIZ_WEIGHTS_DIR", str(weights_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    st.cache_resource.clear()
    at = AppTest.from_file(str(REPO / "app" / "vitviz_app.py"), default_timeout=180)
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize("case", list(BAD))
def test_app_bad_upload_shows_one_message(app, case):
    data, message = BAD[case]
    app.radio(key="vv_source").set_value("Upload").run()
    app.file_uploader(key="vv_upload").upload("phone.jpg", data, "image/jpeg").run()
    assert not app.exception
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and re.search(message, errors[0]) and "\n" not in errors[0]
    app.radio(key="vv_source").set_value("Sample").run()
    assert not app.error and app.get("plotly_chart")


def test_app_falls_back_to_cpu_when_the_gpu_runs_out_of_memory(app, monkeypatch):
    import vitviz.run.pipeline as pipeline

    real, calls = pipeline.iter_analyses, []

    def flaky(loaded, prepared, **kw):  # the app's forwards go through vitviz.run.serving, which calls this
        calls.append(str(loaded.device))
        if len(calls) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(loaded, prepared, **kw)

    st.cache_resource.clear()
    monkeypatch.setattr(pipeline, "iter_analyses", flaky)
    app.selectbox(key="vv_sample").set_value("coffee").run()
    assert not app.exception and not app.error, [e.value for e in app.error]  # reran on the CPU by itself
    assert any("GPU ran out of memory" in c.value for c in app.sidebar.caption)
    assert len(calls) == 2 and app.get("plotly_chart")
    app.selectbox(key="vv_sample").set_value("flower").run()  # the session stays on the CPU
    assert any("ran out of memory earlier" in c.value for c in app.sidebar.caption)


def test_app_failed_model_load_leaves_nothing_broken(app, monkeypatch, caplog):
    import vitviz.loading.models as models

    real, calls = models._load_local, []

    def fails_once(spec, local):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk read failed halfway")
        return real(spec, local)

    st.cache_resource.clear()
    monkeypatch.setattr(models, "_load_local", fails_once)
    with caplog.at_level("ERROR", logger="vitviz.app"):
        app.run()
    assert not app.exception
    eid = re.search(r"Error id `([0-9a-f]{8})`", next(e.value for e in app.error))[1]
    assert any(eid in r.getMessage() and "disk read failed" in r.getMessage() for r in caplog.records)
    app.run()
    assert not app.error and app.get("plotly_chart") and len(calls) == 2


# ----------------------------------------------------------------------------- security
def app_sources():
    return {p: p.read_text() for p in (REPO / "app").rglob("*.py")}


def test_no_unsafe_html_and_no_upload_written_to_disk():
    for path, text in app_sources().items():
        assert "unsafe_allow_html" not in text, path
        assert not re.search(r"\bopen\(|write_bytes|write_text|\.save\(|NamedTemporaryFile", text), path


def test_xsrf_protection_on_and_upload_limit_set():
    import tomllib

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert 0 < config["server"]["maxUploadSize"] <= 50


@pytest.mark.parametrize("fault, message", [
    ("truncated", "cannot read weights file"),
    ("pickle", "cannot read weights file"),
    ("shapes", "does not fit architecture"),
])
def test_cli_weights_faults_are_one_line(fault, message, tmp_path):
    import json

    import timm
    from safetensors.torch import save_file

    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "mine.json").write_text(json.dumps({"architecture": "vit_tiny_patch16_224", "kwargs": {"depth": 1}}))
    state = {k: v.contiguous() for k, v in timm.create_model("vit_tiny_patch16_224", depth=1).state_dict().items()}
    if fault == "truncated":
        save_file(state, str(folder / "mine.safetensors"))
        data = (folder / "mine.safetensors").read_bytes()
        (folder / "mine.safetensors").write_bytes(data[: len(data) // 3])
    elif fault == "pickle":
        torch.save({"weights": state["cls_token"], "callback": subprocess.Popen}, folder / "mine.pth")
    else:
        state["pos_embed"] = torch.zeros(1, 50, 192)
        save_file(state, str(folder / "mine.safetensors"))
    result = run_cli("analyze", str(SAMPLES / "cat.jpg"), "--model", "mine", "--weights-dir", str(folder),
                     "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
