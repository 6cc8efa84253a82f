"""The one path from a photo to the pixels a model sees: read, detect, cut out, and the no-face fallback.

Every door that turns photos into a model's input goes through here: :func:`analyze_faces`
and ``fersk predict``, :class:`fersk.FaceCropper`, :func:`fersk.preprocessing.crop_faces`
and ``fersk evaluate`` (through it), and :func:`fersk.analyze_video` for its frames. So a
photo gives the same rows whichever door it comes in by (``tests/faces/test_one_path.py``).
"""

from pathlib import Path

import numpy as np
from PIL import Image

from ._align import extract_face
from ._answers import last_step
from ._face import Face
from ._image import ImageReadError, as_image, as_photo, gray, read_image
from ._registry import get_detector

# images read and searched at a time: a folder of large photos need not fit in memory
CHUNK_IMAGES, CHUNK_PIXELS = 64, 50_000_000
# Fewer images are detected in this process: starting the worker processes (each imports
# torch) took 6 to 50 s on a busy 2-core machine, against about 2 s per 512 px photo here.
MIN_IMAGES_FOR_WORKERS = 8


def crop_face(image, face, image_shape, *, align=True, margin=0.1):
    """The pixels a model of input ``image_shape`` sees for one face of an image.

    The face is cut out with :func:`extract_face` from the image's luminance (for a
    grayscale model) or its colours (for an RGB model; a grayscale image's one channel is
    repeated). Where no face was found (``face=None``) the image's centre square stands in
    for it, resized the same way: the fallback of every door of fersk.

    Parameters
    ----------
    image : path, PIL image or array of shape (h, w), (h, w, 3) or (h, w, 4)
        Pixel values 0-255, read as :func:`fersk.faces.read_image` reads files.
    face : Face or None
        As a detector returns it; None for the centre square.
    image_shape : tuple
        ``(height, width)`` (grayscale) or ``(height, width, channels)`` with 1 or 3
        channels: the model's ``image_shape_``.
    align : bool, default=True
        As in :func:`extract_face` (not used for the centre square).
    margin : float, default=0.1
        As in :func:`extract_face` (not used for the centre square).

    Returns
    -------
    ndarray of uint8, shape (height, width) or (height, width, 3)

    Examples
    --------
    >>> import numpy as np
    >>> wide = np.zeros((40, 120), dtype=np.uint8)
    >>> wide[:, 40:80] = 200  # the centre square is bright, the sides dark
    >>> crop_face(wide, None, (20, 20)).min(), crop_face(wide, None, (20, 20, 3)).shape
    (np.uint8(200), (20, 20, 3))
    """
    height, width, channels = input_shape(image_shape)
    photo = as_image(image)
    if face is None:
        h, w = photo.shape[:2]
        side = min(h, w)
        face = Face(((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2), 0.0)
        align, margin = False, 0.0
    crop = extract_face(gray(photo) if channels == 1 else photo, face, (height, width), align=align, margin=margin)
    return np.repeat(crop[..., None], 3, axis=2) if channels == 3 and crop.ndim == 2 else crop


def whole_image(image, image_shape):
    """The whole image resized to ``image_shape`` as the dataset loaders resize images (bilinear):
    what a model sees with detection turned off (``detector=None``)."""
    height, width, channels = input_shape(image_shape)
    picture = Image.fromarray(np.clip(np.round(as_image(image)), 0, 255).astype(np.uint8))
    picture = picture.convert("L" if channels == 1 else "RGB")
    if picture.size != (width, height):
        picture = picture.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(picture)


def input_shape(image_shape):
    """``(height, width, channels)`` of an ``image_shape`` given as ``(h, w)`` or ``(h, w, c)``."""
    height, width, *channels = (int(v) for v in image_shape)
    channels = channels[0] if channels else 1
    if channels not in (1, 3):
        raise ValueError(f"a face crop has 1 or 3 channels; image_shape {tuple(image_shape)} has {channels}")
    return height, width, channels


def model_input_shape(estimator):
    """``(h, w, c)`` of a fitted model's input: its own ``image_shape_`` or its last step's.

    Raises
    ------
    ValueError
        For anything that is not a fitted fersk classifier, or a Pipeline ending in one.
    """
    last = last_step(estimator)
    shape = getattr(last, "image_shape_", None)
    if shape is None or not hasattr(estimator, "predict_proba"):
        raise ValueError(
            "finding faces for a model needs a fitted fersk classifier (or a Pipeline ending in one) with "
            f"image_shape_ and predict_proba; got {type(estimator).__name__}"
        )
    h, w, *c = (int(v) for v in shape)
    return h, w, (c[0] if c else 1)


def no_detection(detector):
    """Whether ``detector`` turns detection off (None or ``"none"``)."""
    return detector is None or (isinstance(detector, str) and detector.lower() == "none")


def photo_faces(items, *, detector, n_jobs=None, on_error="raise", unreadable=None):
    """``(position, photo, faces)`` for each readable image, read and searched a chunk at a time.

    Parameters
    ----------
    items : list of paths, PIL images or arrays
        Paths are read upright (:func:`read_image`); arrays must hold 0-255 values.
    detector : str, FaceDetector or None
        None (or ``"none"``): no detection, ``faces`` is None for every image.
    n_jobs : int, optional
        Processes for detection (:func:`fersk.faces.detect_faces_batch`); fewer than 8 images are
        searched in this process, where starting workers would cost more than it saves.
    on_error : {"raise", "skip"}, default="raise"
        A file that cannot be read raises its ``ImageReadError``, or is left out with its
        path and reason put in ``unreadable``.
    unreadable : dict, optional
        Filled with ``path -> reason`` when ``on_error="skip"``.

    Yields
    ------
    list of (int, ndarray, list of Face or None)
        One chunk of images: up to 64, or about 50 million pixels, so that a folder of
        large photos need not fit in memory. Each image's faces are largest first.
    """
    if len(items) < MIN_IMAGES_FOR_WORKERS:
        n_jobs = None
    for chunk in _read_in_chunks(items, on_error, {} if unreadable is None else unreadable):
        photos = [photo for _, photo in chunk]
        # as_photo refused 0-1 floats as they came in; its float copy of a dark uint8 photo must not be refused again
        found = [None] * len(photos) if no_detection(detector) else get_detector(detector).detect_batch(photos, n_jobs)
        yield [(i, photo, faces) for (i, photo), faces in zip(chunk, found)]


def _read_in_chunks(items, on_error, unreadable):
    chunk, pixels = [], 0
    for i, item in enumerate(items):
        try:
            photo = read_image(item) if isinstance(item, (str, Path)) else as_photo(item)
        except ImageReadError as error:
            if on_error == "raise":
                raise
            unreadable[str(item)] = error.reason
            continue
        chunk.append((i, photo))
        pixels += photo.shape[0] * photo.shape[1]
        if len(chunk) == CHUNK_IMAGES or pixels >= CHUNK_PIXELS:
            yield chunk
            chunk, pixels = [], 0
    if chunk:
        yield chunk
