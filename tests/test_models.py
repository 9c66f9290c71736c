"""Model loading: weights folder format, hub path (mocked), errors, labels and cache."""
import json

import pytest
import torch
from safetensors.torch import save_file

from conftest import make_vit
from vitviz.loading import models
from vitviz.loading.catalog import get_spec, list_models, weights_source
from vitviz.errors import UnknownModelError, VitvizError, WeightsError, WeightsNotFoundError
from vitviz.loading.models import clear_model_cache, load_model

TINY_TAG = "vit_tiny_patch16_224.augreg_in21k_ft_in1k"


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_model_cache()
    yield
    clear_model_cache()


def tiny_state(**kwargs):
    kwargs.setdefault("depth", 2)
    return {k: v.contiguous() for k, v in make_vit(**kwargs).state_dict().items()}


@pytest.fixture()
def folder(tmp_path):
    """A weights folder with one model in the documented format (sidecar JSON)."""
    state = tiny_state(num_classes=10)
    save_file(state, str(tmp_path / "my-tiny.safetensors"))
    (tmp_path / "my-tiny.json").write_text(json.dumps({
        "architecture": "vit_tiny_patch16_224",
        "kwargs": {"depth": 2},
        "num_classes": 10,
        "label": "My tiny ViT",
        "family": "Test",
        "description": "two blocks",
        "input_size": [3, 160, 160],
        "mean": [0.5, 0.5, 0.5],
        "std": [0.25, 0.25, 0.25],
    }))
    return tmp_path, state


def test_local_folder_with_sidecar(folder):
    path, state = folder
    loaded = load_model("my-tiny", weights_dir=path, device="cpu")
    assert loaded.source == f"local:{path / 'my-tiny.safetensors'}"
    assert loaded.pretrained and loaded.label == "My tiny ViT"
    assert loaded.spec.family == "Test" and loaded.num_classes == 10
    assert len(loaded.model.blocks) == 2
    assert loaded.data_config["input_size"] == (3, 160, 160)
    assert loaded.data_config["mean"] == (0.5, 0.5, 0.5) and loaded.data_config["std"] == (0.25, 0.25, 0.25)
    for key, value in loaded.model.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert not loaded.model.training


