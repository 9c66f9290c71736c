"""What a run is about: the :class:`Selection` the sidebar makes (model, image, size; its :attr:`~Selection.key`
starts every cache key), the bundled samples as selections, and uploads as a session keeps them.
"""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Optional

import streamlit as st

from vitviz.loading.catalog import short_label
from vitviz.inputs.images import SAMPLES
from vitviz_dashboard.caches import cached, release_memory


@dataclass(frozen=True)
class Selection:
    """What the sidebar chose for this run; every page reads it."""

    model: str
    pretrained: bool
    device: str  # resolved: "cpu" or "cuda"
    weights_dir: Optional[str]
    image_label: str
    image_key: str  # sha256 of the bytes: cache key, never a file name
    image_bytes: bytes
    size: Optional[tuple[int, int]]
    model_label: str = ""
    presenter: bool = False

    @property
    def short_label(self) -> str:
        return short_label(self.model_label) if self.model_label else self.model

    @property
    def untrained(self) -> bool:
        return not self.pretrained

    @property
    def model_key(self) -> tuple:
        """Which model: name, weights folder, device, pretrained (the models cache's key)."""
        return self.model, self.weights_dir, self.device, self.pretrained

    @property
    def key(self) -> tuple:
        """Which analysis: the model, the image's digest and the input size (every result's key starts so)."""
        return (*self.model_key, self.image_key, self.size)

    def with_model(self, name: str, pretrained: bool = True) -> "Selection":
        """The same image through another model at that model's own input size."""
        return dataclasses.replace(self, model=name, pretrained=pretrained, size=None, model_label="")


def upload_bytes(data: bytes) -> bytes:
    """What a session keeps of an upload: the file itself, or, when it is larger than the analyses use
    (:data:`vitviz.inputs.images.MAX_SIDE`), a PNG of it scaled down, made once per server as soon as it is
    decoded. An 8000×8000 upload of 187 KB decoded to 183 MiB in every analysis that read it."""
    from vitviz.inputs.images import scaled_png

    def make() -> bytes:
        kept = scaled_png(data)
        if kept is not data:
            release_memory()  # the full-size decode is garbage now: hand it back to the system
        return kept

    return cached("upload", (hashlib.sha256(data).hexdigest(),), make)


def images_key(images: tuple[bytes, ...]) -> str:
    digest = hashlib.sha256()
    for data in images:
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


@st.cache_data(max_entries=32, show_spinner=False)
def sample_bytes(name: str) -> bytes:
    return (SAMPLES / f"{name}.jpg").read_bytes()


def sample_names() -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob("*.jpg"))


def sample_selections(sel: Selection) -> tuple[list[Selection], list[str]]:
    """``sel`` (same model, weights, device and size) on every bundled sample, and the samples' names."""
    from vitviz.text.i18n import t

    names = sample_names()
    sels = []
    for name in names:
        data = sample_bytes(name)
        sels.append(dataclasses.replace(sel, image_key=hashlib.sha256(data).hexdigest(), image_bytes=data,
                                        image_label=t("sidebar.sample_label", name=name)))
    return sels, names
