"""Face cropping for real photos, as a scikit-learn transformer; the detection lives in :mod:`fersk.faces`."""

import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from ..faces import Face, FaceDetector, LBPDetector, extract_face, get_detector
from ..faces._image import as_image, gray
from ..faces._registry import _n_workers
from ._images import feature_names, flatten_images, infer_image_shape

ON_MISSING = ("error", "keep", "drop")
_CHUNK = 64  # images detected together: MTCNN batches images of one size through its networks


def detect_faces(image, *, scale_factor=1.2, step_ratio=1.0, min_size=24, detect_size=640, cascade=None):
    """Faces found by the LBP cascade, as ``(row, col, height, width)``; deprecated.

    .. deprecated:: 0.2
        Use :func:`fersk.faces.detect_faces` (also ``fersk.detect_faces``), which returns
        :class:`fersk.faces.Face` records with a box, a score and landmarks, and uses MTCNN
        by default; ``detector="lbp"`` gives this function's faces. This function will be
        removed in 0.3.

    Parameters
    ----------
    image : array of shape (h, w) or (h, w, 3), or path
        Pixel values 0-255.
    scale_factor, step_ratio, min_size, detect_size
        The cascade's search, see :class:`fersk.faces.LBPDetector`.
    cascade : skimage.feature.Cascade, optional
        Reused across calls; built on demand.

    Returns
    -------
    list of (row, col, height, width)
        Largest first, in whole pixels.

    Examples
    --------
    >>> import warnings
    >>> from skimage.data import astronaut
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     row, col, height, width = detect_faces(astronaut())[0]
    >>> 50 < row < 120 and 150 < col < 220
    True
    """
    warnings.warn(
        "fersk.preprocessing.detect_faces is deprecated and will be removed in fersk 0.3; use "
        "fersk.detect_faces(image, detector='lbp') for the same faces as Face records (box, score, landmarks), "
        "or fersk.detect_faces(image) for MTCNN, which finds more of them",
        DeprecationWarning,
        stacklevel=2,
    )
    detector = LBPDetector(scale_factor=scale_factor, step_ratio=step_ratio, min_size=min_size, detect_size=detect_size)
    faces = sorted(detector._detect(as_image(image), cascade), key=lambda face: face.area, reverse=True)
    return [
        (round(face.box[1]), round(face.box[0]), round(face.height), round(face.width))  # (row, col, height, width)
        for face in faces
    ]


