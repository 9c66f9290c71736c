"""Fetch pretrained weights through timm / Hugging Face into a local weights folder.

Writes ``<name>.safetensors`` and a ``<name>.json`` sidecar in the folder format that
:mod:`vitviz.loading.weights` reads, so a classroom machine without internet can use them.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from vitviz.loading import models
from vitviz.loading.registry import ModelSpec
from vitviz.model_parts import num_classes
from vitviz.loading.weights import HubDownloadError, fetch_from_hub, hub_cached_file, hub_offline, sha256sum


def download(names: Iterable[str], to: str | os.PathLike,
             progress: Optional[Callable[[str], None]] = None) -> list[Path]:
    """Download each model with ``timm.create_model(name, pretrained=True)`` and save it to ``to``.

    A model already in the Hugging Face cache is taken from there, without network. Otherwise the
    hub is probed first (:func:`vitviz.loading.models.hub_reachable`), so a machine without network is told
    so at once, and the download gives up after :func:`vitviz.loading.weights.hub_timeout` seconds without
    progress. ``progress`` gets a line per model; huggingface_hub's byte progress bar shows on a
    terminal. Returns the written ``.safetensors`` paths.

    Files are written under a temporary ``.part`` name and renamed, so a failed download leaves
    no half file that would later load as weights.

    Raises:
        UnknownModelError, HubDownloadError (a :class:`~vitviz.errors.WeightsNotFoundError`).
    """
    folder = Path(to)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        spec = models.get_spec(name)
        model = _fetch(spec, progress or (lambda message: None))
        written.append(_save(spec, model, folder))
    return written


def _fetch(spec: ModelSpec, progress: Callable[[str], None]) -> Any:
    import timm

    cached = hub_cached_file(spec.name)
    if cached is not None:
        progress(f"{spec.name}: from the Hugging Face cache ({cached})")
        return timm.create_model(spec.name, pretrained=True, pretrained_cfg_overlay={"file": str(cached)})
    if hub_offline():
        raise HubDownloadError(spec.name, "HF_HUB_OFFLINE is set and the Hugging Face cache has no copy")
    if not models.hub_reachable():
        raise HubDownloadError(spec.name, "cannot connect to the hub from this machine (no network?)")
    progress(f"downloading {spec.name} from the Hugging Face hub ({models.hub_repo_hint(spec)})")
    return fetch_from_hub(spec.name, lambda: timm.create_model(spec.name, pretrained=True))


def _save(spec: ModelSpec, model: Any, folder: Path) -> Path:
    """Write ``<name>.json`` then ``<name>.safetensors``, each complete or not at all.

    The weights are renamed into place last: until then nothing in the folder loads, and
    the sidecar's sha256 is that of the bytes being renamed.
    """
    from safetensors.torch import save_file

    target = folder / f"{spec.name}.safetensors"
    part = target.with_name(target.name + ".part")
    try:
        state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        save_file(state, str(part))
        meta = _sidecar(spec, model, sha256sum(part))
        _write_atomic(folder / f"{spec.name}.json", json.dumps(meta, indent=2) + "\n")
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target


def _write_atomic(target: Path, text: str) -> None:
    tmp = target.with_name(target.name + ".part")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _sidecar(spec: ModelSpec, model: Any, sha256: str) -> dict[str, Any]:
    """The ``<name>.json`` keys of README's weights-folder format."""
    from timm.data import resolve_data_config

    config = resolve_data_config({}, model=model)
    return {
        "architecture": spec.name,
        "kwargs": {},
        "num_classes": num_classes(model),
        "label": spec.label,
        "family": spec.family,
        "description": spec.description,
        "input_size": list(config["input_size"]),
        "mean": list(config["mean"]),
        "std": list(config["std"]),
        "sha256": sha256,
    }
