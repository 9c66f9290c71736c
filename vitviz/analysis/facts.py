"""A model's facts in the form of the ViT paper's Table 1."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from torch import nn

from ..preprocess import TokenLayout


@dataclass(frozen=True)
class ModelFacts:
    """Table-1 facts plus what the token sequence looks like for the current input.

    Attributes:
        layers, hidden_size, mlp_size, heads, params: as in Table 1 (params counted exactly).
        patch_size: ``(ph, pw)`` in pixels.
        grid / num_patches / num_prefix_tokens / tokens: sequence for the current input size.
        prefix_names: e.g. ``("cls", "dist")``.
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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Table 1 of Dosovitskiy et al. (2021): model, layers, hidden size D, MLP size, heads, params.
PAPER_TABLE1: tuple[tuple[str, int, int, int, int, int], ...] = (
    ("ViT-Base", 12, 768, 3072, 12, 86_000_000),
    ("ViT-Large", 24, 1024, 4096, 16, 307_000_000),
    ("ViT-Huge", 32, 1280, 5120, 16, 632_000_000),
)


def model_facts(model: nn.Module, layout: TokenLayout) -> ModelFacts:
    """Read the facts off a timm ViT and the token layout of the current input."""
    blocks = model.blocks
    first = blocks[0]
    mlp_in = first.mlp.fc1
    return ModelFacts(
        layers=len(blocks),
        hidden_size=int(getattr(model, "embed_dim", mlp_in.in_features)),
        mlp_size=int(getattr(first.mlp.fc2, "in_features", mlp_in.out_features)),
        heads=int(first.attn.num_heads),
        params=sum(p.numel() for p in model.parameters()),
        patch_size=layout.patch_size,
        grid=layout.grid,
        num_patches=layout.num_patches,
        num_prefix_tokens=layout.num_prefix_tokens,
        tokens=layout.num_tokens,
        prefix_names=layout.prefix_names,
    )
