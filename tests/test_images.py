"""The image loader: what a phone or a browser upload can throw at it."""
import io

import numpy as np
import pytest
from PIL import Image

from vitviz.errors import ImageError
from vitviz.inputs.images import load_image


def encode(image, fmt, **kw):
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def test_rgba_is_composited_on_white():
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))  # fully transparent red
    out = load_image(encode(rgba, "PNG"))
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (255, 255, 255)


def test_exif_orientation_is_applied():
    img = Image.new("RGB", (40, 20), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 20, 20))  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = load_image(encode(img, "JPEG", exif=exif))
    assert out.size == (20, 40)
    assert np.asarray(out)[:10].mean() > 200  # the white half is on top after rotation


def test_animated_gif_gives_first_frame():
    frames = [Image.new("P", (8, 8), i) for i in (1, 2)]
    frames[0].putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert load_image(data).getpixel((0, 0)) == (255, 0, 0)


def test_sixteen_bit_grayscale_uses_its_range():
    arr = np.linspace(1000, 3000, 64, dtype=np.uint16).reshape(8, 8)
    out = np.asarray(load_image(encode(Image.fromarray(arr), "PNG")))
    assert out.shape == (8, 8, 3) and out.min() == 0 and out.max() == 255


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"\x00garbage" * 50, "not an image"),
    (b"%PDF-1.4\n1 0 obj\n", "not an image"),
])
def test_bad_bytes_are_image_errors(data, message):
    with pytest.raises(ImageError, match=message):
        load_image(data)


def test_truncated_jpeg_is_an_image_error():
    data = encode(Image.new("RGB", (64, 64), (10, 20, 30)), "JPEG")
    with pytest.raises(ImageError, match="damaged"):
        load_image(data[: len(data) // 2])


def test_decompression_bomb_refused_before_decoding():
    data = encode(Image.new("1", (10000, 10000)), "PNG")  # 100 MP, a few KB on disk
    assert len(data) < 100_000
    with pytest.raises(ImageError, match="megapixels"):
        load_image(data)


# An EPS file (what a "photo.png" from a design tool can really be): Pillow would hand it to Ghostscript.
EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n%%EndComments\n"
       b"newpath 0 0 moveto 8 8 lineto stroke\nshowpage\n%%EOF\n")


def test_eps_named_png_never_reaches_ghostscript(tmp_path, monkeypatch):
    from PIL import EpsImagePlugin

    def ghostscript(*args, **kwargs):
        raise AssertionError("Ghostscript was called")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", ghostscript)
    assert Image.open(io.BytesIO(EPS)).format == "EPS"  # Pillow alone would take it
    photo = tmp_path / "photo.png"
    photo.write_bytes(EPS)
    for source in (photo, EPS, io.BytesIO(EPS)):
        with pytest.raises(ImageError, match="not an image format vitviz can read") as err:
            load_image(source)
        assert "JPEG, PNG, WebP, BMP, TIFF or GIF" in str(err.value)


def test_only_the_documented_formats_are_opened():
    """Formats Pillow reads but the app does not document are refused; a phone's MPO JPEG is a JPEG."""
    for fmt in ("PCX", "TGA", "PPM", "ICO"):
        with pytest.raises(ImageError, match="not an image format"):
            load_image(encode(Image.new("RGB", (8, 8), (1, 2, 3)), fmt))
    mpo = encode(Image.new("RGB", (8, 8), (1, 2, 3)), "MPO", save_all=True,
                 append_images=[Image.new("RGB", (8, 8), (9, 9, 9))])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    first = load_image(mpo)  # the first picture, JPEG-coded (lossy)
    assert first.size == (8, 8) and max(abs(a - b) for a, b in zip(first.getpixel((0, 0)), (1, 2, 3))) <= 2


def test_unreadable_file_and_folder_are_image_errors(tmp_path):
    with pytest.raises(ImageError, match="is a folder, not an image file"):
        load_image(tmp_path)
