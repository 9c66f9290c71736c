"""Error types raised by vitviz.

Every failure a user can cause (bad model name, missing weights, unreadable image,
impossible parameter) is a :class:`VitvizError` with a one-line message that says
what went wrong and what to do; the CLI prints it without a traceback and the app
shows it in the page.
"""
from __future__ import annotations


class VitvizError(Exception):
    """Base class for errors caused by input or environment, not by a bug."""


class UnknownModelError(VitvizError, KeyError):
    """The model name is neither in the registry, nor timm's, nor the weights folder."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class WeightsNotFoundError(VitvizError):
    """No pretrained weights could be found locally or fetched from the hub."""


class WeightsError(VitvizError):
    """Weights exist but cannot be used (corrupt file, unsafe pickle, shape mismatch)."""


class ImageError(VitvizError):
    """The input is not an image vitviz can read."""


class UnsupportedModelError(VitvizError):
    """The model lacks what an analysis needs (e.g. attention blocks, position embeddings)."""
