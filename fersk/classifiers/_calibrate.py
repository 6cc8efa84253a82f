"""Confidence you can believe: temperature scaling, split conformal prediction sets and abstention,
all fitted on validation images by :func:`calibrate` and stored in the model.

- **Temperature.** One number ``T`` fitted by log-loss on validation images, as scikit-learn's
  ``CalibratedClassifierCV(FrozenEstimator(model), method="temperature")`` fits it (its
  ``_TemperatureScaling``: the log of the probabilities as logits, the inverse temperature found by
  ``scipy.optimize.minimize_scalar`` on its logarithm within [-10, 10]). The calibrated probabilities
  are ``softmax(log(p) / T)`` of the model's own ``p`` (after its test-time views and prior shift), so
  each image keeps its most probable class: accuracy cannot change. It is fitted here rather than
  through scikit-learn's wrapper because the result must stay a fersk model (:func:`fersk.save`,
  ``image_shape_`` for :func:`fersk.analyze_faces`), and because the validation probabilities are
  computed once for the temperature and the conformal scores (the shipped model's ten views cost
  about 50 s per 3,589 faces); tests/classifiers/test_confidence.py holds it to scikit-learn's result.
- **Prediction sets.** Split conformal prediction with the LAC score ``1 - p(true class)`` of the
  calibrated probabilities (Sadinle et al. 2019; MAPIE's ``"lac"``): with ``n`` validation scores and
  ``k = ceil((n + 1) * coverage)``, a class is in an image's set when its probability is at least
  ``1 - (k-th smallest score)``. On images exchangeable with the validation images the set holds the
  true class with probability at least ``coverage``. The scores are stored, not the threshold, so any
  coverage can be asked at predict time.
- **Abstention.** The smallest threshold on the top probability at which the validation images
  answered are right at least ``precision`` of the time; below it, the answer is "unsure". This is
  measured on validation, not guaranteed: the benchmark reports what it gives on test images.
"""

import math

import numpy as np
import torch
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax, softmax

from ..backbones import GatedExperts

# the fitted attributes calibrate sets, which fit and partial_fit drop (a network trained further
# answers differently) and fersk.save stores where present
CALIBRATION_ATTRIBUTES = (
    "temperature_",
    "conformal_scores_",
    "expert_conformal_scores_",
    "confidence_right_",
    "confidence_wrong_",
)
# scores are stored rounded up to this many decimals: never below their value, so the sets stay as
# large or larger (coverage is kept), and the model file stays small
SCORE_DECIMALS = 5
_EPS = np.finfo(np.float64).eps


