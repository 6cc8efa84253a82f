"""Parallel, cached decoding of image files into one uint8 array."""

import threading
import warnings
from importlib import import_module
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from PIL import Image, UnidentifiedImageError

from ..exceptions import FerskDataWarning, ImageReadError, MissingImageError
from ._cache import cached, file_fingerprint

# HEIC/HEIF (iPhones' photos) need a plugin: listed, so that such files are named with the reason, not ignored
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".avif")
IMAGE_EXTENSIONS += (".heic", ".heif")
_PARALLEL_THRESHOLD = 1000  # below this, starting worker processes costs more than it saves
_CHUNK = 512


def check_image_size(image_size):
    """Validate ``image_size``: None, an int, or a ``(height, width)`` pair."""
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)):
        image_size = (int(image_size), int(image_size))
    try:
        height, width = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be None, an int or a (height, width) pair, got {image_size!r}") from None
    if height < 1 or width < 1:
        raise ValueError(f"image_size must be positive, got {image_size!r}")
    return height, width


BOMB = "image over the decompression-bomb limit"
NOT_IMAGE = "not an image"
CORRUPT = "corrupt image"
MISSING = "no such file"
HEIF = (
    "a HEIC/HEIF photo (as iPhones take them), which Pillow reads only with a plugin: pip install pi-heif "
    "(or pillow-heif), or save the photo as JPEG"
)
# the brands of an ISO media file's "ftyp" box that mark a HEIF image (AVIF, which Pillow reads, is not one)
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
_HEIF_REGISTERED = set()  # the plugins registered with Pillow in this process
_HEIF_LOCK = threading.Lock()


def upright_image(image, mode):
    """``image`` turned as its EXIF orientation says and converted to ``mode`` ("L" or "RGB").

    16-bit and 32-bit integer images are scaled to 0-255 (not clipped), float images are
    clipped to 0-255, and transparent pixels are laid over white, as a viewer shows them.
    """
    from PIL import ImageOps

    image = ImageOps.exif_transpose(image)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float64)
        if image.mode != "F" and (image.mode.startswith("I;16") or values.max(initial=0) > 255):
            values = values / 257.0  # 65535 -> 255
        image = Image.fromarray(np.clip(np.round(values), 0, 255).astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image.convert("RGBA"))
    return image.convert(mode)


