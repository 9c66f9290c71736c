"""Read user images safely into RGB PIL images.

Conventions: EXIF orientation is applied; transparency is composited on white;
animated files give their first frame; anything over :data:`MAX_PIXELS` is refused
from its header, before it is decoded (decompression bombs).
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import BinaryIO, Union

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError

#: The bundled sample photos (package data: ``vitviz/samples/*.jpg``, licences in its README).
SAMPLES = Path(__file__).resolve().parent / "samples"
MAX_PIXELS = 64_000_000  # above any phone photo (48–50 MP); refuses decompression bombs
MAX_BYTES = 50 * 1024 * 1024
ImageSource = Union[str, os.PathLike, bytes, BinaryIO, Image.Image]


def load_image(source: ImageSource, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open ``source`` (path, bytes, file object or PIL image) as an RGB image.

    Raises:
        ImageError: empty, unreadable, not an image, or larger than ``max_pixels``.
    """
    if isinstance(source, Image.Image):
        return _to_rgb(_first_frame(source))
    name = str(source) if isinstance(source, (str, os.PathLike)) else "upload"
    data = _read_bytes(source, name)
    if not data:
        raise ImageError(f"{name}: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size  # from the header; nothing decoded yet
            if width * height > max_pixels:
                raise ImageError(f"{name}: {width}×{height} pixels is more than the limit of "
                                 f"{max_pixels / 1e6:.0f} megapixels")
            image = _first_frame(image)
            image.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{name}: image too large to decode safely (over {max_pixels / 1e6:.0f} megapixels)") from exc
    except UnidentifiedImageError as exc:
        raise ImageError(f"{name}: not an image format vitviz can read") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # truncated or corrupt data
        raise ImageError(f"{name}: the image data is damaged ({str(exc)[:120]})") from exc
    return _to_rgb(image)


def _read_bytes(source: ImageSource, name: str) -> bytes:
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"{name}: no such file")
        if path.stat().st_size > MAX_BYTES:
            raise ImageError(f"{name}: file is larger than {MAX_BYTES // 2**20} MB")
        data = path.read_bytes()
    else:
        data = source.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ImageError(f"{name}: file is larger than {MAX_BYTES // 2**20} MB")
    return data


def _first_frame(image: Image.Image) -> Image.Image:
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    """Apply EXIF orientation, composite alpha on white, and convert any mode to 8-bit RGB."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        image = _rescale_high_bit_depth(image)
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def _rescale_high_bit_depth(image: Image.Image) -> Image.Image:
    """Map 16-bit / 32-bit grayscale to 8 bits by its actual range (PIL would clip)."""
    import numpy as np

    array = np.asarray(image, dtype=np.float64)
    lo, hi = float(array.min()), float(array.max())
    scaled = (array - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(array)
    return Image.fromarray(scaled.round().astype(np.uint8), mode="L")


def sample_paths() -> list[Path]:
    """The bundled sample photos, sorted by name (``cat`` is :data:`SAMPLES` ``/ "cat.jpg"``)."""
    return sorted(SAMPLES.glob("*.jpg"))
