"""Read user images safely into RGB PIL images.

Conventions: EXIF orientation is applied; transparency is composited on white;
animated files give their first frame; anything over :data:`MAX_PIXELS` is refused
from its header, before it is decoded (decompression bombs). Only the formats the app and
README document are opened (:data:`FORMATS`: JPEG, PNG, WebP, BMP, TIFF, GIF): Pillow's other
plugins never see the bytes, so e.g. an EPS file named ``.png`` never reaches Ghostscript.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import BinaryIO, Union

from PIL import Image, ImageOps, UnidentifiedImageError

from vitviz.errors import ImageError

#: The bundled sample photos (package data: ``vitviz/samples/*.jpg``, licences in its README).
SAMPLES = Path(__file__).resolve().parents[1] / "samples"
MAX_PIXELS = 64_000_000  # above any phone photo (48–50 MP); refuses decompression bombs
MAX_BYTES = 50 * 1024 * 1024
ImageBytes = Union[str, os.PathLike, bytes, BinaryIO]  # what holds an encoded image
ImageSource = Union[ImageBytes, Image.Image]
# Pillow format names tried on open; MPO is what Pillow calls a JPEG with extra pictures (phone photos).
FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")
OPENED_FORMATS = frozenset(FORMATS) | {"MPO"}
FORMATS_TEXT = "JPEG, PNG, WebP, BMP, TIFF or GIF"
#: File name suffixes of :data:`FORMATS` (lower case): what the CLI takes from a folder and the app's upload accepts.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")


def load_image(source: ImageSource, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open ``source`` (path, bytes, file object or PIL image) as an RGB image.

    Raises:
        ImageError: empty, unreadable (no such file, a folder, no permission), not one of
            :data:`FORMATS`, damaged, or larger than ``max_pixels``.
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
            image: Image.Image = Image.open(io.BytesIO(data), formats=FORMATS)
            if image.format not in OPENED_FORMATS:  # defence in depth: never decode another format
                raise ImageError(f"{name}: {image.format} is not a format vitviz reads ({FORMATS_TEXT})")
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
        raise ImageError(f"{name}: not an image format vitviz can read ({FORMATS_TEXT})") from exc
    except Exception as exc:  # truncated or corrupt data: OSError, ValueError, SyntaxError, EOFError, and
        # whatever else a decoder raises on a damaged file, e.g. TypeError("Missing dimensions") from a
        # TIFF frame without a width, met when the frames are counted
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise ImageError(f"{name}: the image data is damaged ({reason})") from exc
    return _to_rgb(image)


def _read_bytes(source: ImageBytes, name: str) -> bytes:
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            raise ImageError(f"{name}: is a folder, not an image file")
        if not path.is_file():
            raise ImageError(f"{name}: no such file")
        try:
            if path.stat().st_size > MAX_BYTES:
                raise ImageError(f"{name}: file is larger than {MAX_BYTES // 2**20} MB")
            data = path.read_bytes()
        except OSError as exc:  # no permission, a disk error, removed meanwhile
            raise ImageError(f"{name}: cannot read the file ({exc.strerror or type(exc).__name__})") from exc
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


#: The longest side an image keeps once decoded for the analyses: the largest network input the app offers
#: is 1024 px, so 2048 px loses nothing they use, and an 8000×8000 upload holds 12 MiB instead of 183 MiB.
MAX_SIDE = 2048


def fit_within(image: Image.Image, max_side: int = MAX_SIDE) -> Image.Image:
    """``image`` scaled down (Lanczos, aspect kept) so its longer side is at most ``max_side``; smaller
    images are returned as they are."""
    if max(image.size) <= max_side:
        return image
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def scaled_png(data: bytes, max_side: int = MAX_SIDE) -> bytes:
    """``data`` as it is when its image fits ``max_side``, else a PNG of it scaled down (:func:`fit_within`),
    made in memory. Raises :class:`ImageError` for what :func:`load_image` refuses."""
    image = load_image(data)
    if max(image.size) <= max_side:
        return data
    out = io.BytesIO()
    fit_within(image, max_side).save(out, "PNG")
    return out.getvalue()
