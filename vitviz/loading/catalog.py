"""Which models exist and where their weights would come from, without importing torch.

Kept apart from :mod:`vitviz.loading.models` so ``python -m vitviz models`` and the app's model
picker answer instantly; only names unknown to the registry and the weights folder consult timm.
"""
from __future__ import annotations

import os

from vitviz.errors import UnknownModelError
from vitviz.loading.registry import REGISTRY, ModelSpec, guess_kind, registry_by_name, suggest
from vitviz.loading.weights import find_local_weights, hub_cached_file, hub_repo_id, scan_weights_dir, spec_from_local
from vitviz.loading.weights import weights_dir as resolve_weights_dir


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
    """The hub repo to name in messages: :func:`~vitviz.loading.weights.hub_repo_id`, else the model's own name."""
    return hub_repo_id(spec.name) or spec.name


def weights_source(spec: ModelSpec, weights_dir: str | os.PathLike | None = None) -> str:
    """Where :func:`load_model` would take this model's weights from, without loading them."""
    local = find_local_weights(spec.name, resolve_weights_dir(weights_dir))
    if local is not None:
        return f"local: {local.path}"
    cached = hub_cached_file(spec.name)
    if cached is not None:
        return f"hub cache: {cached}"
    return f"hub download ({hub_repo_hint(spec)}), needs internet"


def short_label(label: str) -> str:
    """A model label without its parenthesised description: "DINOv2 ViT-S/14", for titles and pickers."""
    import re

    return re.sub(r"\s*\([^)]*\)", "", label).strip() or label


def distinct_labels(specs: list[ModelSpec]) -> dict[str, str]:
    """A label per model name that tells the models apart: the short label where it is unique, the full
    label where two models share a short one ("ViT-B/16 (AugReg2, IN-21k → IN-1k)" and "ViT-B/16
    (original, IN-21k → IN-1k)"), and the name after it where even the full labels are equal."""
    from collections import Counter

    short = {s.name: short_label(s.label) for s in specs}
    shared = Counter(short.values())
    labels = {s.name: s.label if shared[short[s.name]] > 1 else short[s.name] for s in specs}
    full = Counter(labels.values())
    return {name: f"{label} · {name}" if full[label] > 1 else label for name, label in labels.items()}
