"""Training a network: ``fit``, ``partial_fit`` and warm starts, from the data checks to skorch's loop."""

import warnings

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import _check_sample_weight, column_or_1d
from skorch.dataset import Dataset

from ...preprocessing import flatten_images, infer_image_shape
from ...training import FocalLoss
from .._base import check_labels
from .._calibrate import uncalibrate


class FitMixin:
    """``fit`` and ``partial_fit``: the checks of what they are given, then skorch's training loop.

    The parameters' values are checked by scikit-learn's ``_fit_context``, once as a fit begins.
    """

    def fit(self, X, y, X_val=None, y_val=None, sample_weight=None, **fit_params):
        """Train on images ``X`` (pixel values 0-255) with labels ``y``; returns self.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels), or (n, h, w) / (n, h, w, c)
            Images, pixel values 0-255.
        y : array-like of shape (n_samples,)
            Labels of any type (e.g. emotion names); ``classes_`` holds them sorted.
        X_val : array-like of shape (n_val_samples, n_pixels), or image-shaped, default=None
            A fixed validation set for early stopping and the learning-rate schedule,
            as in scikit-learn's ``HistGradientBoostingClassifier.fit``; it replaces
            the split drawn by ``validation_fraction``. Give ``y_val`` with it.
        y_val : array-like of shape (n_val_samples,), default=None
            The labels of ``X_val``. Images of labels that ``y`` lacks (a ``learning_curve``
            step) are left out of the validation set with a warning, unless ``classes``
            names them.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the training images: each image's loss is multiplied by its
            weight and by its class's ``class_weight``, and each batch's loss is the
            weighted mean. The validation loss and the split ignore them. A mixed
            image (``mixup``, ``cutmix``) keeps the weight of the image it was mixed
            into. Needs the default criterion (:class:`fersk.training.FocalLoss`).
        **fit_params
            Passed to skorch's ``fit``.

        Returns
        -------
        self
        """
        self._refuse_accelerate()
        return self._fit(X, y, self.classes, X_val, y_val, sample_weight, **fit_params)

    def partial_fit(self, X, y, classes=None, sample_weight=None, **fit_params):
        """Train for ``max_epochs`` more epochs, continuing from the current weights.

        The first call on an unfitted estimator is :meth:`fit`. Later calls must use
        images of the fitted shape and labels from ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels), or (n, h, w) / (n, h, w, c)
            Images, pixel values 0-255.
        y : array-like of shape (n_samples,)
            Their labels.
        classes : array-like, default=None
            All the labels, as scikit-learn's ``partial_fit`` takes them: on the first call,
            ``y`` may hold some of them only. Later calls may repeat them (or leave them out),
            not change them. None: the skorch parameter ``classes``, else the labels of ``y``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the images, as in :meth:`fit`.
        **fit_params
            Passed to skorch's ``partial_fit``.

        Returns
        -------
        self
        """
        self._refuse_accelerate()
        if not self.initialized_ or "fitted_classes_" not in self.__dict__:
            classes = self.classes if classes is None else classes
            return self._fit(X, y, classes, None, None, sample_weight, **fit_params)
        return self._train_more(X, y, classes, sample_weight, **fit_params)

    def _refuse_accelerate(self):
        """Refuse skorch's ``AccelerateMixin`` before anything else (its own checks of the parameters)."""
        if any(cls.__name__ == "AccelerateMixin" for cls in type(self).__mro__):
            raise ValueError(
                "skorch's AccelerateMixin replaces train_step_single, so fersk's batch augmentation, "
                "mixup and CutMix would be dropped without a word; fersk does not support it. Scale out "
                "with one worker per GPU instead (see the user guide, 'Scaling out')"
            )

    # scikit-learn's _fit_context checks the parameters' values as a fit begins (and not again as the
    # network is built), and not at all under sklearn.set_config(skip_parameter_validation=True). It
    # wraps these two, not fit and partial_fit, so that every partial_fit is checked, where
    # scikit-learn checks the first only: set_params on a fitted network applies to the next call

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, y, classes, X_val, y_val, sample_weight, **fit_params):
        """:meth:`fit`, the labels being ``classes`` (None: those ``y`` holds)."""
        self._check_weight_decay()
        check_labels(y)
        self._check_prior_shift(X_val)
        if self.warm_start and self.initialized_:
            self._check_warm_start_classes(y if classes is None else classes)
            flat, carried = flatten_images(X, self.image_shape)
            self._check_image_size(infer_image_shape(self.image_shape, np.shape(flat)[1], carried))
        # fit or partial_fit, _fit_context's wrapper, then _fit: warnings point at the user's call
        X, y_encoded = self._validate_fit(X, y, classes, depth=3)
        sample_weight = self._check_sample_weight(sample_weight, X)
        self.class_prior_ = np.bincount(y_encoded, minlength=len(self.classes_)) / len(y_encoded)
        if self.prior_shift != 0 and not self.class_prior_.all():
            raise ValueError(
                f"prior_shift={self.prior_shift!r} divides by each class's frequency in y, and y holds no "
                f"image of {self.classes_[self.class_prior_ == 0].tolist()}; give prior_shift=0, or train "
                "on images of every class"
            )
        self.prior_shift_ = 0.0 if self.prior_shift == "auto" else float(self.prior_shift)
        uncalibrate(self)  # fersk.calibrate's: a network trained further answers otherwise
        self.validation_set_ = self.tuning_set_ = None
        if (X_val is None) != (y_val is None):
            raise ValueError("pass both X_val and y_val, or neither")
        if X_val is not None:
            self.validation_set_ = self._validation_dataset(X_val, y_val)
        if np.asarray(X).max() <= 1.0:
            warnings.warn(
                "X looks scaled to [0, 1]; fersk expects pixel values 0-255 as its loaders return them",
                UserWarning,
                stacklevel=4,
            )
        epochs_before = 0  # of a model trained on with warm_start: max_epochs counts this fit's epochs only
        if not self.warm_start or not self.initialized_:
            self.initialize()
            self._check_image_size()
        else:  # the images were checked against the fitted network above
            epochs_before = len(self.history)
            self.initialize_callbacks()  # settings made since the last fit (callbacks, early_stopping...) apply
        try:
            if self.checkpoint is not None:
                fit_params["epochs"] = self._resume(X, y_encoded, X_val, y_val, sample_weight, epochs_before)
                if fit_params["epochs"] == 0:
                    # a finished run, restored: the seeded split gives back its validation set
                    self.get_split_datasets(self._to_tensors(X), y_encoded.astype(np.int64))
                    return self._tune_prior_shift()
            with self._seeded_training():
                # _routing_method: requests made with set_fit_request are those of fit, not partial_fit
                super().partial_fit(
                    self._inputs(X, sample_weight),
                    y_encoded.astype(np.int64),
                    _routing_method="fit",
                    **fit_params,
                )
            return self._tune_prior_shift()
        finally:
            self.validation_set_ = self.tuning_set_ = None
            self.epoch_datasets_ = ()

    @_fit_context(prefer_skip_nested_validation=True)
    def _train_more(self, X, y, classes, sample_weight, **fit_params):
        """:meth:`partial_fit` of a fitted network: ``max_epochs`` more epochs on ``X`` and ``y``."""
        if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} differ from those of the first partial_fit, "
                f"{self.classes_.tolist()}; a network's classes are fixed by its first fit"
            )
        self._check_weight_decay()
        X = self._validate_predict(X)
        sample_weight = self._check_sample_weight(sample_weight, X)
        uncalibrate(self)  # trained further, it answers otherwise: calibrate again
        try:
            with self._seeded_training():
                super().partial_fit(self._inputs(X, sample_weight), self._encode(y).astype(np.int64), **fit_params)
            return self._tune_prior_shift()
        finally:
            self.tuning_set_ = None
            self.epoch_datasets_ = ()

    def _validation_dataset(self, X_val, y_val):
        """``fit``'s ``X_val`` and ``y_val`` as a skorch Dataset, without the images of labels ``y`` lacks.

        The network has no output for those, so no loss: a ``learning_curve`` step or a fold may lack
        a class that a fixed validation set holds. They are left out with a warning.
        """
        check_labels(y_val, "y_val")
        X_val = self._validate_predict(X_val)
        y_val = column_or_1d(y_val, warn=True)
        if len(y_val) != len(X_val):
            raise ValueError(f"X_val holds {len(X_val)} images and y_val {len(y_val)} labels; give one label per image")
        unseen = ~np.isin(y_val, self.classes_)
        if unseen.any():
            labels = sorted(set(y_val[unseen].tolist()))
            advice = "give classes= all the labels, so that the network has an output for each"
            if unseen.all():
                raise ValueError(
                    f"y_val holds only label(s) that y lacks, which this model never saw at fit: {labels} "
                    f"(y holds {self.classes_.tolist()}); {advice}"
                )
            warnings.warn(
                f"y_val holds {int(unseen.sum())} image(s) of label(s) {labels} that y lacks; the network has no "
                f"output for them, so validation leaves them out. To keep them, {advice}",
                UserWarning,
                stacklevel=5,  # _validation_dataset, _fit, _fit_context's wrapper, fit, the user's call
            )
            X_val, y_val = X_val[~unseen], y_val[~unseen]
        return Dataset(self._to_tensors(X_val), self._encode(y_val, "y_val").astype(np.int64))

    def _check_warm_start_classes(self, y):
        """With ``warm_start``, ``fit`` continues the fitted network, whose head has a unit per class:
        ``y`` (or ``classes``) must hold the classes it was fitted on. Checked before ``fit`` changes
        anything."""
        if "fitted_classes_" not in self.__dict__:  # initialized, never fitted: nothing to continue
            return
        classes = unique_labels(y)
        if not np.array_equal(classes, self.classes_):
            subset = set(classes.tolist()) <= set(self.classes_.tolist())
            raise ValueError(
                f"warm_start continues the network fitted on {len(self.classes_)} classes "
                f"{self.classes_.tolist()}, and y holds {classes.tolist()}; "
                + (
                    "to go on training on images of some of them, set classes=model.classes_ "
                    "(model.set_params(classes=model.classes_)); "
                    if subset
                    else ""
                )
                + "fit with warm_start=False to train a new network on these classes"
            )

    def _check_sample_weight(self, sample_weight, X):
        if sample_weight is None:
            return None
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32, ensure_non_negative=True)
        criterion = self.criterion if isinstance(self.criterion, type) else type(self.criterion)
        if not issubclass(criterion, FocalLoss):
            raise ValueError(
                f"sample_weight needs a criterion that weighs each sample, such as fersk's default "
                f"FocalLoss; this model's criterion is {criterion.__name__}. Leave criterion at its default "
                "(loss='cross_entropy' is FocalLoss with gamma=0) or drop sample_weight"
            )
        return sample_weight

    def _inputs(self, X, sample_weight):
        """What skorch trains on: the images, with their weights when there are any."""
        images = self._to_tensors(X)
        return images if sample_weight is None else {"X": images, "sample_weight": sample_weight}