def calibrate(estimator, X_val, y_val, *, temperature=True, proba=None):
    """Fit a model's confidence on validation images: its temperature and the scores of its prediction sets.

    Sets, on the fersk neural classifier (or the last step of a Pipeline ending in one):

    - ``temperature_``: the temperature that minimises the log-loss on ``X_val``, so that its
      probabilities mean what they say (70% is right about 70% of the time); each image keeps
      its most probable class, so ``predict`` and accuracy do not change. A network of experts
      mixed by a gate (:class:`fersk.backbones.GatedExperts`, the default shipped model) without
      test-time views or prior shift gets one temperature per expert instead, in
      ``module_.temperatures``, fitted together by log-loss (:func:`fit_expert_temperatures`),
      and ``temperature_`` is 1: faces of different kinds want different temperatures (0.96 and
      0.74 for the shipped model's FER2013 faces and photos), which one number cannot give both.
      (The network applies them to each view before views are averaged and the prior shifted,
      which could change a label: with ``tta`` or a prior shift, one temperature is fitted.)
    - ``conformal_scores_``: the split conformal scores (one minus the calibrated probability
      of the true class) of the validation images, from which :meth:`predict_sets` gives, at any
      coverage asked, the set of classes that holds the true one that often; for gated experts
      also ``expert_conformal_scores_``, those of the faces each expert's gate chose, from which
      each face's set is drawn (Mondrian conformal prediction: each kind of face is covered
      as often as asked, not only all of them together);
    - ``confidence_right_`` and ``confidence_wrong_``: the top probability of the validation
      images answered right and wrong, from which :meth:`predict_unsure` chooses the threshold
      for a target precision.

    All are stored by :func:`fersk.save`. Use images the model was not trained on and did not
    choose its epochs on, like those it will see (FER2013 PublicTest for FER2013's faces); the
    coverage holds for images exchangeable with them. ``fit`` and ``partial_fit`` drop them:
    calibrate again after training further.

    Parameters
    ----------
    estimator : CNNClassifier, TransferClassifier or NeuralImageClassifier, or Pipeline ending in one
        Fitted. A Pipeline's probabilities are those of the whole pipeline; the values are set
        on its last step.
    X_val : array-like of shape (n_samples, n_pixels) or image-shaped
        Validation images, pixel values 0-255, as ``predict_proba`` takes them.
    y_val : array-like of shape (n_samples,)
        Their labels, from the model's ``classes_``.
    temperature : bool, default=True
        Fit the temperature (or the experts' temperatures); False keeps ``temperature_ = 1``
        (the probabilities as they are) and fits only the conformal scores and the abstention.
    proba : ndarray of shape (n_samples, n_classes), optional
        The model's uncalibrated ``predict_proba`` of ``X_val``, computed already (a model with
        ten test-time views takes about a minute per 3,589 faces on 2 cores); ``X_val`` may
        then be None, except for gated experts, whose temperatures need each image's gate.

    Returns
    -------
    estimator
        The same object, calibrated.

    Raises
    ------
    ValueError
        For a model that is not a fitted fersk neural classifier, fewer than 2 validation
        images, or labels the model does not know.

    Examples
    --------
    >>> from fersk import CNNClassifier, make_faces
    >>> from fersk.classifiers import calibrate
    >>> X, y = make_faces(300, image_size=24, random_state=0)
    >>> model = CNNClassifier(max_epochs=2, module__channels=(8, 16), random_state=0).fit(X[:200], y[:200])
    >>> model = calibrate(model, X[200:], y[200:])
    >>> bool(model.temperature_ > 0), model.conformal_scores_.shape
    (True, (100,))
    >>> sets = model.predict_sets(X[:3], coverage=0.9)  # one row per image, one column per class
    >>> sets.shape, bool(sets.any(axis=1).all())  # never empty
    ((3, 7), True)
    """
    final = _final_step(estimator)
    y_val = np.asarray(y_val)
    given = proba if X_val is None else X_val
    if given is None or len(given) != len(y_val):
        raise ValueError(
            f"X_val has {'no' if given is None else len(given)} images and y_val {len(y_val)} labels; give one "
            "label per image"
        )
    if len(y_val) < 2:
        raise ValueError(f"calibrate needs validation images, 2 or more (hundreds for useful sets); got {len(y_val)}")
    classes = np.asarray(final.classes_)
    unknown = sorted(set(y_val.tolist()) - set(classes.tolist()), key=str)
    if unknown:
        raise ValueError(
            f"y_val holds labels the model does not know: {unknown[:5]}; its classes are {classes.tolist()}"
        )
    uncalibrate(final)  # the model's own probabilities, not those of an earlier calibration
    experts = isinstance(final.module_, GatedExperts)
    experts_tempered = False
    if experts:
        if X_val is None:
            raise ValueError(
                "a network of gated experts is calibrated per expert, from each validation image's gate: give "
                "the images X_val, not only their probabilities"
            )
        log_mixed, gate = _mixture_and_gate(estimator, final, X_val)
        if temperature and final.tta is None and not final.prior_shift_:
            experts_tempered = True
            found = fit_expert_temperatures(log_mixed, gate, _class_index(classes, y_val))
            with torch.no_grad():
                final.module_.temperatures.copy_(torch.as_tensor(found))
            proba = None  # the probabilities at the fitted temperatures
    if proba is None:
        proba = estimator.predict_proba(X_val)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (len(y_val), len(classes)):
        raise ValueError(f"proba must have one row per image and one column per class; got shape {proba.shape}")
    y_index = _class_index(classes, y_val)
    final.temperature_ = fit_temperature(proba, y_index) if temperature and not experts_tempered else 1.0
    calibrated = temper(proba, final.temperature_)
    final.conformal_scores_ = conformal_scores(calibrated, y_index)
    if experts:  # Mondrian: each expert's faces (the expert their gate weighs most) scored apart
        chosen = gate.argmax(axis=1)
        final.expert_conformal_scores_ = [
            conformal_scores(calibrated[chosen == k], y_index[chosen == k]) for k in range(gate.shape[1])
        ]
    top = calibrated.max(axis=1)
    right = calibrated.argmax(axis=1) == y_index
    final.confidence_right_ = np.sort(_rounded(top[right], up=False))
    final.confidence_wrong_ = np.sort(_rounded(top[~right], up=False))
    return estimator


