"""Which models exist and where their weights would come from, without importing torch.

Kept apart from :mod:`vitviz.models` so ``python -m vitviz models`` and the app's model
picker answer instantly; only names unknown to the registry and the weights folder consult timm.
"""
from __future__ import annotations

import os

from .errors import UnknownModelError
from .registry import REGISTRY, ModelSpec, guess_kind, registry_by_name, suggest
from .weights import find_local_weights, hub_cached_file, scan_weights_dir, spec_from_local
from .weights import weights_dir as resolve_weights_dir


def list_models(weights_dir: str | os.PathLike | None = None) -> list[ModelSpec]:
    """Models to offer: those in the local weights folder first, then the curated registry."""
    folder = resolve_weights_dir(weights_dir)
    known = registry_by_name()
    local = [spec_from_local(lw, known.get(lw.name)) for lw in scan_weights_dir(folder)]
    local_names = {s.name for s in local}
    return local + [s for s in REGISTRY if s.name not in local_names]


def get_spec(name: str, weights_dir: str | os.PathLike | None = None) -> ModelSpec:
    """Resolve a model name to a spec: weights folder, registry, then any timm pretrained tag.

    Raises:
        UnknownModelError: with close matches, when nothing knows the name.
    """
    known = registry_by_name()
    local = find_local_weights(name, resolve_weights_dir(weights_dir))
    if local is not None:
        return spec_from_local(local, known.get(name))
    if name in known:
        return known[name]
    import timm

    arch, _, tag = name.partition(".")
    if timm.is_model(arch) and (not tag or name in timm.list_pretrained(name)):
        return ModelSpec(name=name, label=name, family="timm", kind=guess_kind(name))
    options = [s.name for s in list_models(weights_dir)]
    hint = suggest(name, options)
    extra = f" Did you mean {', '.join(hint)}?" if hint else " Run 'python -m vitviz models' for the list."
    raise UnknownModelError(f"unknown model '{name}'.{extra}")


def hub_repo_hint(spec: ModelSpec) -> str:
    return f"timm/{spec.name}" if "." in spec.name else spec.name


def weights_source(spec: ModelSpec, weights_dir: str | os.PathLike | None = None) -> str:
    """Where :func:`load_model` would take this model's weights from, without loading them."""
    local = find_local_weights(spec.name, resolve_weights_dir(weights_dir))
    if local is not None:
        return f"local: {local.path}"
    cached = hub_cached_file(spec.name)
    if cached is not None:
        return f"hub cache: {cached}"
    return f"hub download ({hub_repo_hint(spec)}), needs internet"
