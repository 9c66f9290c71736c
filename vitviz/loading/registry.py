"""The models vitviz offers, by timm name.

This module is plain data and imports neither torch nor timm, so listing models is
instant. A spec names the timm tag users pick; loading it is :mod:`vitviz.loading.models`.
Models found in a local weights folder (``<name>.json`` beside ``<name>.safetensors``)
join the list through :func:`vitviz.loading.weights.scan_weights_dir`.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Optional

VIT, CNN = "vit", "cnn"


@dataclass(frozen=True)
class ModelSpec:
    """What the product knows about one model choice.

    Attributes:
        name: what users pick; a full timm tag (``arch.pretrained_tag``) or a local name.
        label: short human label, e.g. ``"ViT-B/16 (AugReg, IN-21k → IN-1k)"``.
        family: grouping in pickers: ``"ViT"``, ``"Hybrid"`` (CNN stem + ViT), ``"DeiT"``, ``"DINO"``,
            ``"DINOv2"``, ``"Registers"``, ``"CNN"`` or a local folder's own family.
        kind: ``"vit"`` or ``"cnn"``.
        architecture: timm architecture passed to ``timm.create_model``.
        kwargs: extra ``create_model`` keyword arguments.
        num_classes: classifier size, 0 for a backbone; None means "timm's default".
        description: one or two sentences for users.
        input_size / mean / std: preprocessing overrides (else timm's data config).
        sha256: expected checksum of a local weights file, if known.
        local: True when the spec came from a weights folder's JSON sidecar.
    """

    name: str
    label: str
    family: str
    kind: str = VIT
    architecture: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    num_classes: Optional[int] = None
    description: str = ""
    input_size: Optional[tuple[int, int, int]] = None
    mean: Optional[tuple[float, ...]] = None
    std: Optional[tuple[float, ...]] = None
    sha256: Optional[str] = None
    local: bool = False

    def __post_init__(self) -> None:
        if not self.architecture:
            object.__setattr__(self, "architecture", self.name.split(".", 1)[0])


def _vit(name: str, label: str, family: str = "ViT", description: str = "") -> ModelSpec:
    return ModelSpec(name=name, label=label, family=family, kind=VIT, description=description)


#: The curated list, in the order pickers show it. Paper models first.
REGISTRY: tuple[ModelSpec, ...] = (
    _vit("vit_base_patch16_224.augreg2_in21k_ft_in1k", "ViT-B/16 (AugReg2, IN-21k → IN-1k)",
         description="The paper's ViT-Base, 16 px patches, retrained with AugReg; ImageNet-1k head."),
    _vit("vit_base_patch16_224.orig_in21k_ft_in1k", "ViT-B/16 (original, IN-21k → IN-1k)",
         description="The paper's own ViT-B/16 checkpoint (Dosovitskiy et al. 2021)."),
    _vit("vit_base_patch32_224.augreg_in21k_ft_in1k", "ViT-B/32 (AugReg, IN-21k → IN-1k)",
         description="ViT-Base with 32 px patches: 7×7 tokens at 224 px."),
    _vit("vit_large_patch16_224.augreg_in21k_ft_in1k", "ViT-L/16 (AugReg, IN-21k → IN-1k)",
         description="The paper's ViT-Large, 24 layers, D=1024."),
    _vit("vit_large_patch32_224.orig_in21k", "ViT-L/32 (original, IN-21k, no head)",
         description="The paper's ViT-L/32 pre-trained on ImageNet-21k; backbone only."),
    _vit("vit_huge_patch14_224.orig_in21k", "ViT-H/14 (original, IN-21k, no head)",
         description="The paper's ViT-Huge, 32 layers, D=1280, 14 px patches; backbone only."),
    _vit("vit_base_r50_s16_224.orig_in21k", "R50+ViT-B/16 hybrid (original, IN-21k, no head)", "Hybrid",
         "The paper's hybrid (Sec. 3.1): a ResNet-50 stem (stages of 3, 4, 9 blocks) turns the image into "
         "14×14 cells of 16 px at 224 px, each projected 1×1 to a token; backbone only."),
    _vit("vit_small_r26_s32_224.augreg_in21k_ft_in1k", "R26+ViT-S/32 hybrid (AugReg, IN-21k → IN-1k)", "Hybrid",
         "A ResNet-26 stem at stride 32 feeding ViT-Small (Steiner et al. 2021): 7×7 tokens at 224 px."),
    _vit("vit_small_patch16_224.augreg_in21k_ft_in1k", "ViT-S/16 (AugReg, IN-21k → IN-1k)",
         description="ViT-Small (Steiner et al. 2021), 6 heads, D=384."),
    _vit("vit_tiny_patch16_224.augreg_in21k_ft_in1k", "ViT-Ti/16 (AugReg, IN-21k → IN-1k)",
         description="ViT-Tiny, 3 heads, D=192: fast on a laptop CPU."),
    _vit("deit_small_patch16_224.fb_in1k", "DeiT-S/16 (IN-1k)", "DeiT",
         "Data-efficient ViT trained on ImageNet-1k only (Touvron et al. 2021)."),
    _vit("deit_base_distilled_patch16_224.fb_in1k", "DeiT-B/16 distilled (IN-1k)", "DeiT",
         "DeiT with a distillation token next to the class token (two prefix tokens)."),
    _vit("vit_small_patch16_224.dino", "DINO ViT-S/16 (self-supervised, no head)", "DINO",
         "Self-supervised DINO (Caron et al. 2021); its CLS attention segments objects."),
    _vit("vit_base_patch16_224.dino", "DINO ViT-B/16 (self-supervised, no head)", "DINO",
         "Self-supervised DINO ViT-Base."),
    _vit("vit_small_patch14_dinov2.lvd142m", "DINOv2 ViT-S/14 (self-supervised, no head)", "DINOv2",
         "DINOv2 (Oquab et al. 2023), 14 px patches, position embeddings for 518 px."),
    _vit("vit_small_patch14_reg4_dinov2.lvd142m", "DINOv2 ViT-S/14 + 4 registers (no head)", "Registers",
         "DINOv2 with 4 register tokens (Darcet et al. 2024): CLS + 4 registers + patches."),
    _vit("vit_medium_patch16_reg4_gap_256.sbb_in1k", "ViT-M/16 + 4 registers, global pool (IN-1k)",
         "Registers", "No class token: 4 registers, average-pooled patch tokens feed the head."),
    ModelSpec("resnet50.a1_in1k", "ResNet-50 (A1, IN-1k)", "CNN", kind=CNN,
              description="The classic CNN baseline (He et al. 2016), timm's A1 recipe."),
    ModelSpec("resnetv2_50x1_bit.goog_in21k_ft_in1k", "BiT ResNetV2-50x1 (IN-21k → IN-1k)", "CNN",
              kind=CNN, description="Big Transfer ResNet, the paper's CNN baseline."),
)

def registry_by_name() -> dict[str, ModelSpec]:
    """The curated registry as a ``name -> spec`` mapping."""
    return {spec.name: spec for spec in REGISTRY}


def guess_kind(architecture: str) -> str:
    """``"vit"`` for timm's transformer families, else ``"cnn"`` (used for names not in the registry)."""
    return VIT if architecture.startswith(("vit_", "deit", "eva", "beit", "flexivit")) else CNN


def suggest(name: str, candidates: list[str], n: int = 3) -> list[str]:
    """Close matches for a mistyped model name, best first."""
    return difflib.get_close_matches(name, candidates, n=n, cutoff=0.5)
