"""The Hugging Face hub path, for real but without internet: a local fake hub (tests/fakehub.py).

timm's ``create_model(NAME, pretrained=True)`` asks the hub for ``timm/NAME``'s ``model.safetensors``
only (no config.json for a registry tag); the fake hub serves random weights of that architecture.
"""
from __future__ import annotations

import hashlib
import json
import socket
import time
from pathlib import Path

import pytest
import torch

from conftest import SAMPLES
from fakehub import FakeHub
from vitviz.cli.main import main
from vitviz.loading.models import load_model

NAME = "vit_tiny_patch16_224.augreg_in21k_ft_in1k"
REPO_ID = f"timm/{NAME}"
PROGRESS = f"vitviz: downloading {NAME} from the Hugging Face hub ({REPO_ID})"
# huggingface_hub's own retry warnings; vitviz must summarise them, not let them through.
HUB_NOISE = ("Retrying in", "Error while downloading", "HTTP Error", "Trying to resume", "Traceback")


@pytest.fixture(scope="module")
def served() -> dict[str, torch.Tensor]:
    """Random (seeded) weights of vit_tiny_patch16_224, the architecture of NAME."""
    import timm

    torch.manual_seed(0)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False)
    return {k: v.contiguous() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def served_bytes(served) -> bytes:
    from safetensors.torch import save

    return save(served)


def point_hub_at(monkeypatch: pytest.MonkeyPatch, url: str, home: Path) -> None:
    """Send vitviz and huggingface_hub to ``url``, with a fresh cache under ``home``.

    huggingface_hub reads its environment once, at import (long before this test), so its
    constants are patched as well as the variables vitviz reads.
    """
    import huggingface_hub.constants as constants

    cache = home / "hub"
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # conftest turns it on for every other test
    monkeypatch.setenv("VITVIZ_HUB_TIMEOUT", "2")
    monkeypatch.setattr(constants, "ENDPOINT", url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    if hasattr(constants, "AGENT_HARNESSES_PATH"):  # a registry huggingface_hub caches in HF_HOME
        monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(home / ".agent_harnesses.json"))


@pytest.fixture
def hub(served_bytes, monkeypatch, tmp_path):
    with FakeHub({REPO_ID: {"model.safetensors": served_bytes}}) as fake:
        point_hub_at(monkeypatch, fake.url, tmp_path / "hf")
        yield fake


def weights_requests(fake: FakeHub) -> list[tuple[str, str]]:
    return [(method, path) for method, path in fake.requests if path.startswith(f"/{REPO_ID}/")]


def test_download_writes_a_weights_folder_that_loads_back(hub, served, tmp_path, capsys, monkeypatch):
    dest = tmp_path / "weights"
    assert main(["download", NAME, "--to", str(dest)]) == 0
    out, err = capsys.readouterr()
    assert PROGRESS in err
    assert out.strip() == f"saved {dest / (NAME + '.safetensors')}"
    # timm asks for the safetensors file only: no config.json, no pytorch_model.bin.
    assert weights_requests(hub) == [("HEAD", f"/{REPO_ID}/resolve/main/model.safetensors"),
                                     ("GET", f"/{REPO_ID}/resolve/main/model.safetensors")]
    assert sorted(p.name for p in dest.iterdir()) == [f"{NAME}.json", f"{NAME}.safetensors"]
    meta = json.loads((dest / f"{NAME}.json").read_text())
    assert set(meta) == {"architecture", "kwargs", "num_classes", "label", "family", "description",
                         "input_size", "mean", "std", "sha256"}
    assert meta["sha256"] == hashlib.sha256((dest / f"{NAME}.safetensors").read_bytes()).hexdigest()
    assert meta["architecture"] == NAME and meta["num_classes"] == 1000 and meta["input_size"] == [3, 224, 224]
    assert meta["mean"] == [0.5, 0.5, 0.5]  # augreg weights' own preprocessing, not ImageNet's

    monkeypatch.setenv("VITVIZ_VERIFY_SHA256", "1")  # the loader checks the sidecar's checksum
    loaded = load_model(NAME, weights_dir=dest, device="cpu", use_cache=False)
    assert loaded.source == f"local:{dest / (NAME + '.safetensors')}"
    state = loaded.model.state_dict()
    assert set(state) == set(served)
    assert all(torch.equal(state[k], served[k]) for k in served)


def test_load_model_calls_progress_before_a_download_only(hub, served, tmp_path):
    messages: list[str] = []
    loaded = load_model(NAME, weights_dir=tmp_path / "empty", device="cpu", use_cache=False,
                        progress=messages.append)
    assert messages == [PROGRESS.removeprefix("vitviz: ")]
    assert loaded.source == "hub"
    assert torch.equal(loaded.model.state_dict()["pos_embed"], served["pos_embed"])
    asked = len(hub.requests)
    again = load_model(NAME, weights_dir=tmp_path / "empty", device="cpu", use_cache=False,
                       progress=messages.append)
    assert len(messages) == 1 and len(hub.requests) == asked  # from the cache, without the hub
    assert again.source.startswith(f"hub-cache:{tmp_path / 'hf' / 'hub'}")


def test_cli_loads_from_the_hub_then_offline_from_the_cache(hub, tmp_path, capsys, monkeypatch):
    import huggingface_hub.constants as constants

    def analyze(weights_dir: str, out: str) -> dict:
        (tmp_path / weights_dir).mkdir(exist_ok=True)  # an empty weights folder (a missing one is an error)
        args = ["analyze", str(SAMPLES / "cat.jpg"), "--model", NAME, "--weights-dir", str(tmp_path / weights_dir),
                "--device", "cpu", "--image-size", "64", "--out", str(tmp_path / out)]
        assert main(args) == 0
        return json.loads((tmp_path / out / "cat" / "summary.json").read_text())

    assert analyze("empty", "online")["weights"] == "hub"
    assert PROGRESS in capsys.readouterr().err

    hub.close()  # from here on, no hub at all, and huggingface_hub may not ask one
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    # Another (empty) weights folder, so load_model's in-memory cache cannot answer.
    summary = analyze("empty2", "offline")
    assert summary["weights"].startswith(f"hub-cache:{tmp_path / 'hf' / 'hub'}")
    assert "downloading" not in capsys.readouterr().err


@pytest.mark.parametrize("fault, says", [
    ("404", "HTTP 404, the hub has no such repository"),
    ("500", "the hub answered HTTP 500"),
    ("stall", "gave up after 2 s without progress (the hub did not answer)"),
    ("stall-body", "gave up after 2 s without progress"),
    ("truncate", "the connection closed before the file was complete"),
])
def test_a_failing_hub_gives_one_line_and_no_partial_file(hub, tmp_path, capfd, fault, says):
    hub.fault = fault
    dest = tmp_path / "weights"
    start = time.monotonic()
    assert main(["download", NAME, "--to", str(dest)]) == 2
    assert time.monotonic() - start < 10
    err = capfd.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("vitviz: error:")]
    assert len(errors) == 1, err
    assert errors[0].startswith(f"vitviz: error: could not download '{NAME}' from {hub.url}/{REPO_ID}: ")
    assert says in errors[0] and len(errors[0]) < 250
    assert not [noise for noise in HUB_NOISE if noise in err], err
    assert list(dest.iterdir()) == []  # no .part, no .safetensors, no .json


