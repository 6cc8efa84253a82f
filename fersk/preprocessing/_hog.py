"""HOG features as a scikit-learn transformer."""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from skimage.feature import hog
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._images import check_fitted_rows, feature_names, flatten_images, infer_image_shape, to_images

_CHUNK = 256


def _hog_chunk(images, params):
    channel_axis = -1 if images.shape[-1] > 1 else None
    if channel_axis is None:
        images = images[..., 0]
    return np.stack([hog(image, channel_axis=channel_axis, **params) for image in images]).astype(np.float32)


class HOGTransformer(TransformerMixin, BaseEstimator):
    """Histogram-of-oriented-gradients features (scikit-image), one row per image.

    Parameters
    ----------
    orientations : int, default=9
        Orientation bins.
    pixels_per_cell : (int, int), default=(8, 8)
        Cell size in pixels.
    cells_per_block : (int, int), default=(2, 2)
        Block size in cells, for normalisation.
    block_norm : str, default="L2-Hys"
        scikit-image's block normalisation.
    image_shape : (h, w) or (h, w, c), optional
        Shape of the flattened images, one entry possibly -1 as in ``numpy.reshape``;
        inferred for square grayscale or 3-D/4-D input.
    n_jobs : int, optional
        Processes for extraction (joblib); worth it from a few thousand images.

    Examples
    --------
    >>> from fersk import make_faces
    >>> X, y = make_faces(20, random_state=0)
    >>> HOGTransformer().fit_transform(X).shape
    (20, 900)
    """

    _parameter_constraints = {
        "orientations": [Interval(Integral, 1, None, closed="left")],
        "pixels_per_cell": [tuple, list],
        "cells_per_block": [tuple, list],
        "block_norm": [StrOptions({"L1", "L1-sqrt", "L2", "L2-Hys"})],
        "image_shape": [tuple, list, None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        orientations=9,
        pixels_per_cell=(8, 8),
        cells_per_block=(2, 2),
        block_norm="L2-Hys",
        image_shape=None,
        n_jobs=None,
    ):
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block
        self.block_norm = block_norm
        self.image_shape = image_shape
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the image shape; returns self."""
        for name in ("pixels_per_cell", "cells_per_block"):
            value = getattr(self, name)
            # whole numbers as floats (4.0, from a grid of np.linspace, say) are taken as the integers they are
            if len(value) != 2 or not all(isinstance(v, Real) and v >= 1 and float(v).is_integer() for v in value):
                raise ValueError(f"{name} must be two positive integers, (rows, columns); got {value!r}")
        X, carried = flatten_images(X, self.image_shape)
        X = validate_data(self, X, dtype="numeric")
        self.image_shape_ = infer_image_shape(self.image_shape, X.shape[1], carried)
        h, w, _ = self.image_shape_
        need_h = self.pixels_per_cell[0] * self.cells_per_block[0]
        need_w = self.pixels_per_cell[1] * self.cells_per_block[1]
        if h < need_h or w < need_w:
            raise ValueError(
                f"images of {h}x{w} are too small for HOG blocks of {need_h}x{need_w} pixels; "
                "lower pixels_per_cell or cells_per_block, or use larger images"
            )
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # features are float32 whatever the pixels
        return tags

    def get_feature_names_out(self, input_features=None):
        """Names of the HOG features, ``hog0`` to ``hog{n-1}``; what ``set_output(transform="pandas")`` uses.

        Parameters
        ----------
        input_features : ignored
            Present for scikit-learn's API: HOG features are not named after pixels.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self, "image_shape_")
        blank = np.zeros((1, int(np.prod(self.image_shape_))), dtype=np.float32)
        n_features = _hog_chunk(to_images(blank, self.image_shape_), self._hog_params()).shape[1]
        return feature_names("hog", n_features)

    def _hog_params(self):
        return {
            "orientations": self.orientations,
            "pixels_per_cell": tuple(int(v) for v in self.pixels_per_cell),
            "cells_per_block": tuple(int(v) for v in self.cells_per_block),
            "block_norm": self.block_norm,
        }

    def transform(self, X):
        """HOG features of each image, shape (n_samples, n_features)."""
        check_is_fitted(self, "image_shape_")
        X, carried = flatten_images(X, self.image_shape_)
        if carried is not None and tuple(carried) != tuple(self.image_shape_):
            raise ValueError(f"X holds images of shape {tuple(carried)}, but fit saw {self.image_shape_}")
        check_fitted_rows(X, self.image_shape_, type(self).__name__)
        X = validate_data(self, X, dtype="numeric", reset=False)  # uint8 pixels stay uint8: 8x less to ship
        images = to_images(X, self.image_shape_)
        params = self._hog_params()
        n_workers = effective_n_jobs(self.n_jobs)
        size = max(_CHUNK, -(-len(images) // (4 * n_workers)))  # a few large tasks per worker
        chunks = [images[i : i + size] for i in range(0, len(images), size)]
        if n_workers == 1 or len(chunks) == 1:
            parts = [_hog_chunk(chunk, params) for chunk in chunks]
        else:
            parts = Parallel(n_jobs=self.n_jobs)(delayed(_hog_chunk)(c, params) for c in chunks)
        return np.concatenate(parts)
