"""What every fersk estimator shares: the image convention, labels and class weights."""

import warnings
from collections import defaultdict

import numpy as np
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from ..preprocessing import check_fitted_rows, flatten_images, infer_image_shape


class ImageClassifierMixin:
    """Image-shape checks, label encoding and class weights, for every fersk classifier.

    Estimators call :meth:`_validate_fit` in ``fit`` and :meth:`_validate_predict`
    in the prediction methods; each family then only writes what is its own.
    """

    def _validate_fit(self, X, y, classes=None, *, depth=1):
        """Validate training data; set ``image_shape_``, ``classes_`` and ``class_weight_``.

        ``classes``, when given, are all the labels, of which ``y`` may hold some only
        (``partial_fit``'s first batch). ``depth`` is the number of fersk's frames between
        this method and the user's call (``fit`` alone: 1), so that warnings point at that
        call. Returns the 2-D X and the labels encoded as 0..n_classes-1.
        """
        check_labels(y)
        X, carried = flatten_images(X, self.image_shape)
        X, y = validate_data(self, X, y, dtype="numeric", ensure_min_samples=2)
        self.image_shape_ = infer_image_shape(self.image_shape, X.shape[1], carried)
        _warn_negative_pixels(X, stacklevel=depth + 3)
        check_classification_targets(y)
        _warn_near_duplicate_labels(y, stacklevel=depth + 3)
        if classes is None:
            self.classes_, y_encoded = np.unique(y, return_inverse=True)
        else:
            self.classes_ = unique_labels(classes)  # refuses a mix of strings and numbers
            unknown = sorted(set(np.unique(y).tolist()) - set(self.classes_.tolist()))
            if unknown:
                encoded = np.asarray(y).dtype.kind in "iu" and self.classes_.dtype.kind in "OSU"
                raise ValueError(
                    f"y holds label(s) {unknown} that are not among classes={self.classes_.tolist()}; "
                    "classes must list every label"
                    + (
                        ". y holds integers and classes does not: VotingClassifier, StackingClassifier and "
                        "cross_val_predict(method='predict_proba') give their models the labels encoded as 0 to "
                        "n_classes - 1, and keep the labels (and a column for each) themselves; leave "
                        "classes=None in models that they fit"
                        if encoded
                        else ""
                    )
                )
            y_encoded = np.searchsorted(self.classes_, y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes to learn from; y holds only {self.classes_.tolist()}"
            )
        self.class_weight_ = self._class_weights(y_encoded)
        return X, y_encoded

    def _class_weights(self, y_encoded):
        n_classes = len(self.classes_)
        if self.class_weight is None:
            return np.ones(n_classes)
        if isinstance(self.class_weight, str) and self.class_weight in ("balanced", "balanced_sqrt"):
            absent = self.classes_[np.bincount(y_encoded, minlength=n_classes) == 0].tolist()
            if absent:
                raise ValueError(
                    f"class_weight={self.class_weight!r} weighs each class by its count in y, and y holds "
                    f"no image of {absent}; give the first batch images of every class, or give "
                    "class_weight as a dict"
                )
            weights = compute_class_weight("balanced", classes=np.arange(n_classes), y=y_encoded)
            return np.sqrt(weights) if self.class_weight == "balanced_sqrt" else weights
        # a dict: the parameter constraints refuse anything else. Labels y lacks are taken for
        # misspellings, unless the dict names every class of y (as scikit-learn's
        # compute_class_weight does): a learning_curve step or a bootstrap sample lacks classes
        classes = set(self.classes_.tolist())
        unknown = set(self.class_weight) - classes
        if unknown and not classes <= set(self.class_weight):
            raise ValueError(
                f"class_weight names classes not in y: {sorted(unknown)} (y holds {sorted(classes)}); "
                "check their spelling, or name every class of y"
            )
        return np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_])

    def _validate_predict(self, X):
        """Validate data for prediction against what ``fit`` saw; returns the 2-D X."""
        check_is_fitted(self, "image_shape_")
        X, carried = flatten_images(X, self.image_shape_)
        if carried is not None and tuple(carried) != tuple(self.image_shape_):
            raise ValueError(
                f"X holds images of shape {tuple(carried)}, but this model was fitted on {tuple(self.image_shape_)}"
            )
        check_fitted_rows(X, self.image_shape_, type(self).__name__)
        return validate_data(self, X, dtype="numeric", reset=False)

    def _encode(self, y, name="y"):
        """Labels -> indices into ``classes_``; labels unseen at ``fit`` are an error."""
        check_labels(y, name)
        y = np.asarray(y)
        unseen = sorted(set(y.tolist()) - set(self.classes_.tolist()))
        if unseen:
            raise ValueError(
                f"{name} holds label(s) {unseen} that this model never saw at fit (it knows {self.classes_.tolist()})"
            )
        return np.searchsorted(self.classes_, y)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, as scikit-learn's classifiers give it.

        ``cross_val_predict(method="predict_log_proba")`` asks for it. A probability of 0
        gives ``-inf``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels) or image-shaped

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def _scores_indices(self, X):
        """Whether ``X`` is data whose labels are class indices (skorch's datasets, for the networks)."""
        return False

    def score(self, X, y, sample_weight=None):
        """Mean accuracy on ``(X, y)``, as scikit-learn's ``ClassifierMixin.score``.

        Images whose label this model never saw at ``fit`` count as wrong, with a
        warning that names those labels: a small ``learning_curve`` or
        ``HalvingGridSearchCV`` step may train on fewer classes than it is scored on.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels) or image-shaped
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        float
        """
        from sklearn.metrics import accuracy_score

        check_is_fitted(self, "image_shape_")
        if self._scores_indices(X):
            return accuracy_score(y, self.predict(X), sample_weight=sample_weight)
        check_labels(y)
        unseen = sorted(set(np.asarray(y).tolist()) - set(self.classes_.tolist()))
        if unseen:
            warnings.warn(
                f"y holds label(s) {unseen} that this model never saw at fit (it knows "
                f"{self.classes_.tolist()}); their images count as wrong",
                UserWarning,
                stacklevel=2,
            )
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)


