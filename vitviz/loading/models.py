"""Load pretrained timm models: local weights folder first, then the Hugging Face hub.

Load order for a model name (see :func:`load_model`):

1. ``<weights_dir>/<name>.safetensors`` (or ``.pth``/``.bin``, read with ``weights_only=True``),
   built from its ``<name>.json`` sidecar when present;
2. timm's own ``pretrained=True`` path (Hugging Face cache, then the hub);
3. otherwise :class:`~vitviz.errors.WeightsNotFoundError` naming the model, the places
   looked at, and the ``python -m vitviz download`` command.

Random weights are used only when ``pretrained=False`` is asked for, and such a model is
labelled "untrained". ViTs are built with ``dynamic_img_size=True`` so one loaded model
serves every input size that is a multiple of its patch size.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Callable, Optional

import torch
from torch import nn

from vitviz.loading.catalog import get_spec, hub_repo_hint, list_models, weights_source  # noqa: F401 (re-exported)
from vitviz.errors import UnknownModelError, VitvizError, WeightsError, WeightsNotFoundError
from vitviz.model_parts import num_classes
from vitviz.loading.registry import VIT, ModelSpec
from vitviz.loading.weights import (HubDownloadError, LocalWeights, fetch_from_hub, find_local_weights, hub_cached_file, hub_offline,
                      load_state_dict, sha256sum)
from vitviz.loading.weights import weights_dir as resolve_weights_dir

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
MODEL_CACHE_SIZE = 4  # loaded models kept in memory (LRU); a ViT-B is ~350 MB in float32


@dataclass
class LoadedModel:
    """A model ready for analysis, with where its weights came from.

    Attributes:
        spec: the registry/sidecar description.
        model: the timm module, in eval mode, on ``device`` with ``dtype``.
        device / dtype: where it runs.
        source: ``"local:<path>"``, ``"hub"`` or ``"untrained"``.
        data_config: timm data config (input_size, mean, std, interpolation, crop_pct, crop_mode)
            with the sidecar's overrides applied.
    """

    spec: ModelSpec
    model: nn.Module
    device: torch.device
    dtype: torch.dtype
    source: str
    data_config: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pretrained(self) -> bool:
        return self.source != "untrained"

    @property
    def source_name(self) -> str:
        """:attr:`source` as shown to people: a local file by its name only, not the server's folder
        (``"local:/srv/weights/vit.safetensors"`` → ``"local: vit.safetensors"``); ``"hub"`` and
        ``"untrained"`` as they are. The full path stays in :attr:`source` (the CLI's JSON)."""
        return source_name(self.source)

    @property
    def label(self) -> str:
        """The spec's label, marked "(untrained)" for random weights so no one mistakes them."""
        return self.spec.label if self.pretrained else f"{self.spec.label} (untrained)"

    @property
    def num_classes(self) -> int:
        return num_classes(self.model)


def source_name(source: str) -> str:
    """A weights source (:attr:`LoadedModel.source`) with a local path cut to its file name:
    ``source_name("local:/srv/weights/vit.safetensors") == "local: vit.safetensors"`` (Windows paths too)."""
    kind, sep, where = source.partition(":")
    if not sep or kind != "local":
        return source
    path = where.strip()
    name = PureWindowsPath(path).name if "\\" in path else PurePosixPath(path).name
    return f"local: {name}"


# --------------------------------------------------------------------------- device and dtype
def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA when available, else CPU; asking for absent CUDA is an error."""
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise VitvizError("CUDA was requested but no CUDA GPU is available; use device 'cpu' or 'auto'")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise VitvizError(f"unknown device '{device}': use auto, cpu or cuda") from exc


def resolve_dtype(dtype: str | torch.dtype, device: torch.device) -> torch.dtype:
    """float32 everywhere; bfloat16/float16 only on CUDA."""
    if isinstance(dtype, torch.dtype):
        resolved = dtype
    elif dtype in DTYPES:
        resolved = DTYPES[dtype]
    else:
        raise VitvizError(f"unknown dtype '{dtype}': use one of {', '.join(DTYPES)}")
    if resolved != torch.float32 and device.type != "cuda":
        raise VitvizError(f"dtype {dtype} is only supported on CUDA; use float32 on {device.type}")
    return resolved


# --------------------------------------------------------------------------- loading
_cache: "OrderedDict[tuple, LoadedModel]" = OrderedDict()
_cache_lock = threading.Lock()


def clear_model_cache() -> None:
    """Drop every cached model (e.g. after CUDA ran out of memory)."""
    with _cache_lock:
        _cache.clear()


def cached_model_keys() -> list[tuple]:
    """Keys of the models now cached, oldest first (for tests and diagnostics)."""
    with _cache_lock:
        return list(_cache)


def load_model(
    name: str,
    *,
    weights_dir: str | os.PathLike | None = None,
    device: str | torch.device = "auto",
    dtype: str | torch.dtype = "float32",
    pretrained: bool = True,
    allow_download: bool = True,
    use_cache: bool = True,
    progress: Optional[Callable[[str], None]] = None,
) -> LoadedModel:
    """Load a model by name, cached per (name, weights folder, device, dtype, pretrained).

    Args:
        name: registry name, timm tag, or a name in the weights folder.
        weights_dir: local weights folder; defaults to ``$VITVIZ_WEIGHTS_DIR``.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        dtype: ``"float32"`` (default), or ``"bfloat16"``/``"float16"`` on CUDA.
        pretrained: False builds random weights, labelled "untrained".
        allow_download: False keeps the hub path to the local HF cache only.
        progress: called with a one-line message before a download from the hub starts
            (huggingface_hub's byte progress bar shows on a terminal's stderr as well).

    Raises:
        UnknownModelError, WeightsNotFoundError, WeightsError, VitvizError.
    """
    folder = resolve_weights_dir(weights_dir)
    dev = resolve_device(device)
    dt = resolve_dtype(dtype, dev)
    key = (name, str(folder) if folder else None, str(dev), str(dt), pretrained)
    if use_cache:
        with _cache_lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
    spec = get_spec(name, folder)
    # A load that fails raises before anything is cached, so a retry starts clean.
    loaded = _build(spec, folder, pretrained, allow_download, progress)
    loaded.model.to(device=dev, dtype=dt)
    loaded.device, loaded.dtype = dev, dt
    if use_cache:
        with _cache_lock:
            _cache[key] = loaded
            while len(_cache) > MODEL_CACHE_SIZE:
                _cache.popitem(last=False)
    return loaded


def estimate_model_nbytes(name: str, *, weights_dir: str | os.PathLike | None = None,
                          dtype: torch.dtype = torch.float32) -> int:
    """Bytes of a model's parameters and buffers in ``dtype``, from its architecture built on the meta
    device (no memory, no weights read): what loading it will hold, before loading it.

    ViT-B/16: 86.6 M parameters, 346 MB in float32; ViT-H/14: 632 M, 2.5 GB.
    """
    spec = get_spec(name, resolve_weights_dir(weights_dir))
    with torch.device("meta"):
        model = _create(spec, pretrained=False)
    itemsize = torch.empty((), dtype=dtype).element_size()
    return sum(t.nelement() for t in (*model.parameters(), *model.buffers())) * itemsize


def _create(spec: ModelSpec, pretrained: bool, **kwargs: Any) -> nn.Module:
    import timm

    kwargs = {**spec.kwargs, **kwargs}
    if spec.num_classes is not None:
        kwargs.setdefault("num_classes", spec.num_classes)
    if spec.kind == VIT:
        kwargs.setdefault("dynamic_img_size", True)
    timm_name = spec.architecture if spec.local else spec.name
    try:
        return timm.create_model(timm_name, pretrained=pretrained, **kwargs)
    except TypeError as exc:
        if "dynamic_img_size" not in str(exc):
            raise
        kwargs.pop("dynamic_img_size")
        return timm.create_model(timm_name, pretrained=pretrained, **kwargs)
    except RuntimeError as exc:
        # timm reports unknown architectures as RuntimeError('Unknown model ...').
        if "Unknown model" in str(exc):
            raise UnknownModelError(f"timm does not know architecture '{spec.architecture}'") from exc
        raise


def _build(spec: ModelSpec, folder: Optional[Path], pretrained: bool, allow_download: bool,
           progress: Optional[Callable[[str], None]] = None) -> LoadedModel:
    if not pretrained:
        model = _create(spec, pretrained=False)
        return _finish(spec, model, "untrained")
    local = find_local_weights(spec.name, folder)
    if local is not None:
        return _finish(spec, _load_local(spec, local), f"local:{local.path}")
    cached = hub_cached_file(spec.name)
    if cached is not None:  # timm loads (and converts) a given file without touching the network
        model = _create(spec, pretrained=True, pretrained_cfg_overlay={"file": str(cached)})
        return _finish(spec, model, f"hub-cache:{cached}")
    if not allow_download:
        hub_error = "not tried: downloads are off and the Hugging Face cache has no copy"
    elif hub_offline():
        hub_error = "not tried: HF_HUB_OFFLINE is set and the Hugging Face cache has no copy"
    elif not hub_reachable():
        hub_error = "the hub cannot be reached from this machine"
    else:
        if progress is not None:
            progress(f"downloading {spec.name} from the Hugging Face hub ({hub_repo_hint(spec)})")
        try:  # bounded: gives up after hub_timeout() s without progress
            return _finish(spec, fetch_from_hub(spec.name, lambda: _create(spec, pretrained=True)), "hub")
        except HubDownloadError as exc:
            hub_error = exc.reason
    where = (f"no {spec.name}.safetensors in weights folder '{folder}'" if folder
             else "no weights folder is set (VITVIZ_WEIGHTS_DIR or --weights-dir)")
    raise WeightsNotFoundError(
        f"no pretrained weights for '{spec.name}': {where}; Hugging Face hub "
        f"({hub_repo_hint(spec)}): {hub_error}. On a machine with internet run "
        f"'python -m vitviz download {spec.name} --to DIR' and point VITVIZ_WEIGHTS_DIR at DIR."
    )


_reachable: dict[str, tuple[float, bool]] = {}


def hub_reachable(timeout: float = 3.0, ttl: float = 60.0) -> bool:
    """A quick TCP check of the hub endpoint, remembered for ``ttl`` seconds.

    Without it an offline machine waits through huggingface_hub's retries (~50 s) before
    saying what one connection attempt already knows. With ``HF_HUB_OFFLINE`` set (1, true, yes,
    on; :func:`vitviz.loading.weights.hub_offline`) it is False at once and nothing touches the network,
    not even a name lookup.
    """
    import socket
    import time
    from urllib.parse import urlparse

    if hub_offline():
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    now = time.monotonic()
    if endpoint in _reachable and now - _reachable[endpoint][0] < ttl:
        return _reachable[endpoint][1]
    url = urlparse(endpoint)
    try:
        port = url.port or (80 if url.scheme == "http" else 443)
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            ok = True
    except OSError:
        ok = False
    _reachable[endpoint] = (now, ok)
    return ok


def _tolerated_missing(model: nn.Module, state: dict[str, Any]) -> set[str]:
    """Keys ``model.load_state_dict(state, strict=True)`` accepts being absent from ``state``.

    Only BatchNorm's ``num_batches_tracked`` counter: torch's ``_NormBase._load_from_state_dict``
    fills it in for a module that tracks running stats when the file's metadata for that module
    has no version or one below 2 (plain dicts, e.g. every safetensors file, carry none). Files in
    the wild often drop the counter; e.g. a MobileNetV2 state dict without its 52 counters loads.
    """
    from torch.nn.modules.batchnorm import _NormBase

    metadata = getattr(state, "_metadata", None) or {}
    tolerated = set()
    for name, module in model.named_modules():
        version = metadata.get(name, {}).get("version")
        if isinstance(module, _NormBase) and module.track_running_stats and (version is None or version < 2):
            tolerated.add(f"{name}.num_batches_tracked" if name else "num_batches_tracked")
    return tolerated


def _load_local(spec: ModelSpec, local: LocalWeights) -> nn.Module:
    state = load_state_dict(local.path)
    if spec.sha256 and os.environ.get("VITVIZ_VERIFY_SHA256") == "1":
        actual = sha256sum(local.path)
        if actual != spec.sha256:
            raise WeightsError(f"checksum mismatch for {local.path}: expected {spec.sha256}, got {actual}")
    model = _create_uninitialised(spec)
    own = model.state_dict()
    missing = sorted(set(own) - set(state) - _tolerated_missing(model, state))
    unexpected = sorted(set(state) - set(own))
    mismatched = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or mismatched:
        parts = []
        if mismatched:
            k = mismatched[0]
            parts.append(f"{len(mismatched)} shape mismatches (e.g. {k}: file {tuple(state[k].shape)}, "
                         f"model {tuple(own[k].shape)})")
        if missing:
            parts.append(f"{len(missing)} missing keys (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[0]})")
        raise WeightsError(
            f"weights file {local.path} does not fit architecture '{spec.architecture}': " + "; ".join(parts)
        )
    if any(t.is_meta for t in own.values()):
        model = model.to_empty(device="cpu")  # every entry of the state dict is copied in next
    model.load_state_dict(state, strict=True)
    return model


def _create_uninitialised(spec: ModelSpec) -> nn.Module:
    """The architecture for a weights file, built without its random initialisation where that is safe.

    timm initialises every weight randomly, and a weights file then overwrites them all: most of a
    load's time (``bench/RESULTS.md``, "Measurements behind design choices"). Built on the meta device instead, the
    model holds shapes only; :func:`_load_local` gives it memory and the file's values. A model with
    a tensor the state dict does not carry (a non-persistent buffer or a plain tensor attribute,
    computed in ``__init__``) is built the usual way, since nothing would fill that tensor.
    """
    with torch.device("meta"):
        model = _create(spec, pretrained=False)
    persistent = set(model.state_dict())
    unsaved_buffer = any(name not in persistent for name, _ in model.named_buffers())
    # Parameters and buffers live in a module's _parameters / _buffers dicts, not among its attributes.
    tensor_attribute = any(isinstance(value, torch.Tensor) for m in model.modules() for value in vars(m).values())
    if unsaved_buffer or tensor_attribute:
        return _create(spec, pretrained=False)
    return model


def _finish(spec: ModelSpec, model: nn.Module, source: str) -> LoadedModel:
    from timm.data import resolve_data_config

    model.eval()
    config = resolve_data_config({}, model=model)
    for key in ("input_size", "mean", "std"):
        value = getattr(spec, key)
        if value is not None:
            config[key] = tuple(value)
    return LoadedModel(spec=spec, model=model, device=torch.device("cpu"), dtype=torch.float32,
                       source=source, data_config=config)
