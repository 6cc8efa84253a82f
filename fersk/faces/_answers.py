"""What a calibrated model says beside its prediction: a face's prediction set and whether it is unsure."""

import numpy as np

from ._records import plain_classes


def last_step(model):
    """The estimator at the end of a Pipeline, or the model itself."""
    return model.steps[-1][1] if hasattr(model, "steps") else model


def classify_faces(model, X, *, batch_size=64, coverage=None, abstain_precision=None):
    """The probabilities of faces ``X``, ``batch_size`` per ``predict_proba`` call, and their answers.

    What :func:`fersk.analyze_faces` and :func:`fersk.analyze_video` do with the faces they cut
    out. Where prediction sets are asked of a network of gated experts calibrated per expert,
    each face's expert comes from the same forward passes
    (``predict_proba(X, return_experts=True)``).

    Parameters
    ----------
    model : fitted classifier or Pipeline
    X : ndarray of shape (n_faces, n_pixels)
    batch_size : int, default=64
    coverage, abstain_precision : float, optional
        As for :func:`prediction_answers`.

    Returns
    -------
    proba : ndarray of shape (n_faces, n_classes)
    answers : list of dict
        As :func:`prediction_answers` gives them.

    Examples
    --------
    >>> from fersk import CNNClassifier, make_faces
    >>> X, y = make_faces(70, image_size=24, random_state=0)
    >>> model = CNNClassifier(max_epochs=1, module__channels=(4, 8), random_state=0).fit(X, y)
    >>> proba, answers = classify_faces(model, X[:5], batch_size=2)
    >>> proba.shape, answers[0]
    ((5, 7), {'prediction_set': None, 'unsure': None})
    """
    final = last_step(model)
    by_expert = coverage is not None and "expert_conformal_scores_" in vars(final)
    probas, experts = [], []
    for start in range(0, len(X), batch_size):
        batch = X[start : start + batch_size]
        if by_expert:
            proba, chosen = model.predict_proba(batch, return_experts=True)
            experts.append(chosen)
        else:
            proba = model.predict_proba(batch)
        probas.append(np.asarray(proba))
    if not probas:
        return np.zeros((0, len(final.classes_))), []
    proba = np.concatenate(probas)
    chosen = np.concatenate(experts) if by_expert else None
    answers = prediction_answers(model, proba, experts=chosen, coverage=coverage, abstain_precision=abstain_precision)
    return proba, answers


def prediction_answers(model, proba, *, experts=None, coverage=None, abstain_precision=None):
    """Each face's prediction set and abstention, from its probabilities: the fields of its record.

    What :func:`fersk.analyze_faces` and :func:`fersk.analyze_video` put beside ``predicted``: the
    classes of the model's :meth:`~fersk.CNNClassifier.predict_sets` for ``coverage``, most
    probable first, and its :meth:`~fersk.CNNClassifier.predict_unsure` for
    ``abstain_precision``. Called with ``proba=None`` it only checks that the model can answer.

    Parameters
    ----------
    model : fitted classifier or Pipeline
        Its last step calibrated with :func:`fersk.calibrate`.
    proba : ndarray of shape (n_faces, n_classes) or None
        The model's ``predict_proba`` of the faces.
    experts : ndarray of int, shape (n_faces,), optional
        For a network of gated experts calibrated per expert: each face's expert, as
        ``predict_proba(X, return_experts=True)`` gives it (see :meth:`~fersk.CNNClassifier.predict_sets`).
    coverage, abstain_precision : float, optional
        As for :func:`fersk.analyze_faces`; None: not asked for.

    Returns
    -------
    list of dict
        Per face: ``prediction_set`` (tuple of labels, or None where ``coverage`` is None) and
        ``unsure`` (bool, or None where ``abstain_precision`` is None).

    Raises
    ------
    ValueError
        For a model without calibration scores, saying how to fit them.

    Examples
    --------
    >>> from fersk import CNNClassifier, make_faces
    >>> from fersk.classifiers import calibrate
    >>> X, y = make_faces(300, image_size=24, random_state=0)
    >>> model = CNNClassifier(max_epochs=2, module__channels=(8, 16), random_state=0).fit(X[:200], y[:200])
    >>> answers = prediction_answers(calibrate(model, X[200:], y[200:]), model.predict_proba(X[:2]), coverage=0.9)
    >>> sorted(answers[0]), type(answers[0]["prediction_set"]).__name__, answers[0]["unsure"]
    (['prediction_set', 'unsure'], 'tuple', None)
    """
    final = last_step(model)
    if (coverage is not None or abstain_precision is not None) and not callable(getattr(final, "predict_sets", None)):
        raise ValueError(
            "prediction sets and abstaining need a fersk neural classifier calibrated on validation images, and "
            f"this model ends in a {type(final).__name__}: fersk.calibrate(model, X_val, y_val) on a "
            "CNNClassifier or TransferClassifier"
        )
    if proba is None:  # the thresholds alone: what a model without calibration scores cannot give is said now
        if coverage is not None:
            final.set_threshold(coverage)
        if abstain_precision is not None:
            final.unsure_threshold(abstain_precision)
        return []
    answers = [{"prediction_set": None, "unsure": None} for _ in range(len(proba))]
    if coverage is not None:
        classes = plain_classes(final)
        sets = final.predict_sets(proba=proba, experts=experts, coverage=coverage)
        for row, kept, answer in zip(np.asarray(proba), sets, answers):
            order = np.argsort(-row, kind="stable")
            answer["prediction_set"] = tuple(classes[k] for k in order if kept[k])
    if abstain_precision is not None:
        for unsure, answer in zip(final.predict_unsure(proba=proba, precision=abstain_precision), answers):
            answer["unsure"] = bool(unsure)
    return answers
