"""Calibrated probabilities, prediction sets and abstention, from what :func:`fersk.calibrate` stored."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._calibrate import conformal_threshold, enough_scores, precision_threshold, temper

HOW_TO_CALIBRATE = (
    "fit them on validation images the model was not trained on: fersk.calibrate(model, X_val, y_val), "
    "then fersk.save(model, path) keeps them"
)


class ConfidenceMixin:
    """``temperature_`` applied to ``predict_proba``; :meth:`predict_sets` and :meth:`predict_unsure`."""

    def _tempered(self, proba):
        """The probabilities at the fitted temperature (``temperature_``, 1 before :func:`fersk.calibrate`)."""
        return temper(proba, self.__dict__.get("temperature_", 1.0))

    def set_threshold(self, coverage=0.9, *, expert=None):
        """The least probability a class needs to be in a prediction set of this coverage.

        Split conformal prediction on the scores :func:`fersk.calibrate` stored: on images like
        the validation images, the set of the classes at least this probable holds the true class
        at least ``coverage`` of the time.

        Parameters
        ----------
        coverage : float, default=0.9
            In (0, 1).
        expert : int, optional
            For a network of gated experts: the threshold of the faces this expert's gate
            chose, from the scores of the validation faces it chose (Mondrian conformal
            prediction: the coverage holds for each expert's faces); from every validation
            face's score where it chose too few for ``coverage``. None: from every validation
            face's score.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            When the model has no conformal scores (not calibrated), or too few for ``coverage``.
        """
        scores = self._stored("conformal_scores_", "prediction sets need")
        if expert is not None:
            by_expert = self._stored("expert_conformal_scores_", "thresholds per expert need")
            if isinstance(expert, bool) or not (isinstance(expert, (int, np.integer)) and 0 <= expert < len(by_expert)):
                raise ValueError(f"expert must be one of 0 to {len(by_expert) - 1}, got {expert!r}")
            if enough_scores(len(by_expert[expert]), coverage):
                scores = by_expert[expert]
        return conformal_threshold(scores, coverage)

    def unsure_threshold(self, precision=0.9):
        """The least top probability at which the model answers, for a target precision.

        The smallest threshold at which the validation images :func:`fersk.calibrate` saw,
        answered when their top probability reaches it, were right at least ``precision`` of the
        time. Measured on validation, not guaranteed.

        Parameters
        ----------
        precision : float, default=0.9
            In (0, 1).

        Returns
        -------
        float

        Raises
        ------
        ValueError
            When the model was not calibrated, or no threshold reaches ``precision`` on validation.
        """
        right = self._stored("confidence_right_", "abstaining needs")
        return precision_threshold(right, self._stored("confidence_wrong_", "abstaining needs"), precision)

    def predict_sets(self, X=None, *, proba=None, experts=None, coverage=0.9):
        """Prediction sets: the classes each image may be, holding the true one ``coverage`` of the time.

        A class is in an image's set when its calibrated probability reaches
        :meth:`set_threshold`; the most probable class is always in it, so no set is empty. A
        set of one is a confident answer ("happy"), a larger one says which classes remain
        ("sad or neutral"). A network of gated experts calibrated by :func:`fersk.calibrate`
        draws each image's set with the threshold of the expert its gate chose
        (``set_threshold(coverage, expert=k)``), so that each kind of face is covered as
        often as asked, not only all of them together.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels) or image-shaped, optional
            Images, as ``predict_proba`` takes them.
        proba : ndarray of shape (n_samples, n_classes), optional
            Instead of ``X``: this model's ``predict_proba`` of the images, computed already.
        experts : ndarray of int, shape (n_samples,), optional
            With ``proba``, for a network of gated experts: each image's expert, as
            ``predict_proba(X, return_experts=True)`` gives it beside ``proba``.
        coverage : float, default=0.9
            In (0, 1).

        Returns
        -------
        ndarray of bool, shape (n_samples, n_classes)
            Columns in the order of ``classes_``.

        Raises
        ------
        ValueError
            When the model was not calibrated (:func:`fersk.calibrate`), or both or neither of
            ``X`` and ``proba`` are given.

        Examples
        --------
        >>> from fersk import CNNClassifier, make_faces
        >>> from fersk.classifiers import calibrate
        >>> X, y = make_faces(300, image_size=24, random_state=0)
        >>> model = CNNClassifier(max_epochs=2, module__channels=(8, 16), random_state=0).fit(X[:200], y[:200])
        >>> sets = calibrate(model, X[200:], y[200:]).predict_sets(X[:2], coverage=0.9)
        >>> [model.classes_[row].tolist() for row in sets] # doctest: +SKIP
        [['happy'], ['neutral', 'sad']]
        """
        threshold = self.set_threshold(coverage)  # before the images: a model without scores is said at once
        by_expert = self.__dict__.get("expert_conformal_scores_")
        if by_expert is None:
            proba = self._given_proba(X, proba)
        else:
            proba, experts = self._given_proba_and_experts(X, proba, experts, len(by_expert))
            each = np.array([self.set_threshold(coverage, expert=k) for k in range(len(by_expert))])
            threshold = each[experts][:, None]
        sets = proba >= threshold - 1e-12
        sets[np.arange(len(proba)), proba.argmax(axis=1)] = True
        return sets

    def predict_unsure(self, X=None, *, proba=None, precision=0.9):
        """Whether to abstain on each image: its top probability is below :meth:`unsure_threshold`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_pixels) or image-shaped, optional
            Images, as ``predict_proba`` takes them.
        proba : ndarray of shape (n_samples, n_classes), optional
            Instead of ``X``: this model's ``predict_proba`` of the images.
        precision : float, default=0.9
            In (0, 1): the precision, on validation, of the answers kept.

        Returns
        -------
        ndarray of bool, shape (n_samples,)
            True: "unsure".
        """
        threshold = self.unsure_threshold(precision)
        return self._given_proba(X, proba).max(axis=1) < threshold

    def _given_proba(self, X, proba):
        if (X is None) == (proba is None):
            raise ValueError(
                "give the images X, or their probabilities proba= from this model's predict_proba, not both"
            )
        if proba is None:
            return self.predict_proba(X)
        proba = np.asarray(proba, dtype=np.float64)
        if proba.ndim != 2 or proba.shape[1] != len(self.classes_):
            raise ValueError(
                f"proba must have one row per image and one column per class ({len(self.classes_)}), "
                f"as predict_proba gives; got shape {proba.shape}"
            )
        return proba

    def _given_proba_and_experts(self, X, proba, experts, n_experts):
        if proba is None and X is not None:
            return self.predict_proba(X, return_experts=True)
        if experts is None:
            raise ValueError(
                "this model draws each face's set from the scores of the expert its gate chose: give the images X, "
                "or with proba= the experts= that predict_proba(X, return_experts=True) returns beside it"
            )
        proba = self._given_proba(X, proba)
        experts = np.asarray(experts)
        if experts.shape != (len(proba),) or not np.isin(experts, np.arange(n_experts)).all():
            raise ValueError(
                f"experts must give one expert (0 to {n_experts - 1}) per image, as predict_proba(X, "
                f"return_experts=True) does; got {experts.shape} values for {len(proba)} images"
            )
        return proba, experts

    def _stored(self, name, what):
        check_is_fitted(self, "module_")
        if name not in self.__dict__:
            raise ValueError(
                f"{what} the calibration scores of validation images stored in the model, and this one has none: "
                + HOW_TO_CALIBRATE
            )
        return self.__dict__[name]
