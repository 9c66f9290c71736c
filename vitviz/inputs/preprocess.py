"""Image → network input with the model's own timm data config, the inverse for display,
and the token layout (grid and prefix tokens) read from the model itself.

Conventions: the resize/crop is timm's eval transform (resize to ``size / crop_pct`` keeping
the aspect ratio, then centre crop) with the config's interpolation; ``(H, W)`` sizes are in
pixels of the network input, which is what every distance in vitviz is measured in.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image
from torch import nn

from vitviz.errors import UnsupportedModelError, VitvizError
from vitviz.model_parts import submodule

MAX_INPUT_SIDE = 1024  # attention memory grows with the 4th power of the side
SizeArg = Union[int, Sequence[int], None]


@dataclass(frozen=True)
class TokenLayout:
    """How a ViT's token sequence maps to the image.

    The sequence is ``prefix tokens`` (class, distillation, registers, in timm's order)
    followed by ``gh·gw`` patch tokens in row-major order.

    For a hybrid (the paper's Sec. 3.1, e.g. R50+ViT-B/16), a CNN stem turns the image into a
    feature map and each token is one cell of it (or one p×p block of cells) projected to D: the
    token's "patch" is the ``stem_stride × p`` px square of the input that cell sits over, although
    the cell sees a larger receptive field. ``patch_size`` is that pitch in input pixels, so grid,
    patch centres and every distance read the same for hybrids and plain ViTs; R50+ViT-B/16 at
    224 px: stride 16, 1×1 projection → 14×14 patches of 16 px, 197 tokens.

    Attributes:
        grid: ``(gh, gw)`` patch grid.
        patch_size: ``(ph, pw)`` in input pixels (for a hybrid: stem stride × projection kernel).
        prefix_names: e.g. ``("cls",)``, ``("cls", "dist")``, ``("cls", "reg0", …)``, ``()``.
        stem_stride: ``(sh, sw)`` input pixels per cell of a hybrid's CNN feature map; None for a
            plain ViT, whose patches are cut from the pixels directly.
    """

    grid: tuple[int, int]
    patch_size: tuple[int, int]
    prefix_names: tuple[str, ...]
    stem_stride: Optional[tuple[int, int]] = None

    @property
    def hybrid(self) -> bool:
        """True when a CNN stem, not a linear map of pixels, makes the patch tokens."""
        return self.stem_stride is not None

    @property
    def projection_kernel(self) -> tuple[int, int]:
        """The patch projection's kernel: in pixels for a plain ViT (= ``patch_size``), in stem
        feature cells for a hybrid (``(1, 1)`` for timm's R50/R26 hybrids)."""
        if self.stem_stride is None:
            return self.patch_size
        return self.patch_size[0] // self.stem_stride[0], self.patch_size[1] // self.stem_stride[1]

    @property
    def num_prefix_tokens(self) -> int:
        return len(self.prefix_names)

    @property
    def num_patches(self) -> int:
        return self.grid[0] * self.grid[1]

    @property
    def num_tokens(self) -> int:
        return self.num_prefix_tokens + self.num_patches

    @property
    def has_class_token(self) -> bool:
        return "cls" in self.prefix_names

    @property
    def input_hw(self) -> tuple[int, int]:
        return self.grid[0] * self.patch_size[0], self.grid[1] * self.patch_size[1]

    def patch_centers_px(self) -> np.ndarray:
        """``(gh·gw, 2)`` patch centres as (y, x) in input pixels, row-major."""
        ys, xs = np.meshgrid(np.arange(self.grid[0]), np.arange(self.grid[1]), indexing="ij")
        return np.stack([(ys.ravel() + 0.5) * self.patch_size[0], (xs.ravel() + 0.5) * self.patch_size[1]], 1)

    def patch_of(self, index: int) -> Optional[tuple[int, int]]:
        """``(row, col)`` of token ``index`` when it is a patch, None for a prefix token."""
        if index < self.num_prefix_tokens:
            return None
        row, col = divmod(index - self.num_prefix_tokens, self.grid[1])
        return int(row), int(col)

    def token_name(self, index: int) -> str:
        """``"cls"``/``"dist"``/``"reg0"`` for prefix tokens, ``"patch (row, col)"`` otherwise."""
        patch = self.patch_of(index)
        return self.prefix_names[index] if patch is None else f"patch {patch}"


def _pair(value: Union[int, Sequence[int]]) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, (int, np.integer)) else (int(value[0]), int(value[1]))


def stem_stride_of(model: nn.Module) -> Optional[tuple[int, int]]:
    """Input pixels per cell of a hybrid's CNN feature map, or None for a plain ViT.

    timm's ``HybridEmbed`` (``timm/layers/hybrid_embed.py``) runs ``patch_embed.backbone`` on the
    image and measures ``feature_ratio = img_size // feature_size`` with one forward at build time:
    16 for the paper's R50 stem (``vit_base_r50_s16_224``: ResNetV2 stages of 3, 4, 9 blocks,
    224 px → 14×14 × 1024 channels), 32 for R26 (``vit_small_r26_s32_224``: 4 stages of 2 blocks,
    224 px → 7×7 × 2048 channels). Both stems pad 'same', so any multiple of the stride maps to
    exactly ``side / stride`` cells.
    """
    embed = getattr(model, "patch_embed", None)
    if embed is None or getattr(embed, "backbone", None) is None or not hasattr(embed, "feature_ratio"):
        return None
    return _pair(embed.feature_ratio)


def patch_size_of(model: nn.Module) -> tuple[int, int]:
    """Input pixels per patch token: the patch embedding's patch size for a plain ViT; for a hybrid,
    the CNN stem's stride times the projection kernel (R50+ViT-B/16: 16 × 1 = 16 px; R26+ViT-S/32:
    32 × 1 = 32 px), not timm's ``patch_embed.patch_size`` (1, in feature cells)."""
    embed = getattr(model, "patch_embed", None)
    if embed is None or not hasattr(embed, "patch_size"):
        raise UnsupportedModelError(f"{type(model).__name__} has no patch embedding; is it a ViT?")
    patch = _pair(embed.patch_size)
    stride = stem_stride_of(model)
    if stride is None:
        return patch
    return patch[0] * stride[0], patch[1] * stride[1]


def token_layout(model: nn.Module, input_hw: tuple[int, int]) -> TokenLayout:
    """Token layout for an input of ``input_hw`` pixels, from the model's own attributes."""
    embed = submodule(model, "patch_embed")
    patch = patch_size_of(model)
    grid = _pair(getattr(embed, "dynamic_feat_size")(input_hw)) if hasattr(embed, "dynamic_feat_size") else (
        input_hw[0] // patch[0], input_hw[1] // patch[1])
    names: list[str] = []
    if getattr(model, "cls_token", None) is not None:
        names.append("cls")
    if getattr(model, "dist_token", None) is not None:
        names.append("dist")
    names += [f"reg{i}" for i in range(int(getattr(model, "num_reg_tokens", 0) or 0))]
    expected = int(getattr(model, "num_prefix_tokens", len(names)))
    if expected != len(names):
        raise UnsupportedModelError(
            f"{type(model).__name__} has {expected} prefix tokens but vitviz recognised {names}")
    return TokenLayout(grid=grid, patch_size=patch, prefix_names=tuple(names), stem_stride=stem_stride_of(model))


def input_hw(config: dict[str, Any], size: SizeArg = None) -> tuple[int, int]:
    """The ``(H, W)`` to feed: ``size`` (int for square) or the config's native input size."""
    if size is None:
        return int(config["input_size"][1]), int(config["input_size"][2])
    return _pair(size)


def check_input_hw(model: nn.Module, hw: tuple[int, int]) -> None:
    """Refuse sizes the model cannot take, with the nearest sizes it can."""
    if not hasattr(model, "patch_embed"):
        if max(hw) > MAX_INPUT_SIDE:
            raise VitvizError(f"input size {hw[0]}×{hw[1]} is too large: at most {MAX_INPUT_SIDE} px a side")
        if min(hw) < 32:
            raise VitvizError(f"input size {hw[0]}×{hw[1]} must be within 32–{MAX_INPUT_SIDE} px")
        return
    ph, pw = patch_size_of(model)
    dynamic = bool(getattr(model, "dynamic_img_size", False))
    native = _pair(getattr(submodule(model, "patch_embed"), "img_size"))
    if not dynamic and tuple(hw) != native:
        raise VitvizError(f"this model takes only {native[0]}×{native[1]} px input")
    if max(hw) > MAX_INPUT_SIDE:
        raise VitvizError(f"input size {hw[0]}×{hw[1]} is too large: at most {MAX_INPUT_SIDE} px a side")
    if hw[0] % ph or hw[1] % pw or min(hw) < max(ph, pw):
        near = tuple(min(max(p, round(side / p) * p), MAX_INPUT_SIDE // p * p) for side, p in zip(hw, (ph, pw)))
        stride = stem_stride_of(model)
        why = "" if stride is None else \
            f" (the CNN stem's stride {stride[0]} × its {ph // stride[0]}×{pw // stride[1]} projection)"
        raise VitvizError(
            f"input size {hw[0]}×{hw[1]} is not usable: sides must be multiples of the patch size "
            f"{ph} px{why}, at most {MAX_INPUT_SIDE} px (try {near[0]}×{near[1]})")


@dataclass
class PreparedImage:
    """A network input and the exact RGB pixels it was made from.

    Attributes:
        tensor: ``(1, 3, H, W)`` float32, normalised with the config's mean/std.
        display: ``(H, W, 3)`` uint8, the resized and cropped image (what overlays are drawn on).
    """

    tensor: torch.Tensor
    display: np.ndarray

    @property
    def hw(self) -> tuple[int, int]:
        return int(self.tensor.shape[-2]), int(self.tensor.shape[-1])


def prepare_image(image: Image.Image, config: dict[str, Any], size: SizeArg = None) -> PreparedImage:
    """Resize and crop ``image`` with timm's eval transform for ``config``, then normalise."""
    from timm.data import create_transform

    hw = input_hw(config, size)
    full = create_transform(
        input_size=(3, *hw),
        interpolation=config.get("interpolation", "bicubic"),
        mean=config["mean"],
        std=config["std"],
        crop_pct=config.get("crop_pct", 1.0),
        crop_mode=config.get("crop_mode", "center"),
    )
    # timm's eval pipeline is [resize, crop, to-tensor, normalise]: keep the geometric part
    # so the display image is pixel-for-pixel the network input.
    geometric = [t for t in full.transforms if type(t).__name__ not in ("MaybeToTensor", "ToTensor", "Normalize")]
    pil = image.convert("RGB")
    for transform in geometric:
        pil = transform(pil)
    display = np.asarray(pil, dtype=np.uint8).copy()
    if display.shape[:2] != hw:
        raise VitvizError(f"preprocessing produced {display.shape[:2]}, expected {hw}")
    return PreparedImage(tensor=normalize(display, config["mean"], config["std"]), display=display)


def normalize(display: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``(H, W, 3)`` uint8 → ``(1, 3, H, W)`` float32, ``(x/255 - mean) / std``."""
    x = torch.from_numpy(display).permute(2, 0, 1).float().div_(255.0)
    m = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
    return ((x - m) / s).unsqueeze(0)


def denormalize(tensor: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Inverse of :func:`normalize`: ``(1|·, 3, H, W)`` → ``(H, W, 3)`` uint8 for display."""
    x = tensor.detach().float().cpu().reshape(3, *tensor.shape[-2:])
    m = torch.tensor(mean).view(3, 1, 1)
    s = torch.tensor(std).view(3, 1, 1)
    x = (x * s + m).clamp(0, 1).mul(255).round().to(torch.uint8)
    return x.permute(1, 2, 0).numpy()
