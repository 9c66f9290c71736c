"""A model's facts in the form of the ViT paper's Table 1.

For a hybrid (the paper's Sec. 3.1) the facts also name the CNN stem: its kind and stages, its
stride and output channels, its parameters (counted in ``params`` too) and its theoretical
receptive field (:mod:`vitviz.analysis.receptive_field`). R50+ViT-B/16 (timm
``vit_base_r50_s16_224``): ResNetV2 with stages of 3, 4, 9 blocks, stride 16, 1024 channels,
11.9 M of the model's 97.9 M parameters (head-less), receptive field 363 px: larger than the
224 px input, although each token sits over a 16×16 px cell.
"""
from __future__ import annotations

import weakref
from dataclasses import asdict, dataclass
from typing import Any, Optional

from torch import nn

from vitviz.errors import UnsupportedModelError
from vitviz.inputs.preprocess import TokenLayout
from vitviz.model_parts import attention_heads, submodule, transformer_blocks


@dataclass(frozen=True)
class ModelFacts:
    """Table-1 facts plus what the token sequence looks like for the current input.

    Attributes:
        layers, hidden_size, mlp_size, heads, params: as in Table 1 (params counted exactly).
        patch_size: ``(ph, pw)`` in pixels.
        grid / num_patches / num_prefix_tokens / tokens: sequence for the current input size.
        prefix_names: e.g. ``("cls", "dist")``.
        stem: for a hybrid, its CNN stem in words, e.g. ``"ResNetV2, stages of 3, 4, 9 blocks"``;
            None for a plain ViT (and so are the other ``stem_*`` facts).
        stem_stride: ``(sh, sw)`` input pixels per cell of the stem's feature map.
        stem_channels: channels of that feature map (the projection's input size).
        stem_params: parameters of the stem (included in ``params``).
        stem_receptive_field: theoretical receptive field of one cell in input pixels (None when
            the stem cannot be traced).
        projection_kernel: the patch projection's kernel: pixels for a plain ViT, feature cells for a hybrid.
    """

    layers: int
    hidden_size: int
    mlp_size: int
    heads: int
    params: int
    patch_size: tuple[int, int]
    grid: tuple[int, int]
    num_patches: int
    num_prefix_tokens: int
    tokens: int
    prefix_names: tuple[str, ...]
    stem: Optional[str] = None
    stem_stride: Optional[tuple[int, int]] = None
    stem_channels: Optional[int] = None
    stem_params: Optional[int] = None
    stem_receptive_field: Optional[int] = None
    projection_kernel: Optional[tuple[int, int]] = None

    @property
    def hybrid(self) -> bool:
        return self.stem is not None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Table 1 of Dosovitskiy et al. (2021): model, layers, hidden size D, MLP size, heads, params.
PAPER_TABLE1: tuple[tuple[str, int, int, int, int, int], ...] = (
    ("ViT-Base", 12, 768, 3072, 12, 86_000_000),
    ("ViT-Large", 24, 1024, 4096, 16, 307_000_000),
    ("ViT-Huge", 32, 1280, 5120, 16, 632_000_000),
)


_stem_cache: "weakref.WeakKeyDictionary[nn.Module, dict[str, Any]]" = weakref.WeakKeyDictionary()


def describe_stem(backbone: nn.Module) -> str:
    """A hybrid's CNN stem in words: its class and the blocks per stage, when it has stages."""
    stages = getattr(backbone, "stages", None)
    counts = [len(getattr(stage, "blocks", ())) for stage in stages] if stages is not None else []
    if counts and all(counts):
        return f"{type(backbone).__name__}, stages of {', '.join(map(str, counts))} blocks"
    return type(backbone).__name__


def _stem_facts(model: nn.Module, layout: TokenLayout) -> dict[str, Any]:
    """The ``stem_*`` facts of a hybrid, read once per model (the receptive field needs an FX trace)."""
    if not layout.hybrid:
        return {}
    cached = _stem_cache.get(model)
    if cached is not None:
        return cached
    from vitviz.analysis.receptive_field import theoretical_receptive_field

    embed = submodule(model, "patch_embed")
    backbone = submodule(embed, "backbone")
    try:
        rf: Optional[int] = theoretical_receptive_field(backbone)[-1].size
    except UnsupportedModelError:
        rf = None
    weight = getattr(getattr(embed, "proj", None), "weight", None)
    channels = (int(weight.shape[1]) if weight is not None and weight.ndim == 4
                else int(getattr(embed, "feature_dim", 0)))
    facts = dict(stem=describe_stem(backbone), stem_stride=layout.stem_stride, stem_channels=channels,
                 stem_params=sum(p.numel() for p in backbone.parameters()), stem_receptive_field=rf)
    _stem_cache[model] = facts
    return facts


_param_counts: "weakref.WeakKeyDictionary[nn.Module, int]" = weakref.WeakKeyDictionary()


def _param_count(model: nn.Module) -> int:
    """Parameters of ``model``, counted once per model, not per analysis."""
    if model not in _param_counts:
        _param_counts[model] = sum(p.numel() for p in model.parameters())
    return _param_counts[model]


def model_facts(model: nn.Module, layout: TokenLayout) -> ModelFacts:
    """Read the facts off a timm ViT (or hybrid) and the token layout of the current input."""
    blocks = transformer_blocks(model)
    mlp = submodule(blocks[0], "mlp")
    mlp_in = submodule(mlp, "fc1")
    return ModelFacts(
        layers=len(blocks),
        hidden_size=int(getattr(model, "embed_dim", getattr(mlp_in, "in_features"))),
        mlp_size=int(getattr(submodule(mlp, "fc2"), "in_features", getattr(mlp_in, "out_features"))),
        heads=attention_heads(model),
        params=_param_count(model),
        patch_size=layout.patch_size,
        grid=layout.grid,
        num_patches=layout.num_patches,
        num_prefix_tokens=layout.num_prefix_tokens,
        tokens=layout.num_tokens,
        prefix_names=layout.prefix_names,
        projection_kernel=layout.projection_kernel,
        **_stem_facts(model, layout),
    )
