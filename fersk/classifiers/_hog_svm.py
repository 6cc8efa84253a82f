"""HOG features with a support vector machine."""

import warnings
from numbers import Real

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, indexable

from ..preprocessing import HOGTransformer
from ._base import ImageClassifierMixin, check_labels


class HOGSVMClassifier(ImageClassifierMixin, ClassifierMixin, BaseEstimator):
    """HOG features (scikit-image), standardised, into an SVM with calibrated probabilities.

    Probabilities come from ``CalibratedClassifierCV(SVC(), ensemble=False)``
    (Platt scaling on cross-validated decision values), scikit-learn's replacement
    for ``SVC(probability=True)``; ``predict`` is their argmax.

    The classic baseline of the FER literature: on the muxspace dataset the
    published analysis reports 82.1% accuracy for it.

    Parameters
    ----------
    orientations : int, default=9
        Orientation bins of the HOG histograms (see :class:`fersk.preprocessing.HOGTransformer`).
    pixels_per_cell : tuple of (int, int), default=(8, 8)
        HOG cell size in pixels, (rows, columns).
    cells_per_block : tuple of (int, int), default=(2, 2)
        HOG block size in cells, over which the histograms are normalised.
    C : float, default=10.0
        SVM regularisation, above 0: the larger, the less the SVM tolerates training errors.
    kernel : {"linear", "poly", "rbf", "sigmoid"}, default="rbf"
        SVM kernel.
    gamma : {"scale", "auto"} or float, default="scale"
        Kernel coefficient of ``"rbf"``, ``"poly"`` and ``"sigmoid"``, as in ``SVC``.
    class_weight : {"balanced", "balanced_sqrt"}, dict or None, default=None
        Class weights for the SVM; ``"balanced_sqrt"`` takes the square root of the
        ``"balanced"`` weights. A dict maps labels to weights, 1 for the labels it
        leaves out; it may name labels that ``y`` lacks only if it names every label of
        ``y`` (a ``learning_curve`` step may lack classes), else they are taken for typos.
        None weighs every class 1.
    image_shape : tuple of int, default=None
        Shape of the flattened images, ``(h, w)`` or ``(h, w, c)``, one entry possibly -1 as
        in ``numpy.reshape``. None infers it for square grayscale rows or 3-D/4-D input.
    n_jobs : int, default=None
        Processes for HOG extraction (joblib); None is one, -1 all the cores.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds of the probability calibration.

    Attributes
    ----------
    classes_ : ndarray
        The labels, sorted.
    image_shape_ : tuple
        ``(h, w, c)`` of the images.
    pipeline_ : sklearn.pipeline.Pipeline
        HOG, scaler and the calibrated SVC, fitted.

    Examples
    --------
    >>> from fersk import make_faces
    >>> X, y = make_faces(300, difficulty=0.0, random_state=0)
    >>> clf = HOGSVMClassifier(random_state=0).fit(X[:200], y[:200])
    >>> clf.score(X[200:], y[200:]) > 0.9
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 7)
    """

    _parameter_constraints = {
        **HOGTransformer._parameter_constraints,
        "C": [Interval(Real, 0, None, closed="neither")],
        "kernel": [StrOptions({"linear", "poly", "rbf", "sigmoid"})],
        "gamma": [StrOptions({"scale", "auto"}), Interval(Real, 0, None, closed="neither")],
        "class_weight": [StrOptions({"balanced", "balanced_sqrt"}), dict, None],
        "random_state": ["random_state"],
    }
    _parameter_constraints.pop("block_norm")

    def __init__(
        self,
        orientations=9,
        pixels_per_cell=(8, 8),
        cells_per_block=(2, 2),
        C=10.0,
        kernel="rbf",
        gamma="scale",
        class_weight=None,
        image_shape=None,
        n_jobs=None,
        random_state=None,
    ):
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.class_weight = class_weight
        self.image_shape = image_shape
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit HOG, scaler and SVM on images ``X`` with labels ``y``; returns self.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels), or (n, h, w) / (n, h, w, c)
            Images, pixel values 0-255.
        y : array-like of shape (n_samples,)
            Labels of any type.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the images, given to the SVM and to its probability calibration;
            they multiply ``class_weight``. Images of weight 0 are left out, as if absent
            (``BaggingClassifier`` draws its bootstrap samples as weights): a label whose
            images all weigh 0 is not in ``classes_``. Negative weights are refused.

        Returns
        -------
        self
        """
        check_labels(y)
        if sample_weight is not None:
            X, y, sample_weight = _drop_weightless(X, y, sample_weight)
        X, y_encoded = self._validate_fit(X, y, depth=2)  # fit, under _fit_context's wrapper
        svm = SVC(C=self.C, kernel=self.kernel, gamma=self.gamma, class_weight=dict(enumerate(self.class_weight_)))
        if sklearn.get_config()["enable_metadata_routing"]:
            svm.set_fit_request(sample_weight=True)  # the calibration passes the weights on to the SVM
        self.pipeline_ = make_pipeline(
            HOGTransformer(
                orientations=self.orientations,
                pixels_per_cell=self.pixels_per_cell,
                cells_per_block=self.cells_per_block,
                image_shape=self.image_shape_,
                n_jobs=self.n_jobs,
            ),
            StandardScaler(),
            CalibratedClassifierCV(svm, ensemble=False, cv=self._calibration_folds(y_encoded)),
        )
        # the steps one by one: the weights go to the calibrated SVM alone, with metadata routing on or off
        features = self.pipeline_[:-1].fit_transform(X)
        self.pipeline_[-1].fit(features, y_encoded, sample_weight=sample_weight)
        return self

    def _calibration_folds(self, y_encoded):
        """Stratified folds for Platt scaling; one fold on all images when a class has a single image.

        Cross-validated calibration needs two images of every class. With fewer (a small
        ``learning_curve`` or ``HalvingGridSearchCV`` step), the sigmoid is fitted on the
        SVM's decision values for its own training images: probabilities are then
        over-confident, which the warning says, but ``fit`` works as ``SVC`` does.
        """
        counts = np.bincount(y_encoded, minlength=len(self.classes_))
        if counts.min() >= 2:
            return StratifiedKFold(min(5, counts.min()), shuffle=True, random_state=self.random_state)
        single = self.classes_[counts < 2].tolist()
        warnings.warn(
            f"class(es) {single} have a single image, too few for cross-validated probability calibration; "
            "the probabilities are calibrated on the training images and will be over-confident. "
            "Give every class at least 2 images for calibrated probabilities",
            UserWarning,
            stacklevel=4,  # _calibration_folds, fit, _fit_context's wrapper, the user's call
        )
        everything = np.arange(len(y_encoded))
        return [(everything, everything)]

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        X = self._validate_predict(X)
        return self.pipeline_.predict_proba(X)

    def predict(self, X):
        """Predicted labels."""
        X = self._validate_predict(X)
        return self.classes_[self.pipeline_.predict(X)]


def _drop_weightless(X, y, sample_weight):
    """The images of positive weight, their labels and weights.

    libsvm leaves images of weight 0 out itself, but only after ``SVC`` has counted their
    classes: a class whose images all weigh 0 then breaks its decision values.
    """
    X, y = indexable(X, y)
    sample_weight = _check_sample_weight(sample_weight, X)
    if (sample_weight < 0).any():
        raise ValueError(
            f"sample_weight holds {int((sample_weight < 0).sum())} negative value(s); the SVM weighs each image's "
            "penalty by its weight, which must be 0 or more: clip the weights at 0 or leave those images out"
        )
    kept = np.flatnonzero(sample_weight)
    X, y = _safe_indexing(X, kept), _safe_indexing(y, kept)
    labels = np.unique(np.asarray(y))
    if len(labels) < 2:
        raise ValueError(
            f"sample_weight is positive on images of {len(labels)} class(es) only ({labels.tolist()}); "
            "an SVM needs two. Give images of at least two classes a positive weight"
        )
    return X, y, sample_weight[kept]
