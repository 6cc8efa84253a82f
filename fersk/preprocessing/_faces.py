"""Face cropping for real photos, as a scikit-learn transformer; the detection lives in :mod:`fersk.faces`."""

import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from ..faces import FaceDetector, crop_face, get_detector, photo_faces
from ._images import feature_names, flatten_images, infer_image_shape

ON_MISSING = ("skip", "whole", "error")  # the words analyze_faces uses


def _largest_faces(items, detector, params, n_jobs):
    """Each image's largest face as the model sees it (its centre square where none is found), one
    float32 row per image, and whether a face was found in it: :func:`fersk.faces.crop_face` over
    :func:`fersk.faces.photo_faces`, the path every door of fersk takes."""
    size = params["output_size"]
    shape = (size, size) if params["grayscale"] else (size, size, 3)
    crops, found = [None] * len(items), np.zeros(len(items), dtype=bool)
    for chunk in photo_faces(items, detector=detector, n_jobs=n_jobs):
        for i, photo, faces in chunk:
            face = faces[0] if faces else None  # largest first
            crops[i] = crop_face(photo, face, shape, align=params["align"], margin=params["margin"]).reshape(-1)
            found[i] = face is not None
    # float32 pixel rows, as the loaders give them: SMOTE interpolates in the input dtype
    return np.stack(crops).astype(np.float32), found


class FaceCropper(TransformerMixin, BaseEstimator):
    """Find the largest face in each photo and cut it out, aligned and framed like FER2013's faces.

    The first step for photos of people: ``make_pipeline(FaceCropper(), CNNClassifier())``
    then fits and predicts on photos, not only on pre-cropped faces. Detection uses MTCNN
    by default (offline, its weights ship with fersk); see :mod:`fersk.faces`.

    Images that are already face crops (FER2013's 48x48 faces, a folder of crops) keep
    working: MTCNN finds the face in about 90% of FER2013's faces and re-frames it the way
    FER2013 frames faces, so the crop changes little; where no face is found the whole image
    is used (``on_missing="whole"``), which for a crop is the right answer. To skip detection
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
    on_missing : {"whole", "error"}, default="whole"
        An image with no face found: ``"whole"`` uses the whole image (its centre square)
        and warns with a count; ``"error"`` raises a ``ValueError`` naming the images.
        Dropping images would misalign ``y`` in a pipeline: use
        :func:`crop_faces` with ``on_missing="skip"`` to prepare data instead. The same
        words as :func:`fersk.analyze_faces`'s.
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
        "on_missing": [StrOptions({"whole", "error", "skip"})],  # the vocabulary's three words: "skip" is refused by
        # _params, with what to use instead, after this check (under _fit_context) would have refused it without
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
        on_missing="whole",
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and X; nothing is learned. Returns self."""
        self._params(validated=True)
        self._items(X, reset=True)
        return self

    def transform(self, X):
        """Face crops: one flattened row of ``output_size**2`` (times 3 for RGB) float32 pixels 0-255 per image."""
        params = self._params()
        items = self._items(X, reset=False)
        crops, found = _largest_faces(items, get_detector(self.detector), params, self.n_jobs)
        missing = np.flatnonzero(~found).tolist()
        if missing and self.on_missing == "error":
            raise ValueError(
                f"no face found in {len(missing)} of {len(found)} images (indices {missing[:10]}); "
                "use on_missing='whole' to use the whole image instead"
            )
        if missing:
            warnings.warn(
                f"no face found in {len(missing)} of {len(found)} images; used the whole image for those",
                UserWarning,
                stacklevel=2,
            )
        return crops

    def face_framing(self):
        """How this step finds and frames faces: its ``detector``, ``align`` and ``margin``.

        :func:`fersk.analyze_faces`, :func:`fersk.analyze_video` and ``fersk predict`` read it
        to find faces in a photo as the pipeline would, then classify them with the steps
        after this one, instead of searching each found face again
        (:func:`fersk.faces.split_face_cropper`).

        Returns
        -------
        dict

        Examples
        --------
        >>> FaceCropper(detector="lbp").face_framing()
        {'detector': 'lbp', 'align': True, 'margin': 0.1}
        """
        return {"detector": self.detector, "align": self.align, "margin": self.margin}

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
        """X as a list of images or paths; flattened rows are reshaped to ``image_shape``."""
        if isinstance(X, (list, tuple)) and X and all(_is_single_image(x) for x in X):
            return list(X)
        X, carried = flatten_images(X, self.image_shape)
        X = validate_data(self, X, reset=reset, dtype="numeric")
        shape = infer_image_shape(self.image_shape, X.shape[1], carried)
        return list(X.reshape(len(X), *shape))

    def _params(self, validated=False):
        """The cropping parameters, checked: by scikit-learn's constraints (once per ``fit``, under its
        ``_fit_context``; ``transform``, which needs no ``fit``, checks them itself unless
        ``skip_parameter_validation`` is set), then by what they cannot say."""
        if not (validated or get_config()["skip_parameter_validation"]):
            self._validate_params()
        if self.on_missing == "skip":
            raise ValueError(
                "on_missing must be 'whole' or 'error' in a FaceCropper, got 'skip': dropping images would "
                "misalign y; to drop images without a face, prepare the data with fersk.preprocessing.crop_faces"
            )
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
    on_missing="skip",
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
    on_missing : {"skip", "whole", "error"}, default="skip"
        ``"skip"`` leaves those images out and warns with their count; ``"whole"`` uses
        the whole image (its centre square) and warns; ``"error"`` raises a ``ValueError``.
        The same words as :func:`fersk.analyze_faces`'s and :class:`FaceCropper`'s.
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
    items = cropper._items(X, reset=True)
    crops, found = _largest_faces(items, get_detector(detector), cropper._params(), n_jobs)
    missing = np.flatnonzero(~found).tolist()
    if missing and on_missing == "error":
        raise ValueError(f"no face found in {len(missing)} of {len(found)} images (indices {missing[:10]})")
    if missing and on_missing == "skip":
        warnings.warn(
            f"no face found in {len(missing)} of {len(found)} images; dropped them", UserWarning, stacklevel=2
        )
        kept = np.flatnonzero(found)
        return crops[kept], kept
    if missing:
        warnings.warn(
            f"no face found in {len(missing)} of {len(found)} images; used the whole image for those",
            UserWarning,
            stacklevel=2,
        )
    return crops, np.arange(len(crops))
