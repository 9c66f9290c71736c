"""Shared fixtures: small random-init timm models, and the real weights folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from browser_harness import browser, fresh, server  # noqa: F401  (the browser tests' fixtures, for every module)
from vitviz.inputs.images import SAMPLES  # noqa: F401  (the bundled photos, for the tests)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_WEIGHTS = REPO.parent / "shared" / "weights"

# Tests never reach the network: timm's hub path must fail fast, not retry for a minute.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))


def make_vit(name: str = "vit_tiny_patch16_224", **kwargs) -> torch.nn.Module:
    """A small random-init timm ViT in eval mode (seeded, so tests are repeatable)."""
    import timm

    torch.manual_seed(0)
    kwargs.setdefault("dynamic_img_size", True)
    return timm.create_model(name, pretrained=False, **kwargs).eval()


@pytest.fixture(scope="session")
def tiny_vit() -> torch.nn.Module:
    return make_vit(depth=4)


#: timm's ImageNet preprocessing (a ViT-B/16-style data config) for the random models.
IMAGENET_CONFIG = {"input_size": (3, 224, 224), "interpolation": "bicubic", "mean": (0.485, 0.456, 0.406),
                   "std": (0.229, 0.224, 0.225), "crop_pct": 0.875, "crop_mode": "center"}


@pytest.fixture(scope="module")
def tiny_loaded():
    """A random 3-block ViT-Ti/16 as a :class:`LoadedModel` on the CPU (one per test module)."""
    from vitviz.loading.models import LoadedModel
    from vitviz.loading.registry import ModelSpec

    spec = ModelSpec(name="vit_tiny_patch16_224", label="tiny", family="ViT")
    return LoadedModel(spec=spec, model=make_vit(depth=3), device=torch.device("cpu"), dtype=torch.float32,
                       source="untrained", data_config=dict(IMAGENET_CONFIG))


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    """The real weights folder; fails (not skips) with a clear message when it is absent."""
    folder = Path(os.environ.get("VITVIZ_WEIGHTS_DIR", DEFAULT_WEIGHTS))
    if not folder.is_dir() or not any(folder.glob("*.safetensors")):
        pytest.fail(f"pretrained weights folder {folder} is missing or empty: set VITVIZ_WEIGHTS_DIR "
                    f"to a folder in the format of shared/weights/README.md (CI has ../shared/weights)")
    return folder


@pytest.fixture(scope="session")
def sample_paths() -> list[Path]:
    paths = sorted(SAMPLES.glob("*.jpg"))
    assert paths, f"no sample images in {SAMPLES}"
    return paths


def damaged_tiff() -> bytes:
    """A two-frame TIFF whose second frame has no width: Pillow raises ``TypeError('Missing dimensions')``
    when the frames are counted (not an OSError)."""
    import io
    import struct

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, "TIFF", save_all=True, append_images=[Image.new("RGB", (8, 8))])
    data = bytearray(buf.getvalue())
    width_tag = bytes(data).rfind(struct.pack("<HH", 256, 4))  # ImageWidth, LONG, in the second IFD
    data[width_tag:width_tag + 2] = struct.pack("<H", 990)
    return bytes(data)


@pytest.fixture(scope="session")
def two_vit_folder(weights_dir, tmp_path_factory):
    """The real DINOv2 ViT-S/14 beside a random ViT-Ti/16 saved as local weights ("ViT-Ti/16 (random)")."""
    import hashlib
    import json

    import timm
    import torch
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("weights")
    for f in weights_dir.glob("vit_small_patch14_dinov2.imgfocus.*"):
        (folder / f.name).symlink_to(f)
    torch.manual_seed(0)
    tiny = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=10)
    save_file({k: v.contiguous() for k, v in tiny.state_dict().items()}, folder / "tiny16.safetensors")
    digest = hashlib.sha256((folder / "tiny16.safetensors").read_bytes()).hexdigest()
    (folder / "tiny16.json").write_text(json.dumps({
        "architecture": "vit_tiny_patch16_224", "kwargs": {"num_classes": 10}, "num_classes": 10,
        "label": "ViT-Ti/16 (random, for a test)", "family": "ViT", "input_size": [3, 224, 224],
        "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "sha256": digest}))
    return folder
