"""Consistency: does a model keep its answer when a face is mirrored, darkened, compressed, tilted or noisy?"""

import io
import math
import zlib

import numpy as np
from PIL import Image, ImageEnhance, ImageOps
from sklearn.metrics import accuracy_score

from ..preprocessing import flatten_images, infer_image_shape


def _mirror(image, rng):
    return np.asarray(ImageOps.mirror(Image.fromarray(image)))


def _dark(image, rng):
    return np.asarray(ImageEnhance.Brightness(Image.fromarray(image)).enhance(0.7))


def _jpeg(image, rng):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=30)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert(Image.fromarray(image).mode))


def _rotate(image, rng):
    from skimage.transform import rotate

    # counter-clockwise, bilinear; the corners that come into view repeat the border, as a wider frame would show
    turned = rotate(image, 10, order=1, mode="edge", preserve_range=True)
    return np.clip(np.rint(turned), 0, 255).astype(np.uint8)


def _noise(image, rng):
    from skimage.util import random_noise

    noisy = random_noise(image, mode="gaussian", var=(10 / 255) ** 2, rng=rng, clip=True)  # sd 10 of 0-255
    return np.clip(np.rint(noisy * 255), 0, 255).astype(np.uint8)


#: The changes a face's label should survive, by name: (what it is, for tables; the change).
CHANGES = {
    "mirror": ("mirrored", _mirror),
    "dark": ("0.7x as bright", _dark),
    "jpeg": ("JPEG at quality 30", _jpeg),
    "rotate": ("rotated 10 degrees", _rotate),
    "noise": ("Gaussian noise, sd 10", _noise),
}


def _resolve_changes(changes):
    """``{name: (description, function)}`` from names, or a dict of name to function."""
    if changes is None:
        return dict(CHANGES)
    if isinstance(changes, str):
        changes = (changes,)
    if isinstance(changes, dict):
        resolved = {}
        for name, function in changes.items():
            if not callable(function):
                raise ValueError(
                    f"changes[{name!r}] must be a function (image, rng) -> image; got {type(function).__name__}"
                )
            resolved[str(name)] = (str(name), function)
        if not resolved:
            raise ValueError("changes is empty: name at least one change, or leave it None for all of them")
        return resolved
    changes = list(changes)
    unknown = [c for c in changes if c not in CHANGES]
    if unknown or not changes:
        raise ValueError(
            f"changes must be some of {', '.join(CHANGES)} (or a dict of name to function); got {changes!r}"
        )
    return {name: CHANGES[name] for name in changes}


def _model_image_shape(model, n_features):
    """The ``image_shape_`` of ``model``, or of the first step of a Pipeline that has one, where it fits."""
    candidates = [model]
    steps = getattr(model, "steps", None)
    if steps:
        candidates = [step for _, step in steps] + candidates
    for candidate in candidates:
        shape = getattr(candidate, "image_shape_", None)
        if shape is not None and math.prod(shape) == n_features:
            return tuple(shape)
    return None


def _rows_and_shape(X, image_shape, model=None):
    X, carried = flatten_images(X, image_shape)
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be images: 2-D rows, or (n, height, width[, channels]); got shape {X.shape}")
    if image_shape is None and carried is None and model is not None:
        carried = _model_image_shape(model, X.shape[1])
    shape = infer_image_shape(image_shape, X.shape[1], carried)
    if shape[2] not in (1, 3):
        raise ValueError(f"the changes work on grayscale or RGB images; these have {shape[2]} channels")
    if np.issubdtype(X.dtype, np.floating) and X.size and 0 < X.max() <= 1:
        raise ValueError(
            "pixel values must run from 0 to 255, as fersk's data convention has them, and these run from 0 to 1; "
            "pass X * 255"
        )
    return X, shape


def apply_change(X, change, *, image_shape=None, random_state=None):
    """Images with one change applied: mirrored, darker, compressed, rotated or noisy.

    The changes are made by well-kept libraries, on 8-bit images as a camera or file gives
    them (values are rounded to 0-255 first):

    - ``"mirror"``: left-right, :func:`PIL.ImageOps.mirror` (selfie cameras mirror every frame);
    - ``"dark"``: 0.7x as bright, :class:`PIL.ImageEnhance.Brightness`;
    - ``"jpeg"``: saved and read back as a JPEG of quality 30, by Pillow;
    - ``"rotate"``: 10 degrees counter-clockwise, :func:`skimage.transform.rotate`
      (bilinear; the corners repeat the border);
    - ``"noise"``: Gaussian noise of standard deviation 10 (of 0-255),
      :func:`skimage.util.random_noise`, clipped.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_pixels) or (n_samples, h, w[, c])
        Images, pixel values 0-255, as fersk's estimators take them.
    change : str or callable
        One of the names above, or a function ``(image, rng) -> image`` of a ``uint8``
        image ``(h, w)`` or ``(h, w, 3)`` and a :class:`numpy.random.Generator`.
    image_shape : tuple, optional
        ``(height, width[, channels])`` of the rows; by default that of 3-D/4-D ``X``,
        else a square grayscale image.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the noise (the other changes draw nothing).

    Returns
    -------
    ndarray of shape (n_samples, n_pixels)
        Changed rows, of ``X``'s dtype where that is floating point, else ``uint8``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(16, dtype=np.float32).reshape(1, 16) * 10
    >>> apply_change(X, "mirror").reshape(4, 4)[0]
    array([30., 20., 10.,  0.], dtype=float32)
    >>> apply_change(X, "dark").reshape(4, 4)[0]
    array([ 0.,  7., 14., 21.], dtype=float32)
    """
    X, shape = _rows_and_shape(X, image_shape)
    if callable(change):
        function = change
    else:
        function = _resolve_changes((change,) if isinstance(change, str) else change)
        if len(function) != 1:
            raise ValueError(f"apply_change takes one change; got {change!r}")
        (_, function), *_ = function.values()
    return _apply(function, X, shape, np.random.default_rng(random_state))