def uncalibrate(final):
    """Drop what :func:`calibrate` fitted: the attributes, and a gated network's temperatures (back to 1)."""
    for name in CALIBRATION_ATTRIBUTES:
        final.__dict__.pop(name, None)
    module = final.__dict__.get("module_")
    if isinstance(module, GatedExperts):
        with torch.no_grad():
            module.temperatures.fill_(1.0)


def fit_temperature(proba, y_index):
    """The temperature that minimises the log-loss of ``softmax(log(proba) / T)`` on labels ``y_index``.

    scikit-learn's ``_TemperatureScaling``: the inverse temperature ``beta = 1 / T`` searched on
    ``log(beta)`` in [-10, 10] by ``scipy.optimize.minimize_scalar`` (Brent's method, bounded).

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Probabilities; rows sum to 1.
    y_index : ndarray of shape (n_samples,)
        The column of each true class.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])  # right 3 of 4, overconfident
    >>> round(fit_temperature(proba, np.array([0, 1, 1, 0])), 2)
    3.16
    """
    logits = np.log(np.asarray(proba, dtype=np.float64) + _EPS)
    rows = np.arange(len(logits))

    def loss(log_beta):
        return -log_softmax(np.exp(log_beta) * logits, axis=1)[rows, y_index].mean()

    found = minimize_scalar(loss, bounds=(-10.0, 10.0), method="bounded", options={"xatol": 64 * _EPS})
    return float(1.0 / np.exp(found.x))


def fit_expert_temperatures(log_proba, gate, y_index):
    """One temperature per expert of a gated network, minimising the log-loss together.

    Each image's log-probabilities are divided by the gate-weighted mean of the experts'
    temperatures, as :class:`fersk.backbones.GatedExperts` does; the temperatures are searched
    on their logarithms in [-3, 3] (L-BFGS-B from 1): an expert the gate seldom chooses is barely
    constrained, and a temperature run to e^10 would flatten the faces it has a small share of.

    Parameters
    ----------
    log_proba : ndarray of shape (n_samples, n_classes)
        The network's log-probabilities at temperature 1.
    gate : ndarray of shape (n_samples, n_experts)
        Each image's gate weights; rows sum to 1.
    y_index : ndarray of shape (n_samples,)
        The column of each true class.

    Returns
    -------
    ndarray of shape (n_experts,)

    Examples
    --------
    >>> import numpy as np
    >>> log_proba = np.log([[0.9, 0.1]] * 4 + [[0.6, 0.4]] * 10)
    >>> gate = np.array([[1.0, 0.0]] * 4 + [[0.0, 1.0]] * 10)  # four images for one expert, ten for the other
    >>> y_index = np.array([0, 0, 0, 1] + [0] * 9 + [1])  # right 75% at 0.9, and 90% at 0.6
    >>> fit_expert_temperatures(log_proba, gate, y_index).round(2)  # the first too sure, the second too shy
    array([2.  , 0.18])
    """
    log_proba = np.asarray(log_proba, dtype=np.float64)
    gate = np.asarray(gate, dtype=np.float64)
    rows = np.arange(len(log_proba))

    def loss(log_temperatures):
        scale = gate @ np.exp(log_temperatures)
        return -log_softmax(log_proba / scale[:, None], axis=1)[rows, y_index].mean()

    found = minimize(loss, np.zeros(gate.shape[1]), method="L-BFGS-B", bounds=[(-3.0, 3.0)] * gate.shape[1])
    return np.exp(found.x)


def temper(proba, temperature):
    """``softmax(log(proba) / temperature)``: the probabilities at a temperature (1: as they are).

    Examples
    --------
    >>> temper(np.array([[0.8, 0.2]]), 2.0).round(3).tolist()  # cooler: closer to even
    [[0.667, 0.333]]
    """
    proba = np.asarray(proba, dtype=np.float64)
    if temperature == 1.0:
        return proba
    return softmax(np.log(proba + _EPS) / temperature, axis=1)


def conformal_scores(proba, y_index):
    """The split conformal (LAC) scores ``1 - proba[i, y_i]``, rounded up and sorted."""
    scores = 1.0 - np.asarray(proba, dtype=np.float64)[np.arange(len(y_index)), y_index]
    return np.sort(_rounded(np.clip(scores, 0.0, 1.0), up=True))