def _is_missing(label):
    if label is None:
        return True
    try:
        return bool(label != label)  # NaN
    except TypeError:  # pandas.NA
        return True


def check_labels(y, name="y"):
    """Refuse labels that are missing (None, NaN, pandas.NA) or of mixed types, saying which rows hold them.

    A blank cell of a labels CSV read with pandas is a NaN among strings, which scikit-learn
    reported as "Input contains NaN" (not naming y), and a None failed in numpy's sort. Strings
    mixed with numbers (a -1 for "unlabelled" among emotion names) got scikit-learn's "Unknown
    label type" at ``fit`` and numpy's "'<' not supported" at ``score``.
    """
    if y is None:  # validate_data says that y is required
        return
    y = np.asarray(y, dtype=object if not hasattr(y, "dtype") else None).ravel()
    if y.dtype.kind != "O":  # numbers: scikit-learn's "Input y contains NaN" says it
        return
    missing = np.flatnonzero([_is_missing(label) for label in y])
    if len(missing):
        raise ValueError(
            f"{name} holds {len(missing)} missing label(s) (None or NaN), at rows {missing[:10].tolist()}"
            f"{' ...' if len(missing) > 10 else ''}; leave those images out (keep = ~pandas.isna(y); "
            "X[keep], y[keep]) or label them"
        )
    strings = np.array([isinstance(label, str) for label in y])
    if strings.any() and not strings.all():
        others = np.flatnonzero(~strings)
        types = ", ".join(sorted({type(y[i]).__name__ for i in others}))
        raise ValueError(
            f"{name} mixes strings with labels of other types ({types}: {y[others[0]]!r}), at rows "
            f"{others[:10].tolist()}{' ...' if len(others) > 10 else ''}; give labels of one type: leave the "
            "unlabelled images out, or write every label as a string"
        )


def _warn_near_duplicate_labels(y, stacklevel):
    groups = defaultdict(set)
    for label in np.unique(y).tolist():
        if isinstance(label, str):
            groups[label.strip().lower()].add(label)
    clashes = [sorted(v) for v in groups.values() if len(v) > 1]
    if clashes:
        warnings.warn(
            f"labels that differ only in case or spaces are treated as different classes: "
            f"{clashes}; clean them, e.g. with fersk.canonical_emotion",
            UserWarning,
            stacklevel=stacklevel,
        )


def _warn_negative_pixels(X, stacklevel):
    """Warn that ``X`` holds negative values: pixels have none, while a ``StandardScaler`` or ``PCA``
    before a fersk model gives it features whose rows it would take for images."""
    lowest = X.min()
    if lowest < 0:
        warnings.warn(
            f"X holds negative values (down to {lowest:.3g}), which no pixel has: fersk's models take images, "
            "pixel values 0-255. A StandardScaler or PCA before this model in a Pipeline gives it features, "
            "not images: leave that step out, or put it after the image features (HOGTransformer, or a "
            "network's transform)",
            UserWarning,
            stacklevel=stacklevel,
        )
