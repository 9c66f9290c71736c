"""Local weights folders: the offline source of pretrained weights.

Folder format (as in ``shared/weights/README.md``)::

    <name>.safetensors   timm state dict of the architecture below (preferred)
    <name>.pth | .bin    alternatively, a torch checkpoint, read with weights_only=True
    <name>.json          optional: {"architecture", "kwargs", "num_classes", "label",
                         "family", "description", "input_size", "mean", "std", "sha256"}

Without a JSON sidecar, ``<name>`` must be a timm tag (``arch.tag``) so the
architecture is known. The folder comes from an argument or ``VITVIZ_WEIGHTS_DIR``.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .errors import WeightsError
from .registry import ModelSpec, guess_kind

ENV_VAR = "VITVIZ_WEIGHTS_DIR"
WEIGHT_SUFFIXES = (".safetensors", ".pth", ".bin")  # in order of preference


def weights_dir(explicit: str | os.PathLike | None = None) -> Optional[Path]:
    """The weights folder to use: the explicit argument, else ``$VITVIZ_WEIGHTS_DIR``, else None."""
    value = explicit if explicit is not None else os.environ.get(ENV_VAR)
    return Path(value).expanduser() if value else None


@dataclass(frozen=True)
class LocalWeights:
    """A weights file found in a folder, with its parsed JSON sidecar (or {})."""

    name: str
    path: Path
    meta: dict[str, Any]


def find_local_weights(name: str, folder: Optional[Path]) -> Optional[LocalWeights]:
    """Return the weights file for ``name`` in ``folder``, or None if absent."""
    if folder is None or not folder.is_dir():
        return None
    for suffix in WEIGHT_SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            sidecar = folder / f"{name}.json"
            return LocalWeights(name, path, read_sidecar(sidecar) if sidecar.is_file() else {})
    return None


def read_sidecar(path: Path) -> dict[str, Any]:
    """Parse and check a ``<name>.json`` sidecar."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WeightsError(f"cannot read weights description {path}: {exc}") from exc
    if not isinstance(meta, dict):
        raise WeightsError(f"weights description {path} must hold a JSON object")
    if "kwargs" in meta and not isinstance(meta["kwargs"], dict):
        raise WeightsError(f"weights description {path}: 'kwargs' must be an object")
    return meta


def spec_from_local(local: LocalWeights, base: Optional[ModelSpec] = None) -> ModelSpec:
    """Build a :class:`ModelSpec` from a sidecar, filling gaps from a registry spec."""
    meta = local.meta
    # Without a sidecar the full tag goes to timm, which then knows the tag's preprocessing.
    arch = meta.get("architecture") or local.name
    kwargs = dict(meta.get("kwargs") or {})
    num_classes = meta.get("num_classes", kwargs.get("num_classes", base.num_classes if base else None))
    kind = base.kind if base else guess_kind(arch)

    def tup(key: str) -> Optional[tuple]:
        value = meta.get(key)
        return tuple(value) if value is not None else (getattr(base, key) if base else None)

    return ModelSpec(
        name=local.name,
        label=meta.get("label") or (base.label if base else local.name),
        family=meta.get("family") or (base.family if base else "Local"),
        kind=kind,
        architecture=arch,
        kwargs=kwargs,
        num_classes=num_classes,
        description=meta.get("description") or (base.description if base else ""),
        input_size=tup("input_size"),
        mean=tup("mean"),
        std=tup("std"),
        sha256=meta.get("sha256"),
        local=True,
    )


def scan_weights_dir(folder: Optional[Path]) -> list[LocalWeights]:
    """Every usable weights file in ``folder`` (sorted by name); unreadable sidecars are skipped."""
    if folder is None or not folder.is_dir():
        return []
    found: dict[str, LocalWeights] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix not in WEIGHT_SUFFIXES or path.stem in found:
            continue
        try:
            local = find_local_weights(path.stem, folder)
        except WeightsError:
            continue
        if local is not None and (local.meta or "." in local.name):
            found[local.name] = local
    return list(found.values())


def sha256sum(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def load_state_dict(path: Path) -> dict[str, Any]:
    """Read a state dict from safetensors, or from a torch file with ``weights_only=True``.

    Raises:
        WeightsError: the file is truncated, corrupt, or needs unsafe unpickling.
    """
    import torch

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # safetensors and pickle raise many types; all mean "unusable file"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WeightsError(f"cannot read weights file {path}: {reason[:300]}") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"weights file {path} does not hold a state dict of tensors")
    return state


def hub_repo_id(name: str) -> Optional[str]:
    """The Hugging Face repo timm downloads a tagged model from (``timm/<arch>.<tag>``)."""
    return f"timm/{name}" if "." in name else None


def _hf_hub_cache() -> Path:
    hf_home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    return Path(os.environ.get("HF_HUB_CACHE", hf_home / "hub"))


def hub_cached_file(name: str) -> Optional[Path]:
    """A weights file for ``name`` already in the Hugging Face cache, found without network."""
    repo = hub_repo_id(name)
    if repo is None:
        return None
    snapshots = _hf_hub_cache() / f"models--{repo.replace('/', '--')}" / "snapshots"
    if not snapshots.is_dir():
        return None
    for filename in ("model.safetensors", "pytorch_model.bin"):
        for path in sorted(snapshots.glob(f"*/{filename}")):
            if path.is_file():
                return path
    return None
