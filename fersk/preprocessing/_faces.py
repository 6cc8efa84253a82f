"""Face detection and cropping for real photos, with scikit-image's bundled LBP cascade."""

import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from PIL import Image
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import validate_data

from ._images import flatten_images, infer_image_shape

ON_MISSING = ("error", "keep", "drop")


def _cascade():
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade

    return Cascade(lbp_frontal_face_cascade_filename())


def _as_image(item, image_shape):
    """A path or an array -> float grayscale or RGB array with values 0-255."""
    if isinstance(item, (str, Path)):
        try:
            with Image.open(item) as im:
                im = im.convert("RGB") if im.mode not in ("L", "RGB") else im
                return np.asarray(im, dtype=np.float32)
        except OSError as exc:
            raise ValueError(f"cannot read image {item}: {exc}") from None
    array = np.asarray(item, dtype=np.float32)
    if array.ndim == 1:
        if image_shape is None:
            raise ValueError("X holds flattened rows; pass image_shape=(height, width[, channels])")
        array = array.reshape(image_shape)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"an image must be (h, w), (h, w, 1), (h, w, 3) or (h, w, 4); got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("an image holds NaN or inf pixels")
    return array[..., :3] if array.ndim == 3 else array


def _gray(image):
    return image if image.ndim == 2 else image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def detect_faces(image, *, scale_factor=1.2, step_ratio=1.0, min_size=24, detect_size=640, cascade=None):
    """Faces found in one image by the LBP frontal-face cascade, largest first.

    Parameters
    ----------
    image : array of shape (h, w) or (h, w, 3), or path
        Pixel values 0-255.
    scale_factor, step_ratio : float
        The cascade's search: scale step and window stride (see ``skimage.feature.Cascade``).
    min_size : int, default=24
        Smallest face side searched for, in pixels of the image as searched.
    detect_size : int, default=640
        Images are searched at most this large (longest side), then boxes are mapped back.
    cascade : skimage.feature.Cascade, optional
        Reused across calls; built on demand.

    Returns
    -------
    list of (row, col, height, width)

    Examples
    --------
    >>> from skimage.data import astronaut
    >>> row, col, height, width = detect_faces(astronaut())[0]
    >>> 50 < row < 120 and 150 < col < 220
    True
    """
    gray = _gray(_as_image(image, None))
    scale = min(1.0, detect_size / max(gray.shape))
    if scale < 1.0:
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        gray = np.asarray(Image.fromarray(gray).resize(size, Image.BILINEAR))
    cascade = cascade or _cascade()
    found = cascade.detect_multi_scale(
        gray / 255.0,
        scale_factor=scale_factor,
        step_ratio=step_ratio,
        min_size=(min_size, min_size),
        max_size=gray.shape,
    )
    boxes = [tuple(round(d[k] / scale) for k in ("r", "c", "height", "width")) for d in found]
    return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)


def _crop_one(image, box, margin, output_size, grayscale):
    if grayscale:
        image = _gray(image)
    if box is None:  # the whole image, centre-cropped to a square
        h, w = image.shape[:2]
        side = min(h, w)
        top, left, bottom, right = (h - side) // 2, (w - side) // 2, (h + side) // 2, (w + side) // 2
    else:
        row, col, height, width = box
        pad_h, pad_w = int(round(margin * height)), int(round(margin * width))
        top, left = row - pad_h, col - pad_w
        bottom, right = row + height + pad_h, col + width + pad_w
    pil = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    # PIL pads regions outside the image with black, so a face at the border keeps its margin
    crop = pil.crop((left, top, right, bottom)).resize((output_size, output_size), Image.BILINEAR)
    return np.asarray(crop, dtype=np.uint8).reshape(-1)


def _crop_chunk(items, image_shape, params):
    cascade = _cascade()
    out = []
    for item in items:
        image = _as_image(item, image_shape)
        boxes = detect_faces(
            image,
            scale_factor=params["scale_factor"],
            step_ratio=params["step_ratio"],
            min_size=params["min_size"],
            detect_size=params["detect_size"],
            cascade=cascade,
        )
        box = boxes[0] if boxes else None
        out.append((_crop_one(image, box, params["margin"], params["output_size"], params["grayscale"]), box))
    return out


