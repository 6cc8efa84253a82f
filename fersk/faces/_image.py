"""Photos as people take them: one reader for files, one check for arrays."""

from pathlib import Path

import numpy as np
from PIL import Image

from ..datasets import read_image_file, upright_image
from ..exceptions import ImageReadError, MissingImageError

__all__ = ["ImageReadError", "MissingImageError", "as_image", "as_photo", "read_image"]


def read_image(path, *, grayscale=False, max_pixels=None):
    """Read a photo upright, as a uint8 RGB (or grayscale) array.

    The same reader the dataset loaders use: the EXIF orientation is applied (a phone's
    portrait photo comes out upright); grayscale, palette, RGBA (laid over white), CMYK,
    16-bit and float images are converted; images over the decompression-bomb limit are
    refused.

    Parameters
    ----------
    path : str or path-like
    grayscale : bool, default=False
        Return ``(h, w)`` luminance instead of ``(h, w, 3)`` RGB.
    max_pixels : int, optional
        Refuse larger images (Pillow's ``Image.MAX_IMAGE_PIXELS``, about 89 million, by default).

    Returns
    -------
    ndarray of uint8, shape (h, w, 3) or (h, w)

    Raises
    ------
    ValueError
        Naming the file, when it is not an image, is corrupt or truncated, is over the
        decompression-bomb limit, or is a folder (an ``ImageReadError``); and when there is no such
        file (a ``MissingImageError``, also a ``FileNotFoundError``).

    Examples
    --------
    >>> import tempfile, os
    >>> from PIL import Image
    >>> path = os.path.join(tempfile.mkdtemp(), "grey.png")
    >>> Image.new("L", (40, 30), 128).save(path)
    >>> read_image(path).shape
    (30, 40, 3)
    >>> read_image(os.path.join(tempfile.mkdtemp(), "missing.jpg"))
    Traceback (most recent call last):
    ...
    fersk.exceptions.MissingImageError: cannot read image ...missing.jpg: no such file
    """
    if Path(path).is_dir():
        raise ImageReadError(path, "a folder, not an image file: pass its photos, sorted(Path(folder).glob('*.jpg'))")
    return read_image_file(path, grayscale=grayscale, max_pixels=max_pixels)


def as_image(item):
    """A path, a PIL image or an image array -> float32 ``(h, w)`` or ``(h, w, 3)`` with values 0-255.

    Arrays may be ``(h, w)``, ``(h, w, 1)``, ``(h, w, 3)`` or ``(h, w, 4)`` (alpha dropped),
    of any real dtype holding 0-255 values; paths are read with :func:`read_image`, and
    PIL images converted as it converts them.
    """
    if isinstance(item, (str, Path)):
        return read_image(item).astype(np.float32)
    if isinstance(item, Image.Image):
        return np.asarray(upright_image(item, "RGB"), dtype=np.float32)
    array = np.asarray(item)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"an image must be a path or a numeric array, got {type(item).__name__} of {array.dtype}")
    array = array.astype(np.float32, copy=False)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"an image must be (h, w), (h, w, 1), (h, w, 3) or (h, w, 4); got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("an image holds NaN or inf pixels")
    return array[..., :3] if array.ndim == 3 else array


def refuse_0_1(item):
    """Refuse a floating-point array whose values run from 0 to 1: a detector finds no face in it,
    silently. Only the dtype given counts: a uint8 image as dark as 0-1 or a bool mask passes;
    paths and PIL images are read as uint8 and pass.

    Raises
    ------
    ValueError
        Saying to pass ``image * 255``.
    """
    if isinstance(item, (str, Path, Image.Image)):
        return
    array = np.asarray(item)
    if np.issubdtype(array.dtype, np.floating) and array.size and 0 < array.max() <= 1:
        raise ValueError(
            "an image's pixel values must run from 0 to 255, and these floats run from 0 to 1 (as skimage.io "
            "and matplotlib read some images); pass image * 255"
        )


def as_photo(item):
    """:func:`as_image`, refusing a floating-point array that runs from 0 to 1 (see :func:`refuse_0_1`)."""
    image = as_image(item)
    refuse_0_1(item)
    return image


def gray(image):
    """Luminance (ITU-R 601, as Pillow's ``L``) of a float image; a 2-D image is returned as is."""
    return image if image.ndim == 2 else image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
