"""Photos are read as people see them, and bad files are refused with their name."""

import sys
import types

import numpy as np
import pytest
from PIL import Image

from fersk.datasets import decode_images
from fersk.faces import ImageReadError, MissingImageError, read_image


def _marked(size=(40, 24)):
    """A dark RGB image, ``size`` = (width, height), with a bright block at its top-left corner."""
    image = np.full((size[1], size[0], 3), 30, np.uint8)
    image[:6, :8] = 250
    return image


def test_an_exif_rotated_jpeg_is_read_upright(tmp_path):
    stored = _marked((40, 24))  # stored wide, the block top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the viewer turns it 90 degrees clockwise
    path = tmp_path / "portrait.jpg"
    Image.fromarray(stored).save(path, exif=exif, quality=95)
    upright = read_image(path)
    assert upright.shape == (40, 24, 3)  # shown tall
    assert upright[:8, -6:].mean() > 200 and upright[:8, :6].mean() < 80  # the block is now top-right
    # the loaders read through the same reader
    images, ok, _ = decode_images([path], image_size=None, grayscale=False, cache_dir=False)
    np.testing.assert_array_equal(images[0], upright)


def test_modes_are_converted(tmp_path):
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, 6:, 3] = 255  # the left half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    out = read_image(tmp_path / "rgba.png")
    assert out.shape == (10, 12, 3)
    assert (out[:, :6] == 255).all()  # transparent pixels over white, as a viewer shows them
    assert (out[:, 6:] == [200, 0, 0]).all()

    Image.new("CMYK", (12, 10), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg", quality=100)  # pure red in print
    red = read_image(tmp_path / "cmyk.jpg")
    assert red.shape == (10, 12, 3) and red[..., 0].min() > 230 and red[..., 1:].max() < 30

    deep = (np.arange(120, dtype=np.uint16).reshape(10, 12) * 500).astype(np.uint16)  # 0 to 59,500
    Image.fromarray(deep).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    grey = read_image(tmp_path / "deep.png", grayscale=True)
    assert grey.dtype == np.uint8 and grey.max() == round(59500 / 257) and grey[0, 1] == 2  # scaled, not clipped

    Image.fromarray(np.full((10, 12), 77, np.uint8)).save(tmp_path / "grey.png")
    assert (read_image(tmp_path / "grey.png") == 77).all() and read_image(tmp_path / "grey.png").shape == (10, 12, 3)

    palette = Image.new("P", (12, 10), 3)
    palette.putpalette([0, 0, 0] * 3 + [10, 200, 30] + [0, 0, 0] * 252)
    palette.save(tmp_path / "palette.gif")
    assert (read_image(tmp_path / "palette.gif") == [10, 200, 30]).all()


def test_bad_files_are_refused_with_their_name(tmp_path, monkeypatch):
    (tmp_path / "notes.jpg").write_bytes(b"not an image at all")
    with pytest.raises(ValueError, match=r"cannot read image .*notes\.jpg: not an image"):
        read_image(tmp_path / "notes.jpg")

    Image.fromarray(_marked((64, 64))).save(tmp_path / "whole.jpg")
    data = (tmp_path / "whole.jpg").read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageReadError, match=r"truncated\.jpg: corrupt image") as caught:
        read_image(tmp_path / "truncated.jpg")
    assert caught.value.reason == "corrupt image" and caught.value.path.endswith("truncated.jpg")

    with pytest.raises(ValueError, match=r"whole\.jpg: image over the decompression-bomb limit"):
        read_image(tmp_path / "whole.jpg", max_pixels=1000)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow's own limit, as the loaders use it
    with pytest.raises(ValueError, match="decompression-bomb"):
        read_image(tmp_path / "whole.jpg")

    with pytest.raises(MissingImageError, match=r"cannot read image .*absent\.png: no such file"):
        read_image(tmp_path / "absent.png")
    with pytest.raises(FileNotFoundError):  # also what a Python user expects for a missing file
        read_image(tmp_path / "absent.png")
    with pytest.raises(ImageReadError, match=r"cannot read image .*: a folder, not an image file: pass its photos"):
        read_image(tmp_path)  # not "no such file": the folder is there; fersk predict takes folders, Python lists


HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)  # the start of an iPhone's photo


def test_a_heic_photo_says_which_plugin_to_install(tmp_path, monkeypatch):
    # "cannot identify image file" / "not an image" left an iPhone user without a next step
    from fersk.datasets import _decode

    monkeypatch.setattr(_decode, "_heif_plugin", lambda: None)  # whatever this machine has installed
    (tmp_path / "IMG_0001.HEIC").write_bytes(HEIC)
    with pytest.raises(ImageReadError, match=r"IMG_0001\.HEIC: a HEIC/HEIF photo .* pip install pi-heif"):
        read_image(tmp_path / "IMG_0001.HEIC")
    (tmp_path / "notes.heic").write_text("not a photo at all\n" * 5)  # the suffix alone is not enough
    with pytest.raises(ImageReadError, match="not an image"):
        read_image(tmp_path / "notes.heic")


def test_a_heif_plugin_installed_is_registered_once_and_tried(tmp_path, monkeypatch):
    from fersk.datasets import _decode

    registered = []
    monkeypatch.setitem(
        sys.modules, "fake_heif", types.SimpleNamespace(register_heif_opener=lambda: registered.append(1))
    )
    monkeypatch.setattr(_decode, "_heif_plugin", lambda: "fake_heif")
    monkeypatch.setattr(_decode, "_HEIF_REGISTERED", set())
    (tmp_path / "a.heic").write_bytes(HEIC)
    for _ in range(2):  # a plugin that cannot read this file: corrupt, and no second registration
        with pytest.raises(ImageReadError, match="corrupt image"):
            read_image(tmp_path / "a.heic")
    assert registered == [1]