def read_image_file(path, *, grayscale=False, image_size=None, max_pixels=None, _heif_retry=True):
    """Decode one image file into a uint8 array, upright, as a person looking at it sees it.

    The one reader of image files in fersk: the loaders, ``fersk.faces.read_image`` and
    face cropping all decode through it. The EXIF orientation is applied; grayscale,
    palette, RGBA/LA (over white), CMYK, 16-bit and float images are converted; of an
    animated GIF, WebP or PNG, or a multi-page TIFF, the first frame is read. HEIC/HEIF
    photos are read when pi-heif or pillow-heif is installed, and refused saying to install
    one otherwise.

    Parameters
    ----------
    path : path-like
    grayscale : bool, default=False
        One channel (``L``, shape ``(h, w)``) or RGB (shape ``(h, w, 3)``).
    image_size : (int, int), optional
        ``(height, width)`` to resize to (bilinear).
    max_pixels : int, optional
        Images with more pixels are refused (Pillow's ``Image.MAX_IMAGE_PIXELS`` by default).

    Returns
    -------
    ndarray of uint8

    Raises
    ------
    ImageReadError
        A ``ValueError`` naming the file, with its ``reason``: a decompression bomb, not an
        image, or corrupt; :class:`MissingImageError` (also a ``FileNotFoundError``) when
        there is no file.
    """
    if max_pixels is None:
        max_pixels = Image.MAX_IMAGE_PIXELS or np.iinfo(np.int64).max
    if not Path(path).is_file():
        raise MissingImageError(path, MISSING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > max_pixels:
                    raise ImageReadError(path, BOMB)
                image = upright_image(image, "L" if grayscale else "RGB")
                if image_size is not None and image.size != (image_size[1], image_size[0]):
                    image = image.resize((image_size[1], image_size[0]), Image.Resampling.BILINEAR)
                return np.asarray(image, dtype=np.uint8)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageReadError(path, BOMB) from None
    except UnidentifiedImageError:
        if not _is_heif(path):
            raise ImageReadError(path, NOT_IMAGE) from None
        if _heif_retry and _register_heif_opener():  # once more, with the plugin registered
            options = dict(grayscale=grayscale, image_size=image_size, max_pixels=max_pixels, _heif_retry=False)
            return read_image_file(path, **options)
        raise ImageReadError(path, HEIF if _heif_plugin() is None else CORRUPT) from None
    except ImageReadError:
        raise
    except (OSError, SyntaxError, ValueError):  # truncated or corrupt files
        raise ImageReadError(path, CORRUPT) from None


def count_frames(path):
    """The frames of an image file: more than 1 for an animated GIF, WebP or PNG, or a multi-page TIFF
    (:func:`read_image_file` reads the first); 1 for a still image, and for a file Pillow cannot open."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the reader refuses it, if it must
            with Image.open(path) as image:
                return int(getattr(image, "n_frames", 1))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return 1


def _is_heif(path):
    """Whether the file starts as a HEIF image does (an ISO media ``ftyp`` box with a HEIF brand)."""
    with open(path, "rb") as handle:
        head = handle.read(12)
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def _heif_plugin():
    """The name of the HEIF plugin installed, pi-heif's or pillow-heif's module; None without one."""
    from importlib.util import find_spec

    return next((name for name in ("pi_heif", "pillow_heif") if find_spec(name) is not None), None)


def _register_heif_opener():
    """Let Pillow open HEIF images with pi-heif or pillow-heif, registered once per process; whether
    one is registered (False: none is installed)."""
    name = _heif_plugin()
    if name is None:
        return False
    with _HEIF_LOCK:  # decoding threads may meet their first HEIF photos at once
        if name not in _HEIF_REGISTERED:
            import_module(name).register_heif_opener()
            _HEIF_REGISTERED.add(name)
    return True


def _decode_one(path, image_size, grayscale, max_pixels):
    """Decode one file; return an array, or the reason it cannot be used."""
    try:
        return read_image_file(path, grayscale=grayscale, image_size=image_size, max_pixels=max_pixels)
    except ImageReadError as error:
        return error.reason


def _decode_chunk(paths, image_size, grayscale, max_pixels):
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return [_decode_one(p, image_size, grayscale, max_pixels) for p in paths]


def _decode_all(paths, image_size, grayscale, max_pixels, n_jobs):
    if n_jobs is None:
        n_jobs = -1 if len(paths) >= _PARALLEL_THRESHOLD else 1
    chunks = [paths[i : i + _CHUNK] for i in range(0, len(paths), _CHUNK)]
    results = Parallel(n_jobs=n_jobs)(
        delayed(_decode_chunk)(chunk, image_size, grayscale, max_pixels) for chunk in chunks
    )
    decoded = [item for chunk in results for item in chunk]
    ok = np.array([not isinstance(item, str) for item in decoded], dtype=bool)
    reasons = np.array(["" if good else item for good, item in zip(ok, decoded)], dtype=str)
    arrays = [item for good, item in zip(ok, decoded) if good]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        first = {}
        for path, array in zip([p for p, g in zip(paths, ok) if g], arrays):
            first.setdefault(array.shape, path)
        examples = ", ".join(f"{'x'.join(map(str, s))} ({p})" for s, p in list(first.items())[:2])
        raise ValueError(
            f"images have different sizes: {examples}; pass image_size=(height, width) to resize them all to one size"
        )
    if arrays:
        images = np.stack(arrays)
    else:
        images = np.zeros((0, *(image_size or (0, 0))), dtype=np.uint8)
    return {"images": images, "ok": ok, "reasons": reasons}


def decode_images(paths, *, image_size, grayscale, n_jobs=None, cache_dir=None, max_pixels=None):
    """Decode image files into one array, in parallel and cached on disk.

    Parameters
    ----------
    paths : list of str
        Files to decode.
    image_size : (int, int) or None
        ``(height, width)`` to resize to; None keeps the native size, which must then
        be the same for all images.
    grayscale : bool
        Convert to one channel (``L``) or to RGB.
    n_jobs : int or None
        Worker processes; None uses all cores for large lists and one for small ones.
    cache_dir : path-like, None or False
        See :func:`fersk.datasets.default_cache_dir`; False disables the cache.
    max_pixels : int or None
        Images with more pixels are refused (Pillow's ``Image.MAX_IMAGE_PIXELS`` by default).

    Returns
    -------
    images : ndarray of uint8, shape (n_ok, h, w) or (n_ok, h, w, 3)
    ok : ndarray of bool, shape (len(paths),)
        Which paths were decoded.
    reasons : ndarray of str, shape (len(paths),)
        Why each path that was not decoded was skipped ("" where decoded).
    """
    image_size = check_image_size(image_size)
    if max_pixels is None:
        max_pixels = Image.MAX_IMAGE_PIXELS or np.iinfo(np.int64).max
    paths = [str(p) for p in paths]
    # "upright": images decoded since the reader applies EXIF orientation are cached apart; and
    # HEIC photos refused for want of a plugin are decoded again once one is installed
    key = [file_fingerprint(paths), repr(image_size), repr(bool(grayscale)), repr(max_pixels), "upright"]
    key.append(repr(_heif_plugin()))
    result = cached(
        cache_dir,
        "images",
        key,
        lambda: _decode_all(paths, image_size, grayscale, max_pixels, n_jobs),
    )
    return result["images"], result["ok"], result["reasons"]


def decode_entries(root, entries, names, skipped, **options):
    """Decode the files ``names`` (relative to ``root``) of ``entries``.

    Files that cannot be used are listed in ``skipped`` under their reason; returns
    the images and the entries that were decoded. ``options`` go to :func:`decode_images`.
    """
    images, ok, reasons = decode_images([Path(root) / name for name in names], **options)
    for name, reason in zip(names, reasons):
        if reason:
            skipped.setdefault(str(reason), []).append(name)
    return images, [entry for entry, good in zip(entries, ok) if good]


def warn_skipped(loader, skipped):
    """Emit one warning that counts what ``loader`` skipped, by reason."""
    total = sum(len(v) for v in skipped.values())
    if total:
        counts = "; ".join(f"{len(v)} {reason}" for reason, v in skipped.items() if v)
        warnings.warn(
            f"{loader} skipped {total} item(s): {counts}. The Bunch's 'skipped' lists them.",
            FerskDataWarning,
            stacklevel=3,
        )
