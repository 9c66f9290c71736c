"""The parts of a timm model that vitviz reads, typed: submodules, a ViT's blocks, its attention heads.

torch types ``nn.Module.__getattr__`` as ``Tensor | Module`` (it finds registered parameters, buffers
and submodules), so ``model.blocks[0].attn`` type-checks as either. :func:`submodule` checks that a part
is a module and returns it as one. Plain attributes of timm's classes (``num_heads``, ``scale``,
``img_size``) and the methods a subclass adds (``forward_head``) are no registered parts: they are read
with ``getattr``, which types them as ``Any``, what is known of them for an arbitrary ``nn.Module``.
"""
from __future__ import annotations

from torch import nn

from vitviz.errors import UnsupportedModelError


def submodule(module: nn.Module, name: str) -> nn.Module:
    """``module.<name>``, a submodule (a timm ViT's ``patch_embed`` or ``blocks``, a block's ``attn``).

    Raises AttributeError, as ``module.<name>`` does, when there is no such attribute, and
    :class:`UnsupportedModelError` when it is not a module.
    """
    part = getattr(module, name)
    if not isinstance(part, nn.Module):
        raise UnsupportedModelError(f"{type(module).__name__}.{name} is a {type(part).__name__}, not a module")
    return part


def transformer_blocks(model: nn.Module) -> list[nn.Module]:
    """A timm ViT's ``model.blocks`` (an ``nn.Sequential`` or ``nn.ModuleList``), in depth order."""
    blocks = submodule(model, "blocks")
    if not isinstance(blocks, (nn.Sequential, nn.ModuleList)):
        raise UnsupportedModelError(f"{type(model).__name__}.blocks is a {type(blocks).__name__}, "
                                    "not a sequence of blocks")
    return list(blocks)


def attention_heads(model: nn.Module) -> int:
    """Attention heads of a timm ViT: ``model.blocks[0].attn.num_heads``."""
    return int(getattr(submodule(transformer_blocks(model)[0], "attn"), "num_heads"))


def num_classes(model: nn.Module) -> int:
    """Size of the model's classifier head; 0 for a backbone without one (timm's ``num_classes``)."""
    return int(getattr(model, "num_classes", 0) or 0)