def test_a_weights_file_spares_the_random_initialisation(folder, monkeypatch):
    """The file overwrites every weight, so the model is built on the meta device (shapes only) and given
    the file's values; a model with a buffer no file carries (non-persistent) is built the usual way."""
    path, state = folder
    spec = get_spec("my-tiny", path)
    bare = models._create_uninitialised(spec)
    assert all(t.is_meta for t in bare.state_dict().values())
    loaded = load_model("my-tiny", weights_dir=path, device="cpu", use_cache=False)
    assert not any(t.is_meta for t in [*loaded.model.parameters(), *loaded.model.buffers()])

    class DerivedBuffer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = torch.nn.Linear(2, 2)
            self.register_buffer("table", torch.arange(4.0), persistent=False)  # computed, never saved

    class DerivedAttribute(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = torch.nn.Linear(2, 2)
            self.scale = torch.full((2,), 0.5)  # a plain tensor attribute: not in any state dict

    for cls, name, value in ((DerivedBuffer, "table", torch.arange(4.0)),
                             (DerivedAttribute, "scale", torch.full((2,), 0.5))):
        monkeypatch.setattr(models, "_create", lambda spec, pretrained, cls=cls, **kwargs: cls())
        built = models._create_uninitialised(spec)
        assert not getattr(built, name).is_meta and torch.equal(getattr(built, name), value)


def test_env_var_names_the_folder(folder, monkeypatch):
    path, _ = folder
    monkeypatch.setenv("VITVIZ_WEIGHTS_DIR", str(path))
    assert load_model("my-tiny").source.startswith("local:")
    assert list_models()[0].name == "my-tiny"
    assert weights_source(get_spec("my-tiny")) == f"local: {path / 'my-tiny.safetensors'}"


def test_timm_tag_without_sidecar_and_pth_file(tmp_path):
    state = tiny_state(num_classes=1000, depth=12)  # the tag's own architecture and head
    torch.save(state, tmp_path / f"{TINY_TAG}.pth")
    loaded = load_model(TINY_TAG, weights_dir=tmp_path, device="cpu")
    assert loaded.source.endswith(".pth") and loaded.num_classes == 1000
    assert loaded.spec.family == "ViT"  # registry facts fill what the folder does not say
    assert torch.equal(loaded.model.pos_embed, state["pos_embed"])


def test_shape_mismatch_is_a_clear_error(folder):
    path, _ = folder
    save_file(tiny_state(num_classes=10, embed_dim=96, num_heads=3), str(path / "my-tiny.safetensors"))
    with pytest.raises(WeightsError, match="does not fit architecture 'vit_tiny_patch16_224'.*shape mismatch"):
        load_model("my-tiny", weights_dir=path)


def test_truncated_safetensors_is_refused(folder):
    path, _ = folder
    data = (path / "my-tiny.safetensors").read_bytes()
    (path / "my-tiny.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="cannot read weights file"):
        load_model("my-tiny", weights_dir=path)


class Payload:
    """Any object that would need arbitrary unpickling."""


def test_pth_needing_arbitrary_unpickling_is_refused(tmp_path):
    torch.save({"pos_embed": torch.zeros(1), "payload": Payload()}, tmp_path / "evil.pth")
    (tmp_path / "evil.json").write_text(json.dumps({"architecture": "vit_tiny_patch16_224"}))
    with pytest.raises(WeightsError, match="cannot read weights file"):
        load_model("evil", weights_dir=tmp_path)


def test_missing_weights_offline_says_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "hub_reachable", lambda *a, **k: False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(WeightsNotFoundError) as err:
        load_model(TINY_TAG, weights_dir=tmp_path)
    text = str(err.value)
    assert str(tmp_path) in text and f"timm/{TINY_TAG}" in text
    assert f"python -m vitviz download {TINY_TAG} --to DIR" in text
    assert models.cached_model_keys() == []


def test_unknown_model_suggests_close_names():
    with pytest.raises(UnknownModelError, match="vit_base_patch16_224"):
        load_model("vit_base_patch16_224.augreg2_in21k_ft_in1kk")
    with pytest.raises(UnknownModelError, match="python -m vitviz models"):
        get_spec("qwertyuiop")


def test_untrained_is_labelled_and_never_a_silent_fallback(monkeypatch, tmp_path):
    loaded = load_model(TINY_TAG, pretrained=False, device="cpu")
    assert loaded.source == "untrained" and not loaded.pretrained
    assert loaded.label.endswith("(untrained)")
    monkeypatch.setattr(models, "hub_reachable", lambda *a, **k: False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(WeightsNotFoundError):
        load_model(TINY_TAG, device="cpu")  # pretrained=True must not reuse the untrained entry


def test_cache_per_key_and_failed_load_not_cached(folder, monkeypatch):
    path, _ = folder
    a = load_model("my-tiny", weights_dir=path, device="cpu")
    assert load_model("my-tiny", weights_dir=path, device="cpu") is a
    assert load_model("my-tiny", weights_dir=path, device="cpu", pretrained=False) is not a
    clear_model_cache()

    calls = {"n": 0}
    real = models._load_local

    def flaky(spec, local):
        calls["n"] += 1
        if calls["n"] == 1:
            raise WeightsError("disk hiccup")
        return real(spec, local)

    monkeypatch.setattr(models, "_load_local", flaky)
    with pytest.raises(WeightsError, match="hiccup"):
        load_model("my-tiny", weights_dir=path)
    assert models.cached_model_keys() == []
    assert load_model("my-tiny", weights_dir=path).pretrained  # next attempt works


def test_device_and_dtype_choices(folder):
    path, _ = folder
    assert models.resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert models.resolve_device("cpu").type == "cpu"
    with pytest.raises(VitvizError, match="dtype"):
        models.resolve_dtype("float64", torch.device("cpu"))
    with pytest.raises(VitvizError, match="only supported on CUDA"):
        load_model("my-tiny", weights_dir=path, device="cpu", dtype="bfloat16")
    if not torch.cuda.is_available():
        with pytest.raises(VitvizError, match="no CUDA GPU"):
            load_model("my-tiny", weights_dir=path, device="cuda")


# ----------------------------------------------------------------------------- the hub path, mocked
@pytest.fixture()
def fake_hub(tmp_path, monkeypatch):
    """Serve a random tiny ViT as the hub's copy of TINY_TAG, through timm's own download code."""
    import timm.models._hub as hub

    served = tiny_state(num_classes=1000, depth=12)
    file = tmp_path / "served" / "model.safetensors"
    file.parent.mkdir()
    save_file(served, str(file))
    requests = []

    def fake_download(repo_id, filename, **kwargs):
        requests.append((repo_id, filename))
        return str(file)

    monkeypatch.setattr(hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(models, "hub_reachable", lambda *a, **k: True)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # conftest sets it; vitviz now honours it
    return served, requests


def test_hub_path_used_when_no_local_weights(fake_hub, tmp_path):
    served, requests = fake_hub
    loaded = load_model(TINY_TAG, weights_dir=tmp_path / "nothing-here", device="cpu")
    assert loaded.source == "hub" and requests[0][0] == f"timm/{TINY_TAG}"
    assert torch.equal(loaded.model.cls_token, served["cls_token"])


def test_hub_cache_is_used_without_network(tmp_path, monkeypatch):
    cache = tmp_path / "hf"
    snap = cache / f"models--timm--{TINY_TAG}" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (cache / f"models--timm--{TINY_TAG}" / "refs").mkdir()
    (cache / f"models--timm--{TINY_TAG}" / "refs" / "main").write_text("abc123")
    served = tiny_state(num_classes=1000, depth=12)
    save_file(served, str(snap / "model.safetensors"))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(models, "hub_reachable", lambda *a, **k: pytest.fail("must not probe the network"))
    loaded = load_model(TINY_TAG, device="cpu")
    assert loaded.source.startswith("hub-cache:")
    assert torch.equal(loaded.model.pos_embed, served["pos_embed"])


@pytest.mark.parametrize("var", ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"])
def test_the_hub_cache_is_found_where_huggingface_hub_looks_and_refs_main_is_the_snapshot(tmp_path, monkeypatch, var):
    """The cache was looked up in ~/.cache/huggingface/hub whatever the environment said, and the first
    snapshot by name was taken, not the one refs/main names."""
    from vitviz.loading.weights import hub_cached_file

    base = tmp_path / "somewhere"
    cache = {"HF_HUB_CACHE": base, "HUGGINGFACE_HUB_CACHE": base, "HF_HOME": base / "hub",
             "XDG_CACHE_HOME": base / "huggingface" / "hub"}[var]
    for other in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(var, str(base))
    repo = cache / f"models--timm--{TINY_TAG}"
    for commit in ("aaa-old", "zzz-new"):
        (repo / "snapshots" / commit).mkdir(parents=True)
        (repo / "snapshots" / commit / "model.safetensors").write_bytes(commit.encode())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("zzz-new")
    found = hub_cached_file(TINY_TAG)
    assert found is not None and found.read_bytes() == b"zzz-new"


def test_download_writes_a_folder_that_loads_offline(fake_hub, tmp_path, monkeypatch):
    from vitviz.cli.main import main

    served, _ = fake_hub
    out = tmp_path / "classroom"
    assert main(["download", TINY_TAG, "--to", str(out)]) == 0
    meta = json.loads((out / f"{TINY_TAG}.json").read_text())
    assert meta["architecture"] == TINY_TAG and meta["num_classes"] == 1000
    assert len(meta["sha256"]) == 64 and meta["input_size"] == [3, 224, 224]
    assert not list(out.glob("*.part"))
    monkeypatch.setattr(models, "hub_reachable", lambda *a, **k: False)
    monkeypatch.setenv("VITVIZ_VERIFY_SHA256", "1")
    loaded = load_model(TINY_TAG, weights_dir=out, device="cpu")
    assert loaded.source.startswith("local:")
    for key, value in loaded.model.state_dict().items():
        assert torch.equal(value, served[key]), key


# ----------------------------------------------------------------------------- key check vs torch's own
MOBILENET = "mobilenetv2_100.tv_in1k_int8"


def _bn_net():
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                               torch.nn.BatchNorm2d(4, track_running_stats=False))


@pytest.mark.parametrize("version", [None, 1, 2])
def test_tolerated_missing_keys_are_exactly_what_torch_accepts(version):
    """The pre-check forgives a missing key exactly when torch's strict load does (version-2 files do not)."""
    from collections import OrderedDict

    net = _bn_net()
    state = OrderedDict((k, v) for k, v in net.state_dict().items() if k != "1.num_batches_tracked")
    if version is not None:
        state._metadata = {"1": {"version": version}}
    tolerated = models._tolerated_missing(net, state)
    try:
        _bn_net().load_state_dict(state, strict=True)
        torch_accepts = True
    except RuntimeError as exc:
        assert "1.num_batches_tracked" in str(exc)
        torch_accepts = False
    assert torch_accepts == (version != 2)
    assert tolerated == ({"1.num_batches_tracked"} if torch_accepts else set())


def _mobilenet_folder(weights_dir, tmp_path, drop):
    """A copy of the real MobileNetV2 weights and sidecar with the keys ``drop(key)`` selects removed."""
    from safetensors.torch import load_file

    state = load_file(str(weights_dir / f"{MOBILENET}.safetensors"))
    kept = {k: v for k, v in state.items() if not drop(k)}
    save_file(kept, str(tmp_path / f"{MOBILENET}.safetensors"))
    meta = json.loads((weights_dir / f"{MOBILENET}.json").read_text())
    meta.pop("sha256", None)  # the checksum describes the original file, not this copy
    (tmp_path / f"{MOBILENET}.json").write_text(json.dumps(meta))
    return len(state) - len(kept)


@pytest.mark.real_weights
def test_real_weights_without_num_batches_tracked_load_like_torch(weights_dir, tmp_path):
    if not (weights_dir / f"{MOBILENET}.safetensors").exists():
        pytest.skip(f"the weights folder holds no {MOBILENET}")
    dropped = _mobilenet_folder(weights_dir, tmp_path, lambda k: k.endswith(".num_batches_tracked"))
    assert dropped == 52
    original = load_model(MOBILENET, weights_dir=weights_dir, device="cpu")
    stripped = load_model(MOBILENET, weights_dir=tmp_path, device="cpu")
    assert stripped.source == f"local:{tmp_path / MOBILENET}.safetensors"
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        assert torch.equal(original.model(x), stripped.model(x))


@pytest.mark.real_weights
def test_real_weights_missing_a_conv_weight_are_refused_by_name(weights_dir, tmp_path):
    if not (weights_dir / f"{MOBILENET}.safetensors").exists():
        pytest.skip(f"the weights folder holds no {MOBILENET}")
    # The counters are gone too: they must neither be counted nor hide the one real missing weight.
    _mobilenet_folder(weights_dir, tmp_path, lambda k: k.endswith(".num_batches_tracked")
                      or k == "blocks.1.0.conv_pw.weight")
    with pytest.raises(WeightsError) as err:
        load_model(MOBILENET, weights_dir=tmp_path, device="cpu")
    message = str(err.value)
    assert "does not fit architecture 'mobilenetv2_100'" in message
    assert "1 missing keys (e.g. blocks.1.0.conv_pw.weight)" in message and "\n" not in message