def conformal_threshold(scores, coverage):
    """The least probability a class needs to be in a prediction set of the given coverage.

    With ``n`` scores and ``k = ceil((n + 1) * coverage)``: ``1 - (k-th smallest score)``.

    Parameters
    ----------
    scores : ndarray of shape (n_samples,)
        Sorted conformal scores (``conformal_scores_``).
    coverage : float
        In (0, 1): how often the set must hold the true class.

    Returns
    -------
    float

    Examples
    --------
    >>> conformal_threshold(np.linspace(0.0, 0.9, 19), 0.9)  # k = ceil(20 * 0.9) = 18: the 18th score, 0.85
    0.15
    """
    _check_fraction(coverage, "coverage")
    n = len(scores)
    if not enough_scores(n, coverage):
        least = math.ceil(coverage / (1 - coverage))
        raise ValueError(
            f"coverage={coverage} needs {least} or more calibration images to promise it, and this model was "
            f"calibrated on {n}: ask a lower coverage, or calibrate on more validation images"
        )
    return round(1.0 - float(scores[_rank(n, coverage) - 1]), SCORE_DECIMALS)


def enough_scores(n, coverage):
    """Whether ``n`` conformal scores can promise ``coverage``: ``ceil((n + 1) * coverage) <= n``."""
    return _rank(n, coverage) <= n


def _rank(n, coverage):
    """``ceil((n + 1) * coverage)``: which of ``n`` sorted scores sets the threshold."""
    return math.ceil(round((n + 1) * coverage, 9))


def precision_threshold(right, wrong, precision):
    """The least top probability at which the validation images answered were right ``precision`` of the time.

    Parameters
    ----------
    right, wrong : ndarray
        Sorted top probabilities of the validation images answered right and wrong
        (``confidence_right_``, ``confidence_wrong_``).
    precision : float
        In (0, 1).

    Returns
    -------
    float
        Answers with a top probability at least this are kept; the others are "unsure".

    Examples
    --------
    >>> right, wrong = np.array([0.5, 0.7, 0.8, 0.9, 0.95]), np.array([0.4, 0.6, 0.75])
    >>> precision_threshold(right, wrong, 0.75), precision_threshold(right, wrong, 0.85)  # 4 of 5, 3 of 3
    (0.7, 0.8)
    """
    _check_fraction(precision, "precision")
    candidates = np.unique(np.concatenate([right, wrong]))
    kept_right = len(right) - np.searchsorted(right, candidates, side="left")
    kept_wrong = len(wrong) - np.searchsorted(wrong, candidates, side="left")
    reached = kept_right >= precision * (kept_right + kept_wrong) - 1e-12
    if not reached.any():
        best = float((kept_right / (kept_right + kept_wrong)).max()) if len(candidates) else 0.0
        raise ValueError(
            f"no threshold reaches precision={precision} on this model's validation images (at best {best:.3f}): "
            "ask a lower precision"
        )
    return float(candidates[np.argmax(reached)])


def _final_step(estimator):
    from ._neural import NeuralImageClassifier

    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if not isinstance(final, NeuralImageClassifier):
        raise ValueError(
            f"calibrate fits the confidence of fersk's neural classifiers (CNNClassifier, TransferClassifier, "
            f"or a Pipeline ending in one); got {type(final).__name__}. For other models, scikit-learn's "
            "CalibratedClassifierCV(FrozenEstimator(model), method='temperature') calibrates the probabilities"
        )
    if "fitted_classes_" not in final.__dict__:
        raise ValueError(f"this {type(final).__name__} is not fitted yet: fit it before calibrating it")
    return final


def _check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number between 0 and 1 (such as 0.9), got {value!r}")


def _rounded(values, up):
    scale = 10.0**SCORE_DECIMALS
    return (np.ceil(values * scale - 1e-9) if up else np.floor(values * scale + 1e-9)) / scale


def _mixture_and_gate(estimator, final, X):
    """A gated network's log-probabilities at temperature 1 and gate weights of images ``X``,
    averaged over the model's test-time views, after the steps before it in a Pipeline."""
    if hasattr(estimator, "steps"):
        X = estimator[:-1].transform(X)
    images = final._to_tensors(final._validate_predict(X))
    both = final._over_views(images, lambda net, v: torch.cat(net(v, with_gate=True)[1:], dim=1))
    n_classes = len(final.classes_)
    return both[:, :n_classes], both[:, n_classes:]


def _class_index(classes, labels):
    return np.searchsorted(classes, labels) if _is_sorted(classes) else _index(classes, labels)


def _is_sorted(classes):
    return len(classes) < 2 or bool(np.all(classes[:-1] < classes[1:]))


def _index(classes, labels):
    where = {c: i for i, c in enumerate(classes.tolist())}
    return np.array([where[label] for label in labels.tolist()])