def test_loading_from_a_failing_hub_names_the_model_and_the_fix(hub, tmp_path, capfd):
    hub.fault = "500"
    (tmp_path / "empty").mkdir()  # an empty weights folder (a missing one is an error)
    args = ["analyze", str(SAMPLES / "cat.jpg"), "--model", NAME, "--weights-dir", str(tmp_path / "empty"),
            "--device", "cpu", "--out", str(tmp_path / "out")]
    assert main(args) == 2
    err = capfd.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("vitviz: error:")]
    assert len(errors) == 1 and not [noise for noise in HUB_NOISE if noise in err], err
    assert f"no pretrained weights for '{NAME}'" in errors[0]
    assert "the hub answered HTTP 500" in errors[0] and f"python -m vitviz download {NAME}" in errors[0]
    assert not (tmp_path / "out").exists()  # nothing written for a model that did not load


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def silent_url():
    """An address whose connections are never answered, like a host behind a dropping firewall.

    A listening socket whose accept queue is full makes Linux drop further SYNs, so connecting
    waits until it times out. (An "unroutable" 10.x address is no good: a sandbox's proxy may
    answer every address.)
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    queued = []
    try:
        while True:  # fill the queue until a connection attempt goes unanswered
            client = socket.socket()
            client.settimeout(0.3)
            queued.append(client)
            client.connect(server.getsockname())
    except OSError:
        pass
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    for client in queued:
        client.close()
    server.close()


@pytest.mark.parametrize("where", ["closed-port", "silent"])
def test_download_without_network_says_so_quickly(where, silent_url, monkeypatch, tmp_path, capsys):
    url = closed_port_url() if where == "closed-port" else silent_url
    point_hub_at(monkeypatch, url, tmp_path / "hf")
    dest = tmp_path / "weights"
    start = time.monotonic()
    assert main(["download", NAME, "--to", str(dest)]) == 2
    elapsed = time.monotonic() - start
    assert elapsed < 10 and (where == "closed-port" or elapsed > 2)  # the silent one waits out the 3 s probe
    err = capsys.readouterr().err.strip()
    assert err == (f"vitviz: error: could not download '{NAME}' from {url}/{REPO_ID}: "
                   f"cannot connect to the hub from this machine (no network?)")
    assert list(dest.iterdir()) == []


def test_download_with_hf_hub_offline_names_the_setting(monkeypatch, tmp_path, capsys):
    point_hub_at(monkeypatch, closed_port_url(), tmp_path / "hf")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["download", NAME, "--to", str(tmp_path / "weights")]) == 2
    err = capsys.readouterr().err
    assert f"'{NAME}'" in err and "HF_HUB_OFFLINE is set" in err and len(err.strip().splitlines()) == 1


def test_the_app_downloads_from_the_hub_with_visible_progress(hub, served, monkeypatch, tmp_path):
    """The dashboard picks a model that is only on the hub: a status box says so while it downloads."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from conftest import REPO

    st.cache_resource.clear()  # the app caches which models are available (30 s): this hub is new
    monkeypatch.setenv("VITVIZ_WEIGHTS_DIR", str(tmp_path / "empty"))
    at = AppTest.from_file(str(REPO / "app" / "vitviz_app.py"), default_timeout=180)
    at.query_params["model"] = NAME
    at.query_params["sample"] = "cat"
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    boxes = [b for b in at.get("status") if "Hugging Face hub" in b.label]
    assert boxes and boxes[0].label.startswith("Downloaded ") and boxes[0].state == "complete"
    assert ("GET", f"/{REPO_ID}/resolve/main/model.safetensors") in weights_requests(hub)
    assert not any("untrained" in m.value for m in at.markdown)  # real (hub) weights, not random ones


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on"])
def test_the_hub_check_never_touches_the_network_when_offline(value, monkeypatch):
    """The dashboard's picker asks :func:`hub_reachable` every 30 s; with HF_HUB_OFFLINE it must not look up
    or connect to the hub at all (it did, every 30-60 s)."""
    import vitviz.loading.models as models

    def no_network(*args, **kwargs):
        raise AssertionError(f"the network was touched: {args}")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(models, "_reachable", {})  # nothing remembered from an earlier check
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    assert models.hub_reachable() is False
    assert models.hub_reachable(timeout=1.5) is False
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # off again: the check does connect (and meets the stub)
    with pytest.raises(AssertionError, match="network was touched"):
        models.hub_reachable()