def _crop_one(image, face, params):
    """The crop of ``face`` (None: the whole image's centre square) as one flattened uint8 row."""
    if params["grayscale"]:
        image = gray(image)
    size = params["output_size"]
    if face is None:
        h, w = image.shape[:2]
        side = min(h, w)
        whole = Face(((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2), 0.0)
        return extract_face(image, whole, size, align=False, margin=0.0).reshape(-1)
    return extract_face(image, face, size, align=params["align"], margin=params["margin"]).reshape(-1)


def _crop_chunk(items, image_shape, detector, params, in_worker=False):
    """Detect in a chunk of images together, then crop each image's largest face."""
    if in_worker:
        detector._start_worker()
    images = [_to_image(item, image_shape) for item in items]
    found = detector._detect_many(images)
    out = []
    for image, faces in zip(images, found):
        face = max(faces, key=lambda f: f.area) if faces else None
        out.append((_crop_one(image, face, params), face))
    return out


def _to_image(item, image_shape):
    if isinstance(item, (str, Path)):
        return as_image(item)
    array = np.asarray(item)
    if array.ndim == 1:
        if image_shape is None:
            raise ValueError("X holds flattened rows; pass image_shape=(height, width[, channels])")
        array = array.reshape(image_shape)
    return as_image(array)


def _crop_all(items, detector, params, image_shape, n_jobs):
    """Crops and the face used for each item (None where none was found)."""
    n_workers = _n_workers(n_jobs, len(items))
    if n_workers <= 1:
        chunks = [list(range(i, min(i + _CHUNK, len(items)))) for i in range(0, len(items), _CHUNK)]
        results = [_crop_chunk([items[i] for i in chunk], image_shape, detector, params) for chunk in chunks]
    else:
        chunks = np.array_split(np.arange(len(items)), max(1, min(len(items), 4 * n_workers)))
        results = Parallel(n_jobs=n_workers)(
            delayed(_crop_chunk)([items[i] for i in chunk], image_shape, detector, params, in_worker=True)
            for chunk in chunks
            if len(chunk)
        )
    flat = [r for chunk in results for r in chunk]
    # float32 pixel rows, as the loaders give them: SMOTE interpolates in the input dtype
    return np.stack([crop for crop, _ in flat]).astype(np.float32), [face for _, face in flat]


class FaceCropper(TransformerMixin, BaseEstimator):
    """Find the largest face in each photo and cut it out, aligned and framed like FER2013's faces.

    The first step for photos of people: ``make_pipeline(FaceCropper(), CNNClassifier())``
    then fits and predicts on photos, not only on pre-cropped faces. Detection uses MTCNN
    by default (offline, its weights ship with fersk); see :mod:`fersk.faces`.

    Images that are already face crops (FER2013's 48x48 faces, a folder of crops) keep
    working: MTCNN finds the face in about 90% of FER2013's faces and re-frames it the way
    FER2013 frames faces, so the crop changes little; where no face is found the whole image
    is used (``on_missing="keep"``), which for a crop is the right answer. To skip detection
    for data that is already cropped, leave the ``FaceCropper`` out of the pipeline.

    Parameters
    ----------
    output_size : int, default=48
        Side of the square face crops.
    detector : str or FaceDetector, default="mtcnn"
        ``"mtcnn"``, ``"lbp"`` (scikit-image's LBP cascade: lighter, finds fewer faces, no
        landmarks), another name from :func:`fersk.faces.list_detectors`, or a configured
        detector such as ``MTCNNDetector(min_face_size=40)`` (then ``detector__min_face_size``
        can be grid-searched).
    align : bool, default=True
        Rotate each face so that its eyes are level and frame it as FER2013 frames its faces
        (see :func:`fersk.faces.extract_face`); False crops the detector's box, made square.
        Faces without landmarks (the LBP cascade's) are framed but not rotated.
    margin : float, default=0.1
        Context added on each side of the framed face, as a fraction of its side (0:
        FER2013's own framing). ``align=True, margin=0.1`` is the framing that scored best
        with the shipped FER2013 model on the muxspace val photos, of aligned or not and
        margins 0 to 0.3 (``benchmarks/bench_detection.py``).
    on_missing : {"keep", "error"}, default="keep"
        An image with no face found: ``"keep"`` uses the whole image (centre square)
        and warns with a count; ``"error"`` raises a ``ValueError`` naming the images.
        Dropping images would misalign ``y`` in a pipeline: use
        :func:`crop_faces` with ``on_missing="drop"`` to prepare data instead.
    grayscale : bool, default=True
        Output grayscale crops (as FER2013) or RGB.
    image_shape : tuple, optional
        When X holds flattened rows: the shape of one image.
    n_jobs : int, optional
        Processes for detection and cropping (joblib; -1: all cores). None: one process,
        where MTCNN batches images of one size with PyTorch's threads.

    Examples
    --------
    >>> from skimage.data import astronaut
    >>> FaceCropper(output_size=32).fit_transform([astronaut()]).shape
    (1, 1024)
    """

    _parameter_constraints = {
        "output_size": [Interval(Integral, 1, None, closed="left")],
        "detector": [str, FaceDetector],  # names are checked against the registry when used
        "align": ["boolean"],
        "margin": [Interval(Real, 0, 2, closed="both")],
        "on_missing": [StrOptions({"keep", "error"})],
        "grayscale": ["boolean"],
        "image_shape": [tuple, list, None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        output_size=48,
        detector="mtcnn",
        align=True,
        margin=0.1,
        on_missing="keep",
        grayscale=True,
        image_shape=None,
        n_jobs=None,
    ):
        self.output_size = output_size
        self.detector = detector
        self.align = align
        self.margin = margin
        self.on_missing = on_missing
        self.grayscale = grayscale
        self.image_shape = image_shape
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Check the parameters and X; nothing is learned. Returns self."""
        self._params()
        self._items(X, reset=True)
        return self

    def transform(self, X):
        """Face crops: one flattened row of ``output_size**2`` (times 3 for RGB) float32 pixels 0-255 per image."""
        params = self._params()
        items, image_shape = self._items(X, reset=False)
        crops, faces = _crop_all(items, get_detector(self.detector), params, image_shape, self.n_jobs)
        missing = [i for i, face in enumerate(faces) if face is None]
        if missing and self.on_missing == "error":
            raise ValueError(
                f"no face found in {len(missing)} of {len(faces)} images (indices {missing[:10]}); "
                "use on_missing='keep' to use the whole image instead"
            )
        if missing:
            warnings.warn(
                f"no face found in {len(missing)} of {len(faces)} images; used the whole image for those",
                UserWarning,
                stacklevel=2,
            )
        return crops

    def get_feature_names_out(self, input_features=None):
        """One name per output pixel, ``pixel0`` to ``pixel{n-1}``, as ``set_output(transform="pandas")`` uses them.

        Parameters
        ----------
        input_features : ignored
            Present for scikit-learn's API: the crops' pixels are not the input's.

        Returns
        -------
        ndarray of str objects
        """
        return feature_names("pixel", self.output_size**2 * (1 if self.grayscale else 3))

    def _items(self, X, reset):
        """X as a list of images or paths, and the shape of flattened rows (None otherwise)."""
        if isinstance(X, (list, tuple)) and X and all(_is_single_image(x) for x in X):
            return list(X), None
        X, carried = flatten_images(X, self.image_shape)
        X = validate_data(self, X, reset=reset, dtype="numeric")
        return list(X), infer_image_shape(self.image_shape, X.shape[1], carried)

    def _params(self):
        if self.on_missing == "drop":
            raise ValueError(
                "on_missing must be 'keep' or 'error' in a FaceCropper, got 'drop': dropping images would "
                "misalign y; to drop images without a face, prepare the data with fersk.preprocessing.crop_faces"
            )
        self._validate_params()
        get_detector(self.detector)  # an unknown name fails here, before any work
        return {k: getattr(self, k) for k in ("output_size", "align", "margin", "grayscale")}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True  # file paths
        tags.transformer_tags.preserves_dtype = ["float32"]  # crops are float32 pixels whatever comes in
        return tags


def _is_single_image(x):
    return isinstance(x, (str, Path)) or np.ndim(x) in (2, 3)


def crop_faces(
    X,
    *,
    on_missing="drop",
    output_size=48,
    detector="mtcnn",
    align=True,
    margin=0.1,
    grayscale=True,
    image_shape=None,
    n_jobs=None,
):
    """Crop the largest face of each photo, for preparing a dataset.

    Unlike :class:`FaceCropper`, this can drop the images where no face is found.

    Parameters
    ----------
    X : list of paths or images, or an array of images
    on_missing : {"drop", "keep", "error"}, default="drop"
        ``"drop"`` leaves those images out and warns with their count; ``"keep"`` uses
        the whole image (centre square) and warns; ``"error"`` raises a ``ValueError``.
    output_size, detector, align, margin, grayscale, image_shape, n_jobs
        As in :class:`FaceCropper`.

    Returns
    -------
    faces : ndarray of shape (n_found, output_size ** 2) or (n_found, output_size ** 2 * 3), float32
    kept : ndarray of int
        Indices into X of the rows of ``faces``; use ``y[kept]`` to keep labels aligned.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage.data import astronaut
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     faces, kept = crop_faces([astronaut(), np.zeros((60, 80))], output_size=24)
    >>> faces.shape, kept.tolist(), str(caught[0].message)
    ((1, 576), [0], 'no face found in 1 of 2 images; dropped them')
    """
    if on_missing not in ON_MISSING:
        raise ValueError(f"on_missing must be one of {ON_MISSING}, got {on_missing!r}")
    cropper = FaceCropper(
        output_size=output_size,
        detector=detector,
        align=align,
        margin=margin,
        grayscale=grayscale,
        image_shape=image_shape,
        n_jobs=n_jobs,
    )
    items, image_shape = cropper._items(X, reset=True)
    crops, faces = _crop_all(items, get_detector(detector), cropper._params(), image_shape, n_jobs)
    missing = [i for i, face in enumerate(faces) if face is None]
    if missing and on_missing == "error":
        raise ValueError(f"no face found in {len(missing)} of {len(faces)} images (indices {missing[:10]})")
    if missing and on_missing == "drop":
        warnings.warn(
            f"no face found in {len(missing)} of {len(faces)} images; dropped them", UserWarning, stacklevel=2
        )
        kept = np.array([i for i, face in enumerate(faces) if face is not None], dtype=int)
        return crops[kept], kept
    if missing:
        warnings.warn(
            f"no face found in {len(missing)} of {len(faces)} images; used the whole image for those",
            UserWarning,
            stacklevel=2,
        )
    return crops, np.arange(len(crops))
