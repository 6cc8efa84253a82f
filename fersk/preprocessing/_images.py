"""The image convention: flattened rows plus an image shape."""

import math

import numpy as np


def check_image_shape(image_shape, n_features=None):
    """Return ``image_shape`` as ``(h, w, c)``, or None.

    As in :func:`numpy.reshape`, one entry may be -1: it is inferred from
    ``n_features``, so ``(1, -1)`` reads each row as a one-pixel-high image.

    Examples
    --------
    >>> check_image_shape((48, 48))
    (48, 48, 1)
    >>> check_image_shape((1, -1), n_features=10)
    (1, 10, 1)
    """
    if image_shape is None:
        return None
    message = (
        f"image_shape must be (height, width) or (height, width, channels), one entry possibly -1; got {image_shape!r}"
    )
    try:
        shape = tuple(int(v) for v in image_shape)
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if len(shape) == 2:
        shape = (*shape, 1)
    if len(shape) != 3 or shape.count(-1) > 1 or any(v < 1 and v != -1 for v in shape):
        raise ValueError(message)
    if -1 in shape:
        if n_features is None:
            raise ValueError(f"image_shape={image_shape!r} has a -1, which needs the row length to resolve")
        known = -math.prod(shape)
        if n_features % known:
            raise ValueError(
                f"rows of X have {n_features} values, which is not a multiple of the {known} "
                f"that image_shape={image_shape!r} fixes"
            )
        shape = tuple(n_features // known if v == -1 else v for v in shape)
    return shape


def flatten_images(X, image_shape=None):
    """Flatten 3-D (n, h, w) or 4-D (n, h, w, c) image arrays at the door.

    A list of images, each ``(h, w)`` or ``(h, w, c)``, is the array it stacks to. Two
    layouts that are not a stack of channels-last images are refused, saying what to do:

    - images ordered channels-first, ``(n, c, h, w)`` as PyTorch orders them: a 4-D array
      whose first image axis could be a channel count (1, 3 or 4) and whose last could not
      (more than 4), since their rows of pixels would be taken for channels;
    - a single image ``(h, w, c)``: a 3-D array whose last axis could be a channel count
      (at most 4) and whose second could not (more than 4), since its rows would be taken
      for images.

    The shape cannot always tell (a stack of 3-pixel-high images of 2 channels), so
    ``image_shape``, where the estimator knows it, decides: images of that shape are taken
    as given, and an array that is one such image, or such images channels-first, is refused.

    Parameters
    ----------
    X : array-like
        Flattened rows, images, or a list of either.
    image_shape : tuple, optional
        The shape the images have, as the ``image_shape`` parameter or the fitted
        ``image_shape_`` gives it (one entry possibly -1).

    Returns
    -------
    X : array-like
        Flattened rows (2-D input is returned as given).
    carried : tuple or None
        The ``(h, w, c)`` that image-shaped input carried; None for rows.

    Examples
    --------
    >>> X, shape = flatten_images([np.zeros((4, 4)), np.ones((4, 4))])
    >>> X.shape, shape
    ((2, 16), (4, 4, 1))
    >>> flatten_images(np.zeros((10, 3, 48, 2)))[1]  # 3x48 images of 2 channels
    (3, 48, 2)
    """
    if hasattr(X, "iloc") or hasattr(X, "tocsr"):
        return X, None  # DataFrames and sparse matrices are 2-D; validate_data checks them
    if isinstance(X, list):
        try:
            rows = len(np.shape(X)) <= 2
        except ValueError:  # images of different sizes: validate_data says the list is ragged
            rows = True
        if rows:  # lists of rows; validate_data checks them
            return X, None
    X = np.asarray(X)
    if X.ndim not in (3, 4):
        if X.ndim > 4:
            raise ValueError(f"X must be 2-D (flattened images), 3-D or 4-D; got {X.ndim}-D")
        return X, None
    shape = _declared_shape(image_shape, X.shape)
    images = X.shape[1:] if X.ndim == 4 else (*X.shape[1:], 1)
    if images == shape:
        return X.reshape(len(X), -1), images
    if X.ndim == 3 and (X.shape == shape or X.shape[2] <= 4 < X.shape[1]):
        hint = (
            f"; if X holds {len(X)} images of {X.shape[1]}x{X.shape[2]} pixels, pass image_shape={X.shape[1:]}"
            if image_shape is None
            else ""
        )
        raise ValueError(
            f"X looks like a single image of shape {X.shape} (height, width, channels); fersk takes images "
            f"stacked, (n, height, width[, channels]): give one image as X[np.newaxis]{hint}"
        )
    if X.ndim == 4 and (
        (X.shape[1] in (1, 3, 4) and X.shape[3] > 4) or (shape is not None and X.shape[1:] == (shape[2], *shape[:2]))
    ):
        hint = (
            f"; if they are {X.shape[1]}x{X.shape[2]} images of {X.shape[3]} channels, pass image_shape={X.shape[1:]}"
            if image_shape is None
            else ""
        )
        raise ValueError(
            f"X holds images of shape {X.shape[1:]}, which looks channels-first (n, channels, height, "
            "width), as PyTorch orders them; fersk takes images channels-last, (n, height, width, "
            f"channels): give X.transpose(0, 2, 3, 1){hint}"
        )
    return X.reshape(len(X), -1), images


def _declared_shape(image_shape, array_shape):
    """``image_shape`` as ``(h, w, c)`` for images of an array of ``array_shape``, or None where it
    is not given or does not fit them (``infer_image_shape`` then says so)."""
    try:
        return check_image_shape(image_shape, math.prod(array_shape[1:]))
    except ValueError:
        return None


def infer_image_shape(image_shape, n_features, carried=None):
    """The ``(h, w, c)`` of images whose rows have ``n_features`` values.

    ``image_shape`` (a parameter) wins, checked against ``n_features``; else the
    shape a 3-D/4-D input carried; else a square grayscale image.
    """
    given = check_image_shape(image_shape, n_features)
    if given is not None:
        if math.prod(given) != n_features:
            raise ValueError(
                f"rows of X have {n_features} values, which does not fit image_shape="
                f"{image_shape} ({math.prod(given)} values); fix image_shape or X"
            )
        if carried is not None and tuple(carried) != given:
            raise ValueError(f"X holds images of shape {carried}, but image_shape={image_shape}")
        return given
    if carried is not None:
        return tuple(carried)
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise ValueError(
            f"rows of X have {n_features} values, which is not a square grayscale image; "
            "pass image_shape=(height, width) or (height, width, channels), or give X "
            "as an (n, height, width[, channels]) array. If X's rows are features, not pixels (a PCA before "
            "this step in a Pipeline), put that step after the image features (HOGTransformer, or a "
            "network's transform)"
        )
    return (side, side, 1)


def to_images(X, image_shape):
    """Reshape 2-D rows to ``(n, h, w, c)`` images."""
    return np.asarray(X).reshape(len(X), *image_shape)


def feature_names(prefix, n_features):
    """Output feature names, ``prefix`` followed by 0 to n-1, as ``get_feature_names_out`` returns them.

    Examples
    --------
    >>> feature_names("hog", 3).tolist()
    ['hog0', 'hog1', 'hog2']
    """
    return np.asarray([f"{prefix}{i}" for i in range(n_features)], dtype=object)


def check_fitted_rows(X, image_shape, name):
    """Check at predict or transform that the rows of ``X`` are images of the fitted ``image_shape``.

    ``X`` of the wrong width gets an error that says, in images, what was wrong and what to
    do, where scikit-learn's would count features (or print the whole array of a 1-D image).
    Lists that are not rectangular, and everything else, are left to ``validate_data``.

    Examples
    --------
    >>> check_fitted_rows(np.zeros((3, 9)), (4, 4, 1), "HOGTransformer")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: X has 9 features, but HOGTransformer is expecting 16 features ... X's rows would be 3x3 images; ...
    """
    try:
        shape = np.shape(X)
    except ValueError:  # a ragged list
        return
    h, w, c = image_shape
    n = h * w * c
    images = f"{h}x{w} " + ("grayscale" if c == 1 else f"{c}-channel") + f" images ({n} values a row)"
    if len(shape) == 1:
        if shape[0] == n:
            raise ValueError(
                f"X is a single image, given as a 1-D array of {n} values; Reshape your data with "
                "X.reshape(1, -1) to give one image: fersk takes one flattened image per row"
            )
        raise ValueError(
            f"X is a 1-D array of {shape[0]} values; Reshape your data to 2-D, one flattened image per row: "
            f"{name} was fitted on {images}"
        )
    if len(shape) != 2 or shape[1] == n:
        return
    message = f"X has {shape[1]} features, but {name} is expecting {n} features as input: it was fitted on {images}"
    if c == 1 and shape == (h, w):
        raise ValueError(f"{message}, and X looks like one such image; give it as X[np.newaxis] or X.reshape(1, -1)")
    side = math.isqrt(shape[1] // c) if shape[1] % c == 0 else 0
    seen = f", and X's rows would be {side}x{side} images" if side and side * side * c == shape[1] else ""
    if shape[1] == h * w * 3 and c == 1:
        seen = f", and X's rows would be {h}x{w} RGB images: convert them to grayscale (grayscale=True in the loaders)"
    elif shape[1] == h * w and c != 1:
        seen = f", and X's rows would be {h}x{w} grayscale images: load them in colour (grayscale=False in the loaders)"
    raise ValueError(
        f"{message}{seen}; give images of that size: resize them, e.g. with image_size={(h, w)} in "
        "fersk's loaders, or refit on images of this size"
    )
