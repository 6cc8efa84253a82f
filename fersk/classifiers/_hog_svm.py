"""HOG features with a support vector machine."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from ..preprocessing import HOGTransformer
from ._base import ImageClassifierMixin


class HOGSVMClassifier(ImageClassifierMixin, ClassifierMixin, BaseEstimator):
    """HOG features (scikit-image), standardised, into an SVM with calibrated probabilities.

    Probabilities come from ``CalibratedClassifierCV(SVC(), ensemble=False)``
    (Platt scaling on cross-validated decision values), scikit-learn's replacement
    for ``SVC(probability=True)``; ``predict`` is their argmax.

    The classic baseline of the FER literature: on the muxspace dataset the
    published analysis reports 82.1% accuracy for it.

    Parameters
    ----------
    orientations, pixels_per_cell, cells_per_block : HOG parameters
        See :class:`fersk.preprocessing.HOGTransformer`.
    C : float, default=10.0
        SVM regularisation.
    kernel : str, default="rbf"
        SVM kernel.
    gamma : str or float, default="scale"
        RBF kernel width.
    class_weight : None, "balanced", "balanced_sqrt" or dict
        Class weights for the SVM; ``"balanced_sqrt"`` takes the square root of the
        ``"balanced"`` weights.
    image_shape : (h, w) or (h, w, c), optional
        Shape of the flattened images, one entry possibly -1 as in ``numpy.reshape``;
        inferred for square grayscale or 3-D/4-D input.
    n_jobs : int, optional
        Processes for HOG extraction.
    random_state : int, optional
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

    def fit(self, X, y):
        """Fit HOG, scaler and SVM on images ``X`` with labels ``y``; returns self."""
        X, y_encoded = self._validate_fit(X, y)
        self.pipeline_ = make_pipeline(
            HOGTransformer(
                orientations=self.orientations,
                pixels_per_cell=self.pixels_per_cell,
                cells_per_block=self.cells_per_block,
                image_shape=self.image_shape_,
                n_jobs=self.n_jobs,
            ),
            StandardScaler(),
            CalibratedClassifierCV(
                SVC(C=self.C, kernel=self.kernel, gamma=self.gamma, class_weight=dict(enumerate(self.class_weight_))),
                ensemble=False,
                cv=StratifiedKFold(
                    max(2, min(5, np.bincount(y_encoded).min())), shuffle=True, random_state=self.random_state
                ),
            ),
        )
        self.pipeline_.fit(X, y_encoded)
        return self

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        X = self._validate_predict(X)
        return self.pipeline_.predict_proba(X)

    def predict(self, X):
        """Predicted labels."""
        X = self._validate_predict(X)
        return self.classes_[self.pipeline_.predict(X)]
