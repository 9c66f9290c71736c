"""Cut an image into the ViT's patch sequence (paper Eq. 1: x ∈ R^{H×W×C} → x_p ∈ R^{N×(P²·C)}).

Convention: patches are taken in row-major order over the ``(gh, gw)`` grid, the same order
as timm's patch tokens; each patch is flattened in ``(row, column, channel)`` order, the
paper's ``P·P·C``. (timm's conv weight is ``(D, C, P, P)``: the same numbers, channel-first.)

For a hybrid (``TokenLayout.hybrid``) the pixels of a P×P patch (P = the CNN stem's stride ×
the projection kernel, 16 px for R50+ViT-B/16) are the region the token's feature cell sits over,
not the token's input: the model projects the stem's C-channel feature cell
(:attr:`vitviz.analysis.embedding.EmbeddingStages.stem_features`), whose receptive field is
larger than the patch. Cutting the image with that P still gives the token grid and order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np


@dataclass(frozen=True)
class Patches:
    """An image as patches.

    Attributes:
        patches: ``(gh·gw, ph, pw, C)``.
        grid: ``(gh, gw)``.
    """

    patches: np.ndarray
    grid: tuple[int, int]

    @property
    def sequence(self) -> np.ndarray:
        """``(gh·gw, ph·pw·C)``: each patch flattened, the input rows of the linear projection."""
        return self.patches.reshape(self.patches.shape[0], -1)


def patchify(image: np.ndarray, patch_size: Union[int, tuple[int, int]]) -> Patches:
    """Split ``(H, W, C)`` (or ``(H, W)``) into non-overlapping patches; H, W must be multiples."""
    ph, pw = (patch_size, patch_size) if isinstance(patch_size, int) else patch_size
    if image.ndim == 2:
        image = image[..., None]
    height, width, channels = image.shape
    if height % ph or width % pw:
        raise ValueError(f"image {height}×{width} is not a whole number of {ph}×{pw} patches")
    gh, gw = height // ph, width // pw
    patches = image.reshape(gh, ph, gw, pw, channels).transpose(0, 2, 1, 3, 4).reshape(gh * gw, ph, pw, channels)
    return Patches(patches=patches, grid=(gh, gw))


def unpatchify(patches: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`patchify`: ``(gh·gw, ph, pw, C)`` → ``(gh·ph, gw·pw, C)``."""
    gh, gw = grid
    n, ph, pw, channels = patches.shape
    if n != gh * gw:
        raise ValueError(f"{n} patches do not fill a {gh}×{gw} grid")
    return patches.reshape(gh, gw, ph, pw, channels).transpose(0, 2, 1, 3, 4).reshape(gh * ph, gw * pw, channels)
