"""Cross-dataset evaluation: several fitted models scored on several datasets, on the classes they share."""

import numpy as np

from ._calibration import N_BINS, _reliability
from ._metrics import classification_metrics


def cross_dataset_evaluation(models, datasets):
    """Score each model on each dataset, on the classes the two share.

    A model trained on one dataset often meets labels it never learned (``contempt``) or
    lacks some a dataset has. Both sides are handled explicitly, per pair, and reported:

    - images whose true label the model does not know are left out of that pair's figures
      and counted in ``excluded``;
    - the model's classes that the dataset lacks are never predicted on it: the prediction
      is the most probable *shared* class (``predict_proba`` restricted to the shared
      columns), and those classes are listed in ``not_in_dataset``.

    Parameters
    ----------
    models : dict
        Name -> fitted classifier with ``classes_`` and ``predict_proba``.
    datasets : dict
        Name -> ``(X, y)`` or a Bunch with ``data`` and ``target``: images as the models
        take them, and their labels. Photos should be cropped as at inference first
        (:func:`fersk.preprocessing.crop_faces` with ``on_missing="whole"``, as
        ``fersk evaluate`` does), or the models wrapped in a Pipeline after a
        :class:`fersk.FaceCropper`.

    Returns
    -------
    dict
        JSON-serialisable: ``models`` and ``datasets`` (the names, in order) and
        ``scores[model][dataset]``, each the :func:`classification_metrics` of the pair
        (``accuracy``, ``macro_f1``, ``per_class``, confusion matrices) plus ``ece`` (the
        :func:`expected_calibration_error` of the probabilities restricted to the shared
        classes and summing to 1 again), ``classes``
        (the shared classes scored), ``excluded`` (true label -> images left out) and
        ``not_in_dataset`` (the model's classes the dataset lacks).
        :func:`cross_dataset_table` renders it; :func:`plot_cross_dataset` draws it.

    Examples
    --------
    >>> from fersk import HOGSVMClassifier, make_faces
    >>> X, y = make_faces(200, image_size=24, difficulty=0, random_state=0)
    >>> clf = HOGSVMClassifier(pixels_per_cell=(6, 6), random_state=0).fit(X[:150], y[:150])
    >>> other = y[150:].copy()
    >>> other[other == "fear"] = "contempt"
    >>> result = cross_dataset_evaluation({"hog": clf}, {"same": (X[150:], y[150:]), "other": (X[150:], other)})
    >>> cell = result["scores"]["hog"]["other"]
    >>> cell["excluded"] == {"contempt": int((other == "contempt").sum())}, cell["not_in_dataset"]
    (True, ['fear'])
    """
    if not models or not datasets:
        raise ValueError("cross_dataset_evaluation needs at least one model and one dataset")
    parts = {name: _images_and_labels(name, data) for name, data in datasets.items()}
    scores = {}
    for model_name, model in models.items():
        if not hasattr(model, "classes_"):
            raise ValueError(f"model {model_name!r} is not fitted: it has no classes_; fit it first")
        scores[model_name] = {
            data_name: _score_pair(model_name, model, data_name, X, y) for data_name, (X, y) in parts.items()
        }
    return {"models": list(models), "datasets": list(datasets), "scores": scores}


def _images_and_labels(name, data):
    if hasattr(data, "data") and hasattr(data, "target"):
        return data.data, np.asarray(data.target)
    try:
        X, y = data
    except (TypeError, ValueError):
        raise ValueError(f"dataset {name!r} must be (X, y) or a Bunch with data and target") from None
    if len(X) != len(y):
        raise ValueError(f"dataset {name!r} has {len(X)} images and {len(y)} labels")
    return X, np.asarray(y)


def _score_pair(model_name, model, data_name, X, y):
    classes = np.asarray(model.classes_)
    known = np.isin(y, classes)
    present = np.unique(y[known])
    if not len(present):
        raise ValueError(
            f"model {model_name!r} and dataset {data_name!r} share no class: the model knows "
            f"{classes.tolist()}, the dataset has {np.unique(y).tolist()}"
        )
    excluded_labels, counts = np.unique(y[~known], return_counts=True)
    shared = np.isin(classes, present)
    X_known = X[known] if hasattr(X, "shape") else [x for x, k in zip(X, known) if k]
    proba = np.asarray(model.predict_proba(X_known), dtype=np.float64)
    proba[:, ~shared] = 0
    total = proba.sum(axis=1, keepdims=True)
    proba = np.divide(proba, total, out=np.full_like(proba, 1 / shared.sum()) * shared, where=total > 0)
    y_pred = classes[proba.argmax(axis=1)]
    metrics = classification_metrics(y[known], y_pred, labels=classes[shared])
    metrics["ece"] = _reliability(y[known], proba, classes, N_BINS)["ece"]
    metrics["classes"] = classes[shared].tolist()
    metrics["excluded"] = {str(c): int(n) for c, n in zip(excluded_labels, counts)}
    metrics["not_in_dataset"] = classes[~shared].tolist()
    return metrics
