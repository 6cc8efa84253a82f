"""One call from a fitted estimator and labelled data to every figure a report needs."""

import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from .._atomic import write_text
from ._calibration import N_BINS, _reliability
from ._consistency import _consistency


def evaluate(estimator, X, y, *, consistency=True, n_bins=N_BINS, random_state=None):
    """Accuracy, per-class figures, the confusion matrix, calibration and consistency of a fitted classifier.

    Parameters
    ----------
    estimator : fitted classifier
        Any scikit-learn classifier with ``predict`` and ``classes_`` (a fersk estimator,
        a Pipeline, what :func:`fersk.load` returns).
    X : array-like
        Images, as the estimator takes them (rows of pixel values 0-255, or image arrays).
    y : array-like of shape (n_samples,)
        True labels.
    consistency : bool, default=True
        Also measure, with :func:`fersk.evaluation.consistency`, how often the answer
        survives a mirror, 0.7x brightness, JPEG at quality 30, a 10-degree rotation and
        Gaussian noise of sd 10. On by default so that every report says how far a label can
        be trusted; it costs five more predictions of ``X`` (about five times
        ``predict_seconds``): pass False where only the figures on ``X`` are wanted.
    n_bins : int, default=15
        Confidence bins of the expected calibration error and the reliability diagram.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the noise of the consistency check.

    Returns
    -------
    dict
        JSON-serialisable: ``accuracy``, ``balanced_accuracy``, ``macro_f1``,
        ``n_samples``, ``classes``, ``per_class`` (precision, recall, f1, support per
        class), ``confusion_matrix`` (counts; rows are true classes),
        ``confusion_matrix_normalized`` (each row sums to 1) and ``predict_seconds``. For
        an estimator with ``predict_proba``: ``ece``, the
        :func:`~fersk.evaluation.expected_calibration_error`, and ``reliability``, its bins
        (:func:`~fersk.evaluation.reliability_bins`, what
        :func:`~fersk.evaluation.plot_reliability` draws); faces whose label the model does
        not know count as wrong there, as in the accuracy. With ``consistency``:
        ``consistency``, :func:`~fersk.evaluation.consistency`'s result.

    Examples
    --------
    >>> from fersk import HOGSVMClassifier, make_faces
    >>> X, y = make_faces(140, image_size=24, difficulty=0, random_state=0)
    >>> clf = HOGSVMClassifier(pixels_per_cell=(6, 6)).fit(X[:100], y[:100])
    >>> report = evaluate(clf, X[100:], y[100:], random_state=0)
    >>> sorted(report["per_class"]["happy"])
    ['f1', 'precision', 'recall', 'support']
    >>> 0 <= report["ece"] <= 1, sorted(report["consistency"]["changes"]["mirror"])
    (True, ['accuracy', 'agreement', 'description'])
    """
    start = time.perf_counter()
    y_pred = estimator.predict(X)
    seconds = time.perf_counter() - start
    classes = getattr(estimator, "classes_", None)
    report = classification_metrics(y, y_pred, labels=classes)
    report["predict_seconds"] = seconds  # as measured: a fast prediction rounded to 3 decimals would read 0.0
    if hasattr(estimator, "predict_proba"):
        bins = _reliability(y, estimator.predict_proba(X), classes, n_bins, strict=False)
        report["ece"], report["reliability"] = bins["ece"], bins
    if consistency:
        report["consistency"] = _consistency(estimator, X, y, random_state=random_state, y_pred=y_pred)
    return report


def classification_metrics(y_true, y_pred, labels=None):
    """The figures of :func:`evaluate`, from labels already predicted.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like, optional
        The classes, in order; by default those present in either array, sorted.

    Returns
    -------
    dict

    Examples
    --------
    >>> m = classification_metrics(["a", "b", "b"], ["a", "b", "a"])
    >>> m["accuracy"], m["confusion_matrix"]
    (0.6667, [[1, 0], [1, 1]])
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) == 0:
        raise ValueError("cannot evaluate on 0 samples")
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    labels = np.asarray(labels)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    counts = confusion_matrix(y_true, y_pred, labels=labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalized = np.nan_to_num(counts / counts.sum(axis=1, keepdims=True))
    return {
        "n_samples": int(len(y_true)),
        "accuracy": _round(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": _round(_balanced_accuracy(y_true, y_pred)),
        "macro_f1": _round(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "classes": labels.tolist(),
        "per_class": {
            str(c): {"precision": _round(p), "recall": _round(r), "f1": _round(f), "support": int(s)}
            for c, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "confusion_matrix": counts.tolist(),
        "confusion_matrix_normalized": [[_round(v) for v in row] for row in normalized],
    }


def _balanced_accuracy(y_true, y_pred):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # classes predicted but absent from y_true
        return balanced_accuracy_score(y_true, y_pred)


def _round(value):
    return round(float(value), 4)


def write_json(metrics, path):
    """Write a metrics dict (or any JSON-able dict) to ``path``, creating folders.

    Returns the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(metrics, indent=2, default=_to_builtin) + "\n")
    return path


def _to_builtin(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