def _change_rng(random_state, name):
    """A generator per change, so that a change's figures do not depend on which others are measured with it."""
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    return np.random.default_rng([int(random_state), zlib.crc32(name.encode())])


def _apply(function, X, shape, rng):
    images = np.clip(np.rint(np.asarray(X, dtype=np.float64)), 0, 255).astype(np.uint8).reshape(len(X), *shape)
    if shape[2] == 1:
        images = images[..., 0]
    changed = np.empty_like(images)
    for i, image in enumerate(images):
        out = np.asarray(function(image, rng))
        if out.shape != image.shape:
            raise ValueError(f"a change must keep the image's shape {image.shape}; it gave {out.shape}")
        changed[i] = np.clip(np.rint(out), 0, 255) if out.dtype != np.uint8 else out
    dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.uint8
    return changed.reshape(len(X), -1).astype(dtype)


def consistency(model, X, y=None, *, changes=None, image_shape=None, random_state=None):
    """How often a fitted model keeps its answer when each face is changed in a way that should not matter.

    For each change (see :func:`apply_change`), the model predicts the changed images; the
    **agreement** is the share whose label is the one predicted for the image as given,
    and, with ``y``, the **accuracy** is scored on the changed images. Each change costs one
    more prediction of ``X``.

    Parameters
    ----------
    model : fitted classifier or Pipeline
        Anything with ``predict`` that takes images as rows (fersk's data convention).
    X : array-like of shape (n_samples, n_pixels) or (n_samples, h, w[, c])
        Images, pixel values 0-255.
    y : array-like of shape (n_samples,), optional
        True labels; with them, the accuracy under each change is given.
    changes : list of str or dict of str to callable, optional
        Names among ``"mirror"``, ``"dark"``, ``"jpeg"``, ``"rotate"``, ``"noise"`` (by
        default all five), or your own changes, by name: functions ``(image, rng) -> image``.
    image_shape : tuple, optional
        ``(height, width[, channels])`` of the rows of ``X``. By default that of 3-D/4-D
        ``X``, else the model's ``image_shape_`` (or that of the first Pipeline step
        that has one) where it fits the rows, else a square grayscale image.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the noise: the same seed gives the same figures.

    Returns
    -------
    dict
        JSON-ready: ``n_samples``; ``accuracy`` on ``X`` as given (with ``y``); and
        ``changes``, by name: ``description``, ``agreement`` and, with ``y``, ``accuracy``.

    See Also
    --------
    apply_change : the changed images themselves.
    fersk.evaluation.consistency_table : the result as a Markdown table.

    Examples
    --------
    >>> from fersk import HOGSVMClassifier, make_faces
    >>> X, y = make_faces(160, image_size=24, difficulty=0, random_state=0)
    >>> clf = HOGSVMClassifier(pixels_per_cell=(6, 6)).fit(X[:120], y[:120])
    >>> result = consistency(clf, X[120:], y[120:], random_state=0)
    >>> list(result["changes"])
    ['mirror', 'dark', 'jpeg', 'rotate', 'noise']
    >>> sorted(result["changes"]["jpeg"])
    ['accuracy', 'agreement', 'description']
    """
    return _consistency(model, X, y, changes=changes, image_shape=image_shape, random_state=random_state)


def _consistency(model, X, y=None, *, changes=None, image_shape=None, random_state=None, y_pred=None):
    """:func:`consistency`, reusing the predictions on ``X`` where the caller has them."""
    changes = _resolve_changes(changes)
    X, shape = _rows_and_shape(X, image_shape, model)
    if y is not None:
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} images but y has {len(y)} labels: give one label per image")
    if len(X) == 0:
        raise ValueError("cannot measure consistency on 0 images")
    y_pred = np.asarray(model.predict(X) if y_pred is None else y_pred)
    result = {"n_samples": int(len(X))}
    if y is not None:
        result["accuracy"] = round(float(accuracy_score(y, y_pred)), 4)
    result["changes"] = {}
    for name, (description, function) in changes.items():
        changed = model.predict(_apply(function, X, shape, _change_rng(random_state, name)))
        row = {"description": description, "agreement": round(float(np.mean(changed == y_pred)), 4)}
        if y is not None:
            row["accuracy"] = round(float(accuracy_score(y, changed)), 4)
        result["changes"][name] = row
    return result