class FaceCropper(TransformerMixin, BaseEstimator):
    """Find the largest face in each photo, crop it with a margin and resize it.

    The first step for photos of people: ``make_pipeline(FaceCropper(), CNNClassifier())``
    then fits and predicts on photos, not only on pre-cropped faces. Detection uses
    scikit-image's bundled LBP frontal-face cascade, which works offline.

    Parameters
    ----------
    output_size : int, default=48
        Side of the square face crops.
    margin : float, default=0.2
        Context added around the detected box, as a fraction of its side.
    on_missing : {"keep", "error"}, default="keep"
        An image with no face found: ``"keep"`` uses the whole image (centre square)
        and warns with a count; ``"error"`` raises a ``ValueError`` naming the images.
        Dropping images would misalign ``y`` in a pipeline: use
        :func:`crop_faces` with ``on_missing="drop"`` to prepare data instead.
    grayscale : bool, default=True
        Output grayscale crops (as FER2013) or RGB.
    image_shape : tuple, optional
        When X holds flattened rows: the shape of one image.
    scale_factor, step_ratio, min_size, detect_size
        The detector's search, see :func:`detect_faces`.
    n_jobs : int, optional
        Processes for detection (joblib).

    Examples
    --------
    >>> from skimage.data import astronaut
    >>> FaceCropper(output_size=32).fit_transform([astronaut()]).shape
    (1, 1024)
    """

    def __init__(
        self,
        output_size=48,
        margin=0.2,
        on_missing="keep",
        grayscale=True,
        image_shape=None,
        scale_factor=1.2,
        step_ratio=1.0,
        min_size=24,
        detect_size=640,
        n_jobs=None,
    ):
        self.output_size = output_size
        self.margin = margin
        self.on_missing = on_missing
        self.grayscale = grayscale
        self.image_shape = image_shape
        self.scale_factor = scale_factor
        self.step_ratio = step_ratio
        self.min_size = min_size
        self.detect_size = detect_size
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Check the parameters and X; nothing is learned. Returns self."""
        self._check_on_missing()
        self._items(X, reset=True)
        return self

    def transform(self, X):
        """Face crops, one flattened row of ``output_size**2`` (times 3 for RGB) uint8 values per image."""
        self._check_on_missing()
        items, image_shape = self._items(X, reset=False)
        crops, boxes = _crop_all(items, self._params(), image_shape, self.n_jobs)
        missing = [i for i, box in enumerate(boxes) if box is None]
        if missing and self.on_missing == "error":
            raise ValueError(
                f"no face found in {len(missing)} of {len(boxes)} images (indices {missing[:10]}); "
                "use on_missing='keep' to use the whole image instead"
            )
        if missing:
            warnings.warn(
                f"no face found in {len(missing)} of {len(boxes)} images; used the whole image for those",
                UserWarning,
                stacklevel=2,
            )
        return crops

    def _check_on_missing(self):
        if self.on_missing not in ("keep", "error"):
            raise ValueError(
                f"on_missing must be 'keep' or 'error' in a FaceCropper, got {self.on_missing!r}; "
                "to drop images without a face, prepare the data with fersk.preprocessing.crop_faces"
            )

    def _items(self, X, reset):
        """X as a list of images or paths, and the shape of flattened rows (None otherwise)."""
        if isinstance(X, (list, tuple)) and X and all(_is_single_image(x) for x in X):
            return list(X), None
        X, carried = flatten_images(X)
        X = validate_data(self, X, reset=reset, dtype="numeric")
        return list(X), infer_image_shape(self.image_shape, X.shape[1], carried)

    def _params(self):
        if not 0 <= self.margin <= 2:
            raise ValueError(f"margin must be between 0 and 2, got {self.margin!r}")
        return {
            k: getattr(self, k)
            for k in ("output_size", "margin", "grayscale", "scale_factor", "step_ratio", "min_size", "detect_size")
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True  # file paths
        tags.transformer_tags.preserves_dtype = []  # crops are uint8 pixels whatever comes in
        return tags


def _is_single_image(x):
    return isinstance(x, (str, Path)) or np.ndim(x) in (2, 3)


def _crop_all(items, params, image_shape, n_jobs):
    n_jobs = 1 if n_jobs is None else n_jobs
    chunks = np.array_split(np.arange(len(items)), max(1, min(len(items), 4 * abs(n_jobs))))
    results = Parallel(n_jobs=n_jobs)(
        delayed(_crop_chunk)([items[i] for i in chunk], image_shape, params) for chunk in chunks if len(chunk)
    )
    flat = [r for chunk in results for r in chunk]
    return np.stack([crop for crop, _ in flat]), [box for _, box in flat]


def crop_faces(X, *, on_missing="drop", output_size=48, margin=0.2, grayscale=True, image_shape=None, n_jobs=None):
    """Crop the largest face of each photo, for preparing a dataset.

    Unlike :class:`FaceCropper`, this can drop the images where no face is found.

    Parameters
    ----------
    X : list of paths or images, or an array of images
    on_missing : {"drop", "keep", "error"}, default="drop"
        ``"drop"`` leaves those images out and warns with their count.
    output_size, margin, grayscale, image_shape, n_jobs
        As in :class:`FaceCropper`.

    Returns
    -------
    faces : ndarray of shape (n_found, output_size ** 2) or (n_found, output_size ** 2 * 3), uint8
    kept : ndarray of int
        Indices into X of the rows of ``faces``; use ``y[kept]`` to keep labels aligned.
    """
    if on_missing not in ON_MISSING:
        raise ValueError(f"on_missing must be one of {ON_MISSING}, got {on_missing!r}")
    cropper = FaceCropper(
        output_size=output_size, margin=margin, grayscale=grayscale, image_shape=image_shape, n_jobs=n_jobs
    )
    items, image_shape = cropper._items(X, reset=True)
    crops, boxes = _crop_all(items, cropper._params(), image_shape, n_jobs)
    missing = [i for i, box in enumerate(boxes) if box is None]
    if missing and on_missing == "error":
        raise ValueError(f"no face found in {len(missing)} of {len(boxes)} images (indices {missing[:10]})")
    if missing and on_missing == "drop":
        warnings.warn(
            f"no face found in {len(missing)} of {len(boxes)} images; dropped them", UserWarning, stacklevel=2
        )
        kept = np.array([i for i, box in enumerate(boxes) if box is not None], dtype=int)
        return crops[kept], kept
    if missing:
        warnings.warn(
            f"no face found in {len(missing)} of {len(boxes)} images; used the whole image for those",
            UserWarning,
            stacklevel=2,
        )
    return crops, np.arange(len(crops))
