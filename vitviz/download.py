"""Fetch pretrained weights through timm / Hugging Face into a local weights folder.

Writes ``<name>.safetensors`` and a ``<name>.json`` sidecar in the folder format that
:mod:`vitviz.weights` reads, so a classroom machine without internet can use them.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

from .errors import WeightsNotFoundError
from .models import get_spec
from .weights import sha256sum


def download(names: Iterable[str], to: str | os.PathLike) -> list[Path]:
    """Download each model with ``timm.create_model(name, pretrained=True)`` and save it to ``to``.

    Returns the written ``.safetensors`` paths. Files are written under a temporary name and
    renamed, so an interrupted download leaves no half file that would later load as weights.
    """
    import timm
    from safetensors.torch import save_file
    from timm.data import resolve_data_config

    folder = Path(to)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        spec = get_spec(name)
        try:
            model = timm.create_model(spec.name, pretrained=True)
        except Exception as exc:  # network and hub errors of many types
            raise WeightsNotFoundError(f"could not download '{name}': {str(exc).splitlines()[0][:200]}") from exc
        state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        target = folder / f"{spec.name}.safetensors"
        tmp = target.with_suffix(".safetensors.part")
        save_file(state, str(tmp))
        os.replace(tmp, target)
        config = resolve_data_config({}, model=model)
        meta = {
            "architecture": spec.name,
            "kwargs": {},
            "num_classes": int(getattr(model, "num_classes", 0) or 0),
            "label": spec.label,
            "family": spec.family,
            "description": spec.description,
            "input_size": list(config["input_size"]),
            "mean": list(config["mean"]),
            "std": list(config["std"]),
            "sha256": sha256sum(target),
        }
        (folder / f"{spec.name}.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        written.append(target)
    return written
